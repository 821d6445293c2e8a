"""What :meth:`PanopticQuality.compute` returns: PQ, SQ, RQ overall, per split, per class and
per image, as frozen dataclasses."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from panoptiq.results._records import Records


@dataclass(frozen=True)
class Scores:
    """PQ, SQ and RQ averaged over the ``n`` categories of a split that were seen."""

    pq: float
    sq: float
    rq: float
    n: int


@dataclass(frozen=True)
class ClassResult:
    """One category's scores and the totals they come from."""

    category_id: int
    isthing: bool
    pq: float
    sq: float
    rq: float
    tp: int
    fp: int
    fn: int
    iou_sum: float


@dataclass(frozen=True)
class ImageResult:
    """One image's scores, averaged over the categories it holds, and its counts."""

    image_id: str
    pq: float
    sq: float
    rq: float
    n: int
    tp: int
    fp: int
    fn: int


@dataclass(frozen=True)
class PQResult:
    """The result of a :class:`~panoptiq.PanopticQuality` metric.

    Attributes
    ----------
    all, things, stuff : Scores
        Means over all, thing and stuff categories that had a TP, FP or FN (``n`` of them); a
        split with none scores 0.0 with ``n == 0``.
    per_class : dict
        Category id to :class:`ClassResult`, every known category in the metric's order.
    per_image : list of ImageResult or None
        One row per image in update order, when the metric was made with ``per_image=True``.
    segments : Records or None
        Every segment's record in update order (:data:`panoptiq.results.SEGMENT_FIELDS`), when
        the metric was made with ``per_segment=True``.
    """

    all: Scores
    things: Scores
    stuff: Scores
    per_class: dict[int, ClassResult]
    per_image: list[ImageResult] | None = None
    segments: Records | None = None
    _dict: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)

    @property
    def pq(self) -> float:
        return self.all.pq

    @property
    def sq(self) -> float:
        return self.all.sq

    @property
    def rq(self) -> float:
        return self.all.rq

    def to_dict(self) -> dict[str, Any]:
        """``pq_compute``'s dict: ``{'All', 'per_class', 'Things', 'Stuff'}``, the same values."""
        return {
            key: ({k: dict(v) for k, v in value.items()} if key == "per_class" else dict(value))
            for key, value in self._dict.items()
        }

    def per_image_records(self) -> list[dict[str, Any]]:
        """The per-image rows as plain dicts (empty when they were not kept)."""
        return [dict(vars(row)) for row in self.per_image or []]
