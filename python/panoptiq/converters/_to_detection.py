"""COCO panoptic format to COCO detection format: panopticapi's
``converters/panoptic2detection_coco_format.py``."""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any

from .. import _core
from ._common import categories_by_id, load_categories, load_json, png_name, run_chunks, save_json, without_gc


@without_gc
def convert_panoptic_to_detection_coco_format(
    input_json_file: str,
    segmentations_folder: str | None,
    output_json_file: str,
    categories_json_file: str,
    things_only: bool,
    *,
    threads: int | None = None,
    progress: bool | Callable[[int, int], None] = False,
) -> None:
    """Write a panoptic dataset's segments as COCO detection annotations with RLE masks.

    Each segment keeps its fields but ``id``, gains ``image_id`` and ``segmentation`` (an RLE
    whose string is pycocotools'), and is numbered from 0 in order, as panopticapi numbers
    them. ``categories`` are the input JSON's without ``isthing`` and ``color``.

    Parameters
    ----------
    input_json_file, segmentations_folder, output_json_file, categories_json_file, things_only
        As panopticapi's; ``things_only`` keeps thing segments (``isthing == 1``) only.
    threads, progress
        As :func:`panoptiq.converters.converter`.
    """
    if segmentations_folder is None:
        segmentations_folder = input_json_file.rsplit(".", 1)[0]
    d_coco = load_json(input_json_file)
    categories_list = load_categories(categories_json_file)
    categories = categories_by_id(categories_list)
    annotations = d_coco["annotations"]

    kept: list[list[Any]] = []
    jobs = []
    for annotation in annotations:
        segments = []
        for segment in annotation["segments_info"]:
            if things_only:
                category = categories.get(segment["category_id"])
                if category is None:
                    raise ValueError(
                        f"In the image with ID {annotation['image_id']} segment {segment['id']} has category_id "
                        f"{segment['category_id']!r}, which {categories_json_file} does not contain"
                    )
                if category["isthing"] != 1:
                    continue
            segments.append(segment)
        kept.append(segments)
        png = os.path.join(segmentations_folder, png_name(annotation["file_name"]))
        jobs.append((str(annotation["image_id"]), png, [int(s["id"]) for s in segments]))

    def convert(chunk: Any, first: int) -> list[Any]:
        return _core.convert_to_detection(list(chunk), threads)

    masks = run_chunks(jobs, convert, progress=progress, description="images converted")
    detections = []
    for annotation, segments, (height, width, strings) in zip(annotations, kept, masks, strict=True):
        for segment, counts in zip(segments, strings, strict=True):
            record = {k: v for k, v in segment.items() if k != "id"}
            record["image_id"] = annotation["image_id"]
            record["segmentation"] = {"size": [height, width], "counts": counts}
            detections.append(record)
    for index, record in enumerate(detections):
        record["id"] = index
    d_coco["annotations"] = detections
    categories_out = []
    # The input's categories, as panopticapi writes; a prediction JSON without any (panopticapi
    # fails with KeyError) gets the categories file's.
    for category in d_coco.get("categories", categories_list):
        if things_only and category["isthing"] != 1:
            continue
        categories_out.append({k: v for k, v in category.items() if k not in ("isthing", "color")})
    d_coco["categories"] = categories_out
    save_json(d_coco, output_json_file)
