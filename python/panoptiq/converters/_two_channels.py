"""2-channel PNGs (semantic class, instance) to COCO panoptic format: panopticapi's
``converters/2channels2panoptic_coco_format.py``."""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any

from .. import _core
from ._common import (
    categories_by_id,
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
def converter(
    source_folder: str,
    images_json_file: str,
    categories_json_file: str,
    segmentations_folder: str | None,
    predictions_json_file: str,
    VOID: int = 0,
    *,
    seed: int | None = 0,
    threads: int | None = None,
    overwrite: bool | None = None,
    progress: bool | Callable[[int, int], None] = False,
) -> None:
    """Convert 2-channel PNGs to panoptic PNGs and a COCO panoptic JSON.

    Each image ``<name>.png`` of ``source_folder`` holds the semantic class in its first channel
    and the instance in its second; every distinct (class, instance) pair other than the
    ``VOID`` class becomes a segment, listed in ascending order of ``1000 * class + instance``.
    The output JSON is ``images_json_file`` with ``annotations`` set; each segment records only
    ``id`` and ``category_id``, as panopticapi's.

    Parameters
    ----------
    source_folder, images_json_file, categories_json_file, segmentations_folder, predictions_json_file, VOID
        As panopticapi's ``converter``; ``segmentations_folder=None`` means the JSON's name
        without ``.json``.
    seed : int, optional
        Seed of the thing colours (panopticapi draws them unseeded); the same seed gives the same
        PNGs on any machine and thread count.
    threads : int, optional
        Worker threads (all cores by default).
    overwrite : bool, optional
        ``None`` reuses an existing output folder as panopticapi does; ``False`` refuses a
        non-empty one.
    progress : bool or callable
        Show a progress bar, or call ``progress(done, total)`` after each chunk.

    Raises
    ------
    ValueError
        A class not in the categories (naming the image and file), a PNG without two channels.
    """
    d_coco = load_json(images_json_file)
    images = d_coco["images"]
    categories = categories_by_id(load_categories(categories_json_file))
    if segmentations_folder is None:
        segmentations_folder = predictions_json_file.rsplit(".", 1)[0]
    prepare_folder(segmentations_folder, overwrite=overwrite)
    colors = palette(categories)
    jobs = []
    for image in images:
        name = png_name(image["file_name"])
        jobs.append((str(image["id"]), os.path.join(source_folder, name), os.path.join(segmentations_folder, name)))

    def convert(chunk: Any, first: int) -> list[Any]:
        return _core.convert_two_channels(list(chunk), colors, int(VOID), seed_of(seed), first, threads)

    segments = run_chunks(jobs, convert, progress=progress, description="images converted")
    d_coco["annotations"] = [
        {
            "image_id": image["id"],
            "file_name": png_name(image["file_name"]),
            "segments_info": [{"id": segment_id, "category_id": category_id} for segment_id, category_id in found],
        }
        for image, found in zip(images, segments, strict=True)
    ]
    save_json(d_coco, predictions_json_file)
