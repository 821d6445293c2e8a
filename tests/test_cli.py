"""The panoptiq command line and ``python -m panoptiq.evaluation``."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

import panoptiq
from panoptiq.cli import main
from panoptiq.synthetic import make_dataset


@pytest.fixture(scope="module")
def data(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    return make_dataset(tmp_path_factory.mktemp("cli"), 6, seed=3)


def test_eval_prints_panopticapi_table_and_writes_json(data, tmp_path: Path, capsys) -> None:
    gt_json, pred_json = data
    out = tmp_path / "results.json"
    assert main(["eval", str(gt_json), str(pred_json), "--threads", "2", "--json", str(out), "--per-class"]) == 0
    printed = capsys.readouterr()
    expected = panoptiq.pq_compute(str(gt_json), str(pred_json), verbose=False)
    row = f"All       | {100 * expected['All']['pq']:5.1f}  {100 * expected['All']['sq']:5.1f}"
    assert row in printed.out
    assert "person" in printed.out  # the per-class table names categories
    assert "6/6 images" in printed.err  # progress, plain form without tqdm on a pipe
    written = json.loads(out.read_text())
    assert written["All"] == expected["All"]
    person = written["per_class"]["1"]
    assert person["name"] == "person"
    assert person["pq"] == expected["per_class"][1]["pq"]
    assert {"tp", "fp", "fn", "iou_sum"} <= set(person)


def test_eval_error_exits_non_zero_without_traceback(data, tmp_path: Path, capsys) -> None:
    gt_json, _ = data
    assert main(["eval", str(gt_json), str(tmp_path / "missing.json")]) == 1
    err = capsys.readouterr().err
    assert err.startswith("panoptiq: error: prediction JSON file")
    assert "Traceback" not in err


def test_key_errors_print_their_message_unquoted(data, tmp_path: Path, capsys) -> None:
    gt_json, pred_json = data
    broken = tmp_path / "pred.json"
    body = json.loads(pred_json.read_text())
    body["annotations"][0]["segments_info"].append({"id": 5, "category_id": 1})
    broken.write_text(json.dumps(body))
    argv = ["eval", str(gt_json), str(broken), "--pred-folder", str(pred_json.with_suffix(""))]
    assert main(argv) == 1
    assert "panoptiq: error: In the image with ID 1 the following segment IDs [5]" in capsys.readouterr().err


def test_threads_must_be_positive(data) -> None:
    with pytest.raises(SystemExit):
        main(["eval", *map(str, data), "--threads", "0"])


def test_demo_runs(capsys) -> None:
    assert main(["demo", "--images", "8"]) == 0
    out = capsys.readouterr().out
    assert "Evaluating 8 images" in out
    assert "Things    |" in out


def test_console_script_and_module_entry_points(data) -> None:
    gt_json, pred_json = data
    for command in (
        [sys.executable, "-m", "panoptiq", "eval", str(gt_json), str(pred_json), "--no-progress"],
        [
            sys.executable,
            "-m",
            "panoptiq.evaluation",
            "--gt_json_file",
            str(gt_json),
            "--pred_json_file",
            str(pred_json),
        ],
    ):
        result = subprocess.run(command, capture_output=True, text=True, check=True)
        assert "Stuff     |" in result.stdout
