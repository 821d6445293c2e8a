"""Per-image and per-segment results from the same pass as the totals: they add up to the
dataset's numbers exactly, each image's scores are panopticapi's for that image alone, and every
segment's fate and most-overlapping segment agree with an independent numpy reading of the PNGs."""

from __future__ import annotations

import collections
import contextlib
import io
import json
import math
from pathlib import Path

import numpy as np
import pytest
from panopticapi import evaluation as panopticapi
from PIL import Image

from panoptiq import PanopticQuality, cli, evaluation, read_id_map
from panoptiq.results import IMAGE_FIELDS, SEGMENT_FIELDS, Records
from panoptiq.synthetic import GT_KINDS, PRED_KINDS, make_dataset

pytestmark = [
    pytest.mark.filterwarnings("ignore:Exception ignored in.*Pool.__del__:pytest.PytestUnraisableExceptionWarning"),
    pytest.mark.filterwarnings("ignore:unclosed running multiprocessing pool:ResourceWarning"),
]


@pytest.fixture(scope="module")
def data(tmp_path_factory: pytest.TempPathFactory):
    folder = tmp_path_factory.mktemp("per-image")
    gt_json, pred_json = make_dataset(folder, len(GT_KINDS) * len(PRED_KINDS), seed=13)
    results = evaluation.pq_compute(str(gt_json), str(pred_json), verbose=False, per_image=True)
    gt, pred = json.loads(gt_json.read_text()), json.loads(pred_json.read_text())
    by_id = {a["image_id"]: a for a in pred["annotations"]}
    pairs = [(a, by_id[a["image_id"]]) for a in gt["annotations"]]
    categories = {c["id"]: c for c in gt["categories"]}
    return gt_json, pred_json, results, pairs, categories


def ids_of(path: Path) -> np.ndarray:
    rgb = np.asarray(Image.open(path).convert("RGB"), dtype=np.uint32)
    return rgb[..., 0] + 256 * rgb[..., 1] + 256 * 256 * rgb[..., 2]


def test_the_dict_is_pq_computes_plus_records(data) -> None:
    gt_json, pred_json, results, *_ = data
    plain = evaluation.pq_compute(str(gt_json), str(pred_json), verbose=False)
    assert {k: v for k, v in results.items() if k not in ("per_image", "segments")} == plain
    assert isinstance(results["per_image"], Records)
    assert results["per_image"].fields == IMAGE_FIELDS
    assert results["segments"].fields == SEGMENT_FIELDS


def test_images_and_segments_add_up_to_the_totals(data) -> None:
    gt_json, pred_json, results, pairs, categories = data
    stat = evaluation.pq_compute_single_core(
        0, pairs, str(gt_json.with_suffix("")), str(pred_json.with_suffix("")), categories, verbose=False
    )
    assert len(results["per_image"]) == len(pairs)
    for count in ("tp", "fp", "fn"):
        assert sum(row[count] for row in results["per_image"]) == sum(
            getattr(s, count) for s in stat.pq_per_cat.values()
        )
    fates = collections.Counter()
    iou = collections.defaultdict(list)
    for row in results["segments"]:
        fates[row["category_id"], row["side"], row["fate"]] += 1
        if row["fate"] == "tp" and row["side"] == "gt":
            iou[row["category_id"]].append(row["other_iou"])
    for category_id, s in stat.pq_per_cat.items():
        assert fates[category_id, "gt", "tp"] == fates[category_id, "pred", "tp"] == s.tp
        assert fates[category_id, "gt", "fn"] == s.fn
        assert fates[category_id, "pred", "fp"] == s.fp
        assert math.fsum(iou[category_id]) == pytest.approx(s.iou, abs=1e-12)


def test_each_images_scores_are_panopticapis_for_that_image_alone(data) -> None:
    gt_json, pred_json, results, pairs, categories = data
    folders = (str(gt_json.with_suffix("")), str(pred_json.with_suffix("")))
    for row, pair in zip(results["per_image"], pairs, strict=True):
        assert row["image_id"] == str(pair[0]["image_id"])
        with contextlib.redirect_stdout(io.StringIO()):
            theirs = panopticapi.pq_compute_single_core(0, [pair], *folders, categories)
        counts = [(s.tp, s.fp, s.fn) for s in theirs.pq_per_cat.values()]
        assert (row["tp"], row["fp"], row["fn"]) == tuple(map(sum, zip(*counts, strict=True))) if counts else (0, 0, 0)
        if row["n"] == 0:
            assert (row["pq"], row["sq"], row["rq"]) == (0.0, 0.0, 0.0)
            continue
        expected, _ = theirs.pq_average(categories, isthing=None)
        assert row["n"] == expected["n"]
        for key in ("pq", "sq", "rq"):
            assert row[key] == pytest.approx(expected[key], abs=1e-12)


def test_fates_and_overlaps_agree_with_a_numpy_reading_of_the_pngs(data) -> None:
    gt_json, pred_json, results, pairs, _ = data
    by_image = collections.defaultdict(list)
    for row in results["segments"]:
        by_image[row["image_id"]].append(row)
    for gt_ann, pred_ann in pairs:
        gt_ids = ids_of(gt_json.with_suffix("") / gt_ann["file_name"])
        pred_ids = ids_of(pred_json.with_suffix("") / pred_ann["file_name"])
        gt_info = {s["id"]: s for s in gt_ann["segments_info"]}
        pred_info = {s["id"]: s for s in pred_ann["segments_info"]}
        rows = by_image[str(gt_ann["image_id"])]
        assert [(r["side"], r["segment_id"]) for r in rows] == [("gt", s["id"]) for s in gt_ann["segments_info"]] + [
            ("pred", s["id"]) for s in pred_ann["segments_info"]
        ]
        pairs_, counts = np.unique(np.stack([gt_ids.ravel(), pred_ids.ravel()]), axis=1, return_counts=True)
        inter = {(int(g), int(p)): int(c) for (g, p), c in zip(pairs_.T, counts, strict=True)}
        gt_area = collections.Counter()
        pred_area = collections.Counter()
        for (g, p), c in inter.items():
            gt_area[g] += c
            pred_area[p] += c
        # Each segment's overlaps with the other side's listed segments.
        overlaps = collections.defaultdict(list)
        for (g, p), c in inter.items():
            if g in gt_info and p in pred_info:
                overlaps["gt", g].append((c, p, pred_area[p]))
                overlaps["pred", p].append((c, g, gt_area[g]))
        for r in rows:
            mine, theirs_info = (gt_area, pred_info) if r["side"] == "gt" else (pred_area, gt_info)
            assert r["area"] == mine[r["segment_id"]]
            if r["fate"] == "tp":
                continue
            # The most overlapping segment of the other side by plain pixel IoU, ties to the smaller id.
            own_area = mine[r["segment_id"]]
            candidates = [
                (-c / (own_area + area - c), other) for c, other, area in overlaps[r["side"], r["segment_id"]]
            ]
            if not candidates:
                assert r["other_id"] is None
                continue
            best_iou, best_id = min(candidates)
            assert (r["other_id"], r["other_category_id"]) == (best_id, theirs_info[best_id]["category_id"])
            assert r["other_iou"] == -best_iou
        crowd = {s["id"] for s in gt_ann["segments_info"] if s["iscrowd"]}
        assert {r["segment_id"] for r in rows if r["side"] == "gt" and r["fate"] == "crowd"} == crowd


def test_the_command_line_writes_csv_and_json_lines(data, tmp_path: Path, capsys) -> None:
    gt_json, pred_json, results, *_ = data
    images, segments = tmp_path / "images.csv", tmp_path / "segments.jsonl"
    argv = ["eval", str(gt_json), str(pred_json), "--no-progress"]
    assert cli.main([*argv, "--per-image", str(images), "--per-segment", str(segments)]) == 0
    lines = images.read_text().splitlines()
    assert lines[0] == ",".join(IMAGE_FIELDS)
    assert len(lines) == len(results["per_image"]) + 1
    written = [json.loads(line) for line in segments.read_text().splitlines()]
    assert written == list(results["segments"])
    assert cli.main([*argv, "--per-image", str(tmp_path / "images.txt")]) == 1
    assert "give a .csv or .jsonl file" in capsys.readouterr().err


@pytest.mark.parametrize("library", ["pandas", "polars"])
def test_dataframes(data, library: str) -> None:
    module = pytest.importorskip(library, reason=f"to_{library} needs {library} (installed by panoptiq[test])")
    records = data[2]["segments"]
    frame = getattr(records, f"to_{library}")()
    assert isinstance(frame, module.DataFrame)
    assert list(frame.columns) == list(SEGMENT_FIELDS)
    assert len(frame) == len(records)
    column = frame["other_iou"].to_list()
    assert [row["other_iou"] for row in records] == [None if x is None or x != x else x for x in column]


def test_the_in_memory_metric_keeps_the_same_records(data) -> None:
    gt_json, pred_json, results, pairs, categories = data
    gt_folder, pred_folder = gt_json.with_suffix(""), pred_json.with_suffix("")
    metric = PanopticQuality(categories, per_image=True, per_segment=True)
    half = PanopticQuality(categories, per_image=True, per_segment=True)
    for position, (gt, pred) in enumerate(pairs):
        target = read_id_map(gt_folder / gt["file_name"])
        preds = read_id_map(pred_folder / pred["file_name"])
        chosen = metric if position < len(pairs) // 2 else half
        chosen.update(
            preds,
            target,
            preds_segments_info=pred["segments_info"],
            target_segments_info=gt["segments_info"],
            image_ids=gt["image_id"],
        )
    restored = PanopticQuality.from_state_dict(json.loads(json.dumps(half.state_dict())))
    result = metric.merge(restored).compute()
    assert list(result.segments) == list(results["segments"])
    assert result.segments.fields == SEGMENT_FIELDS
    assert result.per_image_records() == list(results["per_image"])
    metric.reset()
    assert metric.compute().segments == []


def test_the_metrics_records_need_id_maps_and_panopticapis_rules(data) -> None:
    categories = data[4]
    with pytest.raises(ValueError, match="not available with rules='torchmetrics'"):
        PanopticQuality(categories, rules="torchmetrics", per_segment=True)
    metric = PanopticQuality(categories, per_segment=True)
    pairs = np.zeros((1, 4, 4, 2), dtype=np.int64)
    with pytest.raises(ValueError, match="per_segment=True needs id maps with segments_info"):
        metric.update(pairs, pairs)
    assert PanopticQuality(categories).compute().segments is None
