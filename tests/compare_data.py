"""Prediction sets for comparisons: one ground truth (the realistic demo's) and four prediction
sets of it, the demo's own and three more perturbed from the ground truth, written by Pillow."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
from PIL import Image

from panoptiq._ids import id2rgb
from panoptiq.synthetic import REALISTIC_GT_KINDS, REALISTIC_PRED_KINDS, make_dataset, perturb
from panoptiq.utils import rgb2id

SETTINGS = [
    {"shift": 1, "drop": 0.05, "relabel": 0.05, "blobs": 1},
    {"shift": 4, "drop": 0.2, "relabel": 0.2, "split": 0.3, "merge": 0.3, "blobs": 4},
    {"shift": 8, "drop": 0.4, "relabel": 0.3, "blobs": 8},
]


def write_sets(root: Path, images: int = 16) -> tuple[Path, list[Path]]:
    """The ground truth's JSON and the four sets' JSONs (each with its folder beside it)."""
    gt_json, pred_json = make_dataset(
        root, images, seed=3, gt_kinds=REALISTIC_GT_KINDS, pred_kinds=REALISTIC_PRED_KINDS
    )
    gt = json.loads(gt_json.read_text())
    categories = {c["id"]: c for c in gt["categories"]}
    preds = [pred_json]
    for k, setting in enumerate(SETTINGS):
        rng = np.random.default_rng(100 + k)
        folder = root / f"set{k}"
        folder.mkdir()
        annotations = []
        for annotation in gt["annotations"]:
            ids = rgb2id(np.asarray(Image.open(gt_json.with_suffix("") / annotation["file_name"]).convert("RGB")))
            pred_ids, segments = perturb(ids, annotation["segments_info"], categories, rng, **setting)
            Image.fromarray(id2rgb(pred_ids)).save(folder / annotation["file_name"])
            annotations.append({**{k: annotation[k] for k in ("image_id", "file_name")}, "segments_info": segments})
        # Predictions listed in another order than the ground truth's: pairing is by image id.
        annotations.reverse()
        (root / f"set{k}.json").write_text(json.dumps({"annotations": annotations}))
        preds.append(root / f"set{k}.json")
    return gt_json, preds
