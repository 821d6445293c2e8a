"""The converters' command lines: ``panoptiq convert <name>`` (refusing non-empty outputs unless
``--overwrite``), the ``python -m panoptiq.converters.<script>`` forms with panopticapi's flags,
and ``panopticapi.combine_semantic_and_instance_predictions`` after install_as_panopticapi()."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

import panoptiq
from panoptiq.cli import main

SAMPLE = Path(panoptiq.__file__).parent / "data" / "coco_sample"
CATEGORIES = SAMPLE / "panoptic_coco_categories.json"
PANOPTIC = SAMPLE / "panoptic_examples.json"


def _to_detection(out: Path, *extra: str) -> int:
    return main(
        [
            "convert",
            "panoptic2detection",
            "--input_json_file",
            str(PANOPTIC),
            "--segmentations_folder",
            str(SAMPLE / "panoptic_examples"),
            "--categories_json_file",
            str(CATEGORIES),
            "--output_json_file",
            str(out),
            "--quiet",
            *extra,
        ]
    )


def test_round_trip_through_the_command_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    detection = tmp_path / "detection.json"
    assert _to_detection(detection) == 0
    records = json.loads(detection.read_text())["annotations"]
    expected = sum(len(a["segments_info"]) for a in json.loads(PANOPTIC.read_text())["annotations"])
    assert len(records) == expected
    assert [r["id"] for r in records] == list(range(expected))
    panoptic = tmp_path / "back.json"
    args = ["--input_json_file", str(detection), "--output_json_file", str(panoptic)]
    assert main(["convert", "detection2panoptic", *args, "--categories_json_file", str(CATEGORIES), "--quiet"]) == 0
    result = panoptiq.pq_compute(str(PANOPTIC), str(panoptic), str(SAMPLE / "panoptic_examples"), verbose=False)
    assert result["All"]["pq"] == 1.0
    capsys.readouterr()


def test_existing_outputs_need_overwrite(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    detection = tmp_path / "detection.json"
    assert _to_detection(detection) == 0
    before = detection.read_bytes()
    assert _to_detection(detection) == 1
    assert "--overwrite" in capsys.readouterr().err
    assert detection.read_bytes() == before
    assert _to_detection(detection, "--overwrite") == 0
    folder = tmp_path / "pngs"
    folder.mkdir()
    (folder / "keep.txt").write_text("mine")
    args = ["convert", "2channels", "--source_folder", str(SAMPLE / "panoptic_examples_2ch_format")]
    args += ["--images_json_file", str(PANOPTIC), "--categories_json_file", str(CATEGORIES), "--quiet"]
    args += ["--segmentations_folder", str(folder), "--predictions_json_file", str(tmp_path / "p.json")]
    assert main(args) == 1
    assert "not empty" in capsys.readouterr().err
    assert sorted(p.name for p in folder.iterdir()) == ["keep.txt"]
    assert main([*args, "--overwrite"]) == 0
    assert len(list(folder.glob("*.png"))) == 2


def test_script_modules_take_panopticapis_flags(tmp_path: Path) -> None:
    out = tmp_path / "semantic"
    command = [
        sys.executable,
        "-m",
        "panoptiq.converters.panoptic2semantic_segmentation",
        "--input_json_file",
        str(PANOPTIC),
        "--segmentations_folder",
        str(SAMPLE / "panoptic_examples"),
        "--semantic_seg_folder",
        str(out),
        "--categories_json_file",
        str(CATEGORIES),
        "--quiet",
    ]
    subprocess.run(command, check=True, capture_output=True)
    # Run twice: the script form reuses its output folder, as panopticapi's script does.
    subprocess.run(command, check=True, capture_output=True)
    assert len(list(out.glob("*.png"))) == 2
    failed = subprocess.run([*command[:3], "--input_json_file", str(tmp_path / "missing.json")], capture_output=True)
    assert failed.returncode != 0


def test_the_shim_maps_combine(tmp_path: Path) -> None:
    code = (
        "import panoptiq; panoptiq.install_as_panopticapi(subprocesses=False); "
        "from panopticapi.combine_semantic_and_instance_predictions import combine_predictions; "
        "import panoptiq.converters as c; assert combine_predictions is c.combine_predictions; print('ok')"
    )
    done = subprocess.run([sys.executable, "-c", code], check=True, capture_output=True, text=True)
    assert done.stdout.strip() == "ok"
