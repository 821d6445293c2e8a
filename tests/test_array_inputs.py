"""Maps and colours given as anything numpy can view as an array: strided views, DLPack and
``__array__`` producers (as CPU torch tensors are), nested lists; accelerator memory refused."""

from __future__ import annotations

import numpy as np
import panopticapi.utils
import pytest

import panoptiq

CATEGORIES = {1: {"id": 1, "isthing": 1}, 3: {"id": 3, "isthing": 0}}
GT_SEGMENTS = [
    {"id": 1, "category_id": 1, "iscrowd": 0, "area": 7},
    {"id": 2, "category_id": 3, "iscrowd": 0, "area": 5},
]
PRED_SEGMENTS = [{"id": 1, "category_id": 1}, {"id": 2, "category_id": 3}]


class DLPackProducer:
    """Exports its array only through the DLPack protocol, as a CPU torch tensor does."""

    def __init__(self, array: np.ndarray, device: tuple[int, int] | None = None) -> None:
        self.array = array
        self.device = device

    def __dlpack__(self, **kwargs):
        if self.device is not None:
            raise AssertionError("memory on an accelerator must not be exported to numpy")
        return self.array.__dlpack__(**kwargs)

    def __dlpack_device__(self):
        return self.device if self.device is not None else self.array.__dlpack_device__()


class ArrayProducer:
    """Exports its array only through ``__array__``."""

    def __init__(self, array: np.ndarray) -> None:
        self.array = array

    def __array__(self, dtype=None, copy=None):
        return self.array if dtype is None else self.array.astype(dtype)


def maps() -> tuple[np.ndarray, np.ndarray]:
    gt = np.array([[1, 1, 2, 2], [1, 1, 2, 0], [1, 1, 1, 2]], dtype=np.int64)
    pred = np.array([[1, 1, 2, 2], [1, 2, 2, 0], [1, 1, 1, 2]], dtype=np.int64)
    return gt, pred


def evaluate(gt, pred):
    return panoptiq.evaluate_image(gt, GT_SEGMENTS, pred, PRED_SEGMENTS, CATEGORIES, image_id=1)


@pytest.mark.parametrize(
    "wrap",
    [
        pytest.param(lambda a: a.astype(np.uint32), id="uint32"),
        pytest.param(lambda a: np.asfortranarray(a), id="fortran-order"),
        pytest.param(lambda a: np.ascontiguousarray(np.repeat(a, 2, axis=1)[:, ::2]), id="copied-strided"),
        pytest.param(lambda a: np.repeat(a, 2, axis=1)[:, ::2], id="strided-view"),
        pytest.param(lambda a: np.ascontiguousarray(a.T).T, id="transposed-view"),
        pytest.param(lambda a: a.astype(np.uint16), id="uint16"),
        pytest.param(lambda a: a.tolist(), id="nested-list"),
        pytest.param(lambda a: DLPackProducer(a.astype(np.int32)), id="dlpack"),
        pytest.param(lambda a: DLPackProducer(np.asfortranarray(a)), id="dlpack-fortran"),
        pytest.param(lambda a: ArrayProducer(a), id="__array__"),
    ],
)
def test_evaluate_image_takes_any_array_like_and_layout(wrap) -> None:
    gt, pred = maps()
    expected = evaluate(gt.astype(np.uint32), pred.astype(np.uint32))
    assert expected[1].tp == 1  # the maps give a match to compare
    assert evaluate(wrap(gt), wrap(pred)) == expected


def test_accelerator_memory_is_refused_with_a_hint() -> None:
    gt, pred = maps()
    on_gpu = DLPackProducer(pred, device=(2, 0))
    with pytest.raises(ValueError, match=r"pred_ids is in CUDA memory; copy it to the CPU first .*pred_ids\.cpu\(\)"):
        evaluate(gt, on_gpu)
    with pytest.raises(ValueError, match=r"color is in ROCm memory"):
        panoptiq.rgb2id(DLPackProducer(np.zeros((2, 2, 3), np.uint8), device=(10, 0)))
    with pytest.raises(ValueError, match=r"id_map is in CUDA memory"):
        panoptiq.id2rgb(DLPackProducer(pred, device=(2, 1)))


@pytest.mark.parametrize(
    "wrap",
    [
        pytest.param(lambda a: (a[:, ::-1], a[:, ::-1]), id="reversed-view"),
        pytest.param(lambda a: (DLPackProducer(a), a), id="dlpack"),
        pytest.param(lambda a: (ArrayProducer(a), a), id="__array__"),
    ],
)
def test_rgb2id_and_id2rgb_take_array_likes(wrap) -> None:
    rgb = np.random.default_rng(0).integers(0, 256, size=(5, 6, 3), dtype=np.uint8)
    colours, as_numpy = wrap(rgb)
    ids = panoptiq.rgb2id(colours)
    expected = panopticapi.utils.rgb2id(as_numpy)
    np.testing.assert_array_equal(ids, expected)
    assert ids.dtype == expected.dtype
    id_map, as_numpy = wrap(ids.astype(np.uint32))
    np.testing.assert_array_equal(panoptiq.id2rgb(id_map), panopticapi.utils.id2rgb(as_numpy))


def test_numpy_scalars_and_lists_stay_single_values_as_in_panopticapi() -> None:
    assert panoptiq.id2rgb(np.int64(197121)) == panopticapi.utils.id2rgb(np.int64(197121)) == [1, 2, 3]
    assert panoptiq.rgb2id([1, 2, 3]) == panopticapi.utils.rgb2id([1, 2, 3]) == 197121
    assert panoptiq.rgb2id(DLPackProducer(np.array([1, 2, 3], dtype=np.uint8))) == 197121
