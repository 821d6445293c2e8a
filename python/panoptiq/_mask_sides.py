"""A side of a dataset given as masks instead of PNGs: its JSON's segments carry COCO
``segmentation`` (RLE or polygons), painted by the core image by image under a stated overlap
rule — no PNG is written or read for that side."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from panoptiq._side import GT, PRED, Side
from panoptiq.masks import segmentation_arg

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
    """The sides of a dataset given as masks: each one's annotations by image id."""

    annotations: dict[Side, dict[str, Mapping[str, Any]]]
    isthing: dict[int, bool]
    sizes: dict[str, tuple[int, int]] = field(default_factory=dict)
    overlap: tuple[float, float, float] | None = None

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
