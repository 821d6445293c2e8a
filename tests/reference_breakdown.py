"""An independent numpy oracle of the error breakdown, written from
``docs/reference/error-breakdown.md`` on boolean masks, one segment pair at a time (the engine
works on an intersection histogram). Slow; for small images only.

It does its own matching (panopticapi's rules: same category, not crowd, IoU above the
threshold; unmatched predictions mostly on VOID or on the last crowd region of their category
are not counted), then gives each error its cause and builds each kind's fixed totals.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

KINDS = ("wrong_class", "merge", "split", "localisation", "missed", "spurious", "mask_quality")
BACKGROUND = 0.1


def image(
    gt_ids: np.ndarray,
    gt_segments: Sequence[Mapping[str, Any]],
    pred_ids: np.ndarray,
    pred_segments: Sequence[Mapping[str, Any]],
    threshold: float = 0.5,
) -> tuple[dict[int, list[float]], list[dict[int, list[float]]], list[tuple[str, str]]]:
    """One image's per-category ``[iou, tp, fp, fn]``, the same with each of ``KINDS`` fixed, and
    every error's ``(side, cause)``."""
    void = gt_ids == 0
    gts = [dict(s) for s in gt_segments]
    preds = [dict(s) for s in pred_segments]
    for s in gts:
        s["mask"] = gt_ids == s["id"]
    for s in preds:
        s["mask"] = pred_ids == s["id"]
        s["pixels"] = int(s["mask"].sum())
        s["void"] = int((s["mask"] & void).sum())

    def inter(g: dict, p: dict) -> int:
        return int((g["mask"] & p["mask"]).sum())

    def iou(g: dict, p: dict) -> float:
        i = inter(g, p)
        union = g["area"] + p["pixels"] - i - p["void"]
        return i / union if union > 0 and union >= i else 0.0

    matches = {}
    for gi, g in enumerate(gts):
        for pi, p in enumerate(preds):
            if not g["iscrowd"] and g["category_id"] == p["category_id"] and inter(g, p) and iou(g, p) > threshold:
                matches[gi] = pi
    matched_preds = set(matches.values())
    crowd = {}
    for gi, g in enumerate(gts):
        if g["iscrowd"]:
            crowd[g["category_id"]] = gi
    ignored = set()
    for pi, p in enumerate(preds):
        if pi in matched_preds:
            continue
        on_crowd = inter(gts[crowd[p["category_id"]]], p) if p["category_id"] in crowd else 0
        if (p["void"] + on_crowd) / p["pixels"] > 0.5:
            ignored.add(pi)
    stats: dict[int, list[float]] = defaultdict(lambda: [0.0, 0, 0, 0])
    for gi, pi in matches.items():
        stats[gts[gi]["category_id"]][0] += iou(gts[gi], preds[pi])
        stats[gts[gi]["category_id"]][1] += 1
    fns = [gi for gi, g in enumerate(gts) if not g["iscrowd"] and gi not in matches]
    fps = [pi for pi in range(len(preds)) if pi not in matched_preds and pi not in ignored]
    for gi in fns:
        stats[gts[gi]["category_id"]][3] += 1
    for pi in fps:
        stats[preds[pi]["category_id"]][2] += 1

    # Partners: non-crowd ground truth, counted predictions (matched or not).
    partners_g = [gi for gi, g in enumerate(gts) if not g["iscrowd"]]
    partners_p = [pi for pi in range(len(preds)) if pi not in ignored]

    def share(a: dict, b: dict) -> float:
        pixels = int(a["mask"].sum())
        return inter(a, b) / pixels if pixels else 0.0

    def inside_pred(gi: int) -> list[int]:  # same-class predictions mostly inside g
        g = gts[gi]
        return [pi for pi in partners_p if preds[pi]["category_id"] == g["category_id"] and share(preds[pi], g) > 0.5]

    def inside_gt(pi: int) -> list[int]:  # same-class ground truths mostly inside p
        p = preds[pi]
        return [gi for gi in partners_g if gts[gi]["category_id"] == p["category_id"] and share(gts[gi], p) > 0.5]

    def union_iou(g: dict, parts: list[int]) -> float:
        i = sum(inter(g, preds[pi]) for pi in parts)
        union = g["area"] + sum(preds[pi]["pixels"] - preds[pi]["void"] for pi in parts) - i
        return i / union if union > 0 and union >= i else 0.0

    causes = []
    fixes: dict[str, list[tuple[str, int, float]]] = defaultdict(list)
    for gi in fns:
        g = gts[gi]
        same = [pi for pi in partners_p if preds[pi]["category_id"] == g["category_id"] and inter(g, preds[pi])]
        other = [pi for pi in partners_p if preds[pi]["category_id"] != g["category_id"] and inter(g, preds[pi])]
        wrong = [pi for pi in other if iou(g, preds[pi]) > threshold]
        merged = [pi for pi in same if share(g, preds[pi]) > 0.5 and len(inside_gt(pi)) >= 2]
        loose = [pi for pi in same if BACKGROUND < iou(g, preds[pi]) <= threshold]
        if wrong:
            cause, credit = "wrong_class", iou(g, preds[wrong[0]])
        elif merged:
            cause, credit = "merge", iou(g, preds[merged[0]])
        elif len(inside_pred(gi)) >= 2:
            cause, credit = "split", union_iou(g, inside_pred(gi))
        elif loose:
            best = min(loose, key=lambda pi: (-iou(g, preds[pi]), preds[pi]["id"]))
            cause, credit = "localisation", iou(g, preds[best])
        else:
            cause, credit = "missed", 0.0
        causes.append(("gt", cause))
        fixes[cause].append(("fn", gi, credit))
    hosts: dict[int, list[int]] = defaultdict(list)
    for pi in fps:
        p = preds[pi]
        same = [gi for gi in partners_g if gts[gi]["category_id"] == p["category_id"] and inter(gts[gi], p)]
        other = [gi for gi in partners_g if gts[gi]["category_id"] != p["category_id"] and inter(gts[gi], p)]
        host = [gi for gi in same if share(p, gts[gi]) > 0.5 and len(inside_pred(gi)) >= 2]
        if any(iou(gts[gi], p) > threshold for gi in other):
            cause = "wrong_class"
        elif len(inside_gt(pi)) >= 2:
            cause = "merge"
        elif host:
            cause = "split"
            hosts[host[0]].append(pi)
        elif any(BACKGROUND < iou(gts[gi], p) <= threshold for gi in same):
            cause = "localisation"
        else:
            cause = "spurious"
        causes.append(("pred", cause))
        fixes[cause].append(("fp", pi, 0.0))

    fixed = []
    for kind in KINDS:
        table: dict[int, list[float]] = defaultdict(lambda: [0.0, 0, 0, 0])
        for c, s in stats.items():
            table[c] = [0.0, s[1], s[2], s[3]]
        for gi, pi in matches.items():
            value = iou(gts[gi], preds[pi])
            if kind == "mask_quality":
                value = 1.0
            elif kind == "split" and gi in hosts:
                value = max(value, union_iou(gts[gi], [pi, *hosts[gi]]))
            table[gts[gi]["category_id"]][0] += value
        for what, index, credit in fixes.get(kind, []):
            if what == "fp":
                table[preds[index]["category_id"]][2] -= 1
            else:
                entry = table[gts[index]["category_id"]]
                entry[3] -= 1
                if kind != "missed":
                    entry[1] += 1
                    entry[0] += credit
        fixed.append(table)
    return dict(stats), fixed, causes


def pq(totals: Mapping[int, Sequence[float]], isthing: Mapping[int, bool], kind: bool | None) -> float:
    """panopticapi's average PQ over the categories counted (0 when none)."""
    values = []
    for c, (iou, tp, fp, fn) in totals.items():
        if kind is not None and isthing[c] != kind:
            continue
        if tp + fp + fn > 0:
            values.append(iou / (tp + 0.5 * fp + 0.5 * fn))
    return sum(values) / len(values) if values else 0.0


def add(total: dict[int, list[float]], part: Mapping[int, Sequence[float]]) -> None:
    for c, values in part.items():
        entry = total.setdefault(c, [0.0, 0, 0, 0])
        for k in range(4):
            entry[k] += values[k]
