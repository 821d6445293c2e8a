"""An independent oracle for panoptiq.converters, written from the formats' definitions.

Each function converts files to files the way the matching panopticapi script is documented to
(COCO panoptic/detection format, the 2-channel format of the panoptic paper, Cityscapes'
``instanceIds``, the combination heuristic of the paper's section 7), using numpy boolean masks
and pycocotools for RLE. It is meant for small images and makes no attempt at speed.

Colours follow the rule the format relies on: a stuff segment has its category's colour, a
thing segment a colour within 30 per channel of its category's colour that no other segment of
the image has (the category's colour itself if still free), never black (black is VOID). The
oracle draws them from its own seeded generator, so its thing colours differ from both
panopticapi's and panoptiq's; tests compare up to that relabelling.
"""

from __future__ import annotations

import glob
import json
import os
import warnings
from collections.abc import Iterable, Mapping
from typing import Any

import numpy as np
from PIL import Image
from pycocotools import mask as coco_mask

MAX_DISTANCE = 30
OTHER_CLASS_ID = 183


def load(path: str | os.PathLike[str]) -> Any:
    with open(path, encoding="utf-8") as f:
        return json.load(f)


def dump(data: Any, path: str | os.PathLike[str]) -> None:
    with open(path, "w", encoding="utf-8") as f:
        json.dump(data, f)


def png_name(file_name: str) -> str:
    """A COCO image's PNG name: the part of its file name before the first dot, plus ``.png``."""
    return file_name.split(".")[0] + ".png"


def color_to_id(color: Iterable[int]) -> int:
    r, g, b = (int(c) for c in color)
    return r + 256 * g + 256 * 256 * b


def read_ids(path: str | os.PathLike[str]) -> np.ndarray:
    """The id map of an RGB panoptic PNG: ``R + 256 G + 256² B`` per pixel."""
    rgb = np.asarray(Image.open(path).convert("RGB")).astype(np.uint32)
    return rgb[..., 0] + 256 * rgb[..., 1] + 65536 * rgb[..., 2]


def write_ids(path: str | os.PathLike[str], ids: np.ndarray) -> None:
    rgb = np.stack([(ids >> (8 * k)) & 255 for k in range(3)], axis=-1).astype(np.uint8)
    Image.fromarray(rgb, "RGB").save(path)


class Colors:
    """One image's segment colours (see the module's docstring)."""

    def __init__(self, categories: Mapping[int, Mapping[str, Any]], rng: np.random.Generator) -> None:
        self.categories = categories
        self.rng = rng
        self.taken = {(0, 0, 0)} | {tuple(c["color"]) for c in categories.values() if c["isthing"] == 0}

    def next_id(self, category_id: int) -> int:
        category = self.categories[category_id]
        base = tuple(int(c) for c in category["color"])
        if category["isthing"] == 0:
            return color_to_id(base)
        color = base
        while color in self.taken:
            offset = self.rng.integers(-MAX_DISTANCE, MAX_DISTANCE + 1, size=3)
            color = tuple(int(c) for c in np.clip(np.array(base) + offset, 0, 255))
        self.taken.add(color)
        return color_to_id(color)


def _categories(path: str | os.PathLike[str]) -> dict[int, dict[str, Any]]:
    return {c["id"]: c for c in load(path)}


def annotation_mask(segmentation: Any, height: int, width: int) -> np.ndarray:
    """A COCO ``segmentation`` (polygons, uncompressed or compressed RLE) as a boolean mask."""
    if isinstance(segmentation, list):
        rle = coco_mask.merge(coco_mask.frPyObjects(segmentation, height, width))
    elif isinstance(segmentation["counts"], list):
        rle = coco_mask.frPyObjects(segmentation, height, width)
    else:
        rle = segmentation
    with warnings.catch_warnings():
        # pycocotools' decode warns under numpy 2 (its __array__ lacks the copy keyword).
        warnings.filterwarnings("ignore", "__array__ implementation doesn't accept a copy keyword", DeprecationWarning)
        return coco_mask.decode(rle).astype(bool)


def rle_string(mask: np.ndarray) -> str:
    """pycocotools' compressed RLE string of a mask."""
    return coco_mask.encode(np.asfortranarray(mask.astype(np.uint8)))["counts"].decode("ascii")


def bbox_of(mask: np.ndarray) -> list[int]:
    """``[x, y, width, height]`` of a mask's pixels, zeros for an empty one."""
    ys, xs = np.nonzero(mask)
    if len(xs) == 0:
        return [0, 0, 0, 0]
    return [int(xs.min()), int(ys.min()), int(xs.max() - xs.min() + 1), int(ys.max() - ys.min() + 1)]


def two_channels_to_panoptic(
    source_folder: str,
    images_json_file: str,
    categories_json_file: str,
    segmentations_folder: str,
    predictions_json_file: str,
    void: int = 0,
    seed: int = 0,
) -> None:
    """Every distinct (class, instance) pixel pair but the VOID class is a segment, in ascending
    order of ``1000 * class + instance``; each records ``id`` and ``category_id``."""
    data = load(images_json_file)
    categories = _categories(categories_json_file)
    os.makedirs(segmentations_folder, exist_ok=True)
    rng = np.random.default_rng(seed)
    annotations = []
    for image in data["images"]:
        name = png_name(image["file_name"])
        pixels = np.asarray(Image.open(os.path.join(source_folder, name))).astype(np.int64)
        label = pixels[..., 0] * 1000 + pixels[..., 1]
        colors = Colors(categories, rng)
        ids = np.zeros(label.shape, np.uint32)
        segments = []
        for value in np.unique(label):
            class_id = int(value) // 1000
            if class_id == void:
                continue
            if class_id not in categories:
                raise KeyError(f"unknown semantic label {class_id}")
            segment_id = colors.next_id(class_id)
            ids[label == value] = segment_id
            segments.append({"id": segment_id, "category_id": class_id})
        write_ids(os.path.join(segmentations_folder, name), ids)
        annotations.append({"image_id": image["id"], "file_name": name, "segments_info": segments})
    data["annotations"] = annotations
    dump(data, predictions_json_file)


def detection_to_panoptic(
    input_json_file: str,
    segmentations_folder: str,
    output_json_file: str,
    categories_json_file: str,
    seed: int = 0,
) -> None:
    """Each image's annotations, in JSON order, painted with their own colour; a segment is the
    annotation without ``segmentation`` and ``image_id``, its ``id`` the colour's."""
    data = load(input_json_file)
    categories_list = load(categories_json_file)
    categories = {c["id"]: c for c in categories_list}
    os.makedirs(segmentations_folder, exist_ok=True)
    rng = np.random.default_rng(seed)
    images = {image["id"]: image for image in data["images"]}
    annotations = []
    for image_id, image in images.items():
        height, width = image["height"], image["width"]
        colors = Colors(categories, rng)
        ids = np.zeros((height, width), np.uint32)
        covered = np.zeros((height, width), bool)
        segments = []
        for ann in data["annotations"]:
            if ann["image_id"] != image_id:
                continue
            mask = annotation_mask(ann["segmentation"], height, width)
            if (mask & covered).any():
                raise ValueError(f"segments of image {image_id} overlap")
            covered |= mask
            segment_id = colors.next_id(ann["category_id"])
            ids[mask] = segment_id
            segment = {k: v for k, v in ann.items() if k not in ("segmentation", "image_id")}
            segment["id"] = segment_id
            segments.append(segment)
        name = png_name(image["file_name"])
        write_ids(os.path.join(segmentations_folder, name), ids)
        annotations.append({"image_id": image_id, "file_name": name, "segments_info": segments})
    data["annotations"] = annotations
    data["categories"] = categories_list
    dump(data, output_json_file)


def panoptic_to_detection(
    input_json_file: str,
    segmentations_folder: str,
    output_json_file: str,
    categories_json_file: str,
    things_only: bool,
) -> None:
    """Each (thing, with ``things_only``) segment as a detection annotation with an RLE mask,
    numbered from 0; the categories lose ``isthing`` and ``color``."""
    data = load(input_json_file)
    categories = _categories(categories_json_file)
    detections = []
    for annotation in data["annotations"]:
        ids = read_ids(os.path.join(segmentations_folder, png_name(annotation["file_name"])))
        for segment in annotation["segments_info"]:
            if things_only and categories[segment["category_id"]]["isthing"] != 1:
                continue
            record = {k: v for k, v in segment.items() if k != "id"}
            record["image_id"] = annotation["image_id"]
            record["segmentation"] = {"size": list(ids.shape), "counts": rle_string(ids == segment["id"])}
            detections.append(record)
    for index, record in enumerate(detections):
        record["id"] = index
    data["annotations"] = detections
    data["categories"] = [
        {k: v for k, v in c.items() if k not in ("isthing", "color")}
        for c in data["categories"]
        if not (things_only and c["isthing"] != 1)
    ]
    dump(data, output_json_file)


def panoptic_to_semantic(
    input_json_file: str,
    segmentations_folder: str,
    output_json_file: str | None,
    semantic_seg_folder: str | None,
    categories_json_file: str,
    things_other: bool = False,
    save_with_color: bool = False,
) -> None:
    """Segments merged by class (things all become class 183 with ``things_other``): a PNG of
    class values (or class colours) per image, or one COCO-stuff record per class and image."""
    data = load(input_json_file)
    categories_list = load(categories_json_file)
    categories = {c["id"]: c for c in categories_list}
    colors = {}
    for c in categories_list:
        colors.setdefault(c["id"], c["color"])
    if semantic_seg_folder is not None:
        os.makedirs(semantic_seg_folder, exist_ok=True)
    records = []
    for annotation in data["annotations"]:
        ids = read_ids(os.path.join(segmentations_folder, annotation["file_name"]))
        classes = np.zeros(ids.shape, np.int64)
        painted = np.zeros(ids.shape, bool)
        rgb = np.zeros((*ids.shape, 3), np.uint8)
        order: list[int] = []
        for segment in annotation["segments_info"]:
            class_id = segment["category_id"]
            if things_other and categories[class_id]["isthing"] == 1:
                class_id = OTHER_CLASS_ID
            mask = ids == segment["id"]
            classes[mask] = class_id
            painted |= mask
            if save_with_color:
                rgb[mask] = colors[class_id]
            if class_id not in order:
                order.append(class_id)
        if semantic_seg_folder is not None:
            out = os.path.join(semantic_seg_folder, annotation["file_name"])
            if save_with_color:
                Image.fromarray(rgb, "RGB").save(out)
            else:
                Image.fromarray(classes.astype(np.uint8), "L").save(out)
            continue
        for class_id in order:
            mask = painted & (classes == class_id)
            x, y, w, h = bbox_of(mask)
            records.append(
                {
                    "image_id": annotation["image_id"],
                    "category_id": class_id,
                    "segmentation": {"size": list(ids.shape), "counts": rle_string(mask)},
                    "area": int(mask.sum()),
                    "bbox": [float(x), float(y), float(w), float(h)],
                    "iscrowd": 0,
                }
            )
    if output_json_file is None:
        return
    for index, record in enumerate(records):
        record["id"] = index
    data["annotations"] = records
    kept = [
        {k: v for k, v in c.items() if k not in ("isthing", "color")}
        for c in categories_list
        if not (things_other and c["isthing"] == 1)
    ]
    if things_other:
        kept.append({"id": OTHER_CLASS_ID, "name": "other", "supercategory": "other"})
    data["categories"] = kept
    dump(data, output_json_file)


def combine(
    semseg_json_file: str,
    instseg_json_file: str,
    images_json_file: str,
    categories_json_file: str,
    segmentations_folder: str,
    panoptic_json_file: str,
    confidence_thr: float = 0.5,
    overlap_thr: float = 0.5,
    stuff_area_limit: float = 64 * 64,
    seed: int = 0,
) -> None:
    """The paper's heuristic: confident instances by descending score, each kept unless empty or
    more than ``overlap_thr`` of it is already covered, painted where free; then the stuff
    regions, in JSON order, painted where free unless fewer than ``stuff_area_limit`` pixels are."""
    semantic = load(semseg_json_file)
    instances = load(instseg_json_file)
    data = load(images_json_file)
    categories_list = load(categories_json_file)
    categories = {c["id"]: c for c in categories_list}
    os.makedirs(segmentations_folder, exist_ok=True)
    rng = np.random.default_rng(seed)
    annotations = []
    for image in data["images"]:
        height, width = image["height"], image["width"]
        mine = [r for r in instances if r["image_id"] == image["id"] and r["score"] >= confidence_thr]
        mine.sort(key=lambda r: -r["score"])
        colors = Colors(categories, rng)
        ids = np.zeros((height, width), np.uint32)
        segments = []
        for result in mine:
            mask = annotation_mask(result["segmentation"], height, width)
            area = mask.sum()
            if area == 0 or (mask & (ids != 0)).sum() / area > overlap_thr:
                continue
            segment_id = colors.next_id(result["category_id"])
            ids[mask & (ids == 0)] = segment_id
            segments.append({"id": segment_id, "category_id": result["category_id"]})
        for result in semantic:
            if result["image_id"] != image["id"] or categories[result["category_id"]]["isthing"] == 1:
                continue
            free = annotation_mask(result["segmentation"], height, width) & (ids == 0)
            if free.sum() < stuff_area_limit:
                continue
            segment_id = colors.next_id(result["category_id"])
            ids[free] = segment_id
            segments.append({"id": segment_id, "category_id": result["category_id"]})
        name = image["file_name"].replace(".jpg", ".png")
        write_ids(os.path.join(segmentations_folder, name), ids)
        annotations.append({"image_id": image["id"], "file_name": name, "segments_info": segments})
    data["annotations"] = annotations
    data["categories"] = categories_list
    dump(data, panoptic_json_file)


def cityscapes_to_panoptic(
    original_format_folder: str,
    out_folder: str,
    out_file: str,
    categories: list[dict[str, Any]],
    seed: int = 0,
) -> None:
    """``<city>/<name>_gtFine_instanceIds.png``: a value below 1000 is a class region (crowd for
    things), ``1000 * class + k`` an instance; classes outside ``categories`` are VOID. Images
    in sorted path order, named by the part before ``_gtFine_instanceIds``."""
    by_id = {c["id"]: c for c in categories}
    os.makedirs(out_folder, exist_ok=True)
    rng = np.random.default_rng(seed)
    files = sorted(glob.glob(os.path.join(original_format_folder, "*", "*_gtFine_instanceIds.png")))
    images = []
    annotations = []
    for path in files:
        label = np.asarray(Image.open(path)).astype(np.int64)
        file_name = os.path.basename(path)
        image_id = file_name[: -len("_gtFine_instanceIds.png")]
        height, width = label.shape
        images.append({"id": image_id, "width": width, "height": height, "file_name": f"{image_id}_leftImg8bit.png"})
        colors = Colors(by_id, rng)
        ids = np.zeros(label.shape, np.uint32)
        segments = []
        for value in np.unique(label):
            class_id = int(value) if value < 1000 else int(value) // 1000
            if class_id not in by_id:
                continue
            mask = label == value
            segment_id = colors.next_id(class_id)
            ids[mask] = segment_id
            segments.append(
                {
                    "id": segment_id,
                    "category_id": class_id,
                    "area": int(mask.sum()),
                    "bbox": bbox_of(mask),
                    "iscrowd": int(value < 1000 and by_id[class_id]["isthing"] == 1),
                }
            )
        write_ids(os.path.join(out_folder, file_name), ids)
        annotations.append({"image_id": image_id, "file_name": file_name, "segments_info": segments})
    dump({"images": images, "annotations": annotations, "categories": categories}, out_file)
