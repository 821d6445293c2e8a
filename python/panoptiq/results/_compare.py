"""Differences between two prediction sets scored on the same images: the difference of each
score, its paired-bootstrap percentile interval and the probability that it is an improvement.

Paired: both sets are resampled with the same draws of images (the same seed over the same
number of images gives the same weights, :func:`panoptiq.results._bootstrap.resample_weights`),
so a resample's difference is the two sets' scores on one and the same resampled dataset.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TextIO

import numpy as np

from panoptiq.results._bootstrap import METRICS, _intervals

SPLITS = ("All", "Things", "Stuff")


def differences(
    base: Mapping[str, Any],
    other: Mapping[str, Any],
    base_samples: Mapping[str, Any] | None,
    other_samples: Mapping[str, Any] | None,
    level: float,
) -> dict[str, Any]:
    """``other`` minus ``base``: for All, Things, Stuff and every class of ``other``'s
    ``per_class``, each metric's ``{"delta", "interval", "p_improvement"}``.

    ``delta`` is the difference of the two results' scores; ``interval`` the percentile interval
    at ``level`` of the resamples' differences and ``p_improvement`` the share of resamples in
    which ``other`` scores higher, over the resamples in which both count the split or class
    (``None`` without resamples or when there are none).
    """
    result: dict[str, Any] = {}
    for split in SPLITS:
        result[split] = _entry(
            base[split], other[split], _samples(base_samples, split), _samples(other_samples, split), level
        )
    per_class: dict[Any, Any] = {}
    for c, scores in other["per_class"].items():
        if c not in base["per_class"]:
            continue
        per_class[c] = _entry(
            base["per_class"][c],
            scores,
            _samples(base_samples, "per_class", c),
            _samples(other_samples, "per_class", c),
            level,
        )
    result["per_class"] = per_class
    return result


def _samples(samples: Mapping[str, Any] | None, *keys: Any) -> Mapping[str, np.ndarray] | None:
    found: Any = samples
    for key in keys:
        if found is None:
            return None
        found = found.get(key)
    return found


def _entry(
    base: Mapping[str, float],
    other: Mapping[str, float],
    base_samples: Mapping[str, np.ndarray] | None,
    other_samples: Mapping[str, np.ndarray] | None,
    level: float,
) -> dict[str, Any]:
    entry = {}
    for metric in METRICS:
        interval = p_improvement = None
        if base_samples is not None and other_samples is not None:
            difference = np.asarray(other_samples[metric], dtype=np.float64) - base_samples[metric]
            interval = _intervals(difference[:, None], level)[0]
            valid = difference[~np.isnan(difference)]
            p_improvement = float(np.mean(valid > 0)) if len(valid) else None
        entry[metric] = {
            "delta": float(other[metric]) - float(base[metric]),
            "interval": interval,
            "p_improvement": p_improvement,
        }
    return entry


def print_comparison(results: list[Mapping[str, Any]], names: list[str], file: TextIO | None = None) -> None:
    """Print each set's PQ / SQ / RQ (All), PQ of things and stuff, and, after the first, its PQ
    difference from the first with that difference's interval and probability of improvement."""
    width = max(12, *(len(name) + 1 for name in names))
    level = next((r["intervals"]["level"] for r in results if "intervals" in r), None)
    shown = "interval" if level is None else f"{100 * level:g}% interval"
    header = f"{'Set':{width}s}| {'PQ':>5s}  {'SQ':>5s}  {'RQ':>5s}  {'PQth':>5s}  {'PQst':>5s} |"
    print(f"{header} {'dPQ':>6s}  {shown:>16s}  P(better)", file=file)
    print("-" * (len(header) + 38), file=file)
    for k, (result, name) in enumerate(zip(results, names, strict=True)):
        a, th, st = result["All"], result["Things"], result["Stuff"]
        row = (
            f"{name:{width}s}| {100 * a['pq']:5.1f}  {100 * a['sq']:5.1f}  {100 * a['rq']:5.1f}  "
            f"{100 * th['pq']:5.1f}  {100 * st['pq']:5.1f} |"
        )
        if k == 0:
            print(f"{row} {'(baseline)':>6s}", file=file)
            continue
        pq = result["comparison"]["All"]["pq"]
        bounds = pq["interval"]
        interval = "-" if bounds is None else f"[{100 * bounds[0]:+.1f}, {100 * bounds[1]:+.1f}]"
        p = "-" if pq["p_improvement"] is None else f"{pq['p_improvement']:.3f}"
        print(f"{row} {100 * pq['delta']:+6.1f}  {interval:>16s}  {p:>9s}", file=file)
