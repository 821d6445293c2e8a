"""Bootstrap intervals over images against panopticapi itself: every resample's PQ / SQ / RQ
equals panopticapi's ``pq_average`` of the per-image ``PQStat`` s of
``pq_compute_single_core``, each image added as many times as the resample drew it, and the
intervals are the percentiles of those values. Seeds reproduce; bad arguments name themselves;
the per-image sums travel through partials and the command line.
"""

from __future__ import annotations

import contextlib
import io
import json
import math
from pathlib import Path

import numpy as np
import pytest
from panopticapi import evaluation as panopticapi

from panoptiq import evaluation, partials
from panoptiq.cli import main as cli_main
from panoptiq.results import Bootstrap, resample_weights
from panoptiq.synthetic import make_dataset

pytestmark = [
    pytest.mark.filterwarnings("ignore:Exception ignored in.*Pool.__del__:pytest.PytestUnraisableExceptionWarning"),
    pytest.mark.filterwarnings("ignore:unclosed running multiprocessing pool:ResourceWarning"),
]

SPLITS = (("All", None), ("Things", True), ("Stuff", False))


def ours(gt_json: Path, pred_json: Path, **options):
    return evaluation.pq_compute(str(gt_json), str(pred_json), verbose=False, **options)


@pytest.fixture(scope="module")
def dataset(tmp_path_factory: pytest.TempPathFactory):
    return make_dataset(tmp_path_factory.mktemp("bootstrap"), 18, seed=11)


@pytest.fixture(scope="module")
def per_image_stats(dataset):
    """panopticapi's PQStat of every image, in the ground truth's order, and its categories."""
    gt_json, pred_json = dataset
    gt, pred = json.loads(gt_json.read_text()), json.loads(pred_json.read_text())
    categories = {c["id"]: c for c in gt["categories"]}
    by_id = {a["image_id"]: a for a in pred["annotations"]}
    stats = []
    for a in gt["annotations"]:
        with contextlib.redirect_stdout(io.StringIO()):
            stats.append(
                panopticapi.pq_compute_single_core(
                    0, [(a, by_id[a["image_id"]])], str(gt_json)[:-5], str(pred_json)[:-5], categories
                )
            )
    return stats, categories


def panopticapi_resample(stats, weights, categories):
    """panopticapi's averages of the images drawn with ``weights``; None for an empty split."""
    total = panopticapi.PQStat()
    for stat, w in zip(stats, weights, strict=True):
        for _ in range(int(w)):
            total += stat
    result = {}
    for name, isthing in SPLITS:
        try:
            result[name], per_class = total.pq_average(categories, isthing=isthing)
        except ZeroDivisionError:
            result[name], per_class = None, {}
        if isthing is None:
            result["per_class"] = per_class
            result["counted"] = {
                c for c in categories if total.pq_per_cat[c].tp + total.pq_per_cat[c].fp + total.pq_per_cat[c].fn
            }
    return result


def test_every_resample_equals_panopticapi_on_the_images_it_drew(dataset, per_image_stats) -> None:
    gt_json, pred_json = dataset
    stats, categories = per_image_stats
    plan = partials.plan(str(gt_json), str(pred_json), partition_size=7, image_stats=True)
    merged = plan.evaluation([partials.evaluate(part) for part in plan])
    bootstrap = Bootstrap(40, seed=3)
    samples = merged.resampled(bootstrap)
    weights = np.concatenate(list(resample_weights(len(stats), 40, 3)))
    assert weights.shape == (40, len(stats))
    assert (weights.sum(axis=1) == len(stats)).all()
    naive = {name: {m: [] for m in ("pq", "sq", "rq")} for name, _ in SPLITS}
    for r in range(40):
        expected = panopticapi_resample(stats, weights[r], categories)
        for name, _ in SPLITS:
            for metric in ("pq", "sq", "rq"):
                got = samples[name][metric][r]
                if expected[name] is None:
                    assert math.isnan(got)
                    continue
                assert math.isclose(got, expected[name][metric], rel_tol=0, abs_tol=1e-12), (r, name, metric)
                naive[name][metric].append(expected[name][metric])
        for c in categories:
            for metric in ("pq", "sq", "rq"):
                got = samples["per_class"][c][metric][r]
                if c in expected["counted"]:
                    assert math.isclose(got, expected["per_class"][c][metric], rel_tol=0, abs_tol=1e-12)
                else:
                    assert math.isnan(got)
    # Resamples differ from one another: the draws are not all the full dataset.
    assert len(set(naive["All"]["pq"])) > 10
    intervals = ours(gt_json, pred_json, bootstrap=40, bootstrap_seed=3)["intervals"]
    for name, _ in SPLITS:
        for metric in ("pq", "sq", "rq"):
            low, high = np.percentile(naive[name][metric], [2.5, 97.5])
            assert intervals[name][metric] == pytest.approx((low, high), abs=1e-12)
    assert (intervals["resamples"], intervals["seed"], intervals["level"]) == (40, 3, 0.95)


def test_seeds_reproduce_and_levels_nest(dataset) -> None:
    gt_json, pred_json = dataset
    a = ours(gt_json, pred_json, bootstrap=200, bootstrap_seed=1)
    b = ours(gt_json, pred_json, bootstrap=200, bootstrap_seed=1, num_threads=1)
    c = ours(gt_json, pred_json, bootstrap=200, bootstrap_seed=2)
    assert a["intervals"] == b["intervals"]
    assert a["intervals"]["All"] != c["intervals"]["All"]
    narrow = ours(gt_json, pred_json, bootstrap=200, bootstrap_seed=1, confidence=0.5)["intervals"]
    for name, _ in SPLITS:
        wide_low, wide_high = a["intervals"][name]["pq"]
        low, high = narrow[name]["pq"]
        assert wide_low <= low <= high <= wide_high
    # The point estimate is panopticapi's, untouched by the resampling.
    assert {k: a[k] for k in ("All", "Things", "Stuff", "per_class")} == ours(gt_json, pred_json)


def test_per_class_intervals_skip_resamples_without_the_class(dataset, per_image_stats) -> None:
    gt_json, pred_json = dataset
    stats, categories = per_image_stats
    result = ours(gt_json, pred_json, bootstrap=100)
    seen = {c for s in stats for c in categories if s.pq_per_cat[c].tp + s.pq_per_cat[c].fp + s.pq_per_cat[c].fn}
    for c in categories:
        if c in seen:
            low, high = result["intervals"]["per_class"][c]["pq"]
            assert 0.0 <= low <= high <= 1.0
        else:
            assert result["intervals"]["per_class"][c] == {"pq": None, "sq": None, "rq": None}


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"bootstrap": -5}, r"bootstrap must be a number of resamples of at least 1, got -5"),
        ({"bootstrap": 1.5}, r"bootstrap must be a number of resamples"),
        ({"bootstrap": 10, "bootstrap_seed": -1}, r"bootstrap_seed must be an integer of at least 0"),
        ({"bootstrap": 10, "confidence": 1.5}, r"confidence must be a level between 0 and 1"),
        ({"bootstrap": 10, "confidence": 0}, r"confidence must be a level between 0 and 1"),
    ],
)
def test_bad_arguments_name_themselves(dataset, options, message: str) -> None:
    gt_json, pred_json = dataset
    with pytest.raises(ValueError, match=message):
        ours(gt_json, pred_json, **options)


def test_partials_carry_the_per_image_sums(dataset) -> None:
    gt_json, pred_json = dataset
    plan = partials.plan(str(gt_json), str(pred_json), partition_size=5, image_stats=True)
    results = [partials.evaluate(part) for part in plan]
    data = json.loads(results[1])
    assert data["image_sums"]["images"] == 5
    assert set(data["image_sums"]) == {"images", "image", "category", "iou", "tp", "fp", "fn"}
    merged = plan.evaluation(results)
    expected = ours(gt_json, pred_json, bootstrap=300, bootstrap_seed=4)["intervals"]
    assert merged.intervals(Bootstrap(300, 4)) == expected
    without = partials.plan(str(gt_json), str(pred_json), partition_size=5)
    with pytest.raises(ValueError, match="kept no per-image sums"):
        without.evaluation([partials.evaluate(part) for part in without]).intervals(Bootstrap(10))
    broken = dict(data, image_sums=dict(data["image_sums"], image=[99]))
    with pytest.raises(ValueError, match="image table"):
        partials.Partial.from_json(broken)


def test_command_line_prints_and_writes_the_intervals(dataset, tmp_path: Path, capsys) -> None:
    gt_json, pred_json = dataset
    out = tmp_path / "results.json"
    argv = ["eval", str(gt_json), str(pred_json), "--bootstrap", "150", "--bootstrap-seed", "7", "--json", str(out)]
    assert cli_main(argv) == 0
    assert "95% intervals, 150 resamples of the images (seed 7)" in capsys.readouterr().out
    written = json.loads(out.read_text())["intervals"]
    expected = ours(gt_json, pred_json, bootstrap=150, bootstrap_seed=7)["intervals"]
    assert written["All"]["pq"] == list(expected["All"]["pq"])
    assert cli_main(["eval", str(gt_json), str(pred_json), "--bootstrap", "10", "--confidence", "2"]) == 1
    assert "--confidence must be a level between 0 and 1" in capsys.readouterr().err
