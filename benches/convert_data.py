"""bench_convert.py's data: one COCO-like panoptic dataset and the converters' other inputs made
from it, written once and cached under ``cache`` by size, seed and VERSION.

* ``gt.json`` + ``gt/``, ``pred.json`` + ``pred/``: ``panoptiq.synthetic.make_dataset`` from the
  shipped COCO sample (its 133 categories; 18 and 32 segments in the two source images, things
  and stuff), every image 480x640 (the ground-truth kinds that keep the size: sample, void band,
  crowd, flip; COCO's longer side is 640), the predictions' realistic kinds (perturbed, shifted,
  wrong classes, split/merge, blobs, RGBA); every PNG re-written by Pillow, as COCO's are.
* ``2ch/``: the ground truth as 2-channel PNGs (R the category, G the instance: 1, 2, ... per
  thing category, 0 for stuff; 0/0 VOID), written by Pillow; ``images.json``: its image list.
* ``detection.json``: the ground truth as COCO detection annotations: compressed RLE (from
  panoptiq's panoptic->detection converter), and about half of the non-crowd things as polygons
  instead (a 32-vertex jittered ellipse in the thing's box, rasterized by pycocotools and carved
  out of the other masks, so that nothing overlaps: panopticapi refuses overlaps); ``area`` and
  ``bbox`` recounted.
* ``semseg.json``: semantic-segmentation results, one compressed RLE per class and image, of the
  predictions (panoptiq's panoptic->semantic converter), thing classes included as a semantic
  model gives them; ``instseg.json``: instance results from the predictions' things, each
  dilated by 2 px (so neighbours overlap a little) with a score in [0.3, 1), and for 30% of them
  a duplicate shifted by up to 8 px with a score in [0.1, 0.95) (overlapping a lot), ordered by
  image as a detector writes them.
"""

from __future__ import annotations

import json
import shutil
from collections import Counter, defaultdict
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image
from pycocotools import mask as mask_utils

from panoptiq import read_id_map
from panoptiq.converters import convert_panoptic_to_detection_coco_format, extract_semantic
from panoptiq.synthetic import REALISTIC_PRED_KINDS, make_dataset, sample_dir

VERSION = 1
SIZE = (480, 640)
GT_KINDS = ("sample", "void_band", "crowd", "flip")
POLYGON_SHARE = 0.5
DUPLICATE_SHARE = 0.3
CATEGORIES = sample_dir() / "panoptic_coco_categories.json"


def dataset(cache: Path, images: int, seed: int = 2026) -> Path:
    """The folder of the cached dataset of ``images`` images, made if missing."""
    folder = cache / f"convert-v{VERSION}-{images}-s{seed}"
    if (folder / "done").exists():
        return folder
    if folder.exists():
        shutil.rmtree(folder)
    print(f"generating {images} COCO-like images of {SIZE[1]}x{SIZE[0]} and the converters' inputs in {folder}")
    make_dataset(folder, images, seed=seed, size=SIZE, gt_kinds=GT_KINDS, pred_kinds=REALISTIC_PRED_KINDS)
    for side in ("gt", "pred"):
        for png in (folder / side).iterdir():
            with Image.open(png) as image:
                image.load()
                image.save(png)
    shutil.copy(CATEGORIES, folder / "categories.json")
    categories = json.loads(CATEGORIES.read_text())
    things = {c["id"] for c in categories if c["isthing"] == 1}
    gt = json.loads((folder / "gt.json").read_text())
    (folder / "images.json").write_text(json.dumps({"images": gt["images"]}))
    rng = np.random.default_rng(seed + 1)
    _two_channels(folder, gt, things)
    print("  2-channel PNGs written", flush=True)
    _detection(folder, things, rng)
    print("  detection JSON written", flush=True)
    _combine_inputs(folder, things, rng)
    print("  semantic and instance results written", flush=True)
    (folder / "done").touch()
    return folder


def _two_channels(folder: Path, gt: dict, things: set[int]) -> None:
    out = folder / "2ch"
    out.mkdir()
    for annotation in gt["annotations"]:
        ids = read_id_map(folder / "gt" / annotation["file_name"])
        image = np.zeros((*ids.shape, 3), dtype=np.uint8)
        instances: Counter[int] = Counter()
        stuff_seen = set()
        for segment in annotation["segments_info"]:
            category = segment["category_id"]
            if category in things:
                instances[category] += 1
                instance = instances[category]
                assert instance < 256, "more than 255 things of one class"
            else:
                assert category not in stuff_seen, "two stuff segments of one class would merge"
                stuff_seen.add(category)
                instance = 0
            where = ids == segment["id"]
            image[where, 0] = category
            image[where, 1] = instance
        Image.fromarray(image).save(out / annotation["file_name"])


def _bbox(mask: np.ndarray) -> list[float]:
    rows, cols = np.flatnonzero(mask.any(axis=1)), np.flatnonzero(mask.any(axis=0))
    if rows.size == 0:
        return [0.0, 0.0, 0.0, 0.0]
    return [float(cols[0]), float(rows[0]), float(cols[-1] - cols[0] + 1), float(rows[-1] - rows[0] + 1)]


def _rle(mask: np.ndarray) -> dict[str, Any]:
    rle = mask_utils.encode(np.asfortranarray(mask.astype(np.uint8)))
    return {"size": [int(v) for v in rle["size"]], "counts": rle["counts"].decode("ascii")}


def _ellipse(rng: np.random.Generator, box: list[float]) -> list[float]:
    x, y, w, h = box
    n = 32
    angles = np.linspace(0, 2 * np.pi, n, endpoint=False) + rng.uniform(0, 2 * np.pi / n)
    radius = rng.uniform(0.8, 1.0, n)
    xs = x + w / 2 + 0.5 * w * radius * np.cos(angles)
    ys = y + h / 2 + 0.5 * h * radius * np.sin(angles)
    return [round(float(v), 2) for pair in zip(xs, ys, strict=True) for v in pair]


def _detection(folder: Path, things: set[int], rng: np.random.Generator) -> None:
    rle_json = folder / "detection-rle.json"
    convert_panoptic_to_detection_coco_format(
        str(folder / "gt.json"), str(folder / "gt"), str(rle_json), str(CATEGORIES), False
    )
    d = json.loads(rle_json.read_text())
    rle_json.unlink()
    by_image = defaultdict(list)
    for annotation in d["annotations"]:
        by_image[annotation["image_id"]].append(annotation)
    annotations = []
    for image in d["images"]:
        h, w = image["height"], image["width"]
        anns = by_image[image["id"]]
        masks = [mask_utils.decode(a["segmentation"]).astype(bool) for a in anns]
        taken = np.zeros((h, w), dtype=bool)
        polygons: dict[int, tuple[list[float], np.ndarray]] = {}
        for k, a in enumerate(anns):
            if a["category_id"] not in things or a["iscrowd"] or rng.random() >= POLYGON_SHARE:
                continue
            box = _bbox(masks[k])
            if box[2] < 8 or box[3] < 8:
                continue
            polygon = _ellipse(rng, box)
            raster = mask_utils.decode(mask_utils.merge(mask_utils.frPyObjects([polygon], h, w))).astype(bool)
            if not raster.any() or (raster & taken).any():
                continue
            taken |= raster
            polygons[k] = (polygon, raster)
        for k, a in enumerate(anns):
            if k in polygons:
                polygon, m = polygons[k]
                a["segmentation"] = [polygon]
            else:
                m = masks[k] & ~taken
                if not m.any():
                    continue
                a["segmentation"] = _rle(m)
            a["area"] = int(m.sum())
            a["bbox"] = _bbox(m)
            annotations.append(a)
    for index, annotation in enumerate(annotations, 1):
        annotation["id"] = index
    d["annotations"] = annotations
    (folder / "detection.json").write_text(json.dumps(d))


def _dilate(mask: np.ndarray, radius: int) -> np.ndarray:
    rows, cols = np.flatnonzero(mask.any(axis=1)), np.flatnonzero(mask.any(axis=0))
    y0, y1 = max(0, rows[0] - radius), min(mask.shape[0], rows[-1] + radius + 1)
    x0, x1 = max(0, cols[0] - radius), min(mask.shape[1], cols[-1] + radius + 1)
    grown = mask[y0:y1, x0:x1].copy()
    for _ in range(radius):
        step = grown.copy()
        step[1:] |= grown[:-1]
        step[:-1] |= grown[1:]
        step[:, 1:] |= grown[:, :-1]
        step[:, :-1] |= grown[:, 1:]
        grown = step
    out = np.zeros_like(mask)
    out[y0:y1, x0:x1] = grown
    return out


def _shift(mask: np.ndarray, dy: int, dx: int) -> np.ndarray:
    h, w = mask.shape
    out = np.zeros_like(mask)
    src = mask[max(0, -dy) : h - max(0, dy), max(0, -dx) : w - max(0, dx)]
    out[max(0, dy) : max(0, dy) + src.shape[0], max(0, dx) : max(0, dx) + src.shape[1]] = src
    return out


def _combine_inputs(folder: Path, things: set[int], rng: np.random.Generator) -> None:
    semantic_json = folder / "semantic-tmp.json"
    extract_semantic(str(folder / "pred.json"), str(folder / "pred"), str(semantic_json), None, str(CATEGORIES))
    semantic = json.loads(semantic_json.read_text())["annotations"]
    semantic_json.unlink()
    semseg = [{k: r[k] for k in ("image_id", "category_id", "segmentation")} for r in semantic]
    (folder / "semseg.json").write_text(json.dumps(semseg))

    pred = json.loads((folder / "pred.json").read_text())
    instances = []

    def result(image_id: int, category_id: int, m: np.ndarray, score: float) -> dict[str, Any]:
        return {
            "image_id": image_id,
            "category_id": category_id,
            "segmentation": _rle(m),
            "bbox": _bbox(m),
            "score": round(score, 5),
        }

    for annotation in pred["annotations"]:
        ids = read_id_map(folder / "pred" / annotation["file_name"])
        for segment in annotation["segments_info"]:
            if segment["category_id"] not in things:
                continue
            m = ids == segment["id"]
            if not m.any():
                continue
            m = _dilate(m, 2)
            image_id, category_id = annotation["image_id"], segment["category_id"]
            instances.append(result(image_id, category_id, m, float(rng.uniform(0.3, 1.0))))
            if rng.random() < DUPLICATE_SHARE:
                dy, dx = (int(v) for v in rng.integers(-8, 9, size=2))
                shifted = _shift(m, dy, dx)
                if shifted.any():
                    instances.append(result(image_id, category_id, shifted, float(rng.uniform(0.1, 0.95))))
    (folder / "instseg.json").write_text(json.dumps(instances))


def summary(folder: Path) -> list[str]:
    """What the dataset holds, in a few lines."""
    gt = json.loads((folder / "gt.json").read_text())
    things = {c["id"] for c in json.loads((folder / "categories.json").read_text()) if c["isthing"] == 1}
    per_image = [len(a["segments_info"]) for a in gt["annotations"]]
    n_things = sum(s["category_id"] in things for a in gt["annotations"] for s in a["segments_info"])
    sizes = Counter((i["height"], i["width"]) for i in gt["images"])
    detection = json.loads((folder / "detection.json").read_text())["annotations"]
    polygons = sum(isinstance(a["segmentation"], list) for a in detection)
    instances = json.loads((folder / "instseg.json").read_text())
    semseg = json.loads((folder / "semseg.json").read_text())
    return [
        f"{len(gt['images']):,} images ("
        + ", ".join(f"{n:,} of {w}x{h}" for (h, w), n in sizes.most_common())
        + f"), ground truth {sum(per_image):,} segments ({np.mean(per_image):.1f} an image, "
        f"{min(per_image)}..{max(per_image)}; {n_things:,} things, {sum(per_image) - n_things:,} stuff), "
        f"133 COCO categories",
        f"detection JSON: {len(detection):,} annotations, {polygons:,} polygons and "
        f"{len(detection) - polygons:,} compressed RLE",
        f"combine: {len(instances):,} instance results ({sum(r['score'] >= 0.5 for r in instances):,} at score "
        f">= 0.5), {len(semseg):,} semantic results ({sum(r['category_id'] not in things for r in semseg):,} "
        "of stuff classes)",
    ]
