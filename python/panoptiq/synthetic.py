"""Synthetic panoptic datasets made from real COCO ground truth, for demos, tests and benchmarks.

Ground truth comes from the COCO sample shipped in the package, cropped, flipped, resized,
banded with VOID, given crowd regions, or replaced by a grid of thousands of tiny segments.
Predictions mimic the mistakes of a panoptic model: masks a few pixels off, segments missed,
split or merged, wrong classes, spurious blobs; plus perfect and empty predictions.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping, Sequence
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np

from panoptiq._png import read_id_map, write_id_map

#: The ground-truth transformations :func:`make_dataset` cycles through.
GT_KINDS = ("sample", "crop", "void_band", "crowd", "flip", "tiny_segments", "upscaled")
#: Ground-truth and prediction kinds that look like a real model's output on COCO.
REALISTIC_GT_KINDS = ("sample", "crop", "void_band", "crowd", "flip", "upscaled")
REALISTIC_PRED_KINDS = ("perturbed", "shifted", "wrong_classes", "split_merge", "blobs", "rgba")
#: The prediction kinds :func:`make_dataset` cycles through.
PRED_KINDS = ("perturbed", "shifted", "wrong_classes", "split_merge", "blobs", "perfect", "empty", "rgba")

MAX_ID = 2**24 - 1


def perturb(
    gt_ids: np.ndarray,
    gt_segments_info: Sequence[Mapping[str, Any]],
    categories: Mapping[int, Mapping[str, Any]],
    rng: np.random.Generator,
    *,
    shift: int = 3,
    drop: float = 0.1,
    relabel: float = 0.1,
    split: float = 0.1,
    merge: float = 0.1,
    blobs: int = 2,
) -> tuple[np.ndarray, list[dict[str, Any]]]:
    """Make a prediction from a ground truth id map.

    Parameters
    ----------
    gt_ids : numpy.ndarray
        H x W ground-truth id map.
    gt_segments_info : sequence of dict
        Its segments (``id``, ``category_id``).
    categories : mapping
        Category id to record with ``isthing``.
    rng : numpy.random.Generator
        Source of randomness; the same seed gives the same prediction.
    shift : int
        Masks move by up to this many pixels in each direction.
    drop, relabel, split, merge : float
        Probability that a segment is missed, given another category of its kind, cut in two,
        or merged into the next segment of its category.
    blobs : int
        Spurious rectangles added.

    Returns
    -------
    pred_ids : numpy.ndarray
        The predicted id map, ``uint32``.
    pred_segments_info : list of dict
        ``{"id", "category_id"}`` of every segment present in ``pred_ids``.
    """
    h, w = gt_ids.shape
    shifted = np.zeros((h, w), dtype=np.int64)
    dy, dx = (int(v) for v in rng.integers(-shift, shift + 1, size=2))
    src = gt_ids[max(0, -dy) : h - max(0, dy), max(0, -dx) : w - max(0, dx)]
    shifted[max(0, dy) : max(0, dy) + src.shape[0], max(0, dx) : max(0, dx) + src.shape[1]] = src

    # Decisions are made per segment on a table of labels, then applied to all pixels at once.
    category_of = {int(s["id"]): int(s["category_id"]) for s in gt_segments_info}
    labels, inverse = np.unique(shifted, return_inverse=True)
    inverse = inverse.reshape(h, w)
    out_ids = np.array([label if int(label) in category_of else 0 for label in labels], dtype=np.int64)
    # Models confuse classes that appear in the scene: mistakes pick among the image's own.
    present_categories = sorted(set(category_of.values()) & set(categories)) or list(categories)
    kinds: dict[bool, list[int]] = {True: [], False: []}
    for cat_id in present_categories:
        kinds[categories[cat_id]["isthing"] == 1].append(cat_id)
    used = set(category_of) | {0}

    def new_id() -> int:
        while True:
            candidate = int(rng.integers(1, MAX_ID + 1))
            if candidate not in used:
                used.add(candidate)
                return candidate

    rolls = rng.random((len(labels), 4))
    first_of_category: dict[int, int] = {}
    split_part = np.zeros(len(labels), dtype=np.int64)
    for index, label in enumerate(labels.tolist()):
        if out_ids[index] == 0:
            continue
        if rolls[index, 0] < drop:
            out_ids[index] = 0
            continue
        if rolls[index, 1] < relabel:
            same_kind = kinds[categories.get(category_of[label], {}).get("isthing", 0) == 1]
            if same_kind:
                category_of[label] = int(rng.choice(same_kind))
        category = category_of[label]
        if rolls[index, 3] < merge and category in first_of_category:
            out_ids[index] = first_of_category[category]
            continue
        first_of_category.setdefault(category, label)
        if rolls[index, 2] < split:
            split_part[index] = new_id()
            category_of[int(split_part[index])] = category

    pred = out_ids[inverse]
    if split_part.any():
        # A split cuts a segment at its mean column; the right part becomes a new segment.
        counts = np.bincount(inverse.ravel(), minlength=len(labels))
        columns = np.broadcast_to(np.arange(w), (h, w)).ravel()
        mean_column = np.bincount(inverse.ravel(), weights=columns, minlength=len(labels)) / np.maximum(counts, 1)
        right = (split_part[inverse] != 0) & (np.arange(w)[None, :] >= mean_column[inverse]) & (pred != 0)
        pred[right] = split_part[inverse][right]

    for _ in range(blobs):
        bh, bw = (int(rng.integers(1, max(2, s // 8))) for s in (h, w))
        y, x = int(rng.integers(0, max(1, h - bh))), int(rng.integers(0, max(1, w - bw)))
        blob = new_id()
        pred[y : y + bh, x : x + bw] = blob
        category_of[blob] = int(rng.choice(present_categories))

    present = np.unique(pred)
    segments = [{"id": int(i), "category_id": category_of[int(i)]} for i in present if i != 0]
    return pred.astype(np.uint32), segments


def sample_dir() -> Path:
    """The real COCO panoptic sample shipped inside the package."""
    return Path(str(resources.files("panoptiq") / "data" / "coco_sample"))


def load_sample() -> tuple[list[tuple[np.ndarray, list[dict[str, Any]]]], list[dict[str, Any]]]:
    """The sample's (id map, segments_info) pairs and its 133 COCO categories."""
    folder = sample_dir()
    data = json.loads((folder / "panoptic_examples.json").read_text())
    images = [
        (read_id_map(folder / "panoptic_examples" / ann["file_name"]), ann["segments_info"])
        for ann in data["annotations"]
    ]
    return images, data["categories"]


def _relist(ids: np.ndarray, segments: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """segments_info of the segments still present in ``ids``, areas recounted."""
    present, counts = np.unique(ids, return_counts=True)
    area = dict(zip(present.tolist(), counts.tolist(), strict=True))
    return [{**s, "area": area[s["id"]]} for s in segments if s["id"] in area]


def _resize(ids: np.ndarray, height: int, width: int) -> np.ndarray:
    """Nearest-neighbour resize: segment shapes scale, no new ids appear."""
    rows = (np.arange(height) * ids.shape[0] // height).astype(np.intp)
    cols = (np.arange(width) * ids.shape[1] // width).astype(np.intp)
    return np.ascontiguousarray(ids[np.ix_(rows, cols)])


def _unique_ids(rng: np.random.Generator, count: int) -> np.ndarray:
    """``count`` distinct random segment ids in [1, 2**24)."""
    labels = np.zeros(0, dtype=np.int64)
    while len(labels) < count:
        labels = np.unique(np.concatenate([labels, rng.integers(1, MAX_ID + 1, size=2 * count)]))
    return rng.permutation(labels)[:count]


def _tiny_segments(
    rng: np.random.Generator, categories: Sequence[Mapping[str, Any]], height: int, width: int, cell: int = 4
) -> tuple[np.ndarray, list[dict[str, Any]]]:
    """A grid of ``cell`` x ``cell`` thing segments: thousands of tiny segments in one image."""
    grid_h, grid_w = max(1, height // cell), max(1, width // cell)
    labels = _unique_ids(rng, grid_h * grid_w)
    ids = np.kron(labels.reshape(grid_h, grid_w), np.ones((cell, cell), dtype=np.int64)).astype(np.uint32)
    things = [c["id"] for c in categories if c["isthing"] == 1]
    segments = [
        {"id": int(label), "category_id": int(category), "iscrowd": 0, "area": cell * cell}
        for label, category in zip(labels, rng.choice(things, size=len(labels)), strict=True)
    ]
    return ids, segments


def _ground_truth(
    kind: str,
    source: tuple[np.ndarray, list[dict[str, Any]]],
    categories: Sequence[Mapping[str, Any]],
    rng: np.random.Generator,
    size: tuple[int, int] | None,
) -> tuple[np.ndarray, list[dict[str, Any]]]:
    ids, segments = source
    if size is not None:
        ids = _resize(ids, *size)
    h, w = ids.shape
    segments = [{k: s[k] for k in ("id", "category_id", "iscrowd")} for s in segments]
    if kind == "crop":
        ch, cw = int(rng.integers(h * 6 // 10, h + 1)), int(rng.integers(w * 6 // 10, w + 1))
        y, x = int(rng.integers(0, h - ch + 1)), int(rng.integers(0, w - cw + 1))
        ids = np.ascontiguousarray(ids[y : y + ch, x : x + cw])
    elif kind == "flip":
        ids = np.ascontiguousarray(ids[:, ::-1] if rng.random() < 0.5 else ids[::-1, :])
    elif kind == "void_band":
        ids = ids.copy()
        band = int(rng.integers(h // 10, h // 5 + 1))
        start = int(rng.integers(0, h - band + 1))
        ids[start : start + band] = 0
    elif kind == "crowd":
        things = [s for s in segments if s["iscrowd"] == 0 and _isthing(categories, s["category_id"])]
        for s in rng.permutation(np.array(things, dtype=object))[: int(rng.integers(1, 4))]:
            s["iscrowd"] = 1
    elif kind == "upscaled":
        scale = float(rng.uniform(1.5, 2.5))
        ids = _resize(ids, int(h * scale), int(w * scale))
    elif kind == "tiny_segments":
        return _tiny_segments(rng, categories, h, w)
    return ids, _relist(ids, segments)


def _isthing(categories: Sequence[Mapping[str, Any]], category_id: int) -> bool:
    return any(c["id"] == category_id and c["isthing"] == 1 for c in categories)


def _prediction(
    kind: str,
    gt_ids: np.ndarray,
    gt_segments: Sequence[Mapping[str, Any]],
    categories: Mapping[int, Mapping[str, Any]],
    rng: np.random.Generator,
) -> tuple[np.ndarray, list[dict[str, Any]]]:
    if kind == "perfect":
        return gt_ids, [{"id": s["id"], "category_id": s["category_id"]} for s in gt_segments]
    if kind == "empty":
        return np.zeros_like(gt_ids, dtype=np.uint32), []
    options: dict[str, dict[str, Any]] = {
        "perturbed": {},
        "rgba": {},
        "shifted": {"shift": 8, "drop": 0.0, "relabel": 0.0, "split": 0.0, "merge": 0.0, "blobs": 0},
        "wrong_classes": {"relabel": 0.6, "blobs": 0},
        "split_merge": {"split": 0.5, "merge": 0.5},
        "blobs": {"blobs": 25, "drop": 0.3},
    }
    return perturb(gt_ids, gt_segments, categories, rng, **options[kind])


def make_dataset(
    folder: str | os.PathLike[str],
    images: int = 24,
    *,
    seed: int = 0,
    size: tuple[int, int] | None = None,
    gt_kinds: Sequence[str] = GT_KINDS,
    pred_kinds: Sequence[str] = PRED_KINDS,
) -> tuple[Path, Path]:
    """Write a COCO panoptic dataset with predictions made from the shipped COCO sample.

    Image ``i`` takes ground-truth kind ``gt_kinds[i % len(gt_kinds)]`` and prediction kind
    ``pred_kinds[i % len(pred_kinds)]``, so a long enough dataset covers every combination
    of the two cycles. The layout is panopticapi's: ``gt.json`` with ``gt/``, ``pred.json``
    with ``pred/``.

    Parameters
    ----------
    folder : path
        Where to write; created if missing.
    images : int
        Number of image pairs.
    seed : int
        The same seed writes the same dataset.
    size : (height, width), optional
        Resize every ground truth to this size (nearest neighbour); sample sizes by default.
    gt_kinds, pred_kinds : sequence of str
        Subsets of :data:`GT_KINDS` and :data:`PRED_KINDS` to cycle through.

    Returns
    -------
    (Path, Path)
        The ground-truth and prediction JSON files.
    """
    folder = Path(folder)
    rng = np.random.default_rng(seed)
    sources, category_list = load_sample()
    categories = {c["id"]: c for c in category_list}
    for side in ("gt", "pred"):
        (folder / side).mkdir(parents=True, exist_ok=True)
    gt_annotations, pred_annotations, image_infos = [], [], []
    for i in range(images):
        gt_kind, pred_kind = gt_kinds[i % len(gt_kinds)], pred_kinds[i % len(pred_kinds)]
        gt_ids, gt_segments = _ground_truth(gt_kind, sources[i % len(sources)], category_list, rng, size)
        pred_ids, pred_segments = _prediction(pred_kind, gt_ids, gt_segments, categories, rng)
        image_id, file_name = i + 1, f"{i + 1:012d}.png"
        write_id_map(folder / "gt" / file_name, gt_ids)
        write_id_map(folder / "pred" / file_name, pred_ids, alpha=pred_kind == "rgba")
        image_infos.append(
            {"id": image_id, "file_name": f"{i + 1:012d}.jpg", "height": gt_ids.shape[0], "width": gt_ids.shape[1]}
        )
        gt_annotations.append({"image_id": image_id, "file_name": file_name, "segments_info": gt_segments})
        pred_annotations.append({"image_id": image_id, "file_name": file_name, "segments_info": pred_segments})
    gt_json, pred_json = folder / "gt.json", folder / "pred.json"
    gt_json.write_text(json.dumps({"images": image_infos, "annotations": gt_annotations, "categories": category_list}))
    pred_json.write_text(json.dumps({"annotations": pred_annotations}))
    return gt_json, pred_json
