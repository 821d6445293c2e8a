"""4-D panoptic segmentation (panoptiq.lidar.Panoptic4DEval, LSTQ) against the exact reference:
the 9 values of ``getPQ4D``, twice, merging, and 4D-PLS's rules one by one on small sequences."""

from __future__ import annotations

import math
import pickle
import warnings
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from lidar_strategies import LidarCase, LidarConfig, Scan, lidar_sequences
from reference_lidar import Panoptic4DReference

from panoptiq.lidar import Panoptic4DEval

NAMES = ("LSTQ", "AQ_overall", "AQ", "AQ_p", "AQ_r", "iou", "iou_mean", "iou_p", "iou_r")


def close(a: Any, b: Any, rel: float = 1e-12) -> bool:
    a, b = float(a), float(b)
    if math.isnan(a) or math.isnan(b):
        return math.isnan(a) and math.isnan(b)
    return a == b or math.isclose(a, b, rel_tol=rel, abs_tol=0.0)


def assert_pq4d(got: tuple, want: tuple) -> None:
    assert len(got) == len(want) == 9
    for name, a, b in zip(NAMES, got, want, strict=True):
        a = np.atleast_1d(np.asarray(a, dtype=np.float64)).tolist()
        b = np.atleast_1d(np.asarray(b, dtype=np.float64)).tolist()
        assert len(a) == len(b), name
        assert all(close(x, y) for x, y in zip(a, b, strict=True)), (name, a, b)


def evaluator(config: LidarConfig) -> Panoptic4DEval:
    return Panoptic4DEval(*config.args(), min_points=config.min_points)


def fed(metric: Any, sequences: list[Any], scans: list[Scan]) -> Any:
    for seq, scan in zip(sequences, scans, strict=True):
        if isinstance(metric, Panoptic4DReference):
            metric.add(seq, *scan)
        else:
            metric.addBatch(seq, *scan)
    return metric


def reference(case: LidarCase) -> tuple:
    cfg = case.config
    return fed(Panoptic4DReference(cfg.n_classes, cfg.ignore, cfg.min_points), case.sequences, case.scans).pq4d()


# -- properties --------------------------------------------------------------------------------


@settings(max_examples=100, deadline=None)
@given(lidar_sequences())
def test_pq4d_equals_reference_and_is_the_same_when_asked_twice(case: LidarCase) -> None:
    metric = fed(evaluator(case.config), case.sequences, case.scans)
    want = reference(case)
    first = metric.getPQ4D()
    assert_pq4d(first, want)
    assert_pq4d(metric.getPQ4D(), first)


@settings(max_examples=50, deadline=None)
@given(lidar_sequences(wide=True))
def test_ids_the_originals_cannot_pair_equal_reference(case: LidarCase) -> None:
    assert_pq4d(fed(evaluator(case.config), case.sequences, case.scans).getPQ4D(), reference(case))


@settings(max_examples=60, deadline=None)
@given(lidar_sequences(max_sequences=4), st.data())
def test_merge_adds_the_counts_of_shared_and_disjoint_sequences(case: LidarCase, data: st.DataObject) -> None:
    # Scans go to three evaluators at random: a sequence may be split between them.
    owner = [data.draw(st.integers(0, 2)) for _ in case.scans]
    parts = []
    for k in range(3):
        mine = [i for i, o in enumerate(owner) if o == k]
        parts.append(fed(evaluator(case.config), [case.sequences[i] for i in mine], [case.scans[i] for i in mine]))
    parts[0].merge(parts[1])
    parts[0].merge(parts[2])
    assert_pq4d(parts[0].getPQ4D(), reference(case))
    assert [s for s in parts[0].sequences] == list(dict.fromkeys(s for k in range(3) for s in parts[k].sequences))


@settings(max_examples=30, deadline=None)
@given(lidar_sequences())
def test_reset_forgets(case: LidarCase) -> None:
    metric = fed(evaluator(case.config), case.sequences, case.scans)
    want = metric.getPQ4D()
    metric.reset()
    assert metric.sequences == []
    assert_pq4d(fed(metric, case.sequences, case.scans).getPQ4D(), want)


@settings(max_examples=20, deadline=None)
@given(lidar_sequences())
def test_pickled_evaluators_carry_on(case: LidarCase) -> None:
    half = len(case.scans) // 2
    metric = fed(evaluator(case.config), case.sequences[:half], case.scans[:half])
    metric = fed(pickle.loads(pickle.dumps(metric)), case.sequences[half:], case.scans[half:])
    assert_pq4d(metric.getPQ4D(), reference(case))


# -- the rules, by hand ------------------------------------------------------------------------


def _scan(x_sem, x_inst, y_sem, y_inst) -> Scan:
    return Scan(*(np.array(v, dtype=np.int64) for v in (x_sem, x_inst, y_sem, y_inst)))


def both(config: LidarConfig, sequences: list[Any], scans: list[Scan]) -> list[tuple]:
    """getPQ4D of panoptiq and of the reference, checked equal; returns both."""
    got = fed(evaluator(config), sequences, scans).getPQ4D()
    want = fed(Panoptic4DReference(config.n_classes, config.ignore, config.min_points), sequences, scans).pq4d()
    assert_pq4d(got, want)
    return [got, want]


THREE = LidarConfig(3, [0], 0)  # 0 ignored, 1 car, 2 road; min_points 0: a tube needs 1 point


def test_one_table_of_predicted_sizes_for_all_classes() -> None:
    # Prediction 5 covers the car (4 points, as car) and the road (4 points, as road): its size
    # is 8 for the car's tube too. AQ = 4 * 4 / (4 + 8 - 4) / 4 = 1/2; precision 4/8.
    scan = _scan([1] * 4 + [2] * 4, [5] * 8, [1] * 4 + [2] * 4, [1] * 4 + [0] * 4)
    for result in both(THREE, ["s"], [scan]):
        assert result[1] == 0.5
        assert result[3] == 0.5
        assert result[4] == 1.0


def test_intersections_ignore_the_predicted_class() -> None:
    # The car predicted as road with one id: association 1, semantics 0.
    scan = _scan([2] * 4, [5] * 4, [1] * 4, [1] * 4)
    for result in both(THREE, ["s"], [scan]):
        assert result[1] == 1.0
        assert result[6] == 0.0
        assert result[0] == 0.0


def test_a_prediction_mostly_of_the_ignored_class() -> None:
    # Prediction 5: 1 point as car, 3 as the ignored class, all on the car's 4 points. Its size
    # counts included classes only (1), its intersection every point (4): precision 4, AQ
    # 16 / (4 + 1 - 4) / 4 = 4. Semantics: car IoU 1/4; class 0, predicted on valid ground
    # truth, has a union and enters the LSQ: (1/4 + 0) / 2.
    scan = _scan([1, 0, 0, 0], [5] * 4, [1] * 4, [1] * 4)
    for result in both(THREE, ["s"], [scan]):
        assert result[1] == 4.0
        assert result[3] == 4.0
        assert result[6] == 1 / 8
        assert result[7] == 1 / 2  # precision: car 1, class 0 0
        assert result[8] == 1 / 8  # recall: car 1/4, class 0 0
        assert close(result[0], math.sqrt(4 / 8))


def test_a_tube_counts_in_a_scan_only_with_more_than_min_points() -> None:
    # min_points 3: 3 points in the first scan (dropped), 4 in the second. The prediction has all
    # 7. AQ = 4 * 4 / (4 + 7 - 4) / 4 = 4/7.
    config = LidarConfig(3, [0], 3)
    first = _scan([1] * 3, [5] * 3, [1] * 3, [1] * 3)
    second = _scan([1] * 4, [5] * 4, [1] * 4, [1] * 4)
    for result in both(config, ["s", "s"], [first, second]):
        assert close(result[1], 4 / 7)
        assert close(result[3], 4 / 7)
    # Alone, the first scan has no tube at all: 0 / 0.
    for result in both(config, ["s"], [first]):
        assert math.isnan(result[1])
        assert math.isnan(result[3])


def test_instance_zero_is_neither_a_tube_nor_a_prediction() -> None:
    car = _scan([1] * 4 + [1] * 4, [0] * 4 + [5] * 4, [1] * 4 + [1] * 4, [0] * 4 + [2] * 4)
    for result in both(THREE, ["s"], [car]):
        # One tube (instance 2) of 4 points, one prediction (5) of 4: AQ 1.
        assert result[1] == 1.0
        assert result[2].tolist() == [0.0, 1.0, 0.0]


def test_the_overall_association_divides_by_the_tubes_of_classes_1_to_8() -> None:
    ten = LidarConfig(10, [0], 0)
    pole = _scan([9] * 4, [3] * 4, [9] * 4, [3] * 4)  # a stuff class with an instance id: a tube
    car = _scan([1] * 4, [4] * 4, [1] * 4, [4] * 4)
    for result in both(ten, ["s"], [pole]):
        assert math.isinf(result[1])
        assert math.isinf(result[0])
        assert result[2].tolist() == [0.0] * 9 + [1.0]
    for result in both(ten, ["s", "s"], [pole, car]):
        assert result[1] == 2.0  # (1 + 1) / 1 tube of 1..8


def test_no_tube_and_no_class_is_nan_without_a_warning() -> None:
    config = LidarConfig(3, [0], 0)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        got = evaluator(config).getPQ4D()
        ignored = fed(evaluator(config), ["s"], [_scan([1, 1], [1, 1], [0, 0], [1, 1])]).getPQ4D()
    for result in (got, ignored):
        assert math.isnan(result[0])
        assert math.isnan(result[1])
        assert math.isnan(result[6])


@pytest.mark.parametrize(
    ("names", "want"),
    [
        (["08", 8], 1.0),  # two sequences: two tubes of AQ 1
        ([8, 8], 0.5),  # one: a tube of 8 points split between two predictions
        ([8, 8.0], 0.5),  # sequences are told apart by ==
        ([8, np.int64(8)], 0.5),
    ],
)
def test_sequences_are_keys(names: list[Any], want: float) -> None:
    one = _scan([1] * 4, [5] * 4, [1] * 4, [1] * 4)
    two = _scan([1] * 4, [6] * 4, [1] * 4, [1] * 4)
    for result in both(THREE, names, [one, two]):
        assert result[1] == want


# -- bad input ---------------------------------------------------------------------------------


def test_a_bad_scan_is_refused_and_changes_nothing() -> None:
    metric = fed(evaluator(THREE), ["s"], [_scan([1] * 4, [5] * 4, [1] * 4, [1] * 4)])
    before = metric.getPQ4D()
    with pytest.raises(ValueError, match="class"):
        metric.addBatch("s", *_scan([7] * 4, [5] * 4, [1] * 4, [1] * 4))
    with pytest.raises(ValueError, match="class"):
        metric.addBatch("new", *_scan([1] * 4, [5] * 4, [-1] * 4, [1] * 4))
    with pytest.raises(ValueError):  # noqa: PT011 -- the message is the core's
        metric.addBatch("s", np.ones(4, np.int64), np.ones(3, np.int64), np.ones(4, np.int64), np.ones(4, np.int64))
    with pytest.raises(TypeError):
        metric.addBatch(["unhashable"], *_scan([1] * 4, [5] * 4, [1] * 4, [1] * 4))
    assert metric.sequences == ["s"]
    assert_pq4d(metric.getPQ4D(), before)


def test_merge_refuses_other_arguments() -> None:
    with pytest.raises(ValueError, match="different arguments"):
        evaluator(THREE).merge(evaluator(LidarConfig(3, [0], 5)))
    with pytest.raises(TypeError):
        evaluator(THREE).merge(Panoptic4DReference(3, [0], 0))  # type: ignore[arg-type]
