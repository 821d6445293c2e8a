"""panoptiq.visualize on a real COCO ground truth: colours, borders and overlays against a numpy
reading of the same rules, and error images whose every pixel is checked against the fates a
hand-made prediction must give (a missed person, a false positive, a region on a crowd)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from panoptiq import _core, read_id_map
from panoptiq.visualize import (
    FATE_COLORS,
    colorize,
    error_image,
    instance_color,
    save_png,
    segment_colors,
)

MISSED = 3937500  # a person of 3,528 pixels, left out of the prediction
CROWD = 3153362  # a crowd of people
FALSE = 77  # a person predicted on the grass
WHITE = (255, 255, 255)


@pytest.fixture(scope="module")
def pair(sample_dir: Path, sample_json: dict):
    annotation = sample_json["annotations"][0]
    gt = read_id_map(sample_dir / "panoptic_examples" / annotation["file_name"])
    gt_segments = annotation["segments_info"]
    assert {MISSED, CROWD} <= {s["id"] for s in gt_segments}
    pred = gt.copy()
    pred[pred == MISSED] = 0
    grass = next(s["id"] for s in gt_segments if s["category_id"] == 193)
    ys, xs = np.nonzero(gt == grass)
    y, x = int(np.median(ys)), int(np.median(xs))
    block = (slice(y - 8, y + 8), slice(x - 8, x + 8))
    assert (gt[block] == grass).all()
    pred[block] = FALSE
    pred_segments = [{"id": s["id"], "category_id": s["category_id"]} for s in gt_segments if s["id"] != MISSED]
    pred_segments.append({"id": FALSE, "category_id": 1})
    return gt, pred, gt_segments, pred_segments, sample_json["categories"]


def borders(ids: np.ndarray) -> np.ndarray:
    """Pixels with a 4-neighbour of another id."""
    edge = np.zeros(ids.shape, dtype=bool)
    edge[:, 1:] |= ids[:, 1:] != ids[:, :-1]
    edge[:, :-1] |= ids[:, 1:] != ids[:, :-1]
    edge[1:, :] |= ids[1:, :] != ids[:-1, :]
    edge[:-1, :] |= ids[1:, :] != ids[:-1, :]
    return edge


def painted(ids: np.ndarray, colors: dict[int, tuple[int, int, int]], fallback: tuple[int, int, int]) -> np.ndarray:
    out = np.empty((*ids.shape, 3), dtype=np.uint8)
    out[:] = fallback
    for sid, color in colors.items():
        out[ids == sid] = color
    out[borders(ids)] = WHITE
    return out


def test_error_image_pixels_follow_the_fates(pair) -> None:
    gt, pred, gt_segments, pred_segments, categories = pair
    picture = error_image(gt, pred, gt_segments, pred_segments, categories, labels=False, legend=False)
    height, width = gt.shape
    gap = max(4, width // 100)
    assert picture.shape == (height, 2 * width + gap, 3)
    gt_fates = {s["id"]: "tp" for s in gt_segments} | {MISSED: "fn", CROWD: "crowd"}
    # The crowd's predicted copy lies on the crowd region of its category: not counted.
    pred_fates = {s["id"]: "tp" for s in pred_segments} | {FALSE: "fp", CROWD: "ignored"}
    expected_gt = painted(gt, {k: FATE_COLORS[v] for k, v in gt_fates.items()}, FATE_COLORS["void"])
    expected_pred = painted(pred, {k: FATE_COLORS[v] for k, v in pred_fates.items()}, FATE_COLORS["void"])
    np.testing.assert_array_equal(picture[:, :width], expected_gt)
    np.testing.assert_array_equal(picture[:, width + gap :], expected_pred)
    assert (picture[:, width : width + gap] == 255).all()
    # Where the missed person lies: red on the left, VOID on the right.
    inside = (gt == MISSED) & ~borders(gt)
    assert inside.sum() > 2000
    assert (picture[:, :width][inside] == FATE_COLORS["fn"]).all()
    assert (picture[:, width + gap :][inside] == FATE_COLORS["void"]).all()


def test_labels_and_legend_leave_the_missed_segment_visible(pair) -> None:
    gt, pred, gt_segments, pred_segments, categories = pair
    picture = error_image(gt, pred, gt_segments, pred_segments, categories)
    height, width = gt.shape
    assert picture.shape[0] > height  # the legend below
    left = picture[:height, :width]
    inside = (gt == MISSED) & ~borders(gt)
    red = (left[inside] == FATE_COLORS["fn"]).all(axis=1)
    assert red.mean() > 0.5
    # Its label (white text on black) is written inside the picture, over the missed segment's rows.
    ys, _ = np.nonzero(gt == MISSED)
    rows = left[ys.min() : ys.max() + 1]
    assert ((rows == 0).all(axis=2)).any()
    assert ((rows == 255).all(axis=2)).any()


def test_overlay_paints_false_positives_over_the_ground_truth(pair) -> None:
    gt, pred, gt_segments, pred_segments, categories = pair
    picture = error_image(
        gt, pred, gt_segments, pred_segments, categories, layout="overlay", labels=False, legend=False
    )
    assert picture.shape == (*gt.shape, 3)
    assert (picture[(pred == FALSE) & ~borders(pred)] == FATE_COLORS["fp"]).all()
    assert (picture[(gt == MISSED) & ~borders(gt)] == FATE_COLORS["fn"]).all()


def test_colorize_uses_category_colours_and_stable_shades(pair) -> None:
    gt, _, gt_segments, _, categories = pair
    by_id = {c["id"]: c for c in categories}
    picture = colorize(gt, gt_segments, categories)
    edge = borders(gt)
    assert (picture[edge] == WHITE).all()
    for s in gt_segments:
        inside = (gt == s["id"]) & ~edge
        colours = np.unique(picture[inside], axis=0)
        assert len(colours) == 1, "one colour per segment"
        base = np.array(by_id[s["category_id"]]["color"])
        if by_id[s["category_id"]]["isthing"]:
            assert np.abs(colours[0].astype(int) - base).max() <= 30
        else:
            assert (colours[0] == base).all()
    void = (gt == 0) & ~edge
    assert void.any()
    assert (picture[void] == 0).all()
    np.testing.assert_array_equal(picture, colorize(gt, gt_segments, categories))
    plain = colorize(gt, gt_segments, categories, borders=False)
    assert (plain[edge] != WHITE).any(axis=1).all()


def test_instance_shades_are_the_same_in_another_process() -> None:
    here = [instance_color((220, 20, 60), sid) for sid in (1, 2, 3937500, 16757838)]
    code = (
        "from panoptiq.visualize import instance_color as c\n"
        "print([c((220, 20, 60), s) for s in (1, 2, 3937500, 16757838)])"
    )
    env = dict(os.environ, PYTHONHASHSEED="12345")
    there = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, check=True).stdout
    assert there.strip() == str(here)
    assert len(set(here)) == len(here)


def test_overlay_on_a_photo_blends_as_numpy_does(pair) -> None:
    gt, _, gt_segments, _, categories = pair
    rng = np.random.default_rng(0)
    photo = rng.integers(0, 256, (*gt.shape, 3), dtype=np.uint8)
    picture = colorize(gt, gt_segments, categories, photo=photo, alpha=0.25, borders=False)
    colors = segment_colors(gt_segments, categories)
    flat = painted(gt, colors, (0, 0, 0))
    flat[borders(gt)] = [colors.get(int(i), (0, 0, 0)) for i in gt[borders(gt)]]
    expected = np.floor(0.25 * flat + 0.75 * photo.astype(np.float64) + 0.5).astype(np.uint8)
    np.testing.assert_array_equal(picture, expected)


def test_photo_file_and_png_round_trip(pair, tmp_path: Path) -> None:
    gt, _, gt_segments, _, categories = pair
    photo = np.full((*gt.shape, 3), 200, dtype=np.uint8)
    Image.fromarray(photo).save(tmp_path / "photo.png")
    picture = colorize(gt, gt_segments, categories, photo=tmp_path / "photo.png")
    np.testing.assert_array_equal(picture, colorize(gt, gt_segments, categories, photo=photo))
    save_png(tmp_path / "out.png", picture)
    with Image.open(tmp_path / "out.png") as image:
        assert image.mode == "RGB"
        np.testing.assert_array_equal(np.asarray(image), picture)


def test_anchors_are_inside_their_segments(pair) -> None:
    gt = pair[0]
    for sid, area, row, col, depth, top, left, bottom, right in _core.anchors(gt):
        mask = gt == sid
        ys, xs = np.nonzero(mask)
        assert area == mask.sum()
        assert mask[row, col]
        assert depth >= 1
        assert (top, left, bottom, right) == (ys.min(), xs.min(), ys.max(), xs.max())
        # No pixel of the segment is deeper: a square of side 2 * depth + 1 around a deeper
        # pixel would lie inside the segment and the image.
        r = depth
        padded = np.pad(mask, r + 1)
        for y, x in zip(ys[::97], xs[::97], strict=True):
            window = padded[y : y + 2 * r + 3, x : x + 2 * r + 3]
            assert not window.all(), f"segment {sid}: ({y}, {x}) is deeper than the anchor"


def test_bad_input(pair, tmp_path: Path) -> None:
    gt, pred, gt_segments, pred_segments, categories = pair
    with pytest.raises(ValueError, match="layout"):
        error_image(gt, pred, gt_segments, pred_segments, categories, layout="stacked")
    with pytest.raises(ValueError, match="the photo is 10x20 pixels, the segmentation 640x427"):
        colorize(gt, gt_segments, categories, photo=np.zeros((20, 10, 3), np.uint8))
    with pytest.raises(ValueError, match="alpha"):
        colorize(gt, gt_segments, categories, photo=np.zeros((*gt.shape, 3), np.uint8), alpha=1.5)
    with pytest.raises(ValueError, match="ID 7 the ground truth is 427x640 pixels but the prediction is 426x640"):
        error_image(gt, pred[:-1], gt_segments, pred_segments, categories, labels=False, image_id=7)
    with pytest.raises(ValueError, match="H x W x 3"):
        save_png(tmp_path / "x.png", np.zeros((4, 4), np.uint8))
    with pytest.raises(FileNotFoundError):
        colorize(gt, gt_segments, categories, photo=tmp_path / "nothing.jpg")


def test_colour_maps_and_files_are_read_as_id_maps(pair, sample_dir: Path, sample_json: dict) -> None:
    gt, _, gt_segments, _, categories = pair
    path = sample_dir / "panoptic_examples" / sample_json["annotations"][0]["file_name"]
    rgb = np.asarray(Image.open(path).convert("RGB"))
    expected = colorize(gt, gt_segments, categories)
    np.testing.assert_array_equal(colorize(path, gt_segments, categories), expected)
    np.testing.assert_array_equal(colorize(rgb, gt_segments, categories), expected)
    assert json.dumps(segment_colors(gt_segments, categories))  # plain ints, JSON-ready
