"""An independent numpy implementation of torchmetrics' per-image PQ rules, the test oracle for
``rules="torchmetrics"``.

Written from METRIC.md ("torchmetrics' rules", "PQ†"), one colour pair at a time on boolean
masks. torchmetrics divides integer tensors in float32; so does this reference.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Collection

import numpy as np


def preprocess(pixels: np.ndarray, things: Collection[int], stuffs: Collection[int], unknown_ok: bool) -> np.ndarray:
    """``(N, 2)`` colours with stuff instances zeroed and unknown categories made the void colour."""
    void = (max([0, *things, *stuffs]) + 1, 0)
    out = pixels.astype(np.int64).copy()
    is_stuff = np.isin(out[:, 0], list(stuffs))
    known = is_stuff | np.isin(out[:, 0], list(things))
    out[is_stuff, 1] = 0
    if not unknown_ok and not known.all():
        raise ValueError(f"unknown categories {sorted(set(out[~known, 0].tolist()))}")
    out[~known] = void
    return out


def evaluate(
    preds: np.ndarray,
    target: np.ndarray,
    things: Collection[int],
    stuffs: Collection[int],
    modified: bool = False,
    allow_unknown_preds: bool = False,
) -> dict[int, list[float | int]]:
    """Per-category ``[iou_sum, tp, fp, fn]`` of one image given as ``(N, 2)`` colours."""
    void = (max([0, *things, *stuffs]) + 1, 0)
    p = preprocess(preds, things, stuffs, allow_unknown_preds)
    t = preprocess(target, things, stuffs, True)
    modified_stuff = set(stuffs) if modified else set()

    def mask(colours: np.ndarray, colour: tuple[int, int]) -> np.ndarray:
        return (colours[:, 0] == colour[0]) & (colours[:, 1] == colour[1])

    def f32(a: int, b: int) -> float:
        return float(np.float32(a) / np.float32(b))

    p_colours = {tuple(c) for c in p.tolist()} - {void}
    t_colours = {tuple(c) for c in t.tolist()} - {void}
    p_void, t_void = mask(p, void), mask(t, void)
    stats: defaultdict[int, list] = defaultdict(lambda: [[], 0, 0, 0])
    matched_p, matched_t = set(), set()
    for tc in t_colours:
        tm = mask(t, tc)
        for pc in p_colours:
            if pc[0] != tc[0]:
                continue
            pm = mask(p, pc)
            inter = int(np.count_nonzero(pm & tm))
            if inter == 0:
                continue
            union = (
                int(pm.sum()) - int(np.count_nonzero(pm & t_void)) + int(tm.sum()) - int(np.count_nonzero(p_void & tm))
            ) - inter
            iou = f32(inter, union)
            if tc[0] in modified_stuff:
                stats[tc[0]][0].append(iou)
            elif iou > 0.5:
                stats[tc[0]][0].append(iou)
                stats[tc[0]][1] += 1
                matched_p.add(pc)
                matched_t.add(tc)
    for tc in t_colours:
        tm = mask(t, tc)
        if tc[0] in modified_stuff:
            stats[tc[0]][1] += 1
        elif tc not in matched_t and f32(int(np.count_nonzero(p_void & tm)), int(tm.sum())) <= 0.5:
            stats[tc[0]][3] += 1
    for pc in p_colours:
        pm = mask(p, pc)
        if pc[0] in modified_stuff or pc in matched_p:
            continue
        if f32(int(np.count_nonzero(pm & t_void)), int(pm.sum())) <= 0.5:
            stats[pc[0]][2] += 1
    return {c: [math.fsum(s[0]), s[1], s[2], s[3]] for c, s in stats.items()}
