"""Realistic synthetic predictions made from real ground truth, for demos, tests and benchmarks.

Each perturbation mimics a mistake a panoptic model makes: masks a few pixels off, segments
missed, split or merged, wrong classes, spurious blobs.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

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
    pred = np.zeros((h, w), dtype=np.uint32)
    dy, dx = (int(v) for v in rng.integers(-shift, shift + 1, size=2))
    src = gt_ids[max(0, -dy) : h - max(0, dy), max(0, -dx) : w - max(0, dx)]
    pred[max(0, dy) : max(0, dy) + src.shape[0], max(0, dx) : max(0, dx) + src.shape[1]] = src

    by_kind: dict[int, list[int]] = {0: [], 1: []}
    for cat_id, info in categories.items():
        by_kind[int(info["isthing"] == 1)].append(cat_id)
    category_of = {int(s["id"]): int(s["category_id"]) for s in gt_segments_info}
    used = set(category_of) | {0}

    def new_id() -> int:
        while True:
            candidate = int(rng.integers(1, MAX_ID + 1))
            if candidate not in used:
                used.add(candidate)
                return candidate

    previous_of_category: dict[int, int] = {}
    for segment_id in list(category_of):
        mask = pred == segment_id
        roll = rng.random(4)
        if roll[0] < drop:
            pred[mask] = 0
            del category_of[segment_id]
            continue
        if roll[1] < relabel:
            kind = by_kind[int(categories.get(category_of[segment_id], {}).get("isthing", 0) == 1)]
            category_of[segment_id] = int(rng.choice(kind)) if kind else category_of[segment_id]
        if roll[2] < split and mask.any():
            cols = np.nonzero(mask.any(axis=0))[0]
            cut = int(cols[len(cols) // 2])
            piece = mask & (np.arange(w) >= cut)[None, :]
            if piece.any() and piece.sum() < mask.sum():
                part = new_id()
                pred[piece] = part
                category_of[part] = category_of[segment_id]
        category = category_of[segment_id]
        if roll[3] < merge and category in previous_of_category:
            pred[pred == segment_id] = previous_of_category[category]
            del category_of[segment_id]
            continue
        previous_of_category[category] = segment_id

    all_categories = list(categories)
    for _ in range(blobs):
        bh, bw = (int(rng.integers(1, max(2, s // 8))) for s in (h, w))
        y, x = int(rng.integers(0, max(1, h - bh))), int(rng.integers(0, max(1, w - bw)))
        blob = new_id()
        pred[y : y + bh, x : x + bw] = blob
        category_of[blob] = int(rng.choice(all_categories))

    present = np.unique(pred)
    segments = [{"id": int(i), "category_id": category_of[int(i)]} for i in present if i != 0]
    return pred, segments
