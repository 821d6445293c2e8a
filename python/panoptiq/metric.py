"""``PanopticQuality``: a streaming, mergeable PQ metric fed label maps in memory."""

from __future__ import annotations

import os
from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from typing import Any

import numpy as np

import panoptiq._core as _core
from panoptiq import _batches
from panoptiq._background import Worker
from panoptiq._mask_sides import metric_side
from panoptiq._options import Options
from panoptiq.boundary import BoundaryOptions
from panoptiq.results import Evaluation, PQResult, Rules

STATE_FORMAT = "panoptiq.PanopticQuality"
STATE_VERSION = 2
#: State versions this panoptiq reads (version 1 had no evaluation options: panopticapi's).
READABLE_STATES = (1, 2)
_RULES = ("panopticapi", "torchmetrics")
#: An update checked and ready to run: its image count, and a call (rows?, segments?, cancel)
#: that evaluates it and returns its totals and, when asked, its per-image and per-segment rows.
_Job = tuple[int, Callable[[bool, bool, "_core.CancelToken | None"], Any]]


def category_kinds(
    categories: Mapping[int, Any] | Iterable[Any] | None,
    things: Collection[int] | None,
    stuffs: Collection[int] | None,
) -> list[tuple[int, bool]]:
    """``(category_id, isthing)`` in the metric's order, from panopticapi's categories or from
    torchmetrics' ``things`` / ``stuffs`` (things first, then stuffs, each sorted)."""
    if categories is not None:
        if things is not None or stuffs is not None:
            raise ValueError("give either categories or things/stuffs, not both")
        records = categories.values() if isinstance(categories, Mapping) else categories
        kinds = []
        for record in records:
            if not isinstance(record, Mapping) or "id" not in record or "isthing" not in record:
                raise ValueError(f"each category must be a dict with 'id' and 'isthing', got {record!r}")
            kinds.append((_category_id(record["id"], "categories"), record["isthing"] == 1))
    else:
        if things is None and stuffs is None:
            raise ValueError("give categories (panopticapi's list of dicts) or things and stuffs (sets of ids)")
        thing_ids = {_category_id(c, "things") for c in things or ()}
        stuff_ids = {_category_id(c, "stuffs") for c in stuffs or ()}
        if thing_ids & stuff_ids:
            raise ValueError(f"things and stuffs must be disjoint; both hold {sorted(thing_ids & stuff_ids)}")
        kinds = [(c, True) for c in sorted(thing_ids)] + [(c, False) for c in sorted(stuff_ids)]
    ids = [c for c, _ in kinds]
    if len(set(ids)) != len(ids):
        raise ValueError(f"category ids must be unique, got {ids}")
    if not kinds:
        raise ValueError("at least one category is needed")
    return kinds


def _category_id(value: Any, name: str) -> int:
    if isinstance(value, bool) or (not isinstance(value, int) and not hasattr(value, "__index__")):
        raise TypeError(f"{name} must hold integer category ids, got {value!r}")
    return int(value)


class PanopticQuality:
    """Panoptic Quality accumulated over image pairs held in memory.

    Feed it with :meth:`update` from a training or validation loop, read it with
    :meth:`compute`. Its state is per-category sums (exact IoU sums, TP, FP, FN), the same size
    after ten updates or ten million; metrics updated in other processes or machines
    :meth:`merge` into the bits one metric fed everything would hold, in any order. Pickle it, or
    send :meth:`state_dict` (plain JSON) and rebuild it with :meth:`from_state_dict`.

    Parameters
    ----------
    categories : list of dict or mapping, optional
        panopticapi's categories: records with ``id`` and ``isthing`` (a list, or a mapping
        keyed by id). Alternatively give ``things`` and ``stuffs``.
    things, stuffs : collection of int, optional
        torchmetrics' form of the categories: disjoint sets of thing and stuff ids.
    rules : {"panopticapi", "torchmetrics"}
        Whose per-image rules apply. ``"panopticapi"`` (the default) gives ``pq_compute``'s
        numbers: crowd regions, the VOID union rule, IoU > 0.5, predictions mostly on VOID or
        crowd ignored. ``"torchmetrics"`` gives torchmetrics' ``PanopticQuality`` numbers: VOID
        leaves the union on both sides, unmatched segments mostly on the other side's VOID are
        neither FP nor FN, no crowd (crowd ground truth is VOID), unknown target categories are
        VOID, stuff instance ids are ignored, and IoUs are float32 quotients as torch computes
        them.
    modified : bool
        PQ† (Porzi et al., 2019; torchmetrics' ``ModifiedPanopticQuality``): stuff categories
        sum the IoU of every overlapping same-category pair, count each ground-truth segment
        once, and have no FP or FN. Things are scored as in PQ.
    label_divisor : int, optional
        Maps are ``category * label_divisor + instance`` integers (Cityscapes / DeepLab).
    void : int, optional
        A category id whose pixels are VOID on both sides (an ignore label, e.g. 255).
    allow_unknown_preds_category : bool
        Predicted pixels of a category in neither things nor stuffs become VOID instead of
        raising.
    per_image : bool
        Keep one :class:`~panoptiq.results.ImageResult` row per image (memory grows with the
        images; off by default).
    per_segment : bool
        Keep every segment's record — its fate (``tp``, ``fn``, ``fp``, ``ignored``, ``crowd``),
        area and most overlapping segment of the other side, as ``pq_compute(per_image=True)``
        gives them (:data:`panoptiq.results.SEGMENT_FIELDS`) — from the same pass; ``compute()``
        returns them as ``segments``. Needs id maps with ``segments_info`` (the records name the
        segments by their ids) and panopticapi's rules.
    iou_type : {"segm", "boundary"}
        ``"boundary"``: Boundary PQ (:mod:`panoptiq.boundary`), as ``pq_compute(iou_type=
        "boundary")`` computes it, on 2-D maps of any input form, under panopticapi's rules.
    dilation_ratio : float
        Boundary PQ's band width as a fraction of the image diagonal.
    reference_marker : bool
        Boundary PQ on id maps with ``segments_info``: reproduce boundary-iou-api's numbers for a
        segment whose id is its interior marker (the largest category id + 1; see
        :mod:`panoptiq.boundary`).
    background : bool
        :meth:`update` checks its input, copies it and returns; a worker thread evaluates it
        with the Rust engine, GIL released. At most ``max_pending`` updates wait; more block
        until the worker catches up. An error surfaces at the next :meth:`update` or at
        :meth:`compute`, naming the image; that update adds nothing.
    max_pending : int
        The bound of the background queue.
    category_ids, class_groups, isthing_override, iou_threshold
        The evaluation options of :func:`panoptiq.pq_compute` (a subset averaged over,
        categories merged into groups before matching, kinds overridden, the IoU a match must
        exceed); part of the metric's settings, so metrics with different options never merge.

    Notes
    -----
    Input forms of :meth:`update`, chosen by its arguments:

    * id maps with ``segments_info`` (panopticapi, detectron2, HF ``post_process_panoptic_
      segmentation``: ``label_id`` is read as ``category_id``; ``isthing`` keys are ignored,
      the categories decide) — one map ``(*spatial)`` with one list of segment dicts, or a batch
      ``(B, *spatial)`` with one list per image; ``uint8`` maps with a trailing axis of 3 (or 4)
      are COCO PNG colours, turned into ids with ``rgb2id``. A ground-truth segment without
      ``area`` has its pixel count as area; without ``iscrowd``, it is not crowd.
    * ``(B, *spatial, 2)`` (category, instance) arrays, torchmetrics' form, when there is no
      ``segments_info`` and no ``label_divisor``.
    * ``(B, *spatial)`` ``category * label_divisor + instance`` arrays, with ``label_divisor``.

    Any number of spatial axes (images, volumes, point clouds). numpy arrays, or anything with
    ``__dlpack__`` or ``__array__`` (CPU torch tensors; torch is never imported).
    """

    def __init__(
        self,
        categories: Mapping[int, Any] | Iterable[Any] | None = None,
        *,
        things: Collection[int] | None = None,
        stuffs: Collection[int] | None = None,
        rules: str = "panopticapi",
        modified: bool = False,
        label_divisor: int | None = None,
        void: int | None = None,
        allow_unknown_preds_category: bool = False,
        per_image: bool = False,
        per_segment: bool = False,
        iou_type: str = "segm",
        dilation_ratio: float = 0.02,
        reference_marker: bool = False,
        background: bool = False,
        max_pending: int = 8,
        category_ids: Iterable[int] | None = None,
        class_groups: Mapping[int, int] | None = None,
        isthing_override: Mapping[int, bool] | None = None,
        iou_threshold: float | None = None,
    ) -> None:
        if rules not in _RULES:
            raise ValueError(f"rules must be one of {_RULES}, got {rules!r}")
        boundary = Options(iou_type, dilation_ratio, reference_marker).boundary
        if boundary is not None and rules != "panopticapi":
            raise ValueError(
                "iou_type='boundary' follows panopticapi's rules; it is not available with rules='torchmetrics'"
            )
        if per_segment and rules != "panopticapi":
            raise ValueError(
                "per_segment=True follows panopticapi's rules; it is not available with rules='torchmetrics'"
            )
        if not isinstance(max_pending, int) or max_pending < 1:
            raise ValueError(f"max_pending must be a positive integer, got {max_pending!r}")
        self._config: dict[str, Any] = {
            "categories": category_kinds(categories, things, stuffs),
            "rules": rules,
            "modified": bool(modified),
            "label_divisor": _batches.check_divisor(label_divisor),
            "void": None if void is None else _category_id(void, "void"),
            "allow_unknown_preds_category": bool(allow_unknown_preds_category),
            "per_image": bool(per_image),
            "per_segment": bool(per_segment),
            # Scalars, as the state dict keeps them.
            "dilation_ratio": None if boundary is None else boundary.dilation_ratio,
            "reference_marker": boundary is not None and boundary.reference_marker,
            "options": Rules.of(category_ids, class_groups, isthing_override, iou_threshold).as_dict(),
        }
        self._background, self._max_pending = bool(background), max_pending
        self._setup()

    def _boundary(self) -> BoundaryOptions | None:
        ratio = self._config["dilation_ratio"]
        return None if ratio is None else BoundaryOptions(ratio, self._config["reference_marker"])

    def _setup(self) -> None:
        c = self._config
        boundary = self._boundary()
        options = None if boundary is None else Options("boundary", *boundary).core
        records = {c: {"id": c, "isthing": int(isthing)} for c, isthing in c["categories"]}
        self._classes, self._kinds = Rules.from_dict(c["options"]).apply(records)
        self._evaluator = _core.Evaluator(
            self._kinds, c["rules"], c["modified"], c["void"], c["allow_unknown_preds_category"], options
        )
        self._totals = _core.Totals()
        self._images = self._next_key = 0
        self._rows: list[tuple[Any, ...]] | None = [] if c["per_image"] else None
        self._segments: list[tuple[Any, ...]] | None = [] if c["per_segment"] else None
        self._worker: Worker | None = None

    # -- feeding --------------------------------------------------------------------------

    def update(
        self,
        preds: Any,
        target: Any,
        *,
        preds_segments_info: Sequence[Any] | None = None,
        target_segments_info: Sequence[Any] | None = None,
        image_ids: Any = None,
        overlap: str | Mapping[str, float] = "error",
    ) -> None:
        """Add one image pair or a batch of them.

        Parameters
        ----------
        preds, target : array_like
            Predicted and ground-truth label maps of one shape, in one of the forms of the class
            notes.
        preds_segments_info, target_segments_info : list, optional
            For id maps: the segments of one image (a list of dicts with ``id`` and
            ``category_id``, and ``iscrowd``/``area`` for the ground truth), or one such list per
            image of a batch.
        image_ids : optional
            A key per image (a single value for one image) for per-image rows and error
            messages; by default the count of images seen before.
        overlap : {"error", "combine"} or mapping
            For a side given as masks (``preds=None`` with segments carrying ``segmentation``,
            COCO RLE or polygons, painted at the other side's size): how overlapping masks are
            resolved, as :func:`panoptiq.pq_compute`'s ``overlap``. A side may also be a PNG's
            bytes or a binary file object (one image).

        Raises
        ------
        ValueError
            Shapes that differ or lack the channel axis, negative or too large ids, a category in
            neither things nor stuffs, an instance id on a stuff category (panopticapi's rules),
            a prediction listing segments its map lacks; messages name the batch index.
        TypeError
            Float or boolean label arrays.
        KeyError
            panopticapi's errors for ``segments_info`` that does not match its map.
        """
        things = [c for c, isthing in self._config["categories"] if isthing]
        preds, preds_segments_info = metric_side(preds, preds_segments_info, target, things, overlap, "preds")
        target, target_segments_info = metric_side(target, target_segments_info, preds, things, overlap, "target")
        worker = self._worker_or_none()
        if worker is not None:
            worker.raise_error()
        job = self._job(preds, target, preds_segments_info, target_segments_info, image_ids, worker is not None)
        if worker is None:
            self._run(job)
        else:
            worker.submit(job)

    def _keys(self, image_ids: Any) -> Callable[[int], list[str]]:
        start = self._next_key

        def keys(count: int) -> list[str]:
            self._next_key = start + count  # a failed update's keys are not reused
            if image_ids is None:
                return [str(start + i) for i in range(count)]
            ids = image_ids if isinstance(image_ids, (list, tuple)) else [image_ids]
            if len(ids) != count:
                raise ValueError(f"{len(ids)} image_ids for a batch of {count}")
            return [str(i) for i in ids]

        return keys

    def _job(
        self,
        preds: Any,
        target: Any,
        preds_segments_info: Any,
        target_segments_info: Any,
        image_ids: Any,
        copy_inputs: bool,
    ) -> _Job:
        """Checks the input now and returns the evaluation to run (now, or on the worker)."""
        ev, keys_for = self._evaluator, self._keys(image_ids)
        divisor = self._config["label_divisor"]
        boundary = self._boundary()
        if preds_segments_info is not None or target_segments_info is not None:
            return _batches.prepare_id_maps(
                ev, preds, target, preds_segments_info, target_segments_info, keys_for, copy_inputs, bool(boundary)
            )
        if boundary is not None and boundary.reference_marker:
            raise ValueError(
                "reference_marker=True needs id maps with segments_info (preds_segments_info=, "
                "target_segments_info=): the marker collides with segment ids of yours, label maps have none"
            )
        if self._config["per_segment"]:
            raise ValueError(
                "per_segment=True needs id maps with segments_info (preds_segments_info=, "
                "target_segments_info=): the records name segments by their ids"
            )
        if divisor is not None:
            p, t = _batches.encoded_batch(preds, target)
            width = _batches.boundary_width(np.shape(preds)[1:], np.shape(preds)) if boundary else None
            p, t = (p.copy(), t.copy()) if copy_inputs else (p, t)
            keys = keys_for(len(p))
            return len(p), lambda rows, _segments, cancel: ev.update_encoded(
                (p, t), divisor, _core.Batch(keys, rows, False, cancel, width)
            )
        p, t = _batches.pairs_batch(preds, target)
        width = _batches.boundary_width(np.shape(preds)[1:-1], np.shape(preds)) if boundary else None
        p, t = (p.copy(), t.copy()) if copy_inputs else (p, t)
        keys = keys_for(len(p))
        return len(p), lambda rows, _segments, cancel: ev.update_pairs(
            (p, t), _core.Batch(keys, rows, False, cancel, width)
        )

    def _run(self, job: _Job, cancel: _core.CancelToken | None = None) -> None:
        count, run = job
        totals, rows, segments = run(self._rows is not None, self._segments is not None, cancel)
        self._totals.merge(totals)
        self._images += count
        if self._rows is not None and rows is not None:
            self._rows.extend(rows)
        if self._segments is not None and segments is not None:
            self._segments.extend(segments)

    # -- background -----------------------------------------------------------------------

    def _worker_or_none(self) -> Worker | None:
        if not self._background:
            return None
        if self._worker is None or self._worker.pid != os.getpid():
            # A forked child has no worker thread: it starts its own.
            self._worker = Worker(self._run, self._max_pending)
        return self._worker

    def wait(self) -> None:
        """Wait until background updates are evaluated; raise the first error one met."""
        if self._worker is not None and self._worker.pid == os.getpid():
            self._worker.join()
            self._worker.raise_error()

    # -- reading --------------------------------------------------------------------------

    def compute(self) -> PQResult:
        """PQ, SQ and RQ of everything added so far (waiting for background updates).

        Returns
        -------
        PQResult
            All / Things / Stuff scores, per class, per image when kept; ``to_dict()`` is
            ``pq_compute``'s dict. A split with no category seen scores 0.0 with ``n == 0``.
        """
        self.wait()
        images = None if self._rows is None else list(self._rows)
        segments = None if self._segments is None else list(self._segments)
        return Evaluation(self._totals, self._classes, self._kinds, images, segments).result()

    def reset(self) -> None:
        """Forget everything added (waiting for background updates first)."""
        self.wait()
        self._totals = _core.Totals()
        self._images = self._next_key = 0
        self._rows = [] if self._config["per_image"] else None
        self._segments = [] if self._config["per_segment"] else None

    @property
    def images(self) -> int:
        """How many image pairs were added."""
        return self._images

    # -- merging and state ----------------------------------------------------------------

    def merge(self, *others: PanopticQuality) -> PanopticQuality:
        """Add the state of metrics with the same settings into this one; returns ``self``."""
        self.wait()
        for other in others:
            if not isinstance(other, PanopticQuality):
                raise TypeError(f"can only merge PanopticQuality metrics, got {type(other).__name__}")
            if other._config != self._config:
                diff = sorted(k for k in self._config if self._config[k] != other._config[k])
                raise ValueError(f"cannot merge metrics with different settings: {', '.join(diff)} differ")
            other.wait()
            self._totals.merge(other._totals)
            self._images += other._images
            self._next_key += other._next_key
            if self._rows is not None and other._rows is not None:
                self._rows.extend(other._rows)
            if self._segments is not None and other._segments is not None:
                self._segments.extend(other._segments)
        return self

    def __iadd__(self, other: PanopticQuality) -> PanopticQuality:
        return self.merge(other)

    def __add__(self, other: PanopticQuality) -> PanopticQuality:
        if not isinstance(other, PanopticQuality):
            return NotImplemented
        return PanopticQuality.from_state_dict(self.state_dict()).merge(other)

    def state_dict(self) -> dict[str, Any]:
        """The settings and state as plain JSON-able data (exact IoU sums as hex strings)."""
        self.wait()
        return {
            "format": STATE_FORMAT,
            "version": STATE_VERSION,
            "config": {**self._config, "categories": [list(k) for k in self._config["categories"]]},
            "images": self._images,
            "totals": [list(row) for row in self._totals.exact_rows()],
            "per_image": None if self._rows is None else [list(row) for row in self._rows],
            "per_segment": None if self._segments is None else [list(row) for row in self._segments],
        }

    @classmethod
    def from_state_dict(cls, state: Mapping[str, Any], *, background: bool = False) -> PanopticQuality:
        """A metric rebuilt from :meth:`state_dict`'s output."""
        if not isinstance(state, Mapping) or state.get("format") != STATE_FORMAT:
            raise ValueError(f"not a {STATE_FORMAT} state dict")
        if state.get("version") not in READABLE_STATES:
            raise ValueError(
                f"unsupported state version {state.get('version')!r} "
                f"(this panoptiq reads {', '.join(map(str, READABLE_STATES))})"
            )
        config = state["config"]
        options = Rules.from_dict(config.get("options")).arguments()  # version 1: panopticapi's
        del options["size_edges"]  # pq_compute's alone: the metric does not slice by size
        metric = cls(
            things=[c for c, isthing in config["categories"] if isthing],
            stuffs=[c for c, isthing in config["categories"] if not isthing],
            rules=config["rules"],
            modified=config["modified"],
            label_divisor=config["label_divisor"],
            void=config["void"],
            allow_unknown_preds_category=config["allow_unknown_preds_category"],
            per_image=config["per_image"],
            per_segment=config.get("per_segment", False),  # absent from states of panoptiq <= 0.1
            iou_type="segm" if config.get("dilation_ratio") is None else "boundary",
            dilation_ratio=config.get("dilation_ratio") or 0.02,
            reference_marker=config.get("reference_marker", False),
            background=background,
            **options,
        )
        # Keep the given category order (it orders per_class), not things-then-stuffs.
        metric._config["categories"] = [(int(c), bool(t)) for c, t in config["categories"]]
        metric._setup()
        metric._totals = _core.Totals.from_exact_rows(
            [(int(c), str(h), tp, fp, fn) for c, h, tp, fp, fn in state["totals"]]
        )
        metric._images = metric._next_key = int(state["images"])
        if metric._rows is not None:
            metric._rows = [tuple(row) for row in state["per_image"] or []]
        if metric._segments is not None:
            metric._segments = [tuple(row) for row in state.get("per_segment") or []]
        return metric

    def __getstate__(self) -> dict[str, Any]:
        return {"state": self.state_dict(), "background": self._background, "max_pending": self._max_pending}

    def __setstate__(self, pickled: dict[str, Any]) -> None:
        other = PanopticQuality.from_state_dict(pickled["state"], background=pickled["background"])
        other._max_pending = pickled["max_pending"]
        self.__dict__.update(other.__dict__)

    def __repr__(self) -> str:
        c = self._config
        return (
            f"PanopticQuality({len(c['categories'])} categories, rules={c['rules']!r}, "
            f"modified={c['modified']}, images={self._images})"
        )
