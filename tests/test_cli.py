"""The panoptiq command line and ``python -m panoptiq.evaluation``."""

from __future__ import annotations

import importlib.metadata
import json
import subprocess
import sys
from pathlib import Path

import pytest

import panoptiq
from panoptiq import partials
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


@pytest.mark.parametrize("command", ["eval", "demo"])
def test_threads_must_be_positive_and_the_subcommand_usage_is_shown(data, command, capsys) -> None:
    argv = ["eval", *map(str, data)] if command == "eval" else ["demo"]
    with pytest.raises(SystemExit) as exit_:
        main([*argv, "--threads", "0"])
    assert exit_.value.code == 2
    err = capsys.readouterr().err
    assert err.startswith(f"usage: panoptiq {command} ")
    assert "argument --threads: must be at least 1, got 0" in err


def test_demo_runs_and_says_where_its_data_went(capsys) -> None:
    assert main(["demo", "--images", "8"]) == 0
    out = capsys.readouterr().out
    assert "Evaluating 8 images" in out
    assert "Things    |" in out
    assert "Writing 8 image pairs made from the 2 real COCO val2017 panoptic ground truths" in out
    folder = out.split("shipped with panoptiq to ", 1)[1].split(":", 1)[0]
    assert f"ground truth {folder}/gt.json + {folder}/gt/" in out
    assert f"predictions  {folder}/pred.json + {folder}/pred/" in out
    assert f"{folder} has been removed (keep it with --out DIR)" in out
    assert not Path(folder).exists()


def test_demo_keeps_its_data_with_out(tmp_path: Path, capsys) -> None:
    folder = tmp_path / "demo"
    assert main(["demo", "--images", "4", "--out", str(folder)]) == 0
    assert f"The data is in {folder}." in capsys.readouterr().out
    assert len(list((folder / "pred").glob("*.png"))) == 4
    assert main(["demo", "--images", "4", "--out", str(folder)]) == 1
    assert "exists and is not empty" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("argv", "description"),
    [
        ([], "Panoptic Quality (PQ) evaluation with the numbers of panopticapi."),
        (["eval"], "Evaluate panoptic predictions against ground truth, both in COCO panoptic format"),
        (["demo"], "Write a small COCO panoptic dataset made from the two real COCO val2017 ground truths"),
    ],
)
def test_help_describes_every_command(argv, description, capsys) -> None:
    with pytest.raises(SystemExit) as exit_:
        main([*argv, "--help"])
    assert exit_.value.code == 0
    assert description in " ".join(capsys.readouterr().out.split())


def test_version(capsys) -> None:
    with pytest.raises(SystemExit) as exit_:
        main(["--version"])
    assert exit_.value.code == 0
    assert capsys.readouterr().out.strip() == f"panoptiq {panoptiq.__version__}"
    assert panoptiq.__version__ == importlib.metadata.version("panoptiq") != "0+unknown"


def test_json_to_stdout_keeps_stdout_pure_json(data, capsys) -> None:
    gt_json, pred_json = data
    assert main(["eval", str(gt_json), str(pred_json), "--json", "-", "--per-class"]) == 0
    printed = capsys.readouterr()
    written = json.loads(printed.out)
    expected = panoptiq.pq_compute(str(gt_json), str(pred_json), verbose=False)
    assert written["All"] == expected["All"]
    assert "All       |" in printed.err
    assert "person" in printed.err


@pytest.mark.parametrize(
    ("target", "message"),
    [
        ("missing-folder/out.json", "folder {tmp}/missing-folder does not exist"),
        ("", "{tmp}/ is a folder; give a file name"),
        ("/proc/panoptiq-results.json", "cannot be written"),
    ],
)
def test_output_path_is_checked_before_evaluation(data, tmp_path: Path, target, message, capsys) -> None:
    out = target if target.startswith("/") else f"{tmp_path}/{target}"
    assert main(["eval", *map(str, data), "--json", out]) == 1
    printed = capsys.readouterr()
    assert message.format(tmp=tmp_path) in printed.err
    assert "Evaluating" not in printed.out  # nothing was evaluated
    assert not Path(out).is_file()


def test_output_check_leaves_no_file_and_keeps_an_existing_one(data, tmp_path: Path, capsys) -> None:
    out = tmp_path / "results.json"
    gt_json, pred_json = data
    broken = tmp_path / "broken.json"
    broken.write_text("{")
    assert (
        main(["eval", str(gt_json), str(broken), "--json", str(out), "--pred-folder", str(pred_json.with_suffix(""))])
        == 1
    )
    assert not out.exists()
    out.write_text("old results")
    assert (
        main(["eval", str(gt_json), str(broken), "--json", str(out), "--pred-folder", str(pred_json.with_suffix(""))])
        == 1
    )
    assert out.read_text() == "old results"


def per_class_table(out: str) -> list[list[str]]:
    lines = out.split("-" * 84 + "\n", 1)[1].splitlines()
    return [line.split() for line in lines if "|" in line]


def test_per_class_hides_unseen_categories_unless_all_classes(data, capsys) -> None:
    plan = partials.plan(*map(str, data))
    stat = plan.stat(partials.evaluate(part) for part in plan.parts)
    counted = sorted(c for c, s in stat.pq_per_cat.items() if s.tp + s.fp + s.fn > 0)
    assert main(["eval", *map(str, data), "--per-class", "--no-progress"]) == 0
    shown = [int(row[0]) for row in per_class_table(capsys.readouterr().out)]
    assert shown == counted
    assert main(["eval", *map(str, data), "--per-class", "--all-classes", "--no-progress"]) == 0
    assert len(per_class_table(capsys.readouterr().out)) == 133


def test_per_class_sorts(data, capsys) -> None:
    assert main(["eval", *map(str, data), "--per-class", "--sort", "pq", "--no-progress"]) == 0
    pq = [float(row[row.index("|") + 1]) for row in per_class_table(capsys.readouterr().out)]
    assert len(pq) > 3
    assert pq == sorted(pq, reverse=True)
    assert main(["eval", *map(str, data), "--per-class", "--sort", "name", "--no-progress"]) == 0
    names = [" ".join(row[1 : row.index("|") - 1]) for row in per_class_table(capsys.readouterr().out)]
    assert names == sorted(names, key=str.lower)


def test_empty_ground_truth_is_one_clear_line(data, tmp_path: Path, capsys) -> None:
    gt_json, pred_json = data
    empty = tmp_path / "empty.json"
    empty.write_text(json.dumps({**json.loads(gt_json.read_text()), "annotations": []}))
    argv = ["eval", str(empty), str(pred_json), "--gt-folder", str(gt_json.with_suffix(""))]
    assert main(argv) == 1
    err = capsys.readouterr().err
    assert err == f"panoptiq: error: the ground truth {empty} has no annotations: there is nothing to evaluate\n"


def test_warnings_are_one_line_each_without_source(data, tmp_path: Path) -> None:
    gt_json, pred_json = data
    things_only = tmp_path / "things.json"
    body = json.loads(gt_json.read_text())
    for category in body["categories"]:
        category["isthing"] = 1
    things_only.write_text(json.dumps(body))
    command = [sys.executable, "-m", "panoptiq", "eval", str(things_only), str(pred_json), "--no-progress"]
    command += ["--gt-folder", str(gt_json.with_suffix(""))]
    result = subprocess.run(command, capture_output=True, text=True, check=True)
    assert result.stderr.splitlines() == [
        "panoptiq: warning: no stuff category has a true positive, false positive or false negative: "
        "PQ, SQ and RQ are reported as 0.0 with n = 0"
    ]


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
