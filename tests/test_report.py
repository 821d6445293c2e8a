"""``panoptiq report``: every number on the page equals panopticapi's (per class, per image), the
worst-image lists and confusions follow their stated rules, a deliberately missed segment is drawn
as a false negative where it lies, and bad input (existing or unwritable output, missing or
mis-sized photos, a failure half-way) is refused or reported without a half-written report."""

from __future__ import annotations

import collections
import copy
import html
import json
import re
import shutil
import zipfile
from pathlib import Path

import numpy as np
import pytest
from panopticapi import evaluation as panopticapi
from PIL import Image

from panoptiq import cli, evaluation, read_id_map, write_id_map
from panoptiq.report import _analysis as analysis
from panoptiq.report import write_report
from panoptiq.synthetic import REALISTIC_GT_KINDS, REALISTIC_PRED_KINDS, make_dataset
from panoptiq.visualize import FATE_COLORS

pytestmark = [
    pytest.mark.filterwarnings("ignore:Exception ignored in.*Pool.__del__:pytest.PytestUnraisableExceptionWarning"),
    pytest.mark.filterwarnings("ignore:unclosed running multiprocessing pool:ResourceWarning"),
]

MISSED = 3937500  # a person's segment id in both COCO sample images, left out of the prediction


@pytest.fixture(scope="module")
def data(tmp_path_factory: pytest.TempPathFactory):
    folder = tmp_path_factory.mktemp("report")
    gt_json, pred_json = make_dataset(
        folder / "data", 30, seed=9, gt_kinds=REALISTIC_GT_KINDS, pred_kinds=REALISTIC_PRED_KINDS
    )
    report = write_report(str(gt_json), str(pred_json), out=folder / "report", worst=5)
    gt, pred = json.loads(gt_json.read_text()), json.loads(pred_json.read_text())
    by_id = {a["image_id"]: a for a in pred["annotations"]}
    pairs = [(a, by_id[a["image_id"]]) for a in gt["annotations"]]
    categories = {c["id"]: c for c in gt["categories"]}
    return gt_json, pred_json, report, pairs, categories


def reference(pairs, gt_json: Path, pred_json: Path, categories):
    return panopticapi.pq_compute_single_core(
        0, pairs, str(gt_json.with_suffix("")), str(pred_json.with_suffix("")), categories
    )


def page_text(report) -> str:
    return report.page.read_text(encoding="utf-8")


def per_class_rows(text: str) -> dict[int, list[str]]:
    table = text[text.index('id="per-class"') : text.index("</table>", text.index('id="per-class"'))]
    rows = {}
    for row in re.findall(r"<tr>(.*?)</tr>", table)[1:]:
        values = [html.unescape(v) for v in re.findall(r'data-v="([^"]*)"', row)]
        rows[int(values[0])] = values
    return rows


def card_ids(text: str, key: str) -> list[str]:
    start = text.index(f'id="worst-{key}"')
    end = text.index('<div id="worst-', start + 1) if key != "fp" else text.index("</h2>", start)
    return re.findall(r"image <b>([^<]*)</b>", text[start:end])


def test_per_class_numbers_are_panopticapis(data) -> None:
    gt_json, pred_json, report, pairs, categories = data
    stat = reference(pairs, gt_json, pred_json, categories)
    _, per_class = stat.pq_average(categories, isthing=None)
    rows = per_class_rows(page_text(report))
    counted = {c for c in categories if stat.pq_per_cat[c].tp + stat.pq_per_cat[c].fp + stat.pq_per_cat[c].fn}
    assert set(rows) == counted
    for cid, (_, name, kind, pq, sq, rq, tp, fp, fn) in rows.items():
        ref = stat.pq_per_cat[cid]
        assert (int(tp), int(fp), int(fn)) == (ref.tp, ref.fp, ref.fn)
        for ours, theirs in ((pq, "pq"), (sq, "sq"), (rq, "rq")):
            assert float(ours) == pytest.approx(per_class[cid][theirs], abs=1e-12)
        assert name == categories[cid]["name"]
        assert kind == ("thing" if categories[cid]["isthing"] else "stuff")


def test_summary_is_panopticapis(data) -> None:
    gt_json, pred_json, report, pairs, categories = data
    stat = reference(pairs, gt_json, pred_json, categories)
    text = page_text(report)
    summary = text[text.index('class="summary"') : text.index("</table>", text.index('class="summary"'))]
    cells = re.findall(
        r'<td class="l">(\w+)</td><td>([\d.]+)</td><td>([\d.]+)</td><td>([\d.]+)</td><td>(\d+)</td>', summary
    )
    assert [c[0] for c in cells] == ["All", "Things", "Stuff"]
    for (name, pq, sq, rq, n), isthing in zip(cells, (None, True, False), strict=True):
        ref, _ = stat.pq_average(categories, isthing=isthing)
        assert (pq, sq, rq, int(n)) == (
            f"{100 * ref['pq']:.1f}",
            f"{100 * ref['sq']:.1f}",
            f"{100 * ref['rq']:.1f}",
            ref["n"],
        )
        assert report.results[name]["pq"] == pytest.approx(ref["pq"], abs=1e-12)


def test_worst_images_by_panopticapis_per_image_scores(data) -> None:
    gt_json, pred_json, report, pairs, categories = data
    scores = []
    for position, pair in enumerate(pairs):
        stat = reference([pair], gt_json, pred_json, categories)
        seen = {c: s for c, s in stat.pq_per_cat.items() if s.tp + s.fp + s.fn}
        tp, fp, fn = (sum(getattr(s, k) for s in seen.values()) for k in ("tp", "fp", "fn"))
        present = {c: categories[c] for c in seen}
        pq = stat.pq_average(present, isthing=None)[0]["pq"] if present else None
        scores.append((str(pair[0]["image_id"]), pq, tp, fp, fn, position))
    text = page_text(report)
    by_pq = sorted((s for s in scores if s[1] is not None), key=lambda s: (s[1], -(s[3] + s[4]), s[5]))
    assert card_ids(text, "pq") == [s[0] for s in by_pq[:5]]
    by_fn = sorted((s for s in scores if s[4]), key=lambda s: (-s[4], s[5]))
    assert card_ids(text, "fn") == [s[0] for s in by_fn[:5]]
    by_fp = sorted((s for s in scores if s[3]), key=lambda s: (-s[3], s[5]))
    assert card_ids(text, "fp") == [s[0] for s in by_fp[:5]]
    shown = {s[0] for s in by_pq[:5] + by_fn[:5] + by_fp[:5]}
    assert len(list((report.folder / "images").iterdir())) == len(shown)


def test_confusions_and_iou_histogram(data) -> None:
    _, _, report, *_ = data
    frame = report.segments.to_pandas()
    missed = frame[(frame.side == "gt") & (frame.fate == "fn") & frame.other_category_id.notna()]
    missed = missed[missed.other_category_id != missed.category_id]
    counts = missed.groupby(["category_id", "other_category_id"]).other_iou.agg(["size", "mean"]).reset_index()
    counts = counts.sort_values(["size", "category_id", "other_category_id"], ascending=[False, True, True])
    text = page_text(report)
    table = text[text.index('id="confusion-table"') :]
    rows = re.findall(r'<tr><td class="l">([^<]*)</td><td class="l">([^<]*)</td><td>(\d+)</td><td>([\d.]+)</td>', table)
    assert len(rows) == min(20, len(counts)) > 0
    names = {c["id"]: c["name"] for c in json.loads(data[0].read_text())["categories"]}
    for row, (_, expected) in zip(rows, counts.iterrows(), strict=False):
        assert row == (
            names[int(expected.category_id)],
            names[int(expected.other_category_id)],
            str(int(expected["size"])),
            f"{expected['mean']:.2f}",
        )
    tp = frame[(frame.side == "gt") & (frame.fate == "tp")].other_iou.to_numpy()
    expected_counts, _ = np.histogram(tp, bins=np.array(analysis.IOU_EDGES))
    shown = [int(n) for n in re.findall(r"<title>[\d.]+-[\d.]+: (\d+)</title>", text)]
    assert shown == expected_counts.tolist()
    assert sum(shown) == int(report.results["All"]["n"] and len(tp))


def test_records_and_provenance(data) -> None:
    gt_json, _, report, pairs, _ = data
    assert len(report.per_image) == len(pairs)
    lines = (report.folder / "per_image.csv").read_text().splitlines()
    assert len(lines) == len(pairs) + 1
    text = page_text(report)
    assert html.escape(str(gt_json)) in text
    for package in ("panoptiq", "numpy", "Pillow", "python"):
        assert f'<td class="l">{package}</td>' in text
    assert "write_report(" in text
    assert "<script src" not in text
    assert "<link" not in text
    assert "http://" not in text
    assert "https://" not in text


@pytest.fixture(scope="module")
def missed(tmp_path_factory: pytest.TempPathFactory, sample_dir: Path, sample_json: dict):
    """The two real COCO ground truths, predicted perfectly but for one person in each."""
    folder = tmp_path_factory.mktemp("missed")
    (folder / "gt").mkdir()
    (folder / "pred").mkdir()
    gt = copy.deepcopy(sample_json)
    pred = {"annotations": []}
    for annotation in gt["annotations"]:
        shutil.copy(sample_dir / "panoptic_examples" / annotation["file_name"], folder / "gt")
        ids = read_id_map(folder / "gt" / annotation["file_name"])
        segments = [{"id": s["id"], "category_id": s["category_id"]} for s in annotation["segments_info"]]
        if MISSED in ids:
            ids[ids == MISSED] = 0
            segments = [s for s in segments if s["id"] != MISSED]
        write_id_map(folder / "pred" / annotation["file_name"], ids)
        pred["annotations"].append({**annotation, "segments_info": segments})
    (folder / "gt.json").write_text(json.dumps(gt))
    (folder / "pred.json").write_text(json.dumps(pred))
    first = gt["annotations"][0]
    return folder, first, read_id_map(folder / "gt" / first["file_name"])


def test_a_missed_segment_is_drawn_as_a_false_negative_where_it_lies(missed, tmp_path: Path) -> None:
    folder, first, gt_ids = missed
    report = write_report(str(folder / "gt.json"), str(folder / "pred.json"), out=tmp_path / "r", worst=3)
    text = page_text(report)
    both = [a["image_id"] for a in json.loads((folder / "gt.json").read_text())["annotations"]]
    assert card_ids(text, "fn") == [str(i) for i in both]
    picture = report.folder / "images" / f"{first['image_id']}-0.png"
    assert f'src="images/{picture.name}"' in text
    with Image.open(picture) as image:
        pixels = np.asarray(image.convert("RGB"))
    height, width = gt_ids.shape
    inside = gt_ids == MISSED
    # Not on the segment's border (white) nor under its label: most of it, in the ground-truth panel.
    on_left = pixels[:height, :width][inside]
    assert (on_left == FATE_COLORS["fn"]).all(axis=1).mean() > 0.5
    on_right = pixels[:height, -width:][inside]
    assert (on_right == FATE_COLORS["fn"]).all(axis=1).sum() == 0
    # Nowhere else is red: every other segment was matched.
    elsewhere = pixels[:height, :width][~inside]
    assert (elsewhere == FATE_COLORS["fn"]).all(axis=1).sum() == 0


def test_archives_and_fsspec_urls_give_the_same_report(missed, tmp_path: Path) -> None:
    fsspec = pytest.importorskip("fsspec", reason="fsspec is in the test extra; URL inputs need it")
    folder, *_ = missed
    plain = write_report(str(folder / "gt.json"), str(folder / "pred.json"), out=tmp_path / "plain", worst=2)
    for side in ("gt", "pred"):
        with zipfile.ZipFile(tmp_path / f"{side}.zip", "w", zipfile.ZIP_DEFLATED) as archive:
            for png in sorted((folder / side).iterdir()):
                archive.write(png, f"{side}/{png.name}")
    zipped = write_report(
        str(folder / "gt.json"),
        str(folder / "pred.json"),
        str(tmp_path / "gt.zip"),
        str(tmp_path / "pred.zip"),
        out=tmp_path / "zipped",
        worst=2,
    )
    fs = fsspec.filesystem("memory")
    for path in folder.rglob("*"):
        if path.is_file():
            fs.pipe(f"/panoptiq-report/{path.relative_to(folder).as_posix()}", path.read_bytes())
    try:
        remote = write_report(
            "memory://panoptiq-report/gt.json", "memory://panoptiq-report/pred.json", out=tmp_path / "remote", worst=2
        )
    finally:
        fs.rm("/panoptiq-report", recursive=True)
    for other in (zipped, remote):
        assert other.results == plain.results
        assert list(other.segments) == list(plain.segments)
        names = sorted(p.name for p in (plain.folder / "images").iterdir())
        assert names == sorted(p.name for p in (other.folder / "images").iterdir())
        for name in names:
            assert (other.folder / "images" / name).read_bytes() == (plain.folder / "images" / name).read_bytes()


def test_photos_missing_or_of_another_size_are_noted(missed, tmp_path: Path) -> None:
    folder, first, gt_ids = missed
    photos = tmp_path / "photos"
    photos.mkdir()
    annotations = json.loads((folder / "gt.json").read_text())["annotations"]
    first_stem = Path(first["file_name"]).stem
    second_stem = Path(annotations[1]["file_name"]).stem
    # The first image's photo is there, the second's is of another size.
    Image.fromarray(np.full((*gt_ids.shape, 3), 90, np.uint8)).save(photos / f"{first_stem}.jpg", quality=95)
    Image.fromarray(np.zeros((10, 20, 3), np.uint8)).save(photos / f"{second_stem}.jpg")
    report = write_report(
        str(folder / "gt.json"), str(folder / "pred.json"), out=tmp_path / "r", images=photos, worst=2
    )
    text = page_text(report)
    assert f"the photo {photos / second_stem}.jpg is 20x10 pixels" in html.unescape(text)
    # The first image is drawn over its grey photo: VOID pixels blend with it.
    name = next(p for p in (report.folder / "images").iterdir() if p.name.startswith(str(first["image_id"])))
    with Image.open(name) as image:
        pixels = np.asarray(image.convert("RGB"))
    assert not (pixels[: gt_ids.shape[0], : gt_ids.shape[1]][gt_ids == MISSED] == FATE_COLORS["fn"]).all(axis=1).any()
    (photos / f"{second_stem}.jpg").unlink()
    report = write_report(
        str(folder / "gt.json"), str(folder / "pred.json"), out=tmp_path / "r", images=photos, worst=2, overwrite=True
    )
    assert f"no photo {second_stem}.jpg (or .jpeg, .png) in {photos}" in html.unescape(page_text(report))


def test_existing_output_is_refused_unless_overwrite(missed, tmp_path: Path, capsys) -> None:
    folder, *_ = missed
    out = tmp_path / "r"
    out.mkdir()
    (out / "old.txt").write_text("old")
    args = [str(folder / "gt.json"), str(folder / "pred.json")]
    with pytest.raises(FileExistsError, match="exists; pass overwrite=True"):
        write_report(*args, out=out)
    assert cli.main(["report", *args, "--out", str(out), "--no-progress"]) == 1
    assert "exists; pass overwrite=True (--overwrite)" in capsys.readouterr().err
    assert (out / "old.txt").exists()
    assert cli.main(["report", *args, "--out", str(out), "--no-progress", "--overwrite"]) == 0
    assert "written to" in capsys.readouterr().out
    assert not (out / "old.txt").exists()
    assert "panoptiq report" in (out / "index.html").read_text()
    (tmp_path / "file").write_text("")
    with pytest.raises(FileExistsError, match="is a file"):
        write_report(*args, out=tmp_path / "file", overwrite=True)
    with pytest.raises(FileNotFoundError, match="does not exist"):
        write_report(*args, out=tmp_path / "nothing" / "r")
    with pytest.raises(OSError, match="cannot write the report to /proc/panoptiq-report"):
        write_report(*args, out="/proc/panoptiq-report")
    with pytest.raises(ValueError, match="worst"):
        write_report(*args, out=tmp_path / "x", worst=-1)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["file", "r"]


def test_a_failure_half_way_leaves_nothing_half_written(missed, tmp_path: Path, monkeypatch) -> None:
    folder, *_ = missed
    args = [str(folder / "gt.json"), str(folder / "pred.json")]
    out = tmp_path / "r"
    write_report(*args, out=out, worst=1)
    before = {p.name: p.read_bytes() for p in out.rglob("*") if p.is_file() and p.name != "index.html"}

    def full_disk(*_args: object) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr("panoptiq.report._pictures.save_png", full_disk)
    with pytest.raises(OSError, match="No space left"):
        write_report(*args, out=out, worst=1, overwrite=True)
    with pytest.raises(OSError, match="No space left"):
        write_report(*args, out=tmp_path / "new", worst=1)
    # The old report is untouched, the new one was never named, no temporary folder is left.
    assert sorted(p.name for p in tmp_path.iterdir()) == ["r"]
    assert {p.name: p.read_bytes() for p in out.rglob("*") if p.is_file() and p.name != "index.html"} == before


def test_worst_lists_follow_their_rules() -> None:
    images = [
        {"pq": 0.5, "n": 2, "tp": 1, "fp": 1, "fn": 0},
        {"pq": 0.0, "n": 0, "tp": 0, "fp": 0, "fn": 0},  # nothing counted: never "worst by PQ"
        {"pq": 0.2, "n": 1, "tp": 1, "fp": 3, "fn": 2},
        {"pq": 0.2, "n": 1, "tp": 1, "fp": 0, "fn": 2},
    ]
    assert analysis.worst_images(images, 2) == {"pq": [2, 3], "fn": [2, 3], "fp": [2, 0]}
    assert analysis.iou_histogram([0.5000001, 0.55, 0.999, 1.0]) == [1, 1, 0, 0, 0, 0, 0, 0, 0, 2]
    counted = collections.Counter(analysis.iou_histogram([0.51] * 3))
    assert counted == {3: 1, 0: 9}


def test_size_slices_and_intervals_on_the_page(data, tmp_path: Path) -> None:
    gt_json, pred_json, *_ = data
    options = {"size_edges": "coco", "bootstrap": 100, "bootstrap_seed": 2, "confidence": 0.9}
    report = write_report(str(gt_json), str(pred_json), out=tmp_path / "r", worst=1, **options)
    expected = evaluation.pq_compute(str(gt_json), str(pred_json), verbose=False, error_breakdown=True, **options)
    assert report.results == expected
    text = page_text(report)
    table = text[text.index('id="size-table"') : text.index("</table>", text.index('id="size-table"'))]
    rows = re.findall(r'<tr><td class="l">(\w+)</td><td class="l">([^<]*)</td>((?:<td>[^<]*</td>)+)</tr>', table)
    assert [r[0] for r in rows] == ["small", "medium", "large"]
    for name, area, cells in rows:
        values = re.findall(r"<td>([^<]*)</td>", cells)
        slice_ = expected["sizes"][name]
        want = [
            v
            for split in ("All", "Things", "Stuff")
            for v in (f"{100 * slice_[split]['pq']:.1f}", str(slice_[split]["n"]))
        ]
        assert values == want
        assert html.unescape(area).startswith(f"{slice_['range'][0]} ≤ area")
    summary = text[text.index('class="summary"') : text.index("</table>", text.index('class="summary"'))]
    assert "PQ 90% interval" in summary
    all_row = re.search(r'<td class="l">All</td>((?:<td>[^<]*</td>)+)</tr>', summary)
    assert all_row is not None
    low, high = expected["intervals"]["All"]["pq"]
    assert (
        html.unescape(re.findall(r"<td>([^<]*)</td>", all_row.group(1))[4]) == f"{100 * low:.1f}\u2013{100 * high:.1f}"
    )
    rows_by_class = per_class_rows(text)
    for cid, interval in expected["intervals"]["per_class"].items():
        if cid in rows_by_class:
            assert float(rows_by_class[cid][-1]) == (-1 if interval["pq"] is None else interval["pq"][0])


def test_the_report_command_takes_sizes_and_intervals(data, tmp_path: Path, capsys) -> None:
    gt_json, pred_json, *_ = data
    argv = ["report", str(gt_json), str(pred_json), "--out", str(tmp_path / "r"), "--worst", "1", "--no-progress"]
    assert cli.main([*argv, "--size-edges", "coco", "--bootstrap", "20"]) == 0
    text = (tmp_path / "r" / "index.html").read_text(encoding="utf-8")
    assert 'id="size-table"' in text
    assert "PQ 95% interval" in text
    assert cli.main([*argv, "--overwrite", "--bootstrap", "-3"]) == 1
    assert "--bootstrap" in capsys.readouterr().err


def test_the_error_breakdown_is_on_the_page(data) -> None:
    gt_json, pred_json, report, *_ = data
    expected = evaluation.pq_compute(str(gt_json), str(pred_json), verbose=False, error_breakdown=True)
    assert report.results["error_breakdown"] == expected["error_breakdown"]
    text = page_text(report)
    table = text[text.index('id="breakdown-table"') : text.index("</table>", text.index('id="breakdown-table"'))]
    rows = re.findall(r'<tr><td class="l">([\w ]+)</td><td>([\d&ndash;]+)</td><td>([\d&ndash;]+)</td>', table)
    labels = [row[0] for row in rows]
    assert labels == ["wrong class", "merge", "split", "poor localisation", "missed", "spurious", "mask quality"]
    for (_, fn, fp), entry in zip(rows[:-1], expected["error_breakdown"].values(), strict=False):
        assert (int(fn), int(fp)) == (entry["fn"], entry["fp"])
    for entry in expected["error_breakdown"].values():
        assert f'<span class="v">{100 * entry["All"]:+.1f}</span>' in table
