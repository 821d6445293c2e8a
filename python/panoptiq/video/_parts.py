"""VPQ of a dataset in parts — whole videos each — evaluated anywhere (Dask workers, a process
pool, separate jobs) and merged exactly: a part's result is every video's exact totals per tube
length, so the merge is integer addition and the result is bit-identical to one machine's.

The serialized form (``VideoPartial`` bytes, UTF-8 JSON) is versioned::

    {"format": "panoptiq.vpq-partial", "version": 1, "part": 3, "frames": [60, 120],
     "tube_lengths": [1, 2, 3, 4], "strict": true,
     "videos": [[video_id, frames, [[[category_id, iou_sum_hex, tp, fp, fn], ...], windows], ...]], ...]}
"""

from __future__ import annotations

import itertools
import json
import math
import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import panoptiq._core as _core
from panoptiq._side import GT, PRED
from panoptiq._storage import Location
from panoptiq.errors import ClusterError
from panoptiq.partials import _opened
from panoptiq.video._files import load_videos
from panoptiq.video._vpq import VideoPanopticQuality

FORMAT = "panoptiq.vpq-partial"
VERSION = 1
#: Tasks per worker thread when the part size is not given.
PARTS_PER_THREAD = 4


@dataclass(frozen=True)
class VideoPart:
    """Whole videos of a dataset: their frames (the core's pairs), each frame's video, where the
    PNGs are, the categories and the tube lengths."""

    index: int
    start: int
    stop: int
    pairs: _core.Pairs = field(repr=False)
    video_ids: tuple[str, ...] = field(repr=False)
    gt: Location
    pred: Location
    categories: _core.Categories = field(repr=False)
    tube_lengths: tuple[int, ...]
    strict: bool


def plan_videos(dataset: Any, videos_per_part: int) -> list[VideoPart]:
    """``dataset`` (a loaded :class:`~panoptiq.video._files.VideoDataset`) cut into parts of
    ``videos_per_part`` whole videos."""
    if not isinstance(videos_per_part, int) or isinstance(videos_per_part, bool) or videos_per_part < 1:
        raise ValueError(f"videos_per_part must be a positive integer, got {videos_per_part!r}")
    starts = [i for i, v in enumerate(dataset.video_ids) if i == 0 or v != dataset.video_ids[i - 1]]
    bounds = [*starts[::videos_per_part], len(dataset.video_ids)]
    kinds = dataset.metric()._kinds
    return [
        VideoPart(
            index,
            start,
            stop,
            dataset.pairs.slice(start, stop),
            tuple(dataset.video_ids[start:stop]),
            dataset.gt.location,
            dataset.pred.location,
            kinds,
            dataset.tube_lengths,
            dataset.strict,
        )
        for index, (start, stop) in enumerate(itertools.pairwise(bounds))
        if stop > start
    ]


def evaluate_video_part(part: VideoPart, num_threads: int | None = 1) -> bytes:
    """Evaluate one part where this runs: its result as bytes (see the module's format)."""
    gt, pred = _opened(part.gt, GT), _opened(part.pred, PRED)
    tubes = _core.Tubes(list(part.tube_lengths), part.strict, num_threads)
    tubes.push_pairs(part.pairs, (0, len(part.pairs)), list(part.video_ids), part.categories, (gt.source, pred.source))
    lengths, strict, videos = tubes.state()
    data = {
        "format": FORMAT,
        "version": VERSION,
        "part": part.index,
        "frames": [part.start, part.stop],
        "tube_lengths": lengths,
        "strict": strict,
        "videos": videos,
    }
    return json.dumps(data, separators=(",", ":")).encode()


def combine(
    parts: list[VideoPart], results: Iterable[bytes | str | Mapping[str, Any]], categories: Any
) -> VideoPanopticQuality:
    """The metric holding every part's videos; each part must be there exactly once."""
    if not parts:
        raise ValueError("no part to combine")
    metric = VideoPanopticQuality(categories, parts[0].tube_lengths, strict=parts[0].strict)
    seen = set()
    for item in results:
        data = json.loads(item) if isinstance(item, (bytes, bytearray, str)) else item
        if not isinstance(data, Mapping) or data.get("format") != FORMAT or data.get("version") != VERSION:
            raise ValueError(f"not a {FORMAT} version {VERSION} result")
        index = int(data["part"])
        if not 0 <= index < len(parts) or index in seen:
            raise ValueError(f"a result for part {index}, which this plan does not have or has twice")
        if list(data["frames"]) != [parts[index].start, parts[index].stop]:
            expected = [parts[index].start, parts[index].stop]
            raise ValueError(f"the result for part {index} covers frames {data['frames']}, the plan's part {expected}")
        seen.add(index)
        try:
            videos = [
                (str(video), int(frames), [([tuple(row) for row in rows], int(windows)) for rows, windows in totals])
                for video, frames, totals in data["videos"]
            ]
        except (TypeError, ValueError) as error:
            raise ValueError(f"malformed {FORMAT} result for part {index}: {error}") from None
        metric._tubes.merge(_core.Tubes.from_state(list(data["tube_lengths"]), bool(data["strict"]), videos))
    if len(seen) != len(parts):
        raise ValueError(
            f"{len(parts) - len(seen)} of {len(parts)} parts have no result: a partial result is not the dataset's"
        )
    return metric


def evaluate_on(client: Any, dataset: Any, videos_per_part: int | None = None) -> VideoPanopticQuality:
    """Evaluate ``dataset`` on the Dask cluster of ``client``, whole videos per task."""
    from panoptiq.dask import _distributed

    distributed = _distributed()
    videos = len({v for v in dataset.video_ids})
    if videos_per_part is None:
        threads = max(sum(client.nthreads().values()), 1)
        videos_per_part = max(1, math.ceil(videos / (PARTS_PER_THREAD * threads)))
    parts = plan_videos(dataset, videos_per_part)
    run = uuid.uuid4().hex[:12]
    futures = client.map(evaluate_video_part, parts, key=[f"panoptiq-vpq-{run}-{p.index}" for p in parts], pure=False)
    results = []
    try:
        for future in distributed.as_completed(futures):
            try:
                results.append(future.result())
            except distributed.KilledWorker as error:
                raise ClusterError(f"a part of the VPQ evaluation lost every worker that ran it ({error})") from None
    finally:
        client.cancel([f for f in futures if not f.done()])
    return combine(parts, results, dataset.categories)


@dataclass
class VideoPlan:
    """A video dataset cut into :class:`VideoPart` s of whole videos, and how their results
    combine::

        plan = vpq_plan("gt.json", "pred.json", "gt/", "pred/", videos_per_part=10)
        results = pool.map(evaluate_video_part, plan.parts)  # any engine; parts pickle
        plan.combine(results)[1]["All"]
    """

    dataset: Any
    parts: list[VideoPart]

    def __len__(self) -> int:
        return len(self.parts)

    def combine(self, results: Iterable[bytes | str | Mapping[str, Any]], *, per_video: bool = False) -> dict[Any, Any]:
        """The merged results, as :func:`vpq_compute` returns them."""
        return combine(self.parts, results, self.dataset.categories).compute(per_video=per_video)


def vpq_plan(
    gt_json_file: Any,
    pred_json_file: Any,
    gt_folder: Any = None,
    pred_folder: Any = None,
    *,
    videos_per_part: int = 10,
    **options: Any,
) -> VideoPlan:
    """Read a video dataset (arguments as :func:`~panoptiq.video.vpq_compute`'s) and cut it into
    parts of ``videos_per_part`` whole videos. The workers must reach the folders by the same
    names."""
    dataset = load_videos(gt_json_file, pred_json_file, gt_folder, pred_folder, **options)
    return VideoPlan(dataset, plan_videos(dataset, videos_per_part))
