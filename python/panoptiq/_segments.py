"""``segments_info`` records turned into the checked columns the Rust core takes."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from itertools import chain
from operator import itemgetter
from typing import Any

import numpy as np

GT_KEYS = ("id", "category_id", "iscrowd", "area")
PRED_KEYS = ("id", "category_id")
_MAX_ID = 2**32 - 1


def flatten(
    segments_infos: Sequence[Sequence[Mapping[str, Any]]], image_ids: Sequence[str], side: str
) -> tuple[np.ndarray, tuple[np.ndarray, ...]]:
    """Concatenate the ``segments_info`` of several images into columns.

    Returns the offsets (one per image, plus the total) and the columns: for the ground truth
    ``(ids, category_ids, iscrowd, areas)``, for a prediction ``(ids, category_ids)``.
    ``side`` is ``"ground-truth"`` or ``"predicted"``; errors name it, the image and the segment.
    """
    keys = GT_KEYS if side == "ground-truth" else PRED_KEYS
    offsets = np.zeros(len(segments_infos) + 1, dtype=np.int64)
    np.cumsum([len(segments) for segments in segments_infos], out=offsets[1:])
    try:
        # One C-level pass per field over all images' records: no Python loop per segment.
        columns = [list(map(itemgetter(key), chain.from_iterable(segments_infos))) for key in keys]
    except (KeyError, TypeError):
        for i, segments in enumerate(segments_infos):
            _explain_bad_record(segments, keys, image_ids[i], side)
        raise

    def where(index: int) -> tuple[str, Any]:
        image = int(np.searchsorted(offsets, index, side="right")) - 1
        return image_ids[image], columns[0][index]

    ids = _integers(columns[0], "id", side, where)
    bad = (ids < 0) | (ids > _MAX_ID)
    if bad.any():
        image, segment = where(int(np.argmax(bad)))
        raise ValueError(f"In the image with ID {image} {side} segment id {segment} is outside [0, 2**32)")
    result = [ids.astype(np.uint32), _integers(columns[1], "category_id", side, where)]
    if side == "ground-truth":
        result.append(np.array([c == 1 for c in columns[2]], dtype=np.bool_))
        result.append(_integers(columns[3], "area", side, where))
    return offsets, tuple(result)


def _integers(values: Sequence[Any], field: str, side: str, where: Any) -> np.ndarray:
    """An int64 column; integral floats (``1234.0``) pass, anything else names its segment."""
    array = np.asarray(values) if values else np.zeros(0, dtype=np.int64)
    if array.dtype.kind in "iu":
        return array.astype(np.int64)
    if array.dtype.kind == "f":
        integral = np.isfinite(array) & (array == np.floor(array))
        if integral.all():
            return array.astype(np.int64)
        index = int(np.argmin(integral))
    else:
        bad = (i for i, v in enumerate(values) if not isinstance(v, (int, np.integer)) or isinstance(v, bool))
        index = next(bad, -1)
        if index < 0:  # integers too large for int64
            index = int(np.argmax([abs(v) for v in values]))
    image, segment = where(index)
    raise ValueError(
        f"In the image with ID {image} {side} segment with ID {segment} has a non-integral {field} {values[index]!r}"
    )


def _explain_bad_record(segments: Sequence[Any], keys: tuple[str, ...], image: str, side: str) -> None:
    for position, segment in enumerate(segments):
        if not isinstance(segment, Mapping):
            raise TypeError(
                f"In the image with ID {image} {side} segment #{position} is a {type(segment).__name__}, not a dict"
            )
        for key in keys:
            if key not in segment:
                raise KeyError(
                    f"In the image with ID {image} {side} segment #{position} "
                    f"(id {segment.get('id', '?')}) has no '{key}'"
                )
