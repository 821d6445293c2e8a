"""COCO detection format to COCO panoptic format: panopticapi's
``converters/detection2panoptic_coco_format.py``."""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any

from .. import _core
from ..masks import segmentation_arg
from ._common import (
    categories_by_id,
    int_id,
    load_categories,
    load_json,
    palette,
    png_name,
    prepare_folder,
    run_chunks,
    save_json,
    seed_of,
    without_gc,
)


@without_gc
def convert_detection_to_panoptic_coco_format(
    input_json_file: str,
    segmentations_folder: str | None,
    output_json_file: str,
    categories_json_file: str,
    *,
    seed: int | None = 0,
    threads: int | None = None,
    overwrite: bool | None = None,
    progress: bool | Callable[[int, int], None] = False,
) -> None:
    """Paint a COCO detection JSON's masks into panoptic PNGs and write its panoptic JSON.

    Masks may be polygons, uncompressed or compressed RLE (read as pycocotools'
    ``COCO.annToMask``). Each image's annotations are painted in JSON order; each becomes a
    segment carrying the annotation's own fields without ``segmentation`` and ``image_id``,
    its ``id`` replaced by the segment id. The output is the input JSON with ``annotations``
    replaced and ``categories`` set to the categories file's.

    Parameters
    ----------
    input_json_file, segmentations_folder, output_json_file, categories_json_file
        As panopticapi's; ``segmentations_folder=None`` means the output JSON's name without
        ``.json``.
    seed, threads, overwrite, progress
        As :func:`panoptiq.converters.converter`.

    Raises
    ------
    ValueError
        Overlapping masks (naming both annotations), a category not in the categories file, an
        annotation of an image the JSON does not list, a mask that does not fit its image.
    """
    d_coco = load_json(input_json_file)
    categories_list = load_categories(categories_json_file)
    categories = categories_by_id(categories_list)
    if segmentations_folder is None:
        segmentations_folder = output_json_file.rsplit(".", 1)[0]
    prepare_folder(segmentations_folder, overwrite=overwrite)

    # pycocotools' index: images by id (a repeated id keeps its first place, its last record).
    images: dict[Any, Any] = {}
    for image in d_coco.get("images", []):
        images[image["id"]] = image
    by_image: dict[Any, list[Any]] = {image_id: [] for image_id in images}
    for ann in d_coco.get("annotations", []):
        if ann["image_id"] not in by_image:
            raise ValueError(
                f"annotation {ann.get('id')!r} is of image {ann['image_id']!r}, which {input_json_file} does not list"
            )
        if ann["category_id"] not in categories:
            raise ValueError(
                f"In the image with ID {ann['image_id']} annotation {ann.get('id')!r} has category_id "
                f"{ann['category_id']!r}, which {categories_json_file} does not contain"
            )
        by_image[ann["image_id"]].append(ann)

    jobs = []
    for image_id, image in images.items():
        anns = by_image[image_id]
        masks = [(int(a["category_id"]), segmentation_arg(a["segmentation"])) for a in anns]
        names = [repr(a.get("id")) for a in anns]
        out = os.path.join(segmentations_folder, png_name(image["file_name"]))
        jobs.append((str(image_id), out, int(image["height"]), int(image["width"]), masks, names))
    colors = palette(categories)

    def convert(chunk: Any, first: int) -> list[Any]:
        return _core.convert_detections(list(chunk), colors, seed_of(seed), first, threads)

    ids = run_chunks(jobs, convert, progress=progress, description="images converted")
    annotations = []
    for (image_id, image), segment_ids in zip(images.items(), ids, strict=True):
        segments_info = []
        for ann, segment_id in zip(by_image[image_id], segment_ids, strict=True):
            segment = {k: v for k, v in ann.items() if k not in ("segmentation", "image_id")}
            segment["id"] = segment_id
            segments_info.append(segment)
        annotations.append(
            {"image_id": int_id(image_id), "file_name": png_name(image["file_name"]), "segments_info": segments_info}
        )
    d_coco["annotations"] = annotations
    d_coco["categories"] = categories_list
    save_json(d_coco, output_json_file)
