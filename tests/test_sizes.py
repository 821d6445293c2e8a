"""PQ per object size (``size_edges``) against the numpy oracle of ``tests/reference.py``, which
counts a slice's share from the definition: a match or a miss in its ground-truth segment's
slice (JSON area), a false positive in its pixel area's, slices half-open with an edge in the
upper one. The slices add up to the totals; they travel through partials, the cluster and the
command line; bad edges are ValueErrors naming ``size_edges``.
"""

from __future__ import annotations

import json
import math
from collections import defaultdict
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

import reference
from panoptiq import evaluation, partials, rgb2id
from panoptiq.cli import main as cli_main
from panoptiq.results import COCO_SIZE_EDGES, size_slices
from panoptiq.synthetic import REALISTIC_GT_KINDS, REALISTIC_PRED_KINDS, make_dataset


def ours(gt_json: Path, pred_json: Path, **options):
    return evaluation.pq_compute(str(gt_json), str(pred_json), verbose=False, **options)


@pytest.fixture(scope="module")
def small(tmp_path_factory: pytest.TempPathFactory):
    """Small images of realistic kinds (the oracle compares every pair of masks), their segments
    spread over COCO's three slices."""
    folder = tmp_path_factory.mktemp("sizes")
    return make_dataset(
        folder, 12, seed=21, size=(180, 240), gt_kinds=REALISTIC_GT_KINDS, pred_kinds=REALISTIC_PRED_KINDS
    )


def oracle_sizes(gt_json: Path, pred_json: Path, edges) -> dict:
    """Every slice's All / Things / Stuff and per-class scores, image by image from the oracle."""
    gt, pred = json.loads(gt_json.read_text()), json.loads(pred_json.read_text())
    categories = {c["id"]: c for c in gt["categories"]}
    by_id = {a["image_id"]: a for a in pred["annotations"]}
    maps = []
    for a in gt["annotations"]:
        p = by_id[a["image_id"]]
        gt_ids = rgb2id(np.array(Image.open(Path(str(gt_json)[:-5]) / a["file_name"]).convert("RGB")))
        pred_ids = rgb2id(np.array(Image.open(Path(str(pred_json)[:-5]) / p["file_name"]).convert("RGB")))
        maps.append((gt_ids, a["segments_info"], pred_ids, p["segments_info"]))
    result = {}
    for name, low, high in size_slices(edges):
        totals: dict[int, list[float]] = defaultdict(lambda: [0.0, 0, 0, 0])
        ious: dict[int, list[float]] = defaultdict(list)
        for gt_ids, gt_segments, pred_ids, pred_segments in maps:
            stats = reference.evaluate(gt_ids, gt_segments, pred_ids, pred_segments, categories, size_slice=(low, high))
            for c, (iou, tp, fp, fn) in stats.items():
                ious[c].append(iou)
                totals[c][1:] = [totals[c][1] + tp, totals[c][2] + fp, totals[c][3] + fn]
        for c, values in ious.items():
            totals[c][0] = math.fsum(values)
        scores = {}
        for split, isthing in (("All", None), ("Things", True), ("Stuff", False)):
            scores[split], per_class = reference.average(totals, categories, isthing)
            if isthing is None:
                scores["per_class"] = per_class
        result[name] = scores
    return result


def segment_areas(gt_json: Path) -> list[int]:
    return [s["area"] for a in json.loads(gt_json.read_text())["annotations"] for s in a["segments_info"]]


@pytest.mark.parametrize("edges", ["coco", (64, 512, 4096, 20000), (100,)])
def test_size_slices_equal_the_numpy_oracle(small, edges) -> None:
    gt_json, pred_json = small
    mine = ours(gt_json, pred_json, size_edges=edges)
    expected = oracle_sizes(gt_json, pred_json, COCO_SIZE_EDGES if edges == "coco" else edges)
    assert list(mine["sizes"]) == list(expected)
    counted = 0
    for name, scores in expected.items():
        got = mine["sizes"][name]
        for split in ("All", "Things", "Stuff"):
            assert got[split]["n"] == scores[split]["n"], (name, split)
            for metric in ("pq", "sq", "rq"):
                assert math.isclose(got[split][metric], scores[split][metric], rel_tol=0, abs_tol=1e-12)
        for c, per_class in scores["per_class"].items():
            assert got["per_class"][c] == pytest.approx(per_class, abs=1e-12), (name, c)
        counted += scores["All"]["n"] > 0
    # The data spreads over the slices: no test passes on empty slices alone.
    assert counted >= 2
    # The totals are those of an evaluation without slices.
    plain = ours(gt_json, pred_json)
    assert {k: mine[k] for k in plain} == plain


def test_slices_add_up_to_the_totals_and_an_edge_area_goes_up(small) -> None:
    gt_json, pred_json = small
    areas = sorted(segment_areas(gt_json))
    edge = areas[len(areas) // 2]  # the area of a real segment: it sits exactly on the edge
    results = ours(gt_json, pred_json, size_edges=[edge], per_image=True)
    assert [s["range"] for s in results["sizes"].values()] == [[0, edge], [edge, None]]
    assert list(results["sizes"]) == [f"[0, {edge})", f"[{edge}, inf)"]
    segments = list(results["segments"])
    on_edge = [s for s in segments if s["side"] == "gt" and s["area"] == edge and s["fate"] in ("tp", "fn")]
    assert on_edge
    expected = oracle_sizes(gt_json, pred_json, [edge])
    for c in {s["category_id"] for s in on_edge}:
        lower = expected[f"[0, {edge})"]["per_class"][c]
        upper = expected[f"[{edge}, inf)"]["per_class"][c]
        assert results["sizes"][f"[{edge}, inf)"]["per_class"][c] == pytest.approx(upper, abs=1e-12)
        assert results["sizes"][f"[0, {edge})"]["per_class"][c] == pytest.approx(lower, abs=1e-12)
    # Per slice TP / FP / FN counts add up to the segments' fates.
    per_slice = evaluation_counts(gt_json, pred_json, [edge])
    fates = defaultdict(int)
    for s in segments:
        fates[s["fate"]] += 1
    assert sum(c["tp"] for c in per_slice) == fates["tp"] // 2  # each match has two records
    assert sum(c["fn"] for c in per_slice) == fates["fn"]
    assert sum(c["fp"] for c in per_slice) == fates["fp"]


def evaluation_counts(gt_json: Path, pred_json: Path, edges) -> list[dict[str, int]]:
    """Every slice's TP / FP / FN, summed over classes, from a partial result's exact rows."""
    plan = partials.plan(str(gt_json), str(pred_json), partition_size=5, size_edges=edges)
    results = [partials.Partial.from_bytes(partials.evaluate(part)) for part in plan]
    counts = []
    for k in range(len(edges) + 1):
        rows = [row for r in results for row in (r.sizes or ())[k]] if all(r.sizes for r in results) else []
        counts.append({"tp": sum(r[2] for r in rows), "fp": sum(r[3] for r in rows), "fn": sum(r[4] for r in rows)})
    return counts


def test_partials_carry_the_slices_and_refuse_other_edges(small) -> None:
    gt_json, pred_json = small
    plan = partials.plan(str(gt_json), str(pred_json), partition_size=5, size_edges="coco")
    results = [partials.evaluate(part) for part in plan]
    assert json.loads(results[0])["rules"]["size_edges"] == list(COCO_SIZE_EDGES)
    assert plan.combine(results) == ours(gt_json, pred_json, size_edges="coco")
    other = partials.plan(str(gt_json), str(pred_json), partition_size=5, size_edges=[10])
    with pytest.raises(ValueError, match="scored under other evaluation options"):
        other.combine(results)


@pytest.mark.parametrize(
    ("edges", "message"),
    [
        ([0, 10], r"size_edges: 0 is not an area above 0"),
        ([10, 10], r"size_edges must be strictly increasing"),
        ([10, 5], r"size_edges must be strictly increasing"),
        ([], r"size_edges must be strictly increasing and not empty"),
        ([1.5], r"size_edges: 1.5 is not an area"),
        ("big", r'size_edges must be "coco" or increasing areas'),
        (32, r'size_edges must be "coco" or an iterable'),
    ],
)
def test_bad_edges_name_the_argument(small, edges, message: str) -> None:
    gt_json, pred_json = small
    with pytest.raises(ValueError, match=message):
        ours(gt_json, pred_json, size_edges=edges)


def test_command_line_prints_and_writes_the_slices(small, tmp_path: Path, capsys) -> None:
    gt_json, pred_json = small
    out = tmp_path / "results.json"
    assert cli_main(["eval", str(gt_json), str(pred_json), "--size-edges", "coco", "--json", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "small" in printed
    assert "[1024, 9216)" in printed
    written = json.loads(out.read_text())
    expected = ours(gt_json, pred_json, size_edges="coco")["sizes"]
    assert written["sizes"]["medium"]["All"] == expected["medium"]["All"]
    assert cli_main(["eval", str(gt_json), str(pred_json), "--size-edges", "5,3"]) == 1
    assert "--size-edges must be strictly increasing" in capsys.readouterr().err
