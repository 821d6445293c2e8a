"""PanopticQuality: per-image numbers equal the numpy references of both rule sets, every input
form gives the same result, and merged, pickled or rebuilt metrics equal one metric."""

from __future__ import annotations

import itertools
import json
import math
import pickle

import numpy as np
import reference_torchmetrics
from hypothesis import given
from hypothesis import strategies as st

import panoptiq
import reference
from metric_data import DIVISOR, STUFFS, THINGS, VOID, encoded, id_maps, id_segments, pair_batches

CATEGORIES = [{"id": c, "isthing": 1} for c in THINGS] + [{"id": c, "isthing": 0} for c in STUFFS]


def metric(**kwargs) -> panoptiq.PanopticQuality:
    return panoptiq.PanopticQuality(things=THINGS, stuffs=STUFFS, **kwargs)


def class_totals(result: panoptiq.PQResult) -> dict[int, list[float | int]]:
    return {c: [r.iou_sum, r.tp, r.fp, r.fn] for c, r in result.per_class.items() if r.tp + r.fp + r.fn}


def nonzero(stats: dict[int, list[float | int]]) -> dict[int, list[float | int]]:
    return {c: s for c, s in stats.items() if s[1] + s[2] + s[3] and c in (*THINGS, *STUFFS)}


@given(pair_batches(max_batch=1), st.booleans())
def test_panopticapi_rules_equal_the_reference(batch, modified: bool) -> None:
    preds, targets = batch
    m = metric(void=VOID, modified=modified)
    m.update(preds, targets)
    gt_ids, gt_segments = id_segments(targets[0], "target")
    pred_ids, pred_segments = id_segments(preds[0], "preds")
    expected = reference.evaluate(
        gt_ids, gt_segments, pred_ids, pred_segments, [*THINGS, *STUFFS], modified_stuff=STUFFS if modified else ()
    )
    assert class_totals(m.compute()) == nonzero(expected)


@given(pair_batches(max_batch=1, unknown=True), st.booleans())
def test_torchmetrics_rules_equal_the_reference(batch, modified: bool) -> None:
    preds, targets = batch
    m = metric(rules="torchmetrics", modified=modified, allow_unknown_preds_category=True)
    m.update(preds, targets)
    expected = reference_torchmetrics.evaluate(
        preds[0].reshape(-1, 2), targets[0].reshape(-1, 2), THINGS, STUFFS, modified, allow_unknown_preds=True
    )
    assert class_totals(m.compute()) == nonzero(expected)


@given(pair_batches(ndim=3, max_batch=2), st.sampled_from(["panopticapi", "torchmetrics"]))
def test_volumes_and_point_clouds_equal_their_flattened_maps(batch, rules: str) -> None:
    preds, targets = batch
    volume, flat = metric(void=VOID, rules=rules), metric(void=VOID, rules=rules)
    volume.update(preds, targets)
    flat.update(preds.reshape(len(preds), -1, 2), targets.reshape(len(targets), -1, 2))
    assert volume.compute() == flat.compute()


@given(pair_batches(), st.sampled_from(["panopticapi", "torchmetrics"]), st.booleans())
def test_every_input_form_gives_the_same_result(batch, rules: str, modified: bool) -> None:
    preds, targets = batch
    results = []
    for form in ("pairs", "encoded", "id maps", "colours", "one by one"):
        m = metric(void=VOID, rules=rules, modified=modified, label_divisor=DIVISOR if form == "encoded" else None)
        if form == "pairs":
            m.update(preds, targets)
        elif form == "encoded":
            m.update(encoded(preds), encoded(targets))
        else:
            (p, p_info), (t, t_info) = id_maps(preds, "preds"), id_maps(targets, "target")
            if form == "colours":
                p, t = panoptiq.id2rgb(p), panoptiq.id2rgb(t)
            if form == "one by one":
                for i in range(len(p)):
                    m.update(p[i], t[i], preds_segments_info=p_info[i], target_segments_info=t_info[i])
            else:
                m.update(p, t, preds_segments_info=p_info, target_segments_info=t_info)
        results.append(m.compute())
    assert all(r == results[0] for r in results)
    assert all(r.to_dict() == results[0].to_dict() for r in results)


@given(st.lists(pair_batches(), min_size=1, max_size=5), st.data())
def test_any_split_merged_equals_one_metric(batches, data) -> None:
    one = metric(void=VOID, per_image=True)
    for p, t in batches:
        one.update(p, t)
    cuts = sorted(data.draw(st.lists(st.integers(0, len(batches)), max_size=3)))
    parts = []
    for start, stop in zip([0, *cuts], [*cuts, len(batches)], strict=True):
        part = metric(void=VOID, per_image=True)
        for p, t in batches[start:stop]:
            part.update(p, t)
        parts.append(part)
    merged = parts[0] + parts[1] if len(parts) > 1 else parts[0]
    for part in parts[2:]:
        merged += part
    assert merged.state_dict()["totals"] == one.state_dict()["totals"]
    assert merged.compute().to_dict() == one.compute().to_dict()
    assert merged.images == one.images
    # In reverse order, too: exact sums do not care.
    backwards = metric(void=VOID, per_image=True).merge(*reversed(parts))
    assert backwards.state_dict()["totals"] == one.state_dict()["totals"]


@given(st.lists(pair_batches(), min_size=1, max_size=3))
def test_pickle_and_state_dict_round_trips(batches) -> None:
    m = metric(void=VOID, rules="torchmetrics", modified=True, per_image=True)
    for p, t in batches:
        m.update(p, t)
    state = json.loads(json.dumps(m.state_dict()))
    for copy in (pickle.loads(pickle.dumps(m)), panoptiq.PanopticQuality.from_state_dict(state)):
        assert copy.compute() == m.compute()
        assert copy.state_dict() == m.state_dict()
        p, t = batches[0]
        copy.update(p, t)
        m2 = panoptiq.PanopticQuality.from_state_dict(m.state_dict())
        m2.update(p, t)
        assert copy.compute() == m2.compute()


def test_sums_are_exact_where_float_addition_is_not() -> None:
    """Three matches whose float sum depends on the order; the metric gives fsum's result."""
    ious = []
    m = metric(void=0)
    # One thing segment of `a` pixels per image, the prediction covering `b` of them: IoU b/a.
    for a, b in ((10, 8), (38, 23), (50, 41), (6, 5)):
        target = np.zeros((1, a, 2), dtype=np.int64)
        target[..., 0] = 1
        pred = np.zeros_like(target)
        pred[0, :b, 0] = 1
        m.update(pred, target)
        ious.append(b / a)
    assert m.compute().per_class[1].iou_sum == math.fsum(ious)
    # Floats added in some orders give another last bit: the exact sum is order-free.
    assert len({sum(order) for order in itertools.permutations(ious)}) == 2


def test_per_image_rows_only_when_asked() -> None:
    preds = np.array([[[1, 1], [1, 1], [3, 0]], [[2, 0], [2, 0], [2, 0]]])
    targets = np.array([[[1, 1], [1, 1], [3, 0]], [[1, 0], [1, 0], [1, 0]]])
    assert metric().update(preds, targets) is None
    m = metric(per_image=True)
    m.update(preds, targets, image_ids=["a", "b"])
    rows = m.compute().per_image
    assert [(r.image_id, r.pq, r.tp, r.fp, r.fn) for r in rows] == [("a", 1.0, 2, 0, 0), ("b", 0.0, 0, 1, 1)]
    records = m.compute().per_image_records()
    assert records[1] == {"image_id": "b", "pq": 0.0, "sq": 0.0, "rq": 0.0, "n": 2, "tp": 0, "fp": 1, "fn": 1}
    plain = metric()
    plain.update(preds, targets)
    assert plain.compute().per_image is None


def test_reset_and_counts() -> None:
    m = metric()
    m.update(np.ones((2, 3, 2), dtype=np.int64), np.ones((2, 3, 2), dtype=np.int64))
    assert m.images == 2
    assert m.compute().per_class[1].tp == 2
    m.reset()
    assert m.images == 0
    assert m.compute().all.n == 0


def test_torchmetrics_doc_example() -> None:
    """torchmetrics' documented example: PQ 0.5463 (its docstring, four digits)."""
    preds = np.array([[[[6, 0], [0, 0], [6, 0], [6, 0]], [[0, 0], [0, 0], [6, 0], [0, 1]],
                       [[0, 0], [0, 0], [6, 0], [0, 1]], [[0, 0], [7, 0], [6, 0], [1, 0]],
                       [[0, 0], [7, 0], [7, 0], [7, 0]]]])  # fmt: skip
    target = np.array([[[[6, 0], [0, 1], [6, 0], [0, 1]], [[0, 1], [0, 1], [6, 0], [0, 1]],
                        [[0, 1], [0, 1], [6, 0], [1, 0]], [[0, 1], [7, 0], [1, 0], [1, 0]],
                        [[0, 1], [7, 0], [7, 0], [7, 0]]]])  # fmt: skip
    m = panoptiq.PanopticQuality(things={0, 1}, stuffs={6, 7}, rules="torchmetrics")
    m.update(preds, target)
    assert round(m.compute().pq, 4) == 0.5463


def test_modified_example_of_torchmetrics() -> None:
    """ModifiedPanopticQuality's documented example: 0.7667; 255 is an unknown (void) target."""
    preds = np.array([[[0, 0], [0, 1], [6, 0], [7, 0], [0, 2], [1, 0]]])
    target = np.array([[[0, 1], [0, 0], [6, 0], [7, 0], [6, 0], [255, 0]]])
    m = panoptiq.PanopticQuality(things={0, 1}, stuffs={6, 7}, rules="torchmetrics", modified=True)
    m.update(preds, target)
    assert round(m.compute().pq, 4) == 0.7667


def test_modified_pq_of_stuff_is_mean_iou_over_occurrences() -> None:
    """PQ† of a stuff class: the sum of its pairs' IoUs over the number of images holding it."""
    target = np.array([[[3, 0]] * 4, [[3, 0]] * 2 + [[4, 0]] * 2])
    # Image 0: the prediction covers 3 of 4 pixels; image 1: two predictions of 3 split nothing.
    preds = np.array([[[3, 0]] * 3 + [[4, 0]], [[3, 0]] + [[4, 0]] * 3])
    m = metric(modified=True)
    m.update(preds, target)
    r = m.compute().per_class[3]
    assert (r.tp, r.fp, r.fn) == (2, 0, 0)
    assert r.iou_sum == math.fsum([3 / 4, 1 / 2])
    assert r.pq == r.sq == (3 / 4 + 1 / 2) / 2


def test_hugging_face_and_detectron2_segments_info() -> None:
    """HF post-processing names the category ``label_id``; detectron2 adds ``isthing``; in-memory
    ground truth often has no ``area`` or ``iscrowd``: the same result as panopticapi's records."""
    target = np.array([[1, 1, 2, 2], [1, 1, 2, 0]], dtype=np.int32)
    pred = np.array([[5, 5, 5, 6], [5, 5, 6, 6]], dtype=np.int32)
    full_gt = [
        {"id": 1, "category_id": 1, "iscrowd": 0, "area": 4},
        {"id": 2, "category_id": 3, "iscrowd": 0, "area": 3},
    ]
    full_pred = [{"id": 5, "category_id": 1}, {"id": 6, "category_id": 3}]
    hf_gt = [{"id": 1, "label_id": 1}, {"id": 2, "label_id": 3}]
    hf_pred = [
        {"id": 5, "label_id": 1, "was_fused": False, "score": 0.9},
        {"id": 6, "category_id": 3, "isthing": False},
    ]
    results = []
    for gt_info, pred_info in ((full_gt, full_pred), (hf_gt, hf_pred)):
        m = metric()
        m.update(pred, target, preds_segments_info=pred_info, target_segments_info=gt_info)
        results.append(m.compute())
    assert results[0] == results[1]
    assert results[0].per_class[1].tp == 1
    # Stuff 3: gt 3 px, pred 3 px (1 on VOID), 2 shared: union 3 + 3 - 2 - 1 = 3.
    assert results[0].per_class[3].iou_sum == 2 / 3
