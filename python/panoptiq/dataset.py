"""Dataset evaluation: many image pairs read from PNG folders, evaluated in parallel in Rust."""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from panoptiq import _core
from panoptiq._segments import flatten
from panoptiq.boundary import BoundaryOptions
from panoptiq.errors import MissingPredictionError
from panoptiq.image import category_array, stat_from_rows
from panoptiq.stats import PQStat
from panoptiq.storage import Folder, Location, batches, is_url, local, open_folder, read_file

#: Called after each batch with (images done, images in all).
ProgressCallback = Callable[[int, int], None]
#: One category's totals as the core returns them: (category_id, iou, tp, fp, fn).


@dataclass
class Columns:
    """Image pairs as the Rust core takes them: image ids, PNG paths, and each side's segments as
    columns (``offsets[i]:offsets[i + 1]`` are image ``i``'s). Picklable: it is what a cluster's
    workers are sent. Has the methods of ``_core.Annotations`` that evaluation uses."""

    image_ids: list[str]
    gt_paths: list[str]
    pred_paths: list[str]
    gt_offsets: np.ndarray
    gt: tuple[np.ndarray, ...]
    pred_offsets: np.ndarray
    pred: tuple[np.ndarray, ...]
    json_files: tuple[str, str] | None = None

    def __len__(self) -> int:
        return len(self.image_ids)

    def paths(self, start: int, stop: int) -> tuple[list[str], list[str]]:
        return self.gt_paths[start:stop], self.pred_paths[start:stop]

    def ids(self, start: int, stop: int) -> list[str]:
        return self.image_ids[start:stop]

    def columns(self, start: int, stop: int) -> Columns:
        """Pairs ``start:stop``, their segment offsets starting at 0."""
        stop = min(stop, len(self))
        start = min(start, stop)
        g0, g1, p0, p1 = (
            self.gt_offsets[start],
            self.gt_offsets[stop],
            self.pred_offsets[start],
            self.pred_offsets[stop],
        )
        return Columns(
            self.image_ids[start:stop],
            self.gt_paths[start:stop],
            self.pred_paths[start:stop],
            self.gt_offsets[start : stop + 1] - g0,
            tuple(column[g0:g1] for column in self.gt),
            self.pred_offsets[start : stop + 1] - p0,
            tuple(column[p0:p1] for column in self.pred),
            self.json_files,
        )

    def evaluate(
        self,
        start: int,
        stop: int,
        known: np.ndarray,
        totals: _core.Totals,
        num_threads: int | None,
        gt_from: Any = None,
        pred_from: Any = None,
        details: bool = False,
        boundary: BoundaryOptions | None = None,
    ) -> Any:
        """Evaluate pairs ``start:stop`` into ``totals``; PNGs from ``gt_from`` / ``pred_from``;
        with ``details``, their per-image and per-segment rows; with ``boundary``, Boundary
        PQ's IoU."""
        part = self.columns(start, stop)
        return _core.evaluate_files(
            part.image_ids,
            part.gt_paths,
            part.pred_paths,
            part.gt_offsets.tolist(),
            part.gt,
            part.pred_offsets.tolist(),
            part.pred,
            known,
            totals,
            num_threads,
            self.json_files,
            gt_from,
            pred_from,
            details,
            boundary,
        )

    @classmethod
    def from_annotations(
        cls, annotations: _core.Annotations, start: int, stop: int, json_files: tuple[str, str]
    ) -> Columns:
        ids, gt_paths, pred_paths, gt_offsets, gt, pred_offsets, pred = annotations.columns(start, stop)
        return cls(ids, gt_paths, pred_paths, np.asarray(gt_offsets), gt, np.asarray(pred_offsets), pred, json_files)

    @classmethod
    def from_pairs(
        cls,
        pairs: Sequence[tuple[Mapping[str, Any], Mapping[str, Any]]],
        gt_folder: str,
        pred_folder: str,
        json_files: tuple[str, str] | None = None,
    ) -> Columns:
        """Columns of matched annotation dicts, checked; errors name the image, segment and file."""
        gt_json, pred_json = json_files if json_files is not None else (None, None)
        image_ids = [str(gt["image_id"]) for gt, _ in pairs]
        gt_paths = [_join(gt_folder, _file_name(gt, i, "ground-truth", gt_json)) for i, (gt, _) in enumerate(pairs)]
        pred_paths = [_join(pred_folder, _file_name(p, i, "predicted", pred_json)) for i, (_, p) in enumerate(pairs)]
        gt_segments = [_segments(gt, "ground-truth", gt_json) for gt, _ in pairs]
        pred_segments = [_segments(p, "predicted", pred_json) for _, p in pairs]
        gt_offsets, gt_columns = flatten(gt_segments, image_ids, "ground-truth", gt_json)
        pred_offsets, pred_columns = flatten(pred_segments, image_ids, "predicted", pred_json)
        return cls(image_ids, gt_paths, pred_paths, gt_offsets, gt_columns, pred_offsets, pred_columns, json_files)


def _join(folder: str, name: str) -> str:
    # URLs keep their slashes; local paths join as the OS joins them.
    return f"{folder.rstrip('/')}/{name}" if is_url(folder) else os.path.join(folder, name)


def evaluate_pairs(
    pairs: Sequence[tuple[Mapping[str, Any], Mapping[str, Any]]],
    gt_folder: str | os.PathLike[str],
    pred_folder: str | os.PathLike[str],
    categories: Mapping[int, Any],
    *,
    num_threads: int | None = None,
    progress: ProgressCallback | None = None,
    json_files: tuple[str, str] | None = None,
    storage_options: Mapping[str, Any] | None = None,
    boundary: BoundaryOptions | None = None,
) -> PQStat:
    """Evaluate (ground truth, prediction) annotation pairs whose PNGs lie in two folders.

    Parameters
    ----------
    pairs : sequence of (dict, dict)
        COCO panoptic annotations (``image_id``, ``file_name``, ``segments_info``), matched.
    gt_folder, pred_folder : path or URL
        Folders holding the ``file_name`` PNGs: on disk, inside a zip or tar archive
        (``val.zip/panoptic_val2017``), or an fsspec URL.
    categories : mapping
        Category id to record; predicted categories must be among them.
    num_threads : int, optional
        Worker threads; all cores by default (``RAYON_NUM_THREADS`` is respected).
    progress : callable, optional
        Called with (images done, images in all) as evaluation goes on.
    json_files : (str, str), optional
        The ground-truth and prediction JSON files the annotations came from, named in errors.
    storage_options : mapping, optional
        fsspec options for URL folders (credentials, endpoint).
    boundary : BoundaryOptions, optional
        Boundary PQ's options (:func:`panoptiq.boundary.boundary_options`); mask IoU when None.

    Returns
    -------
    PQStat
        Per-category totals, bit-identical whatever ``num_threads`` is: IoU sums are exact
        until rounded once, so each is the correctly rounded sum of the images' IoUs.
    """
    _check_threads(num_threads)
    options = dict(storage_options or {})
    gt_folder, pred_folder = local(os.fspath(gt_folder)), local(os.fspath(pred_folder))
    gt = open_folder(Location(gt_folder, options), "ground truth")
    pred = open_folder(Location(pred_folder, options), "predicted")
    columns = Columns.from_pairs(pairs, gt_folder, pred_folder, json_files)
    totals = evaluate_all(columns, gt, pred, category_array(categories), num_threads, progress, None, boundary)
    return stat_from_rows(totals.rows())


#: Pairs fetched from object storage per batch: enough requests in flight to hide latency, few
#: enough that a handful of batches in memory stays small.
REMOTE_BATCH = 256


def evaluate_all(
    pairs: _core.Annotations | Columns,
    gt: Folder,
    pred: Folder,
    known: np.ndarray,
    num_threads: int | None,
    progress: ProgressCallback | None,
    details: tuple[list[Any], list[Any]] | None = None,
    boundary: BoundaryOptions | None = None,
) -> _core.Totals:
    """Evaluate every pair of ``pairs`` into fresh totals; with ``details`` (two lists), append
    the per-image and per-segment rows to them; with ``boundary``, Boundary PQ.

    One call when the PNGs are local and nobody watches; otherwise batches, so that progress
    shows and remote PNGs are fetched a few batches ahead. (Ctrl-C stops a call under way
    either way.) IoU sums are exact until the end, so batching and thread counts do not change a
    bit of the result.
    """
    total = len(pairs)
    if gt.remote is not None or pred.remote is not None:
        step = min(REMOTE_BATCH, max(total, 1))
    else:
        step = max(total, 1) if progress is None else max(64, total // 200)
    totals = _core.Totals()
    for start, stop, gt_from, pred_from in batches(total, step, gt, pred, pairs.paths, pairs.ids):
        rows = pairs.evaluate(
            start, stop, known, totals, num_threads, gt_from, pred_from, details is not None, boundary
        )
        if details is not None:
            details[0].extend(rows[0])
            details[1].extend(rows[1])
        if progress is not None:
            progress(stop, total)
    return totals


def _check_threads(num_threads: int | None) -> None:
    if num_threads is not None and (not isinstance(num_threads, int) or num_threads < 1):
        raise ValueError(f"num_threads must be a positive integer or None, got {num_threads!r}")


def default_threads() -> int:
    """Threads used when ``num_threads`` is None: ``RAYON_NUM_THREADS`` if set, else the CPUs this
    process may use (its CPU affinity and cgroup quota honoured, as in a container)."""
    return _core.default_threads()


def load_json(path: str | os.PathLike[str] | Location, what: str) -> dict[str, Any]:
    """Read a COCO panoptic JSON file (on disk, in an archive or at a URL); errors name the file
    and ``what`` it is."""
    location = path if isinstance(path, Location) else Location(os.fspath(path))
    return parse_json(read_json_bytes(location, what), location.path, what)


def read_json_bytes(location: Location, what: str) -> bytes:
    """The bytes of a JSON file; a missing file or a folder is told apart and named."""
    path = location.path
    try:
        return read_file(location, f"{what} JSON file")
    except FileNotFoundError:
        raise FileNotFoundError(f"{what} JSON file {path} does not exist") from None
    except IsADirectoryError:
        side = "gt" if what == "ground truth" else "pred"
        raise IsADirectoryError(
            f"{what} JSON file {path} is a folder; pass the JSON file as {side}_json_file and the folder "
            f"of its PNGs as {side}_folder (--{side}-folder on the command line)"
        ) from None


def parse_json(text: bytes, path: str, what: str) -> dict[str, Any]:
    try:
        data = json.loads(text)
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
    gt: Folder
    pred: Folder
    annotations: _core.Annotations | None = None
    json_files: tuple[str, str] | None = None
    _columns: Columns | None = None

    def __len__(self) -> int:
        return len(self.annotations) if self.annotations is not None else len(self.pairs or ())

    @property
    def gt_folder(self) -> str:
        return self.gt.root

    @property
    def pred_folder(self) -> str:
        return self.pred.root

    def source(self) -> _core.Annotations | Columns:
        """The pairs in the form evaluation takes (checked columns, built once, for dict pairs)."""
        if self.annotations is not None:
            return self.annotations
        if self._columns is None:
            self._columns = Columns.from_pairs(self.pairs or [], self.gt_folder, self.pred_folder, self.json_files)
        return self._columns

    def columns(self, start: int, stop: int) -> Columns:
        """Pairs ``start:stop`` as picklable columns (what a cluster's workers are sent)."""
        source = self.source()
        if isinstance(source, Columns):
            return source.columns(start, stop)
        return Columns.from_annotations(source, start, stop, self.json_files or ("", ""))

    def evaluate(
        self,
        *,
        num_threads: int | None = None,
        progress: ProgressCallback | None = None,
        details: tuple[list[Any], list[Any]] | None = None,
        boundary: BoundaryOptions | None = None,
    ) -> PQStat:
        """Evaluate every pair; see :func:`evaluate_pairs` for the parameters and
        :func:`evaluate_all` for ``details``."""
        totals = self.totals(num_threads=num_threads, progress=progress, details=details, boundary=boundary)
        return stat_from_rows(totals.rows())

    def totals(
        self,
        *,
        num_threads: int | None = None,
        progress: ProgressCallback | None = None,
        details: tuple[list[Any], list[Any]] | None = None,
        boundary: BoundaryOptions | None = None,
    ) -> _core.Totals:
        """Like :meth:`evaluate`, as the core's exact totals; ``details`` as in :func:`evaluate_all`."""
        _check_threads(num_threads)
        known = category_array(self.categories)
        return evaluate_all(self.source(), self.gt, self.pred, known, num_threads, progress, details, boundary)


def load_dataset(
    gt_json_file: str | os.PathLike[str],
    pred_json_file: str | os.PathLike[str],
    gt_folder: str | os.PathLike[str] | None = None,
    pred_folder: str | os.PathLike[str] | None = None,
    say: Callable[[str], None] = lambda _: None,
    num_threads: int | None = None,
    storage_options: Mapping[str, Any] | None = None,
) -> Dataset:
    """Read both JSON files and match predictions to ground-truth images, as panopticapi does.

    Files and folders may be on disk, inside zip or tar archives, or fsspec URLs (opened with
    ``storage_options``). Folders default to the JSON path without ``.json``. ``say`` receives
    panopticapi's description of the inputs, line by line. Files in the strict form COCO and
    panoptic models write are read in Rust; anything else is read here, which explains what it
    refuses.
    """
    gt_json_file, pred_json_file = local(os.fspath(gt_json_file)), local(os.fspath(pred_json_file))
    gt_folder = gt_json_file.replace(".json", "") if gt_folder is None else local(os.fspath(gt_folder))
    pred_folder = pred_json_file.replace(".json", "") if pred_folder is None else local(os.fspath(pred_folder))
    _check_threads(num_threads)
    options = dict(storage_options or {})
    gt_location, pred_location = Location(gt_json_file, options), Location(pred_json_file, options)
    gt_text = pred_text = None
    if all(not is_url(p) and Path(p).is_file() for p in (gt_json_file, pred_json_file)):
        annotations = _core.load_annotations(gt_json_file, pred_json_file, gt_folder, pred_folder, num_threads)
    else:
        gt_text = read_json_bytes(gt_location, "ground truth")
        pred_text = read_json_bytes(pred_location, "prediction")
        annotations = _core.parse_annotations(
            gt_text, pred_text, gt_json_file, pred_json_file, gt_folder, pred_folder, num_threads
        )
    if annotations is not None:
        category_list = json.loads(annotations.categories_json)
    else:
        gt_json = (
            load_json(gt_location, "ground truth")
            if gt_text is None
            else parse_json(gt_text, gt_json_file, "ground truth")
        )
        pred_json = (
            load_json(pred_location, "prediction")
            if pred_text is None
            else parse_json(pred_text, pred_json_file, "prediction")
        )
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
    gt = open_folder(Location(gt_folder, options), "ground truth")
    pred = open_folder(Location(pred_folder, options), "predicted")
    json_files = (gt_json_file, pred_json_file)
    if annotations is not None:
        return Dataset(None, categories, gt, pred, annotations, json_files)

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
    return Dataset(pairs, categories, gt, pred, None, json_files)


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
