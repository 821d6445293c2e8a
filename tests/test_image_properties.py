"""The engine's per-image statistics equal the numpy reference's on random image pairs."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import panoptiq
import reference
from strategies import CATEGORIES, Pair, half_iou_pairs, image_pairs


def engine_stats(pair: Pair) -> dict[int, list[float | int]]:
    stat = panoptiq.evaluate_image(
        pair.gt_ids, pair.gt_segments, pair.pred_ids, pair.pred_segments, pair.categories, image_id=1
    )
    return {c: [s.iou, s.tp, s.fp, s.fn] for c, s in stat.pq_per_cat.items()}


def reference_stats(pair: Pair) -> dict[int, list[float | int]]:
    return reference.evaluate(pair.gt_ids, pair.gt_segments, pair.pred_ids, pair.pred_segments, CATEGORIES, 1)


@given(image_pairs())
def test_stats_equal_reference(pair: Pair) -> None:
    # Exact equality, floats included: both sum IoUs in the same order.
    assert engine_stats(pair) == reference_stats(pair)


@given(image_pairs(max_side=40))
def test_stats_equal_reference_on_larger_maps(pair: Pair) -> None:
    assert engine_stats(pair) == reference_stats(pair)


@given(half_iou_pairs())
def test_iou_of_exactly_one_half_is_not_a_match(case: tuple[Pair, int]) -> None:
    pair, expected_tp = case
    stats = engine_stats(pair)
    assert stats == reference_stats(pair)
    assert stats.get(1, [0.0, 0, 0, 0])[1] == expected_tp


@given(image_pairs(), st.sampled_from([None, True, False]))
def test_pq_average_equals_reference(pair: Pair, isthing: bool | None) -> None:
    stat = panoptiq.evaluate_image(pair.gt_ids, pair.gt_segments, pair.pred_ids, pair.pred_segments, pair.categories)
    expected = reference.average(reference_stats(pair), pair.categories, isthing)
    if expected[0]["n"] == 0:
        with pytest.warns(RuntimeWarning, match="n = 0"):
            assert stat.pq_average(pair.categories, isthing) == expected
    else:
        assert stat.pq_average(pair.categories, isthing) == expected


@given(image_pairs(), st.sampled_from([np.uint32, np.int32, np.int64, np.uint64]))
def test_any_integer_dtype_gives_the_same_stats(pair: Pair, dtype: type) -> None:
    as_dtype = Pair(pair.gt_ids.astype(dtype), pair.gt_segments, pair.pred_ids.astype(dtype), pair.pred_segments)
    assert engine_stats(as_dtype) == engine_stats(pair)


@given(image_pairs())
def test_per_image_stats_add_up(pair: Pair) -> None:
    once = panoptiq.evaluate_image(pair.gt_ids, pair.gt_segments, pair.pred_ids, pair.pred_segments, pair.categories)
    total = panoptiq.PQStat()
    total += once
    total += once
    for category, s in once.pq_per_cat.items():
        t = total[category]
        assert (t.iou, t.tp, t.fp, t.fn) == (s.iou + s.iou, 2 * s.tp, 2 * s.fp, 2 * s.fn)
