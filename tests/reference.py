"""An independent numpy implementation of panopticapi's per-image rules, used as the test oracle.

Written from the rules in the project's METRIC.md, on purpose in a different way from both
panopticapi and panoptiq's engine: it works on boolean masks, one segment pair at a time, instead
of on an intersection histogram. It is slow and only meant for small images.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import numpy as np

VOID = 0


def evaluate(
    gt_ids: np.ndarray,
    gt_segments: Sequence[Mapping[str, Any]],
    pred_ids: np.ndarray,
    pred_segments: Sequence[Mapping[str, Any]],
    category_ids: Iterable[int],
    image_id: Any = "?",
    modified_stuff: Iterable[int] = (),
    dilation: int | None = None,
    marker: int | None = None,
    iou_threshold: float = 0.5,
    size_slice: tuple[int, int | None] | None = None,
) -> dict[int, list[float | int]]:
    """Per-category ``[iou_sum, tp, fp, fn]`` of one image; raises KeyError like panopticapi.

    With ``dilation`` (Boundary PQ's band width in pixels), a pair's IoU is the smaller of its
    mask IoU and the IoU of the two segments' boundary bands (:func:`band`), the predicted band
    on ground-truth VOID left out of the union.

    A match needs an IoU above ``iou_threshold``; a prediction is ignored when more than half
    of it lies on VOID or on its category's crowd region, whatever the threshold.

    Categories in ``modified_stuff`` are scored as PQ† scores stuff: every overlapping pair adds
    its IoU, each non-crowd ground-truth segment counts one TP, there are no FP or FN.

    With ``size_slice`` ``(low, high)`` (``high`` None: unbounded), only what falls in the
    slice is counted: a match or a miss when its ground-truth segment's JSON area is in
    [low, high), a false positive when its predicted pixel count is.
    """

    def counted(area: int) -> bool:
        if size_slice is None:
            return True
        low, high = size_slice
        return low <= area and (high is None or area < high)

    modified = set(modified_stuff)
    known = set(category_ids)
    listed = {int(s["id"]): s for s in pred_segments}
    present, counts = np.unique(pred_ids[pred_ids != VOID], return_counts=True)
    pred_area = {int(p): int(c) for p, c in zip(present, counts, strict=True)}
    for p in sorted(pred_area):
        if p not in listed:
            raise KeyError(
                f"In the image with ID {image_id} segment with ID {p} is presented in PNG and not presented in JSON."
            )
        if listed[p]["category_id"] not in known:
            raise KeyError(
                f"In the image with ID {image_id} segment with ID {p} has unknown category_id "
                f"{listed[p]['category_id']}."
            )
    absent = sorted(set(listed) - set(pred_area))
    if absent:
        raise KeyError(
            f"In the image with ID {image_id} the following segment IDs {absent} are presented in JSON "
            "and not presented in PNG."
        )

    on_void = gt_ids == VOID
    stats: defaultdict[int, list[float | int]] = defaultdict(lambda: [0.0, 0, 0, 0])
    found: dict[tuple[str, int], np.ndarray] = {}

    def bands(key: tuple[str, int], mask: np.ndarray) -> np.ndarray:
        if key not in found:
            found[key] = band(mask, dilation or 0)
        return found[key]

    if marker is not None and dilation is not None:
        paints = {
            "gt": painted(gt_ids, gt_segments, dilation, marker),
            "pred": painted(pred_ids, pred_segments, dilation, marker),
        }

    def boundary(key: tuple[str, int], mask: np.ndarray) -> tuple[np.ndarray, int]:
        """The pixels the boundary map gives the segment, and its band area."""
        if marker is None:
            b = bands(key, mask)
            return b, int(np.count_nonzero(b))
        paint, areas = paints[key[0]]
        return paint == key[1], areas[key[1]]

    matches = []
    overlaps = []
    for gt in gt_segments:
        if gt["iscrowd"] == 1:
            continue
        gt_mask = gt_ids == gt["id"]
        for p, pred in listed.items():
            if pred["category_id"] != gt["category_id"]:
                continue
            pred_mask = pred_ids == p
            intersection = int(np.count_nonzero(gt_mask & pred_mask))
            if intersection == 0:
                continue
            union = pred_area[p] + gt["area"] - intersection - int(np.count_nonzero(pred_mask & on_void))
            iou = intersection / union
            if dilation is not None:
                (gt_band, gt_area), (pred_band, pred_area_b) = (
                    boundary(("gt", gt["id"]), gt_mask),
                    boundary(("pred", p), pred_mask),
                )
                band_intersection = int(np.count_nonzero(gt_band & pred_band))
                band_union = pred_area_b + gt_area - band_intersection - int(np.count_nonzero(pred_band & on_void))
                iou = min(iou, band_intersection / band_union)
            if gt["category_id"] in modified:
                if counted(gt["area"]):
                    overlaps.append((gt["category_id"], iou))
            elif iou > iou_threshold:
                matches.append((int(gt["id"]), p, gt["category_id"], iou, counted(gt["area"])))
    # panoptiq sums IoUs exactly and rounds once: math.fsum is that correctly rounded sum.
    ious: defaultdict[int, list[float]] = defaultdict(list)
    for _, _, category, iou, in_slice in matches:
        if in_slice:
            ious[category].append(iou)
            stats[category][1] += 1
    for category, iou in overlaps:
        ious[category].append(iou)
    for category, values in ious.items():
        stats[category][0] = math.fsum(values)
    matched_gt = {m[0] for m in matches}
    matched_pred = {m[1] for m in matches}

    crowd_of = {}
    for gt in gt_segments:
        if gt["id"] in matched_gt:
            continue
        if gt["iscrowd"] == 1:
            crowd_of[gt["category_id"]] = gt["id"]  # a later crowd segment replaces an earlier one
        elif not counted(gt["area"]):
            continue
        elif gt["category_id"] in modified:
            stats[gt["category_id"]][1] += 1
        else:
            stats[gt["category_id"]][3] += 1

    for p, pred in listed.items():
        if p in matched_pred or pred["category_id"] in modified:
            continue
        pred_mask = pred_ids == p
        ignored = np.count_nonzero(pred_mask & on_void)
        if pred["category_id"] in crowd_of:
            ignored += np.count_nonzero(pred_mask & (gt_ids == crowd_of[pred["category_id"]]))
        if 2 * ignored > pred_area[p] or not counted(pred_area[p]):
            continue
        stats[pred["category_id"]][2] += 1
    return dict(stats)


def band(mask: np.ndarray, dilation: int) -> np.ndarray:
    """A mask's boundary band: the mask minus its ``dilation``-fold erosion by a 3x3 square,
    pixels outside the image counting as outside the mask (erosion by shifted minimums)."""
    eroded = mask.copy()
    height, width = mask.shape
    for _ in range(dilation):
        if not eroded.any():  # nothing left to erode: more steps change nothing
            break
        padded = np.pad(eroded, 1, constant_values=False)
        kept = np.ones_like(eroded)
        for dy in (0, 1, 2):
            for dx in (0, 1, 2):
                kept &= padded[dy : dy + height, dx : dx + width]
        eroded = kept
    return mask & ~eroded


def painted(
    ids: np.ndarray, segments: Sequence[Mapping[str, Any]], dilation: int, marker: int
) -> tuple[np.ndarray, dict[int, int]]:
    """boundary-iou-api's boundary map of one side, as its procedure reads: the listed segments
    one after the other, each one's mask taken from the map painted so far, painted ``marker``,
    then its band painted with its id. The map and every listed segment's band area."""
    out = ids.astype(np.int64)
    areas = {}
    for segment in segments:
        mask = out == segment["id"]
        b = band(mask, dilation)
        out[mask] = marker
        out[b] = segment["id"]
        areas[int(segment["id"])] = int(np.count_nonzero(b))
    return out, areas


def dilation_of(ratio: float, height: int, width: int) -> int:
    """boundary-iou-api's band width: ``ratio`` of the diagonal, Python-rounded, at least 1."""
    return max(1, round(ratio * math.sqrt(height**2 + width**2)))


def average(
    stats: Mapping[int, Sequence[float | int]],
    categories: Mapping[int, Mapping[str, Any]],
    isthing: bool | None,
) -> tuple[dict[str, float], dict[int, dict[str, float]]]:
    """PQ / SQ / RQ means over a split (``isthing`` None: all), from per-category stats."""
    per_class = {}
    scores = []
    for label, info in categories.items():
        if isthing is not None and (info["isthing"] == 1) != isthing:
            continue
        iou, tp, fp, fn = stats.get(label, (0.0, 0, 0, 0))
        if tp + fp + fn == 0:
            per_class[label] = {"pq": 0.0, "sq": 0.0, "rq": 0.0}
            continue
        denominator = tp + 0.5 * fp + 0.5 * fn
        per_class[label] = {"pq": iou / denominator, "sq": iou / tp if tp else 0, "rq": tp / denominator}
        scores.append(per_class[label])
    n = len(scores)
    means = {k: sum(s[k] for s in scores) / n if n else 0.0 for k in ("pq", "sq", "rq")}
    return {**means, "n": n}, per_class
