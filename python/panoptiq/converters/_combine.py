"""Semantic and instance predictions combined into panoptic ones: panopticapi's
``combine_semantic_and_instance_predictions.py`` (the paper's heuristic, section 7)."""

from __future__ import annotations

import os
from collections import defaultdict
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
    prepare_folder,
    run_chunks,
    save_json,
    seed_of,
    without_gc,
)


@without_gc
def combine_predictions(
    semseg_json_file: str,
    instseg_json_file: str,
    images_json_file: str,
    categories_json_file: str,
    segmentations_folder: str | None,
    panoptic_json_file: str,
    confidence_thr: float = 0.5,
    overlap_thr: float = 0.5,
    stuff_area_limit: float = 64 * 64,
    *,
    seed: int | None = 0,
    threads: int | None = None,
    overwrite: bool | None = None,
    progress: bool | Callable[[int, int], None] = False,
) -> None:
    """Combine semantic and instance segmentation results into COCO panoptic predictions.

    The rule, per image of ``images_json_file``:

    1. Instances scoring below ``confidence_thr`` are dropped; the rest are taken by descending
       score (a stable sort: equal scores keep their JSON order).
    2. An instance is dropped if its mask is empty, or if more than ``overlap_thr`` of its area
       lies under the instances accepted before it; otherwise it is accepted and painted on the
       pixels still free.
    3. Stuff regions of the semantic results (thing classes there are ignored), in JSON order,
       are painted on the pixels still free, unless fewer than ``stuff_area_limit`` are.

    Each segment records ``id`` and ``category_id``. Masks may be compressed or uncompressed RLE
    or polygons (panopticapi reads compressed RLE only).

    Raises
    ------
    ValueError
        A category not in the categories file, a result for an image ``images_json_file`` does
        not list, a mask of another size than its image.
    """
    # The results files are read in Rust when strict (nearly always: models write them), else by
    # Python's reader below, which also raises every error; both give the same inputs.
    strict = _core.read_combine_results(
        os.fsdecode(os.fspath(semseg_json_file)), os.fsdecode(os.fspath(instseg_json_file)), threads
    )
    if strict is None:
        sem_results = load_json(semseg_json_file)
        inst_results = load_json(instseg_json_file)
    images_d = load_json(images_json_file)
    img_id2img = {img["id"]: img for img in images_d["images"]}
    categories = categories_by_id(load_categories(categories_json_file))
    if segmentations_folder is None:
        segmentations_folder = panoptic_json_file.rsplit(".", 1)[0]
    prepare_folder(segmentations_folder, overwrite=overwrite)

    inputs = None
    if strict is not None:
        inputs = _group_strict(strict, img_id2img, categories, confidence_thr)
        if inputs is None:
            sem_results = load_json(semseg_json_file)
            inst_results = load_json(instseg_json_file)
    if inputs is None:
        inputs = _group(
            sem_results,
            inst_results,
            img_id2img,
            categories,
            confidence_thr,
            (f"{semseg_json_file}", f"{instseg_json_file}", f"{images_json_file}", f"{categories_json_file}"),
        )

    jobs = []
    annotations = []
    for image_id, img in img_id2img.items():
        file_name = img["file_name"].replace(".jpg", ".png")
        annotations.append({"image_id": int_id(image_id), "file_name": file_name})
        jobs.append(
            (str(image_id), os.path.join(segmentations_folder, file_name), int(img["height"]), int(img["width"]))
        )
    colors = palette(categories)
    files = (f"{instseg_json_file}", f"{semseg_json_file}")

    def convert(chunk: Any, first: int) -> list[Any]:
        return _core.convert_combine(
            inputs,
            list(chunk),
            files,
            float(overlap_thr),
            float(stuff_area_limit),
            colors,
            seed_of(seed),
            first,
            threads,
        )

    segments = run_chunks(jobs, convert, progress=progress, description="images combined")
    for annotation, found in zip(annotations, segments, strict=True):
        annotation["segments_info"] = [{"id": i, "category_id": c} for i, c in found]
    coco_d = load_json(images_json_file)
    coco_d["annotations"] = annotations
    coco_d["categories"] = list(categories.values())
    save_json(coco_d, panoptic_json_file)


#: The largest integer magnitude a float holds exactly: thresholds and ids beyond it are left to
#: Python's reader, whose comparisons are exact.
_EXACT = 1 << 53


def _group_strict(
    strict: _core.CombineResults, img_id2img: dict[Any, Any], categories: dict[Any, Any], confidence_thr: float
) -> _core.CombineInputs | None:
    """The Rust-parsed results grouped by image, or None where Python's reader must decide:
    image or category ids that are not plain ints or strings, a threshold that is not a plain
    number, or a record its checks refuse."""
    if not all(type(k) is str or (type(k) is int and -(1 << 63) <= k < 1 << 63) for k in img_id2img):
        return None
    if not all(type(k) is int and -(1 << 63) <= k < 1 << 63 for k in categories):
        return None
    if not (isinstance(confidence_thr, float) or (type(confidence_thr) is int and abs(confidence_thr) <= _EXACT)):
        return None
    isthing = [(k, c["isthing"] == 1 if "isthing" in c else None) for k, c in categories.items()]
    return strict.group(list(img_id2img), isthing, float(confidence_thr))


def _group(
    sem_results: Any,
    inst_results: Any,
    img_id2img: dict[Any, Any],
    categories: dict[Any, Any],
    confidence_thr: float,
    names: tuple[str, str, str, str],
) -> _core.CombineInputs:
    """Python's reader: every record checked as the script would need it, grouped by image."""
    semseg_json_file, instseg_json_file, images_json_file, categories_json_file = names

    def check(result: Any, source: str) -> None:
        if result["image_id"] not in img_id2img:
            raise ValueError(
                f"{source} has a result for image {result['image_id']!r}, which {images_json_file} does not list"
            )
        if result["category_id"] not in categories:
            raise ValueError(
                f"In the image with ID {result['image_id']} a result of {source} has category_id "
                f"{result['category_id']!r}, which {categories_json_file} does not contain"
            )

    inst_by_image: dict[Any, list[Any]] = defaultdict(list)
    for position, inst in enumerate(inst_results):
        check(inst, instseg_json_file)
        if inst["score"] < confidence_thr:
            continue
        inst_by_image[inst["image_id"]].append((position, inst))
    for image_id in inst_by_image:
        inst_by_image[image_id].sort(key=lambda el: -el[1]["score"])
    sem_by_image: dict[Any, list[Any]] = defaultdict(list)
    for position, sem in enumerate(sem_results):
        check(sem, semseg_json_file)
        if categories[sem["category_id"]]["isthing"] == 1:
            continue
        sem_by_image[sem["image_id"]].append((position, sem))

    return _core.CombineInputs(
        [
            (
                [
                    (p, int(r["category_id"]), segmentation_arg(r["segmentation"]))
                    for p, r in inst_by_image.get(image_id, [])
                ],
                [
                    (p, int(r["category_id"]), segmentation_arg(r["segmentation"]))
                    for p, r in sem_by_image.get(image_id, [])
                ],
            )
            for image_id in img_id2img
        ]
    )
