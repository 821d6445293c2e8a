# Type stubs of the compiled extension panoptiq._core (src/python/), kept by hand and checked
# against it by mypy.stubtest in CI. Grouped as the binding files are.
from collections.abc import Sequence
from typing import Any, final

import numpy as np
import numpy.typing as npt

__all__ = [
    "ArchiveError",
    "ArchiveFolder",
    "Batch",
    "CancelToken",
    "Categories",
    "CombineInputs",
    "CombineResults",
    "Evaluator",
    "LidarCounts",
    "LidarTracks",
    "Options",
    "Pairs",
    "StqCounts",
    "Totals",
    "Tubes",
    "anchors",
    "compare",
    "convert_cityscapes",
    "convert_combine",
    "convert_detections",
    "convert_semantic",
    "convert_to_detection",
    "convert_two_channels",
    "decode_files",
    "decoder_engine",
    "default_threads",
    "evaluate_image",
    "id2rgb",
    "id_masks",
    "image_details",
    "paint_ids",
    "paint_masks",
    "polygon_strings",
    "polygons_string",
    "pq_average",
    "read_combine_results",
    "read_id_map_png",
    "read_label_file",
    "relabel_ids",
    "rgb2id_u8",
    "rgb2id_u32",
    "rle_area",
    "rle_bbox",
    "rle_decode",
    "rle_encode",
    "rle_merge",
    "rle_string",
    "write_id_map_png",
    "write_rgb_png",
]

_GtColumns = tuple[npt.NDArray[np.uint32], npt.NDArray[np.int64], npt.NDArray[np.bool_], npt.NDArray[np.int64]]
_PredColumns = tuple[npt.NDArray[np.uint32], npt.NDArray[np.int64]]
# (image_id, pq, sq, rq, n, tp, fp, fn)
_ImageRow = tuple[str, float, float, float, int, int, int, int]
# (image_id, side, segment_id, category_id, area, fate, other_id, other_category_id, other_iou,
# other_boundary_iou)
_SegmentRow = tuple[str, str, int, int, int, str, int | None, int | None, float | None, float | None, str | None]
_Details = tuple[list[_ImageRow], list[_SegmentRow]]
_StatRow = tuple[int, float, int, int, int]
# A mask: (height, width, compressed counts) or (height, width, counts), or polygons.
_Mask = tuple[int, int, bytes] | tuple[int, int, list[int]] | list[list[float]]
# One image side as masks: its (height, width) when known, its (id, isthing, score, mask) segments.
_SideMasks = tuple[tuple[int, int] | None, list[tuple[int, bool, float | None, _Mask]]]
_ExactRow = tuple[int, str, int, int, int]

def default_threads() -> int: ...

# ids.rs
def relabel_ids(ids: npt.NDArray[np.uint32], labels: dict[int, int], default: int) -> npt.NDArray[np.int64]: ...
def rgb2id_u8(rgb: npt.NDArray[np.uint8]) -> npt.NDArray[np.uint32]: ...
def rgb2id_u32(rgb: npt.NDArray[np.uint32]) -> npt.NDArray[np.uint32]: ...
def id2rgb(ids: npt.NDArray[np.uint32]) -> npt.NDArray[np.uint8]: ...

# png.rs
def read_id_map_png(path: str, reference: bool = False, data: bytes | None = None) -> npt.NDArray[np.uint32]: ...
def write_id_map_png(path: str, ids: npt.NDArray[np.uint32], alpha: bool) -> None: ...
def decode_files(paths: list[str], num_threads: int | None) -> int: ...
def decoder_engine() -> str: ...

# io.rs
class ArchiveError(ValueError):
    """A zip or tar archive that cannot be read."""

@final
class ArchiveFolder:
    """A folder inside a zip or tar archive, its directory read once."""

    def __new__(cls, archive: str, inner: str, root: str) -> ArchiveFolder: ...
    @staticmethod
    def from_bytes(data: bytes, name: str, inner: str, root: str) -> ArchiveFolder: ...
    @property
    def kind(self) -> str: ...
    @property
    def prefix(self) -> str: ...
    def __len__(self) -> int: ...
    def read(self, name: str) -> bytes: ...

# Where one side's PNGs are: an archive folder, or one bytes object per image (None: on disk).
_Source = ArchiveFolder | Sequence[bytes] | None

# options.rs
@final
class Options:
    """What an evaluation computes: mask IoU or Boundary PQ's, records or not, threads."""

    def __new__(
        cls,
        iou_type: str = "segm",
        dilation_ratio: float = 0.02,
        reference_marker: bool = False,
        records: bool = False,
        threads: int | None = None,
        image_stats: bool = False,
        breakdown: bool = False,
    ) -> Options: ...
    @property
    def iou_type(self) -> str: ...
    @property
    def dilation_ratio(self) -> float | None: ...
    @property
    def reference_marker(self) -> bool: ...
    @property
    def records(self) -> bool: ...
    @property
    def threads(self) -> int | None: ...
    @property
    def image_stats(self) -> bool: ...
    @property
    def breakdown(self) -> bool: ...
    def __reduce__(self) -> tuple[Any, ...]: ...

# results.rs
@final
class Categories:
    """Every class of an evaluation, (id, isthing) in order, with the rules of what is scored."""

    def __new__(
        cls,
        kinds: list[tuple[int, bool]],
        groups: list[tuple[int, int]] | None = None,
        averaged: list[int] | None = None,
        iou_threshold: float = 0.5,
        size_edges: list[int] | None = None,
    ) -> Categories: ...
    @staticmethod
    def of_ids(ids: list[int]) -> Categories: ...
    def __len__(self) -> int: ...
    def kinds(self) -> list[tuple[int, bool]]: ...
    def groups(self) -> list[tuple[int, int]] | None: ...
    def averaged(self) -> list[int]: ...
    @property
    def iou_threshold(self) -> float: ...
    @property
    def size_edges(self) -> list[int] | None: ...
    def __reduce__(self) -> tuple[Any, ...]: ...

_U64s = np.ndarray[Any, np.dtype[np.uint64]]
_ImageColumns = tuple[
    int, _U64s, np.ndarray[Any, np.dtype[np.int64]], np.ndarray[Any, np.dtype[np.float64]], _U64s, _U64s, _U64s
]
_ImageLists = tuple[int, list[int], list[int], list[float], list[int], list[int], list[int]]

@final
class Totals:
    """Per-category running totals with exact IoU sums, per size slice when sliced, and every
    image's per-class sums when kept."""

    def __init__(self) -> None: ...
    def rows(self) -> list[_StatRow]: ...
    def exact_rows(self) -> list[_ExactRow]: ...
    @staticmethod
    def from_exact_rows(
        rows: list[_ExactRow],
        sizes: list[list[_ExactRow]] | None = None,
        images: _ImageLists | None = None,
        fixed: list[list[_ExactRow]] | None = None,
    ) -> Totals: ...
    def exact_fixed_rows(self) -> list[list[_ExactRow]]: ...
    def fixed(self) -> list[Totals]: ...
    def exact_size_rows(self) -> list[list[_ExactRow]]: ...
    def sizes(self) -> list[Totals]: ...
    def image_columns(self) -> _ImageColumns | None: ...
    def image_lists(self) -> _ImageLists | None: ...
    def merge(self, other: Totals) -> None: ...
    def summary(
        self, categories: Categories
    ) -> tuple[
        list[tuple[float, float, float, int]],
        list[tuple[int, bool, float, float, float, bool, float, int, int, int]],
    ]: ...

def pq_average(
    stats: list[_StatRow],
    categories: list[tuple[int, bool]],
    isthing: bool | None,
) -> tuple[float, float, float, int, list[tuple[int, float, float, float, bool]]]: ...

# pairs.rs
_SideIn = tuple[Sequence[str], Sequence[int], Any]

@final
class Pairs:
    """Matched image pairs with their PNG paths and segments, held by the core."""

    def __new__(
        cls,
        image_ids: Sequence[str],
        gt: tuple[Sequence[str], Sequence[int], _GtColumns],
        pred: tuple[Sequence[str], Sequence[int], _PredColumns],
        json_files: tuple[str, str] | None = None,
    ) -> Pairs: ...
    @staticmethod
    def read(
        json: tuple[str, str], folders: tuple[str, str], threads: int | None
    ) -> tuple[Pairs, str] | tuple[None, bytes | None, bytes | None]: ...
    @staticmethod
    def read_masked(
        json: tuple[str, str],
        folders: tuple[str, str],
        mask_folders: tuple[str | None, str | None],
        overlap: tuple[float, float, float] | None = None,
        threads: int | None = None,
    ) -> tuple[Pairs, str, tuple[bool, bool]] | None: ...
    @staticmethod
    def parse(
        texts: tuple[bytes, bytes], json: tuple[str, str], folders: tuple[str, str], threads: int | None
    ) -> tuple[Pairs, str] | None: ...
    @staticmethod
    def read_comparison(
        gt: tuple[str, str], preds: list[tuple[str, str]], threads: int | None
    ) -> tuple[list[Pairs | None], str | None]: ...
    def __len__(self) -> int: ...
    def __reduce__(self) -> tuple[Any, ...]: ...
    def slice(self, start: int, stop: int) -> Pairs: ...
    def image_ids(self, start: int, stop: int) -> list[str]: ...
    def paths(self, start: int, stop: int) -> tuple[list[str], list[str]]: ...
    def pair(self, index: int) -> tuple[str, str, str, list[tuple[int, int, bool, int]], list[tuple[int, int]]]: ...
    def evaluate(
        self,
        start: int,
        stop: int,
        categories: Categories,
        options: Options,
        sources: tuple[_Source, _Source] = ...,
        masks: tuple[list[_SideMasks] | None, list[_SideMasks] | None] = ...,
        overlap: tuple[float, float, float] | None = None,
    ) -> tuple[Totals, _Details | None]: ...

def compare(
    sets: list[Pairs],
    start: int,
    stop: int,
    categories: Categories,
    options: Options,
    sources: tuple[_Source, list[_Source]],
) -> list[tuple[Totals, _Details | None]]: ...

# image.rs
def evaluate_image(
    image_id: str,
    pair: tuple[npt.NDArray[np.uint32], npt.NDArray[np.uint32], _GtColumns, _PredColumns],
    categories: Categories,
) -> list[_StatRow]: ...
def image_details(
    image_id: str,
    pair: tuple[npt.NDArray[np.uint32], npt.NDArray[np.uint32], _GtColumns, _PredColumns],
    categories: Categories,
) -> tuple[_ImageRow, list[_SegmentRow]]: ...

# metric.rs, metric_inputs.rs
@final
class CancelToken:
    """Stops a metric's work running off Python's main thread."""

    def __init__(self) -> None: ...
    def cancel(self) -> None: ...
    def is_cancelled(self) -> bool: ...

@final
class Batch:
    """One update: its images' keys, the rows it returns, its cancel token, the maps' width."""

    def __new__(
        cls,
        keys: list[str],
        rows: bool = False,
        segments: bool = False,
        cancel: CancelToken | None = None,
        width: int | None = None,
    ) -> Batch: ...

_BatchResult = tuple[Totals, list[_ImageRow] | None, list[_SegmentRow] | None]
_IdMapSegments = tuple[list[int], _PredColumns, list[int], _GtColumns]

@final
class Evaluator:
    """A metric's evaluation settings."""

    def __new__(
        cls,
        categories: Categories,
        rules: str,
        modified: bool,
        void_category: int | None,
        allow_unknown_preds: bool,
        options: Options | None = None,
    ) -> Evaluator: ...
    def update_pairs(
        self, maps: tuple[npt.NDArray[np.integer], npt.NDArray[np.integer]], batch: Batch
    ) -> _BatchResult: ...
    def update_encoded(
        self, maps: tuple[npt.NDArray[np.integer], npt.NDArray[np.integer]], label_divisor: int, batch: Batch
    ) -> _BatchResult: ...
    def update_id_maps(
        self, maps: tuple[npt.NDArray[np.uint32], npt.NDArray[np.uint32]], segments: _IdMapSegments, batch: Batch
    ) -> _BatchResult: ...
    def update_rgb(
        self, maps: tuple[npt.NDArray[np.uint8], npt.NDArray[np.uint8]], segments: _IdMapSegments, batch: Batch
    ) -> _BatchResult: ...

# draw.rs
def paint_ids(
    ids: npt.NDArray[np.uint32],
    palette: tuple[npt.NDArray[np.uint32], npt.NDArray[np.uint8], tuple[int, int, int]],
    photo: npt.NDArray[np.uint8] | None = None,
    alpha: float = 1.0,
    border: tuple[int, int, int] | None = None,
) -> npt.NDArray[np.uint8]: ...
def anchors(ids: npt.NDArray[np.uint32]) -> list[tuple[int, int, int, int, int, int, int, int, int]]: ...
def write_rgb_png(path: str, rgb: npt.NDArray[np.uint8]) -> None: ...

# video.rs
_VideoRow = tuple[str, int, list[tuple[list[_ExactRow], int]]]

@final
class Tubes:
    """Every video's VPQ windows for one set of tube lengths."""

    def __new__(cls, lengths: list[int], strict: bool = True, threads: int | None = None) -> Tubes: ...
    @property
    def lengths(self) -> list[int]: ...
    @property
    def strict(self) -> bool: ...
    def push_maps(
        self,
        video_id: str,
        image_id: str,
        maps: tuple[npt.NDArray[np.uint32], npt.NDArray[np.uint32]],
        segments: tuple[Any, Any],
        categories: Categories,
    ) -> None: ...
    def push_pairs(
        self,
        pairs: Pairs,
        frames: tuple[int, int],
        video_ids: list[str],
        categories: Categories,
        sources: tuple[_Source, _Source] = ...,
    ) -> None: ...
    def totals(self, which: int) -> tuple[Totals, int]: ...
    def videos(self) -> list[tuple[str, int, list[tuple[Totals, int]]]]: ...
    def merge(self, other: Tubes) -> None: ...
    def state(self) -> tuple[list[int], bool, list[_VideoRow]]: ...
    @staticmethod
    def from_state(lengths: list[int], strict: bool, videos: list[_VideoRow]) -> Tubes: ...
    def __reduce__(self) -> tuple[Any, ...]: ...

# stq.rs
_StqArguments = tuple[int, list[int], int, int, bool]
_SequenceParts = tuple[list[float], list[tuple[int, float]], list[tuple[int, float]], list[tuple[int, int, float]], int]

@final
class StqCounts:
    """Every sequence's STQ counts, by position."""

    def __new__(cls, arguments: _StqArguments) -> StqCounts: ...
    def __len__(self) -> int: ...
    def add_frame(
        self,
        index: int,
        y_true: npt.NDArray[np.int64],
        y_pred: npt.NDArray[np.int64],
        weights: npt.NDArray[np.float64] | None,
        name: str,
    ) -> None: ...
    def merge_sequence(self, other: StqCounts, theirs: int, mine: int | None) -> None: ...
    def pieces(self, index: int) -> tuple[float, int, npt.NDArray[np.float64], int]: ...
    def state(self) -> tuple[_StqArguments, list[_SequenceParts]]: ...
    @staticmethod
    def from_state(arguments: _StqArguments, sequences: list[_SequenceParts]) -> StqCounts: ...
    def __reduce__(self) -> tuple[Any, ...]: ...

# lidar.rs
_LidarArguments = tuple[int, list[int], int]
_LidarPoints = tuple[npt.NDArray[np.int64], npt.NDArray[np.int64], npt.NDArray[np.int64], npt.NDArray[np.int64]]
_LidarState = tuple[list[int], list[int], list[int], list[int], list[str]]
_TrackParts = tuple[list[tuple[int, int]], list[list[tuple[int, int]]], list[list[tuple[int, int, int]]]]

def read_label_file(path: str) -> npt.NDArray[np.uint32]: ...

@final
class LidarCounts:
    """semantic-kitti-api's PanopticEval totals."""

    def __new__(cls, arguments: _LidarArguments) -> LidarCounts: ...
    def add_semantic(self, x_sem: npt.NDArray[np.int64], y_sem: npt.NDArray[np.int64], name: str) -> None: ...
    def add_panoptic(self, points: _LidarPoints, name: str) -> None: ...
    def add_scan(self, points: _LidarPoints, name: str) -> None: ...
    def add_label_files(
        self,
        scans: list[tuple[str, str, str]],
        lut: list[int],
        limit: int | None = None,
        strict: bool = False,
        threads: int | None = None,
    ) -> int: ...
    def merge(self, other: LidarCounts) -> None: ...
    def arrays(
        self,
    ) -> tuple[
        npt.NDArray[np.int64],
        npt.NDArray[np.int64],
        npt.NDArray[np.int64],
        npt.NDArray[np.int64],
        npt.NDArray[np.float64],
    ]: ...
    def state(self) -> tuple[_LidarArguments, _LidarState]: ...
    @staticmethod
    def from_state(arguments: _LidarArguments, state: _LidarState) -> LidarCounts: ...
    def __reduce__(self) -> tuple[Any, ...]: ...

@final
class LidarTracks:
    """4D-PLS's per-sequence tracks."""

    def __new__(cls, arguments: _LidarArguments) -> LidarTracks: ...
    def __len__(self) -> int: ...
    def add_scan(self, index: int, points: _LidarPoints, name: str) -> None: ...
    def merge_sequence(self, other: LidarTracks, theirs: int, mine: int | None) -> None: ...
    def association(
        self, index: int
    ) -> tuple[list[float], list[int], npt.NDArray[np.float64], npt.NDArray[np.float64]]: ...
    def state(self) -> tuple[_LidarArguments, list[_TrackParts]]: ...
    @staticmethod
    def from_state(arguments: _LidarArguments, sequences: list[_TrackParts]) -> LidarTracks: ...
    def __reduce__(self) -> tuple[Any, ...]: ...

# masks.rs (_Mask: above)
def rle_encode(column_major: npt.NDArray[np.uint8], height: int, width: int) -> bytes: ...
def rle_decode(mask: _Mask, height: int, width: int) -> npt.NDArray[np.uint8]: ...
def rle_string(mask: _Mask, height: int, width: int) -> bytes: ...
def rle_area(mask: _Mask, height: int, width: int) -> int: ...
def rle_bbox(mask: _Mask, height: int, width: int) -> tuple[int, int, int, int]: ...
def rle_merge(masks: list[_Mask], height: int, width: int, intersect: bool = False) -> bytes: ...
def polygon_strings(polygons: list[list[float]], height: int, width: int) -> list[bytes]: ...
def polygons_string(polygons: list[list[float]], height: int, width: int) -> bytes: ...
def id_masks(ids: npt.NDArray[np.uint32], wanted: list[int]) -> list[bytes]: ...
def paint_masks(
    height: int,
    width: int,
    segments: list[tuple[int, bool, float | None, _Mask]],
    overlap: tuple[float, float, float] | None = None,
) -> tuple[npt.NDArray[np.uint32], list[int]]: ...

# convert.rs
# Categories: (id, isthing, (r, g, b)).
_Palette = list[tuple[int, bool, tuple[int, int, int]]]

def convert_two_channels(
    jobs: list[tuple[str, str, str]], categories: _Palette, void: int, seed: int, first: int, threads: int | None = None
) -> list[list[tuple[int, int]]]: ...
def convert_detections(
    jobs: list[tuple[str, str, int, int, list[tuple[int, _Mask]], list[str]]],
    categories: _Palette,
    seed: int,
    first: int,
    threads: int | None = None,
) -> list[list[int]]: ...
def convert_to_detection(
    jobs: list[tuple[str, str, list[int]]], threads: int | None = None
) -> list[tuple[int, int, list[str]]]: ...
def convert_semantic(
    jobs: list[tuple[str, str, list[tuple[int, int]], str | None, list[int]]],
    colormap: list[tuple[int, tuple[int, int, int]]] | None = None,
    threads: int | None = None,
) -> list[tuple[int, int, list[tuple[str, int, tuple[int, int, int, int]]]]]: ...

@final
class CombineResults:
    """Both results files of a combination, parsed in Rust until grouped."""

    def group(
        self, images: Sequence[int | str], categories: Sequence[tuple[int, bool | None]], confidence_thr: float
    ) -> CombineInputs | None: ...

@final
class CombineInputs:
    """A combination's inputs, image by image: instances by descending score, stuff regions."""

    def __new__(
        cls, images: Sequence[tuple[Sequence[tuple[int, int, _Mask]], Sequence[tuple[int, int, _Mask]]]]
    ) -> CombineInputs: ...
    def __len__(self) -> int: ...

def read_combine_results(semantic: str, instances: str, threads: int | None = None) -> CombineResults | None: ...
def convert_combine(
    inputs: CombineInputs,
    jobs: list[tuple[str, str, int, int]],
    files: tuple[str, str],
    overlap_thr: float,
    stuff_area_limit: float,
    categories: _Palette,
    seed: int,
    first: int,
    threads: int | None = None,
) -> list[list[tuple[int, int]]]: ...
def convert_cityscapes(
    jobs: list[tuple[str, str, str]], categories: _Palette, seed: int, first: int, threads: int | None = None
) -> list[tuple[int, int, list[tuple[int, int, int, tuple[int, int, int, int], bool]]]]: ...
