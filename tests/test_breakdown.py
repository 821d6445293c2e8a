"""The error breakdown (``error_breakdown=True``) against the numpy oracle of
``tests/reference_breakdown.py``, written from ``docs/reference/error-breakdown.md``: every
kind's counts exactly and its ΔPQ within 1e-12, on realistic images and on random ones, at two
matching thresholds; the same numbers through partials and the command line; refused where it
is not defined. (The document's worked examples are the Rust unit tests of eval/breakdown.rs.)"""

from __future__ import annotations

import json
import tempfile
import warnings
from pathlib import Path

import numpy as np
import pytest
import reference_breakdown as oracle
from hypothesis import HealthCheck, given, settings
from PIL import Image

from panoptiq import evaluation, partials, rgb2id, write_id_map
from panoptiq.cli import main as cli_main
from panoptiq.results import ERROR_KINDS
from panoptiq.synthetic import REALISTIC_GT_KINDS, REALISTIC_PRED_KINDS, make_dataset
from strategies import UNKNOWN_GT_CATEGORY, image_pairs


@pytest.fixture(scope="module")
def small(tmp_path_factory: pytest.TempPathFactory):
    folder = tmp_path_factory.mktemp("breakdown")
    return make_dataset(
        folder, 12, seed=8, size=(120, 160), gt_kinds=REALISTIC_GT_KINDS, pred_kinds=REALISTIC_PRED_KINDS
    )


def expected(images, isthing, threshold):
    """Every kind's FN, FP and ΔPQ (All, Things, Stuff) from the oracle, image by image."""
    base: dict = {}
    fixed = [{} for _ in oracle.KINDS]
    counts = {kind: {"fn": 0, "fp": 0} for kind in oracle.KINDS}
    for gt_ids, gt_segments, pred_ids, pred_segments in images:
        stats, tables, causes = oracle.image(gt_ids, gt_segments, pred_ids, pred_segments, threshold)
        oracle.add(base, stats)
        for total, table in zip(fixed, tables, strict=True):
            oracle.add(total, table)
        for side, cause in causes:
            counts[cause]["fn" if side == "gt" else "fp"] += 1
    result = {}
    for kind, total in zip(oracle.KINDS, fixed, strict=True):
        result[kind] = {
            **counts[kind],
            **{
                split: oracle.pq(total, isthing, t) - oracle.pq(base, isthing, t)
                for split, t in (("All", None), ("Things", True), ("Stuff", False))
            },
        }
    return result


def read(gt_json: Path, pred_json: Path):
    gt, pred = json.loads(gt_json.read_text()), json.loads(pred_json.read_text())
    by_id = {a["image_id"]: a for a in pred["annotations"]}
    images = []
    for a in gt["annotations"]:
        p = by_id[a["image_id"]]
        gt_ids = rgb2id(np.array(Image.open(gt_json.with_suffix("") / a["file_name"]).convert("RGB")))
        pred_ids = rgb2id(np.array(Image.open(pred_json.with_suffix("") / p["file_name"]).convert("RGB")))
        images.append((gt_ids, a["segments_info"], pred_ids, p["segments_info"]))
    return images, {c["id"]: c["isthing"] == 1 for c in gt["categories"]}


def check(got: dict, want: dict) -> None:
    assert list(got) == list(ERROR_KINDS)
    for kind, entry in want.items():
        if kind != "mask_quality":
            assert (got[kind]["fn"], got[kind]["fp"]) == (entry["fn"], entry["fp"]), kind
        for split in ("All", "Things", "Stuff"):
            assert got[kind][split] == pytest.approx(entry[split], abs=1e-12), (kind, split)


@pytest.mark.parametrize("threshold", [None, 0.65])
def test_realistic_images_equal_the_oracle(small, threshold) -> None:
    gt_json, pred_json = small
    got = evaluation.pq_compute(
        str(gt_json), str(pred_json), verbose=False, error_breakdown=True, iou_threshold=threshold
    )["error_breakdown"]
    images, isthing = read(gt_json, pred_json)
    want = expected(images, isthing, threshold or 0.5)
    check(got, want)
    # Every cause occurs in these images: no kind passes by being empty.
    assert all(want[kind]["fn"] + want[kind]["fp"] > 0 for kind in oracle.KINDS[:-1])
    # Every false negative and false positive has exactly one cause.
    plain = evaluation.pq_compute(str(gt_json), str(pred_json), verbose=False, per_image=True, iou_threshold=threshold)
    fates = [s["fate"] for s in plain["segments"]]
    assert sum(e["fn"] for e in got.values()) == fates.count("fn")
    assert sum(e["fp"] for e in got.values()) == fates.count("fp")
    # The breakdown leaves the result itself alone.
    scores = evaluation.pq_compute(str(gt_json), str(pred_json), verbose=False, iou_threshold=threshold)
    with_breakdown = evaluation.pq_compute(
        str(gt_json), str(pred_json), verbose=False, error_breakdown=True, iou_threshold=threshold
    )
    assert {k: v for k, v in with_breakdown.items() if k != "error_breakdown"} == scores
    # Per class: the class's PQ gain, fixing mask quality gives RQ - PQ.
    for c, gain in got["mask_quality"]["per_class"].items():
        assert gain == pytest.approx(scores["per_class"][c]["rq"] - scores["per_class"][c]["pq"], abs=1e-12)


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(image_pairs(max_side=12))
def test_random_images_equal_the_oracle(pair) -> None:
    for s in pair.gt_segments:
        if s["category_id"] == UNKNOWN_GT_CATEGORY:
            s["category_id"] = 1
    with tempfile.TemporaryDirectory() as folder:
        root = Path(folder)
        (root / "gt").mkdir()
        (root / "pred").mkdir()
        write_id_map(root / "gt" / "1.png", pair.gt_ids)
        write_id_map(root / "pred" / "1.png", pair.pred_ids)
        categories = list(pair.categories.values())
        gt = {"annotations": [{"image_id": 1, "file_name": "1.png", "segments_info": pair.gt_segments}]}
        pred = {"annotations": [{"image_id": 1, "file_name": "1.png", "segments_info": pair.pred_segments}]}
        (root / "gt.json").write_text(json.dumps({**gt, "categories": categories}))
        (root / "pred.json").write_text(json.dumps(pred))
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", RuntimeWarning)  # a split with no category counted
                got = evaluation.pq_compute(
                    str(root / "gt.json"), str(root / "pred.json"), verbose=False, error_breakdown=True
                )
        except (ValueError, KeyError):
            return  # input panopticapi's rules refuse (a JSON area below its pixels, say)
    isthing = {c["id"]: c["isthing"] == 1 for c in categories}
    images = [(pair.gt_ids, pair.gt_segments, pair.pred_ids, pair.pred_segments)]
    check(got["error_breakdown"], expected(images, isthing, 0.5))


def test_partials_and_the_command_line_give_the_same_breakdown(small, tmp_path: Path, capsys) -> None:
    gt_json, pred_json = small
    local = evaluation.pq_compute(str(gt_json), str(pred_json), verbose=False, error_breakdown=True)
    plan = partials.plan(str(gt_json), str(pred_json), partition_size=5, error_breakdown=True)
    results = [partials.Partial.from_bytes(partials.evaluate(part)) for part in plan]
    assert len(results) == 3
    merged = plan.evaluation(results)
    assert merged.error_breakdown() == local["error_breakdown"]
    out = tmp_path / "r.json"
    assert (
        cli_main(["eval", str(gt_json), str(pred_json), "--error-breakdown", "--json", str(out), "--no-progress"]) == 0
    )
    printed = capsys.readouterr().out
    assert "poor localisation" in printed
    assert f"{100 * local['error_breakdown']['split']['All']:+6.1f}" in printed
    written = json.loads(out.read_text())["error_breakdown"]
    assert written["merge"]["fn"] == local["error_breakdown"]["merge"]["fn"]
    assert written["split"]["All"] == local["error_breakdown"]["split"]["All"]


def test_undefined_breakdowns_are_refused(small, capsys) -> None:
    gt_json, pred_json = small
    with pytest.raises(ValueError, match="error_breakdown is defined for mask IoU only"):
        evaluation.pq_compute(str(gt_json), str(pred_json), verbose=False, error_breakdown=True, iou_type="boundary")
    assert cli_main(["eval", str(gt_json), str(pred_json), "--error-breakdown", "--iou-type", "boundary"]) == 1
    assert "--error-breakdown is defined for mask IoU only" in capsys.readouterr().err


def test_every_error_record_carries_its_cause(small) -> None:
    gt_json, pred_json = small
    result = evaluation.pq_compute(str(gt_json), str(pred_json), verbose=False, error_breakdown=True, per_image=True)
    segments = list(result["segments"])
    counted = {kind: {"fn": 0, "fp": 0} for kind in ERROR_KINDS}
    for s in segments:
        if s["fate"] in ("fn", "fp"):
            assert s["cause"] in ERROR_KINDS[:-1]
            counted[s["cause"]][s["fate"]] += 1
        else:
            assert s["cause"] is None
    for kind, entry in result["error_breakdown"].items():
        assert counted[kind] == {"fn": entry["fn"], "fp": entry["fp"]}
    # A wrong class lies on a segment of another category, a merge or split on one of its own.
    for s in segments:
        if s["cause"] == "wrong_class":
            assert s["other_category_id"] != s["category_id"]
            assert s["other_iou"] > 0.5
    # Without the breakdown, the field is there and None.
    plain = evaluation.pq_compute(str(gt_json), str(pred_json), verbose=False, per_image=True)
    assert all(s["cause"] is None for s in plain["segments"])
    # The oracle gives every segment the same cause, image by image.
    images, _ = read(gt_json, pred_json)
    gt = json.loads(gt_json.read_text())
    by_image: dict = {}
    for s in segments:
        if s["cause"] is not None:
            by_image.setdefault(s["image_id"], []).append((s["side"], s["cause"]))
    for annotation, (gt_ids, gt_segments, pred_ids, pred_segments) in zip(gt["annotations"], images, strict=True):
        _, _, causes = oracle.image(gt_ids, gt_segments, pred_ids, pred_segments)
        assert sorted(by_image.get(str(annotation["image_id"]), [])) == sorted(causes)
