"""The benchmarks' datasets: pairs made by panoptiq.synthetic from the real COCO sample (COCO-like
640x480 by default), every PNG re-written by Pillow as COCO's and detectron2's are, optionally
also packed as COCO ships them (``gt.zip`` holding ``gt/*.png``, deflated) and as one tar shard
per side. Cached by name and size."""

from __future__ import annotations

import tarfile
import zipfile
from pathlib import Path

from PIL import Image

from panoptiq.synthetic import REALISTIC_GT_KINDS, REALISTIC_PRED_KINDS, make_dataset


def dataset(
    cache: Path, pairs: int, size: tuple[int, int] = (480, 640), name: str = "coco", archives: bool = True
) -> Path:
    """The folder of a cached dataset of ``pairs`` pairs of ``size`` (height, width), made if
    missing; with ``archives``, also packed as zips and tars."""
    folder = cache / f"{name}-pillow-{pairs}"
    if not (folder / "done").exists():
        print(f"generating {pairs} {name}-like pairs in {folder} (PNGs re-written by Pillow)", flush=True)
        make_dataset(folder, pairs, seed=2026, size=size, gt_kinds=REALISTIC_GT_KINDS, pred_kinds=REALISTIC_PRED_KINDS)
        for side in ("gt", "pred"):
            for png in (folder / side).iterdir():
                with Image.open(png) as image:
                    image.load()
                    image.save(png)
            if not archives:
                continue
            with zipfile.ZipFile(folder / f"{side}.zip", "w", zipfile.ZIP_DEFLATED) as z:
                for png in sorted((folder / side).iterdir()):
                    z.write(png, f"{side}/{png.name}")
            with tarfile.open(folder / f"{side}.tar", "w") as t:
                t.add(folder / side, side)
        (folder / "done").touch()
    return folder


def describe(pairs: int, rounds: int, extra: str = "") -> None:
    """Print the header every benchmark on these datasets starts with: the machine, and the data."""
    import os
    import platform

    print(
        f"# Machine: {platform.processor() or platform.machine()}, {os.cpu_count()} cores, "
        f"Python {platform.python_version()}"
    )
    print(f"# {pairs} COCO-like pairs of 640x480, {extra}PNGs by Pillow; median of {rounds} rounds\n")
