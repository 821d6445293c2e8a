"""Bad input to evaluate_image gets a clear Python exception, never a panic or a wrong number."""

from __future__ import annotations

import numpy as np
import pytest

import panoptiq

CATEGORIES = {1: {"id": 1, "isthing": 1}, 3: {"id": 3, "isthing": 0}}
GT_IDS = np.array([[1, 1, 2, 2], [1, 1, 2, 0]], dtype=np.uint32)
GT_SEGMENTS = [
    {"id": 1, "category_id": 1, "iscrowd": 0, "area": 4},
    {"id": 2, "category_id": 3, "iscrowd": 0, "area": 3},
]
PRED_SEGMENTS = [{"id": 1, "category_id": 1}, {"id": 2, "category_id": 3}]


def evaluate(gt_ids=GT_IDS, gt_segments=GT_SEGMENTS, pred_ids=GT_IDS, pred_segments=PRED_SEGMENTS):
    return panoptiq.evaluate_image(gt_ids, gt_segments, pred_ids, pred_segments, CATEGORIES, image_id=42)


def test_valid_input_evaluates() -> None:
    stat = evaluate()
    assert (stat[1].tp, stat[3].tp) == (1, 1)


@pytest.mark.parametrize(
    ("pred_ids", "pred_segments", "message"),
    [
        (
            np.array([[1, 1, 2, 9], [1, 1, 2, 0]], dtype=np.uint32),
            PRED_SEGMENTS,
            "In the image with ID 42 segment with ID 9 is presented in PNG and not presented in JSON.",
        ),
        (
            GT_IDS,
            [*PRED_SEGMENTS, {"id": 7, "category_id": 1}, {"id": 5, "category_id": 1}],
            "In the image with ID 42 the following segment IDs [5, 7] are presented in JSON and not presented in PNG.",
        ),
        (
            GT_IDS,
            [{"id": 1, "category_id": 1}, {"id": 2, "category_id": 77}],
            "In the image with ID 42 segment with ID 2 has unknown category_id 77.",
        ),
    ],
)
def test_prediction_mismatches_raise_panopticapi_key_errors(pred_ids, pred_segments, message: str) -> None:
    with pytest.raises(KeyError) as error:
        evaluate(pred_ids=pred_ids, pred_segments=pred_segments)
    assert error.value.args == (message,)


def test_shape_mismatch_names_both_sizes() -> None:
    with pytest.raises(ValueError, match=r"image with ID 42 the ground truth is 2x4 pixels but the prediction is 4x2"):
        evaluate(pred_ids=np.ascontiguousarray(GT_IDS.reshape(4, 2)))


@pytest.mark.parametrize(
    ("ids", "error", "match"),
    [
        (GT_IDS.astype(np.float64), TypeError, "gt_ids must hold integer segment ids, got an array of float64"),
        (GT_IDS.astype(bool), TypeError, "got an array of bool"),
        ([["a", "b"]], TypeError, "got an array of <U1"),
        (GT_IDS[None], ValueError, r"2-D \(H x W\) id map, got shape \(1, 2, 4\)"),
        (np.zeros((2, 4, 3), dtype=np.uint8), ValueError, "convert colour maps with panoptiq.rgb2id"),
        (GT_IDS.astype(np.int64) - 5, ValueError, r"ids outside \[0, 2\*\*32\)"),
        (GT_IDS.astype(np.int64) + 2**32, ValueError, r"ids outside \[0, 2\*\*32\)"),
    ],
)
def test_bad_id_maps(ids, error: type, match: str) -> None:
    with pytest.raises(error, match=match):
        evaluate(gt_ids=ids)


@pytest.mark.parametrize(
    ("gt_segments", "pred_segments", "error", "match"),
    [
        (
            [{**GT_SEGMENTS[0], "id": 0}, GT_SEGMENTS[1]],
            PRED_SEGMENTS,
            ValueError,
            "ground-truth segments_info lists segment ID 0",
        ),
        (
            GT_SEGMENTS,
            [*PRED_SEGMENTS, {"id": 0, "category_id": 1}],
            ValueError,
            "prediction segments_info lists segment ID 0",
        ),
        ([*GT_SEGMENTS, GT_SEGMENTS[0]], PRED_SEGMENTS, ValueError, "lists segment with ID 1 more than once"),
        (
            GT_SEGMENTS,
            [*PRED_SEGMENTS, PRED_SEGMENTS[1]],
            ValueError,
            "lists segment with ID 2 more than once",
        ),
        (
            [{"id": 1, "category_id": 1, "iscrowd": 0}],
            PRED_SEGMENTS,
            KeyError,
            "segment #0 \\(id 1\\) is missing 'area'",
        ),
        (GT_SEGMENTS, [{"id": 1}], KeyError, "predicted segment #0 \\(id 1\\) is missing 'category_id'"),
        ([{**GT_SEGMENTS[0], "area": 2.5}], PRED_SEGMENTS, ValueError, "non-integral area 2.5"),
        ([{**GT_SEGMENTS[0], "area": 0}], PRED_SEGMENTS, ValueError, "union of 0 pixels"),
        (
            [{**GT_SEGMENTS[0], "id": -3}],
            PRED_SEGMENTS,
            ValueError,
            r"segment id -3 is outside \[0, 2\*\*32\)",
        ),
    ],
)
def test_bad_segments_info(gt_segments, pred_segments, error: type, match: str) -> None:
    with pytest.raises(error, match=match):
        evaluate(gt_segments=gt_segments, pred_segments=pred_segments)


def test_integral_float_areas_are_accepted() -> None:
    as_float = [{**s, "area": float(s["area"])} for s in GT_SEGMENTS]
    assert evaluate(gt_segments=as_float)[1].iou == evaluate()[1].iou


def test_categories_may_be_a_list_of_records_or_ids() -> None:
    for categories in (list(CATEGORIES.values()), list(CATEGORIES)):
        stat = panoptiq.evaluate_image(GT_IDS, GT_SEGMENTS, GT_IDS, PRED_SEGMENTS, categories)
        assert stat[3].tp == 1
