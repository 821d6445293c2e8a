"""VPQ of a dataset on disk (or in archives, or object storage): the two JSON files read in one of
the video layouts, frames paired as mcahny/vps pairs them, videos formed, and every frame's PNGs
decoded in parallel by the core, a block of frames at a time."""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import panoptiq._core as _core
from panoptiq._dataset import pairs_from_dicts
from panoptiq._json import category_table, file_name_of, image_id_of, parse_json, read_json_bytes, require_list
from panoptiq._side import GT, PRED
from panoptiq._storage import Folder, Location, local, open_folder
from panoptiq.errors import MissingPredictionError
from panoptiq.video._vpq import CITYSCAPES_VPS_LENGTHS, VIPSEG_LENGTHS, VideoPanopticQuality

LAYOUTS = ("cityscapes-vps", "vipseg")
PAIRINGS = ("position", "image_id")
#: mcahny/vps's videos: consecutive groups of this many frames.
CITYSCAPES_VPS_FRAMES = 6
#: Frames decoded per call into the core: progress and remote fetching go by these.
FRAMES_PER_CALL = 1024

Frame = tuple[str, Mapping[str, Any], Mapping[str, Any], str, str]


@dataclass
class VideoDataset:
    """A video dataset read: its frames as the core's pairs (in video order), each frame's video,
    the categories, the tube lengths and the two PNG folders opened."""

    pairs: _core.Pairs
    video_ids: list[str]
    categories: dict[Any, dict[str, Any]]
    tube_lengths: tuple[int, ...]
    strict: bool
    gt: Folder
    pred: Folder

    def metric(self, num_threads: int | None = None) -> VideoPanopticQuality:
        """An empty metric for this dataset."""
        return VideoPanopticQuality(self.categories, self.tube_lengths, strict=self.strict, num_threads=num_threads)


def load_videos(
    gt_json_file: str | os.PathLike[str],
    pred_json_file: str | os.PathLike[str],
    gt_folder: str | os.PathLike[str] | None = None,
    pred_folder: str | os.PathLike[str] | None = None,
    *,
    frames_per_video: int | None = None,
    tube_lengths: Sequence[int] | None = None,
    layout: str = "cityscapes-vps",
    pairing: str = "position",
    strict: bool = True,
    storage_options: Mapping[str, Any] | None = None,
) -> VideoDataset:
    """Read both JSON files in ``layout``, pair the frames and open the folders (arguments as
    :func:`vpq_compute`'s)."""
    if layout not in LAYOUTS:
        raise ValueError(f"layout must be one of {LAYOUTS}, got {layout!r}")
    if pairing not in PAIRINGS:
        raise ValueError(f"pairing must be one of {PAIRINGS}, got {pairing!r}")
    if frames_per_video is not None and layout != "cityscapes-vps":
        raise ValueError("frames_per_video applies to the cityscapes-vps layout only; VIPSeg lists its videos")
    gt_json_file, pred_json_file = local(os.fspath(gt_json_file)), local(os.fspath(pred_json_file))
    gt_root = gt_json_file.replace(".json", "") if gt_folder is None else local(os.fspath(gt_folder))
    pred_root = pred_json_file.replace(".json", "") if pred_folder is None else local(os.fspath(pred_folder))
    options = dict(storage_options or {})
    gt_json = parse_json(read_json_bytes(Location(gt_json_file, options), GT), gt_json_file, GT)
    pred_json = parse_json(read_json_bytes(Location(pred_json_file, options), PRED), pred_json_file, PRED)
    require_list(gt_json, "categories", f"ground truth JSON file {gt_json_file}")
    categories = category_table(gt_json["categories"], gt_json_file)
    files = (gt_json_file, pred_json_file)
    if layout == "cityscapes-vps":
        frames = _cityscapes_vps(gt_json, pred_json, files, frames_per_video or CITYSCAPES_VPS_FRAMES, pairing)
        lengths = tuple(tube_lengths) if tube_lengths is not None else CITYSCAPES_VPS_LENGTHS
    else:
        frames = _vipseg(gt_json, pred_json, files, pairing)
        lengths = tuple(tube_lengths) if tube_lengths is not None else VIPSEG_LENGTHS
    gt = open_folder(Location(gt_root, options), GT)
    pred = open_folder(Location(pred_root, options), PRED)
    # Each frame's PNGs where the layout puts them, as file names relative to the folders.
    annotations = [({**g, "file_name": gp}, {**p, "file_name": pp}) for _, g, p, gp, pp in frames]
    pairs = pairs_from_dicts(annotations, gt.root, pred.root, files)
    return VideoDataset(pairs, [video for video, *_ in frames], categories, lengths, strict, gt, pred)


def _check_groups(count: int, size: int) -> None:
    if size < 1:
        raise ValueError(f"frames_per_video must be at least 1, got {size}")
    if count % size:
        raise ValueError(
            f"the ground truth lists {count} frames, not a multiple of frames_per_video={size}: the videos "
            "cannot be told apart (mcahny/vps's script would silently make some videos one frame longer)"
        )


def _cityscapes_vps(
    gt_json: Mapping[str, Any], pred_json: Mapping[str, Any], files: tuple[str, str], size: int, pairing: str
) -> list[Frame]:
    require_list(gt_json, "annotations", f"ground truth JSON file {files[0]}")
    require_list(pred_json, "annotations", f"prediction JSON file {files[1]}")
    gt_annotations, pred_annotations = gt_json["annotations"], pred_json["annotations"]
    preds = _paired(gt_annotations, pred_annotations, files, pairing, where="")
    _check_groups(len(gt_annotations), size)
    videos = [a.get("video_id") if isinstance(a, Mapping) else None for a in gt_annotations]
    if videos and all(v is not None for v in videos):
        # Annotations that say their video must list each video's frames together, a group each.
        _check_contiguous([str(v) for v in videos], gt_annotations, size, files[0])
        names = [str(v) for v in videos]
    else:
        # A video is named by its first frame's image id.
        names = [
            str(image_id_of(gt_annotations[i - i % size], i - i % size, GT, files[0]))
            for i in range(len(gt_annotations))
        ]
    return [
        (names[i], g, p, file_name_of(g, i, GT, files[0]), file_name_of(p, i, PRED, files[1]))
        for i, (g, p) in enumerate(zip(gt_annotations, preds, strict=True))
    ]


def _check_contiguous(videos: list[str], annotations: Sequence[Any], size: int, source: str) -> None:
    """Each video's frames consecutive in the JSON, and each group of ``size`` frames one video."""
    seen: set[str] = set()
    for i, video in enumerate(videos):
        if i and video == videos[i - 1]:
            continue
        if video in seen:
            image = annotations[i].get("image_id")
            raise ValueError(
                f"In the video {video}: its frames are not contiguous in {source}; the frame {i} (image {image}) "
                "comes after frames of another video"
            )
        seen.add(video)
    for start in range(0, len(videos), size):
        group = videos[start : start + size]
        if len(set(group)) > 1:
            raise ValueError(
                f"In the video {group[0]}: frames {start}..{start + size - 1} of {source} belong to the videos "
                f"{', '.join(dict.fromkeys(group))}; frames_per_video={size} does not fit the videos' lengths"
            )


def _vipseg(
    gt_json: Mapping[str, Any], pred_json: Mapping[str, Any], files: tuple[str, str], pairing: str
) -> list[Frame]:
    for key in ("videos", "annotations"):
        require_list(gt_json, key, f"ground truth JSON file {files[0]}")
    require_list(pred_json, "annotations", f"prediction JSON file {files[1]}")
    gt_of = {str(v["video_id"]): v["annotations"] for v in gt_json["annotations"]}
    pred_of = {str(v["video_id"]): v["annotations"] for v in pred_json["annotations"]}
    frames: list[Frame] = []
    missing = []
    for video in gt_json["videos"]:
        video_id = str(video["video_id"])
        if video_id not in pred_of:
            missing.append(video_id)
            continue
        if video_id not in gt_of:
            raise ValueError(
                f"the ground truth JSON file {files[0]} lists the video {video_id} but no annotations of it"
            )
        images, gt_annotations = video["images"], gt_of[video_id]
        if len(images) != len(gt_annotations):
            raise ValueError(
                f"In the video {video_id}: the ground truth lists {len(images)} images "
                f"but {len(gt_annotations)} annotations"
            )
        preds = _paired(gt_annotations, pred_of[video_id], files, pairing, where=f"In the video {video_id}: ")
        for image, g, p in zip(images, gt_annotations, preds, strict=True):
            name = f"{video_id}/{image['file_name']}"
            frames.append((video_id, g, p, name, name))
    if missing:
        shown = ", ".join(missing[:5]) + (f" and {len(missing) - 5} more" if len(missing) > 5 else "")
        raise MissingPredictionError(f"no prediction for the video(s) {shown} in {files[1]}")
    return frames


def _paired(
    gt_annotations: Sequence[Any], pred_annotations: Sequence[Any], files: tuple[str, str], pairing: str, where: str
) -> list[Mapping[str, Any]]:
    """The predicted annotation of each ground-truth one."""
    if pairing == "position":
        if len(pred_annotations) != len(gt_annotations):
            raise ValueError(
                f"{where}the ground truth has {len(gt_annotations)} frames and the prediction {len(pred_annotations)}; "
                "pairing='position' (mcahny/vps's) pairs them in order and needs as many"
            )
        return list(pred_annotations)
    by_id = {image_id_of(p, i, PRED, files[1]): p for i, p in enumerate(pred_annotations)}
    preds, missing = [], []
    for i, g in enumerate(gt_annotations):
        image_id = image_id_of(g, i, GT, files[0])
        if image_id in by_id:
            preds.append(by_id[image_id])
        else:
            missing.append(image_id)
    if missing:
        shown = ", ".join(map(str, missing[:5])) + (f" and {len(missing) - 5} more" if len(missing) > 5 else "")
        raise MissingPredictionError(f"{where}no prediction for the frame(s) {shown} in {files[1]}")
    return preds
