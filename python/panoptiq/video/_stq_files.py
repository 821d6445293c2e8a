"""STQ of a dataset on disk: VIPSeg's JSON and PNG folders, converted to label maps as VIPSeg's
``eval_stq_vspw.py`` converts them, or KITTI-STEP's folders of per-sequence PNGs. PNGs are read
a few frames ahead on threads (the decoder releases the GIL); frames stream, one sequence after
another."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from panoptiq._json import parse_json, read_json_bytes, require_list
from panoptiq._side import GT, PRED
from panoptiq._storage import Location
from panoptiq.errors import MissingPredictionError
from panoptiq.video._readers import instance_numbers, read_kitti_step, read_panoptic_frame
from panoptiq.video._stq import STQuality

#: VIPSeg's script: 124 classes, ignore label 255, labels shifted by 16 bits.
VIPSEG_CLASSES = 124
#: KITTI-STEP: Cityscapes' 19 train ids, pedestrian (11) and car (13) tracked.
KITTI_STEP_CLASSES = 19
KITTI_STEP_THINGS = (11, 13)
#: Frames read ahead of the one being counted.
READ_AHEAD = 8

Task = Callable[[], tuple[Any, Any]]


def _stream(tasks: Sequence[tuple[Any, Task]], threads: int | None) -> Iterator[tuple[Any, tuple[Any, Any]]]:
    """Runs the read tasks on threads, a bounded number ahead, and yields their results in order."""
    workers = threads or min(8, os.cpu_count() or 1)
    with ThreadPoolExecutor(workers, thread_name_prefix="panoptiq-read") as pool:
        pending = []
        for key, task in tasks:
            pending.append((key, pool.submit(task)))
            if len(pending) > READ_AHEAD:
                key0, future = pending.pop(0)
                yield key0, future.result()
        for key0, future in pending:
            yield key0, future.result()


def stq_compute(
    gt_json_file: str | os.PathLike[str],
    pred_json_file: str | os.PathLike[str],
    gt_folder: str | os.PathLike[str],
    pred_folder: str | os.PathLike[str],
    *,
    num_classes: int = VIPSEG_CLASSES,
    ignore_label: int = 255,
    label_bit_shift: int = 16,
    accumulate: str = "exact",
    num_threads: int | None = None,
) -> dict[str, Any]:
    """STQ of a VIPSeg-layout dataset, as VIPSeg's ``eval_stq_vspw.py`` computes it.

    The JSON files list ``videos[].images`` and per-video ``annotations[].annotations``; a
    frame's PNG is ``folder/<video_id>/<image file_name>``. Each video is a sequence (its
    position among the ground truth's videos is its id, as in the script); things are the
    categories with ``isthing``; a segment's instance number is its id's position in the order
    ids first appear in the video's ``segments_info``, from 0 (so the first thing listed is a
    crowd region, as in the script); unlisted pixels are class and instance 255.

    Returns deeplab2's result dict (see :meth:`STQuality.result`).
    """
    gt_json_file, pred_json_file = os.fspath(gt_json_file), os.fspath(pred_json_file)
    gt_json = parse_json(read_json_bytes(Location(gt_json_file, {}), GT), gt_json_file, GT)
    pred_json = parse_json(read_json_bytes(Location(pred_json_file, {}), PRED), pred_json_file, PRED)
    for key in ("videos", "annotations", "categories"):
        require_list(gt_json, key, f"ground truth JSON file {gt_json_file}")
    require_list(pred_json, "annotations", f"prediction JSON file {pred_json_file}")
    things = [int(c["id"]) for c in gt_json["categories"] if c.get("isthing")]
    metric = STQuality(num_classes, things, ignore_label, label_bit_shift, 2**24, accumulate=accumulate)
    gt_of = {str(v["video_id"]): v["annotations"] for v in gt_json["annotations"]}
    pred_of = {str(v["video_id"]): v["annotations"] for v in pred_json["annotations"]}
    tasks: list[tuple[Any, Task]] = []
    for sequence, video in enumerate(gt_json["videos"]):
        video_id = str(video["video_id"])
        if video_id not in pred_of:
            raise MissingPredictionError(f"no prediction for the video {video_id} in {pred_json_file}")
        gt_frames, pred_frames = gt_of.get(video_id, []), pred_of[video_id]
        if not len(gt_frames) == len(pred_frames) == len(video["images"]):
            raise ValueError(
                f"In the video {video_id}: {len(video['images'])} images, {len(gt_frames)} ground-truth and "
                f"{len(pred_frames)} predicted annotations; they pair by position and must be as many"
            )
        gt_numbers, pred_numbers = instance_numbers(gt_frames), instance_numbers(pred_frames)
        for image, g, p in zip(video["images"], gt_frames, pred_frames, strict=True):
            gt_path = Path(gt_folder, video_id, image["file_name"])
            pred_path = Path(pred_folder, video_id, image["file_name"])

            def read(
                g: Any = g,
                p: Any = p,
                gp: Path = gt_path,
                pp: Path = pred_path,
                gn: Any = gt_numbers,
                pn: Any = pred_numbers,
            ) -> tuple[Any, Any]:
                return (
                    read_panoptic_frame(gp, g["segments_info"], gn, label_bit_shift),
                    read_panoptic_frame(pp, p["segments_info"], pn, label_bit_shift),
                )

            tasks.append((sequence, read))
    for sequence, (y_true, y_pred) in _stream(tasks, num_threads):
        metric.update_state(y_true, y_pred, sequence)
    return metric.result()


def stq_kitti_step(
    gt_folder: str | os.PathLike[str],
    pred_folder: str | os.PathLike[str],
    *,
    num_classes: int = KITTI_STEP_CLASSES,
    things_list: Sequence[int] = KITTI_STEP_THINGS,
    ignore_label: int = 255,
    label_bit_shift: int = 16,
    accumulate: str = "exact",
    num_threads: int | None = None,
) -> dict[str, Any]:
    """STQ of KITTI-STEP-layout folders: one sub-folder per sequence (its name the sequence id),
    one PNG per frame (R = class, G·256 + B = instance), frames in file-name order; every
    ground-truth PNG needs a predicted one of the same name."""
    gt_root, pred_root = Path(gt_folder), Path(pred_folder)
    if not gt_root.is_dir():
        raise FileNotFoundError(f"the ground-truth folder {gt_root} does not exist")
    metric = STQuality(num_classes, things_list, ignore_label, label_bit_shift, 2**32, accumulate=accumulate)
    tasks: list[tuple[Any, Task]] = []
    for sequence in sorted(p for p in gt_root.iterdir() if p.is_dir()):
        for gt_png in sorted(sequence.glob("*.png")):
            pred_png = pred_root / sequence.name / gt_png.name
            if not pred_png.is_file():
                raise MissingPredictionError(
                    f"no prediction {pred_png} for the frame {gt_png} of the sequence {sequence.name}"
                )

            def read(gp: Path = gt_png, pp: Path = pred_png) -> tuple[Any, Any]:
                return read_kitti_step(gp, label_bit_shift), read_kitti_step(pp, label_bit_shift)

            tasks.append((sequence.name, read))
    for sequence_id, (y_true, y_pred) in _stream(tasks, num_threads):
        metric.update_state(y_true, y_pred, sequence_id)
    return metric.result()
