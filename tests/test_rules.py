"""The evaluation options — ``category_ids``, ``class_groups``, ``isthing_override`` and
``iou_threshold`` — against independent oracles: panopticapi itself on JSON files rewritten as
the option defines (categories remapped to their groups, kinds flipped), the mean of panopticapi's
own per-class numbers over a subset, and the numpy oracle of ``tests/reference.py`` at another
matching threshold. The defaults are panopticapi's bit for bit; bad options are ValueErrors that
name the argument; the options travel with partials and the metric's state and refuse to merge.
"""

from __future__ import annotations

import contextlib
import io
import json
import math
from collections import defaultdict
from pathlib import Path

import numpy as np
import pytest
from panopticapi import evaluation as panopticapi
from PIL import Image

import reference
from panoptiq import PanopticQuality, evaluation, partials, rgb2id
from panoptiq.cli import main as cli_main
from panoptiq.synthetic import REALISTIC_GT_KINDS, REALISTIC_PRED_KINDS, make_dataset

pytestmark = [
    pytest.mark.filterwarnings("ignore:Exception ignored in.*Pool.__del__:pytest.PytestUnraisableExceptionWarning"),
    pytest.mark.filterwarnings("ignore:unclosed running multiprocessing pool:ResourceWarning"),
]


def quiet(function, *args, **kwargs):
    with contextlib.redirect_stdout(io.StringIO()):
        return function(*args, **kwargs)


def ours(gt_json: Path, pred_json: Path, **options):
    return evaluation.pq_compute(str(gt_json), str(pred_json), verbose=False, **options)


@pytest.fixture(scope="module")
def dataset(tmp_path_factory: pytest.TempPathFactory):
    folder = tmp_path_factory.mktemp("rules")
    gt_json, pred_json = make_dataset(folder, 24, seed=5)
    return gt_json, pred_json, json.loads(gt_json.read_text()), json.loads(pred_json.read_text())


def assert_same(a: dict, b: dict) -> None:
    """Counts exactly and floats within 1e-12 (panopticapi adds IoUs one by one; panoptiq sums
    them exactly and rounds once)."""
    for name in ("All", "Things", "Stuff"):
        assert a[name]["n"] == b[name]["n"], name
        for metric in ("pq", "sq", "rq"):
            assert math.isclose(a[name][metric], b[name][metric], rel_tol=0, abs_tol=1e-12), (name, metric)
    assert list(a["per_class"]) == list(b["per_class"])
    for category, scores in b["per_class"].items():
        for metric in ("pq", "sq", "rq"):
            assert math.isclose(a["per_class"][category][metric], scores[metric], rel_tol=0, abs_tol=1e-12)


def rewritten(folder: Path, gt: dict, pred: dict, name: str, categories, category_of) -> tuple[Path, Path]:
    """The dataset's JSON files with new categories and each segment's category mapped; the PNG
    folders are the originals'."""
    out = folder / name
    out.mkdir()
    paths = []
    for side, data in (("gt", gt), ("pred", pred)):
        data = json.loads(json.dumps(data))
        if side == "gt":
            data["categories"] = categories
        for annotation in data["annotations"]:
            for segment in annotation["segments_info"]:
                segment["category_id"] = category_of(segment["category_id"])
        path = out / f"{side}.json"
        path.write_text(json.dumps(data))
        paths.append(path)
    return paths[0], paths[1]


def test_defaults_are_panopticapis(dataset) -> None:
    gt_json, pred_json, _, _ = dataset
    theirs = quiet(panopticapi.pq_compute, str(gt_json), str(pred_json))
    explicit = ours(gt_json, pred_json, iou_threshold=0.5, category_ids=None, class_groups=None)
    assert_same(explicit, theirs)
    assert explicit == ours(gt_json, pred_json)


def test_class_groups_equal_panopticapi_on_remapped_json(dataset, tmp_path: Path) -> None:
    gt_json, pred_json, gt, pred = dataset
    # COCO's supercategories, each a group numbered in order of appearance.
    numbers: dict[str, int] = {}
    groups = {}
    for c in gt["categories"]:
        key = f"{c['supercategory']}/{c['isthing']}"  # a supercategory never mixes kinds here
        groups[c["id"]] = numbers.setdefault(key, 1000 + len(numbers))
    kinds = {groups[c["id"]]: c["isthing"] for c in gt["categories"]}
    categories = [{"id": g, "name": f"group {g}", "isthing": kinds[g]} for g in dict.fromkeys(groups.values())]
    remapped = rewritten(tmp_path, gt, pred, "grouped", categories, groups.__getitem__)
    theirs = quiet(panopticapi.pq_compute, str(remapped[0]), str(remapped[1]), str(gt_json)[:-5], str(pred_json)[:-5])
    mine = ours(gt_json, pred_json, class_groups=groups)
    assert_same(mine, theirs)
    assert set(mine["per_class"]) == set(groups.values())
    # Grouping changes the numbers: segments of different categories of a group now match.
    assert mine["All"] != ours(gt_json, pred_json)["All"]


def test_class_agnostic_with_an_override(dataset, tmp_path: Path) -> None:
    gt_json, pred_json, gt, pred = dataset
    groups = {c["id"]: 1 for c in gt["categories"]}
    with pytest.raises(ValueError, match=r"class_groups: group 1 mixes things .* isthing_override"):
        ours(gt_json, pred_json, class_groups=groups)
    with pytest.warns(RuntimeWarning, match="no stuff category"):
        mine = ours(gt_json, pred_json, class_groups=groups, isthing_override={1: True})
    # panopticapi divides by zero on the empty Stuff split: its PQStat is averaged over All only.
    categories = {1: {"id": 1, "isthing": 1}}
    remapped = rewritten(tmp_path, gt, pred, "one", list(categories.values()), lambda _: 1)
    pairs = [
        (a, p)
        for a, p in zip(
            json.loads(remapped[0].read_text())["annotations"],
            json.loads(remapped[1].read_text())["annotations"],
            strict=True,
        )
    ]
    assert all(a["image_id"] == p["image_id"] for a, p in pairs)
    stat = quiet(panopticapi.pq_compute_multi_core, pairs, str(gt_json)[:-5], str(pred_json)[:-5], categories)
    theirs, per_class = stat.pq_average(categories, isthing=None)
    assert mine["All"]["n"] == theirs["n"] == 1
    assert mine["Things"]["n"] == 1
    assert mine["Stuff"]["n"] == 0
    for metric in ("pq", "sq", "rq"):
        assert math.isclose(mine["All"][metric], theirs[metric], rel_tol=0, abs_tol=1e-12)
        assert math.isclose(mine["per_class"][1][metric], per_class[1][metric], rel_tol=0, abs_tol=1e-12)


def test_things_against_stuff_groups(dataset, tmp_path: Path) -> None:
    gt_json, pred_json, gt, pred = dataset
    groups = {c["id"]: 2 - c["isthing"] for c in gt["categories"]}
    categories = [{"id": 1, "isthing": 1}, {"id": 2, "isthing": 0}]
    remapped = rewritten(tmp_path, gt, pred, "two", categories, groups.__getitem__)
    theirs = quiet(panopticapi.pq_compute, str(remapped[0]), str(remapped[1]), str(gt_json)[:-5], str(pred_json)[:-5])
    assert_same(ours(gt_json, pred_json, class_groups=groups), theirs)


def test_isthing_override_equals_panopticapi_with_flipped_kinds(dataset, tmp_path: Path) -> None:
    gt_json, pred_json, gt, pred = dataset
    flip = {c["id"]: c["isthing"] == 0 for c in gt["categories"][::7]}
    categories = [{**c, "isthing": int(flip.get(c["id"], c["isthing"] == 1))} for c in gt["categories"]]
    remapped = rewritten(tmp_path, gt, pred, "flipped", categories, lambda c: c)
    theirs = quiet(panopticapi.pq_compute, str(remapped[0]), str(remapped[1]), str(gt_json)[:-5], str(pred_json)[:-5])
    assert_same(ours(gt_json, pred_json, isthing_override=flip), theirs)


def test_isthing_override_stands_in_for_missing_kinds(dataset, tmp_path: Path) -> None:
    gt_json, pred_json, gt, pred = dataset
    bare = [{"id": c["id"], "name": c["name"]} for c in gt["categories"]]
    remapped = rewritten(tmp_path, gt, pred, "bare", bare, lambda c: c)
    folders = str(gt_json)[:-5], str(pred_json)[:-5]
    with pytest.raises(ValueError, match="has no 'isthing'"):
        ours(*remapped, gt_folder=folders[0], pred_folder=folders[1])
    kinds = {c["id"]: c["isthing"] == 1 for c in gt["categories"]}
    assert_same(
        ours(*remapped, gt_folder=folders[0], pred_folder=folders[1], isthing_override=kinds), ours(gt_json, pred_json)
    )


def test_category_ids_average_panopticapis_per_class_numbers(dataset) -> None:
    gt_json, pred_json, gt, _ = dataset
    theirs = quiet(panopticapi.pq_compute, str(gt_json), str(pred_json))
    things = {c["id"] for c in gt["categories"] if c["isthing"] == 1}
    seen = [c for c in theirs["per_class"] if theirs["per_class"][c] != {"pq": 0.0, "sq": 0.0, "rq": 0.0}]
    subset = seen[::3] + [c["id"] for c in gt["categories"] if c["id"] not in seen][:2]
    mine = ours(gt_json, pred_json, category_ids=reversed(subset))
    # The subset's order is the categories' order, as per_class is.
    assert list(mine["per_class"]) == [c["id"] for c in gt["categories"] if c["id"] in subset]
    for c in subset:
        assert mine["per_class"][c] == pytest.approx(theirs["per_class"][c], abs=1e-12)
    # panopticapi's stat gives which of them were counted (a TP, FP or FN).
    stat = evaluation.pq_compute(str(gt_json), str(pred_json), verbose=False, per_image=True)
    counted = set(seen)
    for name, members in (("All", set(subset)), ("Things", set(subset) & things), ("Stuff", set(subset) - things)):
        chosen = [c for c in members if c in counted]
        assert mine[name]["n"] == len(chosen)
        for metric in ("pq", "sq", "rq"):
            mean = sum(theirs["per_class"][c][metric] for c in chosen) / len(chosen)
            assert math.isclose(mine[name][metric], mean, rel_tol=0, abs_tol=1e-12)
    assert stat["All"] == ours(gt_json, pred_json)["All"]


def test_category_ids_subset_per_image_rows(dataset) -> None:
    gt_json, pred_json, _, _ = dataset
    full = ours(gt_json, pred_json, per_image=True)["segments"]
    present = sorted({r["category_id"] for r in full if r["category_id"] is not None})
    chosen = present[:2] + present[-2:]  # things and stuff
    rows = ours(gt_json, pred_json, per_image=True, category_ids=chosen)["per_image"]
    by_image: dict = defaultdict(lambda: defaultdict(lambda: [0.0, 0, 0, 0]))
    for r in full:
        if r["category_id"] not in chosen:
            continue
        s = by_image[str(r["image_id"])][r["category_id"]]
        if r["fate"] == "tp" and r["side"] == "gt":
            s[0] += r["other_iou"]
            s[1] += 1
        elif r["fate"] == "fp":
            s[2] += 1
        elif r["fate"] == "fn":
            s[3] += 1
    for row in rows:
        stats = by_image.get(str(row["image_id"]), {})
        pqs = [iou / (tp + fp / 2 + fn / 2) for iou, tp, fp, fn in stats.values() if tp + fp + fn]
        assert row["n"] == len(pqs)
        assert row["pq"] == pytest.approx(sum(pqs) / len(pqs) if pqs else 0.0, abs=1e-12)


def oracle_at(gt_json: Path, pred_json: Path, threshold: float) -> dict:
    """pq_compute's dict at a matching threshold, from the numpy oracle image by image."""
    gt, pred = json.loads(gt_json.read_text()), json.loads(pred_json.read_text())
    categories = {c["id"]: c for c in gt["categories"]}
    by_id = {a["image_id"]: a for a in pred["annotations"]}
    totals: dict[int, list[float]] = defaultdict(lambda: [0.0, 0, 0, 0])
    ious: dict[int, list[float]] = defaultdict(list)
    for a in gt["annotations"]:
        p = by_id[a["image_id"]]
        gt_ids = rgb2id(np.array(Image.open(Path(str(gt_json)[:-5]) / a["file_name"]).convert("RGB")))
        pred_ids = rgb2id(np.array(Image.open(Path(str(pred_json)[:-5]) / p["file_name"]).convert("RGB")))
        stats = reference.evaluate(
            gt_ids, a["segments_info"], pred_ids, p["segments_info"], categories, iou_threshold=threshold
        )
        for c, (iou, tp, fp, fn) in stats.items():
            ious[c].append(iou)
            totals[c][1:] = [totals[c][1] + tp, totals[c][2] + fp, totals[c][3] + fn]
    for c, values in ious.items():
        totals[c][0] = math.fsum(values)
    result = {}
    for name, isthing in (("All", None), ("Things", True), ("Stuff", False)):
        result[name], per_class = reference.average(totals, categories, isthing)
        if isthing is None:
            result["per_class"] = per_class
    return result


@pytest.fixture(scope="module")
def small(tmp_path_factory: pytest.TempPathFactory):
    """Small images of realistic kinds: the numpy oracle compares every pair of masks."""
    folder = tmp_path_factory.mktemp("small")
    return make_dataset(
        folder, 12, seed=9, size=(180, 240), gt_kinds=REALISTIC_GT_KINDS, pred_kinds=REALISTIC_PRED_KINDS
    )


@pytest.mark.parametrize("threshold", [0.5, 0.6, 0.75, 0.9, 0.99])
def test_iou_threshold_equals_the_numpy_oracle(small, threshold: float) -> None:
    gt_json, pred_json = small
    mine = ours(gt_json, pred_json, iou_threshold=threshold)
    expected = oracle_at(gt_json, pred_json, threshold)
    for name in ("All", "Things", "Stuff"):
        assert mine[name]["n"] == expected[name]["n"]
        for metric in ("pq", "sq", "rq"):
            assert math.isclose(mine[name][metric], expected[name][metric], rel_tol=0, abs_tol=1e-12)
    for c, scores in expected["per_class"].items():
        assert mine["per_class"][c] == pytest.approx(scores, abs=1e-12)
    if threshold >= 0.75:
        assert mine["All"]["rq"] < ours(gt_json, pred_json)["All"]["rq"]


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"category_ids": [1, 99999]}, r"category_ids: 99999 is not one of the dataset's categories"),
        ({"category_ids": []}, r"category_ids is empty"),
        ({"category_ids": "1,2"}, r"category_ids must be an iterable"),
        ({"category_ids": [1.5]}, r"category_ids: 1.5 is not an integer"),
        ({"class_groups": {99999: 1}}, r"class_groups: 99999 is not one of the dataset's categories"),
        ({"class_groups": {1: 1}}, r"class_groups must give every category a group; .* given none"),
        ({"class_groups": [(1, 1)]}, r"class_groups must be a dict"),
        ({"isthing_override": {99999: True}}, r"isthing_override: 99999 is not one of the dataset's categories"),
        ({"isthing_override": {1: "yes"}}, r"isthing_override: the kind of 1 must be True or False"),
        ({"iou_threshold": 0.4}, r"iou_threshold must be in \[0.5, 1\), got 0.4"),
        ({"iou_threshold": 1.0}, r"iou_threshold must be in \[0.5, 1\), got 1.0"),
        ({"iou_threshold": float("nan")}, r"iou_threshold must be a number"),
        ({"iou_threshold": True}, r"iou_threshold must be a number"),
        ({"iou_threshold": "0.7"}, r"iou_threshold must be a number"),
    ],
)
def test_bad_options_name_the_argument(dataset, options: dict, message: str) -> None:
    gt_json, pred_json, _, _ = dataset
    with pytest.raises(ValueError, match=message):
        ours(gt_json, pred_json, **options)


def test_options_on_groups_refer_to_groups(dataset) -> None:
    gt_json, pred_json, gt, _ = dataset
    groups = {c["id"]: 10 + c["isthing"] for c in gt["categories"]}
    with pytest.raises(ValueError, match=r"category_ids: 1 is not one of class_groups' groups"):
        ours(gt_json, pred_json, class_groups=groups, category_ids=[1])
    with pytest.raises(ValueError, match=r"isthing_override: 1 is not one of class_groups' groups"):
        ours(gt_json, pred_json, class_groups=groups, isthing_override={1: True})
    with pytest.warns(RuntimeWarning, match="no stuff category"):
        only_things = ours(gt_json, pred_json, class_groups=groups, category_ids=[11])
    both = ours(gt_json, pred_json, class_groups=groups)
    assert list(only_things["per_class"]) == [11]
    assert only_things["All"] == only_things["Things"] == both["Things"]


def test_partials_carry_the_options(dataset) -> None:
    gt_json, pred_json, gt, _ = dataset
    groups = {c["id"]: 10 + c["isthing"] for c in gt["categories"]}
    options = {"class_groups": groups, "iou_threshold": 0.7, "category_ids": [10, 11]}
    plan = partials.plan(gt_json, pred_json, partition_size=5, **options)
    results = [partials.evaluate(part) for part in plan.parts]
    assert plan.combine(results) == ours(gt_json, pred_json, **options)
    assert json.loads(results[0])["version"] == 2
    assert json.loads(results[0])["rules"]["iou_threshold"] == 0.7
    default = partials.plan(gt_json, pred_json, partition_size=5)
    with pytest.raises(ValueError, match="scored under other evaluation options"):
        default.combine(results)
    # A version-1 result (written before options existed) is panopticapi's rules.
    old = []
    for item in (partials.evaluate(part) for part in default.parts):
        data = json.loads(item)
        del data["rules"]
        old.append({**data, "version": 1})
    assert default.combine(old) == ours(gt_json, pred_json)
    with pytest.raises(ValueError, match="scored under other evaluation options"):
        plan.combine(old)


def metric_inputs(gt_json: Path, pred_json: Path):
    gt, pred = json.loads(gt_json.read_text()), json.loads(pred_json.read_text())
    by_id = {a["image_id"]: a for a in pred["annotations"]}
    for a in gt["annotations"]:
        p = by_id[a["image_id"]]
        gt_map = np.array(Image.open(Path(str(gt_json)[:-5]) / a["file_name"]).convert("RGB"))
        pred_map = np.array(Image.open(Path(str(pred_json)[:-5]) / p["file_name"]).convert("RGB"))
        yield rgb2id(pred_map), rgb2id(gt_map), p["segments_info"], a["segments_info"]


def test_metric_with_options_equals_pq_compute(dataset) -> None:
    gt_json, pred_json, gt, _ = dataset
    groups = {c["id"]: 10 + c["isthing"] for c in gt["categories"]}
    options = {"class_groups": groups, "iou_threshold": 0.65}
    metric = PanopticQuality(gt["categories"], **options)
    other = PanopticQuality(gt["categories"], **options)
    for i, (p, t, pi, ti) in enumerate(metric_inputs(gt_json, pred_json)):
        (metric if i % 2 else other).update(p, t, preds_segments_info=pi, target_segments_info=ti)
    metric.merge(other)
    assert metric.compute().to_dict() == ours(gt_json, pred_json, **options)
    state = metric.state_dict()
    assert state["version"] == 2
    assert state["config"]["options"]["iou_threshold"] == 0.65
    assert PanopticQuality.from_state_dict(json.loads(json.dumps(state))).compute() == metric.compute()
    with pytest.raises(ValueError, match="different settings: options differ"):
        metric.merge(PanopticQuality(gt["categories"]))


def test_metric_reads_version_1_states(dataset) -> None:
    _, _, gt, _ = dataset
    metric = PanopticQuality(gt["categories"])
    ids = np.zeros((4, 4), dtype=np.uint32)
    ids[:2] = 1
    info = [{"id": 1, "category_id": gt["categories"][0]["id"], "iscrowd": 0, "area": 8}]
    metric.update(ids, ids, preds_segments_info=info, target_segments_info=info)
    state = metric.state_dict()
    del state["config"]["options"]
    state["version"] = 1
    again = PanopticQuality.from_state_dict(state)
    assert again.compute() == metric.compute()
    assert again.compute().all.pq == 1.0


def test_metric_label_maps_with_groups() -> None:
    # Two categories of one group: a prediction of the other category matches under grouping.
    metric = PanopticQuality(things=[1, 2], stuffs=[3], class_groups={1: 7, 2: 7, 3: 8})
    target = np.zeros((1, 4, 4, 2), dtype=np.int64)
    target[0, :2, :, 0], target[0, :2, :, 1] = 1, 1
    target[0, 2:, :, 0] = 3
    preds = target.copy()
    preds[0, :2, :, 0] = 2
    metric.update(preds, target)
    result = metric.compute()
    assert set(result.per_class) == {7, 8}
    assert result.all.pq == 1.0
    assert result.things.n == 1
    assert result.stuff.n == 1
    plain = PanopticQuality(things=[1, 2], stuffs=[3])
    plain.update(preds, target)
    assert plain.compute().all.pq == pytest.approx(1 / 3)


def test_cli_options(dataset, capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    gt_json, pred_json, gt, _ = dataset
    groups = {c["id"]: 10 + c["isthing"] for c in gt["categories"]}
    (tmp_path / "groups.json").write_text(json.dumps({str(k): v for k, v in groups.items()}))
    args = ["eval", str(gt_json), str(pred_json), "--no-progress", "--json", "-"]
    rules = ["--class-groups", f"@{tmp_path / 'groups.json'}", "--iou-threshold", "0.8", "--category-ids", "10,11"]
    assert cli_main(args + rules) == 0
    printed = json.loads(capsys.readouterr().out)
    expected = ours(gt_json, pred_json, class_groups=groups, iou_threshold=0.8)
    assert printed["All"]["pq"] == expected["All"]["pq"]
    assert {int(c) for c in printed["per_class"]} == {10, 11}
    assert cli_main([*args, "--iou-threshold", "1.5"]) == 1
    assert "--iou-threshold must be in [0.5, 1)" in capsys.readouterr().err
    assert cli_main([*args, "--class-groups", "[1]"]) == 1
    assert "--class-groups must be a JSON object" in capsys.readouterr().err


def test_report_with_options(dataset, tmp_path: Path) -> None:
    from panoptiq.report import write_report

    gt_json, pred_json, gt, _ = dataset
    groups = {c["id"]: 10 + c["isthing"] for c in gt["categories"]}
    report = write_report(
        str(gt_json), str(pred_json), out=tmp_path / "report", worst=2, class_groups=groups, iou_threshold=0.8
    )
    expected = ours(gt_json, pred_json, class_groups=groups, iou_threshold=0.8, error_breakdown=True)
    assert report.results == expected
    page = report.page.read_text(encoding="utf-8")
    assert "class_groups: 133 categories in 2 groups; iou_threshold=0.8" in page
    assert "group 10" in page
    assert "group 11" in page
