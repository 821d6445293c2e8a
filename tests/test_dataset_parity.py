"""pq_compute on whole datasets equals panopticapi's: counts exactly, floats within 1e-12.

The datasets are made by panoptiq.synthetic from the real COCO sample: every ground-truth kind
(plain, cropped, flipped, upscaled, VOID bands, crowd regions, thousands of tiny segments) meets
every prediction kind (perturbed, shifted, wrong classes, split and merged, spurious blobs,
perfect, empty, RGBA), and a large-image dataset adds 2000 x 3000 pairs.
"""

from __future__ import annotations

import contextlib
import io
import json
import math
import os
from pathlib import Path

import pytest
from panopticapi import evaluation as panopticapi

import panoptiq
from panoptiq import evaluation
from panoptiq._dataset import load_dataset
from panoptiq.synthetic import GT_KINDS, PRED_KINDS, make_dataset

# panopticapi never closes its multiprocessing pool; the warning that leaves is its, not ours.
pytestmark = [
    pytest.mark.filterwarnings("ignore:Exception ignored in.*Pool.__del__:pytest.PytestUnraisableExceptionWarning"),
    pytest.mark.filterwarnings("ignore:unclosed running multiprocessing pool:ResourceWarning"),
]

# Every ground-truth kind meets every prediction kind.
COMBINATIONS = len(GT_KINDS) * len(PRED_KINDS)


def quiet(function, *args, **kwargs):
    with contextlib.redirect_stdout(io.StringIO()) as out:
        result = function(*args, **kwargs)
    return result, out.getvalue()


@pytest.fixture(scope="module", params=["mixed", "large"])
def dataset(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory):
    folder = tmp_path_factory.mktemp(request.param)
    if request.param == "mixed":
        gt_json, pred_json = make_dataset(folder, COMBINATIONS, seed=7)
    else:
        gt_json, pred_json = make_dataset(
            folder, 3, seed=11, size=(2000, 3000), gt_kinds=("sample", "crowd"), pred_kinds=("perturbed", "rgba")
        )
    theirs, printed = quiet(panopticapi.pq_compute, str(gt_json), str(pred_json))
    return gt_json, pred_json, theirs, printed


def matched_pairs(gt_json: Path, pred_json: Path):
    gt, pred = json.loads(gt_json.read_text()), json.loads(pred_json.read_text())
    by_id = {a["image_id"]: a for a in pred["annotations"]}
    categories = {c["id"]: c for c in gt["categories"]}
    return [(a, by_id[a["image_id"]]) for a in gt["annotations"]], categories


def assert_close(ours: dict, theirs: dict) -> None:
    assert list(ours) == list(theirs) == ["All", "per_class", "Things", "Stuff"]
    for name in ("All", "Things", "Stuff"):
        assert ours[name]["n"] == theirs[name]["n"]
        for metric in ("pq", "sq", "rq"):
            assert math.isclose(ours[name][metric], theirs[name][metric], rel_tol=0, abs_tol=1e-12)
    assert list(ours["per_class"]) == list(theirs["per_class"])
    for category, scores in theirs["per_class"].items():
        for metric in ("pq", "sq", "rq"):
            assert math.isclose(ours["per_class"][category][metric], scores[metric], rel_tol=0, abs_tol=1e-12)


def test_pq_compute_equals_panopticapi(dataset) -> None:
    gt_json, pred_json, theirs, _ = dataset
    ours, _ = quiet(evaluation.pq_compute, str(gt_json), str(pred_json))
    assert_close(ours, theirs)
    assert ours["All"]["n"] > 0
    assert 0 < ours["All"]["pq"] < 1


def test_counts_are_exact_and_sums_within_1e12_of_single_core(dataset) -> None:
    gt_json, pred_json, _, _ = dataset
    pairs, categories = matched_pairs(gt_json, pred_json)
    gt_folder, pred_folder = str(gt_json)[:-5], str(pred_json)[:-5]
    # panopticapi in one process adds IoUs image after image in floats; panoptiq sums them
    # exactly and rounds once, so the two agree to rounding (METRIC.md: within 1e-12).
    theirs, _ = quiet(panopticapi.pq_compute_single_core, 0, pairs, gt_folder, pred_folder, categories)
    pairs, _ = matched_pairs(gt_json, pred_json)  # panopticapi wrote areas into its copies
    touched = set(theirs.pq_per_cat)  # before pq_average, which adds every category
    for threads in (1, 2, 3):
        ours = evaluation.pq_compute_single_core(
            0, pairs, gt_folder, pred_folder, categories, num_threads=threads, verbose=False
        )
        assert set(ours.pq_per_cat) == touched
        for category, s in theirs.pq_per_cat.items():
            o = ours[category]
            assert (o.tp, o.fp, o.fn) == (s.tp, s.fp, s.fn)
            assert math.isclose(o.iou, s.iou, rel_tol=1e-12, abs_tol=1e-12)


def test_sums_are_the_correctly_rounded_sums_of_panopticapis_ious(dataset) -> None:
    """Summed per image by panopticapi, the IoUs are exact only when an image holds one match of
    a category; fsum over single-image evaluations of such images pins the exact sum."""
    gt_json, pred_json, _, _ = dataset
    pairs, categories = matched_pairs(gt_json, pred_json)
    gt_folder, pred_folder = str(gt_json)[:-5], str(pred_json)[:-5]
    per_image = [
        quiet(panopticapi.pq_compute_single_core, 0, [pair], gt_folder, pred_folder, categories)[0] for pair in pairs
    ]
    pairs, _ = matched_pairs(gt_json, pred_json)
    ours = evaluation.pq_compute_single_core(0, pairs, gt_folder, pred_folder, categories, verbose=False)
    checked = 0
    for category in categories:
        stats = [image.pq_per_cat[category] for image in per_image if category in image.pq_per_cat]
        if stats and all(s.tp <= 1 for s in stats):
            assert ours[category].iou == math.fsum(s.iou for s in stats)
            checked += 1
    assert checked > 0


def test_results_are_bit_identical_across_thread_counts(dataset) -> None:
    gt_json, pred_json, _, _ = dataset
    runs = [
        evaluation.pq_compute(str(gt_json), str(pred_json), num_threads=n, verbose=False) for n in (1, 2, 3, 4, None)
    ]
    assert all(run == runs[0] for run in runs)


def test_progress_batches_do_not_change_the_sums(dataset) -> None:
    gt_json, pred_json, _, _ = dataset
    calls: list[tuple[int, int]] = []
    with_progress = evaluation.pq_compute(
        str(gt_json), str(pred_json), verbose=False, progress=lambda done, total: calls.append((done, total))
    )
    assert with_progress == evaluation.pq_compute(str(gt_json), str(pred_json), verbose=False)
    assert calls
    assert calls[-1][0] == calls[-1][1]


def test_printed_table_equals_panopticapi(dataset) -> None:
    gt_json, pred_json, _, printed = dataset
    _, ours = quiet(evaluation.pq_compute, str(gt_json), str(pred_json))

    def table(text: str) -> list[str]:
        lines = text.splitlines()
        start = next(i for i, line in enumerate(lines) if line.strip().startswith("|"))
        return lines[start : start + 5]

    def header(text: str) -> list[str]:
        return text.splitlines()[:7]

    assert table(ours) == table(printed)
    assert header(ours) == header(printed)


def test_explicit_folders_and_verbose_false(dataset, capsys: pytest.CaptureFixture) -> None:
    gt_json, pred_json, theirs, _ = dataset
    moved = Path(str(gt_json.parent) + "-moved")
    if not moved.exists():
        moved.mkdir()
        for side in ("gt", "pred"):
            os.symlink(gt_json.parent / side, moved / f"{side}_pngs")
    ours = panoptiq.pq_compute(
        str(gt_json), str(pred_json), str(moved / "gt_pngs"), str(moved / "pred_pngs"), verbose=False
    )
    assert capsys.readouterr().out == ""
    assert_close(ours, theirs)


def test_rust_and_python_json_readers_agree(dataset, tmp_path: Path) -> None:
    """Strict COCO JSON is read in Rust; the same data in a looser form panopticapi also takes
    (integral float areas, string image ids) goes through the Python reader, with the same result."""
    gt_json, pred_json, theirs, _ = dataset
    strict = load_dataset(str(gt_json), str(pred_json))
    assert strict.strict  # read by the Rust reader
    assert len(strict) == len(json.loads(gt_json.read_text())["annotations"])

    gt, pred = json.loads(gt_json.read_text()), json.loads(pred_json.read_text())
    for annotation in gt["annotations"]:
        annotation["image_id"] = f"img-{annotation['image_id']}"
        for segment in annotation["segments_info"]:
            segment["area"] = float(segment["area"])
    for annotation in pred["annotations"]:
        annotation["image_id"] = f"img-{annotation['image_id']}"
    loose_gt, loose_pred = tmp_path / "gt.json", tmp_path / "pred.json"
    loose_gt.write_text(json.dumps(gt))
    loose_pred.write_text(json.dumps(pred))
    folders = str(gt_json)[:-5], str(pred_json)[:-5]
    loose = load_dataset(str(loose_gt), str(loose_pred), *folders)
    assert not loose.strict  # read by the Python reader

    ours = evaluation.pq_compute(str(gt_json), str(pred_json), verbose=False)
    assert evaluation.pq_compute(str(loose_gt), str(loose_pred), *folders, verbose=False) == ours
    assert_close(ours, theirs)
