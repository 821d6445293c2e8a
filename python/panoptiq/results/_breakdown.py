"""The error breakdown's numbers: for each kind of error, how many false negatives and false
positives it has and how much PQ fixing all of them would add (TIDE's ΔPQ), from the totals one
evaluation kept with each kind fixed. The rules: ``docs/reference/error-breakdown.md``."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TextIO

import panoptiq._core as _core

#: The kinds, in the order of their precedence (and of the core's fixed totals).
KINDS = ("wrong_class", "merge", "split", "localisation", "missed", "spurious", "mask_quality")

SPLITS = ("All", "Things", "Stuff")


def error_breakdown(totals: _core.Totals, kinds: _core.Categories) -> dict[str, Any]:
    """``{kind: {"fn", "fp", "All", "Things", "Stuff", "per_class"}}``: the kind's counts and the
    PQ with every error of the kind fixed minus the PQ (per class: that class's PQ)."""
    fixed = totals.fixed()
    if not fixed:
        # An evaluation of no image: nothing to fix.
        fixed = [_core.Totals() for _ in KINDS]
    if len(fixed) != len(KINDS):
        raise ValueError(f"an error breakdown of {len(fixed)} kinds, expected {len(KINDS)}")
    base = _scores(totals, kinds)
    counts = _counts(totals)
    result = {}
    for kind, totals_fixed in zip(KINDS, fixed, strict=True):
        scores = _scores(totals_fixed, kinds)
        fn, fp = _counts(totals_fixed)
        entry: dict[str, Any] = {"fn": counts[0] - fn, "fp": counts[1] - fp}
        for split in SPLITS:
            entry[split] = scores[split] - base[split]
        entry["per_class"] = {c: pq - base["per_class"][c] for c, pq in scores["per_class"].items()}
        result[kind] = entry
    return result


def _scores(totals: _core.Totals, kinds: _core.Categories) -> dict[str, Any]:
    splits, classes = totals.summary(kinds)
    scores: dict[str, Any] = {name: split[0] for name, split in zip(SPLITS, splits, strict=True)}
    scores["per_class"] = {c: pq for c, _, pq, *_ in classes}
    return scores


def _counts(totals: _core.Totals) -> tuple[int, int]:
    rows = totals.rows()
    return sum(r[4] for r in rows), sum(r[3] for r in rows)


#: How the kinds are named in tables.
LABELS = {
    "wrong_class": "wrong class",
    "merge": "merge",
    "split": "split",
    "localisation": "poor localisation",
    "missed": "missed",
    "spurious": "spurious",
    "mask_quality": "mask quality",
}


def print_breakdown(results: Mapping[str, Any], file: TextIO | None = None) -> None:
    """Print the error breakdown (each kind's FN, FP and ΔPQ), when ``results`` has it."""
    breakdown = results.get("error_breakdown")
    if not breakdown:
        return
    print(f"{'Error':18s}| {'FN':>6s} {'FP':>6s} | {'dPQ':>6s} {'dPQth':>6s} {'dPQst':>6s}", file=file)
    print("-" * 56, file=file)
    for kind, entry in breakdown.items():
        counts = "" if kind == "mask_quality" else f"{entry['fn']:6d} {entry['fp']:6d}"
        print(
            f"{LABELS.get(kind, kind):18s}| {counts:>13s} | {100 * entry['All']:+6.1f} "
            f"{100 * entry['Things']:+6.1f} {100 * entry['Stuff']:+6.1f}",
            file=file,
        )
