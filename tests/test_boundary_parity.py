"""Boundary PQ against boundary-iou-api itself (``coco_panoptic_api/evaluation.py``), on the same
generated data. boundary-iou-api is on GitHub only and needs OpenCV and pycocotools: this test
runs where ``boundary_iou`` is importable (put a checkout on ``PYTHONPATH``)."""

from __future__ import annotations

import copy
import json

import pytest

from panoptiq import evaluation
from panoptiq.synthetic import REALISTIC_GT_KINDS, REALISTIC_PRED_KINDS, make_dataset

reference = pytest.importorskip(
    "boundary_iou.coco_panoptic_api.evaluation",
    reason="boundary-iou-api is not installed: it is on GitHub only (bowenc0221/boundary-iou-api) and needs "
    "opencv-python-headless and pycocotools; put a checkout on PYTHONPATH to run this parity test",
)

pytestmark = [
    pytest.mark.filterwarnings("ignore::DeprecationWarning"),
]


@pytest.fixture(scope="module")
def data(tmp_path_factory: pytest.TempPathFactory):
    folder = tmp_path_factory.mktemp("boundary-parity")
    gt_json, pred_json = make_dataset(
        folder, 18, seed=77, size=(240, 320), gt_kinds=REALISTIC_GT_KINDS, pred_kinds=REALISTIC_PRED_KINDS
    )
    gt, pred = json.loads(gt_json.read_text()), json.loads(pred_json.read_text())
    by_id = {a["image_id"]: a for a in pred["annotations"]}
    pairs = [(a, by_id[a["image_id"]]) for a in gt["annotations"]]
    categories = {c["id"]: c for c in gt["categories"]}
    return gt_json, pred_json, pairs, categories


@pytest.mark.parametrize("ratio", [0.02, 0.005, 0.1])
def test_equal_to_boundary_iou_api(data, ratio: float, capsys) -> None:
    gt_json, pred_json, pairs, categories = data
    marker = max(categories) + 1
    listed = {s["id"] for gt, pred in pairs for s in gt["segments_info"] + pred["segments_info"]}
    assert marker not in listed  # no image meets the reference's marker quirk (see panoptiq.boundary)
    gt_folder, pred_folder = str(gt_json.with_suffix("")), str(pred_json.with_suffix(""))
    # The reference adds fields to the records it is given: it gets its own copy.
    theirs = reference.pq_compute_single_core(
        0, copy.deepcopy(pairs), gt_folder, pred_folder, categories, "boundary", ratio
    )
    ours = evaluation.pq_compute_multi_core(pairs, gt_folder, pred_folder, categories, "boundary", ratio, verbose=False)
    counted = {c for c, s in theirs.pq_per_cat.items() if s.tp + s.fp + s.fn}
    assert counted == {c for c, s in ours.pq_per_cat.items() if s.tp + s.fp + s.fn}
    assert sum(theirs.pq_per_cat[c].tp for c in counted) > 50
    for c in counted:
        t, o = theirs.pq_per_cat[c], ours.pq_per_cat[c]
        assert (o.tp, o.fp, o.fn) == (t.tp, t.fp, t.fn), c
        assert o.iou == pytest.approx(t.iou, abs=1e-12), c
    # The mask PQ of the reference's "segm" mode is panopticapi's, and ours.
    mask = reference.pq_compute_single_core(0, copy.deepcopy(pairs), gt_folder, pred_folder, categories, "segm", ratio)
    assert (
        mask.pq_per_cat[1].tp
        == evaluation.pq_compute_multi_core(pairs, gt_folder, pred_folder, categories, verbose=False)[1].tp
    )
    capsys.readouterr()


@pytest.mark.parametrize("ratio", [0.02, 0.1])
def test_reference_marker_equals_boundary_iou_api_where_ids_collide(data, tmp_path, ratio: float, capsys) -> None:
    """Every image has a segment whose id is the reference's interior marker: with
    ``reference_marker=True`` the numbers are the reference's; by default they differ."""
    from marker_data import with_marker_ids

    gt_json, pred_json, _, _ = data
    gt_json, pred_json, marker = with_marker_ids(gt_json, pred_json, tmp_path)
    gt, pred = json.loads(gt_json.read_text()), json.loads(pred_json.read_text())
    by_id = {a["image_id"]: a for a in pred["annotations"]}
    pairs = [(a, by_id[a["image_id"]]) for a in gt["annotations"]]
    categories = {c["id"]: c for c in gt["categories"]}
    assert all(marker in {s["id"] for s in a["segments_info"]} for pair in pairs for a in pair)
    gt_folder, pred_folder = str(gt_json.with_suffix("")), str(pred_json.with_suffix(""))
    theirs = reference.pq_compute_single_core(
        0, copy.deepcopy(pairs), gt_folder, pred_folder, categories, "boundary", ratio
    )
    ours = evaluation.pq_compute_multi_core(
        pairs, gt_folder, pred_folder, categories, "boundary", ratio, reference_marker=True, verbose=False
    )
    counted = {c for c, s in theirs.pq_per_cat.items() if s.tp + s.fp + s.fn}
    assert counted == {c for c, s in ours.pq_per_cat.items() if s.tp + s.fp + s.fn}
    for c in counted:
        t, o = theirs.pq_per_cat[c], ours.pq_per_cat[c]
        assert (o.tp, o.fp, o.fn) == (t.tp, t.fp, t.fn), c
        assert o.iou == pytest.approx(t.iou, abs=1e-12), c
    default = evaluation.pq_compute_multi_core(
        pairs, gt_folder, pred_folder, categories, "boundary", ratio, verbose=False
    )
    assert any(default.pq_per_cat[c].iou != pytest.approx(theirs.pq_per_cat[c].iou, abs=1e-9) for c in counted)
    capsys.readouterr()


def test_signatures_are_boundary_iou_apis() -> None:
    import inspect

    for name in ("pq_compute", "pq_compute_single_core", "pq_compute_multi_core"):
        theirs = [(p.name, p.default) for p in inspect.signature(getattr(reference, name)).parameters.values()]
        ours = [
            (p.name, p.default)
            for p in inspect.signature(getattr(evaluation, name)).parameters.values()
            if p.kind != p.KEYWORD_ONLY
        ]
        # boundary-iou-api's iou_type and dilation_ratio have no defaults in the core functions.
        assert [n for n, _ in ours] == [n for n, _ in theirs], name
