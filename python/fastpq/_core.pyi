# Type stubs of the compiled extension fastpq._core (src/python/mod.rs); kept by hand.
import numpy as np
import numpy.typing as npt

def rgb2id_u8(rgb: npt.NDArray[np.uint8]) -> npt.NDArray[np.uint32]: ...
def rgb2id_u32(rgb: npt.NDArray[np.uint32]) -> npt.NDArray[np.uint32]: ...
def id2rgb(ids: npt.NDArray[np.uint32]) -> npt.NDArray[np.uint8]: ...
def read_id_map_png(path: str) -> npt.NDArray[np.uint32]: ...
def evaluate_image(
    image_id: str,
    gt_ids: npt.NDArray[np.uint32],
    pred_ids: npt.NDArray[np.uint32],
    gt_segment_ids: npt.NDArray[np.uint32],
    gt_category_ids: npt.NDArray[np.int64],
    gt_iscrowd: npt.NDArray[np.bool_],
    gt_areas: npt.NDArray[np.int64],
    pred_segment_ids: npt.NDArray[np.uint32],
    pred_category_ids: npt.NDArray[np.int64],
    category_ids: npt.NDArray[np.int64],
) -> list[tuple[int, float, int, int, int]]: ...
def pq_average(
    stats: list[tuple[int, float, int, int, int]],
    categories: list[tuple[int, bool]],
    isthing: bool | None,
) -> tuple[float, float, float, int, list[tuple[int, float, float, float, bool]]]: ...
