"""panoptiq.video.read_panoptic_frame against its definition, pixel by pixel: a listed segment's
pixels ``(category_id << shift) + numbers[id]`` (a later record of an id wins), every other pixel
``(255 << shift) + 255``; from a PNG or an id map of any integer type; bad id maps refused."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from panoptiq import write_id_map
from panoptiq.video import read_panoptic_frame


def definition(ids: np.ndarray, segments: list[dict], numbers: dict[int, int], shift: int) -> np.ndarray:
    out = np.empty(ids.shape, dtype=np.int64)
    listed = {}
    for s in segments:
        listed[s["id"]] = (s["category_id"] << shift) + numbers[s["id"]]
    for index, value in np.ndenumerate(ids):
        out[index] = listed.get(int(value), (255 << shift) + 255)
    return out


@pytest.mark.parametrize("shift", [16, 10])
def test_frames_equal_the_definition(tmp_path: Path, shift: int) -> None:
    rng = np.random.default_rng(shift)
    # Runs of ids, with the ids of the records and some no record lists.
    ids = np.repeat(rng.choice([0, 7, 300, 65_536 * 3 + 9, 2**24 - 1, 42], size=(60, 10)), 7, axis=1).astype(np.uint32)
    segments = [
        {"id": 7, "category_id": 3},
        {"id": 300, "category_id": 12},
        {"id": 65_536 * 3 + 9, "category_id": 1},
        {"id": 7, "category_id": 5},  # a later record of the same id wins
        {"id": 2**24 - 1, "category_id": 0},
        {"id": 999, "category_id": 4},  # listed, no pixel
    ]
    numbers = {7: 1, 300: 0, 65_536 * 3 + 9: 2, 2**24 - 1: 3, 999: 4}
    expected = definition(ids, segments, numbers, shift)
    write_id_map(tmp_path / "f.png", ids)
    assert np.array_equal(read_panoptic_frame(tmp_path / "f.png", segments, numbers, shift), expected)
    for dtype in (np.uint32, np.int64, np.int32, np.uint64):
        got = read_panoptic_frame(ids.astype(dtype), segments, numbers, shift)
        assert got.dtype == np.int64
        assert np.array_equal(got, expected)
    # A Fortran-ordered map and a frame with no records.
    assert np.array_equal(read_panoptic_frame(np.asfortranarray(ids), segments, numbers, shift), expected)
    assert np.array_equal(read_panoptic_frame(ids, [], {}, shift), np.full(ids.shape, (255 << shift) + 255))


def test_bad_id_maps_are_refused() -> None:
    with pytest.raises(ValueError, match="segment ids from 0 to 2"):
        read_panoptic_frame(np.array([[-1, 2]]), [], {})
    with pytest.raises(ValueError, match="segment ids from 0 to 2"):
        read_panoptic_frame(np.array([[0.5]]), [], {})
