"""Realistic converter inputs, generated: COCO-like scenes of stuff regions and overlapping thing
instances, written in each format panopticapi's converters read.

A scene is an index map (``-1`` VOID, else the position of a segment) plus its segments' classes
and, for things, the whole shape before later things covered part of it (the instance
predictions of the combination heuristic overlap).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image
from reference_converters import annotation_mask, bbox_of, rle_string, write_ids


@dataclass
class Segment:
    category_id: int
    isthing: bool
    shape: np.ndarray  # the whole shape, before occlusion
    instance: int = 0  # the instance number of the 2-channel format (0 for stuff)


@dataclass
class Scene:
    height: int
    width: int
    index: np.ndarray  # int32: -1 VOID, else a position in `segments`
    segments: list[Segment] = field(default_factory=list)

    def mask(self, k: int) -> np.ndarray:
        return self.index == k


def load_categories(path: Path) -> list[dict[str, Any]]:
    return json.loads(path.read_text())


def _shape(rng: np.random.Generator, height: int, width: int) -> np.ndarray:
    """An ellipse, rectangle or triangle somewhere in the image, 4 px to a third of it across."""
    yy, xx = np.mgrid[:height, :width]
    cy, cx = rng.uniform(0, height), rng.uniform(0, width)
    ry = rng.uniform(2, max(3.0, height / 6))
    rx = rng.uniform(2, max(3.0, width / 6))
    kind = rng.integers(3)
    if kind == 0:
        return ((yy - cy) / ry) ** 2 + ((xx - cx) / rx) ** 2 <= 1
    if kind == 1:
        return (np.abs(yy - cy) <= ry) & (np.abs(xx - cx) <= rx)
    corners = np.stack([cx + rng.uniform(-rx, rx, 3) * 1.5, cy + rng.uniform(-ry, ry, 3) * 1.5], axis=1)
    signs = []
    for i in range(3):
        (x0, y0), (x1, y1) = corners[i], corners[(i + 1) % 3]
        signs.append((x1 - x0) * (yy - y0) - (y1 - y0) * (xx - x0))
    return ((signs[0] >= 0) & (signs[1] >= 0) & (signs[2] >= 0)) | ((signs[0] <= 0) & (signs[1] <= 0) & (signs[2] <= 0))


def scene(
    rng: np.random.Generator,
    categories: list[dict[str, Any]],
    height: int | None = None,
    width: int | None = None,
    void: bool = True,
) -> Scene:
    """A scene of 5 to 40 segments: 2-5 stuff regions (Voronoi cells, a class possibly over several
    cells) under thing instances of 2-5 classes, painted in turn so later ones cover earlier ones."""
    height = int(height or rng.integers(60, 201))
    width = int(width or rng.integers(80, 301))
    stuff = [c for c in categories if c["isthing"] == 0]
    things = [c for c in categories if c["isthing"] == 1]
    while True:
        n_segments = int(rng.integers(5, 41))
        n_stuff = int(rng.integers(2, 6))
        stuff_classes = [stuff[i]["id"] for i in rng.choice(len(stuff), n_stuff, replace=False)]
        thing_classes = [things[i]["id"] for i in rng.choice(len(things), int(rng.integers(2, 6)), replace=False)]
        n_cells = n_stuff + int(rng.integers(0, 4))
        centres = rng.uniform(0, 1, (n_cells, 2)) * [height, width]
        yy, xx = np.mgrid[:height, :width]
        nearest = np.argmin((yy[..., None] - centres[:, 0]) ** 2 + (xx[..., None] - centres[:, 1]) ** 2, axis=-1)
        cell_class = stuff_classes + [stuff_classes[i] for i in rng.integers(0, n_stuff, n_cells - n_stuff)]
        index = np.full((height, width), -1, np.int32)
        segments: list[Segment] = []
        for k, class_id in enumerate(stuff_classes):
            region = np.isin(nearest, [c for c in range(n_cells) if cell_class[c] == class_id])
            index[region] = k
            segments.append(Segment(class_id, False, region))
        instances: dict[int, int] = {}
        for _ in range(n_segments - n_stuff):
            class_id = thing_classes[int(rng.integers(len(thing_classes)))]
            instances[class_id] = instances.get(class_id, 0) + 1
            shape = _shape(rng, height, width)
            index[shape] = len(segments)
            segments.append(Segment(class_id, True, shape, instances[class_id]))
        if void:
            border = int(rng.integers(0, 4))
            if border:
                index[:border] = -1
                index[:, -border:] = -1
            y0, x0 = int(rng.integers(0, height - 5)), int(rng.integers(0, width - 5))
            index[y0 : y0 + int(rng.integers(2, 12)), x0 : x0 + int(rng.integers(2, 20))] = -1
        # Drop the segments left without pixels.
        present = [k for k in range(len(segments)) if (index == k).any()]
        if len(present) < 5:
            continue
        remap = np.full(len(segments) + 1, -1, np.int32)
        remap[present] = np.arange(len(present))
        return Scene(height, width, remap[index], [segments[k] for k in present])


def image_record(image_id: int, scene: Scene, file_name: str | None = None) -> dict[str, Any]:
    return {
        "license": int(image_id % 7 + 1),
        "file_name": file_name or f"{image_id:012d}.jpg",
        "coco_url": f"http://images.cocodataset.org/val2017/{image_id:012d}.jpg",
        "height": scene.height,
        "width": scene.width,
        "date_captured": "2013-11-20 16:47:35",
        "id": image_id,
    }


def image_ids(rng: np.random.Generator, n: int) -> list[int]:
    """``n`` distinct COCO-like ids, not sorted."""
    return [int(i) for i in rng.choice(np.arange(1, 600000), n, replace=False)]


def header() -> dict[str, Any]:
    return {
        "info": {"description": "synthetic COCO-like panoptic set", "version": "1.0", "year": 2018},
        "licenses": [
            {"url": "http://creativecommons.org/licenses/by/2.0/", "id": i, "name": "CC"} for i in range(1, 8)
        ],
    }


def scenes(rng: np.random.Generator, categories: list[dict[str, Any]], n: int) -> list[Scene]:
    return [scene(rng, categories) for _ in range(n)]


def write_two_channels(
    folder: Path,
    rng: np.random.Generator,
    categories: list[dict[str, Any]],
    n: int,
    void: int = 0,
    split_stuff: bool = False,
) -> tuple[Path, Path]:
    """``n`` 2-channel PNGs (class, instance, 0) and their images JSON; VOID pixels have class
    ``void``. With ``split_stuff``, some stuff regions have two instance numbers (each pair a
    segment for panopticapi, of one colour). One image is 2-channel ``LA``
    and one RGBA instead of RGB; one file name has two dots."""
    source = folder / "two_channels"
    source.mkdir(parents=True)
    images = []
    for position, (image_id, sc) in enumerate(zip(image_ids(rng, n), scenes(rng, categories, n), strict=True)):
        file_name = f"{image_id:012d}.v2.jpg" if position == 1 else None
        record = image_record(image_id, sc, file_name)
        images.append(record)
        pixels = np.zeros((sc.height, sc.width, 3), np.uint8)
        pixels[..., 0] = void
        for k, segment in enumerate(sc.segments):
            mask = sc.mask(k)
            pixels[mask, 0] = segment.category_id
            pixels[mask, 1] = segment.instance
            if split_stuff and not segment.isthing and rng.integers(2) == 0:
                # Stuff with instance numbers: each (class, instance) pair is a segment of its own.
                left = mask & (np.arange(sc.width) < int(rng.integers(0, sc.width)))
                pixels[left, 1] = int(rng.integers(1, 4))
        name = record["file_name"].split(".")[0] + ".png"
        if position == 2:
            Image.fromarray(pixels[..., :2], "LA").save(source / name)
        elif position == 3:
            alpha = np.full((sc.height, sc.width, 1), 255, np.uint8)
            Image.fromarray(np.concatenate([pixels, alpha], axis=-1), "RGBA").save(source / name)
        else:
            Image.fromarray(pixels, "RGB").save(source / name)
    images_json = folder / "images.json"
    images_json.write_text(json.dumps({**header(), "images": images}))
    return source, images_json


def uncompressed_counts(mask: np.ndarray) -> list[int]:
    """COCO's uncompressed RLE: run lengths of the column-major mask, starting with zeros."""
    flat = mask.flatten(order="F").astype(np.int8)
    changes = np.flatnonzero(np.diff(flat)) + 1
    bounds = np.concatenate([[0], changes, [flat.size]])
    counts = np.diff(bounds).tolist()
    if flat[0]:
        counts.insert(0, 0)
    return [int(c) for c in counts]


def _polygon(rng: np.random.Generator, y0: float, x0: float, h: float, w: float) -> list[float]:
    """A star-shaped polygon of 3-8 vertices inside the box, as COCO's flat float list."""
    n = int(rng.integers(3, 9))
    angles = np.sort(rng.uniform(0, 2 * np.pi, n))
    radius = rng.uniform(0.4, 1.0, n)
    xs = x0 + w / 2 + np.cos(angles) * radius * w / 2
    ys = y0 + h / 2 + np.sin(angles) * radius * h / 2
    return [round(float(v), 2) for xy in zip(xs, ys, strict=True) for v in xy]


def write_detection(
    folder: Path, rng: np.random.Generator, categories: list[dict[str, Any]], n: int
) -> tuple[Path, dict[str, Any]]:
    """A COCO detection JSON of ``n`` images with non-overlapping masks: thing polygons (some of
    two parts) in disjoint cells of the image, the rest of each scene as compressed RLE strings
    and, for some things, uncompressed RLE count lists with ``iscrowd`` 1. Annotations of the
    images are interleaved; the last image has none."""
    folder.mkdir(parents=True, exist_ok=True)
    things = [c for c in categories if c["isthing"] == 1]
    images = []
    annotations = []
    next_id = int(rng.integers(100000, 900000))
    for position, (image_id, sc) in enumerate(zip(image_ids(rng, n), scenes(rng, categories, n), strict=True)):
        images.append(image_record(image_id, sc))
        if position == n - 1:
            continue
        h, w = sc.height, sc.width
        index = sc.index.copy()
        records: list[tuple[int, Any, np.ndarray, int]] = []  # category, segmentation, mask, iscrowd
        # Polygons in a 3x3 grid of cells, 3 px apart, so their rasterised masks cannot touch.
        cells = [(r, c) for r in range(3) for c in range(3)]
        chosen = [cells[i] for i in rng.choice(9, int(rng.integers(2, 6)), replace=False)]
        ch, cw = h / 3, w / 3
        while chosen:
            parts = [chosen.pop()]
            if chosen and rng.integers(3) == 0:
                parts.append(chosen.pop())
            polygons = [_polygon(rng, r * ch + 3, c * cw + 3, ch - 6, cw - 6) for r, c in parts]
            mask = annotation_mask(polygons, h, w)
            index[mask] = -2  # taken by a polygon
            records.append((things[int(rng.integers(len(things)))]["id"], polygons, mask, 0))
        for k, segment in enumerate(sc.segments):
            mask = index == k
            if not mask.any():
                continue
            if segment.isthing and rng.integers(4) == 0:
                records.append((segment.category_id, {"counts": uncompressed_counts(mask), "size": [h, w]}, mask, 1))
            else:
                records.append((segment.category_id, {"size": [h, w], "counts": rle_string(mask)}, mask, 0))
        for order in rng.permutation(len(records)):
            category_id, segmentation, mask, iscrowd = records[order]
            x, y, bw, bh = bbox_of(mask)
            annotations.append(
                {
                    "segmentation": segmentation,
                    "area": int(mask.sum()),
                    "iscrowd": iscrowd,
                    "image_id": image_id,
                    "bbox": [float(x), float(y), float(bw), float(bh)],
                    "category_id": category_id,
                    "id": next_id,
                }
            )
            next_id += int(rng.integers(1, 50))
    # Interleave the images' annotations, keeping each image's own order.
    keys = {id(a): (rng.uniform(), i) for i, a in enumerate(annotations)}
    by_image: dict[int, list[Any]] = {}
    for a in annotations:
        by_image.setdefault(a["image_id"], []).append(a)
    slots = sorted(annotations, key=lambda a: keys[id(a)][0])
    queues = {k: iter(v) for k, v in by_image.items()}
    interleaved = [next(queues[a["image_id"]]) for a in slots]
    data = {
        **header(),
        "images": images,
        "annotations": interleaved,
        "categories": [{"supercategory": c["supercategory"], "id": c["id"], "name": c["name"]} for c in things],
    }
    path = folder / "detections.json"
    path.write_text(json.dumps(data))
    return path, data


def write_panoptic(
    folder: Path, rng: np.random.Generator, categories: list[dict[str, Any]], n: int, name: str = "panoptic"
) -> tuple[Path, Path]:
    """A COCO panoptic set of ``n`` images: ``<name>.json`` and ``<name>/*.png``. Segment ids are
    colours as panopticapi's would be (stuff its category's, things unique random ones); some
    things are crowd; one image lists a segment its PNG does not hold, one has a segment its JSON
    does not list, one PNG is RGBA."""
    pngs = folder / name
    pngs.mkdir(parents=True)
    by_id = {c["id"]: c for c in categories}
    images, annotations = [], []
    for position, (image_id, sc) in enumerate(zip(image_ids(rng, n), scenes(rng, categories, n), strict=True)):
        images.append(image_record(image_id, sc))
        ids = np.zeros((sc.height, sc.width), np.uint32)
        used: set[int] = set()
        segments_info = []
        for k, segment in enumerate(sc.segments):
            if segment.isthing:
                segment_id = int(rng.integers(1, 1 << 24))
                while segment_id in used:
                    segment_id = int(rng.integers(1, 1 << 24))
            else:
                r, g, b = by_id[segment.category_id]["color"]
                segment_id = r + 256 * g + 65536 * b
            used.add(segment_id)
            mask = sc.mask(k)
            ids[mask] = segment_id
            segments_info.append(
                {
                    "id": segment_id,
                    "category_id": segment.category_id,
                    "iscrowd": int(segment.isthing and rng.integers(8) == 0),
                    "bbox": bbox_of(mask),
                    "area": int(mask.sum()),
                }
            )
        if position == 1:
            thing = next(c for c in categories if c["isthing"] == 1)
            segments_info.append(
                {"id": 0xABCDEF, "category_id": thing["id"], "iscrowd": 0, "bbox": [0, 0, 0, 0], "area": 0}
            )
        if position == 2:
            segments_info.pop(int(rng.integers(len(segments_info))))  # in the PNG, not in the JSON
        rng.shuffle(segments_info)
        png = f"{image_id:012d}.png"
        if position == 3:
            rgba = np.stack([(ids >> (8 * k)) & 255 for k in range(3)] + [np.full_like(ids, 255)], axis=-1)
            Image.fromarray(rgba.astype(np.uint8), "RGBA").save(pngs / png)
        else:
            write_ids(pngs / png, ids)
        annotations.append({"segments_info": segments_info, "file_name": png, "image_id": image_id})
    path = folder / f"{name}.json"
    path.write_text(json.dumps({**header(), "images": images, "annotations": annotations, "categories": categories}))
    return path, pngs


def rle(mask: np.ndarray) -> dict[str, Any]:
    return {"size": list(mask.shape), "counts": rle_string(mask)}


def write_combine_inputs(
    folder: Path, rng: np.random.Generator, categories: list[dict[str, Any]], n: int
) -> tuple[Path, Path, Path]:
    """Semantic and instance results as a segmentation model would give them, compressed RLE:
    per image one semantic region per class (stuff and thing classes) and the scene's thing
    shapes whole (so they overlap) plus spurious ones, scored in two decimals (ties happen, some
    below 0.5), one of them empty. Results of different images are interleaved."""
    folder.mkdir(parents=True, exist_ok=True)
    images, semantic, instances = [], [], []
    for image_id, sc in zip(image_ids(rng, n), scenes(rng, categories, n), strict=True):
        images.append(image_record(image_id, sc))
        classes: dict[int, np.ndarray] = {}
        for k, segment in enumerate(sc.segments):
            mask = sc.mask(k)
            classes[segment.category_id] = classes.get(segment.category_id, np.zeros_like(mask)) | mask
            if segment.isthing:
                instances.append(
                    {
                        "image_id": image_id,
                        "category_id": segment.category_id,
                        "segmentation": rle(segment.shape),
                        "score": round(float(rng.uniform(0.3, 1.0)), 2),
                    }
                )
        for class_id, mask in classes.items():
            semantic.append({"image_id": image_id, "category_id": class_id, "segmentation": rle(mask)})
        things = [c["id"] for c in categories if c["isthing"] == 1]
        for _ in range(int(rng.integers(1, 5))):
            instances.append(
                {
                    "image_id": image_id,
                    "category_id": things[int(rng.integers(len(things)))],
                    "segmentation": rle(_shape(rng, sc.height, sc.width)),
                    "score": round(float(rng.uniform(0.0, 1.0)), 2),
                }
            )
        instances.append(
            {
                "image_id": image_id,
                "category_id": things[0],
                "segmentation": rle(np.zeros((sc.height, sc.width), bool)),
                "score": 0.99,
            }
        )
    rng.shuffle(semantic)
    rng.shuffle(instances)
    paths = folder / "semseg.json", folder / "instseg.json", folder / "images.json"
    paths[0].write_text(json.dumps(semantic))
    paths[1].write_text(json.dumps(instances))
    paths[2].write_text(json.dumps({**header(), "images": images}))
    return paths


#: Cityscapes classes for the synthetic maps: evaluated stuff and things, plus classes the
#: converter must leave VOID (ignored in evaluation, with and without instances).
CITYSCAPES_STUFF = (7, 8, 11, 12, 13, 17, 19, 20, 21, 22, 23)
CITYSCAPES_THINGS = (24, 25, 26, 27, 28, 31, 32, 33)
CITYSCAPES_IGNORED = (0, 1, 4, 5, 6, 9, 10, 14, 15)
CITYSCAPES_IGNORED_THINGS = (29, 30)


def write_cityscapes(folder: Path, rng: np.random.Generator, n_per_city: int = 3) -> Path:
    """``<root>/<city>/<city>_<seq>_<frame>_gtFine_instanceIds.png`` 16-bit maps (values below 1000
    a class, ``1000 * class + k`` an instance; some thing regions crowd, i.e. the bare class), plus
    other gtFine files the converter must not read."""
    root = folder / "gtFine" / "val"
    for city in ("frankfurt", "aachen"):
        (root / city).mkdir(parents=True)
        for frame in range(n_per_city):
            height, width = int(rng.integers(60, 161)), int(rng.integers(100, 301))
            stuff = rng.choice(CITYSCAPES_STUFF + CITYSCAPES_IGNORED, int(rng.integers(3, 7)), replace=False)
            yy, xx = np.mgrid[:height, :width]
            centres = rng.uniform(0, 1, (len(stuff), 2)) * [height, width]
            nearest = np.argmin((yy[..., None] - centres[:, 0]) ** 2 + (xx[..., None] - centres[:, 1]) ** 2, axis=-1)
            label = np.asarray(stuff, np.uint16)[nearest]
            counters: dict[int, int] = {}
            for _ in range(int(rng.integers(3, 25))):
                class_id = int(rng.choice(CITYSCAPES_THINGS + CITYSCAPES_IGNORED_THINGS))
                shape = _shape(rng, height, width)
                if rng.integers(6) == 0:
                    label[shape] = class_id  # a crowd region
                else:
                    counters[class_id] = counters.get(class_id, -1) + 1
                    label[shape] = 1000 * class_id + counters[class_id]
            name = f"{city}_{frame:06d}_{19 + 7 * frame:06d}"
            Image.fromarray(label.astype(np.uint16)).save(root / city / f"{name}_gtFine_instanceIds.png")
            Image.fromarray((label % 256).astype(np.uint8)).save(root / city / f"{name}_gtFine_labelIds.png")
    return root
