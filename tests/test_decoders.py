"""panoptiq's own PNG decoder and the png-crate fallback give identical ids on every layout."""

from __future__ import annotations

import os
import subprocess
import sys
import zlib
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp
from PIL import Image
from pngwriter import write_png

import panoptiq
from panoptiq import _core

settings_for_files = settings(suppress_health_check=[HealthCheck.function_scoped_fixture])


@st.composite
def blocky_images(draw: st.DrawFn) -> np.ndarray:
    """Images of a few colours in runs, like panoptic maps, with some pixel noise."""
    h, w = draw(st.integers(1, 24)), draw(st.integers(1, 40))
    colours = draw(hnp.arrays(np.uint8, (draw(st.integers(1, 5)), 4)))
    labels = np.repeat(
        draw(hnp.arrays(np.int64, (h, max(1, w // 4) + 1), elements=st.integers(0, len(colours) - 1))), 4, axis=1
    )[:, :w]
    return colours[labels]


@settings_for_files
@given(
    image=blocky_images(),
    color=st.sampled_from(["rgb", "rgba"]),
    filters=st.lists(st.integers(0, 4), min_size=1, max_size=6),
    interlace=st.booleans(),
)
def test_every_filter_and_interlacing(image, color, filters, interlace, tmp_path: Path) -> None:
    pixels = image[:, :, :3] if color == "rgb" else image
    path = tmp_path / "x.png"
    write_png(path, pixels, color, filters, interlace)
    expected = panoptiq.rgb2id(np.ascontiguousarray(pixels)).astype(np.uint32)
    np.testing.assert_array_equal(_core.read_id_map_png(str(path)), expected)
    np.testing.assert_array_equal(_core.read_id_map_png(str(path), True), expected)
    np.testing.assert_array_equal(np.array(Image.open(path).convert("RGB")), pixels[:, :, :3])


@settings_for_files
@given(
    indices=hnp.arrays(np.uint8, st.tuples(st.integers(1, 16), st.integers(1, 30)), elements=st.integers(0, 7)),
    palette=hnp.arrays(np.uint8, (8, 3)),
    filters=st.lists(st.integers(0, 4), min_size=1, max_size=3),
    interlace=st.booleans(),
)
def test_palette_images(indices, palette, filters, interlace, tmp_path: Path) -> None:
    path = tmp_path / "p.png"
    write_png(path, indices, "palette", filters, interlace, palette)
    expected = panoptiq.rgb2id(palette[indices]).astype(np.uint32)
    np.testing.assert_array_equal(_core.read_id_map_png(str(path)), expected)
    np.testing.assert_array_equal(_core.read_id_map_png(str(path), True), expected)


def test_real_and_generated_files(sample_dir: Path, tmp_path: Path) -> None:
    from panoptiq.synthetic import make_dataset

    gt_json, _ = make_dataset(tmp_path, 16, seed=4)
    files = [*(sample_dir / "panoptic_examples").glob("*.png"), *gt_json.with_suffix("").glob("*.png")]
    files += list((tmp_path / "pred").glob("*.png"))
    assert len(files) == 34
    for path in files:
        np.testing.assert_array_equal(_core.read_id_map_png(str(path)), _core.read_id_map_png(str(path), True))


_EVERY_FILE_BOTH_WAYS = """
import sys
import numpy as np
from panoptiq import _core
assert _core.decoder_engine() == sys.argv[1], _core.decoder_engine()
for path in sys.argv[2:]:
    np.testing.assert_array_equal(_core.read_id_map_png(path), _core.read_id_map_png(path, True), err_msg=path)
print(len(sys.argv) - 2)
"""


STRATEGIES = {
    "default": zlib.Z_DEFAULT_STRATEGY,
    "filtered": zlib.Z_FILTERED,
    "huffman-only": zlib.Z_HUFFMAN_ONLY,
    "rle": zlib.Z_RLE,
    "fixed": zlib.Z_FIXED,
}


def zlib_files(folder: Path) -> list[Path]:
    """A panoptic-like map (flat segments, a few stray pixels), RGB with every filter in turn and
    RGBA under Paeth, compressed by zlib (the library Pillow and COCO's writers use) at every
    level with every strategy; each file is checked here to decode to its pixels."""
    folder.mkdir()
    rng = np.random.default_rng(5)
    labels = np.repeat(np.repeat(rng.integers(0, 6, (12, 16)), 8, 0), 8, 1)
    labels[rng.integers(0, 96, 40), rng.integers(0, 128, 40)] = 6
    colours = rng.integers(0, 256, (7, 4), dtype=np.uint8)
    colours[0] = 0
    image = colours[labels]
    files = []
    for level in range(10):
        for name, strategy in STRATEGIES.items():
            for color, pixels, filters in (("rgb", image[:, :, :3], [0, 1, 2, 3, 4, 2, 2]), ("rgba", image, [4])):
                path = folder / f"{color}-{level}-{name}.png"
                write_png(path, pixels, color, filters, level=level, strategy=strategy)
                np.testing.assert_array_equal(_core.read_id_map_png(str(path)), panoptiq.rgb2id(pixels[:, :, :3]))
                files.append(path)
    return files


@pytest.mark.parametrize("engine", ["dense", "sparse", "auto"])
def test_each_engine_named_by_panoptiq_decoder_decodes_as_the_png_crate(
    engine: str, sample_dir: Path, tmp_path: Path
) -> None:
    # Pillow-written files (as COCO's are) of flat, blocky and noisy maps, with its default
    # compression and with optimize, and zlib's output at every level and strategy, beside the
    # real sample and synthetic pairs: each engine, forced for the whole process, gives the png
    # crate's ids.
    from panoptiq.synthetic import make_dataset

    make_dataset(tmp_path / "synthetic", 6, seed=9)
    files = [*(sample_dir / "panoptic_examples").glob("*.png"), *(tmp_path / "synthetic").glob("*/*.png")]
    rng = np.random.default_rng(3)
    flat = np.zeros((300, 400, 3), np.uint8)
    flat[:, 150:] = (3, 2, 1)
    blocky = np.repeat(np.repeat(rng.integers(0, 4, (30, 40, 1)) * 60, 10, 0), 10, 1).astype(np.uint8)
    noisy = rng.integers(0, 256, (60, 80, 4), dtype=np.uint8)
    for name, pixels in {"flat": flat, "blocky": np.repeat(blocky, 3, 2), "noisy": noisy}.items():
        for optimize in (False, True):
            path = tmp_path / f"{name}-{optimize}.png"
            Image.fromarray(pixels).save(path, optimize=optimize)
            files.append(path)
    files += zlib_files(tmp_path / "zlib")
    env = {**os.environ, "PANOPTIQ_DECODER": engine}
    done = subprocess.run(
        [sys.executable, "-c", _EVERY_FILE_BOTH_WAYS, engine, *map(str, files)],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == str(len(files))


def test_an_unknown_panoptiq_decoder_is_refused_on_import() -> None:
    env = {**os.environ, "PANOPTIQ_DECODER": "fastest"}
    done = subprocess.run(
        [sys.executable, "-c", "import panoptiq"], env=env, capture_output=True, text=True, check=False
    )
    assert done.returncode != 0
    assert "ValueError: PANOPTIQ_DECODER must be 'auto', 'dense' or 'sparse'" in done.stderr
    assert "'fastest'" in done.stderr
