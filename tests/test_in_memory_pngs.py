"""PNGs given as bytes or binary file objects wherever a PNG path is accepted: pq_compute's
folders as mappings, visualize's inputs."""

from __future__ import annotations

import io
import json
from pathlib import Path

import numpy as np
import pytest

from panoptiq import pq_compute
from panoptiq.synthetic import make_dataset
from panoptiq.visualize import colorize, error_image


@pytest.fixture(scope="module")
def dataset(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    return make_dataset(tmp_path_factory.mktemp("in-memory"), 12, seed=5)


def _files(json_file: Path) -> dict[str, bytes]:
    folder = json_file.with_suffix("")
    names = [a["file_name"] for a in json.loads(json_file.read_text())["annotations"]]
    return {name: (folder / name).read_bytes() for name in names}


def test_folders_as_mappings_give_the_folders_numbers(dataset: tuple[Path, Path]) -> None:
    gt_json, pred_json = dataset
    on_disk = pq_compute(str(gt_json), str(pred_json), verbose=False)
    assert 0 < on_disk["All"]["pq"] < 1  # imperfect predictions: the comparison can fail
    pred_bytes = _files(pred_json)
    as_bytes = pq_compute(str(gt_json), str(pred_json), None, pred_bytes, verbose=False)
    gt_objects = {k: io.BytesIO(v) for k, v in _files(gt_json).items()}
    pred_paths = {k: pred_json.with_suffix("") / k for k in pred_bytes}
    as_objects = pq_compute(str(gt_json), str(pred_json), gt_objects, pred_paths, verbose=False, per_image=True)
    for result in (as_bytes, as_objects):
        for group in ("All", "Things", "Stuff"):
            assert result[group] == on_disk[group]
        assert result["per_class"] == on_disk["per_class"]


def test_a_png_missing_from_the_mapping_names_the_image(dataset: tuple[Path, Path]) -> None:
    gt_json, pred_json = dataset
    files = _files(pred_json)
    first = json.loads(pred_json.read_text())["annotations"][0]
    del files[first["file_name"]]
    with pytest.raises(FileNotFoundError, match=f"image with ID {first['image_id']}.*{first['file_name']}"):
        pq_compute(str(gt_json), str(pred_json), None, files, verbose=False)


def test_text_mode_file_objects_are_refused(dataset: tuple[Path, Path]) -> None:
    gt_json, pred_json = dataset
    files: dict[str, object] = dict(_files(pred_json))
    name = next(iter(files))
    files[name] = io.StringIO("not a png")
    with pytest.raises(TypeError, match="binary mode"):
        pq_compute(str(gt_json), str(pred_json), None, files, verbose=False)


def test_in_memory_pngs_cannot_go_to_a_cluster(dataset: tuple[Path, Path]) -> None:
    gt_json, pred_json = dataset
    with pytest.raises(ValueError, match="cannot go to a cluster"):
        pq_compute(str(gt_json), str(pred_json), None, _files(pred_json), verbose=False, client=object())


def test_visualize_reads_png_bytes_and_file_objects(dataset: tuple[Path, Path]) -> None:
    gt_json, pred_json = dataset
    gt = json.loads(gt_json.read_text())
    pred = json.loads(pred_json.read_text())
    gt_ann, pred_ann = gt["annotations"][0], pred["annotations"][0]
    gt_path = gt_json.with_suffix("") / gt_ann["file_name"]
    pred_path = pred_json.with_suffix("") / pred_ann["file_name"]
    from_path = colorize(str(gt_path), gt_ann["segments_info"], gt["categories"])
    from_bytes = colorize(gt_path.read_bytes(), gt_ann["segments_info"], gt["categories"])
    with open(gt_path, "rb") as f:
        from_object = colorize(f, gt_ann["segments_info"], gt["categories"])
    assert from_path.shape[2] == 3
    assert from_path.any()
    np.testing.assert_array_equal(from_bytes, from_path)
    np.testing.assert_array_equal(from_object, from_path)
    args = (gt_ann["segments_info"], pred_ann["segments_info"], gt["categories"])
    np.testing.assert_array_equal(
        error_image(gt_path.read_bytes(), io.BytesIO(pred_path.read_bytes()), *args),
        error_image(str(gt_path), str(pred_path), *args),
    )
