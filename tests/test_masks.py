"""``panoptiq.masks`` against ``pycocotools.mask`` itself, string for string and pixel for pixel.

Every expected value here is pycocotools' answer to the same input (or, where pycocotools has
none, the or / and of the masks pycocotools decodes). What is compared:

* polygon rasterisation (``frPyObjects``), the hard part: thousands of seeded random polygons
  of every kind the rasteriser has an edge case for (float, integer, half-integer and tenth
  coordinates, on the 5x grid's rounding boundaries, outside the image, repeated vertices,
  collinear and degenerate outlines, self-intersections, slivers, long edges), on images from
  1x1 through 1xN and Nx1 to about 80x80, plus hypothesis properties; multi-polygon
  segmentations (``segmentation_to_rle`` against ``COCO.annToRLE``) and boxes;
* ``encode``, ``decode``, ``area``, ``toBbox`` and ``merge`` on random masks and stacks, the
  uncompressed RLE of ``frPyObjects``, counts given as ``str``, and valid RLEs with empty runs
  inside (on which pycocotools' own ``merge`` stops early, spins or overruns its buffer, so
  panoptiq's is run in a child process and checked against the decoded masks);
* bad input, which must raise ``ValueError`` (pycocotools reads past its buffers instead, so
  these have no reference answer).
"""

from __future__ import annotations

import json
import math
import subprocess
import sys
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from panoptiq import masks

_REASON = "pycocotools is the reference panoptiq.masks is checked against (a test-only dependency)"
coco_mask = pytest.importorskip("pycocotools.mask", reason=_REASON)
coco_api = pytest.importorskip("pycocotools.coco", reason=_REASON)

pytestmark = [
    # pycocotools' decode, built against numpy 1's __array__ protocol, warns under numpy 2.
    pytest.mark.filterwarnings("ignore:__array__ implementation doesn't accept a copy keyword:DeprecationWarning"),
]


# ---------------------------------------------------------------------------------------------
# References and small helpers
# ---------------------------------------------------------------------------------------------


def ref_encode(mask: np.ndarray) -> Any:
    """pycocotools' encode, which takes Fortran-ordered uint8 only."""
    return coco_mask.encode(np.asfortranarray(mask.astype(np.uint8)))


def ref_ann_to_rle(segmentation: Any, h: int, w: int) -> dict:
    """``COCO.annToRLE`` itself, on a one-image COCO object."""
    coco = coco_api.COCO()
    coco.imgs[1] = {"id": 1, "height": h, "width": w}
    return coco.annToRLE({"id": 1, "image_id": 1, "segmentation": segmentation})


def ref_boxes(boxes: list[list[float]], h: int, w: int) -> list[dict]:
    """pycocotools' reading of boxes. Its ``frPyObjects`` sends a *list* whose first entry has four
    numbers to ``frBbox``, whose typed signature refuses a list (TypeError); its rasterisation of
    boxes is ``frBbox`` of the same numbers as an array."""
    return coco_mask.frPyObjects(np.array(boxes, dtype=np.float64).reshape(-1, 4), h, w)


def as_bytes(counts: str | bytes) -> bytes:
    return counts.encode("ascii") if isinstance(counts, str) else counts


def with_str_counts(rle: dict) -> dict:
    """The RLE as it comes back from JSON: counts as ``str``."""
    return {"size": list(rle["size"]), "counts": rle["counts"].decode("ascii")}


def runs_of(mask: np.ndarray) -> list[int]:
    """Column-major run lengths of a 2-D 0/1 mask, zeros first (an input, not an expected value)."""
    flat = np.asarray(mask, dtype=np.uint8).ravel(order="F")
    if flat.size == 0:
        return [0]
    change = np.flatnonzero(np.diff(flat)) + 1
    edges = np.concatenate([[0], change, [flat.size]])
    runs = np.diff(edges).tolist()
    return ([0, *runs]) if flat[0] else runs


def check_all(cases: list[Any], compare: Callable[..., str | None], what: str) -> None:
    """Runs ``compare`` on every case and fails with the first few that differ (inputs included)."""
    bad = []
    for case in cases:
        problem = compare(*case)
        if problem is not None:
            bad.append(problem)
    assert not bad, f"{len(bad)} of {len(cases)} {what} differ from pycocotools; first: " + "\n".join(bad[:3])


def compare_polygons(segmentation: list[list[float]], h: int, w: int) -> str | None:
    """frPyObjects of a polygon list (one RLE each) and the decoded masks, against pycocotools."""
    ours = masks.frPyObjects(segmentation, h, w)
    ref = coco_mask.frPyObjects(segmentation, h, w)
    if ours != ref:
        return f"frPyObjects({segmentation!r}, {h}, {w}): panoptiq {ours!r}, pycocotools {ref!r}"
    ours_mask, ref_mask = masks.decode(ours), coco_mask.decode(ref)
    if ours_mask.dtype != ref_mask.dtype or not np.array_equal(ours_mask, ref_mask):
        return f"decode(frPyObjects({segmentation!r}, {h}, {w})) differs"
    return None


# ---------------------------------------------------------------------------------------------
# Random polygons
# ---------------------------------------------------------------------------------------------

POLYGON_KINDS = (
    "float",
    "integer",
    "half",
    "tenth",
    "rounding-boundary",
    "star",
    "rectilinear",
    "outside",
    "surrounding",
    "sliver",
    "collinear",
    "repeated",
    "tiny",
    "long-edges",
    "image-edges",
)


def image_size(rng: np.random.Generator) -> tuple[int, int]:
    r = rng.random()
    if r < 0.12:
        return 1, int(rng.integers(1, 81))
    if r < 0.24:
        return int(rng.integers(1, 81)), 1
    if r < 0.4:
        return int(rng.integers(1, 7)), int(rng.integers(1, 7))
    return int(rng.integers(1, 81)), int(rng.integers(1, 81))


def random_polygon(rng: np.random.Generator, kind: str, h: int, w: int) -> list[float]:
    n = int(rng.integers(3, 31))
    if kind == "float":
        x = rng.uniform(-0.25 * w - 1, 1.25 * w + 1, n)
        y = rng.uniform(-0.25 * h - 1, 1.25 * h + 1, n)
    elif kind == "integer":
        x = rng.integers(-2, w + 3, n).astype(float)
        y = rng.integers(-2, h + 3, n).astype(float)
    elif kind == "half":
        x = rng.integers(-4, 2 * w + 5, n) / 2
        y = rng.integers(-4, 2 * h + 5, n) / 2
    elif kind == "tenth":
        x = rng.integers(-15, 10 * w + 16, n) / 10
        y = rng.integers(-15, 10 * h + 16, n) / 10
    elif kind == "rounding-boundary":
        # Odd tenths are where trunc(5 * v + 0.5) steps; a hair either side, or on it exactly.
        nudge = rng.choice([-1e-9, 0.0, 1e-9, -1e-15, 1e-15], size=(2, n))
        x = (2 * rng.integers(-5, 5 * w + 6, n) + 1) / 10 + nudge[0]
        y = (2 * rng.integers(-5, 5 * h + 6, n) + 1) / 10 + nudge[1]
    elif kind == "star":
        # A simple polygon (angles in order) around a point near the image.
        cx, cy = rng.uniform(-0.2 * w, 1.2 * w), rng.uniform(-0.2 * h, 1.2 * h)
        angles = np.sort(rng.uniform(0, 2 * np.pi, n))
        radius = rng.uniform(0, 0.7 * max(h, w) + 1, n)
        x, y = cx + radius * np.cos(angles), cy + radius * np.sin(angles)
        if rng.random() < 0.5:
            x, y = np.round(x * 2) / 2, np.round(y * 2) / 2
    elif kind == "rectilinear":
        # A staircase of axis-aligned edges on integer or half-integer lines.
        step = rng.choice([0.5, 1.0])
        xs = np.sort(rng.integers(-2, int(w / step) + 3, max(n // 2, 2))) * step
        ys = rng.integers(-2, int(h / step) + 3, max(n // 2, 2)) * step
        bottom = float(rng.integers(-2, h + 3))
        x = np.concatenate([np.repeat(xs, 2)[1:], [xs[-1], xs[0]]])
        y = np.concatenate([np.repeat(ys, 2)[:-1], [bottom, bottom]])
    elif kind == "outside":
        x = rng.uniform(-0.5 * w - 2, 1.5 * w + 2, n)
        y = rng.uniform(-0.5 * h - 2, 1.5 * h + 2, n)
        side = rng.integers(4)
        if side == 0:
            x = -rng.uniform(0.0, w + 3, n)
        elif side == 1:
            x = w + rng.uniform(0.0, w + 3, n)
        elif side == 2:
            y = -rng.uniform(0.0, h + 3, n)
        else:
            y = h + rng.uniform(0.0, h + 3, n)
    elif kind == "surrounding":
        # Larger than the image on every side: the mask is (nearly) full.
        margin = rng.uniform(0, 5, 4)
        x = np.array([-margin[0], w + margin[1], w + margin[1], -margin[0]])
        y = np.array([-margin[2], -margin[2], h + margin[3], h + margin[3]])
        if rng.random() < 0.5:
            x, y = np.round(x), np.round(y)
    elif kind == "sliver":
        # Long and thinner than a pixel (down to nothing), at any angle or axis-aligned.
        p = rng.uniform([-1, -1], [w + 1, h + 1])
        q = rng.uniform([-1, -1], [w + 1, h + 1])
        if rng.random() < 0.3:  # along a row or a column
            axis = rng.integers(2)
            q[axis] = p[axis]
        d = q - p
        normal = np.array([-d[1], d[0]]) / (np.hypot(*d) + 1e-12)
        width = rng.choice([0.0, 1e-6, 0.05, 0.19, 0.2, 0.21, 0.5, 0.99])
        pts = [p, q, q + width * normal, p + width * normal][: int(rng.integers(3, 5))]
        x, y = np.array([a[0] for a in pts]), np.array([a[1] for a in pts])
    elif kind == "collinear":
        p = rng.uniform([-1, -1], [w + 1, h + 1])
        d = rng.choice([np.array([1.0, 0.0]), np.array([0.0, 1.0]), rng.normal(size=2), np.zeros(2)])
        t = rng.uniform(-max(h, w), max(h, w), n)
        x, y = p[0] + t * d[0], p[1] + t * d[1]
        if rng.random() < 0.5:
            x, y = np.round(x * 2) / 2, np.round(y * 2) / 2
    elif kind == "repeated":
        base = random_polygon(rng, str(rng.choice(["float", "half", "star", "integer"])), h, w)
        points = np.array(base).reshape(-1, 2)
        points = np.repeat(points, rng.integers(1, 4, len(points)), axis=0)
        if rng.random() < 0.5:
            points = np.vstack([points, points[:1]])  # the closing vertex given explicitly
        return points.ravel().tolist()
    elif kind == "tiny":
        # Inside one or two pixels: at most a few pixel centres are covered.
        p = rng.uniform([-0.5, -0.5], [w, h])
        x, y = p[0] + rng.uniform(0, 1.2, n), p[1] + rng.uniform(0, 1.2, n)
    elif kind == "long-edges":
        # Edges far longer than the image, crossing it.
        reach = float(rng.choice([50, 200, 600]))
        x = rng.uniform(-reach, w + reach, n)
        y = rng.uniform(-reach, h + reach, n)
    elif kind == "image-edges":
        # Vertices on the image's borders and the last pixel centres: 0, w - 1, w - 0.5, w, ...
        xs = np.array([-0.5, 0.0, 0.5, w - 1.0, w - 0.5, w, w + 0.5, rng.uniform(0, w)])
        ys = np.array([-0.5, 0.0, 0.5, h - 1.0, h - 0.5, h, h + 0.5, rng.uniform(0, h)])
        x, y = rng.choice(xs, n), rng.choice(ys, n)
    else:
        raise AssertionError(kind)
    return np.column_stack([x, y]).ravel().tolist()


@pytest.mark.parametrize("kind", POLYGON_KINDS)
def test_random_polygons_match_pycocotools(kind: str) -> None:
    """500 polygons of each kind (7500 in all): the RLE bytes and the decoded masks."""
    rng = np.random.default_rng([20240611, POLYGON_KINDS.index(kind)])
    cases = []
    for _ in range(500):
        h, w = image_size(rng)
        cases.append(([random_polygon(rng, kind, h, w)], h, w))
    check_all(cases, compare_polygons, f"{kind} polygons")


def test_random_polygons_cover_the_edge_cases() -> None:
    """The generated cases are not all empty or all full: the comparisons above see real outlines
    (judged by pycocotools' own masks)."""
    rng = np.random.default_rng(7)
    empty = full = partial = 0
    for kind in POLYGON_KINDS:
        for _ in range(40):
            h, w = image_size(rng)
            a = int(coco_mask.area(coco_mask.frPyObjects([random_polygon(rng, kind, h, w)], h, w)[0]))
            empty += a == 0
            full += a == h * w
            partial += 0 < a < h * w
    assert partial > 300
    assert empty > 20
    assert full > 20


def test_polygons_far_beyond_the_image() -> None:
    """Coordinates up to 1e5 (half a million points per edge on pycocotools' fine grid)."""
    rng = np.random.default_rng(99)
    cases = []
    for _ in range(24):
        h, w = image_size(rng)
        reach = float(rng.choice([1e3, 1e4, 1e5]))
        n = int(rng.integers(3, 6))
        poly = rng.uniform(-reach, reach, 2 * n)
        # Keep one vertex inside, so the long edges cross the image.
        poly[:2] = rng.uniform(0, w), rng.uniform(0, h)
        cases.append(([poly.tolist()], h, w))
    check_all(cases, compare_polygons, "far polygons")


def test_polygons_as_arrays_and_tuples() -> None:
    """Polygons given as numpy arrays (float32 and float64) or tuples read as pycocotools reads them."""
    rng = np.random.default_rng(5)
    for _ in range(100):
        h, w = image_size(rng)
        poly = random_polygon(rng, "float", h, w)
        ref = coco_mask.frPyObjects([np.array(poly, dtype=np.float32)], h, w)
        assert masks.frPyObjects([np.array(poly, dtype=np.float32)], h, w) == ref
        assert masks.frPyObjects([np.array(poly)], h, w) == coco_mask.frPyObjects([np.array(poly)], h, w)
        assert masks.frPyObjects([tuple(poly)], h, w) == coco_mask.frPyObjects([poly], h, w)


def test_known_polygon() -> None:
    """One polygon worked by hand, so a broken reference setup cannot hide: the square with
    corners (0.5, 0.5) and (2.5, 2.5) covers pixels 1..2 of rows and columns 1..2 of a 4x4 image."""
    poly = [0.5, 0.5, 2.5, 0.5, 2.5, 2.5, 0.5, 2.5]
    expected = np.zeros((4, 4), dtype=np.uint8)
    expected[1:3, 1:3] = 1
    ref = coco_mask.frPyObjects([poly], 4, 4)
    assert np.array_equal(coco_mask.decode(ref)[:, :, 0], expected)
    ours = masks.frPyObjects([poly], 4, 4)
    assert ours == ref
    assert np.array_equal(masks.decode(ours[0]), expected)


# Hypothesis: coordinates of every flavour mixed in one polygon.
coordinate = st.one_of(
    st.floats(-15, 60, allow_nan=False, allow_infinity=False),
    st.integers(-5, 50).map(float),
    st.integers(-10, 100).map(lambda v: v / 2),
    st.integers(-50, 500).map(lambda v: v / 10),
    st.integers(-25, 250).map(lambda v: (2 * v + 1) / 10 + 1e-12),
)
vertex = st.tuples(coordinate, coordinate)


@given(
    h=st.integers(1, 45),
    w=st.integers(1, 45),
    vertices=st.lists(vertex, min_size=3, max_size=30),
    repeats=st.lists(st.integers(1, 3), min_size=30, max_size=30),
)
def test_polygon_property(h: int, w: int, vertices: list[tuple[float, float]], repeats: list[int]) -> None:
    repeated = [c for (x, y), r in zip(vertices, repeats, strict=False) for _ in range(r) for c in (x, y)]
    for poly in ([c for xy in vertices for c in xy], repeated):
        problem = compare_polygons([poly], h, w)
        assert problem is None, problem


@given(
    h=st.integers(1, 30),
    w=st.integers(1, 30),
    polygons=st.lists(st.lists(vertex, min_size=3, max_size=12), min_size=1, max_size=5),
)
def test_segmentation_property(h: int, w: int, polygons: list[list[tuple[float, float]]]) -> None:
    segmentation = [[c for xy in poly for c in xy] for poly in polygons]
    ref = ref_ann_to_rle(segmentation, h, w)
    assert masks.segmentation_to_rle(segmentation, h, w) == ref
    assert masks.merge(masks.frPyObjects(segmentation, h, w)) == ref


# ---------------------------------------------------------------------------------------------
# Multi-polygon segmentations and boxes
# ---------------------------------------------------------------------------------------------


def test_multi_polygon_segmentations_match_ann_to_rle() -> None:
    """1200 segments of 1..6 polygons of mixed kinds: ``segmentation_to_rle`` is ``annToRLE``, and
    ``merge(frPyObjects(...))`` is pycocotools' merge of its own."""
    rng = np.random.default_rng(31337)
    cases = []
    for _ in range(1200):
        h, w = image_size(rng)
        kinds = rng.choice(POLYGON_KINDS, int(rng.integers(1, 7)))
        cases.append(([random_polygon(rng, str(k), h, w) for k in kinds], h, w))

    def compare(segmentation: list[list[float]], h: int, w: int) -> str | None:
        ref = ref_ann_to_rle(segmentation, h, w)
        ours = masks.segmentation_to_rle(segmentation, h, w)
        if ours != ref:
            return f"segmentation_to_rle({segmentation!r}, {h}, {w}): panoptiq {ours!r}, annToRLE {ref!r}"
        for intersect in (False, True):
            ref_merge = coco_mask.merge(coco_mask.frPyObjects(segmentation, h, w), intersect)
            ours_merge = masks.merge(masks.frPyObjects(segmentation, h, w), intersect)
            if ours_merge != ref_merge:
                return f"merge(frPyObjects({segmentation!r}, {h}, {w}), {intersect}) differs"
        return None

    check_all(cases, compare, "segmentations")


def test_segmentation_with_a_two_point_polygon() -> None:
    """A segmentation whose second polygon has only two points (four numbers; real datasets have
    them): pycocotools rasterises it (to nothing) and merges; so must segmentation_to_rle."""
    segmentation = [[1.0, 1.0, 8.0, 1.5, 6.0, 7.0], [2.0, 2.0, 5.0, 6.0]]
    ref = ref_ann_to_rle(segmentation, 10, 10)
    assert masks.frPyObjects(segmentation, 10, 10) == coco_mask.frPyObjects(segmentation, 10, 10)
    assert masks.segmentation_to_rle(segmentation, 10, 10) == ref


def random_box(rng: np.random.Generator, h: int, w: int) -> list[float]:
    flavour = rng.integers(4)
    x, y = rng.uniform(-0.3 * w - 1, 1.1 * w + 1), rng.uniform(-0.3 * h - 1, 1.1 * h + 1)
    bw, bh = rng.uniform(0, 0.8 * w + 2), rng.uniform(0, 0.8 * h + 2)
    box = np.array([x, y, bw, bh])
    if flavour == 1:
        box = np.round(box)
    elif flavour == 2:
        box = np.round(box * 2) / 2
    elif flavour == 3:
        box[2 + rng.integers(2)] *= rng.choice([0.0, -1.0, 0.05])  # empty, negative or thin
    return box.tolist()


def test_boxes_match_pycocotools() -> None:
    """1000 lists of 1..5 boxes, as a list (the first entry has four numbers, so they are boxes)
    and as an array; single boxes; box segmentations through segmentation_to_rle."""
    rng = np.random.default_rng(4)
    cases = []
    for _ in range(1000):
        h, w = image_size(rng)
        cases.append(([random_box(rng, h, w) for _ in range(int(rng.integers(1, 6)))], h, w))

    def compare(boxes: list[list[float]], h: int, w: int) -> str | None:
        ref = ref_boxes(boxes, h, w)
        for given_as in (boxes, np.array(boxes), [tuple(b) for b in boxes]):
            ours = masks.frPyObjects(given_as, h, w)
            if ours != ref:
                return f"frPyObjects({given_as!r}, {h}, {w}): panoptiq {ours!r}, pycocotools {ref!r}"
        if masks.frPyObjects(boxes[0], h, w) != ref[:1]:
            return f"frPyObjects({boxes[0]!r}, {h}, {w}) (one box) differs"
        if not np.array_equal(masks.decode(masks.frPyObjects(boxes, h, w)), coco_mask.decode(ref)):
            return f"decode(frPyObjects({boxes!r}, {h}, {w})) differs"
        if masks.segmentation_to_rle(boxes, h, w) != coco_mask.merge(ref):
            return f"segmentation_to_rle({boxes!r}, {h}, {w}) differs from merge of the boxes"
        return None

    check_all(cases, compare, "box lists")


def test_known_box() -> None:
    """[1, 0, 2, 3] on a 4x4 image is columns 1..2, rows 0..2, by pycocotools and by hand."""
    expected = np.zeros((4, 4), dtype=np.uint8)
    expected[0:3, 1:3] = 1
    ref = ref_boxes([[1, 0, 2, 3]], 4, 4)
    assert np.array_equal(coco_mask.decode(ref[0]), expected)
    assert masks.frPyObjects([[1, 0, 2, 3]], 4, 4) == ref
    assert np.array_equal(masks.decode(masks.frPyObjects([[1, 0, 2, 3]], 4, 4)[0]), expected)


# ---------------------------------------------------------------------------------------------
# encode, decode, area, toBbox
# ---------------------------------------------------------------------------------------------


def random_mask(rng: np.random.Generator, h: int, w: int) -> np.ndarray:
    style = rng.integers(4)
    if style == 0:  # noise of any density, 0 and 1 included
        return (rng.random((h, w)) < rng.choice([0.0, 0.03, 0.3, 0.5, 0.8, 0.97, 1.0])).astype(np.uint8)
    if style == 1:  # a few rectangles: long runs, runs crossing columns
        mask = np.zeros((h, w), dtype=np.uint8)
        for _ in range(int(rng.integers(0, 4))):
            y0, x0 = rng.integers(0, h), rng.integers(0, w)
            mask[y0 : y0 + rng.integers(1, h + 1), x0 : x0 + rng.integers(1, w + 1)] = 1
        return mask
    if style == 2:  # stripes, starting and ending with 1
        mask = (np.arange(h * w).reshape(w, h).T // rng.integers(1, 6)) % 2 == 0
        return mask.astype(np.uint8)
    mask = (rng.random((h, w)) < 0.5).astype(np.uint8)  # first and last pixel set
    mask[0, 0] = mask[-1, -1] = 1
    return mask


def compare_one_rle(mask: np.ndarray) -> str | None:
    """encode, decode, area, toBbox of one mask (and of its RLE with str counts) against pycocotools."""
    ref = ref_encode(mask)
    ours = masks.encode(mask)
    if ours != ref:
        return f"encode of a {mask.shape} mask {runs_of(mask)}: panoptiq {ours!r}, pycocotools {ref!r}"
    for rle in (ref, with_str_counts(ref)):
        decoded, ref_decoded = masks.decode(rle), coco_mask.decode(rle)
        if decoded.dtype != ref_decoded.dtype or not np.array_equal(decoded, ref_decoded):
            return f"decode({rle!r}) differs"
        if not np.array_equal(decoded, mask):
            return f"decode({rle!r}) is not the mask encoded"
        a, ref_a = masks.area(rle), coco_mask.area(rle)
        if a != ref_a or np.asarray(a).dtype != np.asarray(ref_a).dtype:
            return f"area({rle!r}): panoptiq {a!r}, pycocotools {ref_a!r}"
        box, ref_box = masks.toBbox(rle), coco_mask.toBbox(rle)
        if box.dtype != ref_box.dtype or box.shape != ref_box.shape or not np.array_equal(box, ref_box):
            return f"toBbox({rle!r}): panoptiq {box!r}, pycocotools {ref_box!r}"
    return None


def test_random_masks_match_pycocotools() -> None:
    """2000 random masks of 1x1 to 60x60 (1xN and Nx1 included)."""
    rng = np.random.default_rng(2024)
    cases = []
    for _ in range(2000):
        h, w = image_size(rng)
        cases.append((random_mask(rng, min(h, 60), min(w, 60)),))
    check_all(cases, compare_one_rle, "masks")


def test_large_masks_long_counts() -> None:
    """Masks of up to 700x900: counts of 5 and more characters, with negative and positive deltas."""
    rng = np.random.default_rng(11)
    cases = [(random_mask(rng, int(rng.integers(200, 701)), int(rng.integers(200, 901))),) for _ in range(6)]
    cases.append((np.ones((700, 900), dtype=np.uint8),))
    check_all(cases, compare_one_rle, "large masks")


@pytest.mark.parametrize(
    ("h", "w", "fill"),
    [
        (1, 1, 0),
        (1, 1, 1),
        (5, 7, 0),
        (5, 7, 1),
        (1, 40, 0),
        (40, 1, 1),
        (3, 3, "first"),
        (3, 3, "last"),
        (3, 3, "first-and-last"),
        (4, 6, "checker"),
    ],
)
def test_special_masks(h: int, w: int, fill: Any) -> None:
    if isinstance(fill, int):
        mask = np.full((h, w), fill, dtype=np.uint8)
    elif fill == "checker":
        mask = (np.indices((h, w)).sum(axis=0) % 2).astype(np.uint8)
    else:
        mask = np.zeros((h, w), dtype=np.uint8)
        if "first" in fill:
            mask[0, 0] = 1
        if "last" in fill:
            mask[-1, -1] = 1
    problem = compare_one_rle(mask)
    assert problem is None, problem


def test_stacks_match_pycocotools() -> None:
    """(h, w, n) stacks: encode gives the list pycocotools gives; decode, area and toBbox of lists."""
    rng = np.random.default_rng(8)
    for _ in range(150):
        h, w = image_size(rng)
        h, w = min(h, 40), min(w, 40)
        n = int(rng.integers(1, 6))
        stack = np.stack([random_mask(rng, h, w) for _ in range(n)], axis=2)
        ref = ref_encode(stack)
        ours = masks.encode(stack)
        assert ours == ref
        for rles in (ref, [with_str_counts(r) for r in ref]):
            decoded = masks.decode(rles)
            assert decoded.shape == (h, w, n)
            assert decoded.dtype == np.uint8
            assert np.array_equal(decoded, coco_mask.decode(rles))
            ref_area = coco_mask.area(rles)
            assert masks.area(rles).dtype == ref_area.dtype
            assert np.array_equal(masks.area(rles), ref_area)
            ref_box = coco_mask.toBbox(rles)
            box = masks.toBbox(rles)
            assert box.shape == ref_box.shape == (n, 4)
            assert box.dtype == ref_box.dtype
            assert np.array_equal(box, ref_box)


def test_bbox_of_a_run_crossing_a_column() -> None:
    """pycocotools' quirk: a run of ones from the bottom of one column into the top of the next
    makes the box full height, though only two rows are set."""
    mask = np.zeros((5, 3), dtype=np.uint8)
    mask[4, 0] = mask[0, 1] = 1
    ref = ref_encode(mask)
    ref_box = coco_mask.toBbox(ref)
    assert ref_box[3] == 5  # the quirk, in pycocotools itself
    assert np.array_equal(masks.toBbox(ref), ref_box)
    assert np.array_equal(masks.toBbox(masks.encode(mask)), ref_box)


def test_bbox_and_area_of_empty_masks() -> None:
    for h, w in [(1, 1), (3, 5), (1, 9), (9, 1)]:
        empty = ref_encode(np.zeros((h, w), dtype=np.uint8))
        ref_box = coco_mask.toBbox(empty)
        assert not ref_box.any()
        assert np.array_equal(masks.toBbox(empty), ref_box)
        assert masks.area(empty) == coco_mask.area(empty) == 0
        assert np.array_equal(masks.toBbox([empty, empty]), coco_mask.toBbox([empty, empty]))


@given(
    mask=hnp.arrays(
        np.uint8, hnp.array_shapes(min_dims=2, max_dims=2, min_side=1, max_side=24), elements=st.integers(0, 1)
    )
)
def test_mask_property(mask: np.ndarray) -> None:
    problem = compare_one_rle(mask)
    assert problem is None, problem


def test_encode_reads_nonzero_and_any_layout() -> None:
    """bool, C- or F-ordered, strided masks: the RLE of the same 0/1 mask in pycocotools."""
    rng = np.random.default_rng(3)
    for _ in range(50):
        mask = random_mask(rng, 13, 17)
        ref = ref_encode(mask)
        assert masks.encode(mask.astype(bool)) == ref
        assert masks.encode(np.asfortranarray(mask)) == ref
        big = np.zeros((26, 34), dtype=np.uint8)
        big[::2, ::2] = mask
        assert masks.encode(big[::2, ::2]) == ref


# ---------------------------------------------------------------------------------------------
# Uncompressed RLE, str counts, merge
# ---------------------------------------------------------------------------------------------


def with_empty_runs(runs: list[int], rng: np.random.Generator) -> list[int]:
    """The same mask's runs with pairs of empty runs inserted (a valid, non-canonical RLE), never
    at the very start: pycocotools' toBbox wraps below pixel 0 on a leading empty ones run."""
    out = list(runs)
    for _ in range(int(rng.integers(1, 4))):
        places = [i for i in range(1, len(out) + 1) if sum(out[:i]) > 0]
        at = int(rng.choice(places))
        out[at:at] = [0, 0]
    return out


def string_counts(counts: bytes) -> list[int]:
    """The run lengths in a COCO RLE string (maskApi.c's rleFrString), used only to tell whether an
    RLE is valid (its runs cover the image)."""
    runs: list[int] = []
    at = 0
    while at < len(counts):
        value, shift, more = 0, 0, True
        while more:
            c = counts[at] - 48
            value |= (c & 0x1F) << (5 * shift)
            more = bool(c & 0x20)
            at += 1
            shift += 1
            if not more and c & 0x10:
                value |= -1 << (5 * shift)
        if len(runs) > 2:
            value += runs[-2]
        runs.append(value)
    return runs


def test_string_counts_reads_pycocotools_strings() -> None:
    """The helper above against pycocotools' own strings."""
    rng = np.random.default_rng(0)
    for _ in range(200):
        mask = random_mask(rng, 30, 40)
        assert string_counts(ref_encode(mask)["counts"]) == runs_of(mask)
        runs = with_empty_runs(runs_of(mask), rng)
        assert string_counts(coco_mask.frPyObjects({"size": [30, 40], "counts": runs}, 30, 40)["counts"]) == runs


def test_uncompressed_rle_matches_pycocotools() -> None:
    """frPyObjects of {'size', 'counts': [...]} (one dict, or a list of them; canonical runs, runs
    with empty runs inside, counts as an array) gives pycocotools' strings; segmentation_to_rle is
    annToRLE."""
    rng = np.random.default_rng(17)
    for _ in range(600):
        h, w = image_size(rng)
        h, w = min(h, 40), min(w, 40)
        mask = random_mask(rng, h, w)
        runs = runs_of(mask)
        for counts in (runs, with_empty_runs(runs, rng), np.array(runs, dtype=np.uint32)):
            rle = {"size": [h, w], "counts": counts}
            ref = coco_mask.frPyObjects(rle, h, w)
            assert masks.frPyObjects(rle, h, w) == ref
            assert masks.frPyObjects([rle, rle], h, w) == coco_mask.frPyObjects([rle, rle], h, w)
            assert np.array_equal(coco_mask.decode(ref), mask)
            assert np.array_equal(masks.decode(ref), mask)
            assert np.array_equal(masks.decode(rle), mask)
            assert masks.area(ref) == coco_mask.area(ref)
            if isinstance(counts, list):  # annToRLE takes only a list for uncompressed counts
                assert masks.segmentation_to_rle(rle, h, w) == ref_ann_to_rle(rle, h, w)
        # frPyObjects reads the dict's own size, not h and w (as pycocotools does).
        rle = {"size": [h, w], "counts": runs}
        assert masks.frPyObjects(rle, h + 1, w + 2) == coco_mask.frPyObjects(rle, h + 1, w + 2)
        assert masks.frPyObjects(rle, h, w) == ref_encode(mask)


def test_bbox_with_empty_runs() -> None:
    """toBbox of valid RLEs with empty runs inside: pycocotools (since its 2021 fix of rleToBbox,
    in every release panoptiq supports) skips an empty run of ones instead of counting the pixel
    before it. Masks with no pixel set are left out: there pycocotools' box wraps around."""
    rng = np.random.default_rng(29)
    cases = []
    for _ in range(400):
        h, w = image_size(rng)
        mask = random_mask(rng, min(h, 40), min(w, 40))
        if mask.any():
            h, w = mask.shape
            cases.append(
                (coco_mask.frPyObjects({"size": [h, w], "counts": with_empty_runs(runs_of(mask), rng)}, h, w),)
            )

    def compare(rle: dict) -> str | None:
        ours, ref = masks.toBbox(rle), coco_mask.toBbox(rle)
        if not np.array_equal(ours, ref):
            return f"toBbox({rle!r}) (runs {string_counts(rle['counts'])}): panoptiq {ours}, pycocotools {ref}"
        return None

    check_all(cases, compare, "boxes of RLEs with empty runs")


def test_compressed_segmentation_is_itself() -> None:
    """segmentation_to_rle of a compressed RLE (bytes or str counts) is annToRLE's: the RLE itself."""
    rng = np.random.default_rng(23)
    for _ in range(300):
        h, w = image_size(rng)
        ref = ref_encode(random_mask(rng, min(h, 40), min(w, 40)))
        h, w = ref["size"]
        for rle in (ref, with_str_counts(ref)):
            expected = ref_ann_to_rle(rle, h, w)
            ours = masks.segmentation_to_rle(rle, h, w)
            assert ours["size"] == expected["size"]
            assert as_bytes(ours["counts"]) == as_bytes(expected["counts"])


def random_rles(rng: np.random.Generator, h: int, w: int, n: int) -> list[dict]:
    """n pycocotools RLEs of one size, canonical as pycocotools makes them: encoded masks,
    rasterised polygons (which may start with an empty run of zeros), compressed uncompressed
    runs; some with str counts."""
    rles = []
    for _ in range(n):
        source = rng.integers(3)
        if source == 0:
            rle = ref_encode(random_mask(rng, h, w))
        elif source == 1:
            kind = str(rng.choice(POLYGON_KINDS))
            rle = coco_mask.frPyObjects([random_polygon(rng, kind, h, w)], h, w)[0]
        else:
            rle = coco_mask.frPyObjects({"size": [h, w], "counts": runs_of(random_mask(rng, h, w))}, h, w)
        rles.append(with_str_counts(rle) if rng.random() < 0.3 else rle)
    return rles


def test_merge_matches_pycocotools() -> None:
    """1500 merges of 2..5 RLEs, union and intersection: the same strings; and the decoded
    union/intersection is the logical or/and of the masks."""
    rng = np.random.default_rng(1234)
    cases = []
    for _ in range(1500):
        h, w = image_size(rng)
        h, w = min(h, 50), min(w, 50)
        cases.append((random_rles(rng, h, w, int(rng.integers(2, 6))), bool(rng.integers(2))))

    def compare(rles: list[dict], intersect: bool) -> str | None:
        ref = coco_mask.merge(rles, intersect)
        ours = masks.merge(rles, intersect=intersect)
        if ours != ref:
            return f"merge({rles!r}, intersect={intersect}): panoptiq {ours!r}, pycocotools {ref!r}"
        stack = coco_mask.decode(rles).astype(bool)
        combined = stack.all(axis=2) if intersect else stack.any(axis=2)
        if not np.array_equal(masks.decode(ours), combined):
            return f"decode(merge({rles!r}, {intersect})) is not the {'and' if intersect else 'or'} of the masks"
        return None

    check_all(cases, compare, "merges")


@given(
    data=st.data(),
    h=st.integers(1, 12),
    w=st.integers(1, 12),
    n=st.integers(2, 5),
    intersect=st.booleans(),
)
def test_merge_property(data: st.DataObject, h: int, w: int, n: int, intersect: bool) -> None:
    arrays = hnp.arrays(np.uint8, (h, w), elements=st.integers(0, 1))
    rles = [ref_encode(data.draw(arrays)) for _ in range(n)]
    assert masks.merge(rles, intersect) == coco_mask.merge(rles, intersect)


#: Runs panoptiq's merge on JSON lines of cases, in a child process: a merge that never returns
#: must fail the test, not hang the suite.
_MERGE_CHILD = """
import json, sys
from panoptiq import masks
for line in sys.stdin:
    case = json.loads(line)
    try:
        out = masks.merge(case["rles"], intersect=case["intersect"])
        counts = out["counts"]
        print(json.dumps({"counts": counts.decode() if isinstance(counts, bytes) else counts}), flush=True)
    except ValueError as error:
        print(json.dumps({"error": str(error)}), flush=True)
"""


def test_merge_with_empty_runs_in_the_input() -> None:
    """RLEs whose runs include empty ones (valid: they cover the image) merged, 2..5 at a time.

    pycocotools' rleMerge is no reference here: on these it stops early (two masks give an RLE
    shorter than the image), spins for ever (three or more), or writes past its buffer. panoptiq
    must return, with either ValueError or the union / intersection of the masks as pycocotools
    decodes them, as a valid RLE."""
    rng = np.random.default_rng(55)
    cases = []
    for _ in range(300):
        h, w = image_size(rng)
        h, w = min(h, 30), min(w, 30)
        rles = []
        for _ in range(int(rng.integers(2, 6))):
            runs = runs_of(random_mask(rng, h, w))
            if rng.random() < 0.7:
                runs = with_empty_runs(runs, rng)
            rles.append(with_str_counts(coco_mask.frPyObjects({"size": [h, w], "counts": runs}, h, w)))
        cases.append({"rles": rles, "intersect": bool(rng.integers(2))})
    lines = "".join(json.dumps(case) + "\n" for case in cases)
    try:
        child = subprocess.run(
            [sys.executable, "-c", _MERGE_CHILD], input=lines, capture_output=True, text=True, timeout=10, check=True
        )
        output = child.stdout
    except subprocess.TimeoutExpired as hung:
        done = hung.stdout.decode() if isinstance(hung.stdout, bytes) else (hung.stdout or "")
        stuck = cases[done.count("\n")]
        pytest.fail(f"masks.merge({stuck['rles']!r}, intersect={stuck['intersect']}) never returns")
    wrong = []
    for case, line in zip(cases, output.splitlines(), strict=True):
        answer = json.loads(line)
        if "error" in answer:
            continue
        h, w = case["rles"][0]["size"]
        stack = coco_mask.decode(case["rles"]).astype(bool)
        expected = stack.all(axis=2) if case["intersect"] else stack.any(axis=2)
        counts = answer["counts"].encode("ascii")
        runs = string_counts(counts)
        if sum(runs) != h * w or min(runs, default=0) < 0:
            wrong.append(f"merge({case['rles']!r}, {case['intersect']}) gave {counts!r}, runs {runs}: not {h}x{w}")
        elif not np.array_equal(coco_mask.decode({"size": [h, w], "counts": counts}), expected):
            wrong.append(f"merge({case['rles']!r}, {case['intersect']}) gave {counts!r}: the wrong mask")
    assert not wrong, f"{len(wrong)} of {len(cases)} merges are wrong; first: " + "\n".join(wrong[:3])


def test_merge_of_one_rle() -> None:
    """merge of a single RLE is pycocotools' rleMerge of one: the RLE read and written back, so
    counts come back as bytes whatever they were given as."""
    rng = np.random.default_rng(77)
    for _ in range(50):
        ref = ref_encode(random_mask(rng, 7, 9))
        assert masks.merge([ref]) == coco_mask.merge([ref])
        assert masks.merge([with_str_counts(ref)]) == coco_mask.merge([with_str_counts(ref)])


# ---------------------------------------------------------------------------------------------
# Bad input: ValueError, never a crash or a silent misreading
# ---------------------------------------------------------------------------------------------

GOOD_2x2 = {"size": [2, 2], "counts": b"22"}

BAD_RLES = [
    pytest.param({"size": [3, 3], "counts": b"22"}, id="string-sums-short"),
    pytest.param({"size": [2, 2], "counts": b"23"}, id="string-sums-long"),
    pytest.param({"size": [2, 2], "counts": "14"}, id="str-sums-wrong"),
    pytest.param({"size": [2, 2], "counts": [1, 2]}, id="list-sums-short"),
    pytest.param({"size": [2, 2], "counts": [1, 2, 3]}, id="list-sums-long"),
    pytest.param({"size": [2, 2], "counts": b"2~"}, id="char-tilde"),
    pytest.param({"size": [2, 2], "counts": b"2p"}, id="char-above-o"),
    pytest.param({"size": [2, 2], "counts": b"2/"}, id="char-below-0"),
    pytest.param({"size": [2, 2], "counts": b"2 2"}, id="char-space"),
    pytest.param({"size": [2, 2], "counts": b"2\x002"}, id="char-nul"),
    pytest.param({"size": [1, 19], "counts": "22\u00e9"}, id="str-non-ascii"),
    pytest.param({"size": [2, 2], "counts": b"2R"}, id="ends-inside-a-count"),
    pytest.param({"size": [2, 2], "counts": b"111M"}, id="negative-count-by-delta"),
    pytest.param({"size": [1, 3], "counts": b"PPPPPPPP0"}, id="count-too-long"),
    pytest.param({"counts": b"22"}, id="no-size"),
    pytest.param({"size": [2], "counts": b"22"}, id="size-one-number"),
    pytest.param({"size": [2, 2]}, id="no-counts"),
    pytest.param({"size": [1, 2], "counts": [-1, 3]}, id="list-negative-count"),
    pytest.param({"size": [1, 2], "counts": [2**32, 2]}, id="list-count-beyond-u32"),
]


def _image_of(rle: dict) -> tuple[int, int]:
    size = rle.get("size")
    return (size[0], size[1]) if isinstance(size, list) and len(size) == 2 else (2, 2)


READERS: dict[str, Callable[[dict], Any]] = {
    "decode": masks.decode,
    "decode-list": lambda r: masks.decode([r]),
    "area": masks.area,
    "toBbox": masks.toBbox,
    "toBbox-list": lambda r: masks.toBbox([r]),
    "merge-first": lambda r: masks.merge([r, GOOD_2x2]),
    "merge-second": lambda r: masks.merge([GOOD_2x2, r], intersect=True),
    "frPyObjects": lambda r: masks.frPyObjects(r, 2, 2),
    "frPyObjects-list": lambda r: masks.frPyObjects([r], 2, 2),
    "segmentation_to_rle": lambda r: masks.segmentation_to_rle(r, *_image_of(r)),
}


@pytest.mark.parametrize("rle", BAD_RLES)
def test_bad_rle_raises_value_error(rle: dict) -> None:
    """Every reader of an RLE refuses it with ValueError (not another error, not an answer)."""
    wrong = {}
    for name, read in READERS.items():
        try:
            result = read(rle)
        except ValueError:
            continue
        except Exception as error:
            wrong[name] = f"{type(error).__name__}: {str(error)[:100]}"
        else:
            wrong[name] = f"returned {result!r:.100}"
    assert not wrong, f"not a ValueError for {rle!r}: {wrong}"


def test_merge_of_one_bad_rle_raises_value_error() -> None:
    """pycocotools reads the RLE even when merging one alone; a bad one must not pass through."""
    passed = []
    for param in BAD_RLES:
        (rle,) = param.values
        try:
            result = masks.merge([rle])
        except ValueError:
            continue
        except Exception as error:
            passed.append(f"{param.id}: {type(error).__name__}")
        else:
            passed.append(f"{param.id}: returned {result!r:.60}")
    assert not passed, f"merge([bad RLE]) is not a ValueError for {len(passed)} of {len(BAD_RLES)}: {passed}"


GOOD_POLY = [0.0, 0.0, 5.0, 0.0, 5.0, 5.0]


@pytest.mark.parametrize(
    "bad",
    [
        pytest.param(math.nan, id="nan"),
        pytest.param(math.inf, id="inf"),
        pytest.param(-math.inf, id="-inf"),
        pytest.param(1e12, id="1e12"),
        pytest.param(-1e12, id="-1e12"),
        pytest.param(1e300, id="1e300"),
    ],
)
@pytest.mark.parametrize("at", [0, 1, 5])
def test_bad_polygon_coordinates(bad: float, at: int) -> None:
    poly = list(GOOD_POLY)
    poly[at] = bad
    with pytest.raises(ValueError, match=r"coordinate .*finite"):
        masks.frPyObjects([poly], 10, 10)
    with pytest.raises(ValueError, match=r"coordinate .*finite"):
        masks.frPyObjects([GOOD_POLY, poly], 10, 10)
    with pytest.raises(ValueError, match=r"coordinate .*finite"):
        masks.frPyObjects(poly, 10, 10)
    with pytest.raises(ValueError, match=r"coordinate .*finite"):
        masks.segmentation_to_rle([GOOD_POLY, poly], 10, 10)
    box = [1.0, 1.0, 3.0, 3.0]
    box[at % 4] = bad
    with pytest.raises(ValueError, match=r"coordinate .*finite"):
        masks.frPyObjects([box], 10, 10)
    with pytest.raises(ValueError, match=r"coordinate .*finite"):
        masks.segmentation_to_rle([box], 10, 10)


@pytest.mark.parametrize("n", [5, 7, 13])
def test_odd_number_of_coordinates(n: int) -> None:
    poly = [float(i % 4) for i in range(n)]
    with pytest.raises(ValueError, match=r"needs .*x, y"):
        masks.frPyObjects([poly], 6, 6)
    with pytest.raises(ValueError, match=r"needs .*x, y"):
        masks.frPyObjects([GOOD_POLY, poly], 6, 6)
    with pytest.raises(ValueError, match=r"needs .*x, y"):
        masks.segmentation_to_rle([GOOD_POLY, poly], 6, 6)


@pytest.mark.parametrize("intersect", [False, True])
def test_merge_of_different_sizes(intersect: bool) -> None:
    a = ref_encode(np.ones((3, 4), dtype=np.uint8))
    b = ref_encode(np.ones((4, 3), dtype=np.uint8))
    c = ref_encode(np.ones((3, 5), dtype=np.uint8))
    for rles in ([a, b], [a, a, c], [b, a, a]):
        with pytest.raises(ValueError, match=r"size|merge"):
            masks.merge(rles, intersect)


def test_segmentation_of_another_size() -> None:
    rle = ref_encode(np.ones((3, 4), dtype=np.uint8))
    with pytest.raises(ValueError, match=r"size is"):
        masks.segmentation_to_rle(rle, 4, 3)
    with pytest.raises(ValueError, match=r"size is"):
        masks.segmentation_to_rle({"size": [3, 4], "counts": [12]}, 4, 4)


@pytest.mark.parametrize("pyobj", [[], 5, "text", [[]], [1.0, 2.0]])
def test_unreadable_objects(pyobj: Any) -> None:
    with pytest.raises(ValueError, match=r"cannot read|polygon"):
        masks.frPyObjects(pyobj, 4, 4)
