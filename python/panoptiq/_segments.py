"""``segments_info`` records turned into the checked columns the Rust core takes."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from itertools import chain
from operator import itemgetter
from typing import Any

import numpy as np

from panoptiq._side import GT, Side

GT_KEYS = ("id", "category_id", "iscrowd", "area")
PRED_KEYS = ("id", "category_id")
_MAX_ID = 2**32 - 1


def flatten(
    segments_infos: Sequence[Sequence[Mapping[str, Any]]],
    image_ids: Sequence[str],
    side: Side,
    source: str | None = None,
) -> tuple[np.ndarray, tuple[np.ndarray, ...]]:
    """Concatenate the ``segments_info`` of several images into columns.

    Returns the offsets (one per image, plus the total) and the columns: for the ground truth
    ``(ids, category_ids, iscrowd, areas)``, for a prediction ``(ids, category_ids)``.
    Errors name ``side``, the image, the segment and ``source``, the JSON file the records came
    from, when given.
    """
    is_gt = side is GT
    keys = GT_KEYS if is_gt else PRED_KEYS
    at = "" if source is None else f" in {source}"
    offsets = np.zeros(len(segments_infos) + 1, dtype=np.int64)
    np.cumsum([len(segments) for segments in segments_infos], out=offsets[1:])
    try:
        # One C-level pass per field over all images' records: no Python loop per segment.
        columns = [list(map(itemgetter(key), chain.from_iterable(segments_infos))) for key in keys]
    except (KeyError, TypeError):
        for i, segments in enumerate(segments_infos):
            _explain_bad_record(segments, keys, image_ids[i], side, at)
        raise

    def where(index: int) -> tuple[str, Any]:
        image = int(np.searchsorted(offsets, index, side="right")) - 1
        return image_ids[image], columns[0][index]

    ids = _integers(columns[0], "id", side, at, where)
    bad = (ids < 0) | (ids > _MAX_ID)
    if bad.any():
        image, segment = where(int(np.argmax(bad)))
        raise ValueError(
            f"In the image with ID {image} {side.adjective} segment id {segment}{at} is outside [0, 2**32)"
        )
    result = [ids.astype(np.uint32), _integers(columns[1], "category_id", side, at, where)]
    if is_gt:
        result.append(np.array([c == 1 for c in columns[2]], dtype=np.bool_))
        result.append(_integers(columns[3], "area", side, at, where))
    return offsets, tuple(result)


def _integers(values: Sequence[Any], field: str, side: Side, at: str, where: Any) -> np.ndarray:
    """An int64 column; integral floats (``1234.0``) pass, anything else names its segment."""
    array = np.asarray(values) if values else np.zeros(0, dtype=np.int64)
    if array.dtype.kind in "iu":
        return array.astype(np.int64)
    if array.dtype.kind == "f":
        integral = np.isfinite(array) & (array == np.floor(array)) & (np.abs(array) < 2.0**63)
        if integral.all():
            return array.astype(np.int64)
        index = int(np.argmin(integral))
    else:  # mixed types, or integers past int64
        index = next((i for i, v in enumerate(values) if not _is_int64(v)), -1)
        if index < 0:
            return np.array([int(v) for v in values], dtype=np.int64)
    image, segment = where(index)
    value = values[index]
    integral = isinstance(value, (int, float, np.number)) and not isinstance(value, bool)
    integral = integral and math.isfinite(value) and value == math.floor(value)
    problem = (
        f"{field} {value!r}, outside the 64-bit integer range" if integral else f"a non-integral {field} {value!r}"
    )
    raise ValueError(f"In the image with ID {image} {side.adjective} segment with ID {segment}{at} has {problem}")


def _is_int64(value: Any) -> bool:
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)):
        return False
    return math.isfinite(value) and value == math.floor(value) and -(2**63) <= value < 2**63


def _explain_bad_record(segments: Sequence[Any], keys: tuple[str, ...], image: str, side: Side, at: str) -> None:
    for position, segment in enumerate(segments):
        if not isinstance(segment, Mapping):
            raise TypeError(
                f"In the image with ID {image} {side.adjective} segment #{position}{at} is a "
                f"{type(segment).__name__}, not a dict"
            )
        for key in keys:
            if key not in segment:
                raise KeyError(
                    f"In the image with ID {image} {side.adjective} segment #{position} "
                    f"(id {segment.get('id', '?')}){at} is missing '{key}'"
                )
