"""The one place an evaluation's results are made: the core's exact per-category totals,
averaged by the core where they are (each IoU sum rounded once), with the per-image and
per-segment rows of the same pass — turned into panopticapi's dict, its ``PQStat``, the metric's
``PQResult`` or the command line's table."""

from __future__ import annotations

import warnings
from collections.abc import Iterable, Mapping
from typing import Any, TextIO

import panoptiq._core as _core
from panoptiq.results._bootstrap import Bootstrap, ImageTable, intervals, intervals_of, resampled_scores
from panoptiq.results._breakdown import error_breakdown
from panoptiq.results._records import IMAGE_FIELDS, SEGMENT_FIELDS, Records
from panoptiq.results._rules import size_slices
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
        results = {"All": scores[0], "per_class": per_class, "Things": scores[1], "Stuff": scores[2]}
        slices = size_slices(self.kinds.size_edges)
        if slices:
            results["sizes"] = {
                name: {"range": [low, high], **_averages(totals, self.kinds)}
                for (name, low, high), totals in zip(slices, _slice_totals(self.totals, len(slices)), strict=True)
            }
        return results

    def intervals(self, bootstrap: Bootstrap) -> dict[str, Any]:
        """Bootstrap percentile intervals of PQ, SQ and RQ (All, Things, Stuff, per class) from the
        per-image sums this evaluation kept (see :mod:`panoptiq.results._bootstrap`)."""
        return intervals(self.image_table(), self._averaged_kinds(), bootstrap)

    def intervals_and_samples(self, bootstrap: Bootstrap) -> tuple[dict[str, Any], dict[str, Any]]:
        """:meth:`intervals`, and the resamples' scores they come from (:meth:`resampled`)."""
        samples = self.resampled(bootstrap)
        return intervals_of(samples, bootstrap), samples

    def resampled(self, bootstrap: Bootstrap) -> dict[str, Any]:
        """Every resample's scores (:func:`panoptiq.results._bootstrap.resampled_scores`)."""
        return resampled_scores(self.image_table(), self._averaged_kinds(), bootstrap)

    def error_breakdown(self) -> dict[str, Any]:
        """Every kind of error's counts and ΔPQ (:mod:`panoptiq.results._breakdown`), from an
        evaluation with ``breakdown``."""
        return error_breakdown(self.totals, self.kinds)

    def image_table(self) -> ImageTable:
        """Every image's per-class sums, as kept by an evaluation with ``image_stats``."""
        columns = self.totals.image_columns()
        if columns is None:
            raise ValueError("this evaluation kept no per-image sums: evaluate with image_stats=True to bootstrap")
        return ImageTable.of_columns(columns)

    def _averaged_kinds(self) -> list[tuple[int, bool]]:
        _, classes = self.totals.summary(self.kinds)
        return [(c, isthing) for c, isthing, *_ in classes]

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


def _averages(totals: _core.Totals, kinds: _core.Categories) -> dict[str, Any]:
    """All, Things, Stuff and per-class scores of totals (panopticapi's dict, without the
    integer 0 SQ quirk: these are not panopticapi's numbers)."""
    splits, classes = totals.summary(kinds)
    names = ("All", "Things", "Stuff")
    result: dict[str, Any] = {
        name: dict(zip(("pq", "sq", "rq", "n"), split, strict=True)) for name, split in zip(names, splits, strict=True)
    }
    result["per_class"] = {c: {"pq": pq, "sq": sq, "rq": rq} for c, _, pq, sq, rq, *_ in classes}
    return result


def _slice_totals(totals: _core.Totals, slices: int) -> list[_core.Totals]:
    """Every size slice's totals; slices nothing was counted in are empty."""
    sizes = totals.sizes()
    return sizes + [_core.Totals() for _ in range(slices - len(sizes))]


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


def print_sizes(results: Mapping[str, Any], file: TextIO | None = None) -> None:
    """Print the size slices' PQ / SQ / RQ / N (All) as a table, when ``results`` has them."""
    sizes = results.get("sizes")
    if not sizes:
        return
    width = max(10, *(len(name) + 1 for name in sizes))
    print(f"{'Size':{width}s}| {'PQ':>5s}  {'SQ':>5s}  {'RQ':>5s} {'N':>5s}  area", file=file)
    print("-" * (width + 7 * 4 + 6), file=file)
    for name, r in sizes.items():
        low, high = r["range"]
        a = r["All"]
        area = f"[{low}, {'inf' if high is None else high})"
        row = f"{name:{width}s}| {100 * a['pq']:5.1f}  {100 * a['sq']:5.1f}  {100 * a['rq']:5.1f} {a['n']:5d}  {area}"
        print(row, file=file)


def print_intervals(results: Mapping[str, Any], file: TextIO | None = None) -> None:
    """Print the bootstrap intervals of All, Things and Stuff, when ``results`` has them."""
    intervals = results.get("intervals")
    if not intervals:
        return
    level = f"{100 * intervals['level']:g}%"
    print(f"{level} intervals, {intervals['resamples']} resamples of the images (seed {intervals['seed']}):", file=file)
    for name, _isthing in METRICS:
        cells = []
        for metric in ("pq", "sq", "rq"):
            bounds = intervals[name][metric]
            shown = "-" if bounds is None else f"[{100 * bounds[0]:.1f}, {100 * bounds[1]:.1f}]"
            cells.append(f"{metric.upper()} {shown}")
        print(f"  {name:8s}" + "  ".join(cells), file=file)
