"""Datasets in object storage: a real S3-compatible server (moto's, started here on 127.0.0.1)
read back through s3fs give the local numbers bit for bit; fsspec's memory filesystem too."""

from __future__ import annotations

import json
import tarfile
from pathlib import Path

import pytest

pytest.importorskip("s3fs", reason="object storage needs the s3fs extra (installed by panoptiq[test])")
pytest.importorskip("moto.server", reason="the local S3 server is moto's (installed by panoptiq[test])")
fsspec = pytest.importorskip("fsspec", reason="URLs are read through fsspec (installed by panoptiq[test])")

from object_storage import moto_server, storage_options, upload  # noqa: E402

from panoptiq import cli, evaluation  # noqa: E402
from panoptiq.results import summarize  # noqa: E402
from panoptiq.synthetic import REALISTIC_GT_KINDS, REALISTIC_PRED_KINDS, make_dataset  # noqa: E402


@pytest.fixture(scope="module")
def data(tmp_path_factory: pytest.TempPathFactory):
    folder = tmp_path_factory.mktemp("s3")
    gt_json, pred_json = make_dataset(folder, 20, seed=9, gt_kinds=REALISTIC_GT_KINDS, pred_kinds=REALISTIC_PRED_KINDS)
    shard = folder / "pred-000.tar"
    with tarfile.open(shard, "w") as t:
        t.add(pred_json.with_suffix(""), "pred")
    expected = evaluation.pq_compute(str(gt_json), str(pred_json), verbose=False)
    return gt_json, pred_json, shard, expected


@pytest.fixture(scope="module")
def s3(data):
    gt_json, pred_json, shard, _ = data
    with moto_server() as endpoint:
        upload(
            endpoint,
            "panoptic",
            {
                "val/gt.json": gt_json,
                "val/pred.json": pred_json,
                "val/gt": gt_json.with_suffix(""),
                "val/pred": pred_json.with_suffix(""),
                "shards/pred-000.tar": shard,
            },
        )
        yield endpoint


def test_a_dataset_in_s3_gives_the_local_numbers(data, s3) -> None:
    *_, expected = data
    got = evaluation.pq_compute(
        "s3://panoptic/val/gt.json", "s3://panoptic/val/pred.json", verbose=False, storage_options=storage_options(s3)
    )
    assert got == expected


def test_a_tar_shard_in_s3_is_fetched_once_and_read_in_memory(data, s3) -> None:
    gt_json, pred_json, _, expected = data
    got = evaluation.pq_compute(
        str(gt_json),
        str(pred_json),
        pred_folder="s3://panoptic/shards/pred-000.tar/pred",
        verbose=False,
        storage_options=storage_options(s3),
    )
    assert got == expected


def test_a_missing_object_is_named_by_its_url(data, s3) -> None:
    gt_json, pred_json, *_ = data
    with pytest.raises(FileNotFoundError) as error:
        evaluation.pq_compute(
            str(gt_json), str(pred_json), pred_folder="s3://panoptic/val/nothing", verbose=False,
            storage_options=storage_options(s3),
        )  # fmt: skip
    assert str(error.value) == (
        "In the image with ID 1: cannot read the predicted PNG "
        "s3://panoptic/val/nothing/000000000001.png: no such object"
    )
    with pytest.raises(FileNotFoundError, match=r"ground truth JSON file s3://panoptic/val/none\.json does not exist"):
        evaluation.pq_compute(
            "s3://panoptic/val/none.json", str(pred_json), verbose=False, storage_options=storage_options(s3)
        )


def test_refused_credentials_are_a_permission_error() -> None:
    with moto_server(refuse_credentials=True) as endpoint, pytest.raises(PermissionError) as error:
        evaluation.pq_compute(
            "s3://panoptic/val/gt.json",
            "s3://panoptic/val/pred.json",
            verbose=False,
            storage_options=storage_options(endpoint, key="nobody", secret="wrong"),
        )
    assert "s3://panoptic/val/gt.json: access refused" in str(error.value)
    assert "storage_options" in str(error.value)


def test_the_command_line_takes_storage_options(data, s3, capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    *_, expected = data
    options = tmp_path / "options.json"
    options.write_text(json.dumps(storage_options(s3)))
    out = tmp_path / "out.json"
    argv = ["eval", "s3://panoptic/val/gt.json", "s3://panoptic/val/pred.json", "--no-progress"]
    assert cli.main([*argv, "--storage-options", f"@{options}", "--json", str(out)]) == 0
    written = json.loads(out.read_text())
    assert written["All"] == expected["All"]
    assert cli.main([*argv, "--storage-options", "[1]"]) == 1
    assert "--storage-options must be a JSON object" in capsys.readouterr().err


def test_fsspec_memory_filesystem_and_the_pairs_api(data) -> None:
    gt_json, pred_json, _, expected = data
    fs = fsspec.filesystem("memory")
    for side in (gt_json, pred_json):
        for png in side.with_suffix("").iterdir():
            fs.pipe(f"/panoptiq-test/{side.stem}/{png.name}", png.read_bytes())
    gt, pred = json.loads(gt_json.read_text()), json.loads(pred_json.read_text())
    by_id = {a["image_id"]: a for a in pred["annotations"]}
    pairs = [(a, by_id[a["image_id"]]) for a in gt["annotations"]]
    categories = {c["id"]: c for c in gt["categories"]}
    stat = evaluation.pq_compute_multi_core(
        pairs, "memory://panoptiq-test/gt", "memory://panoptiq-test/pred", categories, verbose=False
    )
    local = evaluation.pq_compute_multi_core(
        pairs, str(gt_json.with_suffix("")), str(pred_json.with_suffix("")), categories, verbose=False
    )
    assert stat == local
    assert summarize(stat, categories) == expected
    fs.rm("/panoptiq-test", recursive=True)
