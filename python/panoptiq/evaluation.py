"""Drop-in for ``panopticapi.evaluation``: same names, signatures, results and printed table.

Change ``from panopticapi.evaluation import pq_compute`` to
``from panoptiq.evaluation import pq_compute``. Every function also takes the keywords
``num_threads`` (default: all cores) and ``verbose`` (``False`` prints nothing).
"""

from __future__ import annotations

import argparse
import os
import time
import warnings
from collections.abc import Mapping, Sequence
from typing import Any, TextIO

from panoptiq.boundary import boundary_options
from panoptiq.dataset import ProgressCallback, default_threads, evaluate_pairs, load_dataset
from panoptiq.records import IMAGE_FIELDS, SEGMENT_FIELDS, Records
from panoptiq.stats import METRICS, PQStat, PQStatCat, empty_split_message, summary

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
    boundary = boundary_options(iou_type, dilation_ratio, reference_marker)
    stat = evaluate_pairs(
        annotation_set, gt_folder, pred_folder, categories, num_threads=num_threads, boundary=boundary
    )
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
    boundary = boundary_options(iou_type, dilation_ratio, reference_marker)
    if verbose:
        _announce(len(matched_annotations_list), num_threads)
    return evaluate_pairs(
        matched_annotations_list,
        gt_folder,
        pred_folder,
        categories,
        num_threads=num_threads,
        progress=progress,
        boundary=boundary,
    )


def pq_compute(
    gt_json_file: str,
    pred_json_file: str,
    gt_folder: str | None = None,
    pred_folder: str | None = None,
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
) -> dict[str, Any]:
    """Panoptic Quality of predictions against ground truth in COCO panoptic format.

    Same arguments, result and printed table as ``panopticapi.evaluation.pq_compute``.

    Parameters
    ----------
    gt_json_file, pred_json_file : str
        COCO panoptic JSON files (``annotations``; the ground truth also has ``categories``):
        paths, paths into a zip or tar archive (``annotations.zip/annotations/gt.json``), or
        fsspec URLs (``s3://bucket/gt.json``).
    gt_folder, pred_folder : str, optional
        PNG folders; by default the JSON path without ``.json``, as panopticapi derives them.
        A folder may be a zip or tar archive, or a folder inside one (read in place, never
        extracted; an archive inside an archive too), or an fsspec URL.
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
        TP / FP / FN and every segment's fate (:mod:`panoptiq.records`), from the same pass.

    Returns
    -------
    dict
        ``{'All': {'pq', 'sq', 'rq', 'n'}, 'per_class': {category_id: {'pq', 'sq', 'rq'}},
        'Things': {...}, 'Stuff': {...}}``.

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
        ``dilation_ratio`` that is not a number above 0, or ``reference_marker`` with mask IoU.
    """
    start_time = time.time()
    boundary = boundary_options(iou_type, dilation_ratio, reference_marker)
    dataset = load_dataset(
        gt_json_file,
        pred_json_file,
        gt_folder,
        pred_folder,
        print if verbose else _silent,
        num_threads,
        storage_options=storage_options,
    )
    details: tuple[list[Any], list[Any]] | None = ([], []) if per_image else None
    if client is not None:
        from panoptiq.dask import evaluate_dataset

        if verbose:
            print(f"Number of images: {len(dataset)}, on the Dask cluster at {client.scheduler.address}")
        pq_stat = evaluate_dataset(client, dataset, partition_size, progress, details, boundary)
    else:
        if verbose:
            _announce(len(dataset), num_threads)
        pq_stat = dataset.evaluate(num_threads=num_threads, progress=progress, details=details, boundary=boundary)
    results = summarize(pq_stat, dataset.categories)
    if details is not None:
        results["per_image"] = Records.from_tuples(details[0], IMAGE_FIELDS)
        results["segments"] = Records.from_tuples(details[1], SEGMENT_FIELDS)
    if verbose:
        print_table(results)
        print(f"Time elapsed: {time.time() - start_time:0.2f} seconds")
    return results


def summarize(pq_stat: PQStat, categories: Mapping[int, Any]) -> dict[str, Any]:
    """panopticapi's result dict: All, per_class, Things, Stuff, in that key order.

    Splits in which no category was seen average to zeros with ``n = 0`` (panopticapi divides by
    zero there); one ``RuntimeWarning`` names them all.
    """
    results = summary(pq_stat, categories)
    empty = [isthing for name, isthing in METRICS if results[name]["n"] == 0]
    if empty:
        warnings.warn(empty_split_message(empty), RuntimeWarning, stacklevel=3)
    return results


def print_table(results: Mapping[str, Any], file: TextIO | None = None) -> None:
    """Print panopticapi's PQ / SQ / RQ / N table (to ``file``, standard output by default)."""
    print("{:10s}| {:>5s}  {:>5s}  {:>5s} {:>5s}".format("", "PQ", "SQ", "RQ", "N"), file=file)
    print("-" * (10 + 7 * 4), file=file)
    for name, _isthing in METRICS:
        r = results[name]
        row = f"{name:10s}| {100 * r['pq']:5.1f}  {100 * r['sq']:5.1f}  {100 * r['rq']:5.1f} {r['n']:5d}"
        print(row, file=file)


def _announce(images: int, num_threads: int | None) -> None:
    print(f"Number of images: {images}, threads: {num_threads or default_threads()}")


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
