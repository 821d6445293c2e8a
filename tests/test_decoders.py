"""panoptiq's own PNG decoder and the png-crate fallback give identical ids on every layout."""

from __future__ import annotations

from pathlib import Path

import numpy as np
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
