"""panoptiq.compare and `panoptiq compare`: each set's result equals pq_compute's on it, the
differences are the results' differences, and the paired intervals are those of a paired
bootstrap written here from the per-image sums (numpy, one resample at a time)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from compare_data import write_sets

import panoptiq
from panoptiq.cli import main
from panoptiq.evaluation import pq_compute
from panoptiq.report import write_comparison_report


@pytest.fixture(scope="module")
def sets(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[Path]]:
    return write_sets(tmp_path_factory.mktemp("compare"))


def test_each_set_is_what_pq_compute_gives(sets: tuple[Path, list[Path]]) -> None:
    gt_json, preds = sets
    results = panoptiq.compare(gt_json, preds, bootstrap=200, size_edges="coco")
    assert len(results) == len(preds)
    for pred_json, result in zip(preds, results, strict=True):
        alone = pq_compute(str(gt_json), str(pred_json), verbose=False, bootstrap=200, size_edges="coco")
        assert {k: v for k, v in result.items() if k != "comparison"} == alone
    assert "comparison" not in results[0]
    # The sets differ: the comparison has something to say.
    assert len({round(r["All"]["pq"], 9) for r in results}) == len(preds)


def test_differences_are_the_results_differences(sets: tuple[Path, list[Path]]) -> None:
    gt_json, preds = sets
    results = panoptiq.compare(gt_json, preds, bootstrap=None)
    for result in results[1:]:
        comparison = result["comparison"]
        assert comparison["against"] == 0
        for split in ("All", "Things", "Stuff"):
            for metric in ("pq", "sq", "rq"):
                entry = comparison[split][metric]
                assert entry["delta"] == result[split][metric] - results[0][split][metric]
                assert entry["interval"] is None
                assert entry["p_improvement"] is None
        for c, scores in result["per_class"].items():
            assert comparison["per_class"][c]["pq"]["delta"] == scores["pq"] - results[0]["per_class"][c]["pq"]


def _paired_reference(rows: list[dict], other: list[dict], resamples: int, seed: int, level: float):
    """A paired bootstrap of All's PQ difference from per-image per-class sums, written from the
    definition: each resample draws images with replacement (numpy's generator, as panoptiq
    documents its draws), sums each class, averages over the classes counted."""
    rng = np.random.default_rng(seed)
    images = len(rows)
    blocks = []
    done = 0
    # panoptiq draws a block of resamples at a time, each row `images` integers: the same
    # stream of integers, consumed in the same order.
    while done < resamples:
        block = min(resamples - done, max(1, (1 << 24) // max(images, 1)))
        blocks.append(rng.integers(0, images, size=(block, images)))
        done += block
    draws = np.concatenate(blocks)

    def pq(table: list[dict], drawn: np.ndarray) -> float:
        totals: dict[int, np.ndarray] = {}
        for i in drawn:
            for c, sums in table[i].items():
                totals[c] = totals.get(c, np.zeros(4)) + sums
        scores = [t[0] / (t[1] + 0.5 * t[2] + 0.5 * t[3]) for t in totals.values() if t[1:].sum() > 0]
        return float(np.mean(scores)) if scores else float("nan")

    differences = np.array([pq(other, d) - pq(rows, d) for d in draws])
    valid = differences[~np.isnan(differences)]
    low, high = np.percentile(valid, [50 * (1 - level), 50 * (1 + level)])
    return (float(low), float(high)), float(np.mean(valid > 0))


def _per_image_sums(gt_json: Path, pred_json: Path) -> list[dict]:
    """Every image's per-class (IoU sum, TP, FP, FN), from panopticapi's own single-image code."""
    pytest.importorskip("panopticapi", reason="the paired-bootstrap reference sums panopticapi's per-image stats")
    from panopticapi.evaluation import pq_compute_single_core

    gt = json.loads(gt_json.read_text())
    pred = {a["image_id"]: a for a in json.loads(pred_json.read_text())["annotations"]}
    categories = {c["id"]: c for c in gt["categories"]}
    rows = []
    for annotation in gt["annotations"]:
        stat = pq_compute_single_core(
            0,
            [(annotation, pred[annotation["image_id"]])],
            str(gt_json.with_suffix("")),
            str(pred_json.with_suffix("")),
            categories,
        )
        rows.append(
            {
                c: np.array([s.iou, s.tp, s.fp, s.fn], dtype=np.float64)
                for c, s in stat.pq_per_cat.items()
                if s.tp + s.fp + s.fn > 0
            }
        )
    return rows


def test_paired_intervals_match_a_paired_bootstrap_from_the_definition(sets: tuple[Path, list[Path]]) -> None:
    gt_json, preds = sets
    results = panoptiq.compare(gt_json, preds[:3], bootstrap=300, bootstrap_seed=7, confidence=0.9)
    base = _per_image_sums(gt_json, preds[0])
    for k in (1, 2):
        interval, p = _paired_reference(base, _per_image_sums(gt_json, preds[k]), 300, 7, 0.9)
        entry = results[k]["comparison"]["All"]["pq"]
        assert entry["interval"] == pytest.approx(interval, abs=1e-12)
        assert entry["p_improvement"] == pytest.approx(p, abs=1e-12)


def test_options_reach_every_set(sets: tuple[Path, list[Path]]) -> None:
    gt_json, preds = sets
    options = {"iou_threshold": 0.7, "class_groups": None, "category_ids": [1, 2, 3, 17, 18, 44, 62, 118, 184]}
    results = panoptiq.compare(gt_json, preds[:2], bootstrap=None, **options)
    for pred_json, result in zip(preds[:2], results, strict=True):
        alone = pq_compute(str(gt_json), str(pred_json), verbose=False, **options)
        assert {k: v for k, v in result.items() if k != "comparison"} == alone


def test_bad_comparisons_are_refused(sets: tuple[Path, list[Path]], tmp_path: Path) -> None:
    gt_json, preds = sets
    with pytest.raises(ValueError, match="no prediction set"):
        panoptiq.compare(gt_json, [])
    with pytest.raises(ValueError, match="one entry per prediction set"):
        panoptiq.compare(gt_json, str(preds[0]))
    with pytest.raises(ValueError, match="pred_folders has 1 folders for 2 prediction sets"):
        panoptiq.compare(gt_json, preds[:2], pred_folders=[None])
    # A set that lacks a ground-truth image: named, with the image.
    data = json.loads(preds[1].read_text())
    missing = data["annotations"].pop(3)["image_id"]
    short = tmp_path / "short.json"
    short.write_text(json.dumps(data))
    with pytest.raises(panoptiq.MissingPredictionError, match=str(missing)):
        panoptiq.compare(gt_json, [preds[0], short], pred_folders=[None, preds[1].with_suffix("")])
    with pytest.raises(ValueError, match="iou_threshold"):
        panoptiq.compare(gt_json, preds[:2], iou_threshold=0.3)


def test_a_broken_prediction_png_names_its_set_and_image(sets: tuple[Path, list[Path]], tmp_path: Path) -> None:
    gt_json, preds = sets
    folder = tmp_path / "broken"
    folder.mkdir()
    annotations = json.loads(preds[2].read_text())["annotations"]
    for a in annotations:
        (folder / a["file_name"]).write_bytes((preds[2].with_suffix("") / a["file_name"]).read_bytes())
    victim = annotations[5]
    (folder / victim["file_name"]).write_bytes(b"not a png")
    with pytest.raises(ValueError, match=rf"image with ID {victim['image_id']}.*broken"):
        panoptiq.compare(gt_json, [preds[0], preds[2]], pred_folders=[None, folder])


def test_the_command_prints_the_sets_and_writes_json(
    sets: tuple[Path, list[Path]], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    gt_json, preds = sets
    out = tmp_path / "compare.json"
    args = ["compare", str(gt_json), *map(str, preds[:3]), "--bootstrap", "100", "--json", str(out), "--no-progress"]
    assert main(args) == 0
    printed = capsys.readouterr().out
    assert "(baseline)" in printed
    assert "P(better)" in printed
    written = json.loads(out.read_text())
    expected = panoptiq.compare(gt_json, preds[:3], bootstrap=100)
    assert [w["pred_json"] for w in written] == list(map(str, preds[:3]))
    for w, e in zip(written, expected, strict=True):
        assert w["All"] == e["All"]
        assert w["per_class"][str(1)] == e["per_class"][1]
    delta = written[1]["comparison"]["All"]["pq"]
    assert delta["interval"] == list(expected[1]["comparison"]["All"]["pq"]["interval"])
    assert f"{100 * delta['delta']:+6.1f}" in printed
    assert main(["compare", str(gt_json), *map(str, preds[:2]), "--pred-folder", "x"]) == 1
    assert "--pred-folder given 1 times for 2 prediction sets" in capsys.readouterr().err


def test_the_comparison_page_shows_the_results(sets: tuple[Path, list[Path]], tmp_path: Path) -> None:
    gt_json, preds = sets
    report = write_comparison_report(str(gt_json), list(map(str, preds)), out=tmp_path / "page", most=3, bootstrap=150)
    html = report.page.read_text()
    expected = panoptiq.compare(gt_json, preds, bootstrap=150, per_image=True, error_breakdown=True)
    for got, want in zip(report.results, expected, strict=True):
        assert {k: v for k, v in got.items() if k not in ("per_image", "segments")} == {
            k: v for k, v in want.items() if k not in ("per_image", "segments")
        }
    summary = html[html.index('id="compare-summary"') : html.index("</table>", html.index('id="compare-summary"'))]
    for k, (name, result) in enumerate(zip(preds, expected, strict=True)):
        assert f"<td>{100 * result['All']['pq']:.1f}</td>" in summary
        assert name.name in summary
        if k:
            assert f"<td>{100 * result['comparison']['All']['pq']['delta']:+.1f}</td>" in summary
    # Each later set's tab shows the images whose PQ moved most, largest move first.
    base = list(expected[0]["per_image"])
    for k in range(1, len(preds)):
        other = list(expected[k]["per_image"])
        # The page's rule: an image with nothing counted scores 1; ties go to the earlier image.
        score = [[r["pq"] if r["n"] else 1.0 for r in rows] for rows in (base, other)]
        moves = [(i, score[1][i] - score[0][i]) for i in range(len(base)) if score[1][i] != score[0][i]]
        moves.sort(key=lambda m: (-abs(m[0 + 1]), m[0]))
        panel = html[html.index(f'id="differ-{k}"') :]
        first = panel.index('<div class="meta">')
        assert panel[first:].startswith(f'<div class="meta">image <b>{base[moves[0][0]]["image_id"]}</b>')
        assert f"({100 * moves[0][1]:+.1f})" in panel[first : first + 300]
        drawn = sorted((report.folder / "images").glob(f"set{k}-*.png"))
        assert len(drawn) == 3
    assert sorted((report.folder / "images").glob("set0-*.png"))
    # Every class some set counts has a row; its first PQ cell is the baseline's.
    table = html[html.index('id="compare-classes"') :]
    for c, scores in expected[0]["per_class"].items():
        if f'<td data-v="{c}">{c}</td>' in table:
            row = table[table.index(f'<td data-v="{c}">{c}</td>') :]
            assert f'<td data-v="{scores["pq"]!r}">' in row[: row.index("</tr>")]


def test_the_command_writes_the_page(sets: tuple[Path, list[Path]], tmp_path: Path, capsys) -> None:
    gt_json, preds = sets
    out = tmp_path / "cmp"
    args = ["compare", str(gt_json), *map(str, preds[:2]), "--bootstrap", "50", "--report", str(out), "--most", "2"]
    assert main([*args, "--no-progress"]) == 0
    assert "Comparison page written to" in capsys.readouterr().out
    assert (out / "index.html").is_file()
    assert len(list((out / "images").iterdir())) >= 2
    assert main([*args, "--no-progress"]) == 1
    assert "exists" in capsys.readouterr().err


def test_each_sets_error_breakdown_is_its_own(sets: tuple[Path, list[Path]], tmp_path: Path) -> None:
    gt_json, preds = sets
    results = panoptiq.compare(gt_json, preds[:3], bootstrap=None, error_breakdown=True, per_image=True)
    for pred_json, result in zip(preds[:3], results, strict=True):
        alone = pq_compute(str(gt_json), str(pred_json), verbose=False, error_breakdown=True, per_image=True)
        assert result["error_breakdown"] == alone["error_breakdown"]
        assert list(result["segments"]) == list(alone["segments"])
    report = write_comparison_report(
        str(gt_json), list(map(str, preds[:3])), out=tmp_path / "p", most=1, bootstrap=None
    )
    html = report.page.read_text()
    table = html[html.index('id="compare-breakdown"') : html.index("</table>", html.index('id="compare-breakdown"'))]
    for result in results:
        entry = result["error_breakdown"]["split"]
        assert f"<td>{entry['fn'] + entry['fp']}</td><td>{100 * entry['All']:+.1f}</td>" in table
