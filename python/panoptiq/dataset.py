"""Dataset evaluation: many image pairs read from PNG folders, evaluated in parallel in Rust."""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from panoptiq import _core
from panoptiq._segments import flatten
from panoptiq.errors import MissingPredictionError
from panoptiq.image import category_array, stat_from_rows
from panoptiq.stats import PQStat

#: Called after each batch with (images done, images in all).
ProgressCallback = Callable[[int, int], None]
#: One category's totals as the core returns them: (category_id, iou, tp, fp, fn).
StatRow = tuple[int, float, int, int, int]


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
    _check_threads(num_threads)
    image_ids = [str(gt["image_id"]) for gt, _ in pairs]
    gt_paths = [os.path.join(gt_folder, _file_name(gt, i, "ground-truth")) for i, (gt, _) in enumerate(pairs)]
    pred_paths = [os.path.join(pred_folder, _file_name(p, i, "predicted")) for i, (_, p) in enumerate(pairs)]
    gt_offsets, gt_columns = flatten([_segments(gt) for gt, _ in pairs], image_ids, "ground-truth")
    pred_offsets, pred_columns = flatten([_segments(p) for _, p in pairs], image_ids, "predicted")
    known = category_array(categories)

    def run(start: int, stop: int, rows: list[StatRow]) -> list[StatRow]:
        g0, g1, p0, p1 = gt_offsets[start], gt_offsets[stop], pred_offsets[start], pred_offsets[stop]
        return _core.evaluate_files(
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

    return _in_batches(len(pairs), run, progress)


def _in_batches(
    total: int, run: Callable[[int, int, list[StatRow]], list[StatRow]], progress: ProgressCallback | None
) -> PQStat:
    """Evaluate pairs ``0..total`` with ``run(start, stop, totals so far)``.

    One call when nobody watches; otherwise batches, so progress shows and Ctrl-C is honoured
    between them. The running totals go back in, so batching does not change the sums.
    """
    rows: list[StatRow] = []
    step = total if progress is None else max(64, total // 200)
    for start in range(0, max(total, 1), max(step, 1)):
        stop = min(start + step, total)
        rows = run(start, stop, rows)
        if progress is not None:
            progress(stop, total)
    return stat_from_rows(rows)


def _check_threads(num_threads: int | None) -> None:
    if num_threads is not None and (not isinstance(num_threads, int) or num_threads < 1):
        raise ValueError(f"num_threads must be a positive integer or None, got {num_threads!r}")


def default_threads() -> int:
    """Threads used when ``num_threads`` is None: ``RAYON_NUM_THREADS`` if set, else all cores."""
    try:
        threads = int(os.environ.get("RAYON_NUM_THREADS", "0"))
    except ValueError:
        threads = 0
    return threads if threads > 0 else (os.cpu_count() or 1)


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


@dataclass
class Dataset:
    """A ground truth and a prediction in COCO panoptic format, matched image by image.

    The pairs are held either as Python dicts (``pairs``) or, when both files were in the strict
    form the Rust reader takes, by the Rust core (``annotations``, ``pairs`` is then None).
    """

    pairs: list[tuple[dict[str, Any], dict[str, Any]]] | None
    categories: dict[int, dict[str, Any]]
    gt_folder: str
    pred_folder: str
    annotations: _core.Annotations | None = None

    def __len__(self) -> int:
        return len(self.annotations) if self.annotations is not None else len(self.pairs or ())

    def evaluate(self, *, num_threads: int | None = None, progress: ProgressCallback | None = None) -> PQStat:
        """Evaluate every pair; see :func:`evaluate_pairs` for the parameters."""
        if self.annotations is None:
            return evaluate_pairs(
                self.pairs or [],
                self.gt_folder,
                self.pred_folder,
                self.categories,
                num_threads=num_threads,
                progress=progress,
            )
        _check_threads(num_threads)
        annotations, known = self.annotations, category_array(self.categories)
        return _in_batches(
            len(annotations),
            lambda start, stop, rows: annotations.evaluate(start, stop, known, rows, num_threads),
            progress,
        )


def load_dataset(
    gt_json_file: str | os.PathLike[str],
    pred_json_file: str | os.PathLike[str],
    gt_folder: str | None = None,
    pred_folder: str | None = None,
    say: Callable[[str], None] = lambda _: None,
    num_threads: int | None = None,
) -> Dataset:
    """Read both JSON files and match predictions to ground-truth images, as panopticapi does.

    Folders default to the JSON path without ``.json``. ``say`` receives panopticapi's
    description of the inputs, line by line. Files in the strict form COCO and panoptic models
    write are read in Rust; anything else is read here, which explains what it refuses.
    """
    gt_json_file, pred_json_file = os.fspath(gt_json_file), os.fspath(pred_json_file)
    if gt_folder is None:
        gt_folder = gt_json_file.replace(".json", "")
    if pred_folder is None:
        pred_folder = pred_json_file.replace(".json", "")
    _check_threads(num_threads)
    annotations = _core.load_annotations(gt_json_file, pred_json_file, gt_folder, pred_folder, num_threads)
    if annotations is not None:
        category_list = json.loads(annotations.categories_json)
    else:
        gt_json = load_json(gt_json_file, "ground truth")
        pred_json = load_json(pred_json_file, "prediction")
        if not isinstance(gt_json.get("categories"), list):
            raise ValueError(f"ground truth JSON file {gt_json_file} has no 'categories' list")
        category_list = gt_json["categories"]
    categories = {el["id"]: el for el in category_list}

    say("Evaluation panoptic segmentation metrics:")
    say("Ground truth:")
    say(f"\tSegmentation folder: {gt_folder}")
    say(f"\tJSON file: {gt_json_file}")
    say("Prediction:")
    say(f"\tSegmentation folder: {pred_folder}")
    say(f"\tJSON file: {pred_json_file}")
    for folder, what in ((gt_folder, "ground truth"), (pred_folder, "predicted")):
        if not Path(folder).is_dir():
            raise FileNotFoundError(f"Folder {folder} with {what} segmentations doesn't exist")
    if annotations is not None:
        return Dataset(None, categories, gt_folder, pred_folder, annotations)

    # Later predictions of the same image replace earlier ones, as in panopticapi's dict.
    predictions = {el["image_id"]: el for el in pred_json["annotations"]}
    pairs = []
    for gt_ann in gt_json["annotations"]:
        image_id = gt_ann["image_id"]
        if image_id not in predictions:
            raise MissingPredictionError(
                f"no prediction for the image with id: {image_id} "
                f"(ground truth {os.path.join(gt_folder, gt_ann.get('file_name', '?'))}; "
                f"{pred_json_file} has no annotation with this image_id)"
            )
        pairs.append((gt_ann, predictions[image_id]))
    return Dataset(pairs, categories, gt_folder, pred_folder)


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
