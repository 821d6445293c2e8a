"""The arguments of :meth:`PanopticQuality.update` checked and shaped into the core's batch calls."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np

import panoptiq._core as _core
from panoptiq._arrays import as_numpy
from panoptiq._segments import flatten
from panoptiq._side import GT, PRED, Side

# Label dtypes the core reads without a copy; any other integer dtype is widened to int64.
_NATIVE = {np.dtype(t) for t in (np.int64, np.int32, np.uint8, np.uint16, np.uint32)}


def labels(value: Any, name: str) -> np.ndarray:
    """An integer label array; floats, booleans and non-numeric arrays are refused."""
    array = as_numpy(value, name)
    if array.dtype.kind not in "iu":
        raise TypeError(f"{name} must be an integer array of labels, got dtype {array.dtype}")
    return array


def _batch_item(mask_per_item: np.ndarray) -> int:
    return int(np.argmax(mask_per_item))


def common_dtype(preds: np.ndarray, target: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Both arrays in one dtype the core reads natively (int64 when they differ)."""
    if preds.dtype == target.dtype and preds.dtype in _NATIVE:
        return np.ascontiguousarray(preds), np.ascontiguousarray(target)
    for array, name in ((preds, "preds"), (target, "target")):
        if array.dtype == np.uint64 and array.size and int(array.max()) >= 2**63:
            item = _batch_item((array >= 2**63).reshape(len(array), -1).any(axis=1))
            raise ValueError(f"{name} holds labels of 2**63 or more (batch index {item})")
    return np.ascontiguousarray(preds, dtype=np.int64), np.ascontiguousarray(target, dtype=np.int64)


def same_shape(preds: np.ndarray, target: np.ndarray, min_ndim: int, form: str) -> None:
    if preds.shape != target.shape:
        raise ValueError(f"preds and target must have the same shape, got {preds.shape} and {target.shape}")
    if preds.ndim < min_ndim:
        raise ValueError(f"{form} must have shape {_SHAPES[form]}, got {preds.shape}")


_SHAPES = {
    "pairs": "(batch, *spatial, 2): (category, instance) per pixel",
    "encoded": "(batch, *spatial): category * label_divisor + instance per pixel",
    "id maps": "(*spatial) for one image or (batch, *spatial) with a list of segments_info per image",
    "colour maps": "(*spatial, 3) for one image or (batch, *spatial, 3) with a list of segments_info per image",
}


def boundary_width(spatial: tuple[int, ...], shape: tuple[int, ...]) -> int:
    """The row length Boundary PQ needs: the last of two spatial axes (``shape`` is the input's,
    named in the error)."""
    if len(spatial) != 2:
        raise ValueError(f"Boundary PQ needs 2-D maps (H x W, or a batch of them); preds has shape {shape}")
    return int(spatial[1])


def pairs_batch(preds: Any, target: Any) -> tuple[np.ndarray, np.ndarray]:
    """``(B, *spatial, 2)`` arrays as ``(B, pixels, 2)`` in one native dtype."""
    p, t = labels(preds, "preds"), labels(target, "target")
    same_shape(p, t, 3, "pairs")
    if p.shape[-1] != 2:
        raise ValueError(
            "pairs must have exactly 2 channels in the last dimension (category, instance), got shape "
            f"{p.shape}; for category * label_divisor + instance maps give label_divisor"
        )
    p, t = common_dtype(p, t)
    return p.reshape(len(p), -1, 2), t.reshape(len(t), -1, 2)


def encoded_batch(preds: Any, target: Any) -> tuple[np.ndarray, np.ndarray]:
    """``(B, *spatial)`` arrays as ``(B, pixels)`` in one native dtype."""
    p, t = labels(preds, "preds"), labels(target, "target")
    same_shape(p, t, 2, "encoded")
    p, t = common_dtype(p, t)
    return p.reshape(len(p), -1), t.reshape(len(t), -1)


def is_batch_of_segments(segments_info: Any) -> bool:
    """Whether ``segments_info`` is one list per image (a batch) rather than one image's list."""
    if not isinstance(segments_info, Sequence) or isinstance(segments_info, (str, bytes)):
        raise TypeError(f"segments_info must be a list of segment dicts, got {type(segments_info).__name__}")
    return len(segments_info) > 0 and not isinstance(segments_info[0], Mapping)


def id_maps(value: Any, name: str, batched: bool, rgb: bool) -> np.ndarray:
    """Id maps as ``(B, pixels)`` uint32, or colour maps as ``(B, pixels, C)`` uint8."""
    array = labels(value, name)
    if not batched:
        array = array[None]
    if rgb:
        if array.ndim < 3 or array.shape[-1] not in (3, 4):
            raise ValueError(f"{name} must have shape {_SHAPES['colour maps']}, got {np.shape(value)}")
        return np.ascontiguousarray(array.reshape(len(array), -1, array.shape[-1]))
    if array.ndim < 2:
        raise ValueError(f"{name} must have shape {_SHAPES['id maps']}, got {np.shape(value)}")
    flat = array.reshape(len(array), -1)
    if flat.dtype != np.uint32 and flat.size:
        bad = (flat < 0) | (flat > 2**32 - 1)
        if bad.any():
            item = _batch_item(bad.any(axis=1))
            raise ValueError(
                f"{name} holds ids outside [0, 2**32): min {flat[item].min()}, max {flat[item].max()} "
                f"(batch index {item})"
            )
    return np.ascontiguousarray(flat, dtype=np.uint32)


def looks_rgb(value: Any, batched: bool) -> bool:
    """A uint8 array with a trailing axis of 3 or 4 beyond the image's: COCO PNG colours."""
    array = np.asarray(value) if not hasattr(value, "dtype") else value
    extra = 1 if batched else 0
    shape = getattr(array, "shape", ())
    return str(getattr(array, "dtype", "")) == "uint8" and len(shape) >= 2 + extra and shape[-1] in (3, 4)


def segment_columns(
    segments_infos: Sequence[Sequence[Mapping[str, Any]]], keys: Sequence[str], side: Side
) -> tuple[list[int], tuple[np.ndarray, ...]]:
    """``segments_info`` per image as the core's columns; HF's ``label_id`` is read as the
    category, a missing ``iscrowd`` as 0 and a missing ground-truth ``area`` as "count it"."""
    is_gt = side is GT
    normalised = []
    for image, (key, segments) in enumerate(zip(keys, segments_infos, strict=True)):
        if not isinstance(segments, Sequence) or isinstance(segments, (str, bytes)):
            raise TypeError(f"segments_info of batch index {image} must be a list of dicts")
        rows = []
        for position, segment in enumerate(segments):
            if not isinstance(segment, Mapping):
                raise TypeError(
                    f"In the image with ID {key} {side.adjective} segment #{position} is a {type(segment).__name__}, "
                    f"not a dict (batch index {image})"
                )
            complete = "category_id" in segment and (not is_gt or ("iscrowd" in segment and "area" in segment))
            if complete and not (is_gt and _negative(segment["area"])):
                rows.append(segment)  # the common case: no copy
                continue
            record = dict(segment)
            if "category_id" not in record and "label_id" in record:
                record["category_id"] = record["label_id"]
            if is_gt:
                record.setdefault("iscrowd", 0)
                if "area" not in record:
                    record["area"] = -1
                elif _negative(record["area"]):
                    raise ValueError(
                        f"In the image with ID {key} {side.adjective} segment with ID {record.get('id')} has a "
                        f"negative area {record['area']!r} (batch index {image})"
                    )
            rows.append(record)
        normalised.append(rows)
    offsets, columns = flatten(normalised, list(keys), side)
    return offsets.tolist(), columns


def _negative(value: Any) -> bool:
    try:
        return bool(value < 0)
    except TypeError:
        return False


def check_divisor(label_divisor: Any) -> int | None:
    if label_divisor is None:
        return None
    if isinstance(label_divisor, bool) or not isinstance(label_divisor, (int, np.integer)) or label_divisor < 1:
        raise ValueError(f"label_divisor must be a positive integer, got {label_divisor!r}")
    return int(label_divisor)


def prepare_id_maps(
    evaluator: _core.Evaluator,
    preds: Any,
    target: Any,
    preds_segments_info: Any,
    target_segments_info: Any,
    keys_for: Callable[[int], list[str]],
    copy: bool,
    boundary: bool = False,
) -> tuple[int, Callable[..., Any]]:
    """Checks id maps (or colour maps) with their ``segments_info`` now; returns the image count
    and the evaluation to run, which returns its totals and, if asked, its rows.
    ``boundary`` (Boundary PQ) needs 2-D maps: their width is passed on."""
    if preds_segments_info is None or target_segments_info is None:
        raise ValueError("id maps need both preds_segments_info and target_segments_info")
    batched = is_batch_of_segments(preds_segments_info) or is_batch_of_segments(target_segments_info)
    pred_infos = preds_segments_info if batched else [preds_segments_info]
    target_infos = target_segments_info if batched else [target_segments_info]
    rgb = looks_rgb(preds, batched) and looks_rgb(target, batched)
    width = None
    if boundary:
        width = boundary_width(np.shape(preds)[(1 if batched else 0) : (-1 if rgb else None)], np.shape(preds))
    p, t = id_maps(preds, "preds", batched, rgb), id_maps(target, "target", batched, rgb)
    if p.shape != t.shape:
        raise ValueError(f"preds and target must have the same shape, got {np.shape(preds)} and {np.shape(target)}")
    if not (len(pred_infos) == len(target_infos) == len(p)):
        raise ValueError(
            f"a batch of {len(p)} maps needs as many segments_info lists, got {len(pred_infos)} for preds "
            f"and {len(target_infos)} for target"
        )
    keys = keys_for(len(p))
    pred_offsets, pred_columns = segment_columns(pred_infos, keys, PRED)
    gt_offsets, gt_columns = segment_columns(target_infos, keys, GT)
    if copy:
        p, t = p.copy(), t.copy()
    update = evaluator.update_rgb if rgb else evaluator.update_id_maps
    columns = (pred_offsets, pred_columns, gt_offsets, gt_columns)
    return len(p), lambda rows, segments, cancel: update(
        (p, t), columns, _core.Batch(keys, rows, segments, cancel, width)
    )
