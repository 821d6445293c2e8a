"""The error images of a report: each selected pair read again from wherever its PNGs are,
drawn over its photo when there is one, and written as PNG."""

from __future__ import annotations

import os
from concurrent.futures import Executor, Future
from dataclasses import dataclass
from pathlib import Path

import numpy as np

import panoptiq._core as _core
from panoptiq._dataset import Dataset
from panoptiq._storage import Folder
from panoptiq.visualize import error_image, read_photo, save_png

#: Photo names tried for an annotation ``name.png``, in this order (COCO's photos are JPEG).
PHOTO_SUFFIXES = (".jpg", ".jpeg", ".png", ".JPG", ".JPEG", ".PNG")


@dataclass(frozen=True)
class Picture:
    """An error image written for the report, or why it lacks its photo."""

    image_id: str
    file: str
    photo_note: str | None


def start_drawing(
    pool: Executor, dataset: Dataset, positions: list[int], out: Path, photos: str | None, prefix: str = ""
) -> list[Future[Picture]]:
    """Starts drawing the error image of each pair at ``positions`` into ``out`` on ``pool``; the
    files' names start with ``prefix`` (a comparison draws several sets' pairs into one folder)."""
    out.mkdir(parents=True, exist_ok=True)
    return [pool.submit(_draw_pair, dataset, position, out, photos, prefix) for position in positions]


def _draw_pair(dataset: Dataset, position: int, out: Path, photos: str | None, prefix: str) -> Picture:
    image_id, gt_path, pred_path, gt, pred = dataset.pairs.pair(position)
    gt_map = _read_map(dataset.gt, gt_path, image_id)
    pred_map = _read_map(dataset.pred, pred_path, image_id)
    gt_segments = [{"id": i, "category_id": c, "iscrowd": int(k), "area": a} for i, c, k, a in gt]
    pred_segments = [{"id": i, "category_id": c} for i, c in pred]
    photo, note = _find_photo(photos, gt_path, gt_map.shape)
    picture = error_image(
        gt_map, pred_map, gt_segments, pred_segments, dataset.categories, photo=photo, image_id=image_id
    )
    name = f"{prefix}{_safe(image_id)}-{position}.png"
    save_png(out / name, picture)
    return Picture(image_id, name, note)


def _read_map(folder: Folder, path: str, image_id: str) -> np.ndarray:
    if folder.remote is not None:
        data = folder.remote.fetch([path], [image_id])[0]
        return _core.read_id_map_png(path, data=data)
    if folder.source is not None:
        name = os.path.relpath(path, folder.root)
        return _core.read_id_map_png(path, data=bytes(folder.source.read(name)))
    return _core.read_id_map_png(path)


def _find_photo(photos: str | None, png_path: str, shape: tuple[int, ...]) -> tuple[np.ndarray | None, str | None]:
    """The photo of a pair from the folder ``photos``: the PNG's name with a photo suffix. A
    missing photo or one of another size is not an error: the picture is drawn without it and
    the note says why."""
    if photos is None:
        return None, None
    stem = Path(png_path.replace("\\", "/").rsplit("/", 1)[-1]).stem
    for suffix in PHOTO_SUFFIXES:
        candidate = Path(photos) / (stem + suffix)
        if candidate.is_file():
            try:
                return read_photo(candidate, shape), None
            except ValueError as error:
                return None, str(error)
            except OSError as error:  # unreadable or not an image Pillow knows
                return None, f"the photo {candidate} cannot be read: {error}"
    return None, f"no photo {stem}.jpg (or .jpeg, .png) in {photos}"


def _safe(image_id: str) -> str:
    return "".join(c if c.isalnum() or c in "-_." else "_" for c in image_id)[:80]
