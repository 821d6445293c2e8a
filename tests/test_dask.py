"""pq_compute on a real Dask LocalCluster (two worker processes): bit-identical to the
single-machine result whatever the partitioning, through a worker's death, from archives and
object storage; a worker's error comes back with the image named; the partial results merge
exactly on any engine (a process pool here)."""

from __future__ import annotations

import concurrent.futures
import json
import multiprocessing
import os
import shutil
import zipfile
from pathlib import Path

import pytest

distributed = pytest.importorskip("distributed", reason="the Dask tests need dask.distributed (panoptiq[test])")

from panoptiq import cli, evaluation, partials  # noqa: E402
from panoptiq.dask import connect  # noqa: E402
from panoptiq.errors import SchedulerUnreachableError  # noqa: E402
from panoptiq.synthetic import REALISTIC_GT_KINDS, REALISTIC_PRED_KINDS, make_dataset  # noqa: E402

# Dask's own shutdown of a cluster can leave these behind; they are not panoptiq's.
pytestmark = [
    pytest.mark.filterwarnings("ignore::ResourceWarning"),
    pytest.mark.filterwarnings("ignore::DeprecationWarning"),
    pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning"),
]


@pytest.fixture(scope="module")
def cluster():
    with distributed.LocalCluster(
        n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None, silence_logs=50
    ) as cluster:
        yield cluster


@pytest.fixture
def client(cluster):
    with distributed.Client(cluster) as client:
        yield client


@pytest.fixture(scope="module")
def data(tmp_path_factory: pytest.TempPathFactory):
    folder = tmp_path_factory.mktemp("dask")
    gt_json, pred_json = make_dataset(folder, 40, seed=21, gt_kinds=REALISTIC_GT_KINDS, pred_kinds=REALISTIC_PRED_KINDS)
    expected = evaluation.pq_compute(str(gt_json), str(pred_json), verbose=False)
    stat = evaluation.pq_compute_multi_core(*pairs_of(gt_json, pred_json), verbose=False)
    return gt_json, pred_json, expected, stat


def pairs_of(gt_json: Path, pred_json: Path):
    gt, pred = json.loads(gt_json.read_text()), json.loads(pred_json.read_text())
    by_id = {a["image_id"]: a for a in pred["annotations"]}
    pairs = [(a, by_id[a["image_id"]]) for a in gt["annotations"]]
    return pairs, str(gt_json.with_suffix("")), str(pred_json.with_suffix("")), {c["id"]: c for c in gt["categories"]}


@pytest.mark.parametrize("partition_size", [1, 7, 40, None])
def test_the_cluster_gives_the_single_machine_result_bit_for_bit(data, client, partition_size) -> None:
    gt_json, pred_json, expected, _ = data
    seen = []
    got = evaluation.pq_compute(
        str(gt_json),
        str(pred_json),
        verbose=False,
        client=client,
        partition_size=partition_size,
        progress=lambda done, total: seen.append((done, total)),
    )
    assert got == expected
    assert seen[-1] == (40, 40)
    assert [done for done, _ in seen] == sorted(done for done, _ in seen)


@pytest.mark.parametrize("partition_size", [3, None])
def test_per_image_and_per_segment_results_on_the_cluster(data, client, partition_size) -> None:
    gt_json, pred_json, *_ = data
    local = evaluation.pq_compute(str(gt_json), str(pred_json), verbose=False, per_image=True)
    got = evaluation.pq_compute(
        str(gt_json), str(pred_json), verbose=False, per_image=True, client=client, partition_size=partition_size
    )
    assert got == local
    assert len(got["per_image"]) == 40
    assert list(got["segments"]) == list(local["segments"])


def test_evaluation_options_on_the_cluster(data, client) -> None:
    gt_json, pred_json, expected, _ = data
    categories = json.loads(gt_json.read_text())["categories"]
    options = {
        "class_groups": {c["id"]: 10 + c["isthing"] for c in categories},
        "iou_threshold": 0.7,
        "per_image": True,
    }
    local = evaluation.pq_compute(str(gt_json), str(pred_json), verbose=False, **options)
    got = evaluation.pq_compute(str(gt_json), str(pred_json), verbose=False, client=client, partition_size=9, **options)
    assert got == local
    assert set(got["per_class"]) == {10, 11}
    assert got["All"] != expected["All"]


def test_size_slices_intervals_and_error_breakdown_on_the_cluster(data, client) -> None:
    gt_json, pred_json, expected, _ = data
    options = {"size_edges": "coco", "bootstrap": 200, "bootstrap_seed": 5, "error_breakdown": True}
    local = evaluation.pq_compute(str(gt_json), str(pred_json), verbose=False, **options)
    got = evaluation.pq_compute(str(gt_json), str(pred_json), verbose=False, client=client, partition_size=7, **options)
    assert got == local
    assert set(got["sizes"]) == {"small", "medium", "large"}
    assert got["intervals"]["resamples"] == 200
    low, high = got["intervals"]["All"]["pq"]
    assert low < expected["All"]["pq"] < high
    assert sum(kind["fn"] for kind in got["error_breakdown"].values()) > 0


def test_boundary_pq_on_the_cluster(data, client) -> None:
    gt_json, pred_json, *_ = data
    local = evaluation.pq_compute(str(gt_json), str(pred_json), None, None, "boundary", 0.03, verbose=False)
    got = evaluation.pq_compute(
        str(gt_json), str(pred_json), None, None, "boundary", 0.03, verbose=False, client=client
    )
    assert got == local
    assert got != evaluation.pq_compute(str(gt_json), str(pred_json), verbose=False)


def test_boundary_pq_with_the_reference_marker_on_the_cluster(data, client, tmp_path: Path) -> None:
    from marker_data import with_marker_ids

    gt_json, pred_json, _ = with_marker_ids(*data[:2], tmp_path)
    options = {"iou_type": "boundary", "dilation_ratio": 0.03, "verbose": False}
    local = evaluation.pq_compute(str(gt_json), str(pred_json), reference_marker=True, **options)
    got = evaluation.pq_compute(str(gt_json), str(pred_json), reference_marker=True, client=client, **options)
    assert got == local
    assert got != evaluation.pq_compute(str(gt_json), str(pred_json), client=client, **options)


def test_from_a_zip_archive_on_the_cluster(data, client, tmp_path: Path) -> None:
    gt_json, pred_json, expected, _ = data
    archive = tmp_path / "panoptic_val2017.zip"
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as z:
        for png in gt_json.with_suffix("").iterdir():
            z.write(png, f"panoptic_val2017/{png.name}")
    got = evaluation.pq_compute(
        str(gt_json), str(pred_json), gt_folder=str(archive), verbose=False, client=client, partition_size=6
    )
    assert got == expected


def test_from_object_storage_on_the_cluster(data, client) -> None:
    pytest.importorskip("s3fs", reason="object storage needs s3fs (panoptiq[test])")
    pytest.importorskip("moto.server", reason="the local S3 server is moto's (panoptiq[test])")
    from object_storage import moto_server, storage_options, upload

    gt_json, pred_json, expected, _ = data
    with moto_server() as endpoint:
        upload(endpoint, "cluster", {"gt": gt_json.with_suffix(""), "pred": pred_json.with_suffix("")})
        got = evaluation.pq_compute(
            str(gt_json),
            str(pred_json),
            gt_folder="s3://cluster/gt",
            pred_folder="s3://cluster/pred",
            verbose=False,
            client=client,
            partition_size=9,
            storage_options=storage_options(endpoint),
        )
    assert got == expected


class DieOnce(distributed.WorkerPlugin):
    """Kills the worker process the first time any worker starts a panoptiq part."""

    def __init__(self, marker: str) -> None:
        self.marker = marker

    def transition(self, key, start, finish, **kwargs) -> None:
        if finish == "executing" and str(key).startswith("panoptiq-part-"):
            try:
                os.close(os.open(self.marker, os.O_CREAT | os.O_EXCL | os.O_WRONLY))
            except FileExistsError:
                return
            os._exit(1)


def test_a_worker_that_dies_mid_run_changes_nothing(data, cluster, tmp_path: Path) -> None:
    gt_json, pred_json, expected, _ = data
    marker = tmp_path / "died"
    with distributed.Client(cluster) as client:
        client.register_plugin(DieOnce(str(marker)), name="die-once")
        try:
            got = evaluation.pq_compute(str(gt_json), str(pred_json), verbose=False, client=client, partition_size=5)
        finally:
            client.unregister_worker_plugin("die-once")
        assert marker.exists(), "no worker died: the test tested nothing"
        assert got == expected
        client.wait_for_workers(2, timeout=60)


def test_a_workers_error_is_raised_here_with_the_image(data, client, tmp_path: Path) -> None:
    gt_json, pred_json, *_ = data
    pred_folder = tmp_path / "pred"
    shutil.copytree(pred_json.with_suffix(""), pred_folder)
    (pred_folder / "000000000033.png").unlink()
    with pytest.raises(FileNotFoundError, match=r"^In the image with ID 33: cannot read .*000000000033\.png"):
        evaluation.pq_compute(
            str(gt_json), str(pred_json), pred_folder=str(pred_folder), verbose=False, client=client, partition_size=4
        )


def test_an_unreachable_scheduler_is_a_connection_error() -> None:
    from object_storage import free_port

    address = f"tcp://127.0.0.1:{free_port()}"
    with pytest.raises(SchedulerUnreachableError, match=f"cannot reach the Dask scheduler at {address}"):
        connect(address, timeout=1)
    assert issubclass(SchedulerUnreachableError, ConnectionError)


def test_the_command_line_runs_on_the_scheduler(data, cluster, tmp_path: Path, capsys) -> None:
    gt_json, pred_json, expected, _ = data
    out = tmp_path / "out.json"
    argv = ["eval", str(gt_json), str(pred_json), "--scheduler", cluster.scheduler_address, "--no-progress"]
    per_image, local = tmp_path / "images.csv", tmp_path / "local.csv"
    assert cli.main([*argv, "--partition-size", "8", "--json", str(out), "--per-image", str(per_image)]) == 0
    assert "on the Dask cluster at" in capsys.readouterr().out
    written = json.loads(out.read_text())
    for split in ("All", "Things", "Stuff"):
        assert written[split] == expected[split]
    assert cli.main(["eval", str(gt_json), str(pred_json), "--no-progress", "--per-image", str(local)]) == 0
    assert per_image.read_text() == local.read_text()


def test_partials_merge_exactly_on_a_process_pool(data) -> None:
    """The README's engine-agnostic recipe, on a plain process pool."""
    gt_json, pred_json, expected, stat = data
    plan = partials.plan(str(gt_json), str(pred_json), partition_size=6)
    assert len(plan) == 7
    with concurrent.futures.ProcessPoolExecutor(2, mp_context=multiprocessing.get_context("spawn")) as pool:
        results = list(pool.map(partials.evaluate, plan.parts))
    assert plan.combine(results) == expected
    assert plan.stat(reversed(results)) == stat
    with pytest.raises(ValueError, match="evaluate it with details=True"):
        plan.details(results)
    detailed = [partials.evaluate(part, details=True) for part in reversed(plan.parts)]
    per_image, segments = plan.details(detailed)
    local = evaluation.pq_compute(str(gt_json), str(pred_json), verbose=False, per_image=True)
    assert per_image == local["per_image"]
    assert segments == local["segments"]
    assert plan.combine(detailed) == expected
    assert partials.merge(results) == stat
    # The serialized form is versioned JSON; damaged or incomplete sets of results are refused.
    first = json.loads(results[0])
    assert (first["format"], first["version"], first["images"]) == ("panoptiq.partial", 2, [0, 6])
    with pytest.raises(ValueError, match="1 of 7 parts have no result"):
        plan.combine(results[1:])
    with pytest.raises(ValueError, match="two results for part 0"):
        plan.combine([*results, results[0]])
    with pytest.raises(ValueError, match=r"unsupported panoptiq\.partial version 3"):
        plan.combine([json.dumps({**first, "version": 3}), *results[1:]])
