"""A dataset: two COCO panoptic JSON files read and matched as panopticapi matches them, each
read once, their PNG folders resolved and opened once, and the pairs held by the Rust core
(:class:`panoptiq._core.Pairs`) and evaluated batch by batch with one options value."""

from __future__ import annotations

import json
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import panoptiq._core as _core
from panoptiq._json import (
    category_table,
    file_name_of,
    image_id_of,
    missing_message,
    parse_json,
    read_json_bytes,
    require_list,
    segments_of,
)
from panoptiq._mask_sides import MaskSides, carries_masks, fill_file_names, image_sizes, memory_folder
from panoptiq._options import Options, check_threads
from panoptiq._segments import flatten
from panoptiq._side import GT, PRED, Side
from panoptiq._storage import Folder, Location, MemoryFolder, batches, is_url, local, memory_root, open_folder
from panoptiq.errors import MissingPredictionError
from panoptiq.results._evaluation import Evaluation, core_categories
from panoptiq.results._rules import Rules

#: Pairs fetched from object storage per batch: enough requests in flight to hide latency, few
#: enough that a handful of batches in memory stays small.
REMOTE_BATCH = 256

#: Pairs whose masks are converted for the core at a time.
MASK_BATCH = 512


@dataclass
class Dataset:
    """A ground truth and a prediction in COCO panoptic format, matched image by image.

    ``pairs`` is the Rust core's table of the matched pairs (read by the Rust JSON reader, or
    built once from the pairs Python's reader checked); ``categories`` the ground truth's
    records; ``classes`` what ``rules`` make of them (the categories themselves by default) and
    ``kinds`` the core's table of those, built once.
    """

    pairs: _core.Pairs
    categories: dict[int, dict[str, Any]]
    gt: Folder
    pred: Folder
    json_files: tuple[str, str] | None = None
    #: Whether the Rust reader read the JSON files (their strict form), not Python's.
    strict: bool = False
    #: The sides given as masks (their JSON's segments carry ``segmentation``), if any.
    masks: MaskSides | None = None
    rules: Rules = field(default_factory=Rules)
    classes: dict[int, Any] = field(init=False, repr=False)
    kinds: _core.Categories = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self.classes, self.kinds = self.rules.apply(self.categories)

    def __len__(self) -> int:
        return len(self.pairs)

    @property
    def gt_folder(self) -> str:
        return self.gt.root

    @property
    def pred_folder(self) -> str:
        return self.pred.root

    def evaluate(self, options: Options) -> Evaluation:
        """Evaluate every pair here, on ``options.num_threads`` threads."""
        return evaluate_all(self.pairs, self.gt, self.pred, self.classes, self.kinds, options, self.masks)


def evaluate_all(
    pairs: _core.Pairs,
    gt: Folder,
    pred: Folder,
    categories: Mapping[int, Any],
    kinds: _core.Categories,
    options: Options,
    masks: MaskSides | None = None,
) -> Evaluation:
    """Evaluate every pair of ``pairs``, PNGs read from ``gt`` and ``pred`` (or, for a side in
    ``masks``, painted from its masks).

    One call when the PNGs are local and nobody watches; otherwise batches, so that progress
    shows and remote PNGs are fetched a few batches ahead. (Ctrl-C stops a call under way
    either way.) IoU sums are exact until the end, so batching and thread counts do not change a
    bit of the result.
    """
    total, progress = len(pairs), options.progress
    step = batch_size(total, [gt, pred], progress is not None)
    if masks is not None and not masks.held:
        # Masks are handed over a batch at a time, so only a batch of them is in the core's form.
        step = min(step, MASK_BATCH)
    totals = _core.Totals()
    image_rows: list[tuple[Any, ...]] | None = [] if options.records else None
    segment_rows: list[tuple[Any, ...]] | None = [] if options.records else None
    for start, stop, gt_from, pred_from in batches(total, step, gt, pred, pairs.paths, pairs.image_ids):
        if masks is None or masks.held:
            # Masks the core read are held with the pairs.
            batch, rows = pairs.evaluate(start, stop, kinds, options.core, (gt_from, pred_from))
        else:
            batch_masks = masks.both(pairs.image_ids(start, stop))
            batch, rows = pairs.evaluate(
                start, stop, kinds, options.core, (gt_from, pred_from), batch_masks, masks.overlap
            )
        totals.merge(batch)
        if rows is not None and image_rows is not None and segment_rows is not None:
            image_rows.extend(rows[0])
            segment_rows.extend(rows[1])
        if progress is not None:
            progress(stop, total)
    return Evaluation(totals, categories, kinds, image_rows, segment_rows)


def batch_size(total: int, folders: Sequence[Folder], watched: bool) -> int:
    """Pairs per call to the core: all of them when the PNGs are local and nobody watches;
    :data:`REMOTE_BATCH` when some folder is remote (fetched a few batches ahead); otherwise
    small enough for progress to move."""
    if any(folder.remote is not None for folder in folders):
        return min(REMOTE_BATCH, max(total, 1))
    return max(total, 1) if not watched else max(64, total // 200)


def evaluate_pairs(
    pairs: Sequence[tuple[Mapping[str, Any], Mapping[str, Any]]],
    gt_folder: str | os.PathLike[str],
    pred_folder: str | os.PathLike[str],
    categories: Mapping[int, Any],
    options: Options,
    *,
    json_files: tuple[str, str] | None = None,
    storage_options: Mapping[str, Any] | None = None,
) -> Evaluation:
    """Evaluate (ground truth, prediction) annotation dicts whose PNGs lie in two folders (on
    disk, inside a zip or tar archive, or at an fsspec URL opened with ``storage_options``)."""
    locations = dict(storage_options or {})
    gt = open_folder(Location(local(os.fspath(gt_folder)), locations), GT)
    pred = open_folder(Location(local(os.fspath(pred_folder)), locations), PRED)
    table = pairs_from_dicts(pairs, gt.root, pred.root, json_files)
    return evaluate_all(table, gt, pred, categories, core_categories(categories), options)


def pairs_from_dicts(
    pairs: Sequence[tuple[Mapping[str, Any], Mapping[str, Any]]],
    gt_folder: str,
    pred_folder: str,
    json_files: tuple[str, str] | None = None,
) -> _core.Pairs:
    """The core's table of matched annotation dicts, checked; errors name the image, the segment
    and the JSON file."""
    gt_json, pred_json = json_files if json_files is not None else (None, None)
    image_ids = [str(gt["image_id"]) for gt, _ in pairs]
    gt_paths = [_join(gt_folder, file_name_of(gt, i, GT, gt_json)) for i, (gt, _) in enumerate(pairs)]
    pred_paths = [_join(pred_folder, file_name_of(p, i, PRED, pred_json)) for i, (_, p) in enumerate(pairs)]
    gt_segments = [segments_of(gt, GT, gt_json) for gt, _ in pairs]
    pred_segments = [segments_of(p, PRED, pred_json) for _, p in pairs]
    gt_offsets, gt_columns = flatten(gt_segments, image_ids, GT, gt_json)
    pred_offsets, pred_columns = flatten(pred_segments, image_ids, PRED, pred_json)
    return _core.Pairs(
        image_ids,
        (gt_paths, gt_offsets.tolist(), gt_columns),
        (pred_paths, pred_offsets.tolist(), pred_columns),
        json_files,
    )


def _join(folder: str, name: str) -> str:
    # URLs keep their slashes; local paths join as the OS joins them.
    return f"{folder.rstrip('/')}/{name}" if is_url(folder) else os.path.join(folder, name)


def default_threads() -> int:
    """Threads used when ``num_threads`` is None: ``RAYON_NUM_THREADS`` if set, else the CPUs this
    process may use (its CPU affinity and cgroup quota honoured, as in a container)."""
    return _core.default_threads()


def _silent(*_args: object) -> None:
    pass


def load_dataset(
    gt_json_file: str | os.PathLike[str],
    pred_json_file: str | os.PathLike[str],
    gt_folder: str | os.PathLike[str] | None = None,
    pred_folder: str | os.PathLike[str] | None = None,
    say: Any = _silent,
    num_threads: int | None = None,
    storage_options: Mapping[str, Any] | None = None,
    overlap: tuple[float, float, float] | None = None,
    rules: Rules | None = None,
) -> Dataset:
    """Read both JSON files and match predictions to ground-truth images, as panopticapi does.

    Files and folders may be on disk, inside zip or tar archives, or fsspec URLs (opened with
    ``storage_options``). Folders default to the JSON path without ``.json``. ``say`` receives
    panopticapi's description of the inputs, line by line. Files in the strict form COCO and
    panoptic models write are read in Rust; anything else is read here, from the same bytes,
    which explains what it refuses. ``rules`` (checked against the categories once they are read)
    say what is scored.
    """
    gt_json_file, pred_json_file = local(os.fspath(gt_json_file)), local(os.fspath(pred_json_file))
    # A folder may be a mapping of file name to PNG (bytes, file object or path), held in memory.
    in_memory = {side: folder for side, folder in ((GT, gt_folder), (PRED, pred_folder)) if isinstance(folder, Mapping)}
    if GT in in_memory:
        gt_folder = memory_root(GT)
    if PRED in in_memory:
        pred_folder = memory_root(PRED)
    check_threads(num_threads)
    options = dict(storage_options or {})
    json_files = (gt_json_file, pred_json_file)
    gt_location, pred_location = Location(gt_json_file, options), Location(pred_json_file, options)
    # A side with no folder given and none beside its JSON may carry masks in its JSON instead.
    may_mask = {
        side: folder is None and not is_url(default) and not Path(default).exists()
        for side, folder, default in (
            (GT, gt_folder, gt_location.path.replace(".json", "")),
            (PRED, pred_folder, pred_location.path.replace(".json", "")),
        )
    }
    gt_folder = gt_json_file.replace(".json", "") if gt_folder is None else local(os.fspath(gt_folder))
    pred_folder = pred_json_file.replace(".json", "") if pred_folder is None else local(os.fspath(pred_folder))
    local_files = all(not is_url(p) and Path(p).is_file() for p in json_files)
    masked: set[Side] = set()
    parsed: dict[Side, dict[str, Any]] = {}
    texts: list[bytes | None] = [None, None]
    strict = None
    if any(may_mask.values()) and local_files:
        # Masks in the strict form are read and held by the core; anything else is read here.
        mask_folders = tuple(memory_folder(side) if may_mask[side] else None for side in (GT, PRED))
        read = _core.Pairs.read_masked(json_files, (gt_folder, pred_folder), mask_folders, overlap, num_threads)
        if read is not None:
            strict = (read[0], read[1])
            masked = {side for side, held in zip((GT, PRED), read[2], strict=True) if held}
    if strict is None:
        for side, location in ((GT, gt_location), (PRED, pred_location)):
            if may_mask[side]:
                data = parse_json(read_json_bytes(location, side), location.path, side)
                if carries_masks(data):
                    parsed[side] = data
        masked = set(parsed)
    if GT in masked:
        gt_folder = memory_folder(GT)
    if PRED in masked:
        pred_folder = memory_folder(PRED)
    folders = (gt_folder, pred_folder)
    if strict is None and not parsed and local_files:
        read = _core.Pairs.read(json_files, folders, num_threads)
        strict = None if read[0] is None else (read[0], read[1])
        texts = [None, None] if strict is not None else [read[1], read[2]]
    elif strict is None and not parsed:
        texts = [read_json_bytes(gt_location, GT), read_json_bytes(pred_location, PRED)]
        strict = _core.Pairs.parse((texts[0], texts[1]), json_files, folders, num_threads)
    gt_json = pred_json = None
    if strict is not None:
        category_list = json.loads(strict[1])
    else:
        # The general reader parses the bytes already read; a file the core could not read is
        # read here, to say why.
        gt_json = parsed.get(GT) or parse_json(
            texts[0] if texts[0] is not None else read_json_bytes(gt_location, GT), gt_json_file, GT
        )
        pred_json = parsed.get(PRED) or parse_json(
            texts[1] if texts[1] is not None else read_json_bytes(pred_location, PRED), pred_json_file, PRED
        )
        for data in parsed.values():
            fill_file_names(data)
        require_list(gt_json, "categories", f"ground truth JSON file {gt_json_file}")
        category_list = gt_json["categories"]
    categories = category_table(category_list, gt_json_file)

    say("Evaluation panoptic segmentation metrics:")
    say("Ground truth:")
    say(f"\tSegmentation folder: {gt_folder}")
    say(f"\tJSON file: {gt_json_file}")
    say("Prediction:")
    say(f"\tSegmentation folder: {pred_folder}")
    say(f"\tJSON file: {pred_json_file}")
    gt, pred = (
        Folder(Location(folder), remote=MemoryFolder(in_memory[side], folder, side.folder))
        if side in in_memory
        else Folder(Location(folder))
        if side in masked
        else open_folder(Location(folder, options), side)
        for side, folder in ((GT, gt_folder), (PRED, pred_folder))
    )
    masks = None
    if parsed:
        assert gt_json is not None
        assert pred_json is not None
        by_id = {
            side: {str(a.get("image_id")): a for a in data.get("annotations", []) if isinstance(a, Mapping)}
            for side, data in parsed.items()
        }
        isthing = {cat_id: category.get("isthing") == 1 for cat_id, category in categories.items()}
        masks = MaskSides(by_id, isthing, image_sizes(gt_json, pred_json), overlap)
    if strict is not None:
        if masked:
            # The core holds the masks: nothing to hand over batch by batch.
            masks = MaskSides({}, {}, overlap=overlap)
        return Dataset(strict[0], categories, gt, pred, json_files, strict=True, masks=masks, rules=rules or Rules())
    assert gt_json is not None
    assert pred_json is not None
    matched = _match(gt_json, pred_json, json_files, folders)
    return Dataset(matched, categories, gt, pred, json_files, masks=masks, rules=rules or Rules())


def _match(
    gt_json: Mapping[str, Any],
    pred_json: Mapping[str, Any],
    json_files: tuple[str, str],
    folders: tuple[str, str],
) -> _core.Pairs:
    """The pairs of two parsed files, as panopticapi matches them: a later prediction of the same
    image replaces an earlier one, and every ground-truth image needs one."""
    (gt_json_file, pred_json_file), (gt_folder, pred_folder) = json_files, folders
    predictions = {}
    for position, annotation in enumerate(pred_json["annotations"]):
        predictions[image_id_of(annotation, position, PRED, pred_json_file)] = annotation
    pairs, missing = [], []
    for position, gt_ann in enumerate(gt_json["annotations"]):
        image_id = image_id_of(gt_ann, position, GT, gt_json_file)
        if image_id in predictions:
            pairs.append((gt_ann, predictions[image_id]))
        else:
            missing.append(gt_ann)
    if missing:
        raise MissingPredictionError(missing_message(missing, len(pairs), predictions, gt_folder, pred_json_file))
    return pairs_from_dicts(pairs, gt_folder, pred_folder, json_files)
