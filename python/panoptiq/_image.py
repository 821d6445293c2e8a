"""Evaluating one image pair from in-memory id maps and ``segments_info``."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import numpy as np

import panoptiq._core as _core
from panoptiq._arrays import as_numpy
from panoptiq._segments import flatten
from panoptiq._side import GT, PRED
from panoptiq.results._records import IMAGE_FIELDS, SEGMENT_FIELDS, Records
from panoptiq.results._stat import PQStat, stat_from_rows


def evaluate_image(
    gt_ids: np.ndarray,
    gt_segments_info: Sequence[Mapping[str, Any]],
    pred_ids: np.ndarray,
    pred_segments_info: Sequence[Mapping[str, Any]],
    categories: Mapping[int, Any] | Iterable[Any],
    *,
    image_id: Any = None,
) -> PQStat:
    """Evaluate one ground-truth / prediction pair with panopticapi's per-image rules.

    The result is what ``panopticapi.evaluation.pq_compute_single_core`` returns for this one
    image; results of several images add up with ``+=``, and
    :meth:`~panoptiq.PQStat.pq_average` turns the total into PQ, SQ and RQ.

    Parameters
    ----------
    gt_ids, pred_ids : array_like
        H x W integer id maps (as :func:`panoptiq.rgb2id` returns) of equal shape: numpy arrays,
        CPU tensors (anything with ``__dlpack__`` or ``__array__``) or nested lists.
        C-contiguous ``uint32`` and ``int32`` maps are used without a copy; other layouts and
        integer dtypes are copied. Id 0 is VOID.
    gt_segments_info : sequence of dict
        Ground-truth segments: ``id``, ``category_id``, ``iscrowd`` and ``area`` (the JSON area
        is used in the IoU, as panopticapi does).
    pred_segments_info : sequence of dict
        Predicted segments: ``id`` and ``category_id``; areas are counted from ``pred_ids``.
    categories : mapping or iterable
        The known categories: a mapping keyed by category id (panopticapi's ``categories``), or
        an iterable of category records (with ``id``) or of ids.
    image_id : optional
        Named in error messages.

    Returns
    -------
    PQStat
        Per-category IoU sums and TP / FP / FN counts of this image.

    Raises
    ------
    KeyError
        With panopticapi's messages: a predicted id in the map but not in
        ``pred_segments_info``, or listed but absent from the map, or with an unknown category;
        or a segment record without a required field.
    ValueError
        Shapes that differ or are not 2-D, maps in GPU memory, negative or too large ids, a
        segment id listed twice or listed as 0 (VOID), a non-integral area, or a ground-truth
        area too small for the pixels its segment covers.
    TypeError
        Maps that are not integer arrays.
    """
    inputs = _core_inputs(gt_ids, gt_segments_info, pred_ids, pred_segments_info, categories, image_id)
    return stat_from_rows(_core.evaluate_image(*inputs))


def image_details(
    gt_ids: np.ndarray,
    gt_segments_info: Sequence[Mapping[str, Any]],
    pred_ids: np.ndarray,
    pred_segments_info: Sequence[Mapping[str, Any]],
    categories: Mapping[int, Any] | Iterable[Any],
    *,
    image_id: Any = None,
) -> tuple[dict[str, Any], Records]:
    """One pair's per-image and per-segment results, as ``pq_compute(per_image=True)`` gives them.

    Takes the arguments of :func:`evaluate_image` and raises what it raises.

    Returns
    -------
    image : dict
        ``image_id``, ``pq``, ``sq``, ``rq``, ``n``, ``tp``, ``fp``, ``fn``
        (:data:`panoptiq.results.IMAGE_FIELDS`).
    segments : Records
        One record per segment, ground truth first (:data:`panoptiq.results.SEGMENT_FIELDS`).
    """
    inputs = _core_inputs(gt_ids, gt_segments_info, pred_ids, pred_segments_info, categories, image_id)
    row, segments = _core.image_details(*inputs)
    image = dict(zip(IMAGE_FIELDS, row, strict=True))
    return image, Records.from_tuples(segments, SEGMENT_FIELDS)


def _core_inputs(
    gt_ids: Any,
    gt_segments_info: Sequence[Mapping[str, Any]],
    pred_ids: Any,
    pred_segments_info: Sequence[Mapping[str, Any]],
    categories: Mapping[int, Any] | Iterable[Any],
    image_id: Any,
) -> tuple[Any, ...]:
    """One pair checked and put in the form the core's per-image functions take."""
    name = "?" if image_id is None else str(image_id)
    gt_map = id_map(gt_ids, "gt_ids")
    pred_map = id_map(pred_ids, "pred_ids")
    _, gt_columns = flatten([gt_segments_info], [name], GT)
    _, pred_columns = flatten([pred_segments_info], [name], PRED)
    return name, (gt_map, pred_map, gt_columns, pred_columns), _core.Categories.of_ids(category_ids(categories))


def category_ids(categories: Mapping[int, Any] | Iterable[Any]) -> list[int]:
    """The known category ids, from a mapping keyed by id, records with ``id``, or bare ids: all
    that matching one image needs (no kinds: those matter to averages only)."""
    if isinstance(categories, Mapping):
        return [int(c) for c in categories]
    return [int(c["id"] if isinstance(c, Mapping) else c) for c in categories]


def id_map(ids: Any, name: str) -> np.ndarray:
    ids = as_numpy(ids, name)
    if ids.dtype.kind not in "iu":
        raise TypeError(f"{name} must hold integer segment ids, got an array of {ids.dtype}")
    if ids.ndim != 2:
        hint = "; convert colour maps with panoptiq.rgb2id first" if ids.ndim == 3 else ""
        raise ValueError(f"{name} must be a 2-D (H x W) id map, got shape {ids.shape}{hint}")
    if ids.dtype != np.uint32 and ids.size and (int(ids.min()) < 0 or int(ids.max()) > 2**32 - 1):
        raise ValueError(f"{name} holds ids outside [0, 2**32): min {ids.min()}, max {ids.max()}")
    if ids.dtype == np.int32:
        ids = ids.view(np.uint32)  # the range check above makes the view exact
    # A copy only where the core could not read the map as it is (strided, transposed, other dtypes).
    return np.ascontiguousarray(ids, dtype=np.uint32)
