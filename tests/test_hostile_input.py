"""Hostile input: mutated PNGs, lying headers and malformed JSON get the documented exceptions,
never an abort, a hang or an unbounded allocation."""

from __future__ import annotations

import json
import struct
import zlib
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import panoptiq
from panoptiq.synthetic import make_dataset

#: What the public API may raise on bad files: everything else is a bug.
DOCUMENTED = (ValueError, KeyError, OSError, MemoryError)


def sample_pngs(sample_dir: Path) -> list[bytes]:
    return [p.read_bytes() for p in sorted((sample_dir / "panoptic_examples").glob("*.png"))]


def chunk(kind: bytes, body: bytes) -> bytes:
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))


def png_with_header(width: int, height: int, idat: bytes, color_type: int = 2) -> bytes:
    header = struct.pack(">IIBBBBB", width, height, 8, color_type, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", idat) + chunk(b"IEND", b"")


def with_height(png: bytes, height: int) -> bytes:
    """A real PNG whose header now declares another height (CRC fixed, as a careful forger would)."""
    at = png.index(b"IHDR")
    body = bytearray(png[at + 4 : at + 17])
    body[4:8] = struct.pack(">I", height)
    return png[: at - 4] + chunk(b"IHDR", bytes(body)) + png[at + 21 :]


@pytest.mark.parametrize("color_type", [2, 6, 3])
def test_a_header_that_lies_about_its_size_is_a_value_error(sample_dir: Path, tmp_path: Path, color_type) -> None:
    # The case found by mutation: 640 x 2,516,582,760 pixels declared by an 11 KB file.
    path = tmp_path / "liar.png"
    real = sample_pngs(sample_dir)[0]
    path.write_bytes(
        with_height(real, 2_516_582_760) if color_type == 2 else png_with_header(640, 2**31, b"x" * 999, color_type)
    )
    for reader in (panoptiq.read_id_map, lambda p: panoptiq._core.read_id_map_png(str(p), reference=True)):
        with pytest.raises(
            ValueError, match=r"liar\.png .*declares 640x25165827\d0 pixels|liar\.png .*declares 640x2147483648"
        ):
            reader(path)


def test_a_plausible_size_that_does_not_fit_in_memory_is_a_memory_error(tmp_path: Path) -> None:
    # 40 MB of image data could inflate to 41 GB: allowed by deflate's 1032:1 bound, but the
    # 40 GB id map that 100,000 x 100,000 pixels need does not fit in this machine's memory.
    path = tmp_path / "huge.png"
    path.write_bytes(png_with_header(100_000, 100_000, bytes(40_000_000)))
    with pytest.raises(MemoryError, match=r"cannot allocate 40000000000 bytes for the id map"):
        panoptiq.read_id_map(path)


def test_a_lying_pair_in_a_dataset_is_refused_before_allocating(tmp_path: Path, sample_dir: Path) -> None:
    gt_json, pred_json = make_dataset(tmp_path, 2, seed=2, gt_kinds=("sample",), pred_kinds=("perfect",))
    for folder in (gt_json.with_suffix(""), pred_json.with_suffix("")):
        path = folder / "000000000001.png"
        path.write_bytes(with_height(path.read_bytes(), 2_516_582_760))
    with pytest.raises(ValueError, match=r"In the image with ID 1: .*000000000001\.png .*declares"):
        panoptiq.pq_compute(str(gt_json), str(pred_json), verbose=False)


def mutate(data: bytes, draw) -> bytes:
    data = bytearray(data)
    for _ in range(draw(st.integers(1, 8))):
        kind = draw(st.sampled_from(["flip", "set", "truncate", "insert", "delete", "header"]))
        if not data:
            break
        at = draw(st.integers(0, len(data) - 1))
        if kind == "flip":
            data[at] ^= 1 << draw(st.integers(0, 7))
        elif kind == "set":
            data[at] = draw(st.integers(0, 255))
        elif kind == "truncate":
            del data[at:]
        elif kind == "insert":
            data[at:at] = draw(st.binary(min_size=1, max_size=16))
        elif kind == "delete":
            del data[at : at + draw(st.integers(1, 64))]
        else:  # the IHDR fields, where the dangerous numbers live
            data[min(16 + draw(st.integers(0, 12)), len(data) - 1)] = draw(st.integers(0, 255))
    # Half the files get CRCs that match their bytes again, as if damaged before they were written,
    # so the damage reaches the inflater and the header checks instead of the CRC check.
    return resealed(bytes(data)) if draw(st.booleans()) else bytes(data)


def resealed(data: bytes) -> bytes:
    """`data` with the CRC of each whole chunk made right for its bytes."""
    data, at = bytearray(data), 8
    while at + 12 <= len(data):
        end = at + 8 + struct.unpack(">I", data[at : at + 4])[0]
        if end + 4 > len(data):
            break
        data[end : end + 4] = struct.pack(">I", zlib.crc32(data[at + 4 : end]))
        at = end + 4
    return bytes(data)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_mutated_pngs_get_documented_exceptions_or_agree_with_pillow(sample_dir: Path, tmp_path: Path, data) -> None:
    from PIL import Image

    original = data.draw(st.sampled_from(sample_pngs(sample_dir)))
    path = tmp_path / "mutated.png"
    path.write_bytes(mutate(original, data.draw))
    try:
        ids = panoptiq.read_id_map(path)
    except DOCUMENTED:
        return
    # Decoded without complaint: then the ids are the ones Pillow sees, if Pillow reads it.
    try:
        with Image.open(path) as image:
            image.load()
            if image.mode not in ("RGB", "RGBA", "P"):
                return
            pixels = np.asarray(image.convert("RGB"), dtype=np.uint32)
    except (OSError, ValueError, SyntaxError):
        return  # Pillow is stricter in places: its zlib checks the Adler-32 sum, for one
    np.testing.assert_array_equal(ids, panoptiq.rgb2id(pixels))


def json_mutations() -> st.SearchStrategy:
    return st.sampled_from(
        [
            lambda text: text[: len(text) // 2],
            lambda text: text.replace('"annotations"', '"annotation"', 1),
            lambda text: text.replace('"segments_info": [', '"segments_info": {"a": [', 1),
            lambda text: text.replace('"area": ', '"area": 1' + "0" * 5000, 1),
            lambda text: text.replace('"area": ', '"area": 1e999 + ', 1),
            lambda text: text.replace('"id": ', '"id": -', 1),
            lambda text: text.replace('"category_id": ', '"category_id": "', 1),
            lambda text: text.replace('"annotations": [', '"annotations": [' + "[" * 100_000 + "]" * 100_000 + ",", 1),
            lambda text: text.replace('"image_id": ', '"image_id": [', 1).replace(', "file_name"', '], "file_name"', 1),
            lambda text: text.replace('"iscrowd": 0', '"iscrowd": 0, "iscrowd": 1', 1),
            lambda text: text.replace('"file_name": "', '"file_name": "' + "x" * 100_000, 1),
            lambda text: text.replace("{", "[", 1),
            lambda text: "\ufeff" + text,
            lambda text: text.encode("utf-16").decode("latin-1"),
        ]
    )


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(mutation=json_mutations(), side=st.sampled_from(["gt", "pred"]), seed=st.integers(0, 3))
def test_malformed_json_gets_documented_exceptions(tmp_path_factory, mutation, side: str, seed: int) -> None:
    folder = tmp_path_factory.mktemp("json")
    gt_json, pred_json = make_dataset(folder, 3, seed=seed, gt_kinds=("sample",), pred_kinds=("perturbed",))
    path = gt_json if side == "gt" else pred_json
    path.write_text(mutation(path.read_text()), encoding="utf-8", errors="surrogatepass")
    error: Exception | None = None
    try:
        panoptiq.pq_compute(str(gt_json), str(pred_json), verbose=False)
    except DOCUMENTED as caught:
        error = caught
    except Warning:
        return  # a mutation that leaves a split empty only warns
    if error is not None:
        assert str(error)  # a message, not a bare exception


def test_json_parse_problems_name_the_file(tmp_path: Path) -> None:
    gt_json, pred_json = make_dataset(tmp_path, 2, seed=1, gt_kinds=("sample",), pred_kinds=("perturbed",))
    text = pred_json.read_text()
    for bad, reason in (
        (text.replace('"annotations": [', '"annotations": [' + "[" * 100_000, 1), "nests too deeply"),
        (text.replace('"id": ', '"id": 1' + "0" * 5000, 1), "digits"),
    ):
        pred_json.write_text(bad)
        with pytest.raises(ValueError, match=rf"prediction JSON file {pred_json} is not valid JSON: .*{reason}"):
            panoptiq.pq_compute(str(gt_json), str(pred_json), verbose=False)


def test_huge_and_fractional_numbers_in_segments(tmp_path: Path) -> None:
    gt_json, pred_json = make_dataset(tmp_path, 2, seed=1, gt_kinds=("sample",), pred_kinds=("perturbed",))
    body = json.loads(gt_json.read_text())
    body["annotations"][0]["segments_info"][0]["area"] = 1e300
    gt_json.write_text(json.dumps(body))
    with pytest.raises(ValueError, match=r"has area 1e\+300, outside the 64-bit integer range"):
        panoptiq.pq_compute(str(gt_json), str(pred_json), verbose=False)
    body["annotations"][0]["segments_info"][0]["area"] = 2**70
    gt_json.write_text(json.dumps(body))
    with pytest.raises(ValueError, match=r"has area 1180591620717411303424, outside the 64-bit integer range"):
        panoptiq.pq_compute(str(gt_json), str(pred_json), verbose=False)
