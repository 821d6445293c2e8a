"""Video Panoptic Quality in memory: frames fed one at a time, each video slid through windows
of n frames by the Rust core (``panoptiq._core.Tubes``), totals kept exactly per tube length."""

from __future__ import annotations

import warnings
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import numpy as np

import panoptiq._core as _core
from panoptiq._ids import rgb2id
from panoptiq._image import id_map
from panoptiq._segments import flatten
from panoptiq._side import GT, PRED
from panoptiq.results._evaluation import Evaluation, core_categories
from panoptiq.results._stat import category_records

#: Cityscapes-VPS's tube lengths (reported by mcahny/vps as k = 0, 5, 10, 15).
CITYSCAPES_VPS_LENGTHS = (1, 2, 3, 4)
#: VIPSeg's tube lengths.
VIPSEG_LENGTHS = (1, 2, 4, 6, 8)
#: The version of :meth:`VideoPanopticQuality.state_dict`'s form.
STATE_VERSION = 1


class ShortVideoWarning(UserWarning):
    """A video has fewer frames than a tube length: it contributes no window of that length
    (mcahny/vps counts nothing for it either)."""


class VideoPanopticQuality:
    """Video Panoptic Quality (VPQ, Kim et al., CVPR 2020), accumulated frame by frame.

    The numbers are mcahny/vps's ``vpq_compute_single_core`` summed over videos: for each tube
    length n, every window of n consecutive frames of every video (stride 1) is one "image" whose
    pair histogram is the sum of its frames' and whose segments are the ids seen in it, matched
    by panopticapi's rules. Only the last ``max(tube_lengths)`` frames of a video are held, as
    histograms.

    Parameters
    ----------
    categories : mapping or iterable
        panopticapi's categories (id to record with ``isthing``) or a list of records.
    tube_lengths : sequence of int
        The window lengths, in frames; each gives one result.
    strict : bool
        When True (the default), a segment id whose category changes inside a video is an
        error; when False, each window takes the category of the id's first frame in it, as
        mcahny/vps does.
    num_threads : int, optional
        Threads that decode a dataset's PNGs (:func:`vpq_compute`).
    """

    def __init__(
        self,
        categories: Mapping[int, Any] | Iterable[Any],
        tube_lengths: Sequence[int] = CITYSCAPES_VPS_LENGTHS,
        *,
        strict: bool = True,
        num_threads: int | None = None,
    ) -> None:
        self.categories = dict(category_records(categories, need_isthing=True))
        self.tube_lengths = tuple(int(n) for n in tube_lengths)
        if not self.tube_lengths or min(self.tube_lengths) < 1 or len(set(self.tube_lengths)) != len(self.tube_lengths):
            raise ValueError(f"tube_lengths must be distinct positive frame counts, got {tube_lengths!r}")
        self.strict = strict
        self._kinds = core_categories(self.categories)
        self._threads = num_threads
        self._names: dict[str, Any] = {}
        self._tubes = _core.Tubes(list(self.tube_lengths), strict, num_threads)

    def update(
        self,
        gt_ids: Any,
        pred_ids: Any,
        gt_segments_info: Sequence[Mapping[str, Any]],
        pred_segments_info: Sequence[Mapping[str, Any]],
        video_id: Any = 0,
        *,
        image_id: Any = None,
    ) -> None:
        """Add the next frame of ``video_id``.

        Parameters
        ----------
        gt_ids, pred_ids : array_like
            H x W id maps (``uint32``, as :func:`panoptiq.rgb2id` gives) or H x W x 3 ``uint8``
            RGB panoptic images.
        gt_segments_info, pred_segments_info : sequence of dict
            The frame's segments, as in COCO panoptic JSON (``id``, ``category_id``, and for the
            ground truth ``iscrowd`` and ``area``). An id listed twice has its records merged as
            mcahny/vps merges them: the first one's category, the areas summed.
        video_id : hashable
            The video the frame belongs to; frames of a video come in order, videos may
            interleave.
        image_id : optional
            Named in errors (default: the frame's position in its video).
        """
        video = self._video_key(video_id)
        name = str(image_id) if image_id is not None else f"{video}/{self._frames(video)}"
        gt_map, pred_map = _frame_ids(gt_ids, "gt_ids"), _frame_ids(pred_ids, "pred_ids")
        _, gt_columns = flatten([gt_segments_info], [name], GT)
        _, pred_columns = flatten([pred_segments_info], [name], PRED)
        self._tubes.push_maps(video, name, (gt_map, pred_map), (gt_columns, pred_columns), self._kinds)

    def _video_key(self, video_id: Any) -> str:
        """The core's name of a video: its ``str``, which must not be another video's too."""
        key = str(video_id)
        known = self._names.setdefault(key, video_id)
        if known is not video_id and (type(known) is not type(video_id) or known != video_id):
            raise ValueError(
                f"the video ids {known!r} and {video_id!r} read the same ({key!r}); give videos distinct names"
            )
        return key

    def _frames(self, video: str) -> int:
        return next((frames for vid, frames, _ in self._tubes.videos() if vid == video), 0)

    def merge(self, other: VideoPanopticQuality) -> None:
        """Add the videos of ``other`` (same tube lengths; a video must be whole in one of the
        two). Sums are exact: the result does not depend on how videos were split."""
        clash = [k for k, v in other._names.items() if k in self._names and self._names[k] != v]
        if clash:
            raise ValueError(f"the video ids {self._names[clash[0]]!r} and {other._names[clash[0]]!r} read the same")
        self._tubes.merge(other._tubes)
        for k, v in other._names.items():
            self._names.setdefault(k, v)

    def reset(self) -> None:
        """Forget every frame."""
        self._tubes = _core.Tubes(list(self.tube_lengths), self.strict, self._threads)
        self._names = {}

    def compute(self, *, per_video: bool = False) -> dict[Any, Any]:
        """The results: ``{n: <pq_compute-shaped dict>, ..., "vpq": {"All", "Things", "Stuff"}}``.

        Each ``n`` (tube length) gives panopticapi's dict — ``All``, ``per_class``, ``Things``,
        ``Stuff`` — whose per-class entries also hold ``iou``, ``tp``, ``fp`` and ``fn``, as
        mcahny/vps's do; ``"vpq"`` holds the mean PQ over the tube lengths (mcahny/vps prints
        100 times it). With ``per_video``, ``"per_video"`` maps each video id to its own
        ``{n: {"All", "Things", "Stuff"}}`` and ``"frames"`` count.
        """
        videos = self._tubes.videos()
        _warn_short(videos, self.tube_lengths)
        results: dict[Any, Any] = {}
        for which, n in enumerate(self.tube_lengths):
            totals, _windows = self._tubes.totals(which)
            results[n] = _summary(Evaluation(totals, self.categories, self._kinds))
        results["vpq"] = {
            name: float(np.mean([results[n][name]["pq"] for n in self.tube_lengths])) if self.tube_lengths else 0.0
            for name in ("All", "Things", "Stuff")
        }
        if per_video:
            results["per_video"] = {
                video: {
                    "frames": frames,
                    **{
                        n: {
                            k: v
                            for k, v in _summary(Evaluation(t, self.categories, self._kinds)).items()
                            if k != "per_class"
                        }
                        for n, (t, _w) in zip(self.tube_lengths, totals, strict=True)
                    },
                }
                for video, frames, totals in videos
            }
        return results

    def state_dict(self) -> dict[str, Any]:
        """The exact state (IoU sums as integers of 2**-128 units), for :meth:`load_state_dict`.
        A video in the middle of its frames is stored with its totals so far and cannot be
        continued after loading."""
        lengths, strict, videos = self._tubes.state()
        return {"version": STATE_VERSION, "tube_lengths": lengths, "strict": strict, "videos": videos}

    def load_state_dict(self, state: Mapping[str, Any]) -> None:
        """Replace this metric's state by ``state`` (from :meth:`state_dict`)."""
        if state.get("version") != STATE_VERSION:
            raise ValueError(
                f"unknown VPQ state version {state.get('version')!r}; this panoptiq reads version {STATE_VERSION}"
            )
        if tuple(state["tube_lengths"]) != self.tube_lengths:
            raise ValueError(
                f"the state is of tube lengths {tuple(state['tube_lengths'])}, this metric's are {self.tube_lengths}"
            )
        self._tubes = _core.Tubes.from_state(list(state["tube_lengths"]), bool(state["strict"]), state["videos"])
        self._names = {}


def _frame_ids(ids: Any, name: str) -> np.ndarray:
    array = np.asarray(ids) if isinstance(ids, list) else ids
    if getattr(array, "ndim", 0) == 3 and array.shape[-1] == 3:
        return np.ascontiguousarray(rgb2id(np.asarray(array)), dtype=np.uint32)
    return id_map(array, name)


def _summary(evaluation: Evaluation) -> dict[str, Any]:
    """panopticapi's dict, with mcahny/vps's per-class ``iou``, ``tp``, ``fp`` and ``fn``."""
    results = evaluation.summary()
    for c in evaluation.classes():
        results["per_class"][c.category_id].update(iou=c.iou_sum, tp=c.tp, fp=c.fp, fn=c.fn)
    return results


def _warn_short(videos: list[tuple[str, int, Any]], lengths: Sequence[int]) -> None:
    longest = max(lengths)
    short = [(video, frames) for video, frames, _ in videos if frames < longest]
    if short:
        shown = ", ".join(f"{video} ({frames})" for video, frames in short[:5])
        more = f" and {len(short) - 5} more" if len(short) > 5 else ""
        warnings.warn(
            f"{len(short)} video(s) have fewer frames than the longest tube ({longest}): {shown}{more}; "
            "they contribute no window of the lengths they are shorter than",
            ShortVideoWarning,
            stacklevel=3,
        )
