"""Boundary PQ (``iou_type="boundary"``) against an independent numpy reading of its rules
(``tests/reference.py``: bands by repeated erosion of boolean masks), on generated datasets with
thin, one-pixel, border-touching and crowd segments, and on band widths from 1 pixel to the
whole image; and its argument checks."""

from __future__ import annotations

import json
import math
from collections import defaultdict
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import metric_data
import reference
from marker_data import with_marker_ids
from panoptiq import cli, evaluation, partials, write_id_map
from panoptiq.results import summarize
from panoptiq.synthetic import GT_KINDS, make_dataset

pytestmark = [
    pytest.mark.filterwarnings("ignore:.*splits? had no category.*:RuntimeWarning"),
]


def pairs_of(gt_json: Path, pred_json: Path):
    gt, pred = json.loads(gt_json.read_text()), json.loads(pred_json.read_text())
    by_id = {a["image_id"]: a for a in pred["annotations"]}
    return [(a, by_id[a["image_id"]]) for a in gt["annotations"]], {c["id"]: c for c in gt["categories"]}


def reference_totals(pairs, gt_folder: Path, pred_folder: Path, categories, ratio: float, marker=None):
    """Per-category [iou sum, tp, fp, fn], IoU sums as math.fsum of every matched IoU; with
    ``marker``, boundary-iou-api's painting with that interior id."""
    from panoptiq import read_id_map

    ious: defaultdict[int, list[float]] = defaultdict(list)
    counts: defaultdict[int, list[int]] = defaultdict(lambda: [0, 0, 0])
    for gt, pred in pairs:
        gt_ids = read_id_map(gt_folder / gt["file_name"])
        pred_ids = read_id_map(pred_folder / pred["file_name"])
        d = reference.dilation_of(ratio, *gt_ids.shape)
        one = reference.evaluate(
            gt_ids,
            gt["segments_info"],
            pred_ids,
            pred["segments_info"],
            categories,
            gt["image_id"],
            dilation=d,
            marker=marker,
        )
        for category, (iou, tp, fp, fn) in one.items():
            ious[category].append(iou)
            for k, n in enumerate((tp, fp, fn)):
                counts[category][k] += n
    return {c: [math.fsum(ious[c]), *counts[c]] for c in counts}


def assert_matches(stat, expected) -> None:
    seen = {c: s for c, s in stat.pq_per_cat.items() if s.tp + s.fp + s.fn or s.iou}
    assert set(seen) == {c for c, v in expected.items() if v[1] + v[2] + v[3] or v[0]}
    for c, s in seen.items():
        iou, tp, fp, fn = expected[c]
        assert (s.tp, s.fp, s.fn) == (tp, fp, fn), c
        assert s.iou == pytest.approx(iou, abs=1e-12), c


@pytest.fixture(scope="module")
def dataset(tmp_path_factory: pytest.TempPathFactory):
    folder = tmp_path_factory.mktemp("boundary")
    gt_json, pred_json = make_dataset(folder, len(GT_KINDS) * 2, seed=31, size=(96, 128))
    return gt_json, pred_json


@pytest.mark.parametrize("ratio", [0.02, 0.004, 0.1, 0.5, 3.0])
def test_generated_datasets_equal_the_numpy_reference(dataset, ratio: float) -> None:
    gt_json, pred_json = dataset
    pairs, categories = pairs_of(gt_json, pred_json)
    gt_folder, pred_folder = gt_json.with_suffix(""), pred_json.with_suffix("")
    expected = reference_totals(pairs, gt_folder, pred_folder, categories, ratio)
    stat = evaluation.pq_compute_multi_core(pairs, gt_folder, pred_folder, categories, "boundary", ratio, verbose=False)
    assert_matches(stat, expected)
    single = evaluation.pq_compute_single_core(
        0, pairs, gt_folder, pred_folder, categories, iou_type="boundary", dilation_ratio=ratio, verbose=False
    )
    assert single == stat


def test_pq_compute_and_the_command_line(dataset, tmp_path: Path) -> None:
    gt_json, pred_json = dataset
    pairs, categories = pairs_of(gt_json, pred_json)
    stat = evaluation.pq_compute_multi_core(
        pairs, gt_json.with_suffix(""), pred_json.with_suffix(""), categories, "boundary", verbose=False
    )
    results = evaluation.pq_compute(str(gt_json), str(pred_json), iou_type="boundary", verbose=False)
    assert results == summarize(stat, categories)
    mask = evaluation.pq_compute(str(gt_json), str(pred_json), verbose=False)
    # Each IoU is at most the mask IoU and a lost match moves one TP to one FP and one FN, which
    # leaves a category's denominator as it was: no category's PQ can rise.
    for category, scores in results["per_class"].items():
        assert scores["pq"] <= mask["per_class"][category]["pq"]
    assert results["All"]["pq"] < mask["All"]["pq"]
    out = tmp_path / "out.json"
    argv = ["eval", str(gt_json), str(pred_json), "--iou-type", "boundary", "--no-progress", "--json", str(out)]
    assert cli.main(argv) == 0
    written = json.loads(out.read_text())
    assert written["All"] == results["All"]


small_maps = st.integers(2, 14).flatmap(
    lambda h: st.integers(2, 14).flatmap(
        lambda w: st.tuples(
            st.just((h, w)),
            st.lists(st.integers(0, 4), min_size=h * w, max_size=h * w),
            st.lists(st.integers(0, 4), min_size=h * w, max_size=h * w),
            st.floats(0.001, 1.5),
            st.integers(0, 4),
            st.booleans(),
        )
    )
)


@settings(max_examples=150, deadline=None)
@given(small_maps)
def test_small_maps_equal_the_numpy_reference(tmp_path_factory, case) -> None:
    """Thin, one-pixel and border-touching segments everywhere; crowd segments and VOID too. The
    largest category id is 2, so id 3 is boundary-iou-api's interior marker: with
    ``reference_marker`` its painting is reproduced (segments listed in either order), without
    it the metric as defined."""
    (h, w), gt_values, pred_values, ratio, crowd, backwards = case
    folder = tmp_path_factory.mktemp("small")
    # Blocky maps: each value is a 2x2 block's label, so segments are thin but not all noise.
    gt_ids = np.kron(np.array(gt_values, dtype=np.uint32).reshape(h, w), np.ones((2, 2), np.uint32))[: h + 1, : w + 1]
    pred_ids = np.array(pred_values, dtype=np.uint32).reshape(h, w)
    pred_ids = np.pad(pred_ids, ((0, 1), (0, 1)), mode="edge")
    categories = {1: {"id": 1, "isthing": 1}, 2: {"id": 2, "isthing": 0}}
    gt_segments = [
        {"id": int(i), "category_id": 1 + int(i) % 2, "iscrowd": int(i == crowd), "area": int((gt_ids == i).sum())}
        for i in np.unique(gt_ids)
        if i != 0
    ]
    pred_segments = [{"id": int(i), "category_id": 1 + int(i) % 2} for i in np.unique(pred_ids) if i != 0]
    if backwards:
        gt_segments.reverse()
        pred_segments.reverse()
    (folder / "gt").mkdir()
    (folder / "pred").mkdir()
    write_id_map(folder / "gt" / "1.png", gt_ids)
    write_id_map(folder / "pred" / "1.png", pred_ids)
    pairs = [
        (
            {"image_id": 1, "file_name": "1.png", "segments_info": gt_segments},
            {"image_id": 1, "file_name": "1.png", "segments_info": pred_segments},
        )
    ]
    expected = reference_totals(pairs, folder / "gt", folder / "pred", categories, ratio)
    stat = evaluation.pq_compute_single_core(
        0, pairs, folder / "gt", folder / "pred", categories, "boundary", ratio, verbose=False
    )
    assert_matches(stat, expected)
    expected = reference_totals(pairs, folder / "gt", folder / "pred", categories, ratio, marker=3)
    stat = evaluation.pq_compute_single_core(
        0, pairs, folder / "gt", folder / "pred", categories, "boundary", ratio, reference_marker=True, verbose=False
    )
    assert_matches(stat, expected)


@pytest.mark.parametrize("ratio", [0.02, 0.1])
def test_reference_marker_reproduces_boundary_iou_apis_painting(dataset, tmp_path: Path, ratio: float) -> None:
    """Every image has a segment with the marker's id on both sides (at varying positions of
    segments_info): ``reference_marker=True`` equals the numpy reading of boundary-iou-api's
    painting everywhere (pq_compute, the core functions, the CLI, partials, the in-memory
    metric); the default equals the metric as defined, and the two differ."""
    from panoptiq import PanopticQuality, read_id_map

    gt_json, pred_json, marker = with_marker_ids(*dataset, tmp_path)
    pairs, categories = pairs_of(gt_json, pred_json)
    gt_folder, pred_folder = gt_json.with_suffix(""), pred_json.with_suffix("")
    quirk = reference_totals(pairs, gt_folder, pred_folder, categories, ratio, marker=marker)
    intended = reference_totals(pairs, gt_folder, pred_folder, categories, ratio)
    assert quirk != intended
    compat = evaluation.pq_compute_multi_core(
        pairs, gt_folder, pred_folder, categories, "boundary", ratio, reference_marker=True, verbose=False
    )
    assert_matches(compat, quirk)
    default = evaluation.pq_compute_multi_core(
        pairs, gt_folder, pred_folder, categories, "boundary", ratio, verbose=False
    )
    assert_matches(default, intended)
    results = evaluation.pq_compute(
        str(gt_json), str(pred_json), None, None, "boundary", ratio, reference_marker=True, verbose=False
    )
    assert results == summarize(compat, categories)
    out = tmp_path / "out.json"
    argv = ["eval", str(gt_json), str(pred_json), "--iou-type", "boundary", "--dilation-ratio", str(ratio)]
    assert cli.main([*argv, "--reference-marker", "--no-progress", "--json", str(out)]) == 0
    assert json.loads(out.read_text())["All"] == results["All"]
    plan = partials.plan(
        gt_json, pred_json, partition_size=5, iou_type="boundary", dilation_ratio=ratio, reference_marker=True
    )
    assert plan.combine([partials.evaluate(part) for part in plan]) == results
    metric = PanopticQuality(categories, iou_type="boundary", dilation_ratio=ratio, reference_marker=True)
    for gt, pred in pairs:
        metric.update(
            read_id_map(pred_folder / pred["file_name"]),
            read_id_map(gt_folder / gt["file_name"]),
            preds_segments_info=pred["segments_info"],
            target_segments_info=gt["segments_info"],
        )
    restored = PanopticQuality.from_state_dict(metric.state_dict())
    for result in (metric.compute(), restored.compute()):
        assert result.to_dict()["All"] == pytest.approx(results["All"], abs=1e-12)
    with pytest.raises(ValueError, match='reference_marker applies to iou_type="boundary" only'):
        evaluation.pq_compute(str(gt_json), str(pred_json), reference_marker=True, verbose=False)
    assert cli.main(["eval", str(gt_json), str(pred_json), "--reference-marker", "--no-progress"]) == 1
    with pytest.raises(ValueError, match="reference_marker must be True or False"):
        PanopticQuality(categories, iou_type="boundary", reference_marker="yes")
    with pytest.raises(ValueError, match="reference_marker=True needs id maps with segments_info"):
        metric.update(np.zeros((1, 4, 4, 2), np.int64), np.zeros((1, 4, 4, 2), np.int64))


def blocky_pairs(seed: int, batch: int, height: int, width: int) -> tuple[np.ndarray, np.ndarray]:
    """(category, instance) maps of blocks a few pixels wide, with interiors for the bands to
    leave out, predictions the targets with blocks relabelled and shifted."""
    rng = np.random.default_rng(seed)
    categories = np.array([*metric_data.THINGS, *metric_data.STUFFS, metric_data.VOID])
    out = []
    for _ in range(2 * batch):
        grid = np.stack(
            [
                rng.choice(categories, (height // 6 + 1, width // 7 + 1)),
                rng.integers(0, 3, (height // 6 + 1, width // 7 + 1)),
            ],
            -1,
        )
        grid[..., 1] *= np.isin(grid[..., 0], metric_data.THINGS)
        out.append(np.kron(grid, np.ones((6, 7, 1), np.int64))[:height, :width])
    targets = np.stack(out[:batch])
    preds = np.roll(targets, (1, 2), axis=(1, 2))
    relabel = rng.random(preds.shape[:3]) < 0.02
    preds[relabel] = np.stack(out[batch:])[relabel]
    return preds, targets


@settings(max_examples=100, deadline=None)
@given(metric_data.pair_batches(max_batch=2), st.floats(0.01, 1.0))
def test_label_maps_in_the_metric(batch, ratio: float) -> None:
    """Boundary PQ on (category, instance) pairs and on label_divisor maps equals the same
    images as id maps with segments_info, and the numpy reference."""
    assert_label_maps_equal_the_reference(*batch, ratio)


@pytest.mark.parametrize("ratio", [0.01, 0.03])
def test_label_maps_with_interiors_in_the_metric(ratio: float) -> None:
    preds, targets = blocky_pairs(5, 3, 60, 80)
    mask = assert_label_maps_equal_the_reference(preds, targets, None)
    boundary = assert_label_maps_equal_the_reference(preds, targets, ratio)
    assert boundary["pq"] < mask["pq"]  # the bands are what is scored


def assert_label_maps_equal_the_reference(preds: np.ndarray, targets: np.ndarray, ratio: float | None):
    """The three input forms against the numpy reference; returns the reference's All."""
    from panoptiq import PanopticQuality

    kinds = {"things": metric_data.THINGS, "stuffs": metric_data.STUFFS, "void": metric_data.VOID}
    options = {"iou_type": "segm" if ratio is None else "boundary", "dilation_ratio": ratio or 0.02, **kinds}
    pairs_metric, ids_metric = PanopticQuality(**options), PanopticQuality(**options)
    pairs_metric.update(preds, targets)
    encoded_metric = PanopticQuality(label_divisor=metric_data.DIVISOR, **options)
    encoded_metric.update(metric_data.encoded(preds), metric_data.encoded(targets))
    pred_ids, pred_infos = metric_data.id_maps(preds, "preds")
    gt_ids, gt_infos = metric_data.id_maps(targets, "target")
    ids_metric.update(pred_ids, gt_ids, preds_segments_info=pred_infos, target_segments_info=gt_infos)
    stats: defaultdict[int, list[float]] = defaultdict(lambda: [0.0, 0, 0, 0])
    categories = {
        c: {"id": c, "isthing": int(c in metric_data.THINGS)} for c in (*metric_data.THINGS, *metric_data.STUFFS)
    }
    for g, gi, p, pi in zip(gt_ids, gt_infos, pred_ids, pred_infos, strict=True):
        d = None if ratio is None else reference.dilation_of(ratio, *g.shape)
        for c, values in reference.evaluate(g, gi, p, pi, categories, dilation=d).items():
            stats[c] = [a + b for a, b in zip(stats[c], values, strict=True)]
    expected, per_class = reference.average(stats, categories, None)
    for metric in (pairs_metric, encoded_metric, ids_metric):
        result = metric.compute().to_dict()
        assert result["All"]["pq"] == pytest.approx(expected["pq"], abs=1e-12)
        for c, scores in per_class.items():
            assert result["per_class"][c]["pq"] == pytest.approx(scores["pq"], abs=1e-12), c
    return expected


@pytest.mark.parametrize(
    ("iou_type", "ratio", "message"),
    [
        ("bbox", 0.02, r"iou_type must be one of \('segm', 'boundary'\), got 'bbox'"),
        ("boundary", 0, "dilation_ratio must be a finite number above 0"),
        ("boundary", -0.5, "dilation_ratio must be a finite number above 0"),
        ("boundary", float("nan"), "dilation_ratio must be a finite number above 0"),
        ("boundary", float("inf"), "dilation_ratio must be a finite number above 0"),
        ("boundary", "0.02", "dilation_ratio must be a finite number above 0"),
        ("boundary", True, "dilation_ratio must be a finite number above 0"),
    ],
)
def test_bad_options_are_value_errors(dataset, iou_type, ratio, message, capsys) -> None:
    gt_json, pred_json = dataset
    with pytest.raises(ValueError, match=message):
        evaluation.pq_compute(str(gt_json), str(pred_json), iou_type=iou_type, dilation_ratio=ratio, verbose=False)
    pairs, categories = pairs_of(gt_json, pred_json)
    with pytest.raises(ValueError, match=message):
        evaluation.pq_compute_multi_core(pairs, "gt", "pred", categories, iou_type, ratio, verbose=False)


def test_bad_options_on_the_command_line(dataset, capsys) -> None:
    gt_json, pred_json = dataset
    argv = ["eval", str(gt_json), str(pred_json), "--iou-type", "boundary", "--no-progress"]
    assert cli.main([*argv, "--dilation-ratio", "0"]) == 1
    assert "--dilation-ratio must be a finite number above 0" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        cli.main(["eval", str(gt_json), str(pred_json), "--iou-type", "bbox"])
    assert "invalid choice: 'bbox'" in capsys.readouterr().err


def test_the_in_memory_metric_gives_pq_computes_boundary_pq(dataset) -> None:
    from panoptiq import PanopticQuality, read_id_map

    gt_json, pred_json = dataset
    pairs, categories = pairs_of(gt_json, pred_json)
    expected = evaluation.pq_compute(
        str(gt_json), str(pred_json), iou_type="boundary", dilation_ratio=0.05, verbose=False
    )
    metric = PanopticQuality(categories, iou_type="boundary", dilation_ratio=0.05, per_segment=True)
    for gt, pred in pairs:
        metric.update(
            read_id_map(pred_json.with_suffix("") / pred["file_name"]),
            read_id_map(gt_json.with_suffix("") / gt["file_name"]),
            preds_segments_info=pred["segments_info"],
            target_segments_info=gt["segments_info"],
        )
    restored = PanopticQuality.from_state_dict(metric.state_dict())
    for result in (metric.compute(), restored.compute()):
        assert result.to_dict()["All"] == pytest.approx(expected["All"], abs=1e-12)
        for category, scores in expected["per_class"].items():
            assert result.per_class[category].pq == pytest.approx(scores["pq"], abs=1e-12)
    with pytest.raises(ValueError, match="not available with rules='torchmetrics'"):
        PanopticQuality(categories, rules="torchmetrics", iou_type="boundary")
    with pytest.raises(ValueError, match="needs 2-D maps"):
        metric.update(
            np.zeros((2, 3, 4), np.uint32),
            np.zeros((2, 3, 4), np.uint32),
            preds_segments_info=[],
            target_segments_info=[],
        )
    volume = np.zeros((1, 4, 4, 4, 2), np.int64)
    with pytest.raises(ValueError, match="needs 2-D maps"):
        PanopticQuality(categories, iou_type="boundary").update(volume, volume)
    with pytest.raises(ValueError, match="dilation_ratio must be a finite number above 0"):
        PanopticQuality(categories, iou_type="boundary", dilation_ratio=-1)


def test_per_segment_records_carry_the_boundary_iou(dataset) -> None:
    from panoptiq import read_id_map

    gt_json, pred_json = dataset
    pairs, categories = pairs_of(gt_json, pred_json)
    results = evaluation.pq_compute(
        str(gt_json), str(pred_json), None, None, "boundary", 0.03, verbose=False, per_image=True
    )
    mask = evaluation.pq_compute(str(gt_json), str(pred_json), verbose=False, per_image=True)
    assert all(r["other_boundary_iou"] is None for r in mask["segments"])
    by_image = defaultdict(list)
    for record in results["segments"]:
        by_image[record["image_id"]].append(record)
    checked = 0
    for gt, pred in pairs:
        gt_ids = read_id_map(gt_json.with_suffix("") / gt["file_name"])
        pred_ids = read_id_map(pred_json.with_suffix("") / pred["file_name"])
        d = reference.dilation_of(0.03, *gt_ids.shape)
        void = gt_ids == 0
        for record in by_image[str(gt["image_id"])]:
            if record["side"] != "gt" or record["fate"] != "tp":
                continue
            g, p = gt_ids == record["segment_id"], pred_ids == record["other_id"]
            gb, pb = reference.band(g, d), reference.band(p, d)
            inter = np.count_nonzero(gb & pb)
            expected = inter / (np.count_nonzero(pb) + np.count_nonzero(gb) - inter - np.count_nonzero(pb & void))
            assert record["other_boundary_iou"] == pytest.approx(expected, abs=1e-12)
            assert record["other_iou"] <= record["other_boundary_iou"]
            checked += 1
    assert checked > 20
    tp = sum(
        s.tp
        for s in evaluation.pq_compute_multi_core(
            pairs, gt_json.with_suffix(""), pred_json.with_suffix(""), categories, "boundary", 0.03, verbose=False
        ).pq_per_cat.values()
    )
    assert tp == sum(1 for r in results["segments"] if r["side"] == "gt" and r["fate"] == "tp")
