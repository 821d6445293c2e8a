"""COCO panoptic format to semantic segmentation: panopticapi's
``converters/panoptic2semantic_segmentation.py``."""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from typing import Any

from .. import _core
from ._common import categories_by_id, load_categories, load_json, prepare_folder, run_chunks, save_json, without_gc

#: The class all things become with ``things_other``.
OTHER_CLASS_ID = 183


def cat_id2rgb(categories_json_file: str) -> dict[str, list[int]]:
    """``{str(category id): colour}`` from a categories file (the first entry of an id wins)."""
    colormap: dict[str, list[int]] = {}
    for category in load_categories(categories_json_file):
        colormap.setdefault(str(category["id"]), list(category["color"]))
    return colormap


@without_gc
def extract_semantic(
    input_json_file: str,
    segmentations_folder: str | None,
    output_json_file: str | None,
    semantic_seg_folder: str | None,
    categories_json_file: str,
    things_other: bool = False,
    *,
    save_with_color: bool = False,
    cat_id_colormap: Mapping[str, Any] | None = None,
    threads: int | None = None,
    overwrite: bool | None = None,
    progress: bool | Callable[[int, int], None] = False,
) -> None:
    """Merge each image's segments by class: semantic PNGs, or a COCO-stuff-style JSON.

    Exactly one of ``output_json_file`` and ``semantic_seg_folder`` is given. PNGs hold the
    class id a pixel (or, with ``save_with_color``, the class colour), 0 where no listed
    segment is. The JSON holds one record a class and image — ``image_id``, ``category_id``,
    ``segmentation`` (pycocotools' RLE string of the union, as text), ``area``, ``bbox``,
    ``iscrowd`` 0 — numbered from 0; classes in the order they first appear in the image's
    ``segments_info``. (panopticapi fails here whenever a class has two segments in an image:
    its merged RLE keeps ``bytes``, which ``json.dump`` refuses.)

    Parameters
    ----------
    input_json_file, segmentations_folder, output_json_file, semantic_seg_folder, categories_json_file
        As panopticapi's.
    things_other : bool
        Every thing class becomes :data:`OTHER_CLASS_ID`.
    save_with_color, cat_id_colormap
        Keyword-only (a panopticapi pull request's additions, not in its released script):
        colour PNGs, with ``{str(id): colour}`` (``None``: the categories file's colours).
    threads, overwrite, progress
        As :func:`panoptiq.converters.converter`.
    """
    if output_json_file is not None and semantic_seg_folder is not None:
        raise ValueError("'--output_json_file' and '--semantic_seg_folder' options cannot be used together")
    if output_json_file is None and semantic_seg_folder is None:
        raise ValueError("One of '--output_json_file' and '--semantic_seg_folder' options must be specified")
    d_coco = load_json(input_json_file)
    annotations = d_coco["annotations"]
    if segmentations_folder is None:
        segmentations_folder = input_json_file.rsplit(".", 1)[0]
    categories_list = load_categories(categories_json_file)
    categories = categories_by_id(categories_list)
    save_as_png = output_json_file is None
    if semantic_seg_folder is not None:
        prepare_folder(semantic_seg_folder, overwrite=overwrite)
    colormap = None
    if save_as_png and save_with_color:
        source = cat_id_colormap if cat_id_colormap is not None else cat_id2rgb(categories_json_file)
        colormap = [(int(k), tuple(int(c) for c in v)) for k, v in source.items()]

    order: list[list[int]] = []
    jobs = []
    for annotation in annotations:
        segments = []
        classes: list[int] = []
        for segment in annotation["segments_info"]:
            cat_id = segment["category_id"]
            if things_other:
                category = categories.get(cat_id)
                if category is None:
                    raise ValueError(
                        f"In the image with ID {annotation['image_id']} segment {segment['id']} has category_id "
                        f"{cat_id!r}, which {categories_json_file} does not contain"
                    )
                if category["isthing"] == 1:
                    cat_id = OTHER_CLASS_ID
            segments.append((int(segment["id"]), int(cat_id)))
            if cat_id not in classes:
                classes.append(int(cat_id))
        order.append(classes)
        png = os.path.join(segmentations_folder, annotation["file_name"])
        out = os.path.join(semantic_seg_folder, annotation["file_name"]) if save_as_png else None
        jobs.append((str(annotation["image_id"]), png, segments, out, classes))

    def convert(chunk: Any, first: int) -> list[Any]:
        return _core.convert_semantic(list(chunk), colormap, threads)

    results = run_chunks(jobs, convert, progress=progress, description="images converted")
    if save_as_png:
        return
    records = []
    for annotation, classes, (height, width, masks) in zip(annotations, order, results, strict=True):
        for cat_id, (counts, area, bbox) in zip(classes, masks, strict=True):
            records.append(
                {
                    "image_id": annotation["image_id"],
                    "category_id": cat_id,
                    "segmentation": {"size": [height, width], "counts": counts},
                    "area": int(area),
                    "bbox": [float(v) for v in bbox],
                    "iscrowd": 0,
                }
            )
    for index, record in enumerate(records):
        record["id"] = index
    d_coco["annotations"] = records
    categories_out = []
    for category in categories_list:
        if things_other and category["isthing"] == 1:
            continue
        categories_out.append({k: v for k, v in category.items() if k not in ("isthing", "color")})
    if things_other:
        categories_out.append({"id": OTHER_CLASS_ID, "name": "other", "supercategory": "other"})
    d_coco["categories"] = categories_out
    assert output_json_file is not None
    save_json(d_coco, output_json_file)
