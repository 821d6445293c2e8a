"""Per-category PQ statistics: ``PQStatCat`` and ``PQStat``, as in panopticapi."""

from __future__ import annotations

import warnings
from collections import defaultdict
from collections.abc import Mapping
from typing import Any

from panoptiq import _core


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

    def __repr__(self) -> str:
        return f"PQStat({dict(self.pq_per_cat)!r})"

    def pq_average(
        self, categories: Mapping[int, Mapping[str, Any]], isthing: bool | None
    ) -> tuple[dict[str, float | int], dict[int, dict[str, float]]]:
        """Average PQ, SQ and RQ over the categories of a split.

        Parameters
        ----------
        categories : mapping
            Category id to category record (with ``isthing``), in the order to average in.
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
        split = [(label, isthing is not None and bool(info["isthing"] == 1)) for label, info in categories.items()]
        # Reading pq_per_cat creates missing entries, as panopticapi's pq_average does.
        stats = [
            (label, s.iou, s.tp, s.fp, s.fn)
            for label, cat_isthing in split
            if isthing is None or cat_isthing == isthing
            for s in (self.pq_per_cat[label],)
        ]
        pq, sq, rq, n, rows = _core.pq_average(stats, split, isthing)
        if n == 0:
            kind = {None: "", True: "thing ", False: "stuff "}[isthing]
            warnings.warn(
                f"no {kind}category has a true positive, false positive or false negative: "
                "PQ, SQ and RQ are reported as 0.0 with n = 0",
                RuntimeWarning,
                stacklevel=2,
            )
        per_class: dict[int, dict[str, float]] = {}
        for label, pq_c, sq_c, rq_c, counted in rows:
            # panopticapi reports an integer 0 as SQ of a category with no true positive.
            no_tp = counted and self.pq_per_cat[label].tp == 0
            per_class[label] = {"pq": pq_c, "sq": 0 if no_tp else sq_c, "rq": rq_c}
        return {"pq": pq, "sq": sq, "rq": rq, "n": n}, per_class
