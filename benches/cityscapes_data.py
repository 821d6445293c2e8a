"""bench_convert.py's Cityscapes data: ``gtFine/val/<city>/*_gtFine_instanceIds.png`` maps of
2048x1024, as the Cityscapes converter reads them, written once and cached under ``cache``.

Each map is laid out as a street scene: sky above a wavy skyline, buildings and vegetation in
column bands, poles, then sidewalk and road, the ego vehicle (ignored in evaluation) along the
bottom rows; then 15 to 45 instances — cars, persons, riders, bicycles and the ignored caravans
and trailers — as ellipses and boxes, far ones small near the horizon, near ones large; about
one in eight thing regions is a crowd (the bare class id, as Cityscapes writes groups). Values
follow Cityscapes: below 1000 a class, ``1000 * class + k`` the k-th instance of a class. PNGs
are 16-bit, written by Pillow.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
from PIL import Image

VERSION = 1
HEIGHT, WIDTH = 1024, 2048
CITIES = ("frankfurt", "lindau", "munster")
SKY, BUILDING, VEGETATION, POLE, SIDEWALK, ROAD, EGO, STATIC = 23, 11, 21, 17, 8, 7, 1, 4
#: Thing classes with their share of the instances: car, person, rider, bicycle, truck, and the
#: caravan and trailer that evaluation ignores.
THINGS = {26: 0.5, 24: 0.25, 25: 0.06, 33: 0.1, 27: 0.04, 29: 0.03, 30: 0.02}


def dataset(cache: Path, images: int, seed: int = 2026) -> Path:
    """The ``gtFine/val`` folder of the cached set of ``images`` maps, made if missing."""
    folder = cache / f"cityscapes-v{VERSION}-{images}-s{seed}"
    root = folder / "gtFine" / "val"
    if (folder / "done").exists():
        return root
    if folder.exists():
        shutil.rmtree(folder)
    print(f"generating {images} Cityscapes-like maps of {WIDTH}x{HEIGHT} in {root}", flush=True)
    rng = np.random.default_rng(seed)
    for i in range(images):
        city = CITIES[i % len(CITIES)]
        (root / city).mkdir(parents=True, exist_ok=True)
        name = f"{city}_{i // len(CITIES):06d}_000019_gtFine_instanceIds.png"
        Image.fromarray(scene(rng)).save(root / city / name)
    (folder / "done").touch()
    return root


def _wave(rng: np.random.Generator, base: float, amplitude: float) -> np.ndarray:
    """A row index per column, wandering around ``base``."""
    x = np.arange(WIDTH)
    wave = base + sum(amplitude / k * np.sin(x * rng.uniform(0.002, 0.01) * k + rng.uniform(0, 6.3)) for k in (1, 2, 3))
    return np.clip(wave, 0, HEIGHT - 1).astype(np.int64)


def scene(rng: np.random.Generator) -> np.ndarray:
    """One instanceIds map."""
    rows = np.arange(HEIGHT)[:, None]
    skyline, horizon = _wave(rng, 320, 120), _wave(rng, 560, 25)
    kerb = np.maximum(horizon + 40, _wave(rng, 700, 60))
    label = np.full((HEIGHT, WIDTH), ROAD, np.uint16)
    # Buildings and vegetation alternate in column bands between the skyline and the horizon.
    edges = np.sort(rng.choice(np.arange(1, WIDTH), int(rng.integers(3, 9)), replace=False))
    band = np.searchsorted(edges, np.arange(WIDTH))
    middle = np.where(band % 2 == 0, BUILDING, VEGETATION).astype(np.uint16)
    label[(rows >= skyline) & (rows < horizon)] = np.broadcast_to(middle, (HEIGHT, WIDTH))[
        (rows >= skyline) & (rows < horizon)
    ]
    label[rows < skyline] = SKY
    side = (rows >= horizon) & (rows < kerb) & (np.arange(WIDTH) < WIDTH * rng.uniform(0.2, 0.45))
    label[side] = SIDEWALK
    label[(rows >= horizon) & (rows < kerb) & (np.arange(WIDTH) > WIDTH * rng.uniform(0.6, 0.85))] = SIDEWALK
    for _ in range(int(rng.integers(2, 7))):
        x = int(rng.integers(0, WIDTH - 12))
        top = int(rng.integers(100, 400))
        label[top : int(horizon[x]) + 20, x : x + int(rng.integers(4, 12))] = POLE
    for _ in range(int(rng.integers(0, 4))):
        y, x = int(rng.integers(400, 700)), int(rng.integers(0, WIDTH - 80))
        label[y : y + int(rng.integers(10, 60)), x : x + int(rng.integers(20, 80))] = STATIC
    ego = _wave(rng, 930, 15)
    label[rows >= ego] = EGO
    counters: dict[int, int] = {}
    classes, shares = list(THINGS), np.array(list(THINGS.values()))
    n = int(rng.integers(15, 46))
    # Far instances first: nearer ones, painted later, occlude them.
    for depth in np.sort(rng.uniform(0, 1, n)):
        class_id = int(rng.choice(classes, p=shares / shares.sum()))
        tall = class_id in (24, 25)
        h = int(20 + depth**2 * (420 if tall else 300))
        w = int(h * (rng.uniform(0.3, 0.5) if tall else rng.uniform(1.1, 2.2)))
        x = int(rng.integers(-w // 4, WIDTH - w // 2))
        bottom = int(560 + depth * 380)
        y = bottom - h
        y0, y1, x0, x1 = max(y, 0), min(bottom, HEIGHT), max(x, 0), min(x + w, WIDTH)
        if y1 <= y0 or x1 <= x0:
            continue
        yy, xx = np.mgrid[y0:y1, x0:x1]
        if rng.uniform() < 0.5:
            shape = ((yy - (y + h / 2)) / (h / 2)) ** 2 + ((xx - (x + w / 2)) / (w / 2)) ** 2 <= 1
        else:
            shape = np.ones((y1 - y0, x1 - x0), bool)
        if rng.uniform() < 0.125:
            value = class_id  # a crowd region
        else:
            counters[class_id] = counters.get(class_id, -1) + 1
            value = 1000 * class_id + counters[class_id]
        label[y0:y1, x0:x1][shape] = value
    label[rows >= ego] = EGO
    return label
