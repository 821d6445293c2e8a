"""Bootstrap confidence intervals over images, from the per-image x per-class sums one
evaluation keeps (:class:`ImageTable`): no resample evaluates anything again.

A resample draws as many images as the dataset has, with replacement; its totals are the
per-image sums weighted by how often each image was drawn — for a block of resamples, one matrix
product per class of a (resamples x images) weight matrix with that class's (images x 4) sums.
Each resample is then averaged as panopticapi averages a dataset: over the classes it counts
something for. Intervals are percentile intervals of the resamples' values.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

#: Resamples unless told: enough for the 2.5 and 97.5 percentiles to settle to ±0.1 PQ points.
DEFAULT_RESAMPLES = 1000

#: The weights of a block of resamples hold at most this many entries (128 MiB of float64).
BLOCK_ENTRIES = 1 << 24

METRICS = ("pq", "sq", "rq")


@dataclass(frozen=True)
class ImageTable:
    """Every image's per-class sums as columns, one row per (image, class) with something
    counted: what :meth:`panoptiq._core.Totals.image_columns` gives.

    ``images`` counts the images covered, those without rows included.
    """

    images: int
    image: np.ndarray
    category: np.ndarray
    iou: np.ndarray
    tp: np.ndarray
    fp: np.ndarray
    fn: np.ndarray

    @classmethod
    def of_columns(cls, columns: Sequence[Any]) -> ImageTable:
        images, *rest = columns
        return cls(int(images), *(np.asarray(c) for c in rest))


@dataclass(frozen=True)
class Bootstrap:
    """How to resample: ``resamples`` draws, a ``seed``, and the interval's ``level``."""

    resamples: int = DEFAULT_RESAMPLES
    seed: int = 0
    level: float = 0.95

    def __post_init__(self) -> None:
        if isinstance(self.resamples, bool) or not isinstance(self.resamples, (int, np.integer)) or self.resamples < 1:
            raise ValueError(f"bootstrap must be a number of resamples of at least 1, got {self.resamples!r}")
        if isinstance(self.seed, bool) or not isinstance(self.seed, (int, np.integer)) or self.seed < 0:
            raise ValueError(f"bootstrap_seed must be an integer of at least 0, got {self.seed!r}")
        if isinstance(self.level, bool) or not isinstance(self.level, (int, float)) or not 0 < self.level < 1:
            raise ValueError(f"confidence must be a level between 0 and 1 (0.95 for 95%), got {self.level!r}")


def resample_weights(images: int, resamples: int, seed: int) -> Iterator[np.ndarray]:
    """The resamples' weights, a block of rows at a time: row r, column i is how often resample r
    drew image i (each row sums to ``images``). The blocks depend on ``images`` alone, so a seed
    gives the same draws for the same number of images, whatever else changes."""
    rng = np.random.default_rng(seed)
    if images == 0:
        for _ in range(resamples):
            yield np.zeros((1, 0))
        return
    block = max(1, BLOCK_ENTRIES // images)
    for start in range(0, resamples, block):
        rows = min(block, resamples - start)
        drawn = rng.integers(0, images, size=(rows, images))
        drawn += (np.arange(rows) * images)[:, None]
        yield np.bincount(drawn.ravel(), minlength=rows * images).reshape(rows, images).astype(np.float64)


def resampled_totals(
    table: ImageTable, classes: Sequence[int], bootstrap: Bootstrap
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Every resample's totals of every class of ``classes``: IoU sums, TP, FP and FN, each a
    (resamples x classes) array."""
    # Each row's position in ``classes`` (rows of other classes dropped), without a Python loop.
    wanted = np.asarray(classes, dtype=np.int64)
    by_id = np.argsort(wanted, kind="stable")
    category = table.category.astype(np.int64)
    found = np.minimum(np.searchsorted(wanted[by_id], category), max(len(wanted) - 1, 0))
    keep = wanted[by_id][found] == category if len(wanted) else np.zeros(len(category), dtype=bool)
    rows = np.flatnonzero(keep)
    which = by_id[found[rows]].astype(np.int64)
    sums = np.stack([table.iou[rows], table.tp[rows], table.fp[rows], table.fn[rows]], axis=1).astype(np.float64)
    images = table.image[rows].astype(np.int64)
    totals = np.zeros((4, bootstrap.resamples, len(classes)))
    # The per-image sums as a dense (images x 4·classes) matrix, a block of classes at a time so
    # that it stays within BLOCK_ENTRIES: one matrix product with a block of weights then gives
    # every statistic of every class of the block in every resample of the block.
    per_block = max(1, BLOCK_ENTRIES // (4 * max(table.images, 1)))
    class_blocks = [(lo, min(lo + per_block, len(classes))) for lo in range(0, len(classes), per_block)]
    done = 0
    for weights in resample_weights(table.images, bootstrap.resamples, bootstrap.seed):
        block = slice(done, done + len(weights))
        for lo, hi in class_blocks:
            inside = (which >= lo) & (which < hi)
            dense = np.zeros((max(table.images, 1), 4 * (hi - lo)))
            columns = 4 * (which[inside] - lo)
            for stat in range(4):
                # (image, class) pairs are unique, so plain assignment places every sum.
                dense[images[inside], columns + stat] = sums[inside, stat]
            product = weights @ dense[: weights.shape[1]]
            totals[:, block, lo:hi] = product.reshape(len(weights), hi - lo, 4).transpose(2, 0, 1)
        done += len(weights)
    return totals[0], totals[1], totals[2], totals[3]


def class_scores(
    iou: np.ndarray, tp: np.ndarray, fp: np.ndarray, fn: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """PQ, SQ and RQ of totals as panopticapi computes them, and whether each is counted (had a
    TP, FP or FN); scores of classes not counted are NaN."""
    counted = (tp + fp + fn) > 0
    with np.errstate(divide="ignore", invalid="ignore"):
        denominator = tp + 0.5 * fp + 0.5 * fn
        pq = np.where(counted, iou / denominator, np.nan)
        sq = np.where(counted, np.where(tp > 0, iou / np.where(tp > 0, tp, 1), 0.0), np.nan)
        rq = np.where(counted, tp / denominator, np.nan)
    return pq, sq, rq, counted


def resampled_scores(table: ImageTable, kinds: Sequence[tuple[int, bool]], bootstrap: Bootstrap) -> dict[str, Any]:
    """Every resample's PQ, SQ and RQ: All, Things, Stuff and per class (``kinds``: the averaged
    classes' ``(id, isthing)`` in order), each an array over the resamples, NaN in a resample
    that counts no class of the split, or does not count the class."""
    classes = [c for c, _ in kinds]
    pq, sq, rq, counted = class_scores(*resampled_totals(table, classes, bootstrap))
    scores = {"pq": pq, "sq": sq, "rq": rq}
    isthing = np.array([t for _, t in kinds], dtype=bool)
    result: dict[str, Any] = {}
    for name, mask in (("All", np.ones(len(classes), bool)), ("Things", isthing), ("Stuff", ~isthing)):
        n = counted[:, mask].sum(axis=1)
        with np.errstate(invalid="ignore", divide="ignore"):
            result[name] = {
                metric: np.where(n > 0, np.nansum(values[:, mask], axis=1) / np.maximum(n, 1), np.nan)
                for metric, values in scores.items()
            }
    result["per_class"] = {
        c: {metric: values[:, k] for metric, values in scores.items()} for k, c in enumerate(classes)
    }
    return result


def intervals(table: ImageTable, kinds: Sequence[tuple[int, bool]], bootstrap: Bootstrap) -> dict[str, Any]:
    """Percentile intervals of PQ, SQ and RQ over ``bootstrap``'s resamples (see
    :func:`resampled_scores`): a split's over the resamples in which it counts a class, a
    class's over those in which it is counted; ``None`` where there are none."""
    return intervals_of(resampled_scores(table, kinds, bootstrap), bootstrap)


def intervals_of(samples: Mapping[str, Any], bootstrap: Bootstrap) -> dict[str, Any]:
    """:func:`intervals` of resamples already scored (:func:`resampled_scores`)."""
    level = bootstrap.level
    result: dict[str, Any] = {
        name: {metric: _intervals(values[:, None], level)[0] for metric, values in samples[name].items()}
        for name in ("All", "Things", "Stuff")
    }
    classes = list(samples["per_class"])
    per_metric = {
        metric: _intervals(np.stack([samples["per_class"][c][metric] for c in classes], axis=1), level)
        for metric in METRICS
    }
    result["per_class"] = {c: {metric: per_metric[metric][k] for metric in METRICS} for k, c in enumerate(classes)}
    result["resamples"], result["seed"], result["level"] = bootstrap.resamples, bootstrap.seed, bootstrap.level
    return result


def _intervals(values: np.ndarray, level: float) -> list[tuple[float, float] | None]:
    """Each column's percentile interval at ``level`` over its non-NaN values (numpy's default
    linear interpolation, as ``np.percentile``), ``None`` for a column of NaNs only."""
    if values.shape[1] == 0:
        return []
    ordered = np.sort(values, axis=0)  # NaNs sort last
    n = (~np.isnan(values)).sum(axis=0)
    ends = []
    for percent in (50 * (1 - level), 50 * (1 + level)):
        position = np.maximum(n - 1, 0) * (percent / 100)  # np.percentile's arithmetic, in its order
        below = np.floor(position).astype(np.int64)
        above = np.minimum(below + 1, np.maximum(n - 1, 0))
        t = position - below
        a = np.take_along_axis(ordered, below[None, :], axis=0)[0]
        b = np.take_along_axis(ordered, above[None, :], axis=0)[0]
        # numpy's lerp: from the nearer end, so that t = 1 gives b exactly.
        ends.append(np.where(t >= 0.5, b - (b - a) * (1 - t), a + (b - a) * t))
    return [None if n[k] == 0 else (float(ends[0][k]), float(ends[1][k])) for k in range(values.shape[1])]


def bootstrap_of(value: int | Bootstrap | Mapping[str, Any] | None, seed: int, level: float) -> Bootstrap | None:
    """The bootstrap ``pq_compute``'s arguments ask for: ``value`` resamples (``True`` for
    :data:`DEFAULT_RESAMPLES`; None, False or 0: no intervals)."""
    if value is None or value is False or (isinstance(value, (int, np.integer)) and value == 0):
        return None
    if value is True:
        return Bootstrap(DEFAULT_RESAMPLES, seed, level)
    if isinstance(value, Bootstrap):
        return value
    if isinstance(value, Mapping):
        return Bootstrap(**value)
    return Bootstrap(value, seed, level)
