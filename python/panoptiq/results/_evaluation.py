"""The one place an evaluation's results are made: the core's exact per-category totals,
averaged by the core where they are (each IoU sum rounded once), with the per-image and
per-segment rows of the same pass — turned into panopticapi's dict, its ``PQStat``, the metric's
``PQResult`` or the command line's table."""

from __future__ import annotations

import warnings
from collections.abc import Iterable, Mapping
from typing import Any, TextIO

import panoptiq._core as _core
from panoptiq.results._records import IMAGE_FIELDS, SEGMENT_FIELDS, Records
from panoptiq.results._scores import ClassResult, ImageResult, PQResult, Scores
from panoptiq.results._stat import METRICS, PQStat, category_records, empty_split_message, stat_from_rows, summary


def core_categories(categories: Mapping[int, Any] | Iterable[Any]) -> _core.Categories:
    """The core's table of ``categories`` (panopticapi's mapping, records or ids), in their
    order; a category is a thing when its record says ``isthing == 1``."""
    records = category_records(categories, need_isthing=False)
    return _core.Categories([(int(c), isinstance(r, Mapping) and r.get("isthing") == 1) for c, r in records.items()])


class Evaluation:
    """What one evaluation produced: exact totals, the categories they are averaged over, and the
    per-image and per-segment rows when they were kept.

    Parameters
    ----------
    totals : panoptiq._core.Totals
        Per-category exact IoU sums and TP / FP / FN counts.
    categories : mapping
        panopticapi's categories (id to record), in the order averages run over them.
    kinds : panoptiq._core.Categories, optional
        The core's table of ``categories``, when it was built already.
    image_rows, segment_rows : list of tuple, optional
        Rows in :data:`IMAGE_FIELDS` and :data:`SEGMENT_FIELDS` order, in image order.
    """

    def __init__(
        self,
        totals: _core.Totals,
        categories: Mapping[int, Any],
        kinds: _core.Categories | None = None,
        image_rows: list[tuple[Any, ...]] | None = None,
        segment_rows: list[tuple[Any, ...]] | None = None,
    ) -> None:
        self.totals = totals
        self.categories = categories
        self.kinds = kinds if kinds is not None else core_categories(categories)
        self.image_rows = image_rows
        self.segment_rows = segment_rows

    def summary(self) -> dict[str, Any]:
        """panopticapi's result dict — All, per_class, Things, Stuff, in that key order — with
        zeros and ``n = 0`` for a split in which no category was seen (no warning)."""
        # Things and Stuff need the kind of every category averaged over, as panopticapi's
        # pq_average does.
        records = {int(c): r for c, r in category_records(self.categories, need_isthing=False).items()}
        category_records({c: records.get(c) for c in self.kinds.averaged()}, need_isthing=True)
        splits, classes = self.totals.summary(self.kinds)
        scores = [{"pq": pq, "sq": sq, "rq": rq, "n": n} for pq, sq, rq, n in splits]
        per_class = {}
        for category_id, _isthing, pq, sq, rq, counted, _iou, tp, _fp, _fn in classes:
            # panopticapi reports an integer 0 as SQ of a category with no true positive.
            per_class[category_id] = {"pq": pq, "sq": 0 if counted and tp == 0 else sq, "rq": rq}
        return {"All": scores[0], "per_class": per_class, "Things": scores[1], "Stuff": scores[2]}

    def summarize(self) -> dict[str, Any]:
        """:meth:`summary`, with one ``RuntimeWarning`` naming the splits in which no category
        was seen (panopticapi divides by zero there)."""
        results = self.summary()
        _warn_empty(results, stacklevel=3)
        return results

    def stat(self) -> PQStat:
        """The totals as panopticapi's :class:`PQStat` (each IoU sum rounded once)."""
        return stat_from_rows(self.totals.rows())

    def classes(self) -> list[ClassResult]:
        """Every category's scores and the totals they come from, in the categories' order."""
        per_class = self.summary()["per_class"]
        _, classes = self.totals.summary(self.kinds)
        return [
            ClassResult(c, isthing, per_class[c]["pq"], per_class[c]["sq"], per_class[c]["rq"], tp, fp, fn, iou)
            for c, isthing, _pq, _sq, _rq, _counted, iou, tp, fp, fn in classes
        ]

    def per_image(self) -> Records | None:
        """Every image's record (:data:`IMAGE_FIELDS`), when they were kept."""
        return None if self.image_rows is None else Records.from_tuples(self.image_rows, IMAGE_FIELDS)

    def segments(self) -> Records | None:
        """Every segment's record (:data:`SEGMENT_FIELDS`), when they were kept."""
        return None if self.segment_rows is None else Records.from_tuples(self.segment_rows, SEGMENT_FIELDS)

    def result(self) -> PQResult:
        """The results as :class:`PQResult` (what :meth:`PanopticQuality.compute` returns)."""
        results = self.summary()
        split = {name: Scores(**results[name]) for name, _ in METRICS}
        per_class = {c.category_id: c for c in self.classes()}
        images = None if self.image_rows is None else [ImageResult(*row) for row in self.image_rows]
        return PQResult(split["All"], split["Things"], split["Stuff"], per_class, images, self.segments(), results)


def summarize(pq_stat: PQStat, categories: Mapping[int, Any] | Iterable[Any]) -> dict[str, Any]:
    """panopticapi's result dict of a :class:`PQStat`: All, per_class, Things, Stuff, in that key
    order.

    Splits in which no category was seen average to zeros with ``n = 0`` (panopticapi divides by
    zero there); one ``RuntimeWarning`` names them all.
    """
    results = summary(pq_stat, categories)
    _warn_empty(results, stacklevel=3)
    return results


def _warn_empty(results: Mapping[str, Any], stacklevel: int) -> None:
    empty = [isthing for name, isthing in METRICS if results[name]["n"] == 0]
    if empty:
        warnings.warn(empty_split_message(empty), RuntimeWarning, stacklevel=stacklevel + 1)


def print_table(results: Mapping[str, Any], file: TextIO | None = None) -> None:
    """Print panopticapi's PQ / SQ / RQ / N table (to ``file``, standard output by default)."""
    print("{:10s}| {:>5s}  {:>5s}  {:>5s} {:>5s}".format("", "PQ", "SQ", "RQ", "N"), file=file)
    print("-" * (10 + 7 * 4), file=file)
    for name, _isthing in METRICS:
        r = results[name]
        row = f"{name:10s}| {100 * r['pq']:5.1f}  {100 * r['sq']:5.1f}  {100 * r['rq']:5.1f} {r['n']:5d}"
        print(row, file=file)
