"""Every bad dataset input gets a typed exception naming the image, its file and the segment."""

from __future__ import annotations

import json
import re
import shutil
import warnings
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

import panoptiq
from panoptiq.synthetic import make_dataset


@pytest.fixture
def data(tmp_path: Path) -> tuple[Path, Path]:
    return make_dataset(tmp_path, 3, seed=1, gt_kinds=("sample",), pred_kinds=("perturbed",))


def evaluate(gt_json: Path, pred_json: Path, **kwargs):
    return panoptiq.pq_compute(str(gt_json), str(pred_json), verbose=False, **kwargs)


def edit_json(path: Path, change) -> None:
    data = json.loads(path.read_text())
    change(data)
    path.write_text(json.dumps(data))


def png(json_path: Path, image: int = 2) -> Path:
    return json_path.with_suffix("") / f"{image:012d}.png"


def test_missing_png(data) -> None:
    _, pred_json = data
    png(pred_json).unlink()
    with pytest.raises(FileNotFoundError, match=r"In the image with ID 2: cannot read .*pred/000000000002\.png"):
        evaluate(*data)


@pytest.mark.parametrize("content", [b"not a png at all", "truncated"])
def test_broken_png(data, content) -> None:
    gt_json, _ = data
    path = png(gt_json)
    path.write_bytes(path.read_bytes()[:200] if content == "truncated" else content)
    with pytest.raises(ValueError, match=r"In the image with ID 2: .*gt/000000000002\.png is not a valid PNG"):
        evaluate(*data)


@pytest.mark.parametrize("mode", ["RGB", "P"])
def test_a_corrupt_png_whose_crc_does_not_match_is_refused(data, mode: str) -> None:
    # A flipped bit in the compressed pixels may still inflate, to other pixels; the chunk's
    # CRC-32 is what catches it (Pillow does not check the image data's CRCs).
    _, pred_json = data
    path = png(pred_json)
    with Image.open(path) as image:
        image.convert(mode).save(path)
    content = bytearray(path.read_bytes())
    idat = content.index(b"IDAT")
    content[idat + 4 + 100] ^= 0x04
    path.write_bytes(bytes(content))
    with pytest.raises(
        ValueError,
        match=rf"In the image with ID 2: .*pred/000000000002\.png is not a valid PNG .*"
        rf"the IDAT chunk at byte {idat - 4} fails its CRC-32 check "
        r"\(stored [0-9a-f]{8}, computed [0-9a-f]{8}\): the file is corrupt",
    ):
        evaluate(*data)


def test_size_mismatch_names_both_sizes(data) -> None:
    gt_json, pred_json = data
    h, w = panoptiq.read_id_map(png(gt_json)).shape
    panoptiq.write_id_map(png(pred_json), np.zeros((h - 1, w), dtype=np.uint32))
    edit_json(pred_json, lambda d: d["annotations"][1].update(segments_info=[]))
    with pytest.raises(
        ValueError, match=rf"image with ID 2 the ground truth is {h}x{w} pixels but the prediction is {h - 1}x{w}"
    ) as error:
        evaluate(*data)
    assert "000000000002.png" in str(error.value)


@pytest.mark.parametrize(("mode", "what"), [("L", "8-bit grayscale"), ("I;16", "16-bit grayscale")])
def test_unsupported_png(data, mode: str, what: str) -> None:
    _, pred_json = data
    h, w = panoptiq.read_id_map(png(pred_json)).shape
    Image.new(mode, (w, h)).save(png(pred_json))
    with pytest.raises(ValueError, match=rf"In the image with ID 2: .*000000000002\.png is a {what} PNG"):
        evaluate(*data)


def test_segment_in_png_not_in_json(data) -> None:
    _, pred_json = data
    dropped = {}
    edit_json(pred_json, lambda d: dropped.update(d["annotations"][1]["segments_info"].pop(0)))
    with pytest.raises(KeyError) as error:
        evaluate(*data)
    message = error.value.args[0]
    assert message.startswith(
        f"In the image with ID 2 segment with ID {dropped['id']} is presented in PNG and not presented in JSON."
    )
    assert "pred/000000000002.png" in message


def test_segment_in_json_not_in_png(data) -> None:
    _, pred_json = data
    edit_json(pred_json, lambda d: d["annotations"][1]["segments_info"].append({"id": 77, "category_id": 1}))
    with pytest.raises(
        KeyError, match=r"the following segment IDs \[77\] are presented in JSON and not presented in PNG"
    ):
        evaluate(*data)


def test_unknown_category(data) -> None:
    _, pred_json = data
    segment = {}
    edit_json(
        pred_json,
        lambda d: (
            segment.update(d["annotations"][2]["segments_info"][0]),
            d["annotations"][2]["segments_info"][0].update(category_id=999),
        ),
    )
    with pytest.raises(
        KeyError, match=rf"In the image with ID 3 segment with ID {segment['id']} has unknown category_id 999"
    ):
        evaluate(*data)


def test_ground_truth_image_without_prediction(data) -> None:
    _, pred_json = data
    edit_json(pred_json, lambda d: d["annotations"].pop(1))
    with pytest.raises(
        panoptiq.MissingPredictionError, match=r"no prediction for the image with id: 2 .*000000000002\.png"
    ):
        evaluate(*data)


def test_extra_predicted_images_are_ignored(data) -> None:
    _, pred_json = data
    before = evaluate(*data)
    edit_json(pred_json, lambda d: d["annotations"].append({**d["annotations"][0], "image_id": 99}))
    assert evaluate(*data) == before


@pytest.mark.parametrize("side", ["gt", "pred"])
def test_missing_folder(data, side: str) -> None:
    gt_json, pred_json = data
    folder = (gt_json if side == "gt" else pred_json).with_suffix("")
    folder.rename(folder.with_name("elsewhere"))
    with pytest.raises(FileNotFoundError, match=rf"Folder .*{side} with .* segmentations doesn't exist"):
        evaluate(*data)


@pytest.mark.parametrize("side", ["gt", "pred"])
def test_malformed_json(data, side: str) -> None:
    path = data[0] if side == "gt" else data[1]
    path.write_text('{"annotations": [')
    with pytest.raises(ValueError, match=rf"JSON file {path} is not valid JSON"):
        evaluate(*data)


def test_json_without_annotations_or_categories(data) -> None:
    gt_json, pred_json = data
    edit_json(gt_json, lambda d: d.pop("categories"))
    with pytest.raises(ValueError, match=rf"{gt_json} is missing 'categories'"):
        evaluate(*data)
    pred_json.write_text("[]")
    with pytest.raises(ValueError, match=rf"{pred_json} holds a list, not an object with 'annotations'"):
        evaluate(*data)


def test_missing_json_file(data, tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match=r"nowhere\.json does not exist"):
        evaluate(tmp_path / "nowhere.json", data[1])


def test_split_without_categories_warns_and_reports_zeros(data) -> None:
    gt_json, _ = data
    edit_json(gt_json, lambda d: [c.update(isthing=1) for c in d["categories"]])
    with pytest.warns(RuntimeWarning, match="no stuff category"):
        results = evaluate(*data)
    assert results["Stuff"] == {"pq": 0.0, "sq": 0.0, "rq": 0.0, "n": 0}
    assert results["Things"]["n"] > 0


def test_bad_num_threads(data) -> None:
    with pytest.raises(ValueError, match="num_threads must be a positive integer"):
        evaluate(*data, num_threads=0)


def test_missing_segment_field(data) -> None:
    gt_json, _ = data
    edit_json(gt_json, lambda d: d["annotations"][1]["segments_info"][3].pop("iscrowd"))
    with pytest.raises(KeyError, match=r"In the image with ID 2 ground-truth segment #3 .* is missing 'iscrowd'"):
        evaluate(*data)


def test_the_first_failing_image_is_reported(data) -> None:
    _, pred_json = data
    png(pred_json, 3).unlink()
    png(pred_json, 2).write_bytes(b"junk")
    with pytest.raises(ValueError, match="In the image with ID 2"):
        evaluate(*data)


def use_python_reader(gt_json: Path) -> None:
    """An integral float area is outside the Rust reader's strict form: the Python reader runs."""
    edit_json(gt_json, lambda d: d["annotations"][0]["segments_info"][0].update(area=1.0 * 10**9))


@pytest.mark.parametrize("reader", ["rust", "python"])
def test_segment_problems_found_in_evaluation_name_both_json_files(data, reader: str) -> None:
    gt_json, pred_json = data
    if reader == "python":
        use_python_reader(gt_json)
    edit_json(pred_json, lambda d: d["annotations"][1]["segments_info"].append(d["annotations"][1]["segments_info"][0]))
    with pytest.raises(ValueError, match="prediction segments_info lists segment with ID") as error:
        evaluate(*data)
    message = str(error.value)
    assert f"segments in {gt_json}" in message
    assert f"segments in {pred_json}" in message
    assert "000000000002.png" in message


@pytest.mark.parametrize("reader", ["rust", "python"])
@pytest.mark.parametrize(
    ("side", "change", "error", "match"),
    [
        (
            "pred",
            lambda a: a.pop("segments_info"),
            KeyError,
            "predicted annotation in {json} is missing 'segments_info'",
        ),
        (
            "gt",
            lambda a: a.pop("segments_info"),
            KeyError,
            "ground-truth annotation in {json} is missing 'segments_info'",
        ),
        ("pred", lambda a: a.update(segments_info={}), ValueError, "'segments_info' that is a dict, not a list"),
        ("gt", lambda a: a.pop("file_name"), KeyError, "ground-truth annotation in {json} is missing 'file_name'"),
        (
            "pred",
            lambda a: a["segments_info"][0].pop("category_id"),
            KeyError,
            "#0 .* in {json} is missing 'category_id'",
        ),
        (
            "gt",
            lambda a: a["segments_info"][1].update(area="big"),
            ValueError,
            "in {json} has a non-integral area 'big'",
        ),
        ("pred", lambda a: a["segments_info"][0].update(id=-1), ValueError, "segment id -1 in {json} is outside"),
    ],
)
def test_bad_annotation_records_name_the_side_and_json_file(data, reader, side, change, error, match) -> None:
    gt_json, pred_json = data
    if reader == "python":
        use_python_reader(gt_json)
    path = gt_json if side == "gt" else pred_json
    edit_json(path, lambda d: change(d["annotations"][1]))
    with pytest.raises(error, match=match.format(json=re.escape(str(path)))):
        evaluate(*data)


def test_image_id_matching_only_as_text_gets_a_hint(data) -> None:
    _, pred_json = data
    edit_json(pred_json, lambda d: d["annotations"][1].update(image_id="2"))
    with pytest.raises(panoptiq.MissingPredictionError) as error:
        evaluate(*data)
    message = str(error.value)
    assert message.startswith("no prediction for the image with id: 2 ")
    assert "has image_id '2' (str) where the ground truth has 2 (int)" in message
    assert "must match in type as well as value" in message


def test_several_missing_predictions_are_counted_and_listed(tmp_path: Path) -> None:
    gt_json, pred_json = make_dataset(tmp_path, 9, seed=1, gt_kinds=("sample",), pred_kinds=("perturbed",))
    edit_json(pred_json, lambda d: d.update(annotations=d["annotations"][:2]))
    with pytest.raises(panoptiq.MissingPredictionError) as error:
        evaluate(gt_json, pred_json)
    message = str(error.value)
    assert message.startswith("no prediction for the image with id: 3 (ground truth ")
    assert "nor for 6 more: 7 of 9 ground-truth images have no annotation in" in message
    assert "(image ids 3, 4, 5, 6, 7, ...)" in message
    assert "type as well as value" not in message


@pytest.mark.parametrize("side", ["gt", "pred"])
def test_a_folder_given_as_the_json_file_says_which_argument(data, side: str) -> None:
    gt_json, pred_json = data
    folder = (gt_json if side == "gt" else pred_json).with_suffix("")
    args = (folder, pred_json) if side == "gt" else (gt_json, folder)
    with pytest.raises(IsADirectoryError, match=rf"is a folder; pass the JSON file as {side}_json_file"):
        evaluate(*args, **{f"{side}_folder": str(folder)})


@pytest.mark.parametrize("kind", ["zip", "tar"])
def test_a_missing_folder_with_an_archive_beside_it_names_the_archive(data, kind: str) -> None:
    gt_json, pred_json = data
    folder = pred_json.with_suffix("")
    expected = evaluate(gt_json, pred_json)
    archive = Path(shutil.make_archive(str(folder), kind, folder.parent, folder.name))
    shutil.rmtree(folder)
    with pytest.raises(FileNotFoundError, match=rf"doesn't exist \({archive.name} is beside it: pass that archive"):
        evaluate(gt_json, pred_json)
    assert evaluate(gt_json, pred_json, pred_folder=str(archive)) == expected


def test_a_file_given_as_the_folder(data, tmp_path: Path) -> None:
    gt_json, pred_json = data
    with pytest.raises(NotADirectoryError, match="is a file, not a folder"):
        evaluate(gt_json, pred_json, gt_folder=str(gt_json))


def test_empty_ground_truth_gives_zeros_and_one_warning(data, tmp_path: Path) -> None:
    gt_json, pred_json = data
    empty = tmp_path / "empty.json"
    empty.write_text(json.dumps({**json.loads(gt_json.read_text()), "annotations": []}))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        results = evaluate(empty, pred_json, gt_folder=str(gt_json.with_suffix("")))
    assert [str(w.message) for w in caught] == [
        "no category has a true positive, false positive or false negative in All, Things, Stuff: "
        "PQ, SQ and RQ are reported as 0.0 with n = 0"
    ]
    assert caught[0].category is RuntimeWarning
    assert all(results[split] == {"pq": 0.0, "sq": 0.0, "rq": 0.0, "n": 0} for split in ("All", "Things", "Stuff"))
