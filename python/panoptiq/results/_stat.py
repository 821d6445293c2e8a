"""Per-category PQ statistics as panopticapi holds them: ``PQStatCat`` and ``PQStat``, float sums a
user may fill and add by hand, averaged by the core's one averaging rule."""

from __future__ import annotations

import warnings
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import panoptiq._core as _core

#: The result dict's splits, in panopticapi's order, with the ``isthing`` each averages over.
METRICS = (("All", None), ("Things", True), ("Stuff", False))


def summary(pq_stat: PQStat, categories: Mapping[int, Any] | Iterable[Any]) -> dict[str, Any]:
    """panopticapi's result dict: All, per_class, Things, Stuff, in that key order, with zeros
    and ``n = 0`` for a split in which no category was seen (the caller decides how to warn)."""
    results: dict[str, Any] = {}
    for name, isthing in METRICS:
        results[name], per_class_results = pq_stat.average(categories, isthing=isthing)
        if name == "All":
            results["per_class"] = per_class_results
    return results


class PQStatCat:
    """Statistics of one category: summed IoU of matches and TP / FP / FN counts.

    Attributes
    ----------
    iou : float
        Sum of the IoUs of the matched (true positive) segment pairs.
    tp, fp, fn : int
        True positives, false positives and false negatives.
    """

    def __init__(self) -> None:
        self.iou = 0.0
        self.tp = 0
        self.fp = 0
        self.fn = 0

    def __iadd__(self, pq_stat_cat: PQStatCat) -> PQStatCat:
        self.iou += pq_stat_cat.iou
        self.tp += pq_stat_cat.tp
        self.fp += pq_stat_cat.fp
        self.fn += pq_stat_cat.fn
        return self

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, PQStatCat):
            return NotImplemented
        return (self.iou, self.tp, self.fp, self.fn) == (other.iou, other.tp, other.fp, other.fn)

    # Mutable (``+=``) and compared by value, so not hashable, like a list.
    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return f"PQStatCat(iou={self.iou!r}, tp={self.tp}, fp={self.fp}, fn={self.fn})"


class PQStat:
    """Statistics of every category, summable over images with ``+=``.

    Attributes
    ----------
    pq_per_cat : collections.defaultdict
        Category id to :class:`PQStatCat`; reading a missing category creates it, as in
        panopticapi.
    """

    def __init__(self) -> None:
        self.pq_per_cat: defaultdict[Any, PQStatCat] = defaultdict(PQStatCat)

    def __getitem__(self, i: Any) -> PQStatCat:
        return self.pq_per_cat[i]

    def __iadd__(self, pq_stat: PQStat) -> PQStat:
        for label, pq_stat_cat in pq_stat.pq_per_cat.items():
            self.pq_per_cat[label] += pq_stat_cat
        return self

    def __eq__(self, other: object) -> bool:
        """Equal when every category has the same sums; a category absent from one side equals
        an all-zero one on the other (reading a category creates it, as in panopticapi)."""
        if not isinstance(other, PQStat):
            return NotImplemented
        empty = PQStatCat()
        labels = set(self.pq_per_cat) | set(other.pq_per_cat)
        return all(self.pq_per_cat.get(k, empty) == other.pq_per_cat.get(k, empty) for k in labels)

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return f"PQStat({dict(self.pq_per_cat)!r})"

    def pq_average(
        self, categories: Mapping[int, Any] | Iterable[Any], isthing: bool | None
    ) -> tuple[dict[str, float | int], dict[int, dict[str, float]]]:
        """Average PQ, SQ and RQ over the categories of a split.

        Parameters
        ----------
        categories : mapping or iterable
            The categories, in the order to average in: panopticapi's mapping of category id to
            record (with ``isthing``), a list of category records (with ``id`` and ``isthing``),
            or, for ``isthing=None``, a list of category ids.
        isthing : bool or None
            ``True`` for things, ``False`` for stuff, ``None`` for all categories.

        Returns
        -------
        averages : dict
            ``{'pq', 'sq', 'rq', 'n'}``: unweighted means over the ``n`` categories that have at
            least one TP, FP or FN.
        per_class : dict
            Category id to ``{'pq', 'sq', 'rq'}``; categories never seen score 0.0.

        Warns
        -----
        RuntimeWarning
            When no category of the split was seen (``n == 0``): the means are then 0.0, where
            panopticapi raises ``ZeroDivisionError``.
        """
        averages, per_class = self.average(categories, isthing)
        if averages["n"] == 0:
            warnings.warn(empty_split_message([isthing]), RuntimeWarning, stacklevel=2)
        return averages, per_class

    def average(
        self, categories: Mapping[int, Any] | Iterable[Any], isthing: bool | None
    ) -> tuple[dict[str, float | int], dict[int, dict[str, float]]]:
        """:meth:`pq_average` without its warning, for callers that report empty splits themselves."""
        records = category_records(categories, need_isthing=isthing is not None)
        split = [(label, isthing is not None and bool(info["isthing"] == 1)) for label, info in records.items()]
        # Reading pq_per_cat creates missing entries, as panopticapi's pq_average does.
        stats = [
            (label, s.iou, s.tp, s.fp, s.fn)
            for label, cat_isthing in split
            if isthing is None or cat_isthing == isthing
            for s in (self.pq_per_cat[label],)
        ]
        pq, sq, rq, n, rows = _core.pq_average(stats, split, isthing)
        per_class: dict[int, dict[str, float]] = {}
        for label, pq_c, sq_c, rq_c, counted in rows:
            # panopticapi reports an integer 0 as SQ of a category with no true positive.
            no_tp = counted and self.pq_per_cat[label].tp == 0
            per_class[label] = {"pq": pq_c, "sq": 0 if no_tp else sq_c, "rq": rq_c}
        return {"pq": pq, "sq": sq, "rq": rq, "n": n}, per_class


def category_records(categories: Mapping[int, Any] | Iterable[Any], *, need_isthing: bool) -> Mapping[int, Any]:
    """Category id to record, from a mapping keyed by id, a list of records, or a list of ids."""
    if isinstance(categories, Mapping):
        records = categories
    else:
        records = {}
        for category in categories:
            if isinstance(category, Mapping):
                if "id" not in category:
                    raise KeyError(f"category record {dict(category)!r} has no 'id'")
                records[category["id"]] = category
            else:
                records[category] = {"id": category}
    if need_isthing:
        for label, info in records.items():
            if not isinstance(info, Mapping) or "isthing" not in info:
                raise ValueError(
                    f"category {label} has no 'isthing', which a Things or Stuff average needs; "
                    "pass category records (panopticapi's categories) rather than ids"
                )
    return records


def empty_split_message(splits: Sequence[bool | None]) -> str:
    """The warning for splits whose average has ``n == 0``."""
    if len(splits) == 1:
        kind = {None: "", True: "thing ", False: "stuff "}[splits[0]]
        where = ""
    else:
        kind, where = "", " in " + ", ".join({None: "All", True: "Things", False: "Stuff"}[s] for s in splits)
    return (
        f"no {kind}category has a true positive, false positive or false negative{where}: "
        "PQ, SQ and RQ are reported as 0.0 with n = 0"
    )


def stat_from_rows(rows: Iterable[tuple[int, float, int, int, int]]) -> PQStat:
    """A :class:`PQStat` from the core's ``(category_id, iou, tp, fp, fn)`` rows."""
    stat = PQStat()
    for category_id, iou, tp, fp, fn in rows:
        cat = stat[category_id]
        cat.iou, cat.tp, cat.fp, cat.fn = iou, tp, fp, fn
    return stat
