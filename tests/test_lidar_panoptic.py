"""LiDAR panoptic segmentation (panoptiq.lidar.PanopticEval) against the exact reference: the
counts, the scores, merging, and the rules one by one on scans worked out by hand."""

from __future__ import annotations

import math
import pickle
import random
import warnings
from fractions import Fraction
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from lidar_strategies import LidarCase, LidarConfig, Scan, half_iou_scans, lidar_cases
from reference_lidar import PanopticReference

from panoptiq.lidar import PanopticEval


def close(a: Any, b: Any, rel: float = 1e-12) -> bool:
    a, b = float(a), float(b)
    if math.isnan(a) or math.isnan(b):
        return math.isnan(a) and math.isnan(b)
    return a == b or math.isclose(a, b, rel_tol=rel, abs_tol=0.0)


def all_close(got: Any, want: Any) -> bool:
    got = np.atleast_1d(np.asarray(got, dtype=np.float64)).tolist()
    want = np.atleast_1d(np.asarray(want, dtype=np.float64)).tolist()
    return len(got) == len(want) and all(close(a, b) for a, b in zip(got, want, strict=True))


def evaluator(config: LidarConfig) -> PanopticEval:
    return PanopticEval(*config.args(), min_points=config.min_points)


def fed(metric: Any, scans: list[Scan]) -> Any:
    for scan in scans:
        if isinstance(metric, PanopticReference):
            metric.add(*scan)
        else:
            metric.addBatch(*scan)
    return metric


def reference(config: LidarConfig, scans: list[Scan]) -> PanopticReference:
    return fed(PanopticReference(config.n_classes, config.ignore, config.min_points), scans)


def results(metric: PanopticEval) -> tuple:
    """Everything an evaluator answers, NaN-safe for exact comparison (mean of no class)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        pq = metric.getPQ()
        iou = metric.getSemIoU()
        acc = metric.getSemAcc()
    return (*pq, *iou, acc, *metric.getSemIoUStats())


def assert_identical(a: tuple, b: tuple) -> None:
    assert len(a) == len(b)
    for x, y in zip(a, b, strict=True):
        np.testing.assert_array_equal(np.asarray(x), np.asarray(y))


def assert_equals_reference(got: PanopticEval, want: PanopticReference) -> None:
    assert got.pan_tp.tolist() == want.tp
    assert got.pan_fp.tolist() == want.fp
    assert got.pan_fn.tolist() == want.fn
    assert all_close(got.pan_iou, [float(v) for v in want.iou_sum])
    assert got.px_iou_conf_matrix.tolist() == want.confusion.matrix().tolist()
    for name, a, b in zip(("PQ", "SQ", "RQ", "pq", "sq", "rq"), got.getPQ(), want.pq(), strict=True):
        assert all_close(a, b), (name, a, b)
    iou_mean, iou = got.getSemIoU()
    assert all_close(iou_mean, want.sem_iou()[0])
    assert all_close(iou, want.sem_iou()[1])
    assert all_close(got.getSemAcc(), want.sem_acc())
    tp, fp, fn = want.sem_iou_stats()
    assert [np.asarray(v).tolist() for v in got.getSemIoUStats()] == [list(map(float, v)) for v in (tp, fp, fn)]


def _include_nonempty(case: LidarCase) -> bool:
    return bool(case.config.include)


# -- properties --------------------------------------------------------------------------------


@settings(max_examples=100, deadline=None)
@given(lidar_cases().filter(_include_nonempty))
def test_panoptic_eval_equals_reference(case: LidarCase) -> None:
    assert_equals_reference(fed(evaluator(case.config), case.scans), reference(case.config, case.scans))


@settings(max_examples=50, deadline=None)
@given(lidar_cases(wide=True).filter(_include_nonempty))
def test_ids_the_originals_cannot_pair_equal_reference(case: LidarCase) -> None:
    # Ground-truth ids of 2**31 and more overflow semantic-kitti-api's int64 key, predicted ids of
    # 2**32 and more alias another pair: panoptiq pairs them as the reference does, by both ids.
    assert_equals_reference(fed(evaluator(case.config), case.scans), reference(case.config, case.scans))


@settings(max_examples=40, deadline=None)
@given(half_iou_scans())
def test_iou_of_exactly_one_half_is_not_a_match(drawn: tuple[LidarConfig, Scan, int]) -> None:
    config, scan, tp = drawn
    got = fed(evaluator(config), [scan])
    assert got.pan_tp[1] == tp
    assert_equals_reference(got, reference(config, [scan]))


@settings(max_examples=50, deadline=None)
@given(lidar_cases(max_scans=6).filter(_include_nonempty), st.data())
def test_merge_equals_one_evaluator(case: LidarCase, data: st.DataObject) -> None:
    owner = [data.draw(st.integers(0, 2)) for _ in case.scans]
    parts = [
        fed(evaluator(case.config), [s for s, o in zip(case.scans, owner, strict=True) if o == k]) for k in range(3)
    ]
    parts[0].merge(parts[1])
    parts[0].merge(parts[2])
    # IoU sums are exact: merged, the evaluator answers exactly what one evaluator answers.
    assert_identical(results(parts[0]), results(fed(evaluator(case.config), case.scans)))
    assert_equals_reference(parts[0], reference(case.config, case.scans))


@settings(max_examples=30, deadline=None)
@given(lidar_cases(max_scans=5).filter(_include_nonempty), st.randoms(use_true_random=False))
def test_scan_order_does_not_matter(case: LidarCase, rnd: random.Random) -> None:
    shuffled = list(case.scans)
    rnd.shuffle(shuffled)
    assert_identical(results(fed(evaluator(case.config), shuffled)), results(fed(evaluator(case.config), case.scans)))


@settings(max_examples=30, deadline=None)
@given(lidar_cases().filter(_include_nonempty))
def test_reset_forgets_and_answers_are_repeatable(case: LidarCase) -> None:
    metric = fed(evaluator(case.config), case.scans)
    first = results(metric)
    assert_identical(results(metric), first)  # reading changes nothing
    metric.reset()
    assert_identical(results(metric), results(evaluator(case.config)))
    assert_identical(results(fed(metric, case.scans)), first)


@settings(max_examples=30, deadline=None)
@given(lidar_cases(max_scans=3).filter(_include_nonempty))
def test_a_batch_of_rows_is_one_scan(case: LidarCase) -> None:
    # The reference takes [N, P] batches and matches all their points at once, as one scan.
    scans = [s for s in case.scans if s.x_sem.size % 2 == 0]
    rows = [Scan(*(a.reshape(2, -1) for a in s)) for s in scans]
    assert_identical(results(fed(evaluator(case.config), rows)), results(fed(evaluator(case.config), scans)))


@settings(max_examples=20, deadline=None)
@given(lidar_cases(max_scans=4).filter(_include_nonempty))
def test_pickled_evaluators_carry_on(case: LidarCase) -> None:
    half = len(case.scans) // 2
    metric = pickle.loads(pickle.dumps(fed(evaluator(case.config), case.scans[:half])))
    assert_identical(results(fed(metric, case.scans[half:])), results(fed(evaluator(case.config), case.scans)))


# -- the rules, by hand ------------------------------------------------------------------------


def _scan(x_sem, x_inst, y_sem, y_inst, dtype: Any = np.int64) -> Scan:
    return Scan(*(np.array(v, dtype=dtype) for v in (x_sem, x_inst, y_sem, y_inst)))


def _worked_scan() -> Scan:
    """Classes: 0 ignored, 1 car, 2 road, 3 pole; min_points 2.

    Car A (instance 1, 6 points): 5 predicted car 7, 1 road. Car B (instance 2, 3 points): 1
    predicted car 8, 2 pole. Road (10 points): 9 road, 1 car 7. Unlabelled (2 points): car 9.
    """
    y_sem = [1] * 6 + [1] * 3 + [2] * 10 + [0] * 2
    y_inst = [1] * 6 + [2] * 3 + [0] * 10 + [0] * 2
    x_sem = [1] * 5 + [2] + [1] + [3] * 2 + [2] * 9 + [1] + [1] * 2
    x_inst = [7] * 5 + [0] + [8] + [0] * 2 + [0] * 9 + [7] + [9] * 2
    return _scan(x_sem, x_inst, y_sem, y_inst)


def test_worked_scan() -> None:
    config = LidarConfig(4, [0], 2)
    # Car: A-7 IoU 5 / (6 + 6 - 5) = 5/7 (7 has A's 5 points and the road's 1; its points on the
    # unlabelled ground truth are dropped); B unmatched, 3 points: FN; 8 unmatched, 1 point: no FP.
    # Road: one segment per side, 9 / (10 + 10 - 9). Pole: 2 points, no ground truth: FP.
    want_pq = [Fraction(0), Fraction(5, 7) * Fraction(2, 3), Fraction(9, 11), Fraction(0)]
    # Semantic: car 6 / (6 + 1 + 3), road 9 / 11, pole 0 / 2; accuracy 15 / 19.
    want_iou = [Fraction(0), Fraction(6, 10), Fraction(9, 11), Fraction(0)]
    for metric in (evaluator(config), PanopticReference(4, [0], 2)):
        fed(metric, [_worked_scan()])
        if isinstance(metric, PanopticReference):
            pq, sq, rq, pq_all, sq_all, rq_all = metric.pq()
            iou_mean, iou = metric.sem_iou()
            acc = metric.sem_acc()
            counts = (metric.tp, metric.fp, metric.fn)
        else:
            pq, sq, rq, pq_all, sq_all, rq_all = metric.getPQ()
            iou_mean, iou = metric.getSemIoU()
            acc = metric.getSemAcc()
            counts = (metric.pan_tp.tolist(), metric.pan_fp.tolist(), metric.pan_fn.tolist())
        assert counts == ([0, 1, 1, 0], [0, 0, 0, 1], [0, 1, 0, 0])
        assert all_close(pq_all, [float(v) for v in want_pq])
        assert all_close(sq_all, [0, 5 / 7, 9 / 11, 0])
        assert all_close(rq_all, [0, 2 / 3, 1, 0])
        assert close(pq, float(sum(want_pq) / 3))
        assert close(sq, (5 / 7 + 9 / 11) / 3)
        assert close(rq, (2 / 3 + 1) / 3)
        assert all_close(iou, [float(v) for v in want_iou])
        assert close(iou_mean, float(sum(want_iou) / 3))
        assert close(acc, 15 / 19)


@pytest.mark.parametrize(
    ("dtype", "want"),
    [
        # uint32: 2**32 - 1 + 1 wraps to 0, no instance: the ground truth has no segment and the
        # prediction's 5 points are a FP.
        (np.uint32, ([0, 0], [0, 1], [0, 0])),
        # int64: the same id is an ordinary segment, matched.
        (np.int64, ([0, 1], [0, 0], [0, 0])),
    ],
)
def test_largest_id_of_the_type_wraps_to_no_instance(dtype: Any, want: tuple) -> None:
    scan = Scan(
        np.ones(5, dtype=np.int64),
        np.full(5, 3, dtype=dtype),
        np.ones(5, dtype=np.int64),
        np.full(5, 2**32 - 1, dtype=dtype),
    )
    config = LidarConfig(2, [0], 1)
    got = fed(evaluator(config), [scan])
    assert (got.pan_tp.tolist(), got.pan_fp.tolist(), got.pan_fn.tolist()) == want
    ours = reference(config, [scan])
    assert (ours.tp, ours.fp, ours.fn) == want


@pytest.mark.parametrize("dtype", [np.uint16, np.int16, np.uint8, np.int8, np.int32, np.uint64])
def test_largest_id_of_small_types_wraps_too(dtype: Any) -> None:
    top = np.iinfo(dtype).max
    # Ground truth: 4 points at the top id (no instance or negative: no segment), 4 at id 3.
    # Prediction: one id on all 8 points; IoU with id 3 is 4/8, no match: FN and FP.
    scan = Scan(
        np.ones(8, dtype=np.int64),
        np.full(8, 1, dtype=dtype),
        np.ones(8, dtype=np.int64),
        np.array([top] * 4 + [3] * 4, dtype=dtype),
    )
    got = fed(evaluator(LidarConfig(2, [0], 1)), [scan])
    assert (got.pan_tp.tolist(), got.pan_fp.tolist(), got.pan_fn.tolist()) == ([0, 0], [0, 1], [0, 1])
    assert_equals_reference(got, reference(LidarConfig(2, [0], 1), [scan]))


def test_16_bit_instance_ids() -> None:
    # SemanticKITTI instances are 16-bit: 65535 is an id like any other in uint32 or int64.
    y_inst = np.array([65535] * 4 + [65534] * 4, dtype=np.uint32)
    scan = Scan(np.ones(8, np.int64), y_inst.copy(), np.ones(8, np.int64), y_inst)
    got = fed(evaluator(LidarConfig(2, [0], 1)), [scan])
    assert got.pan_tp.tolist() == [0, 2]
    as_uint16 = Scan(scan.x_sem, scan.x_inst.astype(np.uint16), scan.y_sem, scan.y_inst.astype(np.uint16))
    # In uint16, 65535 + 1 is 0: only the 65534 segments remain.
    got = fed(evaluator(LidarConfig(2, [0], 1)), [as_uint16])
    assert (got.pan_tp.tolist(), got.pan_fp.tolist(), got.pan_fn.tolist()) == ([0, 1], [0, 0], [0, 0])


@pytest.mark.parametrize(
    ("gt_points", "want_fn"),
    [(29, 0), (30, 1), (31, 1)],
)
def test_min_points_applies_to_unmatched_segments_only(gt_points: int, want_fn: int) -> None:
    # A matched segment of 2 points counts (TP), whatever min_points; an unmatched one counts
    # from min_points (30) on, on both sides.
    y_sem = [1] * 2 + [1] * gt_points
    y_inst = [1] * 2 + [2] * gt_points
    x_sem = [1] * 2 + [2] * gt_points
    x_inst = [5] * 2 + [6] * gt_points
    scan = _scan(x_sem, x_inst, y_sem, y_inst)
    config = LidarConfig(3, [0], 30)
    got = fed(evaluator(config), [scan])
    assert got.pan_tp.tolist() == [0, 1, 0]
    assert got.pan_fn.tolist() == [0, want_fn, 0]
    assert got.pan_fp.tolist() == [0, 0, want_fn]  # the class-2 prediction of the same size
    assert_equals_reference(got, reference(config, [scan]))


def test_ignored_ground_truth_and_ignored_predictions() -> None:
    # Ground truth: 4 points of class 1, 3 ignored. Prediction: class 1 on 2 of the valid points,
    # the ignored class on the other 2, class 1 on the 3 ignored points.
    scan = _scan([1, 1, 0, 0, 1, 1, 1], [4] * 7, [1, 1, 1, 1, 0, 0, 0], [2] * 7)
    config = LidarConfig(2, [0], 1)
    got = fed(evaluator(config), [scan])
    # Panoptic: the ignored ground truth is dropped on both sides: prediction 4 has 2 points,
    # IoU 2/4 is no match.
    assert (got.pan_tp.tolist(), got.pan_fp.tolist(), got.pan_fn.tolist()) == ([0, 0], [0, 1], [0, 1])
    # Semantic: class 1 tp 2, fn 2 (predicted as 0), the ignored column zeroed: IoU 1/2; class 0
    # has fp 2 and IoU 0 but stays out of the mean; accuracy 2 / 2 (class 0 predictions left out).
    tp, fp, fn = got.getSemIoUStats()
    assert (tp.tolist(), fp.tolist(), fn.tolist()) == ([0, 2], [2, 0], [0, 2])
    assert got.getSemIoU()[0] == 0.5
    assert got.getSemAcc() == 1.0
    assert_equals_reference(got, reference(config, [scan]))


def test_an_all_ignored_scan_adds_only_to_the_ignored_columns() -> None:
    config = LidarConfig(3, [0], 1)
    metric = fed(evaluator(config), [_scan([1, 2, 2], [1, 1, 1], [0, 0, 0], [5, 5, 5])])
    assert metric.px_iou_conf_matrix[:, 0].tolist() == [0, 1, 2]
    assert_identical(results(metric)[:6], results(evaluator(config))[:6])
    assert [v.tolist() for v in metric.getSemIoUStats()] == [[0, 0, 0]] * 3


def test_classes_never_seen_count_as_zero_in_the_means() -> None:
    # Ten classes, one of them seen and perfect: PQ and mIoU are 1/9.
    scan = _scan([4] * 5, [0] * 5, [4] * 5, [0] * 5)
    metric = fed(evaluator(LidarConfig(10, [0], 1)), [scan])
    assert close(metric.getPQ()[0], 1 / 9)
    assert close(metric.getSemIoU()[0], 1 / 9)


def test_empty_scans() -> None:
    empty = _scan([], [], [], [])
    config = LidarConfig(3, [0], 1)
    assert_identical(results(fed(evaluator(config), [empty, empty])), results(evaluator(config)))


def test_stuff_is_one_segment_per_class_and_scan() -> None:
    # Instance 0 (shifted: 1) is a segment: a road predicted in two halves of another id is no
    # match, and two scans of road are two segments.
    road = _scan([2] * 4, [0, 0, 1, 1], [2] * 4, [0] * 4)
    got = fed(evaluator(LidarConfig(3, [0], 1)), [road, road])
    assert (got.pan_tp.tolist(), got.pan_fp.tolist(), got.pan_fn.tolist()) == ([0, 0, 0], [0, 0, 4], [0, 0, 2])


# -- bad input ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "scan",
    [
        _scan([3], [0], [1], [0]),  # predicted class past n_classes (the reference: IndexError)
        _scan([1], [0], [3], [0]),
        _scan([-1], [0], [1], [0]),  # negative (the reference wraps it to class n_classes - 1)
    ],
)
def test_classes_outside_the_matrix_are_refused_and_leave_the_evaluator_as_it_was(scan: Scan) -> None:
    config = LidarConfig(3, [0], 1)
    metric = fed(evaluator(config), [_scan([1, 2], [0, 0], [1, 2], [0, 0])])
    before = results(metric)
    with pytest.raises(ValueError, match="class"):
        metric.addBatch(*scan)
    assert_identical(results(metric), before)


def test_arrays_of_different_lengths_are_refused() -> None:
    metric = evaluator(LidarConfig(3, [0], 1))
    with pytest.raises(ValueError):  # noqa: PT011 -- the message is the core's
        metric.addBatch(np.ones(3, np.int64), np.ones(3, np.int64), np.ones(2, np.int64), np.ones(3, np.int64))
    with pytest.raises(ValueError):  # noqa: PT011
        metric.addBatch(np.ones(3, np.int64), np.ones(2, np.int64), np.ones(3, np.int64), np.ones(3, np.int64))
    assert_identical(results(metric), results(evaluator(LidarConfig(3, [0], 1))))


def test_float_arrays_are_refused() -> None:
    metric = evaluator(LidarConfig(3, [0], 1))
    with pytest.raises(TypeError, match="integers"):
        metric.addBatch(np.ones(3), np.ones(3, np.int64), np.ones(3, np.int64), np.ones(3, np.int64))


def test_only_the_cpu() -> None:
    with pytest.raises(ValueError, match="device"):
        PanopticEval(3, "cuda", [0])


def test_merge_refuses_other_arguments_and_other_types() -> None:
    metric = evaluator(LidarConfig(3, [0], 1))
    with pytest.raises(ValueError, match="different arguments"):
        metric.merge(evaluator(LidarConfig(3, [0], 2)))
    with pytest.raises(TypeError):
        metric.merge(PanopticReference(3, [0], 1))  # type: ignore[arg-type]
