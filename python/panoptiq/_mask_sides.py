"""A side of a dataset given as masks instead of PNGs: its JSON's segments carry COCO
``segmentation`` (RLE or polygons), painted by the core image by image under a stated overlap
rule — no PNG is written or read for that side."""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from panoptiq._png import read_id_map
from panoptiq._side import GT, PRED, Side
from panoptiq.masks import overlap_rule, paint_segments, segmentation_arg

__all__ = [
    "MaskSides",
    "carries_masks",
    "fill_file_names",
    "image_sizes",
    "memory_folder",
    "metric_side",
    "overlap_rule",
]


def carries_masks(data: Mapping[str, Any]) -> bool:
    """Whether a panoptic JSON's segments carry ``segmentation`` (all of them must)."""
    segments = [
        s for a in data.get("annotations", []) if isinstance(a, Mapping) for s in a.get("segments_info", []) or []
    ]
    with_masks = sum(1 for s in segments if isinstance(s, Mapping) and "segmentation" in s)
    if with_masks and with_masks != len(segments):
        raise ValueError(
            f"{with_masks} of {len(segments)} segments carry 'segmentation': a side is given either as masks "
            "(every segment with one) or as PNGs"
        )
    return with_masks > 0


def memory_folder(side: Side) -> str:
    """The name standing for a side's masks in paths and messages."""
    return f"<{side.folder} masks>"


def fill_file_names(data: dict[str, Any]) -> None:
    """Masks need no PNG: annotations without ``file_name`` get ``<image_id>.png``, which only
    names them in messages and records."""
    for annotation in data.get("annotations", []):
        if isinstance(annotation, dict) and "file_name" not in annotation:
            annotation["file_name"] = f"{annotation.get('image_id')}.png"


def image_sizes(*jsons: Mapping[str, Any] | None) -> dict[str, tuple[int, int]]:
    """``(height, width)`` by image id from the JSONs' ``images`` lists (the first wins)."""
    sizes: dict[str, tuple[int, int]] = {}
    for data in jsons:
        for image in (data or {}).get("images", []) or []:
            try:
                sizes.setdefault(str(image["id"]), (int(image["height"]), int(image["width"])))
            except (KeyError, TypeError, ValueError):
                continue
    return sizes


@dataclass
class MaskSides:
    """The sides of a dataset given as masks: each one's annotations by image id, or none when
    the core read the masks and holds them with the pairs (``held``)."""

    annotations: dict[Side, dict[str, Mapping[str, Any]]]
    isthing: dict[int, bool]
    sizes: dict[str, tuple[int, int]] = field(default_factory=dict)
    overlap: tuple[float, float, float] | None = None

    @property
    def held(self) -> bool:
        """Whether the core holds the masks (so none are handed over)."""
        return not self.annotations

    def batch(self, side: Side, image_ids: Sequence[str]) -> list[Any] | None:
        """The core's masks of ``side`` for these images (None: that side has PNGs)."""
        by_id = self.annotations.get(side)
        if by_id is None:
            return None
        batch = []
        for image_id in image_ids:
            annotation = by_id[image_id]
            segments = []
            for segment in annotation.get("segments_info", []):
                try:
                    mask = segmentation_arg(segment["segmentation"])
                except ValueError as error:
                    raise ValueError(
                        f"In the image with ID {image_id} segment {segment.get('id')!r}: {error}"
                    ) from None
                score = segment.get("score")
                thing = self.isthing.get(segment.get("category_id"), False)
                segments.append((int(segment["id"]), thing, None if score is None else float(score), mask))
            batch.append((self.sizes.get(image_id), segments))
        return batch

    def both(self, image_ids: Sequence[str]) -> tuple[list[Any] | None, list[Any] | None]:
        return self.batch(GT, image_ids), self.batch(PRED, image_ids)


def _png_like(value: Any) -> bool:
    return isinstance(value, (bytes, bytearray, memoryview)) or callable(getattr(value, "read", None))


def metric_side(
    value: Any,
    segments_info: Any,
    other: Any,
    things: Collection[int],
    overlap: str | Mapping[str, float],
    name: str,
) -> tuple[Any, Any]:
    """One side of a metric update as the metric reads it: a PNG (bytes or a binary file object)
    decoded to an id map; ``None`` with segments carrying masks painted at the other side's size."""
    if _png_like(value):
        return read_id_map(value), segments_info
    if value is not None:
        return value, segments_info
    if segments_info is None:
        raise ValueError(f"{name} is None: give a label map, a PNG, or {name}_segments_info whose segments carry masks")
    if _png_like(other):
        other = read_id_map(other)
    if other is None:
        raise ValueError(f"{name} given as masks needs the other side's map for the image size")
    shape = np.shape(other)
    batched = bool(segments_info) and all(isinstance(s, (list, tuple)) for s in segments_info)
    if not batched:
        ids, kept = paint_segments(segments_info, shape[0], shape[1], things=things, overlap=overlap)
        return ids, kept
    if len(segments_info) != shape[0]:
        raise ValueError(f"{len(segments_info)} {name}_segments_info lists for a batch of {shape[0]}")
    painted = [paint_segments(s, shape[1], shape[2], things=things, overlap=overlap) for s in segments_info]
    return np.stack([ids for ids, _ in painted]), [kept for _, kept in painted]
