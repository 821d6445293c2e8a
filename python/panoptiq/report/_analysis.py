"""What a report shows, computed from the per-image and per-segment results: the worst images,
the category confusions and the distribution of true-positive IoUs."""

from __future__ import annotations

from bisect import bisect_right
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from panoptiq._side import GT
from panoptiq.results import SEGMENT_FIELDS

_SIDE, _CATEGORY, _FATE, _OTHER_CATEGORY, _OTHER_IOU = (
    SEGMENT_FIELDS.index(name) for name in ("side", "category_id", "fate", "other_category_id", "other_iou")
)

#: Edges of the TP IoU histogram: a true positive has IoU above 0.5.
IOU_EDGES = tuple(0.5 + 0.05 * i for i in range(11))


@dataclass(frozen=True)
class Confusion:
    """Ground-truth segments of ``gt_category`` left unmatched whose most overlapping predicted
    segment is of ``pred_category``: ``count`` of them, with their mean IoU with it."""

    gt_category: int
    pred_category: int
    count: int
    mean_iou: float


def worst_images(images: Sequence[Mapping[str, Any]], count: int) -> dict[str, list[int]]:
    """Positions in ``images`` of the ``count`` worst by PQ (lowest first; images without any
    counted category are left out), by false negatives and by false positives (most first).
    Ties go to the earlier image, so that the choice is the same in every run."""
    order = range(len(images))
    scored = [i for i in order if images[i]["n"] > 0]
    by_pq = sorted(scored, key=lambda i: (images[i]["pq"], -(images[i]["fn"] + images[i]["fp"]), i))
    by_fn = sorted((i for i in order if images[i]["fn"] > 0), key=lambda i: (-images[i]["fn"], i))
    by_fp = sorted((i for i in order if images[i]["fp"] > 0), key=lambda i: (-images[i]["fp"], i))
    return {"pq": by_pq[:count], "fn": by_fn[:count], "fp": by_fp[:count]}


def differing_images(
    base: Sequence[Mapping[str, Any]], other: Sequence[Mapping[str, Any]], count: int
) -> list[tuple[int, float]]:
    """Positions of the ``count`` images whose PQ differs most between two sets (their
    per-image records, in the same image order), with the difference ``other - base``; largest
    difference first, ties to the earlier image. An image in which a set counts nothing (no
    segment to find, none spurious) scores 1 for that set; images that score the same are left
    out."""
    found = []
    for i, (a, b) in enumerate(zip(base, other, strict=True)):
        difference = _image_pq(b) - _image_pq(a)
        if difference != 0:
            found.append((i, difference))
    found.sort(key=lambda item: (-abs(item[1]), item[0]))
    return found[:count]


def _image_pq(image: Mapping[str, Any]) -> float:
    return float(image["pq"]) if image["n"] > 0 else 1.0


def confusions(segments: Iterable[Sequence[Any]], count: int) -> list[Confusion]:
    """The ``count`` most frequent confusions, most frequent first (ties by category ids).

    ``segments`` are segment rows: tuples in :data:`~panoptiq.results.SEGMENT_FIELDS` order, as
    the core returns them. A confusion is a ground-truth segment that no prediction matched (a
    false negative) whose most overlapping predicted segment has another category: the model saw
    something there and called it something else.
    """
    found: Counter[tuple[int, int]] = Counter()
    iou_sums: dict[tuple[int, int], float] = {}
    for row in segments:
        if row[_SIDE] != GT.key or row[_FATE] != "fn" or row[_OTHER_CATEGORY] is None:
            continue
        if row[_OTHER_CATEGORY] == row[_CATEGORY]:
            continue
        key = (row[_CATEGORY], row[_OTHER_CATEGORY])
        found[key] += 1
        iou_sums[key] = iou_sums.get(key, 0.0) + row[_OTHER_IOU]
    top = sorted(found.items(), key=lambda item: (-item[1], item[0]))[:count]
    return [Confusion(g, p, n, iou_sums[(g, p)] / n) for (g, p), n in top]


def tp_ious(segments: Iterable[Sequence[Any]]) -> list[float]:
    """The IoU of every true positive (one per matched pair), from segment rows."""
    return [row[_OTHER_IOU] for row in segments if row[_SIDE] == GT.key and row[_FATE] == "tp"]


def iou_histogram(ious: Sequence[float], edges: Sequence[float] = IOU_EDGES) -> list[int]:
    """Counts of ``ious`` in the bins ``[edges[k], edges[k + 1])``, the last bin closed."""
    counts = [0] * (len(edges) - 1)
    last = len(counts) - 1
    for iou in ious:
        counts[min(max(bisect_right(edges, iou) - 1, 0), last)] += 1
    return counts
