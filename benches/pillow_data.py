"""The benchmarks' COCO-like dataset: 640x480 pairs made by panoptiq.synthetic from the real COCO
sample, every PNG re-written by Pillow as COCO's and detectron2's are, also packed as COCO ships
it (``gt.zip`` holding ``gt/*.png``, deflated) and as one tar shard per side. Cached by size."""

from __future__ import annotations

import tarfile
import zipfile
from pathlib import Path

from PIL import Image

from panoptiq.synthetic import REALISTIC_GT_KINDS, REALISTIC_PRED_KINDS, make_dataset


def dataset(cache: Path, pairs: int) -> Path:
    folder = cache / f"coco-pillow-{pairs}"
    if not (folder / "done").exists():
        print(f"generating {pairs} COCO-like pairs in {folder} (PNGs re-written by Pillow)", flush=True)
        make_dataset(
            folder, pairs, seed=2026, size=(480, 640), gt_kinds=REALISTIC_GT_KINDS, pred_kinds=REALISTIC_PRED_KINDS
        )
        for side in ("gt", "pred"):
            for png in (folder / side).iterdir():
                with Image.open(png) as image:
                    image.load()
                    image.save(png)
            with zipfile.ZipFile(folder / f"{side}.zip", "w", zipfile.ZIP_DEFLATED) as z:
                for png in sorted((folder / side).iterdir()):
                    z.write(png, f"{side}/{png.name}")
            with tarfile.open(folder / f"{side}.tar", "w") as t:
                t.add(folder / side, side)
        (folder / "done").touch()
    return folder
