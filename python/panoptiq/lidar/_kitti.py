"""semantic-kitti-api's ``evaluate_panoptic.py`` as a function: a SemanticKITTI folder's
``.label`` files read and counted in parallel by the core, classes mapped by the config's
``learning_map``, and the script's scores — PQ, PQ†, SQ, RQ, IoU, things and stuff — computed
from the config's class names as the script computes them."""

from __future__ import annotations

import html
import os
import warnings
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

from panoptiq.lidar._panoptic import PanopticEval

#: The script's class lists: things, then stuff, by name.
THINGS = ("car", "truck", "bicycle", "motorcycle", "other-vehicle", "person", "bicyclist", "motorcyclist")
STUFF = (
    "road",
    "sidewalk",
    "parking",
    "other-ground",
    "building",
    "vegetation",
    "trunk",
    "terrain",
    "fence",
    "pole",
    "traffic-sign",
)
SPLITS = ("train", "valid", "test")
CONFIG_KEYS = ("learning_map", "learning_map_inv", "learning_ignore", "labels", "split")


class UnmappedLabelWarning(UserWarning):
    """Raw labels the config's ``learning_map`` lacks were counted as class 0, as
    semantic-kitti-api counts them."""


def read_label(path: str | os.PathLike[str]) -> np.ndarray:
    """A ``.label`` file: one little-endian ``uint32`` per point (instance << 16 | semantic)."""
    from panoptiq import _core

    return np.asarray(_core.read_label_file(os.fspath(path)), dtype=np.uint32)


def load_config(path: str | os.PathLike[str]) -> dict[str, Any]:
    """The dataset's YAML config (PyYAML, the ``lidar`` extra), its keys checked."""
    try:
        import yaml
    except ImportError:
        raise ImportError("reading the SemanticKITTI config needs PyYAML: pip install 'panoptiq[lidar]'") from None
    path = os.fspath(path)
    try:
        with open(path, encoding="utf-8") as f:
            # libyaml's loader where PyYAML was built with it: the same safe subset, 10x faster
            # (the config's parse was a fifth of a 200-scan evaluation).
            data = yaml.load(f, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
    except FileNotFoundError:
        raise FileNotFoundError(
            f"the config {path} does not exist (semantic-kitti-api's is config/semantic-kitti.yaml)"
        ) from None
    missing = [key for key in CONFIG_KEYS if not isinstance(data, Mapping) or key not in data]
    if missing:
        raise ValueError(f"the config {path} has no {', '.join(missing)}")
    return data


def label_lut(learning_map: Mapping[Any, Any], source: str) -> np.ndarray:
    """``learning_map`` as a table over the 16-bit raw labels: -1 where the map has no entry."""
    lut = np.full(1 << 16, -1, dtype=np.int64)
    for raw, cls in learning_map.items():
        if not (isinstance(raw, int) and 0 <= raw < 1 << 16 and isinstance(cls, int) and cls >= 0):
            raise ValueError(
                f"the config {source}: learning_map entry {raw!r}: {cls!r} is not a raw label in 0..65535 "
                "mapped to a class"
            )
        lut[raw] = cls
    return lut


def scans(
    dataset: str | os.PathLike[str], predictions: str | os.PathLike[str], sequences: list[Any]
) -> list[tuple[str, str, str]]:
    """Every scan of ``sequences``: its name (``SS/NNNNNN``), its label file and its prediction,
    in the script's order (sequences as listed, files sorted); every ground-truth scan needs a
    prediction of the same name and no prediction may be left over."""
    out = []
    for sequence in sequences:
        name = f"{int(sequence):02d}"
        labels = Path(dataset, "sequences", name, "labels")
        preds = Path(predictions, "sequences", name, "predictions")
        for folder, what in ((labels, "label"), (preds, "prediction")):
            if not folder.is_dir():
                raise FileNotFoundError(f"the sequence {name} has no {what} folder {folder}")
        gt_files = sorted(p.name for p in labels.iterdir() if p.name.endswith(".label"))
        pred_files = sorted(p.name for p in preds.iterdir() if p.name.endswith(".label"))
        missing = sorted(set(gt_files) - set(pred_files))
        if missing:
            raise FileNotFoundError(
                f"the sequence {name} has no prediction {preds / missing[0]} for {labels / missing[0]} "
                f"({len(missing)} scans missing)"
            )
        extra = sorted(set(pred_files) - set(gt_files))
        if extra:
            raise ValueError(
                f"the sequence {name} has {len(pred_files)} predictions for {len(gt_files)} scans: "
                f"{preds / extra[0]} has no label file"
            )
        out.extend((f"{name}/{f[: -len('.label')]}", str(labels / f), str(preds / f)) for f in gt_files)
    return out


def evaluate_semantic_kitti(
    dataset: str | os.PathLike[str],
    predictions: str | os.PathLike[str] | None = None,
    split: str = "valid",
    data_cfg: str | os.PathLike[str] = "config/semantic-kitti.yaml",
    limit: int | None = None,
    min_inst_points: int = 50,
    output: str | os.PathLike[str] | None = None,
    *,
    strict: bool = False,
    num_threads: int | None = None,
    client: Any = None,
    scans_per_part: int = 200,
) -> dict[str, Any]:
    """semantic-kitti-api's ``evaluate_panoptic.py``: panoptic scores of a SemanticKITTI split.

    Parameters
    ----------
    dataset : path
        The dataset folder: ``sequences/SS/labels/NNNNNN.label``.
    predictions : path, optional
        ``sequences/SS/predictions/NNNNNN.label``; default: ``dataset``.
    split : {"train", "valid", "test"}
        The config's list of sequences to evaluate.
    data_cfg : path
        The dataset's YAML config (``learning_map``, ``learning_map_inv``, ``learning_ignore``,
        ``labels``, ``split``); default, as the script's: ``config/semantic-kitti.yaml``.
    limit : int, optional
        Only the first ``limit`` points of each scan (the script's option; its own code fails
        when it is given).
    min_inst_points : int
        Unmatched segments of fewer points are not counted (default 50, the script's).
    output : path, optional
        A folder to write ``scores.txt`` (the script's YAML) and ``detailed_results.html`` into.
    strict : bool
        Raise on a raw label the config's ``learning_map`` lacks; by default such points are class
        0, as in the script, with an :class:`UnmappedLabelWarning` counting them.
    client : dask.distributed.Client, optional
        Count the scans on this Dask cluster, ``scans_per_part`` a task (the workers read the
        files by the same paths); the totals merge exactly, so the scores are the same bits.

    Returns
    -------
    dict
        The script's scores (``pq_mean``, ``pq_dagger``, ``sq_mean``, ``rq_mean``, ``iou_mean``,
        ``pq_stuff`` … ``sq_things``) and ``"classes"``: each class's ``PQ``, ``SQ``, ``RQ`` and
        ``IoU`` by name, with ``"all"`` the means over the included classes.
    """
    if split not in SPLITS:
        raise ValueError(f"split must be one of {SPLITS}, got {split!r}")
    config = load_config(data_cfg)
    source = os.fspath(data_cfg)
    lut = label_lut(config["learning_map"], source)
    class_inv_remap, class_strings = config["learning_map_inv"], config["labels"]
    ignore = [int(c) for c, ignored in config["learning_ignore"].items() if ignored]
    evaluator = PanopticEval(len(class_inv_remap), None, ignore, min_points=min_inst_points)
    jobs = scans(dataset, predictions if predictions is not None else dataset, list(config["split"][split]))
    if client is None:
        unmapped = evaluator._counts.add_label_files(jobs, lut.tolist(), limit, strict, num_threads)
    else:
        unmapped = _count_on(client, evaluator, jobs, lut, (limit, strict), scans_per_part)
    evaluator._scans = len(jobs)
    if unmapped:
        warnings.warn(
            f"{unmapped} points have raw labels the config's learning_map lacks; they count as class 0, as in "
            "semantic-kitti-api (strict=True raises instead)",
            UnmappedLabelWarning,
            stacklevel=2,
        )
    scores, classes = summarize(evaluator, class_inv_remap, class_strings, source)
    if output is not None:
        write_output(Path(output), scores, classes)
    return {**scores, "classes": classes}


def count_part(
    arguments: tuple[int, list[int], int],
    jobs: list[tuple[str, str, str]],
    lut: list[int],
    limit: int | None,
    strict: bool,
) -> tuple[Any, int]:
    """One part's exact totals (the core's counts, which pickle) and its unmapped points."""
    from panoptiq import _core

    counts = _core.LidarCounts(arguments)
    unmapped = counts.add_label_files(jobs, lut, limit, strict, 1)
    return counts, unmapped


def _count_on(
    client: Any,
    evaluator: PanopticEval,
    jobs: list[tuple[str, str, str]],
    lut: np.ndarray,
    options: tuple[Any, bool],
    size: int,
) -> int:
    """Counts ``jobs`` on the cluster of ``client``, ``size`` scans a task, into ``evaluator``."""
    if size < 1:
        raise ValueError(f"scans_per_part must be at least 1, got {size}")
    parts = [jobs[i : i + size] for i in range(0, len(jobs), size)]
    table = lut.tolist()
    futures = client.map(
        count_part,
        [evaluator._arguments()] * len(parts),
        parts,
        [table] * len(parts),
        *([o] * len(parts) for o in options),
        pure=False,
    )
    unmapped = 0
    try:
        for counts, missing in client.gather(futures):
            evaluator._counts.merge(counts)
            unmapped += missing
    finally:
        client.cancel([f for f in futures if not f.done()])
    return unmapped


def summarize(
    evaluator: PanopticEval, class_inv_remap: Mapping[Any, Any], class_strings: Mapping[Any, str], source: str
) -> tuple[dict[str, float], dict[str, dict[str, float]]]:
    """The script's scores from an evaluator's totals, by the config's class names."""
    pq, sq, rq, all_pq, all_sq, all_rq = evaluator.getPQ()
    iou, all_iou = evaluator.getSemIoU()
    classes: dict[str, dict[str, float]] = {
        "all": {"PQ": pq.item(), "SQ": sq.item(), "RQ": rq.item(), "IoU": iou.item()}
    }
    for idx, (c_pq, c_rq, c_sq, c_iou) in enumerate(
        zip(all_pq.tolist(), all_rq.tolist(), all_sq.tolist(), all_iou.tolist(), strict=True)
    ):
        try:
            name = class_strings[class_inv_remap[idx]]
        except KeyError:
            raise ValueError(f"the config {source} names no class {idx} (learning_map_inv and labels)") from None
        classes[name] = {"PQ": c_pq, "SQ": c_sq, "RQ": c_rq, "IoU": c_iou}
    absent = [c for c in (*THINGS, *STUFF) if c not in classes]
    if absent:
        raise ValueError(
            f"the config {source} lacks the classes {', '.join(absent)}, which the script's scores average over"
        )

    def mean(names: tuple[str, ...], key: str) -> float:
        return float(np.mean([float(classes[c][key]) for c in names]))

    everything = THINGS + STUFF
    scores = {
        "pq_mean": mean(everything, "PQ"),
        "pq_dagger": float(
            np.mean([float(classes[c]["PQ"]) for c in THINGS] + [float(classes[c]["IoU"]) for c in STUFF])
        ),
        "sq_mean": mean(everything, "SQ"),
        "rq_mean": mean(everything, "RQ"),
        "iou_mean": float(classes["all"]["IoU"]),
        "pq_stuff": mean(STUFF, "PQ"),
        "rq_stuff": mean(STUFF, "RQ"),
        "sq_stuff": mean(STUFF, "SQ"),
        "pq_things": mean(THINGS, "PQ"),
        "rq_things": mean(THINGS, "RQ"),
        "sq_things": mean(THINGS, "SQ"),
    }
    return scores, classes


def write_output(folder: Path, scores: Mapping[str, float], classes: Mapping[str, Mapping[str, float]]) -> None:
    """``scores.txt`` as the script writes it (YAML) and a self-contained per-class table."""
    import yaml

    folder.mkdir(parents=True, exist_ok=True)
    with open(folder / "scores.txt", "w", encoding="utf-8") as f:
        yaml.dump(dict(scores), f, default_flow_style=False)
    rows = "".join(
        f"<tr><td>{html.escape(c)}</td>"
        + "".join(f"<td>{classes[c][k]:.3}</td>" for k in ("PQ", "SQ", "RQ", "IoU"))
        + "</tr>"
        for c in (*THINGS, *STUFF)
    )
    (folder / "detailed_results.html").write_text(
        "<!doctype html><html lang='en'><head><meta charset='utf-8'><title>Panoptic results</title></head><body>"
        "<table><tr><th>Class</th><th>PQ</th><th>SQ</th><th>RQ</th><th>IoU</th></tr>"
        + rows
        + "</table></body></html>\n",
        encoding="utf-8",
    )
