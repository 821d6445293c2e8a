"""Dataset evaluation: many image pairs read from PNG folders, evaluated in parallel in Rust."""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

from fastpq import _core
from fastpq._segments import flatten
from fastpq.image import category_array, stat_from_rows
from fastpq.stats import PQStat

#: Called after each batch with (images done, images in all).
ProgressCallback = Callable[[int, int], None]


def evaluate_pairs(
    pairs: Sequence[tuple[Mapping[str, Any], Mapping[str, Any]]],
    gt_folder: str | os.PathLike[str],
    pred_folder: str | os.PathLike[str],
    categories: Mapping[int, Any],
    *,
    num_threads: int | None = None,
    progress: ProgressCallback | None = None,
) -> PQStat:
    """Evaluate (ground truth, prediction) annotation pairs whose PNGs lie in two folders.

    Parameters
    ----------
    pairs : sequence of (dict, dict)
        COCO panoptic annotations (``image_id``, ``file_name``, ``segments_info``), matched.
    gt_folder, pred_folder : path
        Folders holding the ``file_name`` PNGs.
    categories : mapping
        Category id to record; predicted categories must be among them.
    num_threads : int, optional
        Worker threads; all cores by default (``RAYON_NUM_THREADS`` is respected).
    progress : callable, optional
        Called with (images done, images in all) as evaluation goes on.

    Returns
    -------
    PQStat
        Per-category totals, bit-identical whatever ``num_threads`` is: images are added in
        order, as panopticapi's single-process evaluation adds them.
    """
    if num_threads is not None and (not isinstance(num_threads, int) or num_threads < 1):
        raise ValueError(f"num_threads must be a positive integer or None, got {num_threads!r}")
    image_ids = [str(gt["image_id"]) for gt, _ in pairs]
    gt_paths = [os.path.join(gt_folder, _file_name(gt, i, "ground-truth")) for i, (gt, _) in enumerate(pairs)]
    pred_paths = [os.path.join(pred_folder, _file_name(p, i, "predicted")) for i, (_, p) in enumerate(pairs)]
    gt_offsets, gt_columns = flatten([_segments(gt) for gt, _ in pairs], image_ids, "ground-truth")
    pred_offsets, pred_columns = flatten([_segments(p) for _, p in pairs], image_ids, "predicted")
    known = category_array(categories)

    rows: list[tuple[int, float, int, int, int]] = []
    total = len(pairs)
    # One call when nobody watches; otherwise batches, so progress shows and Ctrl-C is honoured
    # between them. The running totals go back in, so batching does not change the sums.
    step = total if progress is None else max(64, total // 200)
    for start in range(0, max(total, 1), max(step, 1)):
        stop = min(start + step, total)
        g0, g1, p0, p1 = gt_offsets[start], gt_offsets[stop], pred_offsets[start], pred_offsets[stop]
        rows = _core.evaluate_files(
            image_ids[start:stop],
            gt_paths[start:stop],
            pred_paths[start:stop],
            (gt_offsets[start : stop + 1] - g0).tolist(),
            tuple(column[g0:g1] for column in gt_columns),
            (pred_offsets[start : stop + 1] - p0).tolist(),
            tuple(column[p0:p1] for column in pred_columns),
            known,
            rows,
            num_threads,
        )
        if progress is not None:
            progress(stop, total)
    return stat_from_rows(rows)


def load_json(path: str | os.PathLike[str], what: str) -> dict[str, Any]:
    """Read a COCO panoptic JSON file; errors name the file."""
    try:
        with open(path, encoding="utf-8") as f:
            data = json.load(f)
    except FileNotFoundError:
        raise FileNotFoundError(f"{what} JSON file {path} does not exist") from None
    except (json.JSONDecodeError, UnicodeDecodeError) as error:
        raise ValueError(f"{what} JSON file {path} is not valid JSON: {error}") from None
    if not isinstance(data, dict) or not isinstance(data.get("annotations"), list):
        raise ValueError(f"{what} JSON file {path} has no 'annotations' list")
    return data


def check_folder(folder: str | os.PathLike[str], message: str) -> None:
    if not Path(folder).is_dir():
        raise FileNotFoundError(message)


def _file_name(annotation: Mapping[str, Any], index: int, side: str) -> str:
    try:
        return annotation["file_name"]
    except (KeyError, TypeError):
        image = annotation.get("image_id", f"#{index}") if isinstance(annotation, Mapping) else f"#{index}"
        raise KeyError(f"In the image with ID {image} the {side} annotation has no 'file_name'") from None


def _segments(annotation: Mapping[str, Any]) -> Sequence[Mapping[str, Any]]:
    segments = annotation.get("segments_info")
    if not isinstance(segments, list):
        raise ValueError(f"In the image with ID {annotation.get('image_id')} 'segments_info' is not a list")
    return segments
