"""Panoptic nuScenes' segmentation evaluation (nuScenes-devkit's ``NuScenesPanopticEval``, its
"segmentation" task) without the dataset's tables: ``<sample_data_token>_panoptic.npz`` files read
directly, fine categories mapped to the challenge's 16 classes by the devkit's rule, and PQ, SQ,
RQ, IoU and PQ† per class and overall."""

from __future__ import annotations

import json
import os
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import numpy as np

from panoptiq.lidar._panoptic import PanopticEval

#: The challenge's classes: index 0 is ignored.
COARSE = (
    "ignore",
    "barrier",
    "bicycle",
    "bus",
    "car",
    "construction_vehicle",
    "motorcycle",
    "pedestrian",
    "traffic_cone",
    "trailer",
    "truck",
    "driveable_surface",
    "other_flat",
    "sidewalk",
    "terrain",
    "manmade",
    "vegetation",
)
THINGS = COARSE[1:11]
STUFF = COARSE[11:]
#: The devkit's panoptic challenge default.
MIN_INST_POINTS = 15

#: Each fine nuScenes category's challenge class; the fine categories not listed are ignored.
_FINE_TO_COARSE = {
    "human.pedestrian.adult": "pedestrian",
    "human.pedestrian.child": "pedestrian",
    "human.pedestrian.police_officer": "pedestrian",
    "human.pedestrian.construction_worker": "pedestrian",
    "vehicle.car": "car",
    "vehicle.motorcycle": "motorcycle",
    "vehicle.bicycle": "bicycle",
    "vehicle.bus.bendy": "bus",
    "vehicle.bus.rigid": "bus",
    "vehicle.truck": "truck",
    "vehicle.construction": "construction_vehicle",
    "vehicle.trailer": "trailer",
    "movable_object.barrier": "barrier",
    "movable_object.trafficcone": "traffic_cone",
    "flat.driveable_surface": "driveable_surface",
    "flat.sidewalk": "sidewalk",
    "flat.terrain": "terrain",
    "flat.other": "other_flat",
    "static.manmade": "manmade",
    "static.vegetation": "vegetation",
}


def fine_to_coarse(categories: str | os.PathLike[str] | Iterable[Mapping[str, Any]]) -> dict[int, int]:
    """The devkit's map from fine category index to challenge class index, from the dataset's
    ``category.json`` (a path, or its records: ``name`` and ``index``)."""
    if isinstance(categories, (str, os.PathLike)):
        with open(categories, encoding="utf-8") as f:
            categories = json.load(f)
    table = {}
    for record in categories:
        name, index = record["name"], int(record["index"])
        table[index] = COARSE.index(_FINE_TO_COARSE.get(name, "ignore"))
    return table


def read_panoptic_npz(path: str | os.PathLike[str]) -> np.ndarray:
    """A Panoptic nuScenes label file: ``category * 1000 + instance`` per point (key ``data``)."""
    with np.load(os.fspath(path)) as data:
        if "data" not in data:
            raise ValueError(f"{os.fspath(path)} holds no 'data' array (keys: {', '.join(data.files)})")
        labels = data["data"]
    if labels.ndim != 1 or labels.size == 0 or labels.dtype.kind not in "iu":
        raise ValueError(
            f"{os.fspath(path)}: expected a non-empty 1-D integer array, got {labels.dtype} {labels.shape}"
        )
    return labels


def evaluate_nuscenes_panoptic(
    scans: Sequence[tuple[str | os.PathLike[str], str | os.PathLike[str]]],
    categories: str | os.PathLike[str] | Iterable[Mapping[str, Any]] | Mapping[int, int],
    *,
    min_inst_points: int = MIN_INST_POINTS,
) -> dict[str, Any]:
    """nuScenes-devkit's panoptic segmentation results of ``scans``: (ground-truth ``.npz``,
    predicted ``.npz``) pairs, the ground truth in fine categories mapped by ``categories`` (the
    dataset's ``category.json``, its records, or a ready fine-to-challenge index map), the
    prediction in challenge classes.

    Returns the devkit's dict: ``"all"`` (``PQ``, ``SQ``, ``RQ``, ``mIoU``, ``PQ_dagger``) and each
    class's ``PQ``, ``SQ``, ``RQ`` and ``IoU`` by name.
    """
    mapping = dict(categories) if isinstance(categories, Mapping) else fine_to_coarse(categories)
    lut = np.zeros(max(mapping, default=0) + 1, dtype=np.int64)
    for fine, coarse in mapping.items():
        lut[int(fine)] = int(coarse)
    evaluator = PanopticEval(len(COARSE), None, [0], min_points=min_inst_points)
    for gt_path, pred_path in scans:
        gt, pred = read_panoptic_npz(gt_path), read_panoptic_npz(pred_path)
        if gt.shape != pred.shape:
            raise ValueError(
                f"{os.fspath(pred_path)} has {pred.size} points, the ground truth {os.fspath(gt_path)} {gt.size}"
            )
        fine = gt // 1000
        if fine.size and (fine.min() < 0 or fine.max() >= lut.size):
            raise ValueError(f"{os.fspath(gt_path)} holds the category {int(fine.max())}, which categories do not list")
        evaluator.addBatch(pred // 1000, pred, lut[fine], gt)
    pq, sq, rq, all_pq, all_sq, all_rq = evaluator.getPQ()
    iou, all_iou = evaluator.getSemIoU()
    results: dict[str, Any] = {"all": {"PQ": pq.item(), "SQ": sq.item(), "RQ": rq.item(), "mIoU": iou.item()}}
    for idx, (c_pq, c_rq, c_sq, c_iou) in enumerate(
        zip(all_pq.tolist(), all_rq.tolist(), all_sq.tolist(), all_iou.tolist(), strict=True)
    ):
        results[COARSE[idx]] = {"PQ": c_pq, "SQ": c_sq, "RQ": c_rq, "IoU": c_iou}
    results["all"]["PQ_dagger"] = np.mean(
        [float(results[c]["PQ"]) for c in THINGS] + [float(results[c]["IoU"]) for c in STUFF]
    )
    return results
