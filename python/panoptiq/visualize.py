"""Pictures of panoptic segmentations: id maps in their categories' colours, and error images
that show, for one image pair, which segments were matched, missed or hallucinated.

The per-pixel work (colours, borders, blending over a photo, finding a point inside each segment
for its label) is done by panoptiq's Rust core; labels are drawn with Pillow, imported only when
labels are asked for. Pictures are H x W x 3 ``uint8`` arrays; :func:`save_png` writes them with
panoptiq's PNG encoder.
"""

from __future__ import annotations

import colorsys
import functools
import os
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import numpy as np

import panoptiq._core as _core
from panoptiq._ids import rgb2id
from panoptiq._image import id_map, image_details
from panoptiq._png import read_id_map
from panoptiq._side import GT, PRED

#: Colour of each segment fate in error images (see :data:`panoptiq.results.SEGMENT_FIELDS`), and
#: of VOID: matched segments green, missed ones red, false positives orange, ground-truth crowd
#: regions grey, predicted segments that are not counted (on VOID or crowd) light blue.
FATE_COLORS: dict[str, tuple[int, int, int]] = {
    "tp": (44, 160, 44),
    "fn": (214, 39, 40),
    "fp": (255, 127, 14),
    "crowd": (150, 150, 150),
    "ignored": (120, 175, 235),
    "void": (25, 25, 25),
}
#: What the legend of an error image calls each fate.
FATE_NAMES = {
    "tp": "true positive",
    "fn": "false negative (missed)",
    "fp": "false positive",
    "crowd": "crowd region",
    "ignored": "not counted (VOID / crowd)",
    "void": "VOID",
}
_BORDER = (255, 255, 255)
_Color = tuple[int, int, int]


def category_colors(categories: Mapping[int, Any] | Iterable[Any]) -> dict[int, _Color]:
    """Each category's colour: its ``color`` field where the records have one (COCO's do), else a
    colour derived from its id alone, so that it is the same in every run and every report."""
    records = categories.values() if isinstance(categories, Mapping) else categories
    colors = {}
    for record in records:
        if isinstance(record, Mapping):
            cid, color = int(record["id"]), record.get("color")
        else:
            cid, color = int(record), None
        if color is not None:
            colors[cid] = tuple(int(c) for c in color)
        else:
            # Golden-ratio hues spread consecutive ids around the colour wheel.
            r, g, b = colorsys.hsv_to_rgb((cid * 0.618033988749895) % 1.0, 0.65, 0.9)
            colors[cid] = (round(r * 255), round(g * 255), round(b * 255))
    return colors


def _is_thing(categories: Mapping[int, Any] | Iterable[Any]) -> dict[int, bool]:
    records = categories.values() if isinstance(categories, Mapping) else categories
    return {int(r["id"]): bool(r.get("isthing", 1)) for r in records if isinstance(r, Mapping)}


def instance_color(base: Sequence[int], segment_id: int, spread: int = 30) -> _Color:
    """A shade of ``base`` for one instance: each channel moved by up to ``spread``, the same for
    the same segment id in every run (a hash of the id, not a random draw as panopticapi's
    ``IdGenerator`` makes)."""
    x = (int(segment_id) * 0x9E3779B97F4A7C15 + 0x632BE59BD9B4E019) & 0xFFFFFFFFFFFFFFFF
    x = ((x ^ (x >> 30)) * 0xBF58476D1CE4E5B9) & 0xFFFFFFFFFFFFFFFF
    x = ((x ^ (x >> 27)) * 0x94D049BB133111EB) & 0xFFFFFFFFFFFFFFFF
    x ^= x >> 31
    out = []
    for channel, value in enumerate(base):
        step = (x >> (16 * channel)) & 0xFFFF
        out.append(min(255, max(0, int(value) + step % (2 * spread + 1) - spread)))
    return (out[0], out[1], out[2])


def segment_colors(
    segments_info: Sequence[Mapping[str, Any]], categories: Mapping[int, Any] | Iterable[Any]
) -> dict[int, _Color]:
    """Each segment's colour: its category's for stuff, a stable shade of it for things."""
    categories = list(categories.values()) if isinstance(categories, Mapping) else list(categories)
    base, thing = category_colors(categories), _is_thing(categories)
    colors = {}
    for s in segments_info:
        cid = int(s["category_id"])
        color = base.get(cid, (128, 128, 128))
        colors[int(s["id"])] = instance_color(color, s["id"]) if thing.get(cid, True) else color
    return colors


def colorize(
    ids: Any,
    segments_info: Sequence[Mapping[str, Any]],
    categories: Mapping[int, Any] | Iterable[Any],
    *,
    photo: Any = None,
    alpha: float = 0.6,
    borders: bool = True,
) -> np.ndarray:
    """A colour picture of a panoptic segmentation.

    Parameters
    ----------
    ids : array_like, str, os.PathLike, bytes or binary file object
        An H x W id map, an H x W x 3 panoptic colour map, or a panoptic PNG: its path, its
        bytes (DETR's ``png_string``) or a file object opened in binary mode.
    segments_info : sequence of dict
        The segments (``id``, ``category_id``); ids not listed are drawn black (VOID).
    categories : mapping or iterable
        Category records (``id``, optional ``color`` and ``isthing``) or ids.
    photo : array_like or str or os.PathLike, optional
        The input photo (H x W x 3, or a file Pillow reads) to draw over.
    alpha : float
        Opacity of the colours over the photo.
    borders : bool
        Draw white lines where segments meet.

    Returns
    -------
    numpy.ndarray
        H x W x 3 ``uint8``.
    """
    id_map = as_id_map(ids, "ids")
    colors = segment_colors(segments_info, categories)
    return _paint(id_map, colors, (0, 0, 0), read_photo(photo, id_map.shape), alpha, borders)


def error_image(
    gt: Any,
    pred: Any,
    gt_segments_info: Sequence[Mapping[str, Any]],
    pred_segments_info: Sequence[Mapping[str, Any]],
    categories: Mapping[int, Any] | Iterable[Any],
    *,
    photo: Any = None,
    alpha: float = 0.6,
    layout: str = "side-by-side",
    labels: bool = True,
    legend: bool = True,
    image_id: Any = None,
) -> np.ndarray:
    """A picture of what panopticapi's rules made of one image pair.

    Every segment is painted in the colour of its fate (:data:`FATE_COLORS`): on the ground-truth
    side true positives, false negatives and crowd regions; on the prediction side true
    positives, false positives and segments not counted; VOID dark. With ``labels``, each segment
    carries its category name and its IoU (the matched one for a true positive; for a missed or
    false segment the category and IoU of the segment of the other side that overlaps it most, so
    that a wrong class, a split or a merge shows).

    Parameters
    ----------
    gt, pred : array_like, str, os.PathLike, bytes or binary file object
        Id maps, panoptic colour maps or PNGs (paths, bytes or binary file objects), of the
        same size.
    gt_segments_info, pred_segments_info : sequence of dict
        The segments, as in the COCO panoptic JSON.
    categories : mapping or iterable
        Category records (with ``name``, for labels) or ids.
    photo : array_like or str or os.PathLike, optional
        The input photo to draw over, same size.
    alpha : float
        Opacity of the fate colours over the photo.
    layout : {"side-by-side", "overlay"}
        Ground truth left and prediction right, or one panel: ground-truth fates, with the
        prediction's false positives and uncounted segments painted over them.
    labels, legend : bool
        Write labels on the segments (needs Pillow) and a legend of the colours below.
    image_id : optional
        Named in error messages.

    Returns
    -------
    numpy.ndarray
        H x W' x 3 ``uint8`` (W' = 2 W + a gap side by side), taller with a legend.

    Raises
    ------
    ValueError
        An unknown ``layout``, maps of different sizes, a photo of another size, or segments that
        do not agree with the maps (as :func:`panoptiq.evaluate_image` raises).
    ImportError
        Labels or a photo file asked for without Pillow installed.
    """
    if layout not in ("side-by-side", "overlay"):
        raise ValueError(f"layout must be 'side-by-side' or 'overlay', got {layout!r}")
    gt_map, pred_map = as_id_map(gt, GT.key), as_id_map(pred, PRED.key)
    _, records = image_details(gt_map, gt_segments_info, pred_map, pred_segments_info, categories, image_id=image_id)
    photo_array = read_photo(photo, gt_map.shape)
    gt_fates = {r["segment_id"]: r for r in records if r["side"] == GT.key}
    pred_fates = {r["segment_id"]: r for r in records if r["side"] == PRED.key}
    gt_rgb = _paint_fates(gt_map, gt_fates, photo_array, alpha)
    pred_rgb = _paint_fates(pred_map, pred_fates, photo_array, alpha)
    names = _category_names(categories)
    if layout == "overlay":
        counted_pred = [sid for sid, r in pred_fates.items() if r["fate"] in ("fp", "ignored")]
        on_top = np.isin(pred_map, np.array(counted_pred, dtype=np.uint32))
        picture = np.where(on_top[..., None], pred_rgb, gt_rgb)
        panels = [(picture, gt_map, gt_fates, 0), (picture, pred_map, {k: pred_fates[k] for k in counted_pred}, 0)]
    else:
        height, width = gt_map.shape
        gap = max(4, width // 100)
        picture = np.full((height, 2 * width + gap, 3), 255, dtype=np.uint8)
        picture[:, :width] = gt_rgb
        picture[:, width + gap :] = pred_rgb
        panels = [(picture, gt_map, gt_fates, 0), (picture, pred_map, pred_fates, width + gap)]
    if not labels and not legend:
        return picture
    from PIL import Image, ImageDraw  # Pillow draws the text

    canvas = Image.fromarray(picture)
    if labels:
        draw = ImageDraw.Draw(canvas)
        font = _font(gt_map.shape[0])
        placed: list[tuple[int, int, int, int]] = []
        if layout == "side-by-side":
            for text, dx in ((GT.noun, 0), (PRED.noun, gt_map.shape[1] + gap)):
                placed.append(_text_box(draw, font, (dx + 4, 4), text))
        for _, id_map, fates, dx in panels:
            _draw_labels(draw, font, id_map, fates, names, dx, placed)
    if legend:
        canvas = _with_legend(canvas, _font(gt_map.shape[0]))
    return np.asarray(canvas, dtype=np.uint8).copy()


def save_png(path: str | os.PathLike[str], picture: np.ndarray) -> None:
    """Write an H x W x 3 ``uint8`` picture as an RGB PNG with panoptiq's encoder."""
    picture = np.asarray(picture)
    if picture.ndim != 3 or picture.shape[2] != 3 or picture.dtype != np.uint8:
        raise ValueError(f"a picture is an H x W x 3 uint8 array, got {picture.dtype} of shape {picture.shape}")
    _core.write_rgb_png(os.fspath(path), np.ascontiguousarray(picture))


def as_id_map(value: Any, name: str) -> np.ndarray:
    """An H x W ``uint32`` id map from an id map, a panoptic colour map, or a PNG: its path, its
    bytes or a binary file object."""
    if isinstance(value, (str, os.PathLike, bytes, bytearray, memoryview)) or callable(getattr(value, "read", None)):
        return read_id_map(value)
    array = np.asarray(value)
    if array.ndim == 3 and array.shape[2] in (3, 4):
        array = rgb2id(array[..., :3].astype(np.uint8, copy=False))
    return id_map(array, name)


def read_photo(photo: Any, shape: tuple[int, ...]) -> np.ndarray | None:
    """The photo as an H x W x 3 ``uint8`` array, checked against the id map's ``shape``."""
    if photo is None:
        return None
    if isinstance(photo, (str, os.PathLike)):
        try:
            from PIL import Image
        except ImportError:
            raise ImportError("reading a photo file needs Pillow: pip install Pillow") from None
        with Image.open(photo) as image:
            array = np.asarray(image.convert("RGB"))
        where = f"the photo {os.fspath(photo)}"
    else:
        array = np.asarray(photo)
        where = "the photo"
    if array.ndim == 3 and array.shape[2] == 4:
        array = array[..., :3]
    if array.ndim != 3 or array.shape[2] != 3:
        raise ValueError(f"{where} must be H x W x 3 (RGB), got shape {array.shape}")
    if array.shape[:2] != tuple(shape):
        raise ValueError(f"{where} is {array.shape[1]}x{array.shape[0]} pixels, the segmentation {shape[1]}x{shape[0]}")
    return np.ascontiguousarray(array, dtype=np.uint8)


def _paint(
    id_map: np.ndarray,
    colors: Mapping[int, _Color],
    fallback: _Color,
    photo: np.ndarray | None,
    alpha: float,
    borders: bool,
) -> np.ndarray:
    ids = np.fromiter(colors.keys(), dtype=np.uint32, count=len(colors))
    table = np.array(list(colors.values()), dtype=np.uint8).reshape(len(colors), 3)
    return _core.paint_ids(id_map, (ids, table, fallback), photo, float(alpha), _BORDER if borders else None)


def _paint_fates(
    id_map: np.ndarray, fates: Mapping[int, Mapping[str, Any]], photo: np.ndarray | None, alpha: float
) -> np.ndarray:
    colors = {sid: FATE_COLORS[r["fate"]] for sid, r in fates.items()}
    return _paint(id_map, colors, FATE_COLORS["void"], photo, alpha, True)


def _category_names(categories: Mapping[int, Any] | Iterable[Any]) -> dict[int, str]:
    records = categories.values() if isinstance(categories, Mapping) else categories
    names = {}
    for r in records:
        if isinstance(r, Mapping):
            names[int(r["id"])] = str(r.get("name", r["id"]))
        else:
            names[int(r)] = str(r)
    return names


def _label(record: Mapping[str, Any], names: Mapping[int, str]) -> str:
    name = names.get(record["category_id"], str(record["category_id"]))
    fate, iou = record["fate"], record["other_iou"]
    if fate == "tp":
        return f"{name} {iou:.2f}"
    head = {"fn": "missed", "fp": "false", "crowd": "crowd", "ignored": "not counted"}[fate]
    if record["other_id"] is None:
        return f"{name}: {head}"
    other = names.get(record["other_category_id"], str(record["other_category_id"]))
    # The best overlap tells why: another class, or the same class cut up or merged.
    return f"{name}: {head}, ~{other} {iou:.2f}"


def _font(height: int) -> Any:
    return _font_of_size(max(11, min(28, height // 36)))


@functools.lru_cache(maxsize=8)
def _font_of_size(size: int) -> Any:
    from PIL import ImageFont

    try:
        return ImageFont.load_default(size=size)
    except TypeError:  # Pillow < 10.1: one bitmap size only
        return ImageFont.load_default()


class _Measure:
    """Text boxes from cached character widths: measuring each label with Pillow costs as much as
    drawing it, and most candidate labels are never drawn (they would cover another)."""

    def __init__(self, font: Any) -> None:
        self.font = font
        _, self.top, _, self.bottom = font.getbbox("Ag")
        self.widths: dict[str, float] = {}

    def box(self, text: str) -> tuple[int, int, int, int]:
        widths, font = self.widths, self.font
        width = 0.0
        for ch in text:
            w = widths.get(ch)
            if w is None:
                w = widths[ch] = font.getlength(ch)
            width += w
        return (0, self.top, int(width + 0.999), self.bottom)


@functools.lru_cache(maxsize=8)
def _measure(font: Any) -> _Measure:
    return _Measure(font)


def _text_box(
    draw: Any, font: Any, xy: tuple[int, int], text: str, size: tuple[int, int, int, int] | None = None
) -> tuple[int, int, int, int]:
    """White text on a black box; returns the box with a margin. ``size`` is the text's bounding
    box at (0, 0), when already measured (measuring is a good part of the cost of a label)."""
    left, top, right, bottom = size if size is not None else draw.textbbox((0, 0), text, font=font)
    left, top, right, bottom = left + xy[0], top + xy[1], right + xy[0], bottom + xy[1]
    draw.rectangle((left - 2, top - 2, right + 2, bottom + 2), fill=(0, 0, 0))
    draw.text(xy, text, fill=(255, 255, 255), font=font)
    return (left - 3, top - 3, right + 3, bottom + 3)


def _draw_labels(
    draw: Any,
    font: Any,
    id_map: np.ndarray,
    fates: Mapping[int, Mapping[str, Any]],
    names: Mapping[int, str],
    dx: int,
    placed: list[tuple[int, int, int, int]],
) -> None:
    pixels = id_map.size
    anchors = [a for a in _core.anchors(id_map) if a[0] in fates]
    # Errors first, then matches, each by decreasing area; a label that would cover one already
    # written is left out, so that every label drawn can be read. Tiny matches go unlabelled.
    anchors.sort(key=lambda a: (fates[a[0]]["fate"] == "tp", -a[1], a[0]))
    for sid, area, row, col, *_ in anchors:
        record = fates[sid]
        if record["fate"] == "tp" and area < pixels * 0.002:
            continue
        text = _label(record, names)
        size = left, top, right, bottom = _measure(font).box(text)
        w, h = right - left, bottom - top
        x = min(max(dx + col - w // 2, dx), dx + id_map.shape[1] - w)
        y = min(max(row - h // 2, 0), id_map.shape[0] - h)
        box = (x + left - 3, y + top - 3, x + right + 3, y + bottom + 3)
        if any(box[0] < b[2] and b[0] < box[2] and box[1] < b[3] and b[1] < box[3] for b in placed):
            continue
        placed.append(_text_box(draw, font, (x, y), text, size))


def _with_legend(canvas: Any, font: Any) -> Any:
    from PIL import Image, ImageDraw

    probe = ImageDraw.Draw(canvas)
    _, top, _, bottom = probe.textbbox((0, 0), "Ag", font=font)
    line = bottom - top + 8
    # Lay the entries out first, wrapping where the picture ends.
    places, x, y = [], 6, 0
    for fate in FATE_COLORS:
        width = line + int(probe.textlength(FATE_NAMES[fate], font=font)) + 14
        if x > 6 and x + width > canvas.width:
            x, y = 6, y + line
        places.append((fate, x, y))
        x += width
    out = Image.new("RGB", (canvas.width, canvas.height + y + line + 6), (255, 255, 255))
    out.paste(canvas, (0, 0))
    draw = ImageDraw.Draw(out)
    for fate, x, y in places:
        y += canvas.height + 6
        draw.rectangle((x, y, x + line - 6, y + line - 6), fill=FATE_COLORS[fate], outline=(0, 0, 0))
        draw.text((x + line, y), FATE_NAMES[fate], fill=(0, 0, 0), font=font)
    return out
