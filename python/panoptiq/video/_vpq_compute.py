"""``vpq_compute``: a video dataset read (:mod:`panoptiq.video._files`) and evaluated here, frame
batches streaming through the core, or on a Dask cluster whole videos a task
(:mod:`panoptiq.video._parts`)."""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from typing import Any

from panoptiq._options import check_threads
from panoptiq._storage import batches
from panoptiq.video._files import FRAMES_PER_CALL, load_videos
from panoptiq.video._parts import evaluate_on


def vpq_compute(
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
    per_video: bool = False,
    num_threads: int | None = None,
    storage_options: Mapping[str, Any] | None = None,
    client: Any = None,
    videos_per_part: int | None = None,
) -> dict[Any, Any]:
    """Video Panoptic Quality of a video dataset in COCO panoptic form, as mcahny/vps computes it.

    Parameters
    ----------
    gt_json_file, pred_json_file : path
        The two JSON files (on disk, in a zip or tar archive, or an fsspec URL).
    gt_folder, pred_folder : path, optional
        Where the PNGs are; default: the JSON path without ``.json``.
    frames_per_video : int, optional
        ``"cityscapes-vps"`` only: its flat list of frames is cut into consecutive videos of
        this many frames (default 6, as mcahny/vps's script); the frame count must be a
        multiple of it.
    tube_lengths : sequence of int, optional
        Default (1, 2, 3, 4) for Cityscapes-VPS (reported by mcahny/vps as k = 0, 5, 10, 15),
        (1, 2, 4, 6, 8) for VIPSeg.
    layout : {"cityscapes-vps", "vipseg"}
        ``"cityscapes-vps"``: a flat COCO panoptic JSON (``images``, ``annotations``,
        ``categories``), the PNG of a frame at ``folder/<annotation file_name>``.
        ``"vipseg"``: ``videos[].images`` and per-video ``annotations[].annotations``, the PNG
        of a frame at ``folder/<video_id>/<image file_name>``.
    pairing : {"position", "image_id"}
        ``"position"`` (mcahny/vps's): the i-th predicted annotation (of the video, for VIPSeg)
        goes with the i-th ground-truth one; ``"image_id"``: by ``image_id``.
    strict : bool
        An id whose category changes inside a video is an error (default); with False, each
        window takes the category of the id's first frame in it, as mcahny/vps does.
    per_video : bool
        Also return each video's results under ``"per_video"``.
    num_threads : int, optional
        Threads that decode PNGs.
    storage_options : mapping, optional
        fsspec options for URLs.
    client : dask.distributed.Client, optional
        Evaluate on this Dask cluster, whole videos per task (``videos_per_part`` of them;
        default: about four tasks per worker thread). The result is bit-identical.

    Returns
    -------
    dict
        ``{n: <pq_compute-shaped dict>, ..., "vpq": {"All", "Things", "Stuff"}}``: see
        :meth:`VideoPanopticQuality.compute`.
    """
    dataset = load_videos(
        gt_json_file,
        pred_json_file,
        gt_folder,
        pred_folder,
        frames_per_video=frames_per_video,
        tube_lengths=tube_lengths,
        layout=layout,
        pairing=pairing,
        strict=strict,
        storage_options=storage_options,
    )
    check_threads(num_threads)
    if client is not None:
        return evaluate_on(client, dataset, videos_per_part).compute(per_video=per_video)
    metric = dataset.metric(num_threads)
    pairs, video_ids = dataset.pairs, dataset.video_ids
    gt, pred = dataset.gt, dataset.pred
    for start, stop, gt_from, pred_from in batches(len(pairs), FRAMES_PER_CALL, gt, pred, pairs.paths, pairs.image_ids):
        metric._tubes.push_pairs(pairs, (start, stop), video_ids[start:stop], metric._kinds, (gt_from, pred_from))
    return metric.compute(per_video=per_video)
