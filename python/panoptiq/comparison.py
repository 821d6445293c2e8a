"""Several prediction sets against one ground truth in one pass: each set's ``pq_compute``
result, and each set's differences from the first with paired-bootstrap intervals.

The ground-truth JSON is read once and each ground-truth PNG decoded once per image, paired row
by row with every set's prediction of it (:func:`panoptiq._core.compare`), so comparing k sets
costs one ground-truth decode instead of k.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import panoptiq._core as _core
from panoptiq import _dataset
from panoptiq._json import category_table
from panoptiq._options import Options
from panoptiq._progress import ProgressCallback
from panoptiq._side import GT, PRED
from panoptiq._storage import Folder, Location, is_url, local, open_folder
from panoptiq.results import Bootstrap, Evaluation, Rules, bootstrap_of, differences, print_comparison

#: Resamples for the differences' intervals unless told.
DEFAULT_RESAMPLES = 1000

__all__ = ["Comparison", "compare", "run_comparison"]


@dataclass
class _Sets:
    """The sets' pairs (same images, same order), their PNG folders, and the categories."""

    pairs: list[_core.Pairs]
    gt: Folder
    preds: list[Folder]
    categories: dict[int, dict[str, Any]]


def compare(
    gt_json_file: str | os.PathLike[str],
    pred_json_files: Sequence[str | os.PathLike[str]],
    gt_folder: str | os.PathLike[str] | None = None,
    pred_folders: Sequence[str | os.PathLike[str] | None] | None = None,
    *,
    num_threads: int | None = None,
    verbose: bool = False,
    progress: ProgressCallback | None = None,
    storage_options: Mapping[str, Any] | None = None,
    per_image: bool = False,
    category_ids: Iterable[int] | None = None,
    class_groups: Mapping[int, int] | None = None,
    isthing_override: Mapping[int, bool] | None = None,
    iou_threshold: float | None = None,
    size_edges: Iterable[int] | str | None = None,
    bootstrap: int | Bootstrap | None = DEFAULT_RESAMPLES,
    bootstrap_seed: int = 0,
    confidence: float = 0.95,
    error_breakdown: bool = False,
) -> list[dict[str, Any]]:
    """Score several prediction sets against one ground truth in one pass.

    Parameters
    ----------
    gt_json_file : path
        The ground truth's COCO panoptic JSON (local, in an archive, or an fsspec URL).
    pred_json_files : sequence of path
        One JSON per prediction set; the first is what the others are compared with.
    gt_folder : path, optional
        The ground truth's PNGs; by default its JSON path without ``.json``.
    pred_folders : sequence of path or None, optional
        Each set's PNG folder (None: its JSON path without ``.json``).
    num_threads, verbose, progress, storage_options, per_image
        As for :func:`panoptiq.evaluation.pq_compute`; ``verbose`` prints one table of the sets
        and their differences.
    category_ids, class_groups, isthing_override, iou_threshold, size_edges
        The evaluation options of :func:`panoptiq.evaluation.pq_compute`, the same for every set.
    bootstrap : int, optional
        Resamples of the images for the intervals (1,000 by default; None or 0 for none): each
        set's own intervals and the paired intervals of its differences from the first set,
        every set resampled with the same draws.
    bootstrap_seed, confidence
        The draws' seed and the intervals' level.
    error_breakdown : bool
        Also give each set's ``"error_breakdown"``, as ``pq_compute`` gives it.

    Returns
    -------
    list of dict
        One per set, in the given order: what ``pq_compute`` returns for that set (with
        ``"intervals"`` when bootstrapping, ``"per_image"`` and ``"segments"`` with
        ``per_image``), and for every set after the first ``"comparison"``: ``{"against": 0,
        "All" | "Things" | "Stuff": {metric: {"delta", "interval", "p_improvement"}},
        "per_class": {class: {...}}}`` — the set's score minus the first set's, the percentile
        interval of that difference over the paired resamples and the share of resamples in
        which the set scores higher (None without resamples).

    Raises
    ------
    ValueError
        No prediction set; folders not one per set; a set missing a ground-truth image
        (:class:`panoptiq.MissingPredictionError`, naming the image); a set given as masks or
        Boundary PQ (a comparison scores PNGs by mask IoU); and what ``pq_compute`` refuses.
    """
    return run_comparison(
        gt_json_file,
        pred_json_files,
        gt_folder,
        pred_folders,
        num_threads=num_threads,
        progress=progress,
        storage_options=storage_options,
        per_image=per_image,
        rules=Rules.of(category_ids, class_groups, isthing_override, iou_threshold, size_edges),
        bootstrap=bootstrap_of(bootstrap, bootstrap_seed, confidence),
        level=confidence,
        verbose=verbose,
        error_breakdown=error_breakdown,
    ).results


@dataclass
class Comparison:
    """A comparison's results (what :func:`compare` returns), each set's evaluation, and each
    set's dataset (to draw its pairs again)."""

    results: list[dict[str, Any]]
    evaluations: list[Evaluation]
    datasets: list[_dataset.Dataset]
    rules: Rules


def run_comparison(
    gt_json_file: str | os.PathLike[str],
    pred_json_files: Sequence[str | os.PathLike[str]],
    gt_folder: str | os.PathLike[str] | None = None,
    pred_folders: Sequence[str | os.PathLike[str] | None] | None = None,
    *,
    num_threads: int | None = None,
    progress: ProgressCallback | None = None,
    storage_options: Mapping[str, Any] | None = None,
    per_image: bool = False,
    rules: Rules | None = None,
    bootstrap: Bootstrap | None = None,
    level: float = 0.95,
    verbose: bool = False,
    error_breakdown: bool = False,
) -> Comparison:
    """:func:`compare` with its options already checked, keeping what a report draws from."""
    pred_json_files = [os.fspath(p) for p in _listed(pred_json_files, "pred_json_files")]
    if not pred_json_files:
        raise ValueError("pred_json_files names no prediction set: give at least one")
    folders = [None] * len(pred_json_files) if pred_folders is None else list(_listed(pred_folders, "pred_folders"))
    if len(folders) != len(pred_json_files):
        raise ValueError(f"pred_folders has {len(folders)} folders for {len(pred_json_files)} prediction sets")
    rules = rules or Rules()
    options = Options(
        records=per_image,
        num_threads=num_threads,
        progress=progress,
        image_stats=bootstrap is not None,
        breakdown=bool(error_breakdown),
    )
    sets = _load(
        os.fspath(gt_json_file), pred_json_files, gt_folder, folders, num_threads, storage_options or {}, rules
    )
    classes, kinds = rules.apply(sets.categories)
    evaluations = _evaluate(sets, classes, kinds, options)
    results = [evaluation.summarize() for evaluation in evaluations]
    samples: list[dict[str, Any] | None] = [None] * len(results)
    if bootstrap is not None:
        for k, evaluation in enumerate(evaluations):
            results[k]["intervals"], samples[k] = evaluation.intervals_and_samples(bootstrap)
        level = bootstrap.level
    if error_breakdown:
        for result, evaluation in zip(results, evaluations, strict=True):
            result["error_breakdown"] = evaluation.error_breakdown()
    if per_image:
        for result, evaluation in zip(results, evaluations, strict=True):
            result["per_image"] = evaluation.per_image()
            result["segments"] = evaluation.segments()
    for k in range(1, len(results)):
        results[k]["comparison"] = {"against": 0, **differences(results[0], results[k], samples[0], samples[k], level)}
    if verbose:
        print_comparison(results, pred_json_files)
    datasets = [
        _dataset.Dataset(pairs, sets.categories, sets.gt, pred, rules=rules)
        for pairs, pred in zip(sets.pairs, sets.preds, strict=True)
    ]
    return Comparison(results, evaluations, datasets, rules)


def _listed(values: Any, name: str) -> list[Any]:
    if isinstance(values, (str, bytes, os.PathLike)) or not isinstance(values, Iterable):
        raise ValueError(f"{name} must be a list with one entry per prediction set, got {values!r}")
    return list(values)


def _load(
    gt_json_file: str,
    pred_json_files: list[str],
    gt_folder: Any,
    pred_folders: list[Any],
    num_threads: int | None,
    storage_options: Mapping[str, Any],
    rules: Rules,
) -> _Sets:
    """Reads the ground truth once and every set against it; a set whose files the Rust reader
    does not take (not in the strict form, not on disk) is read by the general reader, which
    reads the ground truth again for it."""
    gt_json_file = local(gt_json_file)
    gt_root = _folder_of(gt_json_file, gt_folder)
    roots = [_folder_of(local(p), f) for p, f in zip(pred_json_files, pred_folders, strict=True)]
    found: list[_core.Pairs | None] = [None] * len(pred_json_files)
    categories_json = None
    files = [gt_json_file, *pred_json_files]
    if all(not is_url(p) and Path(p).is_file() for p in files):
        found, categories_json = _core.Pairs.read_comparison(
            (gt_json_file, gt_root), list(zip(pred_json_files, roots, strict=True)), num_threads
        )
    gt = pred = None
    categories: dict[int, dict[str, Any]] | None = None
    preds: list[Folder | None] = [None] * len(found)
    pairs: list[_core.Pairs] = []
    for k, (pairs_k, pred_json_file) in enumerate(zip(found, pred_json_files, strict=True)):
        if pairs_k is None:
            dataset = _dataset.load_dataset(
                gt_json_file,
                pred_json_file,
                gt_folder,
                pred_folders[k],
                num_threads=num_threads,
                storage_options=storage_options,
                rules=rules,
            )
            if dataset.masks is not None:
                raise ValueError(
                    f"prediction set {k} ({pred_json_file}) is given as masks: a comparison reads PNGs "
                    "(convert the masks first, panoptiq convert)"
                )
            pairs_k, categories, gt, pred = dataset.pairs, dataset.categories, dataset.gt, dataset.pred
            preds[k] = pred
        pairs.append(pairs_k)
    if categories is None:
        assert categories_json is not None
        categories = category_table(json.loads(categories_json), gt_json_file)
    if gt is None:
        gt = open_folder(Location(gt_root, dict(storage_options)), GT)
    opened = [
        p if p is not None else open_folder(Location(r, dict(storage_options)), PRED)
        for p, r in zip(preds, roots, strict=True)
    ]
    return _Sets(pairs, gt, opened, categories)


def _folder_of(json_file: str, folder: Any) -> str:
    if isinstance(folder, Mapping):
        raise ValueError("a comparison reads PNG folders: paths, archives or URLs, not mappings held in memory")
    return json_file.replace(".json", "") if folder is None else local(os.fspath(folder))


def _evaluate(sets: _Sets, classes: Mapping[int, Any], kinds: _core.Categories, options: Options) -> list[Evaluation]:
    """Every set's evaluation, in one pass over the images, a batch at a time when a folder is
    remote or progress is watched (as :func:`panoptiq._dataset.evaluate_all` batches)."""
    total = len(sets.pairs[0])
    step = _dataset.batch_size(total, [sets.gt, *sets.preds], options.progress is not None)
    totals = [_core.Totals() for _ in sets.pairs]
    image_rows: list[list[tuple[Any, ...]]] = [[] for _ in sets.pairs]
    segment_rows: list[list[tuple[Any, ...]]] = [[] for _ in sets.pairs]
    first = sets.pairs[0]
    for start in range(0, max(total, 1), step):
        stop = min(start + step, total)
        ids = first.image_ids(start, stop)
        gt_paths, _ = first.paths(start, stop)
        gt_from = sets.gt.source if sets.gt.remote is None else sets.gt.remote.fetch(gt_paths, ids)
        preds_from = [
            folder.source if folder.remote is None else folder.remote.fetch(pairs.paths(start, stop)[1], ids)
            for pairs, folder in zip(sets.pairs, sets.preds, strict=True)
        ]
        batch = _core.compare(sets.pairs, start, stop, kinds, options.core, (gt_from, preds_from))
        for k, (set_totals, rows) in enumerate(batch):
            totals[k].merge(set_totals)
            if rows is not None:
                image_rows[k].extend(rows[0])
                segment_rows[k].extend(rows[1])
        if options.progress is not None:
            options.progress(stop, total)
    return [
        Evaluation(
            totals[k],
            classes,
            kinds,
            image_rows[k] if options.records else None,
            segment_rows[k] if options.records else None,
        )
        for k in range(len(sets.pairs))
    ]
