"""Cityscapes' ``gtFine`` instance maps to COCO panoptic format: panopticapi's
``cityscapes_gt_converter/cityscapes_panoptic_converter.py``, without cityscapesScripts."""

from __future__ import annotations

import glob
import os
from collections.abc import Callable, Sequence
from typing import Any

from .. import _core
from ._common import palette, prepare_folder, run_chunks, save_json, seed_of, without_gc

# Cityscapes' label table (cityscapesScripts' helpers/labels.py): name, id, category,
# hasInstances, ignoreInEval, colour.
_LABELS: tuple[tuple[str, int, str, bool, bool, tuple[int, int, int]], ...] = (
    ("unlabeled", 0, "void", False, True, (0, 0, 0)),
    ("ego vehicle", 1, "void", False, True, (0, 0, 0)),
    ("rectification border", 2, "void", False, True, (0, 0, 0)),
    ("out of roi", 3, "void", False, True, (0, 0, 0)),
    ("static", 4, "void", False, True, (0, 0, 0)),
    ("dynamic", 5, "void", False, True, (111, 74, 0)),
    ("ground", 6, "void", False, True, (81, 0, 81)),
    ("road", 7, "flat", False, False, (128, 64, 128)),
    ("sidewalk", 8, "flat", False, False, (244, 35, 232)),
    ("parking", 9, "flat", False, True, (250, 170, 160)),
    ("rail track", 10, "flat", False, True, (230, 150, 140)),
    ("building", 11, "construction", False, False, (70, 70, 70)),
    ("wall", 12, "construction", False, False, (102, 102, 156)),
    ("fence", 13, "construction", False, False, (190, 153, 153)),
    ("guard rail", 14, "construction", False, True, (180, 165, 180)),
    ("bridge", 15, "construction", False, True, (150, 100, 100)),
    ("tunnel", 16, "construction", False, True, (150, 120, 90)),
    ("pole", 17, "object", False, False, (153, 153, 153)),
    ("polegroup", 18, "object", False, True, (153, 153, 153)),
    ("traffic light", 19, "object", False, False, (250, 170, 30)),
    ("traffic sign", 20, "object", False, False, (220, 220, 0)),
    ("vegetation", 21, "nature", False, False, (107, 142, 35)),
    ("terrain", 22, "nature", False, False, (152, 251, 152)),
    ("sky", 23, "sky", False, False, (70, 130, 180)),
    ("person", 24, "human", True, False, (220, 20, 60)),
    ("rider", 25, "human", True, False, (255, 0, 0)),
    ("car", 26, "vehicle", True, False, (0, 0, 142)),
    ("truck", 27, "vehicle", True, False, (0, 0, 70)),
    ("bus", 28, "vehicle", True, False, (0, 60, 100)),
    ("caravan", 29, "vehicle", True, True, (0, 0, 90)),
    ("trailer", 30, "vehicle", True, True, (0, 0, 110)),
    ("train", 31, "vehicle", True, False, (0, 80, 100)),
    ("motorcycle", 32, "vehicle", True, False, (0, 0, 230)),
    ("bicycle", 33, "vehicle", True, False, (119, 11, 32)),
    ("license plate", -1, "vehicle", False, True, (0, 0, 142)),
)


def cityscapes_categories() -> list[dict[str, Any]]:
    """The 19 evaluated Cityscapes classes as panoptic categories, as panopticapi lists them."""
    return [
        {"id": i, "name": name, "color": list(color), "supercategory": category, "isthing": 1 if things else 0}
        for name, i, category, things, ignored, color in _LABELS
        if not ignored
    ]


@without_gc
def panoptic_converter(
    original_format_folder: str,
    out_folder: str,
    out_file: str,
    *,
    categories: Sequence[dict[str, Any]] | None = None,
    seed: int | None = 0,
    threads: int | None = None,
    overwrite: bool | None = None,
    progress: bool | Callable[[int, int], None] = False,
) -> None:
    """Convert ``<city>/*_gtFine_instanceIds.png`` under ``original_format_folder`` to panoptic.

    A value below 1000 is a class's region without instances (``iscrowd`` 1 for thing classes),
    ``1000 * class + k`` an instance; values of classes outside ``categories`` (by default the
    19 evaluated classes) stay unlabeled. Each segment records ``id``, ``category_id``,
    ``area``, ``bbox`` and ``iscrowd`` as plain integers (panopticapi's script fails writing
    numpy integers to JSON). Images are listed in sorted path order with their Cityscapes name
    as id.
    """
    prepare_folder(out_folder, overwrite=overwrite)
    cats = list(categories) if categories is not None else cityscapes_categories()
    colors = palette({c["id"]: c for c in cats})
    files = sorted(glob.glob(os.path.join(original_format_folder, "*", "*_gtFine_instanceIds.png")))
    jobs = []
    for path in files:
        file_name = os.path.basename(path)
        jobs.append((file_name.rsplit("_", 2)[0], path, os.path.join(out_folder, file_name)))

    def convert(chunk: Any, first: int) -> list[Any]:
        return _core.convert_cityscapes(list(chunk), colors, seed_of(seed), first, threads)

    results = run_chunks(jobs, convert, progress=progress, description="images converted")
    images = []
    annotations = []
    for (image_id, path, _), (height, width, segments) in zip(jobs, results, strict=True):
        images.append({"id": image_id, "width": width, "height": height, "file_name": f"{image_id}_leftImg8bit.png"})
        annotations.append(
            {
                "image_id": image_id,
                "file_name": os.path.basename(path),
                "segments_info": [
                    {"id": i, "category_id": c, "area": a, "bbox": list(b), "iscrowd": int(crowd)}
                    for i, c, a, b, crowd in segments
                ],
            }
        )
    save_json({"images": images, "annotations": annotations, "categories": cats}, out_file)
