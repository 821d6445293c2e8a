"""LiDAR and video metrics across processes: SemanticKITTI counted on a real Dask LocalCluster
gives the single-machine scores bit for bit, and the evaluators pickled from worker processes
merge into the single evaluator's results."""

from __future__ import annotations

import concurrent.futures
import multiprocessing
import pickle
import warnings
from pathlib import Path

import numpy as np
import pytest

from panoptiq.lidar import Panoptic4DEval, PanopticEval, evaluate_semantic_kitti, make_semantic_kitti
from panoptiq.video import STQuality


@pytest.fixture(scope="module")
def kitti(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_semantic_kitti(tmp_path_factory.mktemp("kitti"), sequences=("08",), scans=12, points=3000, seed=3)


def test_semantic_kitti_on_a_dask_cluster_bit_for_bit(kitti: Path) -> None:
    distributed = pytest.importorskip("distributed", reason="the Dask test needs dask.distributed (panoptiq[test])")
    config = kitti / "semantic-kitti.yaml"
    expected = evaluate_semantic_kitti(kitti, kitti / "predictions", "valid", config)
    assert expected["pq_things"] > 0, "the data must hold matched things"
    with (
        warnings.catch_warnings(),
        distributed.LocalCluster(
            n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None, silence_logs=50
        ) as cluster,
        distributed.Client(cluster) as client,
    ):
        warnings.simplefilter("ignore", ResourceWarning)
        warnings.simplefilter("ignore", DeprecationWarning)
        got = evaluate_semantic_kitti(kitti, kitti / "predictions", "valid", config, client=client, scans_per_part=5)
    assert got == expected


def _scans(seed: int, count: int) -> list[tuple[np.ndarray, ...]]:
    rng = np.random.default_rng(seed)
    out = []
    for _ in range(count):
        y_sem = rng.integers(0, 5, 400)
        y_inst = np.where(y_sem < 3, rng.integers(0, 6, 400), 0).astype(np.uint32)
        x_sem = np.where(rng.random(400) < 0.8, y_sem, rng.integers(0, 5, 400))
        x_inst = np.where(rng.random(400) < 0.8, y_inst, rng.integers(0, 8, 400)).astype(np.uint32)
        out.append((x_sem, x_inst, y_sem, y_inst))
    return out


def _count(part: list[tuple[np.ndarray, ...]]) -> bytes:
    panoptic = PanopticEval(5, None, [0], min_points=3)
    tracks = Panoptic4DEval(5, None, [0], min_points=3)
    stq = STQuality(5, [1, 2], 0, 16, 2**32)
    for scan in part:
        panoptic.addBatch(*scan)
        tracks.addBatch("seq", *scan)
        stq.update_state((scan[2] << 16) + scan[3], (scan[0] << 16) + scan[1], "seq")
    return pickle.dumps((panoptic, tracks, stq))


def test_evaluators_from_worker_processes_merge_into_one() -> None:
    scans = _scans(9, 12)
    whole = pickle.loads(_count(scans))
    with concurrent.futures.ProcessPoolExecutor(2, mp_context=multiprocessing.get_context("spawn")) as pool:
        parts = [pickle.loads(b) for b in pool.map(_count, [scans[:5], scans[5:]])]
    merged = parts[0]
    for evaluator, other in zip(merged, parts[1], strict=True):
        evaluator.merge(other)
    assert [np.asarray(x).tolist() for x in merged[0].getPQ()] == [np.asarray(x).tolist() for x in whole[0].getPQ()]
    # One sequence split in time across two processes: counts add exactly, AQ computed after.
    got, want = merged[1].getPQ4D(), whole[1].getPQ4D()
    assert [np.asarray(x).tolist() for x in got] == [np.asarray(x).tolist() for x in want]
    assert merged[2].result()["STQ"] == whole[2].result()["STQ"]
