"""Datasets that meet boundary-iou-api's marker quirk: in every image one listed segment on each
side takes the id ``max(category ids) + 1``, the id the reference paints interiors with (as a
detectron2 prediction's segment numbered 34 does on Cityscapes)."""

from __future__ import annotations

import json
from pathlib import Path

from panoptiq import read_id_map, write_id_map


def with_marker_ids(gt_json: Path, pred_json: Path, folder: Path) -> tuple[Path, Path, int]:
    """A copy of the dataset in ``folder`` (``gt.json`` + ``gt/``, ``pred.json`` + ``pred/``) in
    which each image's segment at a varying position of its ``segments_info`` (first, middle,
    last, ...) has the marker's id on both sides. Returns the two JSON paths and the marker."""
    gt, pred = json.loads(gt_json.read_text()), json.loads(pred_json.read_text())
    marker = max(c["id"] for c in gt["categories"]) + 1
    for data, source, name in ((gt, gt_json.with_suffix(""), "gt"), (pred, pred_json.with_suffix(""), "pred")):
        (folder / name).mkdir(parents=True)
        for i, annotation in enumerate(data["annotations"]):
            ids = read_id_map(source / annotation["file_name"])
            segments = annotation["segments_info"]
            if segments and all(s["id"] != marker for s in segments):
                chosen = segments[(i * 7 + (name == "pred")) % len(segments)]
                ids[ids == chosen["id"]] = marker
                chosen["id"] = marker
            write_id_map(folder / name / annotation["file_name"], ids)
        (folder / f"{name}.json").write_text(json.dumps(data))
    return folder / "gt.json", folder / "pred.json", marker
