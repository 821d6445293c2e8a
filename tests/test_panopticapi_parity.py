"""Per-image parity with panopticapi itself: same PNGs and JSON, same statistics and errors."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from panopticapi.evaluation import PQStat as PanopticapiPQStat
from panopticapi.evaluation import pq_compute_single_core
from PIL import Image

import panoptiq
from strategies import Pair, half_iou_pairs, image_pairs


def panopticapi_stats(pair: Pair, folder: Path) -> PanopticapiPQStat:
    for side, ids in (("gt", pair.gt_ids), ("pred", pair.pred_ids)):
        (folder / side).mkdir(exist_ok=True)
        Image.fromarray(panoptiq.id2rgb(ids)).save(folder / side / "1.png")
    gt_ann = {"image_id": 1, "file_name": "1.png", "segments_info": pair.gt_segments}
    # panopticapi writes computed areas into the prediction's records: give it copies.
    pred_ann = {"image_id": 1, "file_name": "1.png", "segments_info": [dict(s) for s in pair.pred_segments]}
    return pq_compute_single_core(0, [(gt_ann, pred_ann)], folder / "gt", folder / "pred", pair.categories)


def as_tuples(stat) -> dict:
    return {c: (s.iou, s.tp, s.fp, s.fn) for c, s in stat.pq_per_cat.items()}


@settings(suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(pair=image_pairs(max_side=24))
def test_image_stats_equal_panopticapi(pair: Pair, tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    expected = panopticapi_stats(pair, tmp_path)
    ours = panoptiq.evaluate_image(pair.gt_ids, pair.gt_segments, pair.pred_ids, pair.pred_segments, pair.categories)
    assert as_tuples(ours) == as_tuples(expected)
    for isthing in (None, True, False):
        try:
            theirs = expected.pq_average(pair.categories, isthing)
        except ZeroDivisionError:
            # A split with no category seen: panopticapi crashes, panoptiq warns and reports zeros.
            with pytest.warns(RuntimeWarning, match="n = 0"):
                averages, _ = ours.pq_average(pair.categories, isthing)
            assert averages == {"pq": 0.0, "sq": 0.0, "rq": 0.0, "n": 0}
            continue
        assert ours.pq_average(pair.categories, isthing) == theirs


@settings(suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(case=half_iou_pairs())
def test_half_iou_equals_panopticapi(case: tuple[Pair, int], tmp_path: Path, capsys) -> None:
    pair, _ = case
    expected = panopticapi_stats(pair, tmp_path)
    ours = panoptiq.evaluate_image(pair.gt_ids, pair.gt_segments, pair.pred_ids, pair.pred_segments, pair.categories)
    assert as_tuples(ours) == as_tuples(expected)


def test_key_errors_carry_panopticapi_messages(tmp_path: Path, capsys) -> None:
    gt_ids = np.array([[1, 1, 2, 2]], dtype=np.uint32)
    gt_segments = [
        {"id": 1, "category_id": 1, "iscrowd": 0, "area": 2},
        {"id": 2, "category_id": 3, "iscrowd": 0, "area": 2},
    ]
    cases = [
        (np.array([[5, 5, 6, 6]], dtype=np.uint32), [{"id": 5, "category_id": 1}]),  # 6 not in JSON
        (
            np.array([[5, 5, 6, 6]], dtype=np.uint32),
            [{"id": 5, "category_id": 1}, {"id": 6, "category_id": 42}],
        ),
        (
            np.array([[5, 5, 0, 0]], dtype=np.uint32),
            [{"id": 5, "category_id": 1}, {"id": 8, "category_id": 1}],
        ),
    ]
    for pred_ids, pred_segments in cases:
        pair = Pair(gt_ids, gt_segments, pred_ids, pred_segments)
        with pytest.raises(KeyError) as theirs:
            panopticapi_stats(pair, tmp_path)
        with pytest.raises(KeyError) as ours:
            panoptiq.evaluate_image(gt_ids, gt_segments, pred_ids, pred_segments, pair.categories, image_id=1)
        assert str(ours.value) == str(theirs.value)
