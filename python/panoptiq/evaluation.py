"""Drop-in for ``panopticapi.evaluation``: same names, signatures, results and printed table.

Change ``from panopticapi.evaluation import pq_compute`` to
``from panoptiq.evaluation import pq_compute``. Every function also takes the keywords
``num_threads`` (default: all cores) and ``verbose`` (``False`` prints nothing).
"""

from __future__ import annotations

import argparse
import os
import time
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from panoptiq import _dataset
from panoptiq._mask_sides import overlap_rule
from panoptiq._options import Options
from panoptiq._progress import ProgressCallback
from panoptiq.results import PQStat, PQStatCat, Rules, bootstrap_of, print_breakdown, print_table

OFFSET = 256 * 256 * 256
VOID = 0

__all__ = [
    "OFFSET",
    "VOID",
    "PQStat",
    "PQStatCat",
    "pq_compute",
    "pq_compute_multi_core",
    "pq_compute_single_core",
]


def pq_compute_single_core(
    proc_id: int,
    annotation_set: Sequence[tuple[Mapping[str, Any], Mapping[str, Any]]],
    gt_folder: str | os.PathLike[str],
    pred_folder: str | os.PathLike[str],
    categories: Mapping[int, Any],
    iou_type: str = "segm",
    dilation_ratio: float = 0.02,
    *,
    reference_marker: bool = False,
    num_threads: int | None = None,
    verbose: bool = True,
) -> PQStat:
    """Evaluate matched (ground truth, prediction) annotation pairs; panopticapi's signature
    (boundary-iou-api's, with ``iou_type`` and ``dilation_ratio``).

    Despite the name (kept for compatibility) the pairs are evaluated in parallel in Rust; the
    counts equal panopticapi's, and each IoU sum is the exact sum of the same IoUs rounded once
    (within 1e-12 of panopticapi's float additions).

    Parameters
    ----------
    proc_id : int
        Only used in the progress message, as in panopticapi.
    annotation_set : sequence of (dict, dict)
        Matched ground-truth and predicted annotations.
    gt_folder, pred_folder : path
        Folders with the annotations' ``file_name`` PNGs.
    categories : mapping
        Category id to record.
    iou_type : {"segm", "boundary"}
        Mask IoU, or Boundary PQ's ``min(mask IoU, boundary IoU)`` (:mod:`panoptiq.boundary`).
    dilation_ratio : float
        Boundary PQ's band width as a fraction of the image diagonal.
    reference_marker : bool
        Boundary PQ: boundary-iou-api's numbers where a segment's id is its interior marker.
    num_threads : int, optional
        Worker threads; all cores by default.
    verbose : bool
        Print panopticapi's closing progress line.

    Returns
    -------
    PQStat
        Per-category IoU sums and TP / FP / FN counts.
    """
    options = Options(iou_type, dilation_ratio, reference_marker, num_threads=num_threads)
    stat = _dataset.evaluate_pairs(annotation_set, gt_folder, pred_folder, categories, options).stat()
    if verbose:
        print(f"Core: {proc_id}, all {len(annotation_set)} images processed")
    return stat


def pq_compute_multi_core(
    matched_annotations_list: Sequence[tuple[Mapping[str, Any], Mapping[str, Any]]],
    gt_folder: str | os.PathLike[str],
    pred_folder: str | os.PathLike[str],
    categories: Mapping[int, Any],
    iou_type: str = "segm",
    dilation_ratio: float = 0.02,
    *,
    reference_marker: bool = False,
    num_threads: int | None = None,
    verbose: bool = True,
    progress: ProgressCallback | None = None,
) -> PQStat:
    """Evaluate matched annotation pairs on all cores; panopticapi's signature.

    Uses threads in one process rather than a process pool. See
    :func:`pq_compute_single_core` for the parameters; ``progress`` is called with
    (images done, images in all).
    """
    options = Options(iou_type, dilation_ratio, reference_marker, num_threads=num_threads, progress=progress)
    if verbose:
        _announce(len(matched_annotations_list), num_threads)
    return _dataset.evaluate_pairs(matched_annotations_list, gt_folder, pred_folder, categories, options).stat()


def pq_compute(
    gt_json_file: str,
    pred_json_file: str,
    gt_folder: str | Mapping[str, Any] | None = None,
    pred_folder: str | Mapping[str, Any] | None = None,
    iou_type: str = "segm",
    dilation_ratio: float = 0.02,
    *,
    reference_marker: bool = False,
    num_threads: int | None = None,
    verbose: bool = True,
    progress: ProgressCallback | None = None,
    storage_options: Mapping[str, Any] | None = None,
    client: Any = None,
    partition_size: int | None = None,
    per_image: bool = False,
    overlap: str | Mapping[str, float] = "error",
    category_ids: Iterable[int] | None = None,
    class_groups: Mapping[int, int] | None = None,
    isthing_override: Mapping[int, bool] | None = None,
    iou_threshold: float | None = None,
    size_edges: Iterable[int] | str | None = None,
    bootstrap: int | None = None,
    bootstrap_seed: int = 0,
    confidence: float = 0.95,
    error_breakdown: bool = False,
) -> dict[str, Any]:
    """Panoptic Quality of predictions against ground truth in COCO panoptic format.

    Same arguments, result and printed table as ``panopticapi.evaluation.pq_compute``.

    Parameters
    ----------
    gt_json_file, pred_json_file : str
        COCO panoptic JSON files (``annotations``; the ground truth also has ``categories``):
        paths, paths into a zip or tar archive (``annotations.zip/annotations/gt.json``), or
        fsspec URLs (``s3://bucket/gt.json``).
    gt_folder, pred_folder : str or mapping, optional
        PNG folders; by default the JSON path without ``.json``, as panopticapi derives them.
        A folder may be a zip or tar archive, or a folder inside one (read in place, never
        extracted; an archive inside an archive too), or an fsspec URL. It may also be held in
        memory: a mapping from each ``file_name`` of the JSON to its PNG's bytes (DETR's
        ``png_string``), a binary file object or a path. A side needs no PNGs at all when its
        JSON's segments carry COCO masks (``segmentation``: RLE, or polygons with the image's
        size from the ``images`` list or the other side) and no folder is given or found: the
        masks are painted in memory, as converting them first would, under ``overlap``.
    iou_type : {"segm", "boundary"}
        ``"boundary"``: Boundary PQ, each pair's IoU the smaller of its mask IoU and its boundary
        IoU (boundary-iou-api's rules, :mod:`panoptiq.boundary`); ``"segm"``: PQ.
    dilation_ratio : float
        Boundary PQ's band width as a fraction of the image diagonal (0.02 by default).
    reference_marker : bool
        Boundary PQ only: reproduce boundary-iou-api's numbers for a segment whose id is its
        interior marker (the largest category id + 1); by default that segment is scored as the
        metric defines (see :mod:`panoptiq.boundary`).
    num_threads : int, optional
        Worker threads; all cores by default (``RAYON_NUM_THREADS`` is respected). Results are
        bit-identical whatever the number.
    verbose : bool
        Print panopticapi's messages and table; ``False`` prints nothing.
    progress : callable, optional
        Called with (images done, images in all) as evaluation goes on.
    storage_options : mapping, optional
        fsspec options for URLs (credentials, ``client_kwargs={"endpoint_url": ...}``).
    client : distributed.Client, optional
        Evaluate on this Dask cluster: parts of ``partition_size`` pairs run on the workers, which
        read the PNGs by the same names; the result is bit-identical to an evaluation here.
    partition_size : int, optional
        Pairs per part on a cluster; by default four parts per worker thread (16 to 2,000 pairs).
    per_image : bool
        Also return, under ``"per_image"`` and ``"segments"``, every image's PQ / SQ / RQ and
        TP / FP / FN and every segment's fate (:mod:`panoptiq.results`), from the same pass.
    overlap : {"error", "combine"} or mapping, optional
        For sides given as masks: ``"error"`` (the default) refuses two masks sharing a pixel,
        naming both; ``"combine"`` resolves overlaps with panopticapi's combination heuristic
        (:func:`panoptiq.converters.combine_predictions`: things by descending ``score``, below
        ``confidence_thr`` dropped, each dropped when more than ``overlap_thr`` of it is
        covered; then stuff where at least ``stuff_area_limit`` pixels are free), whose
        thresholds a mapping may set; dropped segments leave ``segments_info``.
    category_ids : iterable of int, optional
        Average over these categories only (group ids with ``class_groups``); every category is
        still matched and counted as without it, so each one's numbers are unchanged.
    class_groups : mapping, optional
        Every category id to a group id: categories merged into classes before matching
        (supercategories; one group for class-agnostic PQ). A group takes its members' kind;
        ``per_class`` is keyed by group.
    isthing_override : mapping, optional
        Category (or group) id to ``True`` (thing) or ``False`` (stuff), whatever the JSON says.
    iou_threshold : float, optional
        A match needs an IoU above this, in [0.5, 1); 0.5 by default. The 0.5 under which a
        prediction lying mostly on VOID or crowd is ignored does not move.
    size_edges : "coco" or iterable of int, optional
        Also score per object size, under ``"sizes"``: area edges e1 < e2 < ... cut the slices
        [0, e1), [e1, e2), ..., [en, inf) (``"coco"``: 32² and 96², named small, medium and
        large). A match counts in its ground-truth segment's slice (its JSON ``area``), whatever
        the prediction's size; a false negative in its own; a false positive in its pixel
        area's. An area on an edge belongs to the larger slice, so the slices add up to the
        totals.
    bootstrap : int, optional
        Also give, under ``"intervals"``, percentile confidence intervals of PQ, SQ and RQ (All,
        Things, Stuff, per class) from this many resamples of the images (``True``: 1,000), drawn
        with ``bootstrap_seed``, at level ``confidence`` (0.95 by default); a resample is
        averaged over the classes it counts, as panopticapi averages a dataset.
    error_breakdown : bool
        Also give, under ``"error_breakdown"``, every false negative's and false positive's cause
        — wrong class, merge, split, poor localisation, missed or spurious — and for each kind
        (and mask quality) the PQ gained by fixing all of its errors, TIDE's ΔPQ (mask IoU, not
        PQ†; the rules: the documentation's "Error breakdown: definitions").

    Returns
    -------
    dict
        ``{'All': {'pq', 'sq', 'rq', 'n'}, 'per_class': {category_id: {'pq', 'sq', 'rq'}},
        'Things': {...}, 'Stuff': {...}}``; with ``size_edges``, ``'sizes'``: ``{name: {'range':
        [low, high or None], 'All', 'Things', 'Stuff', 'per_class'}}``; with ``bootstrap``,
        ``'intervals'``: ``{'All': {'pq': (low, high), 'sq', 'rq'}, 'Things', 'Stuff',
        'per_class', 'resamples', 'seed', 'level'}`` (None where no resample counts the split
        or class); with ``error_breakdown``, ``'error_breakdown'``: ``{kind: {'fn', 'fp', 'All',
        'Things', 'Stuff', 'per_class'}}``, the kind's counts and ΔPQs.

    Raises
    ------
    FileNotFoundError
        A JSON file, a folder or a PNG is missing.
    MissingPredictionError
        A ground-truth image has no prediction (a ``ValueError``).
    KeyError
        panopticapi's segment and category mismatches, with its messages plus the files.
    ValueError
        Malformed JSON, broken or unsupported PNGs, images of different sizes, and the other
        malformed input :func:`panoptiq.evaluate_image` refuses; an unknown ``iou_type``, a
        ``dilation_ratio`` that is not a number above 0, or ``reference_marker`` with mask IoU;
        evaluation options that do not fit the categories (naming the argument).
    """
    start_time = time.time()
    rules = Rules.of(category_ids, class_groups, isthing_override, iou_threshold, size_edges)
    resampling = bootstrap_of(bootstrap, bootstrap_seed, confidence)
    options = Options(
        iou_type,
        dilation_ratio,
        reference_marker,
        records=per_image,
        num_threads=num_threads,
        progress=progress,
        image_stats=resampling is not None,
        breakdown=bool(error_breakdown),
    )
    dataset = _dataset.load_dataset(
        gt_json_file,
        pred_json_file,
        gt_folder,
        pred_folder,
        print if verbose else _silent,
        num_threads,
        storage_options=storage_options,
        overlap=overlap_rule(overlap),
        rules=rules,
    )
    if client is not None:
        from panoptiq import dask

        if isinstance(gt_folder, Mapping) or isinstance(pred_folder, Mapping) or dataset.masks is not None:
            raise ValueError("PNGs or masks held in memory (not in files the workers can read) cannot go to a cluster")

        if verbose:
            print(f"Number of images: {len(dataset)}, on the Dask cluster at {client.scheduler.address}")
        evaluation = dask.evaluate_dataset(client, dataset, options, partition_size)
    else:
        if verbose:
            _announce(len(dataset), num_threads)
        evaluation = dataset.evaluate(options)
    results = evaluation.summarize()
    if resampling is not None:
        results["intervals"] = evaluation.intervals(resampling)
    if error_breakdown:
        results["error_breakdown"] = evaluation.error_breakdown()
    if per_image:
        results["per_image"] = evaluation.per_image()
        results["segments"] = evaluation.segments()
    if verbose:
        print_table(results)
        if error_breakdown:
            print_breakdown(results)
        print(f"Time elapsed: {time.time() - start_time:0.2f} seconds")
    return results


def _announce(images: int, num_threads: int | None) -> None:
    print(f"Number of images: {images}, threads: {num_threads or _dataset.default_threads()}")


def _silent(*_args: object) -> None:
    pass


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--gt_json_file", type=str, help="JSON file with ground truth data")
    parser.add_argument("--pred_json_file", type=str, help="JSON file with predictions data")
    parser.add_argument(
        "--gt_folder",
        type=str,
        default=None,
        help="Folder with ground truth COCO format segmentations. Default: X if the corresponding json file is X.json",
    )
    parser.add_argument(
        "--pred_folder",
        type=str,
        default=None,
        help="Folder with prediction COCO format segmentations. Default: X if the corresponding json file is X.json",
    )
    parser.add_argument("--iou-type", default="segm", choices=["segm", "boundary"])
    parser.add_argument("--dilation-ratio", default=0.02, type=float)
    parser.add_argument("--reference-marker", action="store_true")
    args = parser.parse_args(argv)
    pq_compute(
        args.gt_json_file,
        args.pred_json_file,
        args.gt_folder,
        args.pred_folder,
        args.iou_type,
        args.dilation_ratio,
        reference_marker=args.reference_marker,
    )


if __name__ == "__main__":
    main()
