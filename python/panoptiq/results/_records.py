"""Per-image and per-segment results as plain records, with conversions to pandas and polars
(imported only when asked for) and writers for CSV and JSON Lines."""

from __future__ import annotations

import csv
import json
import os
from operator import itemgetter
from typing import Any

#: Fields of a per-image record.
IMAGE_FIELDS = ("image_id", "pq", "sq", "rq", "n", "tp", "fp", "fn")
#: Fields of a per-segment record. ``fate`` is "tp", "fn", "fp", "ignored" (a predicted segment
#: mostly on VOID or on a crowd region of its category: not counted) or "crowd" (a ground-truth
#: crowd region). ``other_*`` is the matched segment of a true positive (its IoU as counted), else
#: the most overlapping segment of the other side (plain pixel IoU), None when nothing overlaps.
#: ``other_boundary_iou`` is, under Boundary PQ (``iou_type="boundary"``), the boundary IoU of the
#: segment and ``other_id`` (a true positive's ``other_iou`` is then the smaller of it and the mask
#: IoU); None otherwise. ``cause``, with ``error_breakdown=True``, is a false negative's or false
#: positive's cause (a kind of :data:`panoptiq.results.ERROR_KINDS` but ``mask_quality``); None
#: otherwise.
SEGMENT_FIELDS = (
    "image_id",
    "side",
    "segment_id",
    "category_id",
    "area",
    "fate",
    "other_id",
    "other_category_id",
    "other_iou",
    "other_boundary_iou",
    "cause",
)


def _padded(row: tuple[Any, ...], length: int) -> tuple[Any, ...]:
    return tuple(row) + (None,) * (length - len(row)) if len(row) < length else tuple(row)


class Records(list):
    """A list of dicts, one per image or per segment, all with the same keys."""

    def __init__(self, rows: Any = (), fields: tuple[str, ...] = ()) -> None:
        super().__init__(rows)
        self.fields = fields

    def __setstate__(self, state: dict[str, Any]) -> None:
        # Records pickled before a field was added (its rows come first, then this state) get
        # the new fields as None, so that an old result equals a new one.
        self.__dict__.update(state)
        old = tuple(self.fields)
        for current in (IMAGE_FIELDS, SEGMENT_FIELDS):
            if len(old) < len(current) and current[: len(old)] == old:
                for row in self:
                    for name in current[len(old) :]:
                        row.setdefault(name, None)
                self.fields = current

    @classmethod
    def from_tuples(cls, rows: list[tuple[Any, ...]], fields: tuple[str, ...]) -> Records:
        # Rows written before a field was added (old partials) read it as None.
        return cls((dict(zip(fields, _padded(row, len(fields)), strict=True)) for row in rows), fields)

    def to_pandas(self) -> Any:
        """A ``pandas.DataFrame`` of the records (pandas must be installed)."""
        try:
            import pandas
        except ImportError:
            raise ImportError("Records.to_pandas needs pandas: pip install pandas") from None
        return pandas.DataFrame(list(self), columns=list(self.fields))

    def to_polars(self) -> Any:
        """A ``polars.DataFrame`` of the records (polars must be installed)."""
        try:
            import polars
        except ImportError:
            raise ImportError("Records.to_polars needs polars: pip install polars") from None
        return polars.DataFrame(list(self), schema=list(self.fields), orient="row")

    def write(self, path: str | os.PathLike[str]) -> None:
        """Write the records as CSV (``.csv``) or JSON Lines (``.jsonl``, ``.ndjson``)."""
        path = os.fspath(path)
        if path.endswith((".jsonl", ".ndjson")):
            with open(path, "w", encoding="utf-8") as f:
                for row in self:
                    f.write(json.dumps(row) + "\n")
        elif path.endswith(".csv"):
            with open(path, "w", encoding="utf-8", newline="") as f:
                writer = csv.writer(f)
                writer.writerow(self.fields)
                # Rows as tuples: several times quicker than csv.DictWriter on large tables.
                writer.writerows(
                    map(itemgetter(*self.fields), self) if len(self.fields) > 1 else ([r[self.fields[0]]] for r in self)
                )
        else:
            raise ValueError(f"{path}: per-image and per-segment results are written as .csv or .jsonl")
