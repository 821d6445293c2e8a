"""Segmentation and Tracking Quality (panoptiq.video.STQuality) against the exact reference."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from reference_video import STQReference
from video_strategies import STQCase, STQConfig, STQFrame, stq_cases, stq_configs

from panoptiq.video import STQuality

KEYS = {"STQ", "AQ", "IoU", "STQ_per_seq", "AQ_per_seq", "IoU_per_seq", "ID_per_seq", "Length_per_seq"}
PER_SEQ = ("STQ_per_seq", "AQ_per_seq", "IoU_per_seq")


def fed(metric: Any, frames: list[STQFrame]) -> Any:
    for f in frames:
        metric.update_state(f.y_true, f.y_pred, sequence_id=f.sequence_id, weights=f.weights)
    return metric


def close(a: float, b: float, rel: float = 1e-12) -> bool:
    a, b = float(a), float(b)
    return (math.isnan(a) and math.isnan(b)) or math.isclose(a, b, rel_tol=rel, abs_tol=0.0)


def assert_stq(got: dict, want: dict, rel: float = 1e-12) -> None:
    assert set(got) == KEYS
    for key in ("STQ", "AQ", "IoU"):
        assert close(got[key], want[key], rel), (key, got[key], want[key])
    assert list(got["ID_per_seq"]) == want["ID_per_seq"]
    assert [int(n) for n in got["Length_per_seq"]] == want["Length_per_seq"]
    for key in PER_SEQ:
        values = np.asarray(got[key], dtype=np.float64).tolist()
        assert len(values) == len(want[key]), key
        for a, b in zip(values, want[key], strict=True):
            assert close(a, b, rel), (key, values, want[key])


def reference(config: STQConfig, frames: list[STQFrame]) -> dict:
    return fed(STQReference(*config.args()), frames).result()


# -- properties --------------------------------------------------------------------------------


@settings(max_examples=150, deadline=None)
@given(stq_cases())
def test_stq_equals_reference(case: STQCase) -> None:
    assert_stq(fed(STQuality(*case.config.args()), case.frames).result(), reference(case.config, case.frames))


@pytest.mark.parametrize("ignore", ["below", "at", "above"])
@settings(max_examples=40, deadline=None)
@given(data=st.data())
def test_stq_equals_reference_for_each_ignore_label_position(ignore: str, data: st.DataObject) -> None:
    case = data.draw(stq_cases(config=data.draw(stq_configs(ignore=ignore))))
    assert_stq(fed(STQuality(*case.config.args()), case.frames).result(), reference(case.config, case.frames))


@settings(max_examples=40, deadline=None)
@given(stq_cases(weighted=True))
def test_weighted_stq_equals_reference(case: STQCase) -> None:
    assert_stq(fed(STQuality(*case.config.args()), case.frames).result(), reference(case.config, case.frames))


@settings(max_examples=60, deadline=None)
@given(stq_cases(max_sequences=4), st.data())
def test_merge_state_of_disjoint_sequences(case: STQCase, data: st.DataObject) -> None:
    ids = list(dict.fromkeys(f.sequence_id for f in case.frames))
    owner = {s: data.draw(st.integers(0, 2)) for s in ids}
    groups = [[f for f in case.frames if owner[f.sequence_id] == k] for k in range(3)]
    metrics = [fed(STQuality(*case.config.args()), g) for g in groups]
    metrics[0].merge_state(metrics[1:])
    # deeplab2 appends the merged sequences after the metric's own, in the order given.
    assert_stq(metrics[0].result(), reference(case.config, [f for g in groups for f in g]))


@settings(max_examples=60, deadline=None)
@given(stq_cases(), st.data())
def test_merge_adds_sequences_split_across_metrics(case: STQCase, data: st.DataObject) -> None:
    cut = data.draw(st.integers(0, len(case.frames)))
    first = fed(STQuality(*case.config.args()), case.frames[:cut])
    second = fed(STQuality(*case.config.args()), case.frames[cut:])
    first.merge(second)
    assert_stq(first.result(), reference(case.config, case.frames))


@settings(max_examples=30, deadline=None)
@given(stq_cases(config=STQConfig(4, [1, 2], 255, 8, 4 << 8)), stq_cases(config=STQConfig(4, [1, 2], 255, 8, 4 << 8)))
def test_reset_states_forgets_everything(before: STQCase, after: STQCase) -> None:
    m = fed(STQuality(*before.config.args()), before.frames)
    m.reset_states()
    assert_stq(fed(m, after.frames).result(), reference(after.config, after.frames))


def test_merge_state_refuses_duplicate_sequences() -> None:
    frame = np.array([[1 << 8 | 1, 0]], dtype=np.int32)
    a, b = STQuality(3, [1], 255, 8, 3 << 8), STQuality(3, [1], 255, 8, 3 << 8)
    a.update_state(frame, frame, sequence_id="dup")
    b.update_state(frame, frame, sequence_id="dup")
    with pytest.raises(ValueError, match="duplicate"):
        a.merge_state([b])


def test_default_sequence_is_zero() -> None:
    frame = np.array([[1 << 8 | 1, 0]], dtype=np.int32)
    m = STQuality(3, [1], 255, 8, 3 << 8)
    m.update_state(frame, frame)
    m.update_state(frame, frame)
    result = m.result()
    assert list(result["ID_per_seq"]) == [0]
    assert [int(n) for n in result["Length_per_seq"]] == [2]
    assert close(result["STQ"], 1.0)


# -- hand-computed -----------------------------------------------------------------------------


def labels(shift: int, semantic: list[int], instance: list[int]) -> np.ndarray:
    return np.array([[(s << shift) + i for s, i in zip(semantic, instance, strict=True)]], dtype=np.int64)


def test_ignore_label_above_num_classes_crowd_and_predictions_on_ignored_pixels() -> None:
    # Classes 0 (stuff), 1 and 2 (things); ignore 255 is counted as class 3.
    y_true = labels(8, [0, 0, 1, 255, 2], [0, 0, 1, 0, 0])  # last pixel: crowd of class 2
    y_pred = labels(8, [0, 255, 1, 1, 2], [0, 0, 5, 5, 3])
    # IoU: class 0 1/2, class 1 1 (the prediction on the ignored pixel is dropped with its row),
    # class 2 1, class 3 (ignore) 0 from the pixel predicted as ignored: mean 2.5 / 4.
    # AQ: tube (1, 1) meets (1, 5), which also covers the ignored pixel: 1 * 1/2 over 1 pixel;
    # the crowd pixel is out on both sides.
    want = {"STQ": math.sqrt(0.5 * 0.625), "AQ": 0.5, "IoU": 0.625}
    for cls in (STQReference, STQuality):
        m = cls(3, [1, 2], 255, 8, 3 << 8)
        m.update_state(y_true, y_pred, sequence_id="s")
        result = m.result()
        for key, value in want.items():
            assert close(result[key], value), (cls, key)
        assert close(np.asarray(result["IoU_per_seq"])[0], 0.625)
        assert list(result["ID_per_seq"]) == ["s"]


def test_ignore_label_below_num_classes_enters_the_mean_through_its_column() -> None:
    # Classes 0 (ignore), 1 (stuff), 2 (thing).
    y_true = labels(4, [0, 1, 1, 2], [0, 0, 0, 1])
    y_pred = labels(4, [1, 1, 0, 2], [0, 0, 0, 4])
    # Row 0 dropped; class 0 union 1 (predicted on class 1), IoU 0; class 1 1/2; class 2 1.
    want = {"STQ": math.sqrt(0.5), "AQ": 1.0, "IoU": 0.5}
    for cls in (STQReference, STQuality):
        m = cls(3, [2], 0, 4, 3 << 4)
        m.update_state(y_true, y_pred, sequence_id=4)
        result = m.result()
        for key, value in want.items():
            assert close(result[key], value), (cls, key)


def test_two_sequences_weigh_tubes_and_pixels_together() -> None:
    # Sequence a: tube (1,1) of 2 pixels predicted as (1,7) on both: AQ 1. Sequence b: tube (1,2) of
    # 2 pixels split over (1,3) and (1,4): 1/2 * (1 * 1/2 + 1 * 1/2) = 1/2. AQ over tubes: 3/4.
    a_true = labels(8, [1, 1], [1, 1])
    a_pred = labels(8, [1, 1], [7, 7])
    b_true = labels(8, [1, 1, 0], [2, 2, 0])
    b_pred = labels(8, [1, 1, 0], [3, 4, 0])
    for cls in (STQReference, STQuality):
        m = cls(2, [1], 255, 8, 2 << 8)
        m.update_state(a_true, a_pred, sequence_id="a")
        m.update_state(b_true, b_pred, sequence_id="b")
        result = m.result()
        assert close(result["AQ"], 0.75), cls
        assert np.allclose(np.asarray(result["AQ_per_seq"], dtype=float), [1.0, 0.5], rtol=1e-12, atol=0)
        assert close(result["IoU"], 1.0), cls
        assert [int(n) for n in result["Length_per_seq"]] == [1, 1]


# -- errors ------------------------------------------------------------------------------------


def update_and_result(m: STQuality, y_true: np.ndarray, y_pred: np.ndarray, sequence_id: str) -> None:
    """Add a frame and compute: the error may come from either."""
    m.update_state(y_true, y_pred, sequence_id=sequence_id)
    m.result()


@pytest.mark.parametrize(
    ("ignore_label", "semantic"),
    [(255, 4), (255, 9), (1, 3), (3, 4)],
    ids=["above-4", "above-9", "below-3", "at-4"],
)
@pytest.mark.parametrize("side", ["y_true", "y_pred"])
def test_a_class_beyond_the_confusion_matrix_names_the_sequence(ignore_label: int, semantic: int, side: str) -> None:
    good = labels(8, [0, 2], [0, 1])
    bad = labels(8, [0, semantic], [0, 1])
    m = STQuality(3, [2], ignore_label, 8, 3 << 8)
    with pytest.raises(ValueError, match="seq-bad-7"):
        update_and_result(m, bad if side == "y_true" else good, bad if side == "y_pred" else good, "seq-bad-7")


@pytest.mark.parametrize("side", ["y_true", "y_pred"])
def test_negative_labels_name_the_sequence(side: str) -> None:
    good = np.array([[0, 513]], dtype=np.int32)
    bad = np.array([[0, -1]], dtype=np.int32)
    m = STQuality(3, [2], 255, 8, 3 << 8)
    with pytest.raises(ValueError, match="seq-neg-3"):
        update_and_result(m, bad if side == "y_true" else good, bad if side == "y_pred" else good, "seq-neg-3")


def test_an_offset_below_num_classes_shifted_is_refused() -> None:
    with pytest.raises(ValueError, match="offset"):
        STQuality(3, [1], 255, 8, (3 << 8) - 1)
    STQuality(3, [1], 255, 8, 3 << 8)


def test_float32_accumulation_rounds_areas_past_two_to_the_24() -> None:
    # deeplab2 under NumPy >= 2 adds each frame's count to a float32 area: past 2**24 the sums
    # round. One track of 1,000,001 pixels a frame over 17 frames, predicted on all but one of them.
    frames, width = 17, 1_000_001
    y_true = np.full(width, (1 << 8) + 1, dtype=np.int64)
    y_pred = y_true.copy()
    y_pred[0] = (1 << 8) + 2
    metrics = {mode: STQuality(3, [1], 255, 8, 3 << 8, accumulate=mode) for mode in ("exact", "float32")}
    for metric in metrics.values():
        for _ in range(frames):
            metric.update_state(y_true, y_pred)
    gt = tpa = miss = np.float32(0)
    for _ in range(frames):
        gt, tpa, miss = gt + np.float32(width), tpa + np.float32(width - 1), miss + np.float32(1)
    inner32 = (
        np.float32(0)
        + tpa * (tpa / (tpa + (tpa - tpa) + (gt - tpa)))
        + miss * (miss / (miss + (miss - miss) + (gt - miss)))
    )
    assert metrics["float32"].result()["AQ"] == np.float32(1) / gt * inner32
    g, t = frames * width, frames * (width - 1)
    exact = (t * t / g + frames * frames / g) / g
    assert metrics["exact"].result()["AQ"] == pytest.approx(exact, rel=1e-15)
    assert metrics["exact"].result()["AQ"] != metrics["float32"].result()["AQ"]
