# Type stubs of the compiled extension panoptiq._core (src/python/mod.rs); kept by hand.
from collections.abc import Sequence
from typing import final

import numpy as np
import numpy.typing as npt

__all__ = [
    "Annotations",
    "ArchiveError",
    "ArchiveFolder",
    "CancelToken",
    "Evaluator",
    "Totals",
    "anchors",
    "decode_files",
    "decoder_engine",
    "default_threads",
    "evaluate_files",
    "evaluate_image",
    "id2rgb",
    "image_details",
    "load_annotations",
    "paint_ids",
    "parse_annotations",
    "pq_average",
    "read_id_map_png",
    "rgb2id_u8",
    "rgb2id_u32",
    "write_id_map_png",
    "write_rgb_png",
]

def rgb2id_u8(rgb: npt.NDArray[np.uint8]) -> npt.NDArray[np.uint32]: ...
def rgb2id_u32(rgb: npt.NDArray[np.uint32]) -> npt.NDArray[np.uint32]: ...
def id2rgb(ids: npt.NDArray[np.uint32]) -> npt.NDArray[np.uint8]: ...
def read_id_map_png(path: str, reference: bool = False, data: bytes | None = None) -> npt.NDArray[np.uint32]: ...
def image_details(
    image_id: str,
    gt_ids: npt.NDArray[np.uint32],
    pred_ids: npt.NDArray[np.uint32],
    gt: tuple[npt.NDArray[np.uint32], npt.NDArray[np.int64], npt.NDArray[np.bool_], npt.NDArray[np.int64]],
    pred: tuple[npt.NDArray[np.uint32], npt.NDArray[np.int64]],
    category_ids: npt.NDArray[np.int64],
) -> tuple[
    tuple[str, float, float, float, int, int, int, int],
    list[tuple[str, str, int, int, int, str, int | None, int | None, float | None, float | None]],
]: ...
def paint_ids(
    ids: npt.NDArray[np.uint32],
    segment_ids: npt.NDArray[np.uint32],
    colors: npt.NDArray[np.uint8],
    fallback: tuple[int, int, int],
    photo: npt.NDArray[np.uint8] | None = None,
    alpha: float = 1.0,
    border: tuple[int, int, int] | None = None,
) -> npt.NDArray[np.uint8]: ...
def anchors(ids: npt.NDArray[np.uint32]) -> list[tuple[int, int, int, int, int, int, int, int, int]]: ...
def write_rgb_png(path: str, rgb: npt.NDArray[np.uint8]) -> None: ...
def evaluate_image(
    image_id: str,
    gt_ids: npt.NDArray[np.uint32],
    pred_ids: npt.NDArray[np.uint32],
    gt: tuple[npt.NDArray[np.uint32], npt.NDArray[np.int64], npt.NDArray[np.bool_], npt.NDArray[np.int64]],
    pred: tuple[npt.NDArray[np.uint32], npt.NDArray[np.int64]],
    category_ids: npt.NDArray[np.int64],
) -> list[tuple[int, float, int, int, int]]: ...
def pq_average(
    stats: list[tuple[int, float, int, int, int]],
    categories: list[tuple[int, bool]],
    isthing: bool | None,
) -> tuple[float, float, float, int, list[tuple[int, float, float, float, bool]]]: ...
def evaluate_files(
    image_ids: list[str],
    gt_paths: list[str],
    pred_paths: list[str],
    gt_offsets: list[int],
    gt: tuple[npt.NDArray[np.uint32], npt.NDArray[np.int64], npt.NDArray[np.bool_], npt.NDArray[np.int64]],
    pred_offsets: list[int],
    pred: tuple[npt.NDArray[np.uint32], npt.NDArray[np.int64]],
    category_ids: npt.NDArray[np.int64],
    totals: Totals,
    num_threads: int | None,
    json_files: tuple[str, str] | None = None,
    gt_from: _Source | None = None,
    pred_from: _Source | None = None,
    details: bool = False,
    boundary: tuple[float, bool] | None = None,
) -> _Details | None: ...

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

# Per-image rows (image_id, pq, sq, rq, n, tp, fp, fn) and per-segment rows (image_id, side,
# segment_id, category_id, area, fate, other_id, other_category_id, other_iou).
_Details = tuple[
    list[tuple[str, float, float, float, int, int, int, int]],
    list[tuple[str, str, int, int, int, str, int | None, int | None, float | None, float | None]],
]

# Where one side's PNGs are: an archive folder, or one bytes object per image (None: on disk).
_Source = ArchiveFolder | Sequence[bytes]
_Columns = tuple[
    list[str],
    list[str],
    list[str],
    list[int],
    tuple[npt.NDArray[np.uint32], npt.NDArray[np.int64], npt.NDArray[np.bool_], npt.NDArray[np.int64]],
    list[int],
    tuple[npt.NDArray[np.uint32], npt.NDArray[np.int64]],
]

@final
class Annotations:
    """Image pairs read from COCO panoptic JSON files by the Rust reader."""

    def __len__(self) -> int: ...
    @property
    def categories_json(self) -> str: ...
    def evaluate(
        self,
        start: int,
        stop: int,
        category_ids: npt.NDArray[np.int64],
        totals: Totals,
        num_threads: int | None,
        gt_from: _Source | None = None,
        pred_from: _Source | None = None,
        details: bool = False,
        boundary: tuple[float, bool] | None = None,
    ) -> _Details | None: ...
    def ids(self, start: int, stop: int) -> list[str]: ...
    def paths(self, start: int, stop: int) -> tuple[list[str], list[str]]: ...
    def columns(self, start: int, stop: int) -> _Columns: ...

def load_annotations(
    gt_json: str, pred_json: str, gt_folder: str, pred_folder: str, num_threads: int | None
) -> Annotations | None: ...
def parse_annotations(
    gt_text: bytes,
    pred_text: bytes,
    gt_json: str,
    pred_json: str,
    gt_folder: str,
    pred_folder: str,
    num_threads: int | None,
) -> Annotations | None: ...
def write_id_map_png(path: str, ids: npt.NDArray[np.uint32], alpha: bool) -> None: ...
def decode_files(paths: list[str], num_threads: int | None) -> int: ...
def default_threads() -> int: ...
def decoder_engine() -> str: ...

@final
class Totals:
    """Per-category running totals with exact IoU sums."""

    def __init__(self) -> None: ...
    def rows(self) -> list[tuple[int, float, int, int, int]]: ...
    def exact_rows(self) -> list[tuple[int, str, int, int, int]]: ...
    @staticmethod
    def from_exact_rows(rows: list[tuple[int, str, int, int, int]]) -> Totals: ...
    def merge(self, other: Totals) -> None: ...

_ImageRow = tuple[str, float, float, float, int, int, int, int]
_GtColumns = tuple[npt.NDArray[np.uint32], npt.NDArray[np.int64], npt.NDArray[np.bool_], npt.NDArray[np.int64]]
_PredColumns = tuple[npt.NDArray[np.uint32], npt.NDArray[np.int64]]
_SegmentRow = tuple[str, str, int, int, int, str, int | None, int | None, float | None, float | None]
_BatchRows = tuple[list[_ImageRow] | None, list[_SegmentRow] | None]

@final
class Evaluator:
    """A metric's evaluation settings."""

    def __new__(
        cls,
        categories: list[tuple[int, bool]],
        rules: str,
        modified: bool,
        void_category: int | None,
        allow_unknown_preds: bool,
        boundary: tuple[float, bool] | None = None,
    ) -> Evaluator: ...
    def update_pairs(
        self,
        preds: npt.NDArray[np.integer],
        targets: npt.NDArray[np.integer],
        keys: list[str],
        totals: Totals,
        rows: bool,
        cancel: CancelToken | None = None,
        width: int | None = None,
    ) -> _BatchRows: ...
    def update_encoded(
        self,
        preds: npt.NDArray[np.integer],
        targets: npt.NDArray[np.integer],
        label_divisor: int,
        keys: list[str],
        totals: Totals,
        rows: bool,
        cancel: CancelToken | None = None,
        width: int | None = None,
    ) -> _BatchRows: ...
    def update_id_maps(
        self,
        preds: npt.NDArray[np.uint32],
        targets: npt.NDArray[np.uint32],
        pred_offsets: list[int],
        pred: _PredColumns,
        gt_offsets: list[int],
        gt: _GtColumns,
        keys: list[str],
        totals: Totals,
        rows: bool,
        cancel: CancelToken | None = None,
        segments: bool = False,
        width: int | None = None,
    ) -> _BatchRows: ...
    def update_rgb(
        self,
        preds: npt.NDArray[np.uint8],
        targets: npt.NDArray[np.uint8],
        pred_offsets: list[int],
        pred: _PredColumns,
        gt_offsets: list[int],
        gt: _GtColumns,
        keys: list[str],
        totals: Totals,
        rows: bool,
        cancel: CancelToken | None = None,
        segments: bool = False,
        width: int | None = None,
    ) -> _BatchRows: ...

@final
class CancelToken:
    """Stops a metric's work running off Python's main thread."""

    def __init__(self) -> None: ...
    def cancel(self) -> None: ...
    def is_cancelled(self) -> bool: ...
