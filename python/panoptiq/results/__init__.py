"""Results, in one home: panopticapi's per-category statistics (:class:`PQStat`,
:class:`PQStatCat`), the metric's :class:`PQResult` and its parts, per-image and per-segment
:class:`Records`, the evaluation options (:class:`Rules`), bootstrap intervals
(:class:`Bootstrap`), the differences between two prediction sets (:func:`differences`), and
:class:`Evaluation`, where every evaluation's totals are averaged and its records made.

Per-image records have the fields :data:`IMAGE_FIELDS`; per-segment records
:data:`SEGMENT_FIELDS`: ``fate`` is "tp", "fn", "fp", "ignored" (a predicted segment mostly on
VOID or on a crowd region of its category: not counted) or "crowd" (a ground-truth crowd
region); ``other_*`` is the matched segment of a true positive (its IoU as counted), else the
most overlapping segment of the other side (plain pixel IoU), None when nothing overlaps;
``other_boundary_iou`` is, under Boundary PQ, the boundary IoU of the segment and ``other_id``;
``cause``, with the error breakdown, a false negative's or false positive's cause.
"""

from __future__ import annotations

from panoptiq.results._bootstrap import Bootstrap, ImageTable, bootstrap_of, resample_weights
from panoptiq.results._breakdown import KINDS as ERROR_KINDS
from panoptiq.results._breakdown import LABELS as ERROR_LABELS
from panoptiq.results._breakdown import print_breakdown
from panoptiq.results._compare import differences, print_comparison
from panoptiq.results._evaluation import Evaluation, print_intervals, print_sizes, print_table, summarize
from panoptiq.results._records import IMAGE_FIELDS, SEGMENT_FIELDS, Records
from panoptiq.results._rules import COCO_SIZE_EDGES, Rules, size_slices
from panoptiq.results._scores import ClassResult, ImageResult, PQResult, Scores
from panoptiq.results._stat import PQStat, PQStatCat

# Pickles and reprs name the public home, not the private file a class happens to be in.
for _cls in (
    Bootstrap,
    ClassResult,
    Evaluation,
    ImageTable,
    ImageResult,
    PQResult,
    PQStat,
    PQStatCat,
    Records,
    Rules,
    Scores,
):
    _cls.__module__ = __name__
del _cls

__all__ = [
    "COCO_SIZE_EDGES",
    "ERROR_KINDS",
    "ERROR_LABELS",
    "IMAGE_FIELDS",
    "SEGMENT_FIELDS",
    "Bootstrap",
    "ClassResult",
    "Evaluation",
    "ImageResult",
    "ImageTable",
    "PQResult",
    "PQStat",
    "PQStatCat",
    "Records",
    "Rules",
    "Scores",
    "bootstrap_of",
    "differences",
    "print_breakdown",
    "print_comparison",
    "print_intervals",
    "print_sizes",
    "print_table",
    "resample_weights",
    "size_slices",
    "summarize",
]
