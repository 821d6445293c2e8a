"""rgb2id / id2rgb: panopticapi's output for every dtype and form, and the numpy formula."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp
from panopticapi.utils import id2rgb as panopticapi_id2rgb
from panopticapi.utils import rgb2id as panopticapi_rgb2id

import panoptiq

INTEGER_DTYPES = [np.uint8, np.int8, np.uint16, np.int16, np.uint32, np.int32, np.uint64, np.int64]
ALL_DTYPES = [*INTEGER_DTYPES, np.float32, np.float64]


def formula(color: np.ndarray) -> np.ndarray:
    """The definition, in int64: R + 256 G + 256^2 B."""
    c = color.astype(np.int64)
    return c[..., 0] + 256 * c[..., 1] + 65536 * c[..., 2]


def colors(dtype: type, channels: int = 3) -> st.SearchStrategy[np.ndarray]:
    return hnp.arrays(
        dtype,
        st.tuples(st.integers(0, 9), st.integers(0, 9), st.just(channels)),
        elements=st.integers(0, 127 if np.dtype(dtype) == np.int8 else 255),
    )


def panopticapi_or_none(function, value):
    """panopticapi's answer, or None where it raises (numpy 2 overflows on narrow dtypes)."""
    try:
        return function(value)
    except (OverflowError, TypeError):
        return None


@pytest.mark.parametrize("dtype", ALL_DTYPES)
@given(data=st.data())
def test_rgb2id_equals_formula_and_panopticapi(dtype: type, data: st.DataObject) -> None:
    color = data.draw(colors(dtype, channels=data.draw(st.sampled_from([3, 4]))))
    ids = panoptiq.rgb2id(color)
    np.testing.assert_array_equal(ids, formula(color))
    if np.dtype(dtype).kind in "iu" and np.dtype(dtype).itemsize < 4 and dtype != np.uint8:
        # panopticapi overflows here (numpy 2 raises, numpy 1 wraps int8/int16): panoptiq widens.
        assert ids.dtype == np.int32
        return
    expected = panopticapi_rgb2id(color)
    assert ids.dtype == expected.dtype
    np.testing.assert_array_equal(ids, expected)


def test_rgb2id_dtypes_follow_panopticapi() -> None:
    color = np.zeros((2, 2, 3))
    assert panoptiq.rgb2id(color.astype(np.uint8)).dtype == np.int32
    assert panoptiq.rgb2id(color.astype(np.uint32)).dtype == np.uint32
    assert panoptiq.rgb2id(color.astype(np.int64)).dtype == np.int64
    as_float = color.astype(np.float32)
    assert panoptiq.rgb2id(as_float).dtype == panopticapi_rgb2id(as_float).dtype


@given(hnp.arrays(np.uint32, (4, 3, 3), elements=st.integers(0, 2**32 - 1)))
def test_rgb2id_uint32_wraps_like_numpy(color: np.ndarray) -> None:
    np.testing.assert_array_equal(panoptiq.rgb2id(color), panopticapi_rgb2id(color))


@pytest.mark.parametrize("dtype", INTEGER_DTYPES)
@given(data=st.data())
def test_id2rgb_equals_bytes_and_panopticapi(dtype: type, data: st.DataObject) -> None:
    info = np.iinfo(dtype)
    shape = data.draw(hnp.array_shapes(min_dims=0, max_dims=4, max_side=5))
    ids = data.draw(hnp.arrays(dtype, shape, elements=st.integers(int(info.min), int(info.max))))
    rgb = panoptiq.id2rgb(ids)
    assert rgb.dtype == np.uint8
    assert rgb.shape == (*ids.shape, 3)
    wide = ids.astype(np.uint64)  # two's complement for negative ids: the low bytes are the same
    for channel in range(3):
        np.testing.assert_array_equal(rgb[..., channel], (wide >> np.uint64(8 * channel)) & np.uint64(255))
    expected = panopticapi_or_none(panopticapi_id2rgb, ids)
    if expected is not None:
        np.testing.assert_array_equal(rgb, expected)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_id2rgb_floats_follow_panopticapi(dtype: type) -> None:
    ids = np.array([[0, 1, 255, 256, 65_793, 16_777_215, 3.7]], dtype=dtype)
    np.testing.assert_array_equal(panoptiq.id2rgb(ids), panopticapi_id2rgb(ids))


def test_id2rgb_refuses_booleans() -> None:
    with pytest.raises(TypeError, match="boolean"):
        panoptiq.id2rgb(np.zeros((2, 2), dtype=bool))


@given(hnp.arrays(np.uint32, hnp.array_shapes(max_dims=3, max_side=6), elements=st.integers(0, 2**24 - 1)))
def test_round_trip_ids(ids: np.ndarray) -> None:
    if ids.ndim == 2:
        np.testing.assert_array_equal(panoptiq.rgb2id(panoptiq.id2rgb(ids)), ids)
    flat = panoptiq.id2rgb(ids).reshape(-1, 3)
    np.testing.assert_array_equal(formula(flat), ids.reshape(-1))


@given(colors(np.uint8))
def test_round_trip_colors(color: np.ndarray) -> None:
    np.testing.assert_array_equal(panoptiq.id2rgb(panoptiq.rgb2id(color)), color)


@given(st.lists(st.integers(0, 255), min_size=3, max_size=3))
def test_scalar_rgb2id(color: list[int]) -> None:
    assert panoptiq.rgb2id(color) == panopticapi_rgb2id(color)
    assert type(panoptiq.rgb2id(tuple(color))) is int
    # panopticapi overflows on a uint8 colour under numpy 2; the definition is the reference.
    assert panoptiq.rgb2id(np.array(color, dtype=np.uint8)) == color[0] + 256 * color[1] + 65536 * color[2]


@given(st.integers(-(2**40), 2**40))
def test_scalar_id2rgb(value: int) -> None:
    assert panoptiq.id2rgb(value) == panopticapi_id2rgb(value)


def test_strided_and_rgba_input() -> None:
    rng = np.random.default_rng(0)
    rgba = rng.integers(0, 256, size=(20, 30, 4), dtype=np.uint8)
    np.testing.assert_array_equal(panoptiq.rgb2id(rgba), panopticapi_rgb2id(rgba))
    transposed = rgba.transpose(1, 0, 2)
    np.testing.assert_array_equal(panoptiq.rgb2id(transposed), panopticapi_rgb2id(transposed))
    strided = rgba[::2, ::3, :3]
    np.testing.assert_array_equal(panoptiq.rgb2id(strided), panopticapi_rgb2id(strided))
    ids = panoptiq.rgb2id(rgba)
    np.testing.assert_array_equal(panoptiq.id2rgb(ids.T), panopticapi_id2rgb(ids.T))


def test_large_image_equals_panopticapi() -> None:
    rng = np.random.default_rng(1)
    color = rng.integers(0, 256, size=(2000, 3000, 3), dtype=np.uint8)
    ids = panoptiq.rgb2id(color)
    np.testing.assert_array_equal(ids, panopticapi_rgb2id(color))
    np.testing.assert_array_equal(panoptiq.id2rgb(ids), panopticapi_id2rgb(ids))
    as_uint32 = color.astype(np.uint32)
    np.testing.assert_array_equal(panoptiq.rgb2id(as_uint32), panopticapi_rgb2id(as_uint32))


def test_rgb2id_needs_three_channels() -> None:
    with pytest.raises(ValueError, match="at least 3 channels"):
        panoptiq.rgb2id(np.zeros((2, 2, 2), dtype=np.uint8))
