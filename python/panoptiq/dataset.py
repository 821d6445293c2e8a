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


def evaluate_pairs(
    pairs: Sequence[tuple[Mapping[str, Any], Mapping[str, Any]]],
    gt_folder: str | os.PathLike[str],
    pred_folder: str | os.PathLike[str],
    categories: Mapping[int, Any],
    *,
    num_threads: int | None = None,
    progress: ProgressCallback | None = None,
    json_files: tuple[str, str] | None = None,
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
    json_files : (str, str), optional
        The ground-truth and prediction JSON files the annotations came from, named in errors.

    Returns
    -------
    PQStat
        Per-category totals, bit-identical whatever ``num_threads`` is: IoU sums are exact
        until rounded once, so each is the correctly rounded sum of the images' IoUs.
    """
    _check_threads(num_threads)
    gt_json, pred_json = json_files if json_files is not None else (None, None)
    image_ids = [str(gt["image_id"]) for gt, _ in pairs]
    gt_paths = [os.path.join(gt_folder, _file_name(gt, i, "ground-truth", gt_json)) for i, (gt, _) in enumerate(pairs)]
    pred_paths = [os.path.join(pred_folder, _file_name(p, i, "predicted", pred_json)) for i, (_, p) in enumerate(pairs)]
    gt_segments = [_segments(gt, "ground-truth", gt_json) for gt, _ in pairs]
    pred_segments = [_segments(p, "predicted", pred_json) for _, p in pairs]
    gt_offsets, gt_columns = flatten(gt_segments, image_ids, "ground-truth", gt_json)
    pred_offsets, pred_columns = flatten(pred_segments, image_ids, "predicted", pred_json)
    known = category_array(categories)

    def run(start: int, stop: int, totals: _core.Totals) -> None:
        g0, g1, p0, p1 = gt_offsets[start], gt_offsets[stop], pred_offsets[start], pred_offsets[stop]
        _core.evaluate_files(
            image_ids[start:stop],
            gt_paths[start:stop],
            pred_paths[start:stop],
            (gt_offsets[start : stop + 1] - g0).tolist(),
            tuple(column[g0:g1] for column in gt_columns),
            (pred_offsets[start : stop + 1] - p0).tolist(),
            tuple(column[p0:p1] for column in pred_columns),
            known,
            totals,
            num_threads,
            json_files,
        )

    return _in_batches(len(pairs), run, progress)


def _in_batches(total: int, run: Callable[[int, int, _core.Totals], None], progress: ProgressCallback | None) -> PQStat:
    """Evaluate pairs ``0..total`` with ``run(start, stop, totals)``, which adds to ``totals``.

    One call when nobody watches; otherwise batches, so that progress shows. (Ctrl-C stops a
    call under way either way.) IoU sums are exact until the end, so batching and thread
    counts do not change a bit of the result.
    """
    totals = _core.Totals()
    step = total if progress is None else max(64, total // 200)
    for start in range(0, max(total, 1), max(step, 1)):
        stop = min(start + step, total)
        run(start, stop, totals)
        if progress is not None:
            progress(stop, total)
    return stat_from_rows(totals.rows())


def _check_threads(num_threads: int | None) -> None:
    if num_threads is not None and (not isinstance(num_threads, int) or num_threads < 1):
        raise ValueError(f"num_threads must be a positive integer or None, got {num_threads!r}")


def default_threads() -> int:
    """Threads used when ``num_threads`` is None: ``RAYON_NUM_THREADS`` if set, else the CPUs this
    process may use (its CPU affinity and cgroup quota honoured, as in a container)."""
    return _core.default_threads()


def load_json(path: str | os.PathLike[str], what: str) -> dict[str, Any]:
    """Read a COCO panoptic JSON file; errors name the file and ``what`` it is."""
    try:
        with open(path, encoding="utf-8") as f:
            data = json.load(f)
    except FileNotFoundError:
        raise FileNotFoundError(f"{what} JSON file {path} does not exist") from None
    except IsADirectoryError:
        side = "gt" if what == "ground truth" else "pred"
        raise IsADirectoryError(
            f"{what} JSON file {path} is a folder; pass the JSON file as {side}_json_file and the folder "
            f"of its PNGs as {side}_folder (--{side}-folder on the command line)"
        ) from None
    except (ValueError, RecursionError) as error:
        # ValueError: malformed JSON, bad UTF-8, integers past Python's digit limit;
        # RecursionError: nesting deeper than the interpreter's stack allows.
        reason = "it nests too deeply" if isinstance(error, RecursionError) else error
        raise ValueError(f"{what} JSON file {path} is not valid JSON: {reason}") from None
    if not isinstance(data, dict):
        raise ValueError(f"{what} JSON file {path} holds a {_json_type(data)}, not an object with 'annotations'")
    require_list(data, "annotations", f"{what} JSON file {path}")
    return data


def require_list(data: Mapping[str, Any], key: str, where: str) -> None:
    """``data[key]`` must be a list: a missing key and a value of another type are told apart."""
    if key not in data:
        raise ValueError(f"{where} is missing '{key}'")
    if not isinstance(data[key], list):
        raise ValueError(f"{where} has a '{key}' that is a {_json_type(data[key])}, not a list")


def _json_type(value: Any) -> str:
    names = {dict: "JSON object", list: "list", str: "string", bool: "boolean", type(None): "null"}
    return names.get(type(value), "number")


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
    json_files: tuple[str, str] | None = None

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
                json_files=self.json_files,
            )
        _check_threads(num_threads)
        annotations, known = self.annotations, category_array(self.categories)
        return _in_batches(
            len(annotations),
            lambda start, stop, totals: annotations.evaluate(start, stop, known, totals, num_threads),
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
        require_list(gt_json, "categories", f"ground truth JSON file {gt_json_file}")
        category_list = gt_json["categories"]
    categories = _category_table(category_list, gt_json_file)

    say("Evaluation panoptic segmentation metrics:")
    say("Ground truth:")
    say(f"\tSegmentation folder: {gt_folder}")
    say(f"\tJSON file: {gt_json_file}")
    say("Prediction:")
    say(f"\tSegmentation folder: {pred_folder}")
    say(f"\tJSON file: {pred_json_file}")
    for folder, what in ((gt_folder, "ground truth"), (pred_folder, "predicted")):
        _check_folder(folder, what)
    json_files = (gt_json_file, pred_json_file)
    if annotations is not None:
        return Dataset(None, categories, gt_folder, pred_folder, annotations, json_files)

    # Later predictions of the same image replace earlier ones, as in panopticapi's dict.
    predictions = {}
    for position, annotation in enumerate(pred_json["annotations"]):
        predictions[_image_id(annotation, position, "predicted", pred_json_file)] = annotation
    pairs, missing = [], []
    for position, gt_ann in enumerate(gt_json["annotations"]):
        image_id = _image_id(gt_ann, position, "ground-truth", gt_json_file)
        if image_id in predictions:
            pairs.append((gt_ann, predictions[image_id]))
        else:
            missing.append(gt_ann)
    if missing:
        raise MissingPredictionError(_missing_message(missing, len(pairs), predictions, gt_folder, pred_json_file))
    return Dataset(pairs, categories, gt_folder, pred_folder, None, json_files)


def _check_folder(folder: str, what: str) -> None:
    """A PNG folder must be a folder: say what it is instead (an archive, a file, nothing)."""
    path = Path(folder)
    if path.is_dir():
        return
    if path.is_file():
        archive = _archive_kind(path)
        if archive:
            raise NotADirectoryError(
                f"Folder {folder} with {what} segmentations is a {archive} archive: this version of panoptiq "
                "reads PNG folders from disk only; extract the archive and pass the extracted folder"
            )
        raise NotADirectoryError(f"Folder {folder} with {what} segmentations is a file, not a folder")
    beside = [p.name for p in (path.with_name(path.name + ext) for ext in _ARCHIVE_EXTENSIONS) if p.is_file()]
    hint = f" ({beside[0]} is beside it: extract it there)" if beside else ""
    raise FileNotFoundError(f"Folder {folder} with {what} segmentations doesn't exist{hint}")


_ARCHIVE_EXTENSIONS = (".zip", ".tar", ".tar.gz", ".tgz", ".tar.bz2", ".tar.xz")


def _archive_kind(path: Path) -> str | None:
    import tarfile
    import zipfile

    if zipfile.is_zipfile(path):
        return "zip"
    try:
        return "tar" if tarfile.is_tarfile(path) else None
    except OSError:
        return None


def _category_table(category_list: Sequence[Any], source: str) -> dict[Any, dict[str, Any]]:
    """Category id to record, as panopticapi keys them; records are checked, errors name the file."""
    table = {}
    for position, category in enumerate(category_list):
        if not isinstance(category, dict):
            raise ValueError(f"category #{position} in {source} is a {_json_type(category)}, not a JSON object")
        if "id" not in category:
            raise KeyError(f"category #{position} in {source} is missing 'id'")
        if not isinstance(category["id"], int) or isinstance(category["id"], bool):
            raise ValueError(f"category #{position} in {source} has an id that is not an integer: {category['id']!r}")
        table[category["id"]] = category
    return table


def _image_id(annotation: Any, position: int, side: str, source: str) -> Any:
    if not isinstance(annotation, Mapping):
        raise ValueError(f"{side} annotation #{position} in {source} is a {_json_type(annotation)}, not a JSON object")
    if "image_id" not in annotation:
        raise KeyError(f"{side} annotation #{position} in {source} is missing 'image_id'")
    image_id = annotation["image_id"]
    if not isinstance(image_id, (int, str, float)):
        raise ValueError(f"{side} annotation #{position} in {source} has an image_id that is a {_json_type(image_id)}")
    return image_id


def _missing_message(
    missing: Sequence[Mapping[str, Any]],
    matched: int,
    predictions: Mapping[Any, Any],
    gt_folder: str,
    pred_json_file: str,
) -> str:
    """panopticapi's "no prediction for the image with id: X", with how many, which, and why."""
    first = missing[0]
    image_id = first["image_id"]
    where = f"ground truth {os.path.join(gt_folder, str(first.get('file_name', '?')))}"
    if len(missing) == 1:
        message = (
            f"no prediction for the image with id: {image_id} "
            f"({where}; {pred_json_file} has no annotation with this image_id)"
        )
    else:
        shown = ", ".join(str(a["image_id"]) for a in missing[:5])
        more = ", ..." if len(missing) > 5 else ""
        message = (
            f"no prediction for the image with id: {image_id} ({where}), nor for {len(missing) - 1} more: "
            f"{len(missing)} of {len(missing) + matched} ground-truth images have no annotation in "
            f"{pred_json_file} (image ids {shown}{more})"
        )
    by_text = {str(key): key for key in predictions}
    mistyped = next((a["image_id"] for a in missing if str(a["image_id"]) in by_text), None)
    if mistyped is not None:
        theirs = by_text[str(mistyped)]
        message += (
            f". {pred_json_file} has image_id {theirs!r} ({type(theirs).__name__}) where the ground truth has "
            f"{mistyped!r} ({type(mistyped).__name__}): image ids must match in type as well as value"
        )
    return message


def _file_name(annotation: Mapping[str, Any], index: int, side: str, source: str | None = None) -> str:
    where = f" in {source}" if source is not None else ""
    try:
        return annotation["file_name"]
    except (KeyError, TypeError):
        image = annotation.get("image_id", f"#{index}") if isinstance(annotation, Mapping) else f"#{index}"
        raise KeyError(f"In the image with ID {image} the {side} annotation{where} is missing 'file_name'") from None


def _segments(annotation: Mapping[str, Any], side: str, source: str | None = None) -> Sequence[Mapping[str, Any]]:
    where = f" in {source}" if source is not None else ""
    if "segments_info" not in annotation:
        raise KeyError(
            f"In the image with ID {annotation.get('image_id')} the {side} annotation{where} is missing 'segments_info'"
        )
    segments = annotation["segments_info"]
    if not isinstance(segments, list):
        raise ValueError(
            f"In the image with ID {annotation.get('image_id')} the {side} annotation{where} has a "
            f"'segments_info' that is a {type(segments).__name__}, not a list"
        )
    return segments
