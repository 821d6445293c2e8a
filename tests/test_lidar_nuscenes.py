"""Panoptic nuScenes' segmentation evaluation from .npz files: the devkit's fine-to-challenge class
map, min_inst_points 15, PQ / SQ / RQ / IoU per class and PQ† — against the reference evaluator
written from the definitions, fed the mapped arrays; bad files named."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from reference_lidar import PanopticReference

from panoptiq.lidar import evaluate_nuscenes_panoptic, fine_to_coarse, read_panoptic_npz
from panoptiq.lidar._nuscenes import COARSE, STUFF, THINGS

#: A few of nuScenes' fine categories with made-up indices (the map reads them from the file).
CATEGORIES = [
    {"name": "noise", "index": 0},
    {"name": "human.pedestrian.adult", "index": 2},
    {"name": "human.pedestrian.child", "index": 3},
    {"name": "animal", "index": 1},
    {"name": "vehicle.car", "index": 17},
    {"name": "vehicle.bus.rigid", "index": 16},
    {"name": "flat.driveable_surface", "index": 24},
    {"name": "static.vegetation", "index": 30},
]


def test_the_fine_categories_map_as_the_devkit_maps_them(tmp_path: Path) -> None:
    (tmp_path / "category.json").write_text(json.dumps(CATEGORIES))
    table = fine_to_coarse(tmp_path / "category.json")
    names = {fine: COARSE[coarse] for fine, coarse in table.items()}
    assert names == {
        0: "ignore",
        1: "ignore",
        2: "pedestrian",
        3: "pedestrian",
        16: "bus",
        17: "car",
        24: "driveable_surface",
        30: "vegetation",
    }


def _scan(rng: np.random.Generator, n: int) -> tuple[np.ndarray, np.ndarray]:
    fine = rng.choice([0, 1, 2, 3, 16, 17, 24, 30], size=n)
    instance = np.where(np.isin(fine, [2, 3, 16, 17]), rng.integers(1, 6, size=n), 0)
    gt = (fine * 1000 + instance).astype(np.uint16)
    coarse = np.array(
        [COARSE.index(c) for c in ("ignore", "pedestrian", "bus", "car", "driveable_surface", "vegetation")]
    )
    pred_class = np.where(rng.random(n) < 0.8, fine_to_coarse_array(fine), rng.choice(coarse, size=n))
    pred_inst = np.where(rng.random(n) < 0.85, instance, rng.integers(0, 8, size=n))
    pred = (pred_class * 1000 + pred_inst).astype(np.uint16)
    return gt, pred


def fine_to_coarse_array(fine: np.ndarray) -> np.ndarray:
    table = fine_to_coarse(CATEGORIES)
    return np.array([table[int(f)] for f in fine])


def test_results_equal_the_reference_fed_the_mapped_arrays(tmp_path: Path) -> None:
    rng = np.random.default_rng(8)
    reference = PanopticReference(len(COARSE), (0,), 15)
    scans = []
    for i in range(6):
        gt, pred = _scan(rng, 600)
        np.savez_compressed(tmp_path / f"gt{i}_panoptic.npz", data=gt)
        np.savez_compressed(tmp_path / f"pred{i}_panoptic.npz", data=pred)
        scans.append((tmp_path / f"gt{i}_panoptic.npz", tmp_path / f"pred{i}_panoptic.npz"))
        reference.add(pred // 1000, pred, fine_to_coarse_array(gt // 1000), gt)
    got = evaluate_nuscenes_panoptic(scans, CATEGORIES)
    pq, sq, rq, all_pq, all_sq, all_rq = reference.pq()
    iou, all_iou = reference.sem_iou()
    assert got["all"]["PQ"] == pytest.approx(pq, rel=1e-12)
    assert (got["all"]["SQ"], got["all"]["RQ"]) == (pytest.approx(sq, rel=1e-12), pytest.approx(rq, rel=1e-12))
    assert got["all"]["mIoU"] == pytest.approx(iou, rel=1e-12)
    assert got["car"]["PQ"] > 0, "the data must hold matched cars"
    for idx, name in enumerate(COARSE):
        assert got[name]["PQ"] == pytest.approx(all_pq[idx], rel=1e-12, abs=1e-15)
        assert got[name]["IoU"] == pytest.approx(all_iou[idx], rel=1e-12, abs=1e-15)
        assert got[name]["SQ"] == pytest.approx(all_sq[idx], rel=1e-12, abs=1e-15)
        assert got[name]["RQ"] == pytest.approx(all_rq[idx], rel=1e-12, abs=1e-15)
    dagger = np.mean([all_pq[COARSE.index(c)] for c in THINGS] + [all_iou[COARSE.index(c)] for c in STUFF])
    assert got["all"]["PQ_dagger"] == pytest.approx(dagger, rel=1e-12)


def test_bad_files_are_named(tmp_path: Path) -> None:
    np.savez_compressed(tmp_path / "labels.npz", labels=np.zeros(3, np.uint16))
    with pytest.raises(ValueError, match=r"labels\.npz holds no 'data' array"):
        read_panoptic_npz(tmp_path / "labels.npz")
    np.savez_compressed(tmp_path / "a.npz", data=np.array([17001, 17001, 24000], np.uint16))
    np.savez_compressed(tmp_path / "b.npz", data=np.array([4001, 4001], np.uint16))
    with pytest.raises(ValueError, match=r"b\.npz has 2 points, the ground truth .*a\.npz 3"):
        evaluate_nuscenes_panoptic([(tmp_path / "a.npz", tmp_path / "b.npz")], CATEGORIES)
    np.savez_compressed(tmp_path / "c.npz", data=np.array([99001, 17001, 24000], np.int32))
    with pytest.raises(ValueError, match="category 99"):
        evaluate_nuscenes_panoptic([(tmp_path / "c.npz", tmp_path / "a.npz")], CATEGORIES)
