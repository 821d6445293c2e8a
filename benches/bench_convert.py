"""Converters: panoptiq.converters against panopticapi's converter scripts, side by side in one run.

Run: python benches/bench_convert.py [--images 1000] [--rounds 3] [--reference-rounds 1]
     [--panopticapi-repo DIR] [--converters 2channels,detection2panoptic,...] [--cache DIR]
     python benches/bench_convert.py --smoke    (CI: 8 images, one round, well under a minute)

Data (convert_data.py, cached under ``--cache``): ``--images`` COCO-like 480x640 panoptic images
from ``panoptiq.synthetic.make_dataset`` (the 133 COCO categories, 18 to 32 segments an image,
things and stuff), PNGs written by Pillow, and the other inputs derived from them: 2-channel
PNGs, a COCO detection JSON (compressed RLE and polygons), semantic and instance results. The
Cityscapes converter reads its own data (cityscapes_data.py): ``--cityscapes-images`` 16-bit
``gtFine`` instanceIds maps of 2048x1024, street scenes with 15 to 45 instances each.

The reference is panopticapi itself (``--panopticapi-repo``, default $PANOPTICAPI_REPO: a checkout
or a bare git mirror of cocodataset/panopticapi; skipped, with the reason printed, when it is not
there). Its scripts are copied to a temporary folder and run as their users run them, ``python
converters/<script>.py --flags...`` from that folder (with ``panopticapi`` importable, and its
folder too for ``from utils import``), each with its own ``multiprocessing`` pool of
``cpu_count()`` workers; the Cityscapes script, which takes no flags and has no pool, through its
function ``panoptic_converter`` (it needs ``cityscapesscripts``' label table: ``pip install
--no-deps cityscapesscripts``; without it that row is panoptiq's alone). Their final ``save_json``
fails on numpy integers (image ids from ``np.array_split``, panopticapi issue #17) and on the
``bytes`` that ``COCOmask.merge`` leaves in panoptic2semantic's records (any class with two
segments in an image): a ``sitecustomize`` on their path (nothing else) gives ``json.dump`` a
``default`` that writes those as the numbers and text they are (reported when it was needed) and
notes the time the JSON is written; the scripts' time is from launch until then (the pool's
teardown at exit left out), interpreter start-up and imports included. panoptiq runs the same way,
``python -m panoptiq.converters.<script> --flags... --quiet`` (all cores), measured to its exit;
and its function called in a fresh process (imports excluded). Every run starts with its output
folder removed; the inputs are in the page cache (a warm-up run first). Besides wall times: CPU
times (user + system, the scripts' pool workers included) and peak RSS (the largest process,
polled). The compiled core the runs load is printed (path, size, hash), and a change during the
run reported: on a shared machine it may be reinstalled meanwhile.

The "pycocotools floor" is the time of the pycocotools calls alone that the script makes on the
same data, in a pool of ``cpu_count()`` processes split as the script splits the images (the
slowest worker's sum): everything else the script does (PNG reading and writing, numpy masks,
JSON) taken as free. panoptic->detection: ``mask.encode`` of every segment; panoptic->semantic
(JSON): ``encode`` of every segment, ``merge`` of each class's, ``area`` and ``toBbox``;
detection->panoptic: ``COCO.annToMask`` of every annotation; combine: ``area``, ``merge``
(intersection and union) and ``decode`` as the script calls them. The 2-channel converter and
panoptic->semantic PNGs make no pycocotools calls. "floor / panoptiq" above 1 means panoptiq's
whole conversion takes less time than those C calls alone.

Ratios are reference / panoptiq (target: at least 20x for every converter). Checked: panoptiq's
outputs equal the reference's (the JSON records; the PNGs pixel for pixel, up to the random thing
colours panopticapi draws unseeded: the same partition into segments, in the same order, of the
same categories), and the CLI's outputs equal the function's byte for byte. Exits non-zero if an
output differs, after printing every difference; output files' permission bits that differ from
the scripts' are listed as notes.
"""

from __future__ import annotations

import argparse
import contextlib
import copy
import importlib.metadata
import importlib.util
import io
import itertools
import json
import multiprocessing
import os
import platform
import re
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

HERE = Path(__file__).parent
sys.path.insert(0, str(HERE))

import cityscapes_data  # noqa: E402
import convert_data  # noqa: E402

from panoptiq import read_id_map  # noqa: E402

ENV = "PANOPTICAPI_REPO"
#: The files copied from panopticapi: its converter scripts and the package they import.
REFERENCE_FILES = (
    "converters/__init__.py",
    "converters/2channels2panoptic_coco_format.py",
    "converters/detection2panoptic_coco_format.py",
    "converters/panoptic2detection_coco_format.py",
    "converters/panoptic2semantic_segmentation.py",
    "panopticapi/__init__.py",
    "panopticapi/utils.py",
    "panopticapi/combine_semantic_and_instance_predictions.py",
    "cityscapes_gt_converter/__init__.py",
    "cityscapes_gt_converter/cityscapes_panoptic_converter.py",
)
#: The Cityscapes script takes no flags (its paths are set in the file): it is run through its
#: function, with the paths the flags give panoptiq, from its own folder as its users run it.
CITYSCAPES_RUNNER = (
    "import sys; sys.path.insert(0, 'cityscapes_gt_converter'); "
    "from cityscapes_panoptic_converter import panoptic_converter; panoptic_converter(*sys.argv[1:])"
)
JSON_MARK = "BENCH_JSON_WRITTEN"
DEFAULT_MARK = "BENCH_JSON_DEFAULT"
SITECUSTOMIZE = f'''"""Written by panoptiq's benches/bench_convert.py for panopticapi's scripts.

panopticapi's save_json fails on numpy integers (panopticapi issue #17) and on bytes (the counts
COCOmask.merge returns): json.dump gets a default that writes them as the numbers and text they
are, and says so on stderr; and the time each JSON is written goes to stderr too."""

import json
import sys
import time

_dump = json.dump
_seen = set()


def _default(value):
    name = type(value).__module__ + "." + type(value).__name__
    if type(value).__module__ == "numpy" and hasattr(value, "item"):
        converted = value.item()
    elif isinstance(value, bytes):
        converted = value.decode("ascii")
    else:
        raise TypeError("Object of type %s is not JSON serializable" % type(value).__name__)
    if name not in _seen:
        _seen.add(name)
        sys.stderr.write("{DEFAULT_MARK} %s\\n" % name)
    return converted


def dump(obj, fp, *args, **kwargs):
    kwargs.setdefault("default", _default)
    _dump(obj, fp, *args, **kwargs)
    sys.stderr.write("{JSON_MARK} %r\\n" % time.time())


json.dump = dump
'''
#: Differences found, printed as they are found and summed up at the end.
MISMATCHES: list[str] = []


def mismatch(message: str) -> None:
    MISMATCHES.append(message)
    print(f"  MISMATCH: {message}", flush=True)


# --------------------------------------------------------------------------------------------
# The converters: flags, outputs, panoptiq's function
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Case:
    name: str  # as in the table and --converters
    script: str  # panopticapi's, relative to its repository
    module: str  # panoptiq's
    out_json: str | None  # output file names, relative to the output folder
    out_pngs: str | None
    floor: str | None  # the pycocotools calls timed, or None: the script makes none
    floor_calls: str  # what the floor times


CASES = [
    Case(
        "2channels",
        "converters/2channels2panoptic_coco_format.py",
        "panoptiq.converters.2channels2panoptic_coco_format",
        "panoptic.json",
        "panoptic",
        None,
        "none (PIL, numpy only)",
    ),
    Case(
        "detection2panoptic",
        "converters/detection2panoptic_coco_format.py",
        "panoptiq.converters.detection2panoptic_coco_format",
        "panoptic.json",
        "panoptic",
        "annToMask",
        "COCO.annToMask per annotation",
    ),
    Case(
        "panoptic2detection",
        "converters/panoptic2detection_coco_format.py",
        "panoptiq.converters.panoptic2detection_coco_format",
        "detection.json",
        None,
        "encode",
        "mask.encode per segment",
    ),
    Case(
        "panoptic2semantic-json",
        "converters/panoptic2semantic_segmentation.py",
        "panoptiq.converters.panoptic2semantic_segmentation",
        "semantic.json",
        None,
        "semantic",
        "encode per segment; merge, area, toBbox per class",
    ),
    Case(
        "panoptic2semantic-png",
        "converters/panoptic2semantic_segmentation.py",
        "panoptiq.converters.panoptic2semantic_segmentation",
        None,
        "semantic",
        None,
        "none (PIL, numpy only)",
    ),
    Case(
        "combine",
        "panopticapi/combine_semantic_and_instance_predictions.py",
        "panoptiq.converters.combine_semantic_and_instance_predictions",
        "panoptic.json",
        "panoptic",
        "combine",
        "area, merge (intersect, union), decode",
    ),
    Case(
        "cityscapes",
        "cityscapes_gt_converter/cityscapes_panoptic_converter.py",
        "panoptiq.converters.cityscapes_panoptic_converter",
        "panoptic.json",
        "panoptic",
        None,
        "none (PIL, numpy only)",
    ),
]
BY_NAME = {case.name: case for case in CASES}


def flags(case: Case, data: Path, out: Path) -> list[str]:
    """The script's flags (panopticapi's and panoptiq's are the same)."""
    categories = ["--categories_json_file", str(data / "categories.json")]
    if case.name == "2channels":
        return [
            *("--source_folder", str(data / "2ch"), "--images_json_file", str(data / "images.json")),
            *categories,
            *("--segmentations_folder", str(out / "panoptic"), "--predictions_json_file", str(out / "panoptic.json")),
        ]
    if case.name == "detection2panoptic":
        return [
            *("--input_json_file", str(data / "detection.json"), "--output_json_file", str(out / "panoptic.json")),
            *("--segmentations_folder", str(out / "panoptic")),
            *categories,
        ]
    panoptic_in = ["--input_json_file", str(data / "gt.json"), "--segmentations_folder", str(data / "gt")]
    if case.name == "panoptic2detection":
        return [*panoptic_in, "--output_json_file", str(out / "detection.json"), *categories]
    if case.name == "panoptic2semantic-json":
        return [*panoptic_in, "--output_json_file", str(out / "semantic.json"), *categories]
    if case.name == "panoptic2semantic-png":
        return [*panoptic_in, "--semantic_seg_folder", str(out / "semantic"), *categories]
    if case.name == "combine":
        return [
            *("--semseg_json_file", str(data / "semseg.json"), "--instseg_json_file", str(data / "instseg.json")),
            *("--images_json_file", str(data / "images.json")),
            *categories,
            *("--panoptic_json_file", str(out / "panoptic.json"), "--segmentations_folder", str(out / "panoptic")),
        ]
    if case.name == "cityscapes":
        return [
            *("--original_format_folder", str(data), "--out_folder", str(out / "panoptic")),
            *("--out_file", str(out / "panoptic.json")),
        ]
    raise ValueError(case.name)


def call_function(case: Case, data: Path, out: Path) -> None:
    """panoptiq's function, with the arguments the CLI passes."""
    from panoptiq import converters as c

    cats = str(data / "categories.json")
    if case.name == "2channels":
        c.converter(
            str(data / "2ch"), str(data / "images.json"), cats, str(out / "panoptic"), str(out / "panoptic.json")
        )
    elif case.name == "detection2panoptic":
        c.convert_detection_to_panoptic_coco_format(
            str(data / "detection.json"), str(out / "panoptic"), str(out / "panoptic.json"), cats
        )
    elif case.name == "panoptic2detection":
        c.convert_panoptic_to_detection_coco_format(
            str(data / "gt.json"), str(data / "gt"), str(out / "detection.json"), cats, False
        )
    elif case.name == "panoptic2semantic-json":
        c.extract_semantic(str(data / "gt.json"), str(data / "gt"), str(out / "semantic.json"), None, cats)
    elif case.name == "panoptic2semantic-png":
        c.extract_semantic(str(data / "gt.json"), str(data / "gt"), None, str(out / "semantic"), cats)
    elif case.name == "combine":
        c.combine_predictions(
            str(data / "semseg.json"),
            str(data / "instseg.json"),
            str(data / "images.json"),
            cats,
            str(out / "panoptic"),
            str(out / "panoptic.json"),
        )
    elif case.name == "cityscapes":
        c.panoptic_converter(str(data), str(out / "panoptic"), str(out / "panoptic.json"))
    else:
        raise ValueError(case.name)


def inputs(case: Case, data: Path) -> str:
    """What the converter reads, counted."""

    def load(name: str) -> Any:
        return json.loads((data / name).read_text())

    if case.name == "2channels":
        return f"{len(load('images.json')['images']):,} 2-channel PNGs"
    if case.name == "detection2panoptic":
        return f"{len(load('detection.json')['annotations']):,} annotations"
    if case.name == "combine":
        return f"{len(load('instseg.json')):,} instances, {len(load('semseg.json')):,} semantic"
    if case.name == "cityscapes":
        maps = list(data.glob("*/*_gtFine_instanceIds.png"))
        return f"{len(maps):,} gtFine maps of {cityscapes_data.WIDTH}x{cityscapes_data.HEIGHT}"
    return f"{sum(len(a['segments_info']) for a in load('gt.json')['annotations']):,} segments"


# --------------------------------------------------------------------------------------------
# Running the tools
# --------------------------------------------------------------------------------------------


def reference_repo(option: str | None) -> tuple[Path, str] | str:
    """panopticapi's files copied to a temporary folder (with the sitecustomize), and its
    commit; or the reason it is not measured."""
    root = option or os.environ.get(ENV)
    if not root:
        return f"no panopticapi given (--panopticapi-repo DIR or ${ENV}: a checkout or a bare git mirror)"
    source = Path(root)
    git_dir = source if (source / "HEAD").is_file() and (source / "objects").is_dir() else source / ".git"
    work = Path(tempfile.mkdtemp(prefix="bench-convert-panopticapi-"))
    for relative in REFERENCE_FILES:
        target = work / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        if (source / relative).is_file():
            shutil.copy(source / relative, target)
            continue
        shown = subprocess.run(
            ["git", "--git-dir", str(git_dir), "show", f"HEAD:{relative}"], capture_output=True, check=False
        )
        if shown.returncode != 0:
            return f"{source} holds no {relative} (neither a file nor in git's HEAD): is it cocodataset/panopticapi?"
        target.write_bytes(shown.stdout)
    commit = subprocess.run(
        ["git", "--git-dir", str(git_dir), "rev-parse", "HEAD"], capture_output=True, text=True, check=False
    ).stdout.strip()
    (work / "_bench_site").mkdir()
    (work / "_bench_site" / "sitecustomize.py").write_text(SITECUSTOMIZE)
    return work, commit or "unknown commit"


def reference_env(work: Path) -> dict[str, str]:
    env = dict(os.environ)
    paths = [str(work / "_bench_site"), str(work), str(work / "panopticapi")]
    env["PYTHONPATH"] = os.pathsep.join(paths + [p for p in [env.get("PYTHONPATH")] if p])
    return env


#: Seconds between two looks at a running tool's processes (it also bounds how late its exit is seen).
POLL = 0.01


def sample_peaks(root: int, peaks: dict[int, int]) -> None:
    """Each process's peak RSS so far (VmHWM, kB), of ``root`` and its descendants. ru_maxrss is
    no use here: Linux keeps the pre-exec peak of the forking process, this one's."""
    stack = [root]
    while stack:
        pid = stack.pop()
        try:
            with open(f"/proc/{pid}/status") as f:
                for line in f:
                    if line.startswith("VmHWM:"):
                        peaks[pid] = max(peaks.get(pid, 0), int(line.split()[1]))
                        break
            with open(f"/proc/{pid}/task/{pid}/children") as f:
                stack.extend(int(child) for child in f.read().split())
        except (OSError, ValueError):
            continue


def run_process(command: list[str], cwd: Path | None = None, env: dict[str, str] | None = None) -> dict[str, Any]:
    """Run a command; its wall time, the time its JSON was written (if it says), its own
    'Time elapsed', its CPU time, its peak RSS (the largest of its processes, polled), what the
    patch wrote."""
    peaks: dict[int, int] = {}
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        launched = time.time()
        start = time.perf_counter()
        process = subprocess.Popen(command, cwd=cwd, env=env, stdout=out, stderr=err)
        while True:
            pid, status, usage = os.wait4(process.pid, os.WNOHANG)
            if pid:
                break
            sample_peaks(process.pid, peaks)
            time.sleep(POLL)
        seconds = time.perf_counter() - start
        process.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        stdout, stderr = out.read().decode(errors="replace"), err.read().decode(errors="replace")
    if process.returncode != 0:
        raise SystemExit(f"{' '.join(command)} failed ({process.returncode}):\n{stdout[-2000:]}\n{stderr[-4000:]}")
    written = [float(m) for m in re.findall(rf"^{JSON_MARK} (\S+)$", stderr, re.M)]
    own = re.search(r"Time elapsed: ([0-9.]+) seconds", stdout)
    return {
        "seconds": seconds,
        "json_seconds": written[-1] - launched if written else None,
        "own_seconds": float(own.group(1)) if own else None,
        "rss_mb": max(peaks.values(), default=0) / 1024,
        # Its own and its reaped children's (the pool's workers, joined at exit).
        "cpu": usage.ru_utime + usage.ru_stime,
        "processes": len(peaks),
        "defaults": re.findall(rf"^{DEFAULT_MARK} (\S+)$", stderr, re.M),
    }


def fresh(folder: Path) -> Path:
    """An empty ``folder`` for the next run: an earlier run's is moved aside, not deleted, until
    the benchmark ends. (Files created just after thousands were deleted are slow on ext4: it
    skips recently freed inodes one by one, for half a minute or more; a user converting into a
    new folder does not pay that, so neither tool does here.)"""
    if folder.exists():
        aside = next(p for n in itertools.count() if not (p := folder.with_name(f"{folder.name}.{n}")).exists())
        folder.rename(aside)
    folder.mkdir(parents=True)
    return folder


def run_reference(case: Case, work: Path, data: Path, out: Path) -> dict[str, Any]:
    arguments = flags(case, data, fresh(out))
    if case.name == "cityscapes":
        command = [sys.executable, "-c", CITYSCAPES_RUNNER, *arguments[1::2]]
    else:
        command = [sys.executable, case.script, *arguments]
    result = run_process(command, cwd=work, env=reference_env(work))
    # Until the JSON is written when the script writes one (its pool's teardown at exit left out).
    result["time"] = result["json_seconds"] if result["json_seconds"] is not None else result["seconds"]
    return result


def run_cli(case: Case, data: Path, out: Path) -> dict[str, Any]:
    result = run_process([sys.executable, "-m", case.module, *flags(case, data, fresh(out)), "--quiet"])
    result["time"] = result["seconds"]
    return result


def run_function(case: Case, data: Path, out: Path) -> dict[str, Any]:
    fresh(out)
    done = subprocess.run(
        [sys.executable, __file__, "--child", case.name, str(data), str(out)], capture_output=True, text=True
    )
    if done.returncode != 0:
        raise SystemExit(f"panoptiq's function for {case.name} failed:\n{done.stdout[-2000:]}\n{done.stderr[-4000:]}")
    result = json.loads(done.stdout.strip().splitlines()[-1])
    result["time"] = result["seconds"]
    return result


def child(argv: list[str]) -> None:
    """In a fresh process: panoptiq's function once, then its time and peak RSS as JSON."""
    case, data, out = BY_NAME[argv[0]], Path(argv[1]), Path(argv[2])
    import panoptiq.converters  # noqa: F401

    time.sleep(0.5)  # numpy's OpenBLAS threads settle first
    before = resource.getrusage(resource.RUSAGE_SELF)
    start = time.perf_counter()
    call_function(case, data, out)
    seconds = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_SELF)
    cpu = after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime
    status = Path("/proc/self/status").read_text().splitlines()
    rss = next(int(line.split()[1]) for line in status if line.startswith("VmHWM")) / 1024
    print(json.dumps({"seconds": seconds, "cpu": cpu, "rss_mb": rss}))


# --------------------------------------------------------------------------------------------
# The pycocotools floor
# --------------------------------------------------------------------------------------------

#: What the floor's workers read, set before the pool forks.
_FLOOR: dict[str, Any] = {}


def _floor_worker(job: tuple[str, list[int]]) -> tuple[float, int]:
    """The seconds spent in pycocotools' calls over these images, and the number of calls."""
    from pycocotools import mask as COCOmask

    kind, indices = job
    spent, calls = 0.0, 0
    clock = time.perf_counter
    if kind in ("encode", "semantic"):
        data, annotations = _FLOOR["data"], _FLOOR["annotations"]
        for index in indices:
            annotation = annotations[index]
            pan = read_id_map(data / "gt" / annotation["file_name"])  # = rgb2id(np.array(Image.open()))
            per_category = defaultdict(list)
            for segment in annotation["segments_info"]:
                if kind == "encode":
                    mask = np.asfortranarray(np.expand_dims((pan == segment["id"]).astype(np.uint8), axis=2))
                    t = clock()
                    COCOmask.encode(mask)
                    spent += clock() - t
                else:
                    mask = np.asfortranarray((pan == segment["id"]).astype("uint8"))
                    t = clock()
                    rle = COCOmask.encode(mask)
                    spent += clock() - t
                    rle["counts"] = rle["counts"].decode("utf8")
                    per_category[segment["category_id"]].append(rle)
                calls += 1
            for rles in per_category.values():
                t = clock()
                rle = rles[0] if len(rles) == 1 else COCOmask.merge(rles)
                COCOmask.area(rle)
                COCOmask.toBbox(rle)
                spent += clock() - t
                calls += 2 + (len(rles) > 1)
    elif kind == "annToMask":
        coco = _FLOOR["coco"]
        for img_id in indices:
            for ann in coco.loadAnns(coco.getAnnIds(img_id)):
                t = clock()
                coco.annToMask(ann)
                spent += clock() - t
                calls += 1
    elif kind == "combine":
        inst_by_image, sem_by_image, overlap_thr = _FLOOR["inst"], _FLOOR["sem"], _FLOOR["overlap_thr"]
        for img_id in indices:
            used = None
            for ann in inst_by_image[img_id]:
                t = clock()
                area = COCOmask.area(ann["segmentation"])
                spent += clock() - t
                calls += 1
                if area == 0:
                    continue
                if used is None:
                    intersect = 0
                    used = copy.deepcopy(ann["segmentation"])
                else:
                    t = clock()
                    intersect = COCOmask.area(COCOmask.merge([used, ann["segmentation"]], intersect=True))
                    spent += clock() - t
                    calls += 2
                if intersect / area > overlap_thr:
                    continue
                t = clock()
                used = COCOmask.merge([used, ann["segmentation"]], intersect=False)
                COCOmask.decode(ann["segmentation"])
                spent += clock() - t
                calls += 2
            for ann in sem_by_image[img_id]:
                t = clock()
                COCOmask.decode(ann["segmentation"])
                spent += clock() - t
                calls += 1
    else:
        raise ValueError(kind)
    return spent, calls


def floor(case: Case, data: Path, cores: int) -> tuple[float, int]:
    """The slowest worker's seconds in pycocotools over ``cores`` workers, and the calls made."""
    assert case.floor is not None
    _FLOOR.clear()
    _FLOOR["data"] = data
    if case.floor in ("encode", "semantic"):
        _FLOOR["annotations"] = json.loads((data / "gt.json").read_text())["annotations"]
        items = list(range(len(_FLOOR["annotations"])))
    elif case.floor == "annToMask":
        from pycocotools.coco import COCO

        with contextlib.redirect_stdout(io.StringIO()):
            _FLOOR["coco"] = COCO(str(data / "detection.json"))
        items = _FLOOR["coco"].getImgIds()
    else:
        categories = {c["id"]: c for c in json.loads((data / "categories.json").read_text())}
        inst_by_image: dict[Any, list] = defaultdict(list)
        for inst in json.loads((data / "instseg.json").read_text()):
            if inst["score"] >= 0.5:
                inst_by_image[inst["image_id"]].append(inst)
        for img_id in inst_by_image:
            inst_by_image[img_id] = sorted(inst_by_image[img_id], key=lambda el: -el["score"])
        sem_by_image: dict[Any, list] = defaultdict(list)
        for sem in json.loads((data / "semseg.json").read_text()):
            if categories[sem["category_id"]]["isthing"] != 1:
                sem_by_image[sem["image_id"]].append(sem)
        _FLOOR.update(inst=inst_by_image, sem=sem_by_image, overlap_thr=0.5)
        items = [image["id"] for image in json.loads((data / "images.json").read_text())["images"]]
    jobs = [(case.floor, [int(i) for i in part]) for part in np.array_split(np.array(items), cores)]
    with multiprocessing.get_context("fork").Pool(cores) as pool:
        results = pool.map(_floor_worker, jobs)
    _FLOOR.clear()
    return max(seconds for seconds, _ in results), sum(calls for _, calls in results)


# --------------------------------------------------------------------------------------------
# Checks
# --------------------------------------------------------------------------------------------


def _load(path: Path) -> Any:
    return json.loads(path.read_text())


def _index_map(ids: np.ndarray, segment_ids: list[int]) -> np.ndarray:
    """Each pixel's segment's position in segments_info; -1 unlisted (VOID), -2 an id not listed."""
    present, inverse = np.unique(ids, return_inverse=True)
    position = {sid: k for k, sid in enumerate(segment_ids)}
    table = np.array([position.get(int(p), -1 if p == 0 else -2) for p in present], dtype=np.int64)
    return table[inverse.reshape(ids.shape)]


def check_panoptic(label: str, ours: Path, theirs: Path, case: Case) -> str:
    """Panoptic outputs: the JSON equal but for segment ids; the PNGs the same partition, in the
    same segment order (the ids' colours are drawn at random by panopticapi)."""
    assert case.out_json is not None
    assert case.out_pngs is not None
    a, b = _load(ours / case.out_json), _load(theirs / case.out_json)
    for key in sorted(set(a) | set(b)):
        if key != "annotations" and a.get(key) != b.get(key):
            mismatch(f"{label}: '{key}' differs")
    a_anns = {ann["image_id"]: ann for ann in a["annotations"]}
    b_anns = {ann["image_id"]: ann for ann in b["annotations"]}
    if list(a_anns) != list(b_anns):
        mismatch(f"{label}: the annotations are of other images or in another order")
    segments = pixels = 0
    for image_id, b_ann in b_anns.items():
        a_ann = a_anns.get(image_id)
        if a_ann is None:
            continue
        a_segs, b_segs = a_ann["segments_info"], b_ann["segments_info"]
        strip = [{k: v for k, v in s.items() if k != "id"} for s in a_segs]
        if strip != [{k: v for k, v in s.items() if k != "id"} for s in b_segs]:
            mismatch(f"{label}: image {image_id}: segments_info differ beyond the ids")
            continue
        if a_ann["file_name"] != b_ann["file_name"]:
            mismatch(f"{label}: image {image_id}: file_name {a_ann['file_name']!r} vs {b_ann['file_name']!r}")
            continue
        a_ids = read_id_map(ours / case.out_pngs / a_ann["file_name"])
        b_ids = read_id_map(theirs / case.out_pngs / b_ann["file_name"])
        a_map = _index_map(a_ids, [s["id"] for s in a_segs])
        b_map = _index_map(b_ids, [s["id"] for s in b_segs])
        if a_map.shape != b_map.shape or not np.array_equal(a_map, b_map):
            differ = int((a_map != b_map).sum()) if a_map.shape == b_map.shape else -1
            mismatch(f"{label}: image {image_id}: the PNGs' segments differ ({differ} pixels)")
        elif (a_map == -2).any():
            mismatch(f"{label}: image {image_id}: panoptiq's PNG holds ids its segments_info does not list")
        segments += len(a_segs)
        pixels += a_map.size
    return f"{len(b_anns):,} images, {segments:,} segments, {pixels / 1e6:,.0f} M pixels"


def check_records(label: str, ours: Path, theirs: Path, case: Case) -> str:
    """Detection and semantic JSON: equal, record for record."""
    assert case.out_json is not None
    a, b = _load(ours / case.out_json), _load(theirs / case.out_json)
    for key in sorted(set(a) | set(b)):
        if key != "annotations" and a.get(key) != b.get(key):
            mismatch(f"{label}: '{key}' differs")
    a_anns, b_anns = a["annotations"], b["annotations"]
    if len(a_anns) != len(b_anns):
        mismatch(f"{label}: {len(a_anns)} records vs the reference's {len(b_anns)}")
    differ = [i for i, (x, y) in enumerate(zip(a_anns, b_anns, strict=False)) if x != y]
    for i in differ[:5]:
        keys = sorted(k for k in set(a_anns[i]) | set(b_anns[i]) if a_anns[i].get(k) != b_anns[i].get(k))
        mismatch(f"{label}: record {i} (image {b_anns[i].get('image_id')}) differs in {', '.join(keys)}")
    if len(differ) > 5:
        mismatch(f"{label}: and {len(differ) - 5} more records differ")
    return f"{len(b_anns):,} records, every field"


def check_semantic_pngs(label: str, ours: Path, theirs: Path, case: Case) -> str:
    from PIL import Image

    assert case.out_pngs is not None
    names = sorted(os.listdir(theirs / case.out_pngs))
    if names != sorted(os.listdir(ours / case.out_pngs)):
        mismatch(f"{label}: other PNG files")
    for name in names:
        with Image.open(ours / case.out_pngs / name) as x, Image.open(theirs / case.out_pngs / name) as y:
            if x.mode != y.mode or not np.array_equal(np.asarray(x), np.asarray(y)):
                mismatch(f"{label}: {name} differs ({x.mode} vs {y.mode})")
    return f"{len(names):,} PNGs, pixel for pixel"


def check_same_bytes(label: str, first: Path, second: Path) -> None:
    """Two panoptiq runs (CLI and function), the same seed: the same files."""
    names = sorted(p.relative_to(first) for p in first.rglob("*") if p.is_file())
    if names != sorted(p.relative_to(second) for p in second.rglob("*") if p.is_file()):
        mismatch(f"{label}: the CLI and the function wrote other files")
        return
    differ = [n for n in names if (first / n).read_bytes() != (second / n).read_bytes()]
    if differ:
        mismatch(f"{label}: the CLI's and the function's {len(differ)} file(s) differ, e.g. {differ[0]}")


#: Differences in what is not the outputs' content (file modes): reported, not failed on.
NOTES: list[str] = []


def check_modes(case: Case, ours: Path, theirs: Path) -> None:
    """The output files' permission bits, panoptiq's against panopticapi's (written under the same umask)."""
    for relative in (case.out_json, case.out_pngs):
        if relative is None:
            continue
        mine, ref = ours / relative, theirs / relative
        if mine.is_dir():
            mine, ref = next(mine.iterdir()), ref / next(mine.iterdir()).name
        a, b = mine.stat().st_mode & 0o777, ref.stat().st_mode & 0o777
        if a != b:
            note = f"{case.name}: panoptiq writes {relative}{'/*' if (ours / relative).is_dir() else ''} with mode "
            NOTES.append(note + f"{a:o}, panopticapi with {b:o} (umask {current_umask():03o})")
            print(f"  NOTE: {NOTES[-1]}")


def current_umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


CHECKS: dict[str, Callable[[str, Path, Path, Case], str]] = {
    "2channels": check_panoptic,
    "detection2panoptic": check_panoptic,
    "combine": check_panoptic,
    "panoptic2detection": check_records,
    "panoptic2semantic-json": check_records,
    "panoptic2semantic-png": check_semantic_pngs,
    "cityscapes": check_panoptic,
}


# --------------------------------------------------------------------------------------------


@dataclass
class Row:
    case: Case
    inputs: str
    cli: float
    function: float
    cli_cpu: float
    cli_rss: float
    reference: float | None = None
    reference_cpu: float | None = None
    reference_wall: float | None = None
    reference_own: float | None = None
    reference_rss: float | None = None
    floor: float | None = None
    floor_calls: int = 0
    patched: tuple[str, ...] = ()


def bench_case(args: argparse.Namespace, case: Case, data: Path, work: Path, reference: tuple[Path, str] | str) -> Row:
    cores = os.cpu_count() or 1
    out = work / case.name
    print(f"\n### {case.name}: {inputs(case, data)} (load average {load()})", flush=True)
    run_function(case, data, out / "warm-up")  # the inputs into the page cache, as for every later run
    samples: dict[str, list[dict]] = {"cli": [], "function": [], "reference": []}
    rounds = max(args.rounds, args.reference_rounds if isinstance(reference, tuple) else 0)
    for r in range(rounds):
        order: list[tuple[str, Callable[[], dict]]] = []
        if r < args.rounds:
            order += [
                ("cli", lambda: run_cli(case, data, out / "panoptiq-cli")),
                ("function", lambda: run_function(case, data, out / "panoptiq-function")),
            ]
        if isinstance(reference, tuple) and r < args.reference_rounds:
            order.append(("reference", lambda: run_reference(case, reference[0], data, out / "panopticapi")))
        for label, run in order if r % 2 == 0 else order[::-1]:
            samples[label].append(run())
            done = samples[label][-1]
            print(f"  {label}: {done['time']:.2f} s, CPU {done['cpu']:.2f} s (load average {load()})", flush=True)
    median = {label: statistics.median(s["time"] for s in runs) for label, runs in samples.items() if runs}
    cpu = {label: statistics.median(s["cpu"] for s in runs) for label, runs in samples.items() if runs}
    row = Row(
        case,
        inputs(case, data),
        median["cli"],
        median["function"],
        cpu["cli"],
        max(s["rss_mb"] for s in samples["cli"]),
    )
    check_same_bytes(case.name, out / "panoptiq-cli", out / "panoptiq-function")
    if samples["reference"]:
        ref = samples["reference"]
        row.reference = median["reference"]
        row.reference_cpu = cpu["reference"]
        row.reference_wall = statistics.median(s["seconds"] for s in ref)
        owns = [s["own_seconds"] for s in ref if s["own_seconds"] is not None]
        row.reference_own = statistics.median(owns) if owns else None
        row.reference_rss = max(s["rss_mb"] for s in ref)
        row.patched = tuple(sorted({d for s in ref for d in s["defaults"]}))
        checked = CHECKS[case.name](case.name, out / "panoptiq-cli", out / "panopticapi", case)
        print(f"  check against panopticapi: {checked}: {'DIFFER (above)' if row_mismatch(case) else 'equal'}")
        check_modes(case, out / "panoptiq-cli", out / "panopticapi")
    if case.floor is not None and not args.no_floor:
        row.floor, row.floor_calls = floor(case, data, cores)
        print(f"  pycocotools floor ({case.floor_calls}): {row.floor:.2f} s ({row.floor_calls:,} calls)")
    return row


def row_mismatch(case: Case) -> bool:
    return any(m.startswith(f"{case.name}:") for m in MISMATCHES)


def report(rows: list[Row], args: argparse.Namespace, images: int, reference: tuple[Path, str] | str) -> None:
    cores = os.cpu_count() or 1
    print(
        f"\n## panoptiq.converters vs panopticapi's scripts: {images:,} COCO-like images of 640x480 (Cityscapes: "
        f"{args.cityscapes_images:,} maps of 2048x1024), "
        f"{cores} cores (median of {args.rounds} rounds for panoptiq, {args.reference_rounds} for panopticapi)\n"
    )
    print(
        "| converter | input | panoptiq CLI | panoptiq function | panopticapi script | script / panoptiq CLI "
        "| CPU s: panoptiq CLI / script (ratio) | pycocotools floor | floor / panoptiq CLI "
        "| peak RSS (largest process) panoptiq CLI / script |"
    )
    print("|---|---|---:|---:|---:|---:|---:|---:|---:|---:|")
    for row in rows:
        ref = f"{row.reference:.2f} s" if row.reference is not None else "skipped"
        ratio = f"**{row.reference / row.cli:.1f}x**" if row.reference is not None else "-"
        floor_text = f"{row.floor:.2f} s" if row.floor is not None else "-"
        floor_ratio = f"{row.floor / row.cli:.1f}x" if row.floor is not None else "-"
        rss = f"{row.cli_rss:.0f} / " + (f"{row.reference_rss:.0f} MB" if row.reference_rss is not None else "- MB")
        cpu = f"{row.cli_cpu:.2f} / " + (
            f"{row.reference_cpu:.2f} ({row.reference_cpu / row.cli_cpu:.1f}x)"
            if row.reference_cpu is not None
            else "-"
        )
        print(
            f"| {row.case.name} | {row.inputs} | {row.cli:.2f} s | {row.function:.2f} s | {ref} | {ratio} | {cpu} | "
            f"{floor_text} | {floor_ratio} | {rss} |"
        )
    print(
        "\n  panoptiq CLI: `python -m <module> --flags --quiet`, wall time to exit (start-up and imports included); "
        "function: the call alone, in a fresh process.\n  panopticapi script: `python <script> --flags`, from launch "
        "until its JSON is written (start-up, imports and pool start included; the PNG-only run to its exit)."
    )
    if isinstance(reference, tuple):
        for row in rows:
            if row.reference is None:
                continue
            extra = f"; its own 'Time elapsed' {row.reference_own:.2f} s" if row.reference_own is not None else ""
            print(f"  {row.case.name}: script to exit {row.reference_wall:.2f} s{extra}")
        patched = [f"{row.case.name} ({', '.join(row.patched)})" for row in rows if row.patched]
        print(
            "  json.dump's default was needed (the script would have failed at save_json) by: "
            + (", ".join(patched) if patched else "none")
        )
    else:
        print(f"  panopticapi: skipped: {reference}")
    print(
        "  pycocotools floor: the pycocotools calls alone that the script makes, in a pool of "
        f"{cores} processes split as the script splits the images (the slowest worker's sum):\n    "
        + "; ".join(f"{row.case.name}: {row.case.floor_calls}" for row in rows if row.case.floor)
    )
    measured = [row for row in rows if row.reference is not None]
    if measured:
        low = [row.case.name for row in measured if row.reference / row.cli < 20]
        print(
            "\n## panopticapi / panoptiq: "
            + ", ".join(
                f"{row.case.name} {row.reference / row.cli:.1f}x (CPU {(row.reference_cpu or 0) / row.cli_cpu:.1f}x)"
                for row in measured
            )
            + (f" (target >= 20x: NOT met by {', '.join(low)})" if low else " (target >= 20x: met)")
        )


def core_build() -> str:
    """Which compiled core the runs load: its path, size, time and hash (others may reinstall it
    meanwhile; a change during the run is reported)."""
    import hashlib

    from panoptiq import _core

    path = Path(_core.__file__)
    digest = hashlib.sha256(path.read_bytes()).hexdigest()[:12]
    stamp = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(path.stat().st_mtime))
    return f"{path} ({path.stat().st_size:,} bytes, {stamp}, sha256 {digest})"


def load() -> str:
    return ", ".join(f"{x:.2f}" for x in os.getloadavg()) + " (1, 5, 15 min)"


def _version(package: str) -> str:
    try:
        return importlib.metadata.version(package)
    except importlib.metadata.PackageNotFoundError:
        return "not installed"


def main() -> None:
    if sys.argv[1:2] == ["--child"]:
        child(sys.argv[2:])
        return
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--images", type=int, default=1000, help="images in the dataset (default 1000)")
    parser.add_argument(
        "--cityscapes-images", type=int, default=100, help="2048x1024 maps for the Cityscapes converter (default 100)"
    )
    parser.add_argument("--rounds", type=int, default=3, help="rounds of panoptiq's measurements (median)")
    parser.add_argument("--reference-rounds", type=int, default=1, help="rounds of panopticapi's (median)")
    parser.add_argument("--panopticapi-repo", default=None, help=f"panopticapi checkout or bare mirror (${ENV})")
    parser.add_argument("--converters", default=",".join(BY_NAME), help="comma-separated, of: " + ", ".join(BY_NAME))
    parser.add_argument("--no-floor", action="store_true", help="leave out the pycocotools floors")
    parser.add_argument("--seed", type=int, default=2026, help="of the generated data")
    parser.add_argument("--cache", default=os.path.join(tempfile.gettempdir(), "panoptiq-bench"))
    parser.add_argument("--keep", action="store_true", help="keep the outputs (printed where)")
    parser.add_argument("--smoke", action="store_true", help="8 images, one round: a quick run for CI")
    args = parser.parse_args()
    if args.smoke:
        args.images, args.cityscapes_images, args.rounds, args.reference_rounds = 8, 2, 1, 1
    names = [n for n in args.converters.split(",") if n]
    unknown = [n for n in names if n not in BY_NAME]
    if unknown:
        parser.error(f"unknown converter(s) {', '.join(unknown)}; of {', '.join(BY_NAME)}")

    cores = os.cpu_count() or 1
    print(f"# Machine: {platform.processor() or platform.machine()}, {cores} cores, Python {platform.python_version()}")
    packages = ("panoptiq", "numpy", "Pillow", "pycocotools")
    print("# " + ", ".join(f"{p} {_version(p)}" for p in packages))
    build = core_build()
    print(f"# panoptiq core: {build}")
    reference = reference_repo(args.panopticapi_repo)
    if isinstance(reference, tuple):
        source = args.panopticapi_repo or os.environ.get(ENV)
        print(f"# panopticapi: {source} at {reference[1]}, scripts copied to {reference[0]}")
    else:
        print(f"# panopticapi: skipped: {reference}")
    data = convert_data.dataset(Path(args.cache), args.images, args.seed)
    print(f"# data: {data}")
    for line in convert_data.summary(data):
        print(f"#   {line}")
    work = Path(tempfile.mkdtemp(prefix="bench-convert-"))
    print(f"# outputs in {work}{'' if args.keep else ' (removed at the end; --keep keeps them)'}")
    if isinstance(reference, tuple):
        env = reference_env(reference[0])
        print(f"# the scripts: (cd {reference[0]} && PYTHONPATH={env['PYTHONPATH']} {sys.executable} <script> ...)")
    print(f"# load average before: {load()} (other processes on the machine skew the times)", flush=True)
    rows = []
    try:
        for name in names:
            case_data, case_reference = data, reference
            if name == "cityscapes":
                case_data = cityscapes_data.dataset(Path(args.cache), args.cityscapes_images, args.seed)
                if isinstance(reference, tuple) and importlib.util.find_spec("cityscapesscripts") is None:
                    case_reference = (
                        "the Cityscapes script imports cityscapesscripts' label table "
                        "(pip install --no-deps cityscapesscripts)"
                    )
                    print(f"\n# {name}: panopticapi skipped: {case_reference}")
            rows.append(bench_case(args, BY_NAME[name], case_data, work, case_reference))
    finally:
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)
            if isinstance(reference, tuple):
                shutil.rmtree(reference[0], ignore_errors=True)
    print(f"\n# load average after: {load()}")
    if core_build() != build:
        NOTES.append(f"panoptiq's core changed during the run: {build} before, {core_build()} after")
        print(f"# WARNING: {NOTES[-1]}")
    report(rows, args, args.images, reference)
    if NOTES:
        print(f"\n{len(NOTES)} note(s), not counted as differences:\n" + "\n".join(f"- {n}" for n in NOTES))
    if MISMATCHES:
        print(f"\n{len(MISMATCHES)} difference(s) from the reference:\n" + "\n".join(f"- {m}" for m in MISMATCHES))
        raise SystemExit(1)


if __name__ == "__main__":
    main()
