"""Every bad dataset input gets a typed exception naming the image, its file and the segment."""

from __future__ import annotations

import json
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
    with pytest.raises(ValueError, match=rf"{gt_json} has no 'categories' list"):
        evaluate(*data)
    pred_json.write_text("[]")
    with pytest.raises(ValueError, match=rf"{pred_json} has no 'annotations' list"):
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
    with pytest.raises(KeyError, match=r"In the image with ID 2 ground-truth segment #3 .* has no 'iscrowd'"):
        evaluate(*data)


def test_the_first_failing_image_is_reported(data) -> None:
    _, pred_json = data
    png(pred_json, 3).unlink()
    png(pred_json, 2).write_bytes(b"junk")
    with pytest.raises(ValueError, match="In the image with ID 2"):
        evaluate(*data)
