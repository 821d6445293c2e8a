"""``panoptiq report``: one self-contained HTML page that shows where a model fails — the summary,
a sortable per-class table, the worst images with their error images, the category confusions,
the distribution of true-positive IoUs, the error breakdown (each kind of error's count and what
fixing it would add to PQ), and the command and versions that made it.

The evaluation is the same single pass as ``pq_compute(per_image=True)``; only the error images of
the pairs shown are read and decoded a second time. The report is written to a temporary folder
beside ``out`` and renamed into place when complete, so that a folder named ``out`` is always a
finished report. :func:`write_comparison_report` writes the page of a comparison of several
prediction sets (:func:`panoptiq.compare`).
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime, timezone
from functools import cached_property
from pathlib import Path
from typing import Any

from panoptiq import _dataset
from panoptiq._options import Options
from panoptiq._progress import ProgressCallback
from panoptiq._side import GT, PRED
from panoptiq.report._analysis import confusions, iou_histogram, tp_ious, worst_images
from panoptiq.report._comparison import ComparisonReport, write_comparison_report
from panoptiq.report._files import check_target, require_pillow, staging, versions
from panoptiq.report._page import Page, render
from panoptiq.report._pictures import start_drawing
from panoptiq.results import IMAGE_FIELDS, SEGMENT_FIELDS, Records, Rules, bootstrap_of

__all__ = ["ComparisonReport", "Report", "write_comparison_report", "write_report"]


@dataclass(frozen=True)
class Report:
    """A written report: its folder, the page in it, and the numbers it shows."""

    folder: Path
    page: Path
    results: dict[str, Any]
    per_image: Records
    segment_rows: list[tuple[Any, ...]]

    @cached_property
    def segments(self) -> Records:
        """Every segment's record (:data:`panoptiq.results.SEGMENT_FIELDS`), made when asked for."""
        return Records.from_tuples(self.segment_rows, SEGMENT_FIELDS)


def write_report(
    gt_json_file: str,
    pred_json_file: str,
    gt_folder: str | None = None,
    pred_folder: str | None = None,
    *,
    out: str | os.PathLike[str],
    images: str | os.PathLike[str] | None = None,
    worst: int = 10,
    confusion_count: int = 20,
    overwrite: bool = False,
    num_threads: int | None = None,
    storage_options: Mapping[str, Any] | None = None,
    progress: ProgressCallback | None = None,
    command: str | None = None,
    title: str | None = None,
    category_ids: Iterable[int] | None = None,
    class_groups: Mapping[int, int] | None = None,
    isthing_override: Mapping[int, bool] | None = None,
    iou_threshold: float | None = None,
    size_edges: Iterable[int] | str | None = None,
    bootstrap: int | None = None,
    bootstrap_seed: int = 0,
    confidence: float = 0.95,
) -> Report:
    """Evaluate a prediction and write an HTML report of it to the folder ``out``.

    Parameters
    ----------
    gt_json_file, pred_json_file, gt_folder, pred_folder
        As for :func:`panoptiq.evaluation.pq_compute` (paths, archives or URLs).
    out : str or os.PathLike
        The report's folder, created: ``index.html``, ``images/`` (the error images) and
        ``per_image.csv``. (Every segment's record is in the returned :class:`Report`, and
        ``panoptiq eval --per-segment FILE`` writes them.)
    images : str or os.PathLike, optional
        A folder of the input photos, named as the PNGs with ``.jpg`` (or ``.jpeg``, ``.png``):
        error images are drawn over them. A missing photo, or one of another size, is noted on
        the page and the image drawn without it.
    worst : int
        How many images each worst-image list shows (by PQ, by false negatives, by false
        positives); each shown image gets an error image.
    confusion_count : int
        How many category confusions to list.
    overwrite : bool
        Replace ``out`` if it exists (it is refused otherwise).
    num_threads, storage_options, progress
        As for ``pq_compute``.
    command : str, optional
        The command to show as the one that produced the report; by default this call.
    title : str, optional
        The page's title.
    category_ids, class_groups, isthing_override, iou_threshold
        The evaluation options of ``pq_compute``; the page names those set.
    size_edges, bootstrap, bootstrap_seed, confidence
        As for ``pq_compute``: a table per object size, and intervals beside the summary's
        scores and each class's PQ.

    Returns
    -------
    Report

    Raises
    ------
    FileExistsError
        ``out`` exists and ``overwrite`` is not set, or is a file.
    PermissionError, FileNotFoundError
        ``out``'s parent folder cannot be written or does not exist.
    ImportError
        Pillow is not installed (it draws the labels).
    ValueError
        ``worst`` or ``confusion_count`` negative; and whatever ``pq_compute`` raises.
    """
    if worst < 0 or confusion_count < 0:
        raise ValueError(f"worst and confusion_count must be >= 0, got {worst} and {confusion_count}")
    rules = Rules.of(category_ids, class_groups, isthing_override, iou_threshold, size_edges)
    resampling = bootstrap_of(bootstrap, bootstrap_seed, confidence)
    require_pillow()
    target = Path(os.fspath(out)).absolute()
    check_target(target, overwrite)
    # Made first: a folder that cannot be written is found before the evaluation, not after it.
    with staging(target, overwrite) as temporary:
        started, created = time.perf_counter(), datetime.now(timezone.utc)
        dataset = _dataset.load_dataset(
            gt_json_file, pred_json_file, gt_folder, pred_folder, storage_options=storage_options, rules=rules
        )
        evaluation = dataset.evaluate(
            Options(
                records=True,
                num_threads=num_threads,
                progress=progress,
                image_stats=resampling is not None,
                breakdown=True,
            )
        )
        results = evaluation.summarize()
        results["error_breakdown"] = evaluation.error_breakdown()
        if resampling is not None:
            results["intervals"] = evaluation.intervals(resampling)
        per_image = Records.from_tuples(evaluation.image_rows or [], IMAGE_FIELDS)
        segment_rows = evaluation.segment_rows or []
        worst_lists = worst_images(per_image, worst)
        shown = sorted({p for positions in worst_lists.values() for p in positions})
        photos = None if images is None else os.fspath(images)
        # The error images are drawn on other threads (mostly outside the GIL) while this one
        # works out the rest of the page.
        with ThreadPoolExecutor(max_workers=num_threads or _dataset.default_threads()) as pool:
            drawing = start_drawing(pool, dataset, shown, temporary / "images", photos)
            # Confusions name the segments' own categories; the per-class table the classes scored.
            names = {cid: str(info.get("name", cid)) for cid, info in dataset.categories.items()}
            classes = []
            for c in evaluation.classes():
                if c.tp + c.fp + c.fn:
                    record = dataset.classes[c.category_id]
                    kind = "thing" if record.get("isthing") == 1 else "stuff"
                    name = str(record.get("name", c.category_id))
                    classes.append((c.category_id, name, kind, c.pq, c.sq, c.rq, c.tp, c.fp, c.fn))
            ious = tp_ious(segment_rows)
            found = confusions(segment_rows, confusion_count)
            per_image.write(temporary / "per_image.csv")
            pictures = {position: future.result() for position, future in zip(shown, drawing, strict=True)}
        page = Page(
            title=title or f"Panoptic quality of {Path(pred_json_file).name}",
            results=results,
            classes=classes,
            images=per_image,
            worst=worst_lists,
            pictures=pictures,
            confusions=found,
            names=names,
            iou_counts=iou_histogram(ious),
            iou_mean=sum(ious) / len(ious) if ious else None,
            command=command or _call(gt_json_file, pred_json_file, gt_folder, pred_folder, out, images),
            versions=versions(),
            created=created.strftime("%Y-%m-%d %H:%M:%S UTC"),
            elapsed=time.perf_counter() - started,
            inputs={
                GT.noun: f"{gt_json_file} ({dataset.gt_folder})",
                PRED.noun: f"{pred_json_file} ({dataset.pred_folder})",
                "photos": photos or "none",
                **({} if rules.is_default else {"options": rules.describe()}),
            },
        )
        (temporary / "index.html").write_text(render(page), encoding="utf-8")
    return Report(target, target / "index.html", results, per_image, segment_rows)


def _call(*args: Any) -> str:
    gt, pred, gt_folder, pred_folder, out, images = (None if a is None else os.fspath(a) for a in args)
    parts = [f"write_report({gt!r}, {pred!r}, {gt_folder!r}, {pred_folder!r}, out={out!r}"]
    if images is not None:
        parts.append(f"images={images!r}")
    return ", ".join(parts) + ")"
