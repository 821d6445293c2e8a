"""The video benchmarks' dataset: synthetic street-scene videos drawn with Pillow, written in the
Cityscapes-VPS layout that mcahny/vps's ``tools/eval_vpq.py`` reads, and readable again as STQ
label maps for deeplab2's ``STQuality``.

Each video is a camera driving down a street: sky above a skyline of buildings whose roofs
wobble, trees, poles carrying signs and lights drifting outward, a road between sidewalks whose
edges sway, terrain patches, now and then a wall or fence, a little VOID (the ego vehicle's hood
in some videos, a few small blobs) and in some videos a crowd region (a group of people or a row
of parked cars, ``iscrowd`` 1). Things are tracks: cars, trucks, buses, people, cyclists (a rider
over a bicycle) and motorcyclists, a few to about 20 per frame, each with a depth that sets its
size and a velocity; they enter from the sides, appear and leave, and occlude one another (the
nearer drawn last). Predictions are the same scene with the errors of a real model: boundaries
jittered and positions shifted, sizes off by a few percent, stuff edges elsewhere, poles thinner
or missed, small objects missed (whole tracks, or single frames), identity switches midway
through a track, false positives (short ghost tracks, and instances inside crowd regions), a
class confused now and then (car/truck, person/rider, bicycle/motorcycle) for a stretch of frames
or a whole track, and some road/sidewalk confusion.

Layout: ``gt.json`` and ``pred.json`` (COCO panoptic: ``images``, ``annotations`` with
``file_name``, ``image_id``, ``segments_info``, and ``categories`` with ``isthing``; ground-truth
``area`` is the segment's pixel count), the RGB PNGs (id = R + 256 G + 256² B) in ``gt/`` and
``pred/``; the frames are listed video after video, each video ``frames`` consecutive frames.
Categories are Cityscapes' 19 train ids (0-10 stuff, 11-18 things). A segment's id is
``(category_id + 1) * 65536 + instance``: instance 0 for stuff and crowd, from 1 for a track (a
per-category number in the ground truth, the tracker's number in the prediction).

STQ: the same frames as ``(class << 16) + instance`` label maps (``stq_labels``): a crowd region
is its thing class with instance 0, pixels of no listed segment (VOID) are ``(255 << 16) + 255``
— exactly what ``panoptiq.video.read_panoptic_frame(png, segments_info, stq_numbers(...))`` gives.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image, ImageDraw

#: Cityscapes' 19 evaluated classes by train id.
CATEGORIES = [
    {"id": i, "name": name, "isthing": int(i >= 11), "color": color}
    for i, (name, color) in enumerate(
        [
            ("road", [128, 64, 128]),
            ("sidewalk", [244, 35, 232]),
            ("building", [70, 70, 70]),
            ("wall", [102, 102, 156]),
            ("fence", [190, 153, 153]),
            ("pole", [153, 153, 153]),
            ("traffic light", [250, 170, 30]),
            ("traffic sign", [220, 220, 0]),
            ("vegetation", [107, 142, 35]),
            ("terrain", [152, 251, 152]),
            ("sky", [70, 130, 180]),
            ("person", [220, 20, 60]),
            ("rider", [255, 0, 0]),
            ("car", [0, 0, 142]),
            ("truck", [0, 0, 70]),
            ("bus", [0, 60, 100]),
            ("train", [0, 80, 100]),
            ("motorcycle", [0, 0, 230]),
            ("bicycle", [119, 11, 32]),
        ]
    )
]
ROAD, SIDEWALK, BUILDING, WALL, FENCE, POLE, LIGHT, SIGN, VEGETATION, TERRAIN, SKY = range(11)
PERSON, RIDER, CAR, TRUCK, BUS, TRAIN, MOTORCYCLE, BICYCLE = range(11, 19)
NUM_CLASSES = len(CATEGORIES)
THINGS = tuple(c["id"] for c in CATEGORIES if c["isthing"])
#: STQ's ignore class and label layout.
IGNORE_LABEL = 255
LABEL_BIT_SHIFT = 16
#: The class a prediction confuses a thing with.
CONFUSED = {CAR: TRUCK, TRUCK: CAR, BUS: TRUCK, PERSON: RIDER, RIDER: PERSON, BICYCLE: MOTORCYCLE, MOTORCYCLE: BICYCLE}
VERSION = 1


def segment_id(category: int, instance: int = 0) -> int:
    """The panoptic id of a segment: ``(category + 1) * 65536 + instance`` (0 is VOID)."""
    if not 0 <= instance < 65536:
        raise ValueError(f"instance number {instance} does not fit in 16 bits")
    return (category + 1) * 65536 + instance


# --------------------------------------------------------------------------------------------
# The scene
# --------------------------------------------------------------------------------------------


@dataclass
class Track:
    """A thing moving through the video; ``x`` is the centre's fraction of the width, ``z`` a
    nearness from ~0.05 (at the horizon) to ~1.3 (at the bottom edge)."""

    category: int
    instance: int
    birth: int
    death: int
    x: float
    z: float
    vx: float
    vz: float
    aspect: float
    rider_of: Track | None = None  # a rider sits on its bicycle or motorcycle
    # The prediction's view of the track.
    detected: bool = True
    pred_instance: int = 0
    switch_at: int | None = None
    switch_instance: int = 0
    wrong_from: int = 1 << 30
    wrong_to: int = 1 << 30
    shift: tuple[float, float] = (0.0, 0.0)
    scale: float = 1.0
    flicker: float = 0.0
    ghost: bool = False  # a false positive: in the prediction only

    def at(self, t: int) -> tuple[float, float]:
        if self.rider_of is not None:
            return self.rider_of.at(t)
        return self.x + self.vx * (t - self.birth), self.z + self.vz * (t - self.birth)


@dataclass
class Scene:
    height: int
    width: int
    frames: int
    rng: np.random.Generator
    horizon: float = 0.0
    tracks: list[Track] = field(default_factory=list)
    ghosts: list[Track] = field(default_factory=list)

    def __post_init__(self) -> None:
        rng, h, w = self.rng, self.height, self.width
        self.horizon = h * rng.uniform(0.36, 0.48)
        self.speed = rng.uniform(0.0, 1.0)  # the camera's forward speed: stuff drifts outward
        self.vanish = w * rng.uniform(0.42, 0.58)
        # Skyline: blocks of building over [-w, 2w] with their roof heights.
        xs = np.cumsum(rng.uniform(0.04, 0.16, 40) * w) - w
        self.blocks = [(x, h * rng.uniform(0.05, 0.3)) for x in xs if x < 2 * w]
        self.roof_phase = rng.uniform(0, 2 * math.pi, len(self.blocks))
        self.trees = [
            (rng.uniform(-0.2, 1.2) * w, rng.uniform(0.3, 1.0), rng.uniform(0.03, 0.08) * w)
            for _ in range(rng.integers(2, 8))
        ]
        self.poles = [
            (rng.uniform(-0.5, 0.5), rng.uniform(0.0, 1.0), int(rng.integers(0, 3))) for _ in range(rng.integers(2, 8))
        ]
        self.road = (rng.uniform(0.25, 0.45), rng.uniform(0.25, 0.45))  # bottom half-widths, left and right
        self.wobble = (rng.uniform(0.005, 0.02) * w, rng.uniform(0.05, 0.25), rng.uniform(0, 2 * math.pi))
        self.terrain = [
            (rng.uniform(0, 1), rng.uniform(0.04, 0.12), rng.integers(0, 2)) for _ in range(rng.integers(0, 4))
        ]
        self.fence = rng.uniform() < 0.4
        self.wall = rng.uniform() < 0.3
        self.hood = rng.uniform(0.06, 0.12) * h if rng.uniform() < 0.5 else 0.0
        self.void_blobs = [
            (rng.uniform(0, w), rng.uniform(self.horizon, h), rng.uniform(0.004, 0.015) * w)
            for _ in range(rng.integers(0, 4))
        ]
        self.crowd: tuple[int, float, float, float, float] | None = None
        if rng.uniform() < 0.5:
            category = PERSON if rng.uniform() < 0.6 else CAR
            side = -1 if rng.uniform() < 0.5 else 1
            self.crowd = (category, side, rng.uniform(0.08, 0.2), rng.uniform(0.12, 0.3), rng.uniform(0.0, 0.003))
        self.confusion = rng.uniform() < 0.4  # a patch of sidewalk predicted as road
        self.pred_stuff = (rng.normal(0, 0.006 * w), rng.normal(0, 0.006 * w), rng.uniform(0, 2 * math.pi))
        self._make_tracks()

    # -- tracks --------------------------------------------------------------------------

    def _make_tracks(self) -> None:
        rng = self.rng
        density = rng.uniform(3, 20)  # things per frame
        counters: dict[int, int] = {}
        tracker = [0]

        def new(category: int, birth: int, death: int, x: float, z: float, vx: float, vz: float, ghost: bool = False):
            if ghost:
                instance = 0
            else:
                counters[category] = counters.get(category, 0) + 1
                instance = counters[category]
            aspect = {
                CAR: rng.uniform(1.2, 1.8),
                TRUCK: rng.uniform(1.0, 1.4),
                BUS: rng.uniform(1.4, 2.2),
                PERSON: rng.uniform(0.3, 0.45),
                RIDER: rng.uniform(0.4, 0.55),
                BICYCLE: rng.uniform(1.2, 1.6),
                MOTORCYCLE: rng.uniform(1.2, 1.6),
            }[category]
            track = Track(category, instance, birth, death, x, z, vx, vz, aspect, ghost=ghost)
            tracker[0] += 1
            track.pred_instance = tracker[0]
            small = z < 0.25
            track.detected = rng.uniform() > (0.5 if small else 0.04)
            track.flicker = 0.2 if small else 0.03
            track.shift = (rng.normal(0, 0.01), rng.normal(0, 0.01))
            track.scale = rng.uniform(0.92, 1.08)
            if death - birth > 4 and rng.uniform() < 0.15:
                track.switch_at = int(rng.integers(birth + 2, death - 1))
                tracker[0] += 1
                track.switch_instance = tracker[0]
            if category in CONFUSED and rng.uniform() < 0.08:
                if rng.uniform() < 0.35:
                    track.wrong_from, track.wrong_to = birth, death
                else:
                    track.wrong_from = int(rng.integers(birth, death))
                    track.wrong_to = track.wrong_from + int(rng.integers(1, 8))
            (self.ghosts if ghost else self.tracks).append(track)
            return track

        def spawn(t: int, ghost: bool = False) -> None:
            kind = rng.choice(
                ["car", "person", "cyclist", "truck", "bus", "moto"], p=[0.5, 0.3, 0.07, 0.06, 0.04, 0.03]
            )
            life = int(rng.integers(2, 9)) if ghost else int(rng.integers(8, 120))
            death = min(self.frames, t + life)
            z = rng.uniform(0.08, 1.0)
            if kind in ("person", "cyclist"):
                # On a sidewalk, walking along it or crossing.
                x = rng.choice([rng.uniform(-0.1, 0.3), rng.uniform(0.7, 1.1)])
                vx = rng.normal(0, 0.004)
                vz = rng.normal(0, 0.004)
            else:
                x = rng.uniform(0.2, 0.8)
                vx = rng.normal(0, 0.006)
                vz = rng.normal(0.002 * (1 if rng.uniform() < 0.5 else -1), 0.004)
            if t > 0 and not ghost and rng.uniform() < 0.5:  # entering from a side
                x = -0.15 if rng.uniform() < 0.5 else 1.15
                vx = abs(rng.normal(0.01, 0.004)) * (1 if x < 0 else -1)
            category = {
                "car": CAR,
                "person": PERSON,
                "cyclist": BICYCLE,
                "truck": TRUCK,
                "bus": BUS,
                "moto": MOTORCYCLE,
            }[kind]
            track = new(category, t, death, x, z, vx, vz, ghost)
            if kind in ("cyclist", "moto"):
                rider = new(RIDER, t, death, x, z, vx, vz, ghost)
                rider.rider_of = track

        for _ in range(round(density)):
            spawn(0)
        alive_rate = density / 40  # things stay in view for about 40 frames
        for t in range(1, self.frames):
            for _ in range(rng.poisson(alive_rate)):
                spawn(t)
        for t in range(self.frames):
            if rng.uniform() < 0.12:
                spawn(t, ghost=True)
        # Predicted instances inside the crowd region: the model splits it into people or cars.
        if self.crowd is not None:
            category, side, width, _, _ = self.crowd
            _, _, _, depth, speed = self.crowd
            for _ in range(int(rng.integers(1, 4))):
                x = (0.5 + side * (0.5 - width / 2)) + rng.uniform(-width / 3, width / 3)
                new(category, 0, self.frames, x, depth * 0.4 * rng.uniform(0.8, 1.0), -side * speed, 0.0, ghost=True)

    # -- drawing -------------------------------------------------------------------------

    def draw(self, t: int, pred: bool, rng: np.random.Generator) -> np.ndarray:
        """Frame ``t`` as an id map (int32), the ground truth's or the prediction's."""
        h, w = self.height, self.width
        image = Image.new("I", (w, h), segment_id(SKY))
        draw = ImageDraw.Draw(image)
        yh = self.horizon
        noise = (lambda s: rng.normal(0, s)) if pred else (lambda s: 0.0)
        drift = self.speed * t * 0.004 * w

        # Buildings: roofs wobble from frame to frame, the skyline drifts with the camera.
        top = []
        for i, ((x, roof), phase) in enumerate(zip(self.blocks, self.roof_phase, strict=True)):
            y = yh - roof - 2.0 * math.sin(0.3 * t + phase) + noise(2.5)
            end = self.blocks[i + 1][0] if i + 1 < len(self.blocks) else 2 * w
            top += [(x - drift * 0.3, y), (end - drift * 0.3, y)]
        draw.polygon([(-w, yh + 4), *top, (2 * w, yh + 4)], fill=segment_id(BUILDING))
        for x, depth, radius in self.trees:
            cx = (x - self.vanish) * (1 + 0.01 * self.speed * t) + self.vanish + noise(2)
            r = radius * (1 + 0.01 * self.speed * t) * (0.9 if pred else 1.0)
            cy = yh - radius * depth
            draw.ellipse([cx - r, cy - r, cx + r, cy + 0.8 * r], fill=segment_id(VEGETATION))
            draw.ellipse([cx - 0.6 * r, cy - 1.4 * r, cx + 0.7 * r, cy - 0.2 * r], fill=segment_id(VEGETATION))
        # Ground: sidewalk, terrain beyond it, the road between swaying edges.
        draw.rectangle([0, yh, w, h], fill=segment_id(SIDEWALK))
        amplitude, frequency, phase = self.wobble
        offset_left = amplitude * math.sin(frequency * t + phase)
        offset_right = amplitude * math.sin(frequency * t + phase + 1.3)
        if pred:
            dl, dr, pphase = self.pred_stuff
            offset_left += dl + 0.5 * amplitude * math.sin(frequency * t + pphase)
            offset_right += dr + 0.5 * amplitude * math.sin(frequency * t + pphase + 1.3)
        left, right = self.road
        for position, width, side in self.terrain:
            x0 = (0 if side == 0 else w * (1 - width)) + noise(3)
            y0 = yh + (h - yh) * position * 0.6
            draw.polygon(
                [
                    (x0, y0),
                    (x0 + width * w, y0 + noise(3)),
                    (x0 + width * w * 1.3, y0 + 0.25 * (h - yh)),
                    (x0, y0 + 0.3 * (h - yh)),
                ],
                fill=segment_id(TERRAIN),
            )
        road = [
            (self.vanish - 0.02 * w, yh),
            (self.vanish + 0.02 * w, yh),
            (self.vanish + right * w + offset_right, h),
            (self.vanish - left * w + offset_left, h),
        ]
        draw.polygon(road, fill=segment_id(ROAD))
        if pred and self.confusion:
            x = self.vanish - left * w * 0.9 + offset_left
            draw.polygon([(x, h), (x - 0.04 * w, h), (x - 0.01 * w, yh + 0.6 * (h - yh))], fill=segment_id(ROAD))
        if self.wall:
            _box(draw, (w * 0.82, yh - 0.05 * h, w * 1.0, yh + 0.02 * h + noise(2)), segment_id(WALL))
        if self.fence:
            y = yh + 0.04 * h
            _box(draw, (0, y - 0.04 * h + noise(2), w * 0.2 + noise(3), y), segment_id(FENCE))
        # Poles with their signs and lights, moving outward from the vanishing point.
        for position, phase, kind in self.poles:
            spread = ((position + 0.02 * self.speed * t + phase) % 1.0) * (1 if position >= 0 else -1)
            x = self.vanish + spread * w * 0.8
            near = 0.2 + abs(spread)
            pw = max(1.0, 0.008 * w * near * (0.6 if pred else 1.0))
            if pred and phase < 0.15:
                continue  # a thin pole the model misses
            y0 = yh - 0.35 * h * near
            _box(draw, (x - pw / 2 + noise(1), y0, x + pw / 2, yh + 0.12 * h * near), segment_id(POLE))
            if kind:
                s = 0.03 * w * near
                cat = SIGN if kind == 1 else LIGHT
                dims = (s, s) if kind == 1 else (0.45 * s, 1.2 * s)
                box = (x - dims[0] / 2 + noise(1.5), y0, x + dims[0] / 2 + noise(1.5), y0 + dims[1])
                _box(draw, box, segment_id(cat))
        # Crowd: a group far away on one side.
        if self.crowd is not None:
            category, side, width, depth, speed = self.crowd
            cx = (0.5 + side * (0.5 - width / 2) - side * speed * t) * w
            y1 = yh + depth * 0.4 * (h - yh)
            y0 = y1 - depth * (0.5 if category == PERSON else 0.3) * h
            color = segment_id(category)
            if not pred:
                draw.rectangle([cx - width * w / 2, y0, cx + width * w / 2, y1], fill=color)
            else:  # the model sees a region of sidewalk, building and a few things (ghosts below)
                _box(draw, (cx - width * w / 2, y0 + noise(3), cx + width * w / 2, y1), segment_id(SIDEWALK))
        # Things, far to near.
        visible = []
        for track in self.tracks + (self.ghosts if pred else []):
            if not track.birth <= t < track.death:
                continue
            x, z = track.at(t)
            if not 0.04 < z < 1.4:
                continue
            visible.append((z, track))
        visible.sort(key=lambda v: (v[0], v[1].rider_of is not None))
        for z, track in visible:
            if pred and (not track.detected or rng.uniform() < track.flicker):
                continue
            self._draw_thing(draw, track, t, z, pred, rng)
        # VOID: the ego vehicle's hood and a few blobs.
        if self.hood:
            hood = self.hood + (noise(3) if pred else 0.0)
            if not pred or self.pred_stuff[2] < math.pi:  # else the model calls the hood road
                draw.ellipse([-0.1 * w, h - hood, 1.1 * w, h + hood], fill=0)
        if not pred:
            for x, y, r in self.void_blobs:
                draw.ellipse([x - r, y - r, x + r, y + 0.6 * r], fill=0)
        return np.asarray(image, dtype=np.int32)

    def _draw_thing(self, draw: ImageDraw.ImageDraw, track: Track, t: int, z: float, pred: bool, rng) -> None:
        h, w, yh = self.height, self.width, self.horizon
        x, _ = track.at(t)
        category = track.category
        instance = track.instance
        scale = 1.0
        if pred:
            instance = track.pred_instance
            if track.switch_at is not None and t >= track.switch_at:
                instance = track.switch_instance
            if track.wrong_from <= t < track.wrong_to:
                category = CONFUSED[category]
            x += track.shift[0] + rng.normal(0, 0.002)
            z += track.shift[1] + rng.normal(0, 0.003)
            scale = track.scale
        cx = x * w
        bottom = yh + z * (h - yh)
        base = track.category
        if base in (PERSON, RIDER):
            height = 0.55 * h * z * scale
        elif base in (CAR, TRUCK, BUS):
            height = {CAR: 0.3, TRUCK: 0.5, BUS: 0.55}[base] * h * z * scale
        else:  # bicycle, motorcycle
            height = 0.2 * h * z * scale
        width = height * track.aspect
        if track.rider_of is not None:  # sits on the upper part of its bicycle, and above
            bottom -= 0.12 * h * z
            height = 0.45 * h * z * scale
            width = height * track.aspect
        color = segment_id(category, instance)
        box = (cx - width / 2, bottom - height, cx + width / 2, bottom)
        jitter = max(0.7, 0.012 * width) if pred else 0.0
        if base in (CAR, TRUCK, BUS):
            body = (box[0], box[1] + 0.35 * height, box[2], box[3])
            roof = (box[0] + 0.15 * width, box[1], box[2] - 0.2 * width, box[1] + 0.4 * height)
            for part in (body, roof):
                draw.polygon(_rect(part, jitter, rng), fill=color)
        elif base in (PERSON, RIDER):
            head = 0.16 * height
            draw.polygon(_ellipse((box[0], box[1] + head, box[2], box[3]), jitter, rng), fill=color)
            hx = cx + 0.05 * width
            draw.polygon(
                _ellipse((hx - head / 2, box[1], hx + head / 2, box[1] + head * 1.1), jitter / 2, rng), fill=color
            )
        else:
            draw.polygon(_ellipse(box, jitter, rng), fill=color)


def _box(draw: ImageDraw.ImageDraw, box: Sequence[float], fill: int) -> None:
    x0, y0, x1, y1 = box
    draw.rectangle([min(x0, x1), min(y0, y1), max(x0, x1), max(y0, y1)], fill=fill)


def _rect(box: Sequence[float], jitter: float, rng: np.random.Generator) -> list[tuple[float, float]]:
    x0, y0, x1, y1 = box
    points = [
        (x0, y0),
        ((x0 + x1) / 2, y0),
        (x1, y0),
        (x1, (y0 + y1) / 2),
        (x1, y1),
        ((x0 + x1) / 2, y1),
        (x0, y1),
        (x0, (y0 + y1) / 2),
    ]
    if not jitter:
        return points
    return [(px + rng.normal(0, jitter), py + rng.normal(0, jitter)) for px, py in points]


def _ellipse(box: Sequence[float], jitter: float, rng: np.random.Generator, n: int = 20) -> list[tuple[float, float]]:
    x0, y0, x1, y1 = box
    cx, cy, rx, ry = (x0 + x1) / 2, (y0 + y1) / 2, (x1 - x0) / 2, (y1 - y0) / 2
    angles = np.linspace(0, 2 * math.pi, n, endpoint=False)
    radial = 1 + (rng.normal(0, jitter / max(1.0, min(rx, ry)), n) if jitter else 0)
    return [
        (cx + rx * r * math.cos(a), cy + ry * r * math.sin(a))
        for a, r in zip(angles, np.broadcast_to(radial, n), strict=True)
    ]


# --------------------------------------------------------------------------------------------
# The dataset on disk
# --------------------------------------------------------------------------------------------


def rgb(ids: np.ndarray) -> np.ndarray:
    """An id map as the RGB array of its PNG (id = R + 256 G + 256² B)."""
    ids = ids.astype(np.uint32)
    return np.stack([ids & 255, (ids >> 8) & 255, (ids >> 16) & 255], axis=-1).astype(np.uint8)


def segments(ids: np.ndarray, gt: bool) -> list[dict[str, Any]]:
    """``segments_info`` of an id map: every id drawn (area = pixel count in the ground truth)."""
    labels, counts = np.unique(ids, return_counts=True)
    out = []
    for label, count in zip(labels.tolist(), counts.tolist(), strict=True):
        if label == 0:
            continue
        category, instance = label // 65536 - 1, label % 65536
        record: dict[str, Any] = {"id": label, "category_id": category}
        if gt:
            record["iscrowd"] = int(category in THINGS and instance == 0)
            record["area"] = count
        out.append(record)
    return out


def name(video: int, frame: int) -> str:
    return f"{video:04d}_{frame:04d}"


def video_dataset(
    cache: Path, videos: int, frames: int, size: tuple[int, int] = (512, 1024), seed: int = 2026, verbose: bool = True
) -> Path:
    """The folder of a cached dataset of ``videos`` videos of ``frames`` frames of ``size``
    (height, width), made if missing: ``gt.json``, ``pred.json``, ``gt/``, ``pred/``."""
    h, w = size
    folder = Path(cache) / f"video-v{VERSION}-{videos}x{frames}-{w}x{h}-s{seed}"
    if (folder / "done").exists():
        return folder
    if verbose:
        print(f"generating {videos} videos of {frames} frames of {w}x{h} in {folder}", flush=True)
    for side in ("gt", "pred"):
        (folder / side).mkdir(parents=True, exist_ok=True)
    images, gt_annotations, pred_annotations = [], [], []
    for v in range(videos):
        scene = Scene(h, w, frames, np.random.default_rng([seed, v]))
        for t in range(frames):
            image_id = name(v, t)
            images.append({"id": image_id, "file_name": f"{image_id}_leftImg8bit.png", "height": h, "width": w})
            for side, records in (("gt", gt_annotations), ("pred", pred_annotations)):
                ids = scene.draw(t, side == "pred", np.random.default_rng([seed, v, t, side == "pred"]))
                Image.fromarray(rgb(ids)).save(folder / side / f"{image_id}.png")
                records.append(
                    {"image_id": image_id, "file_name": f"{image_id}.png", "segments_info": segments(ids, side == "gt")}
                )
    for side, records in (("gt", gt_annotations), ("pred", pred_annotations)):
        body = {"images": images, "annotations": records, "categories": CATEGORIES}
        (folder / f"{side}.json").write_text(json.dumps(body))
    (folder / "done").touch()
    return folder


def subset(folder: Path, frames: int) -> tuple[Path, Path]:
    """JSON files listing the first ``frames`` frames of ``folder`` (its PNG folders are the same):
    one video of a dataset made with that many frames or more per video."""
    out = []
    for side in ("gt", "pred"):
        target = folder / f"{side}-first{frames}.json"
        if not target.exists():
            body = json.loads((folder / f"{side}.json").read_text())
            body["images"], body["annotations"] = body["images"][:frames], body["annotations"][:frames]
            target.write_text(json.dumps(body))
        out.append(target)
    return out[0], out[1]


# --------------------------------------------------------------------------------------------
# STQ label maps
# --------------------------------------------------------------------------------------------


def stq_numbers(segments_info: Sequence[Mapping[str, Any]]) -> dict[int, int]:
    """Each listed id's instance number (its low 16 bits), for ``read_panoptic_frame``."""
    return {int(s["id"]): int(s["id"]) & 0xFFFF for s in segments_info}


def stq_labels(ids: np.ndarray, segments_info: Sequence[Mapping[str, Any]]) -> np.ndarray:
    """A frame as an STQ label map (int64): a listed segment ``(category_id << 16) + instance``
    (crowd: instance 0), every other pixel ``(255 << 16) + 255``. A lookup table indexed by id
    (ids here stay below 2**21), so converting costs about what one pass over the pixels does."""
    listed = {int(s["id"]): int(s["category_id"]) for s in segments_info}
    void = (IGNORE_LABEL << LABEL_BIT_SHIFT) + IGNORE_LABEL
    top = max(int(ids.max()) if ids.size else 0, max(listed, default=0))
    if top < 1 << 22:
        table = np.full(top + 1, void, dtype=np.int64)
        for k, category in listed.items():
            table[k] = (category << LABEL_BIT_SHIFT) + (k & 0xFFFF)
        return table[ids]
    keys = np.array(sorted(listed), dtype=np.int64)
    values = np.array([(listed[k] << LABEL_BIT_SHIFT) + (k & 0xFFFF) for k in keys.tolist()], dtype=np.int64)
    out = np.full(ids.shape, void, dtype=np.int64)
    if keys.size:
        position = np.minimum(np.searchsorted(keys, ids), keys.size - 1)
        found = keys[position] == ids
        out[found] = values[position[found]]
    return out


def read_rgb_ids(path: Path) -> np.ndarray:
    """A PNG's id map read as mcahny/vps reads it: PIL, ``np.array``, R + 256 G + 256² B."""
    pan = np.array(Image.open(path), dtype=np.uint32)
    return pan[:, :, 0] + pan[:, :, 1] * 256 + pan[:, :, 2] * 256 * 256


@dataclass
class Frames:
    """A dataset's frames, video by video: (gt annotation, pred annotation) pairs."""

    folder: Path
    frames_per_video: int
    gt: dict[str, Any]
    pred: dict[str, Any]

    @classmethod
    def load(cls, folder: Path, frames_per_video: int) -> Frames:
        gt = json.loads((folder / "gt.json").read_text())
        pred = json.loads((folder / "pred.json").read_text())
        return cls(folder, frames_per_video, gt, pred)

    def videos(self) -> Iterator[list[tuple[dict[str, Any], dict[str, Any]]]]:
        pairs = list(zip(self.gt["annotations"], self.pred["annotations"], strict=True))
        n = self.frames_per_video
        for start in range(0, len(pairs), n):
            yield pairs[start : start + n]

    def stq_video(self, video: Sequence[tuple[dict[str, Any], dict[str, Any]]]) -> list[tuple[np.ndarray, np.ndarray]]:
        """One video's frames as STQ label maps, read with Pillow."""
        return [
            (
                stq_labels(read_rgb_ids(self.folder / "gt" / g["file_name"]), g["segments_info"]),
                stq_labels(read_rgb_ids(self.folder / "pred" / p["file_name"]), p["segments_info"]),
            )
            for g, p in video
        ]
