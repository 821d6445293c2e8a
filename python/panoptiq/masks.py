"""COCO masks without pycocotools: run-length encoding, polygons and boxes.

The functions mirror ``pycocotools.mask`` — same names, arguments and results, pixel for pixel
and string for string — so code written against it can switch by changing the import::

    from panoptiq import masks as mask_utils   # instead of: from pycocotools import mask

A mask in COCO's run-length form is a dict ``{"size": [height, width], "counts": ...}`` whose
counts are the compressed string (``bytes`` as pycocotools returns them; ``str`` as they come
from JSON is read too) or a plain list of run lengths. Runs go down the columns, starting with
zeros. Unlike pycocotools, a mask whose runs do not add up to its size, a string with
characters outside COCO's alphabet, or polygon coordinates that are not finite raise
``ValueError`` instead of reading past the data.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from . import _core

if TYPE_CHECKING:
    import numpy as np
    import numpy.typing as npt

__all__ = ["area", "decode", "encode", "frPyObjects", "merge", "paint_segments", "toBbox", "to_bbox"]

RLE = dict[str, Any]
_Input = RLE | Sequence[RLE]


def _size(rle: RLE) -> tuple[int, int]:
    try:
        height, width = rle["size"]
        counts = rle["counts"]
    except (KeyError, TypeError, ValueError):
        raise ValueError(f"a COCO RLE is a dict with 'size' [height, width] and 'counts'; got {rle!r:.80}") from None
    del counts
    height, width = int(height), int(width)
    if height < 0 or width < 0:
        raise ValueError(f"an RLE's size is [height, width], at least 0 each; got {rle['size']!r}")
    return height, width


def _arg(rle: RLE) -> tuple[int, int, Any]:
    """The (height, width, counts) form the core reads."""
    height, width = _size(rle)
    counts = rle["counts"]
    if isinstance(counts, str):
        try:
            counts = counts.encode("ascii")
        except UnicodeEncodeError:
            raise ValueError(
                f"RLE counts {counts!r:.60} hold characters outside COCO's alphabet ('0' to 'o')"
            ) from None
    elif isinstance(counts, (bytes, bytearray, memoryview)):
        counts = bytes(counts)
    else:
        try:
            counts = [int(c) for c in counts]
        except (TypeError, ValueError):
            raise ValueError(f"RLE counts must be a string or a list of whole numbers, got {counts!r:.60}") from None
        if any(c < 0 or c >= 1 << 32 for c in counts):
            raise ValueError("RLE counts must be between 0 and 2^32 - 1")
    return height, width, counts


def _rle(counts: bytes, height: int, width: int) -> RLE:
    return {"size": [height, width], "counts": counts}


def encode(bimask: npt.ArrayLike) -> RLE | list[RLE]:
    """Run-length encode binary masks.

    Parameters
    ----------
    bimask : array_like
        An ``(height, width)`` mask, or ``(height, width, n)`` masks; nonzero is foreground.

    Returns
    -------
    dict or list of dict
        One RLE for a 2-D mask, a list of ``n`` for a 3-D stack.
    """
    import numpy as np

    array = np.asarray(bimask)
    if array.ndim == 2:
        return _encode_one(array)
    if array.ndim == 3:
        return [_encode_one(array[:, :, i]) for i in range(array.shape[2])]
    raise ValueError(f"encode takes a (height, width) or (height, width, n) mask, not shape {array.shape}")


def _encode_one(mask: np.ndarray) -> RLE:
    import numpy as np

    height, width = mask.shape
    column_major = np.ascontiguousarray((mask != 0).T, dtype=np.uint8).reshape(-1)
    return _rle(_core.rle_encode(column_major, height, width), height, width)


def decode(rleObjs: _Input) -> npt.NDArray[np.uint8]:
    """Decode RLEs to binary masks.

    Parameters
    ----------
    rleObjs : dict or list of dict
        One RLE, or RLEs of one size.

    Returns
    -------
    numpy.ndarray
        ``(height, width)`` uint8 for one RLE, ``(height, width, n)`` for a list.
    """
    import numpy as np

    if isinstance(rleObjs, dict):
        height, width, counts = _arg(rleObjs)
        return _core.rle_decode((height, width, counts), height, width)
    masks = [decode(r) for r in rleObjs]
    if not masks:
        raise ValueError("decode needs at least one RLE")
    return np.stack(masks, axis=2)


def merge(rleObjs: Sequence[RLE], intersect: bool = False) -> RLE:
    """Union (or, with ``intersect``, intersection) of RLEs of one size."""
    rles = list(rleObjs)
    if not rles:
        raise ValueError("merge needs at least one RLE")
    height, width = _size(rles[0])
    counts = _core.rle_merge([_arg(r) for r in rles], height, width, bool(intersect))
    return _rle(counts, height, width)


def area(rleObjs: _Input) -> Any:
    """Foreground pixels of one RLE (a ``numpy.uint32``) or of each in a list (an array)."""
    import numpy as np

    if isinstance(rleObjs, dict):
        height, width, counts = _arg(rleObjs)
        return np.uint32(_core.rle_area((height, width, counts), height, width))
    return np.array([area(r) for r in rleObjs], dtype=np.uint32)


def toBbox(rleObjs: _Input) -> npt.NDArray[np.float64]:
    """``[x, y, width, height]`` of one RLE's foreground, or an ``(n, 4)`` array for a list.

    As pycocotools: a run of foreground that continues from one column into the next makes the
    box span the full height, and an empty mask gives ``[0, 0, 0, 0]``.
    """
    import numpy as np

    if isinstance(rleObjs, dict):
        height, width, counts = _arg(rleObjs)
        return np.array(_core.rle_bbox((height, width, counts), height, width), dtype=np.float64)
    boxes = [toBbox(r) for r in rleObjs]
    return np.array(boxes, dtype=np.float64).reshape(len(boxes), 4)


to_bbox = toBbox


def frPyObjects(pyobj: Any, h: int, w: int) -> RLE | list[RLE]:
    """Polygons, boxes or uncompressed RLEs as compressed RLEs of an ``h`` x ``w`` image.

    Accepts what pycocotools accepts, read the same way: a list of polygons (each
    ``[x0, y0, x1, y1, ...]``) gives one RLE per polygon — merge them for the segment's mask; a
    list whose first entry has four numbers is read as boxes ``[x, y, width, height]``; a list
    of uncompressed RLE dicts, one such dict, or a single polygon or box.
    """
    import numpy as np

    h, w = int(h), int(w)
    if isinstance(pyobj, np.ndarray):
        pyobj = pyobj.tolist()
    if isinstance(pyobj, dict):
        return _uncompressed(pyobj, h, w)
    if isinstance(pyobj, (list, tuple)) and pyobj:
        first = pyobj[0]
        if isinstance(first, dict):
            return [_uncompressed(o, h, w) for o in pyobj]
        if isinstance(first, (list, tuple, np.ndarray)):
            if len(first) == 4:
                return [_box(b, h, w) for b in pyobj]
            if len(first) < 4:
                raise ValueError(f"frPyObjects cannot read a polygon of {len(first)} numbers (pycocotools neither)")
            polygons = [[float(v) for v in p] for p in pyobj]
            return [_rle(s, h, w) for s in _core.polygon_strings(polygons, h, w)]
        if len(pyobj) == 4:
            return [_box(pyobj, h, w)]
        if len(pyobj) > 4:
            return [_rle(_core.polygon_strings([[float(v) for v in pyobj]], h, w)[0], h, w)]
    raise ValueError(f"frPyObjects cannot read {pyobj!r:.80}: not polygons, boxes or an uncompressed RLE")


def _box(box: Sequence[float], h: int, w: int) -> RLE:
    x, y, bw, bh = (float(v) for v in box)
    polygon = [x, y, x, y + bh, x + bw, y + bh, x + bw, y]
    return _rle(_core.polygon_strings([polygon], h, w)[0], h, w)


def _uncompressed(rle: RLE, h: int, w: int) -> RLE:
    height, width, counts = _arg(rle)
    return _rle(_core.rle_string((height, width, counts), height, width), height, width)


def segmentation_to_rle(segmentation: Any, height: int, width: int) -> RLE:
    """Any COCO ``segmentation`` field as one compressed RLE of the image's size.

    Polygons are rasterised and merged, uncompressed counts compressed, as
    ``pycocotools.coco.COCO.annToRLE`` does; an RLE of another size is an error.
    """
    arg = segmentation_arg(segmentation)
    counts = _core.rle_string(arg, height, width)
    if isinstance(segmentation, dict) and isinstance(arg[2], bytes):
        # A compressed RLE is returned as it is (checked), as annToRLE returns it.
        return segmentation
    return _rle(counts, height, width)


def segmentation_arg(segmentation: Any) -> Any:
    """The core's form of a ``segmentation`` field (polygons stay a list of lists)."""
    if isinstance(segmentation, dict):
        return _arg(segmentation)
    if isinstance(segmentation, (list, tuple)):
        return [[float(v) for v in polygon] for polygon in segmentation]
    raise ValueError(f"a segmentation is an RLE dict or a list of polygons, not {type(segmentation).__name__}")


#: The combination heuristic's thresholds, as ``combine_predictions``' defaults.
COMBINE_DEFAULTS = {"confidence_thr": 0.5, "overlap_thr": 0.5, "stuff_area_limit": 64.0 * 64.0}


def overlap_rule(overlap: str | Mapping[str, float]) -> tuple[float, float, float] | None:
    """The core's overlap rule: None (overlaps are errors) or the combination thresholds."""
    if isinstance(overlap, str):
        if overlap == "error":
            return None
        if overlap == "combine":
            overlap = {}
        else:
            raise ValueError(f"overlap must be 'error', 'combine' or a mapping of thresholds, not {overlap!r}")
    unknown = set(overlap) - set(COMBINE_DEFAULTS)
    if unknown:
        raise ValueError(f"overlap takes {', '.join(COMBINE_DEFAULTS)}; not {', '.join(sorted(unknown))}")
    values = {**COMBINE_DEFAULTS, **{k: float(v) for k, v in overlap.items()}}
    return values["confidence_thr"], values["overlap_thr"], values["stuff_area_limit"]


def paint_segments(
    segments_info: Sequence[Mapping[str, Any]],
    height: int,
    width: int,
    *,
    things: Collection[int] = (),
    overlap: str | Mapping[str, float] = "error",
) -> tuple[npt.NDArray[np.uint32], list[dict[str, Any]]]:
    """Paint segments given as masks into an id map, as a PNG of them would hold.

    Parameters
    ----------
    segments_info : sequence of dict
        Segments with ``id``, ``category_id`` and ``segmentation`` (RLE or polygons), and
        ``score`` where the combination heuristic should use it.
    height, width : int
        The image's size (polygons are drawn at it; an RLE must have it).
    things : collection of int
        Thing category ids, for the combination heuristic (things first, by score).
    overlap : {"error", "combine"} or mapping
        As :func:`panoptiq.pq_compute`'s ``overlap``.

    Returns
    -------
    (numpy.ndarray, list of dict)
        The ``uint32`` id map and the segments kept (all of them unless ``overlap`` dropped
        some), without their ``segmentation``.
    """
    thing_ids = set(things)
    rows = []
    for segment in segments_info:
        try:
            mask = segmentation_arg(segment["segmentation"])
        except KeyError:
            raise ValueError(f"segment {segment.get('id')!r} has no 'segmentation'") from None
        score = segment.get("score")
        rows.append(
            (int(segment["id"]), segment["category_id"] in thing_ids, None if score is None else float(score), mask)
        )
    ids, kept = _core.paint_masks(int(height), int(width), rows, overlap_rule(overlap))
    keep = set(kept)
    return ids, [{k: v for k, v in s.items() if k != "segmentation"} for s in segments_info if int(s["id"]) in keep]
