"""Random panoptic label maps in torchmetrics' (category, instance) form, and converters to the
other input forms of ``PanopticQuality`` (encoded, id maps + segments_info, COCO colours)."""

from __future__ import annotations

from typing import Any

import numpy as np
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

THINGS = (1, 2)
STUFFS = (3, 4)
VOID = 255  # an ignore label, given to the metric as `void`
UNKNOWN = 9  # a category in neither set
DIVISOR = 1000


@st.composite
def pair_batches(
    draw: st.DrawFn, unknown: bool = False, max_batch: int = 3, ndim: int = 2
) -> tuple[np.ndarray, np.ndarray]:
    """``(B, *spatial, 2)`` predictions and targets; stuff instances are 0, ``void`` pixels
    appear on both sides and, when ``unknown``, an unknown category in the target."""
    batch = draw(st.integers(1, max_batch))
    shape = tuple(draw(st.lists(st.integers(1, 9 if ndim <= 2 else 4), min_size=ndim, max_size=ndim)))
    categories = [*THINGS, *STUFFS, VOID, *([UNKNOWN] if unknown else [])]
    preds, targets = [], []
    for _ in range(batch):
        n = draw(st.integers(1, 6))
        colours = []
        for _ in range(n):
            category = draw(st.sampled_from(categories))
            instance = draw(st.integers(0, 3)) if category in THINGS else 0
            colours.append((category, instance))
        index = draw(hnp.arrays(np.int64, shape, elements=st.integers(0, n - 1)))
        target = np.array(colours, dtype=np.int64)[index]
        # The prediction: the target relabelled region by region, then noise.
        pred_colours = []
        for category, instance in colours:
            if draw(st.booleans()):
                category = draw(st.sampled_from([*THINGS, *STUFFS, VOID]))
                instance = draw(st.integers(0, 3)) if category in THINGS else 0
            pred_colours.append((category, instance))
        pred = np.array(pred_colours, dtype=np.int64)[index]
        noise = draw(hnp.arrays(np.bool_, shape, elements=st.booleans()))
        extra = (draw(st.sampled_from(THINGS)), draw(st.integers(0, 3)))
        pred[noise & draw(st.booleans())] = extra
        preds.append(pred)
        targets.append(target)
    return np.stack(preds), np.stack(targets)


def encoded(pairs: np.ndarray) -> np.ndarray:
    return pairs[..., 0] * DIVISOR + pairs[..., 1]


def id_maps(pairs: np.ndarray, side: str) -> tuple[np.ndarray, list[list[dict[str, Any]]]]:
    """``(B, *spatial)`` id maps (``void`` as id 0) and one ``segments_info`` per image.

    Ids are scattered over 24 bits, so that colour maps exercise all three channels."""
    maps, infos = [], []
    for image in pairs:
        flat = image.reshape(-1, 2)
        colours, inverse = np.unique(flat, axis=0, return_inverse=True)
        inverse = inverse.reshape(-1)
        ids = np.array([0 if c == VOID else 1 + k * 104729 % (2**24 - 2) for k, (c, _) in enumerate(colours)])
        segments = []
        for k, (category, _) in enumerate(colours):
            if category == VOID:
                continue
            segment = {"id": int(ids[k]), "category_id": int(category)}
            if side == "target":
                segment.update(iscrowd=0, area=int(np.count_nonzero(inverse == k)))
            segments.append(segment)
        maps.append(ids[inverse].reshape(image.shape[:-1]).astype(np.uint32))
        infos.append(segments)
    return np.stack(maps), infos


def id_segments(pairs: np.ndarray, side: str) -> tuple[np.ndarray, list[dict[str, Any]]]:
    """One image's id map and segments, in panoptiq.evaluate_image's form."""
    maps, infos = id_maps(pairs[None], side)
    return maps[0], infos[0]
