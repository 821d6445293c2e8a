"""Hypothesis strategies: small random image pairs with VOID, crowd, things and stuff."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

MAX_ID = 2**24 - 1
#: Category id -> isthing; 99 is used for ground truth only and is not a known category.
CATEGORIES = {1: 1, 2: 1, 3: 0, 4: 0}
UNKNOWN_GT_CATEGORY = 99


@dataclass
class Pair:
    gt_ids: np.ndarray
    gt_segments: list[dict[str, Any]]
    pred_ids: np.ndarray
    pred_segments: list[dict[str, Any]]
    categories: dict[int, dict[str, Any]] = field(
        default_factory=lambda: {c: {"id": c, "isthing": t} for c, t in CATEGORIES.items()}
    )


@st.composite
def image_pairs(draw: st.DrawFn, max_side: int = 10) -> Pair:
    """A ground-truth map and a prediction derived from it by relabelling and noise."""
    h = draw(st.integers(1, max_side))
    w = draw(st.integers(1, max_side))
    n_gt = draw(st.integers(1, 6))
    n_pred = draw(st.integers(1, 6))
    gt_labels = draw(st.lists(st.integers(1, MAX_ID), min_size=n_gt, max_size=n_gt, unique=True))
    pred_labels = draw(st.lists(st.integers(1, MAX_ID), min_size=n_pred, max_size=n_pred, unique=True))

    # Index 0 is VOID; region i > 0 is gt_labels[i - 1].
    gt_index = draw(hnp.arrays(np.int64, (h, w), elements=st.integers(0, n_gt)))
    relabel = np.array(draw(st.lists(st.integers(0, n_pred), min_size=n_gt + 1, max_size=n_gt + 1)))
    noise = draw(hnp.arrays(np.int64, (h, w), elements=st.integers(0, n_pred)))
    keep = draw(hnp.arrays(np.bool_, (h, w), elements=st.booleans()))
    pred_index = np.where(keep, relabel[gt_index], noise)

    gt_ids = np.concatenate([[0], gt_labels])[gt_index].astype(np.uint32)
    pred_ids = np.concatenate([[0], pred_labels])[pred_index].astype(np.uint32)

    category = st.sampled_from(sorted(CATEGORIES))
    gt_segments = []
    for label in gt_labels:
        area = int(np.count_nonzero(gt_ids == label))
        gt_segments.append(
            {
                "id": label,
                "category_id": draw(st.one_of(category, st.just(UNKNOWN_GT_CATEGORY)) if area else category),
                "iscrowd": int(draw(st.booleans())),
                # The JSON area is what counts; it may exceed the pixel count.
                "area": area + draw(st.sampled_from([0, 0, 0, 1, 5])),
            }
        )
    # Ground-truth ids in the PNG but not in the JSON are ignored; listed ids with no pixels are FN.
    if draw(st.booleans()):
        gt_segments.pop(draw(st.integers(0, len(gt_segments) - 1)))
    if draw(st.booleans()):
        absent = draw(st.integers(1, MAX_ID).filter(lambda i: i not in gt_labels))
        gt_segments.append({"id": absent, "category_id": draw(category), "iscrowd": 0, "area": 3})
    gt_segments = draw(st.permutations(gt_segments))

    present = [int(p) for p in np.unique(pred_ids) if p != 0]
    pred_segments = [{"id": p, "category_id": draw(category)} for p in present]
    pred_segments = draw(st.permutations(pred_segments))
    return Pair(gt_ids, list(gt_segments), pred_ids, list(pred_segments))


@st.composite
def half_iou_pairs(draw: st.DrawFn) -> tuple[Pair, int]:
    """A segment pair whose IoU is exactly 1/2, or one pixel above it; returns (pair, expected TP).

    On one row: ground-truth segment A (``a`` pixels) then B (``b`` pixels, another category);
    the prediction P covers ``i`` pixels of A and ``e`` of B, so IoU(A, P) = i / (a + e).
    """
    a = draw(st.integers(1, 40))
    e = draw(st.integers(0, a).filter(lambda e: (a + e) % 2 == 0))
    i = (a + e) // 2
    above = draw(st.booleans()) and i < a
    i += above
    b = draw(st.integers(e, e + 5))
    gt_ids = np.array([[7] * a + [9] * b], dtype=np.uint32)
    pred_ids = np.array([[0] * (a - i) + [5] * (i + e) + [0] * (b - e)], dtype=np.uint32)
    gt_segments = [
        {"id": 7, "category_id": 1, "iscrowd": 0, "area": a},
        {"id": 9, "category_id": 3, "iscrowd": 0, "area": b},
    ]
    return Pair(gt_ids, gt_segments, pred_ids, [{"id": 5, "category_id": 1}]), int(above)
