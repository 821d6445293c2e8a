"""read_id_map: the ids panopticapi reads through Pillow, for every PNG layout it accepts."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp
from panopticapi.utils import rgb2id as panopticapi_rgb2id
from PIL import Image

import panoptiq


def pillow_ids(path: Path) -> np.ndarray:
    """How panopticapi reads a PNG (palette images converted to their colours first)."""
    image = Image.open(path)
    if image.mode == "P":
        image = image.convert("RGB")
    return panopticapi_rgb2id(np.array(image, dtype=np.uint32))


def test_sample_pngs_equal_pillow(sample_dir: Path) -> None:
    pngs = sorted((sample_dir / "panoptic_examples").glob("*.png"))
    assert len(pngs) == 2
    for png in pngs:
        ids = panoptiq.read_id_map(png)
        assert ids.dtype == np.uint32
        np.testing.assert_array_equal(ids, pillow_ids(png))


@settings(suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    pixels=hnp.arrays(np.uint8, st.tuples(st.integers(1, 12), st.integers(1, 12), st.sampled_from([3, 4]))),
    optimize=st.booleans(),
)
def test_rgb_and_rgba_equal_pillow(pixels: np.ndarray, optimize: bool, tmp_path: Path) -> None:
    path = tmp_path / "x.png"
    Image.fromarray(pixels).save(path, optimize=optimize)
    np.testing.assert_array_equal(panoptiq.read_id_map(path), pillow_ids(path))
    np.testing.assert_array_equal(panoptiq.read_id_map(path), panoptiq.rgb2id(pixels))


@settings(suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(indices=hnp.arrays(np.uint8, st.tuples(st.integers(1, 12), st.integers(1, 12)), elements=st.integers(0, 15)))
def test_palette_pngs_are_expanded(indices: np.ndarray, tmp_path: Path) -> None:
    palette = np.arange(16 * 3, dtype=np.uint8) * 5
    image = Image.fromarray(indices).convert("P")
    image.putpalette(palette.tolist())
    image.save(tmp_path / "p.png")
    np.testing.assert_array_equal(panoptiq.read_id_map(tmp_path / "p.png"), pillow_ids(tmp_path / "p.png"))


@pytest.mark.parametrize(("dtype", "what"), [(np.uint8, "8-bit grayscale"), (np.uint16, "16-bit grayscale")])
def test_grayscale_and_16_bit_are_refused(dtype: type, what: str, tmp_path: Path) -> None:
    path = tmp_path / "g.png"
    Image.fromarray(np.zeros((4, 4), dtype=dtype)).save(path)
    with pytest.raises(ValueError, match=f"g.png is a {what} PNG"):
        panoptiq.read_id_map(path)


def test_16_bit_rgb_is_refused(tmp_path: Path) -> None:
    # Pillow cannot write 48-bit RGB; build one from a valid 8-bit file by hand.
    import struct
    import zlib

    width, height = 2, 2
    raw = b"".join(b"\x00" + bytes(width * 6) for _ in range(height))

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", width, height, 16, 2, 0, 0, 0)
    png = b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b"")
    (tmp_path / "deep.png").write_bytes(png)
    with pytest.raises(ValueError, match=r"deep\.png is a 16-bit RGB PNG"):
        panoptiq.read_id_map(tmp_path / "deep.png")


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match=r"nope\.png"):
        panoptiq.read_id_map(tmp_path / "nope.png")


def test_not_a_png_and_truncated(tmp_path: Path, sample_dir: Path) -> None:
    (tmp_path / "text.png").write_text("not an image")
    with pytest.raises(ValueError, match=r"text\.png is not a valid PNG"):
        panoptiq.read_id_map(tmp_path / "text.png")
    data = next((sample_dir / "panoptic_examples").glob("*.png")).read_bytes()
    (tmp_path / "cut.png").write_bytes(data[: len(data) // 2])
    with pytest.raises(ValueError, match=r"cut\.png is not a valid PNG"):
        panoptiq.read_id_map(tmp_path / "cut.png")


def test_png_bytes_and_binary_file_objects(sample_dir: Path, tmp_path: Path) -> None:
    # DETR's post-processor hands out result["png_string"]: the PNG's bytes, never a file.
    import io

    png = sorted((sample_dir / "panoptic_examples").glob("*.png"))[0]
    want = pillow_ids(png)
    data = png.read_bytes()
    for source in (data, bytearray(data), memoryview(data), io.BytesIO(data)):
        np.testing.assert_array_equal(panoptiq.read_id_map(source), want)
    with png.open("rb") as f:
        np.testing.assert_array_equal(panoptiq.read_id_map(f), want)
    # Errors name the file object's file, or say the bytes were bytes.
    (tmp_path / "cut.png").write_bytes(data[: len(data) // 2])
    with (tmp_path / "cut.png").open("rb") as f, pytest.raises(ValueError, match=r"cut\.png is not a valid PNG"):
        panoptiq.read_id_map(f)
    with pytest.raises(ValueError, match=r"<PNG bytes> is not a valid PNG"):
        panoptiq.read_id_map(b"not a png")
    with png.open("r", encoding="latin-1") as f, pytest.raises(TypeError, match="binary mode"):
        panoptiq.read_id_map(f)
    with pytest.raises(TypeError, match="takes a path, PNG bytes or a binary file object, got int"):
        panoptiq.read_id_map(3)  # type: ignore[arg-type]
