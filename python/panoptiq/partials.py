"""A dataset evaluated in parts anywhere — Dask workers, a process pool, Ray tasks, separate jobs
— and the parts' results merged exactly into what :func:`panoptiq.pq_compute` returns.

::

    plan = partials.plan("gt.json", "pred.json", "s3://bucket/gt", "s3://bucket/pred", partition_size=1000)
    results = pool.map(partials.evaluate, plan.parts)  # any engine; each part is picklable
    print(plan.combine(results)["All"])

A part carries its images' segments and where their PNGs are (paths, archive folders or URLs
with their ``storage_options``), so a worker needs neither the JSON files nor the client. Its
result is a :class:`Partial`: per-category TP/FP/FN counts and IoU sums kept exactly (integers
in units of 2**-128), so merging is integer addition and the merged result is bit-identical
to a single-machine ``pq_compute`` whatever the partitioning, the order or the engine.

The serialized form (``Partial.to_bytes``, UTF-8 JSON) is versioned::

    {"format": "panoptiq.partial", "version": 2, "part": 3, "images": [3000, 4000],
     "rules": {"category_ids": null, "class_groups": null, "isthing_override": null,
               "iou_threshold": 0.5},
     "categories": [[category_id, iou_sum_hex, tp, fp, fn], ...]}

where ``iou_sum_hex`` is the exact IoU sum as a hexadecimal count of 2**-128 units (so no JSON
reader loses digits) and ``rules`` the evaluation options the part was scored under
(:class:`panoptiq.results.Rules`); a result made under other rules than the plan's is refused.
Version 1 (no ``rules``: panopticapi's) is still read. A part evaluated with ``details=True`` adds ``"per_image"`` and
``"segments"``: lists of rows with :data:`panoptiq.results.IMAGE_FIELDS` and
:data:`~panoptiq.results.SEGMENT_FIELDS`, in image order.
"""

from __future__ import annotations

import contextlib
import json
import os
import threading
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import panoptiq._core as _core
from panoptiq import _dataset
from panoptiq._options import Options, check_threads
from panoptiq._side import GT, PRED, Side
from panoptiq._storage import Folder, Location, is_url, open_folder
from panoptiq.results import IMAGE_FIELDS, SEGMENT_FIELDS, Evaluation, PQStat, Records, Rules

FORMAT = "panoptiq.partial"
VERSION = 2
#: Versions this panoptiq reads (version 1 had no rules: panopticapi's).
READABLE = (1, 2)

#: Pairs per part unless asked otherwise: seconds of work each, a few hundred KB to send.
DEFAULT_PARTITION_SIZE = 1000


@dataclass(frozen=True)
class Part:
    """One partition of a dataset: everything a worker needs to evaluate it — its pairs (the
    core's table, pickled as columns), where their PNGs are, the categories, and the options
    (which IoU; records and threads are the worker's call)."""

    index: int
    start: int
    stop: int
    pairs: _core.Pairs = field(repr=False)
    gt: Location
    pred: Location
    categories: _core.Categories = field(repr=False)
    options: _core.Options = field(default_factory=_core.Options)
    #: The evaluation options the categories were built under; the part's result carries them.
    rules: Rules = field(default_factory=Rules)

    def __len__(self) -> int:
        return self.stop - self.start


@dataclass(frozen=True)
class Partial:
    """The exact per-category totals of one part, and its per-image and per-segment rows when
    they were asked for (:mod:`panoptiq.results`' fields, in image order)."""

    part: int
    start: int
    stop: int
    rows: tuple[tuple[int, str, int, int, int], ...]
    per_image: tuple[tuple[Any, ...], ...] | None = None
    segments: tuple[tuple[Any, ...], ...] | None = None
    rules: Rules = field(default_factory=Rules)
    #: Every size slice's exact rows, when the rules slice by size.
    sizes: tuple[tuple[tuple[int, str, int, int, int], ...], ...] | None = None
    #: Every image's per-class sums (:meth:`panoptiq._core.Totals.image_lists`), when kept.
    image_sums: tuple[Any, ...] | None = None
    #: With the error breakdown, the exact rows of the totals with each kind of error fixed.
    fixed: tuple[tuple[tuple[int, str, int, int, int], ...], ...] | None = None

    def to_json(self) -> dict[str, Any]:
        data = {
            "format": FORMAT,
            "version": VERSION,
            "part": self.part,
            "images": [self.start, self.stop],
            "rules": self.rules.as_dict(),
            "categories": [list(row) for row in self.rows],
        }
        # Optional keys: a reader that does not know them still reads the totals.
        if self.per_image is not None:
            data["per_image"] = [list(row) for row in self.per_image]
        if self.segments is not None:
            data["segments"] = [list(row) for row in self.segments]
        if self.sizes is not None:
            data["sizes"] = [[list(row) for row in rows] for rows in self.sizes]
        if self.fixed is not None:
            data["fixed"] = [[list(row) for row in rows] for rows in self.fixed]
        if self.image_sums is not None:
            data["image_sums"] = dict(
                zip(IMAGE_SUMS, (list(c) if isinstance(c, (list, tuple)) else c for c in self.image_sums), strict=True)
            )
        return data

    def to_bytes(self) -> bytes:
        return json.dumps(self.to_json(), separators=(",", ":")).encode()

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Partial:
        if not isinstance(data, Mapping) or data.get("format") != FORMAT:
            raise ValueError(f"not a {FORMAT} result")
        if data.get("version") not in READABLE:
            raise ValueError(
                f"unsupported {FORMAT} version {data.get('version')!r}"
                f" (this panoptiq reads {', '.join(map(str, READABLE))})"
            )
        try:
            start, stop = (int(x) for x in data["images"])
            rows = _exact_rows(data["categories"])
            part = int(data["part"])
            per_image, segments = (
                None if data.get(key) is None else tuple(tuple(row) for row in data[key])
                for key in ("per_image", "segments")
            )
            rules = Rules.from_dict(data.get("rules"))
            sizes = None if data.get("sizes") is None else tuple(_exact_rows(rows) for rows in data["sizes"])
            fixed = None if data.get("fixed") is None else tuple(_exact_rows(rows) for rows in data["fixed"])
            sums = data.get("image_sums")
            image_sums = None if sums is None else tuple(sums[key] for key in IMAGE_SUMS)
        except (KeyError, TypeError, ValueError) as error:
            raise ValueError(f"malformed {FORMAT} result: {error}") from None
        partial = cls(part, start, stop, rows, per_image, segments, rules, sizes, image_sums, fixed)
        partial.totals()  # checks the hex sums and the image table
        return partial

    @classmethod
    def from_bytes(cls, data: bytes | str) -> Partial:
        try:
            return cls.from_json(json.loads(data))
        except json.JSONDecodeError as error:
            raise ValueError(f"malformed {FORMAT} result: {error}") from None

    def totals(self) -> _core.Totals:
        sizes = None if self.sizes is None else [list(rows) for rows in self.sizes]
        sums = None if self.image_sums is None else tuple(self.image_sums)
        fixed = None if self.fixed is None else [list(rows) for rows in self.fixed]
        return _core.Totals.from_exact_rows(list(self.rows), sizes, sums, fixed)


#: The keys of a partial's per-image sums, in the order of ``Totals.image_lists``.
IMAGE_SUMS = ("images", "image", "category", "iou", "tp", "fp", "fn")


def _exact_rows(rows: Any) -> tuple[tuple[int, str, int, int, int], ...]:
    return tuple((int(c), str(h), int(tp), int(fp), int(fn)) for c, h, tp, fp, fn in rows)


@dataclass
class Plan:
    """A dataset split into :class:`Part` s, and how their results combine."""

    dataset: _dataset.Dataset
    parts: list[Part]

    def __len__(self) -> int:
        return len(self.parts)

    def __iter__(self) -> Iterator[Part]:
        return iter(self.parts)

    def totals(self, partials: Iterable[Partial | bytes | str | Mapping[str, Any]]) -> _core.Totals:
        """The exact sum of every part's result; each part must be there exactly once."""
        seen: dict[int, Partial] = {}
        for item in partials:
            partial = as_partial(item)
            if not 0 <= partial.part < len(self.parts):
                raise ValueError(f"a result for part {partial.part}, which this plan does not have")
            expected = self.parts[partial.part]
            if (partial.start, partial.stop) != (expected.start, expected.stop):
                raise ValueError(
                    f"the result for part {partial.part} covers images {partial.start}:{partial.stop}, "
                    f"the plan's part covers {expected.start}:{expected.stop}"
                )
            if partial.part in seen:
                raise ValueError(f"two results for part {partial.part}")
            if partial.rules != self.dataset.rules:
                raise ValueError(
                    f"the result for part {partial.part} was scored under other evaluation options "
                    f"({partial.rules.describe()}) than this plan's ({self.dataset.rules.describe()}): "
                    "results made under different options are not merged"
                )
            seen[partial.part] = partial
        missing = [i for i in range(len(self.parts)) if i not in seen]
        if missing:
            raise ValueError(
                f"{len(missing)} of {len(self.parts)} parts have no result (parts {missing[:5]}"
                f"{', ...' if len(missing) > 5 else ''}): a partial result is not the dataset's"
            )
        totals = _core.Totals()
        for index in range(len(self.parts)):  # in image order; exact sums make any order equal
            totals.merge(seen[index].totals())
        return totals

    def details(self, partials: Iterable[Partial | bytes | str | Mapping[str, Any]]) -> tuple[Records, Records]:
        """The per-image and per-segment records of every part, in image order; each part must be
        there exactly once, evaluated with ``details=True``."""
        per_image, segments = self.detail_rows(partials)
        return Records.from_tuples(per_image, IMAGE_FIELDS), Records.from_tuples(segments, SEGMENT_FIELDS)

    def detail_rows(
        self, partials: Iterable[Partial | bytes | str | Mapping[str, Any]]
    ) -> tuple[list[tuple[Any, ...]], list[tuple[Any, ...]]]:
        """:meth:`details` as rows (tuples in the records' field order)."""
        by_part = {}
        for item in partials:
            partial = as_partial(item)
            if partial.per_image is None or partial.segments is None:
                raise ValueError(
                    f"the result for part {partial.part} has no per-image rows: evaluate it with details=True"
                )
            by_part[partial.part] = partial
        self.totals(by_part.values())  # every part once, each covering its images
        ordered = [by_part[index] for index in range(len(self.parts))]
        return [row for p in ordered for row in p.per_image or ()], [row for p in ordered for row in p.segments or ()]

    def evaluation(self, partials: Iterable[Partial | bytes | str | Mapping[str, Any]]) -> Evaluation:
        """The merged totals, ready to average (:class:`panoptiq.results.Evaluation`)."""
        return Evaluation(self.totals(partials), self.dataset.classes, self.dataset.kinds)

    def stat(self, partials: Iterable[Partial | bytes | str | Mapping[str, Any]]) -> PQStat:
        """The merged results as panopticapi's :class:`PQStat`."""
        return self.evaluation(partials).stat()

    def combine(self, partials: Iterable[Partial | bytes | str | Mapping[str, Any]]) -> dict[str, Any]:
        """The merged results as ``pq_compute`` returns them (All, per_class, Things, Stuff)."""
        return self.evaluation(partials).summarize()


def as_partial(item: Partial | bytes | str | Mapping[str, Any]) -> Partial:
    if isinstance(item, Partial):
        return item
    if isinstance(item, (bytes, bytearray, str)):
        return Partial.from_bytes(item)
    return Partial.from_json(item)


def plan(
    gt_json_file: str | os.PathLike[str],
    pred_json_file: str | os.PathLike[str],
    gt_folder: str | os.PathLike[str] | None = None,
    pred_folder: str | os.PathLike[str] | None = None,
    *,
    partition_size: int = DEFAULT_PARTITION_SIZE,
    storage_options: Mapping[str, Any] | None = None,
    num_threads: int | None = None,
    iou_type: str = "segm",
    dilation_ratio: float = 0.02,
    reference_marker: bool = False,
    category_ids: Iterable[int] | None = None,
    class_groups: Mapping[int, int] | None = None,
    isthing_override: Mapping[int, bool] | None = None,
    iou_threshold: float | None = None,
    size_edges: Iterable[int] | str | None = None,
    image_stats: bool = False,
    error_breakdown: bool = False,
) -> Plan:
    """Read both JSON files and split the matched pairs into parts of ``partition_size`` pairs.

    Parameters as :func:`panoptiq.pq_compute`'s (files and folders on disk, in archives or at
    fsspec URLs; the evaluation options, which every part and its result carry). The workers
    must reach the folders by the same names: a shared file system or object storage. With
    ``image_stats``, every result also carries its images' per-class sums, so that the merged
    :meth:`Plan.evaluation` can bootstrap (:meth:`panoptiq.results.Evaluation.intervals`); with
    ``error_breakdown``, its totals with each kind of error fixed
    (:meth:`panoptiq.results.Evaluation.error_breakdown`).
    """
    options = Options(
        iou_type, dilation_ratio, reference_marker, image_stats=bool(image_stats), breakdown=bool(error_breakdown)
    )
    rules = Rules.of(category_ids, class_groups, isthing_override, iou_threshold, size_edges)
    dataset = _dataset.load_dataset(
        gt_json_file,
        pred_json_file,
        gt_folder,
        pred_folder,
        num_threads=num_threads,
        storage_options=storage_options,
        rules=rules,
    )
    return plan_dataset(dataset, partition_size, options)


def plan_dataset(
    dataset: _dataset.Dataset, partition_size: int = DEFAULT_PARTITION_SIZE, options: Options | None = None
) -> Plan:
    """:func:`plan` of a dataset already loaded (its IoU as ``options`` say)."""
    if not isinstance(partition_size, int) or isinstance(partition_size, bool) or partition_size < 1:
        raise ValueError(f"partition_size must be a positive integer, got {partition_size!r}")
    # A part carries which IoU; whether records are kept and on how many threads is the worker's.
    iou = (options or Options()).but(records=False, num_threads=None, progress=None).core
    total = len(dataset)
    parts = []
    for index, start in enumerate(range(0, total, partition_size)):
        stop = min(start + partition_size, total)
        pairs = dataset.pairs.slice(start, stop)
        gt, pred = dataset.gt.location, dataset.pred.location
        parts.append(Part(index, start, stop, pairs, gt, pred, dataset.kinds, iou, dataset.rules))
    return Plan(dataset, parts)


def evaluate(part: Part, num_threads: int | None = 1, details: bool = False) -> bytes:
    """Evaluate one part where this runs; its :class:`Partial` as bytes.

    ``num_threads`` defaults to 1: engines run one task per core. Folders are opened once per
    process and location (an archive's directory is read once, not once per part). With
    ``details``, the result also carries the part's per-image and per-segment rows
    (:meth:`Plan.details` gathers them).
    """
    check_threads(num_threads)
    gt = _opened(part.gt, GT)
    pred = _opened(part.pred, PRED)
    options = Options.of_core(part.options).but(records=details, num_threads=num_threads)
    # Categories are named by the core's table alone: a worker needs no category records.
    evaluated = _dataset.evaluate_all(part.pairs, gt, pred, {}, part.categories, options)
    rows = (evaluated.image_rows, evaluated.segment_rows)
    per_image, segments = (None, None) if not details else (tuple(rows[0] or ()), tuple(rows[1] or ()))
    totals = evaluated.totals
    exact = tuple(totals.exact_rows())
    sizes = tuple(tuple(rows) for rows in totals.exact_size_rows()) if part.rules.size_edges is not None else None
    fixed = tuple(tuple(rows) for rows in totals.exact_fixed_rows()) if options.breakdown else None
    partial = Partial(
        part.index, part.start, part.stop, exact, per_image, segments, part.rules, sizes, totals.image_lists(), fixed
    )
    return partial.to_bytes()


_folders: dict[str, Folder] = {}
_folders_lock = threading.Lock()


def _opened(location: Location, side: Side) -> Folder:
    # A local archive rewritten since it was opened is opened again.
    stamp = None
    if not is_url(location.path):
        with contextlib.suppress(OSError):
            status = os.stat(_nearest_existing(location.path))
            stamp = (status.st_mtime_ns, status.st_size)
    key = json.dumps([location.path, side.key, stamp, location.storage_options], sort_keys=True, default=repr)
    with _folders_lock:
        folder = _folders.get(key)
    if folder is None:
        folder = open_folder(location, side)
        with _folders_lock:
            _folders[key] = folder
            while len(_folders) > 16:
                _folders.pop(next(iter(_folders)))
    return folder


def _nearest_existing(path: str) -> str:
    while not os.path.exists(path) and os.path.dirname(path) != path:
        path = os.path.dirname(path)
    return path


def merge(partials: Sequence[Partial | bytes | str | Mapping[str, Any]]) -> PQStat:
    """The exact sum of results, without checking them against a plan."""
    totals = _core.Totals()
    for item in partials:
        totals.merge(as_partial(item).totals())
    return Evaluation(totals, {}).stat()
