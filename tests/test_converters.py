"""panoptiq.converters give what panopticapi's converter scripts give.

Each converter is checked against two references, on realistic generated data and on the real
COCO sample:

* ``panopticapi``: the real scripts, run in this process. They come from the checkout or bare
  git directory named by ``PANOPTICAPI_REPO`` (CI has none: those tests skip), except
  ``combine_semantic_and_instance_predictions``, which panopticapi-lite installs. Their
  multiprocessing pool is replaced by one that runs each job at once in this process, and their
  ``save_json`` by one that writes numpy scalars (panopticapi#17) and ``bytes`` RLE counts (the
  semantic script's merged masks) as the numbers and text they are: the records themselves are
  the scripts'.
* ``oracle``: tests/reference_converters.py, written from the formats' definitions.

Outputs are compared up to colour relabelling, since panopticapi draws thing colours from the
unseeded ``np.random`` and panoptiq from its seed: the JSON files are equal but for segment ids,
the segments of an image are matched in order, and each PNG's id map is equal to the
reference's once every reference id is replaced by the id of the segment in the same position.
Stuff keeps its category's colour; a thing's colour is within 30 per channel of its category's,
unique in its image and never black. RLE strings and semantic PNGs are compared exactly.
"""

from __future__ import annotations

import contextlib
import copy
import importlib.util
import inspect
import json
import os
import subprocess
import sys
import types
import warnings
from collections import namedtuple
from collections.abc import Callable, Iterator
from functools import partial
from pathlib import Path
from typing import Any

import converter_data as data
import numpy as np
import panopticapi.combine_semantic_and_instance_predictions as panopticapi_combine
import panopticapi.utils
import pytest
import reference_converters as oracle
from conftest import COCO_CATEGORIES_FILE
from PIL import Image

import panoptiq.converters as conv
from panoptiq.converters._cityscapes import _LABELS

# --------------------------------------------------------------------------------------------
# The real scripts

SCRIPTS = {
    "two_channels": "converters/2channels2panoptic_coco_format.py",
    "detection": "converters/detection2panoptic_coco_format.py",
    "to_detection": "converters/panoptic2detection_coco_format.py",
    "semantic": "converters/panoptic2semantic_segmentation.py",
    "cityscapes": "cityscapes_gt_converter/cityscapes_panoptic_converter.py",
}
#: The functions the scripts' command lines call, and panoptiq's of the same name.
FUNCTIONS = {
    "two_channels": ("converter", conv.converter),
    "detection": ("convert_detection_to_panoptic_coco_format", conv.convert_detection_to_panoptic_coco_format),
    "to_detection": ("convert_panoptic_to_detection_coco_format", conv.convert_panoptic_to_detection_coco_format),
    "semantic": ("extract_semantic", conv.extract_semantic),
    "cityscapes": ("panoptic_converter", conv.panoptic_converter),
}
SAMPLE_DETECTION = "sample_data/panoptic_coco_detection_format.json"
NO_REPO = (
    "PANOPTICAPI_REPO is not set: it names a panopticapi checkout or bare git directory holding the "
    "real converter scripts, which this environment does not have"
)


@pytest.fixture(scope="session")
def panopticapi_repo(tmp_path_factory: pytest.TempPathFactory) -> Path | None:
    """A folder with the scripts and sample data of panopticapi at PANOPTICAPI_REPO, or None."""
    repo = os.environ.get("PANOPTICAPI_REPO")
    if not repo:
        return None
    root = Path(repo)
    if all((root / path).is_file() for path in SCRIPTS.values()):
        return root
    # A bare git directory: take the files of its HEAD.
    out = tmp_path_factory.mktemp("panopticapi")
    for path in [*SCRIPTS.values(), SAMPLE_DETECTION]:
        shown = subprocess.run(["git", f"--git-dir={root}", "show", f"HEAD:{path}"], capture_output=True, check=False)
        if shown.returncode != 0:
            raise RuntimeError(f"PANOPTICAPI_REPO={repo}: cannot read {path}: {shown.stderr.decode(errors='replace')}")
        (out / path).parent.mkdir(parents=True, exist_ok=True)
        (out / path).write_bytes(shown.stdout)
    return out


@contextlib.contextmanager
def reference_warnings() -> Iterator[None]:
    """The reference code may warn (deprecations in numpy, Pillow...): not panoptiq's concern."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        yield


class _Done:
    def __init__(self, value: Any) -> None:
        self._value = value

    def get(self) -> Any:
        return self._value


class _SerialPool:
    """``multiprocessing.Pool`` as the scripts use it, each job run at once in this process."""

    def __init__(self, processes: int | None = None) -> None:
        pass

    def apply_async(self, func: Callable[..., Any], args: tuple[Any, ...] = ()) -> _Done:
        return _Done(func(*args))


class _SerialMultiprocessing:
    Pool = _SerialPool

    @staticmethod
    def cpu_count() -> int:
        return 2  # the scripts split the images over two "cores", as on a two-core machine


def _plain(value: Any) -> Any:
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, bytes):
        return value.decode("ascii")
    raise TypeError(f"Object of type {type(value).__name__} is not JSON serializable")


def _save_json(d: Any, file: str) -> None:
    """panopticapi's save_json, but numpy scalars and bytes written as what they hold."""
    with open(file, "w") as f:
        json.dump(d, f, default=_plain)


def _fake_cityscapesscripts(monkeypatch: pytest.MonkeyPatch) -> None:
    """cityscapesscripts is not installed: give the Cityscapes script a ``helpers.labels`` module
    built from panoptiq's copy of its label table (_LABELS). This is the script's input, used for
    the real-script test only; the oracle's test derives its categories from the same table."""
    labels = cityscapes_labels()
    package = types.ModuleType("cityscapesscripts")
    helpers = types.ModuleType("cityscapesscripts.helpers")
    module = types.ModuleType("cityscapesscripts.helpers.labels")
    module.labels = labels  # type: ignore[attr-defined]
    module.id2label = {label.id: label for label in labels}  # type: ignore[attr-defined]
    package.helpers = helpers  # type: ignore[attr-defined]
    helpers.labels = module  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "cityscapesscripts", package)
    monkeypatch.setitem(sys.modules, "cityscapesscripts.helpers", helpers)
    monkeypatch.setitem(sys.modules, "cityscapesscripts.helpers.labels", module)


Label = namedtuple("Label", "name id category hasInstances ignoreInEval color")


def cityscapes_labels() -> list[Any]:
    return [Label(*row) for row in _LABELS]


def cityscapes_categories_of(labels: list[Any]) -> list[dict[str, Any]]:
    """The panoptic categories of a Cityscapes label table: the evaluated labels, things those
    with instances."""
    return [
        {
            "id": lb.id,
            "name": lb.name,
            "color": list(lb.color),
            "supercategory": lb.category,
            "isthing": int(lb.hasInstances),
        }
        for lb in labels
        if not lb.ignoreInEval
    ]


class Script:
    """The real scripts' top-level functions, called as their command lines call them."""

    def __init__(self, repo: Path | None, monkeypatch: pytest.MonkeyPatch) -> None:
        self.repo = repo
        self.monkeypatch = monkeypatch

    def module(self, key: str) -> types.ModuleType:
        if self.repo is None:
            pytest.skip(NO_REPO)
        # Older copies import `from utils import ...` with panopticapi/ on the path.
        self.monkeypatch.setitem(sys.modules, "utils", panopticapi.utils)
        if key == "cityscapes":
            _fake_cityscapesscripts(self.monkeypatch)
        spec = importlib.util.spec_from_file_location(f"panopticapi_script_{key}", self.repo / SCRIPTS[key])
        assert spec is not None
        assert spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        with reference_warnings():
            spec.loader.exec_module(module)
        module.multiprocessing = _SerialMultiprocessing  # type: ignore[attr-defined]
        module.save_json = _save_json  # type: ignore[attr-defined]
        return module

    def run(self, key: str, *args: Any) -> None:
        function = getattr(self.module(key), FUNCTIONS[key][0])
        with reference_warnings():
            function(*(str(a) if isinstance(a, Path) else a for a in args))

    def two_channels(self, source, images_json, categories_json, segmentations, output_json, void=0) -> None:
        self.run("two_channels", source, images_json, categories_json, segmentations, output_json, void)

    def detection(self, input_json, segmentations, output_json, categories_json) -> None:
        self.run("detection", input_json, segmentations, output_json, categories_json)

    def to_detection(self, input_json, segmentations, output_json, categories_json, things_only) -> None:
        self.run("to_detection", input_json, segmentations, output_json, categories_json, things_only)

    def semantic(self, input_json, segmentations, output_json, semantic_folder, categories_json, things_other) -> None:
        self.run("semantic", input_json, segmentations, output_json, semantic_folder, categories_json, things_other)

    def cityscapes(self, original_folder, out_folder, out_file) -> None:
        self.run("cityscapes", original_folder, out_folder, out_file)

    def combine(self, *args: Any) -> None:
        # panopticapi-lite's copy of the script: present in CI too.
        self.monkeypatch.setattr(panopticapi_combine, "multiprocessing", _SerialMultiprocessing)
        self.monkeypatch.setattr(panopticapi_combine, "save_json", _save_json)
        with reference_warnings():
            panopticapi_combine.combine_predictions(*(str(a) if isinstance(a, Path) else a for a in args))


class Oracle:
    """tests/reference_converters.py with the scripts' arguments."""

    def two_channels(self, source, images_json, categories_json, segmentations, output_json, void=0) -> None:
        oracle.two_channels_to_panoptic(source, images_json, categories_json, segmentations, output_json, void)

    def detection(self, input_json, segmentations, output_json, categories_json) -> None:
        oracle.detection_to_panoptic(input_json, segmentations, output_json, categories_json)

    def to_detection(self, input_json, segmentations, output_json, categories_json, things_only) -> None:
        oracle.panoptic_to_detection(input_json, segmentations, output_json, categories_json, things_only)

    def semantic(self, input_json, segmentations, output_json, semantic_folder, categories_json, things_other) -> None:
        oracle.panoptic_to_semantic(
            input_json, segmentations, output_json, semantic_folder, categories_json, things_other
        )

    def cityscapes(self, original_folder, out_folder, out_file) -> None:
        categories = cityscapes_categories_of(cityscapes_labels())
        oracle.cityscapes_to_panoptic(original_folder, out_folder, out_file, categories)

    def combine(self, *args: Any) -> None:
        oracle.combine(*args)


@pytest.fixture(params=["panopticapi", "oracle"])
def reference(request: pytest.FixtureRequest, panopticapi_repo: Path | None, monkeypatch: pytest.MonkeyPatch) -> Any:
    if request.param == "panopticapi":
        return Script(panopticapi_repo, monkeypatch)
    return Oracle()


@pytest.fixture
def script(panopticapi_repo: Path | None, monkeypatch: pytest.MonkeyPatch) -> Script:
    if panopticapi_repo is None:
        pytest.skip(NO_REPO)
    return Script(panopticapi_repo, monkeypatch)


# --------------------------------------------------------------------------------------------
# Comparison


def load(path: Path) -> Any:
    return json.loads(path.read_text())


def id_map(path: Path) -> np.ndarray:
    image = Image.open(path)
    assert image.mode == "RGB", f"{path} is {image.mode}, not RGB"
    rgb = np.asarray(image).astype(np.uint32)
    return rgb[..., 0] + 256 * rgb[..., 1] + 65536 * rgb[..., 2]


def without_segment_ids(annotation: dict[str, Any]) -> dict[str, Any]:
    annotation = copy.deepcopy(annotation)
    for segment in annotation["segments_info"]:
        segment["id"] = None
    return annotation


def assert_colour(segment_id: int, category: dict[str, Any]) -> None:
    rgb = np.array([segment_id % 256, segment_id // 256 % 256, segment_id // 65536])
    base = np.array(category["color"])
    if category["isthing"] == 0:
        assert rgb.tolist() == base.tolist(), f"stuff {category['id']} has colour {rgb.tolist()}, not {base.tolist()}"
    else:
        assert segment_id != 0, f"a segment of thing {category['id']} is black (VOID)"
        assert np.abs(rgb - base).max() <= 30, f"thing {category['id']}: {rgb.tolist()} is far from {base.tolist()}"


def assert_same_panoptic(
    expected_json: Path, expected_pngs: Path, actual_json: Path, actual_pngs: Path, categories: list[dict[str, Any]]
) -> None:
    """Equal JSON but for segment ids, equal PNGs up to that relabelling, and the colour rules."""
    by_id = {c["id"]: c for c in categories}
    expected, actual = load(expected_json), load(actual_json)
    assert {k: v for k, v in actual.items() if k != "annotations"} == {
        k: v for k, v in expected.items() if k != "annotations"
    }
    assert len(actual["annotations"]) == len(expected["annotations"])
    assert sum(len(a["segments_info"]) for a in expected["annotations"]) > 0
    for want, got in zip(expected["annotations"], actual["annotations"], strict=True):
        assert without_segment_ids(got) == without_segment_ids(want), f"image {want['image_id']}"
    assert sorted(os.listdir(actual_pngs)) == sorted(os.listdir(expected_pngs))
    for want, got in zip(expected["annotations"], actual["annotations"], strict=True):
        ours = {0: 0}
        theirs = {0: 0}
        for e, a in zip(want["segments_info"], got["segments_info"], strict=True):
            assert ours.setdefault(e["id"], a["id"]) == a["id"], f"image {want['image_id']}: one id became two"
            assert theirs.setdefault(a["id"], e["id"]) == e["id"], f"image {want['image_id']}: two ids became one"
            assert_colour(a["id"], by_id[a["category_id"]])
        things = {a["id"] for a in got["segments_info"] if by_id[a["category_id"]]["isthing"] == 1}
        stuff = {a["id"] for a in got["segments_info"] if by_id[a["category_id"]]["isthing"] == 0}
        assert len(things) == sum(by_id[a["category_id"]]["isthing"] == 1 for a in got["segments_info"])
        assert not things & stuff
        want_ids = id_map(expected_pngs / want["file_name"])
        got_ids = id_map(actual_pngs / got["file_name"])
        keys = np.array(sorted(ours), dtype=np.uint32)
        values = np.array([ours[k] for k in keys], dtype=np.uint32)
        assert np.isin(want_ids, keys).all(), "the reference painted an id its JSON does not list"
        relabelled = values[np.searchsorted(keys, want_ids)]
        assert got_ids.shape == want_ids.shape
        mismatch = np.argwhere(got_ids != relabelled)
        assert len(mismatch) == 0, (
            f"{got['file_name']}: {len(mismatch)} pixels differ, first at (y, x) = {mismatch[0].tolist()}: "
            f"{got_ids[tuple(mismatch[0])]} instead of {relabelled[tuple(mismatch[0])]}"
        )


def assert_same_pixels(expected_folder: Path, actual_folder: Path) -> None:
    names = sorted(os.listdir(expected_folder))
    assert sorted(os.listdir(actual_folder)) == names
    for name in names:
        want, got = Image.open(expected_folder / name), Image.open(actual_folder / name)
        assert got.mode == want.mode, name
        assert np.array_equal(np.asarray(got), np.asarray(want)), name


def assert_no_output(folder: Path, output_json: Path) -> None:
    """After a failure: no half-written file, no JSON."""
    assert not output_json.exists()
    for where in {folder, output_json.parent}:
        if where.is_dir():
            parts = [n for n in os.listdir(where) if n.endswith(".part")]
            assert parts == [], f"left in {where}: {parts}"


# --------------------------------------------------------------------------------------------
# Data


def rng_of(request: pytest.FixtureRequest) -> np.random.Generator:
    """A generator seeded by the test's name, so each test has its own data, the same every run."""
    return np.random.default_rng(sum(ord(c) * (i + 1) for i, c in enumerate(request.node.name)))


# --------------------------------------------------------------------------------------------
# 2-channel PNGs to panoptic


@pytest.mark.parametrize("void", [0, 255])
def test_two_channels(reference, request, tmp_path: Path, categories, categories_file: Path, void: int) -> None:
    source, images_json = data.write_two_channels(tmp_path / "in", rng_of(request), categories, 12, void=void)
    reference.two_channels(source, images_json, categories_file, tmp_path / "ref", tmp_path / "ref.json", void)
    conv.converter(
        str(source), str(images_json), str(categories_file), str(tmp_path / "ours"), str(tmp_path / "ours.json"),
        void, seed=3, threads=2,
    )  # fmt: skip
    assert_same_panoptic(tmp_path / "ref.json", tmp_path / "ref", tmp_path / "ours.json", tmp_path / "ours", categories)


def test_two_channels_stuff_with_instance_numbers(
    reference, request, tmp_path: Path, categories, categories_file
) -> None:
    """A stuff class over several instance numbers: panopticapi makes each (class, instance) pair a
    segment — all of the class's one colour, so one merged segment listed once per pair under the
    same id, a file evaluation rejects. panoptiq lists the merged segment once (a decision,
    docs/guides/converters.md): the reference's records with the repeats dropped."""
    source, images_json = data.write_two_channels(tmp_path / "in", rng_of(request), categories, 8, split_stuff=True)
    reference.two_channels(source, images_json, categories_file, tmp_path / "ref", tmp_path / "ref.json")
    conv.converter(
        str(source), str(images_json), str(categories_file), str(tmp_path / "ours"), str(tmp_path / "ours.json"),
        threads=2,
    )  # fmt: skip
    ref = load(tmp_path / "ref.json")
    repeated = [s["id"] for a in ref["annotations"] for s in a["segments_info"]]
    assert len(repeated) > len(set(repeated)), "the data should hold stuff split over instance numbers"
    for annotation in ref["annotations"]:
        seen: set[int] = set()
        kept = []
        for segment in annotation["segments_info"]:
            if segment["id"] not in seen:
                seen.add(segment["id"])
                kept.append(segment)
        annotation["segments_info"] = kept
    (tmp_path / "ref-once.json").write_text(json.dumps(ref))
    assert_same_panoptic(
        tmp_path / "ref-once.json", tmp_path / "ref", tmp_path / "ours.json", tmp_path / "ours", categories
    )


def test_two_channels_thing_with_a_stuff_colour(reference, request, tmp_path: Path, categories) -> None:
    """A thing class whose colour is a stuff class's: no thing segment may take it."""
    stuff = [c for c in categories if c["isthing"] == 0]
    changed = copy.deepcopy(categories)
    for c in changed:
        if c["isthing"] == 1:
            c["color"] = list(stuff[c["id"] % len(stuff)]["color"])
    categories_file = tmp_path / "categories.json"
    categories_file.write_text(json.dumps(changed))
    source, images_json = data.write_two_channels(tmp_path / "in", rng_of(request), changed, 6)
    reference.two_channels(source, images_json, categories_file, tmp_path / "ref", tmp_path / "ref.json")
    conv.converter(
        str(source), str(images_json), str(categories_file), str(tmp_path / "ours"), str(tmp_path / "ours.json"),
        seed=1, threads=2,
    )  # fmt: skip
    assert_same_panoptic(tmp_path / "ref.json", tmp_path / "ref", tmp_path / "ours.json", tmp_path / "ours", changed)
    stuff_colours = {oracle.color_to_id(c["color"]) for c in stuff}
    by_id = {c["id"]: c for c in changed}
    for annotation in load(tmp_path / "ours.json")["annotations"]:
        for segment in annotation["segments_info"]:
            if by_id[segment["category_id"]]["isthing"] == 1:
                assert segment["id"] not in stuff_colours


def test_two_channels_coco_sample(reference, tmp_path: Path, sample_dir: Path, categories) -> None:
    args = (sample_dir / "panoptic_examples_2ch_format", sample_dir / "panoptic_examples.json")
    reference.two_channels(*args, sample_dir / COCO_CATEGORIES_FILE, tmp_path / "ref", tmp_path / "ref.json")
    conv.converter(
        *map(str, args), str(sample_dir / COCO_CATEGORIES_FILE), None, str(tmp_path / "ours.json"), threads=2
    )
    assert_same_panoptic(tmp_path / "ref.json", tmp_path / "ref", tmp_path / "ours.json", tmp_path / "ours", categories)


# --------------------------------------------------------------------------------------------
# Detection to panoptic


def test_detection_to_panoptic(reference, request, tmp_path: Path, categories, categories_file: Path) -> None:
    detections, contents = data.write_detection(tmp_path / "in", rng_of(request), categories, 12)
    kinds = {type(a["segmentation"]).__name__ + type(a["segmentation"].get("counts", [])).__name__ for a in
             contents["annotations"] if isinstance(a["segmentation"], dict)}  # fmt: skip
    assert kinds == {"dictstr", "dictlist"}
    assert any(isinstance(a["segmentation"], list) for a in contents["annotations"])
    reference.detection(detections, tmp_path / "ref", tmp_path / "ref.json", categories_file)
    conv.convert_detection_to_panoptic_coco_format(
        str(detections), str(tmp_path / "ours"), str(tmp_path / "ours.json"), str(categories_file), seed=11, threads=2
    )
    assert_same_panoptic(tmp_path / "ref.json", tmp_path / "ref", tmp_path / "ours.json", tmp_path / "ours", categories)


def test_detection_to_panoptic_panopticapi_sample(script: Script, tmp_path: Path, categories, categories_file) -> None:
    """panopticapi's own sample_data/panoptic_coco_detection_format.json (real COCO polygons)."""
    assert script.repo is not None
    detections = script.repo / SAMPLE_DETECTION
    script.detection(detections, tmp_path / "ref", tmp_path / "ref.json", categories_file)
    conv.convert_detection_to_panoptic_coco_format(
        str(detections), str(tmp_path / "ours"), str(tmp_path / "ours.json"), str(categories_file), threads=2
    )
    assert_same_panoptic(tmp_path / "ref.json", tmp_path / "ref", tmp_path / "ours.json", tmp_path / "ours", categories)


# --------------------------------------------------------------------------------------------
# Panoptic to detection


@pytest.fixture
def panoptic_set(request, tmp_path: Path, categories) -> tuple[Path, Path]:
    return data.write_panoptic(tmp_path / "in", rng_of(request), categories, 10)


def sample_or_synthetic(which: str, sample_dir: Path, panoptic_set: tuple[Path, Path]) -> tuple[Path, Path]:
    if which == "sample":
        return sample_dir / "panoptic_examples.json", sample_dir / "panoptic_examples"
    return panoptic_set


@pytest.mark.parametrize("which", ["synthetic", "sample"])
@pytest.mark.parametrize("things_only", [False, True])
def test_panoptic_to_detection(
    reference, tmp_path: Path, sample_dir: Path, panoptic_set, categories_file: Path, which: str, things_only: bool
) -> None:
    input_json, pngs = sample_or_synthetic(which, sample_dir, panoptic_set)
    reference.to_detection(input_json, pngs, tmp_path / "ref.json", categories_file, things_only)
    conv.convert_panoptic_to_detection_coco_format(
        str(input_json), str(pngs), str(tmp_path / "ours.json"), str(categories_file), things_only, threads=2
    )
    expected, actual = load(tmp_path / "ref.json"), load(tmp_path / "ours.json")
    assert len(actual["annotations"]) == len(expected["annotations"]) > 0
    for want, got in zip(expected["annotations"], actual["annotations"], strict=True):
        assert got == want  # RLE strings included, byte for byte
    assert actual == expected


# --------------------------------------------------------------------------------------------
# Panoptic to semantic


@pytest.mark.parametrize("which", ["synthetic", "sample"])
@pytest.mark.parametrize("things_other", [False, True])
def test_panoptic_to_semantic_png(
    reference, tmp_path: Path, sample_dir: Path, panoptic_set, categories_file: Path, which: str, things_other: bool
) -> None:
    input_json, pngs = sample_or_synthetic(which, sample_dir, panoptic_set)
    reference.semantic(input_json, pngs, None, tmp_path / "ref", categories_file, things_other)
    conv.extract_semantic(
        str(input_json), str(pngs), None, str(tmp_path / "ours"), str(categories_file),
        things_other=things_other, threads=2,
    )  # fmt: skip
    assert_same_pixels(tmp_path / "ref", tmp_path / "ours")
    assert not (tmp_path / "ours.json").exists()


@pytest.mark.parametrize("which", ["synthetic", "sample"])
@pytest.mark.parametrize("things_other", [False, True])
def test_panoptic_to_semantic_json(
    reference, tmp_path: Path, sample_dir: Path, panoptic_set, categories_file: Path, which: str, things_other: bool
) -> None:
    input_json, pngs = sample_or_synthetic(which, sample_dir, panoptic_set)
    reference.semantic(input_json, pngs, tmp_path / "ref.json", None, categories_file, things_other)
    conv.extract_semantic(
        str(input_json), str(pngs), str(tmp_path / "ours.json"), None, str(categories_file),
        things_other=things_other, threads=2,
    )  # fmt: skip
    expected, actual = load(tmp_path / "ref.json"), load(tmp_path / "ours.json")
    assert len(actual["annotations"]) == len(expected["annotations"]) > 0
    for want, got in zip(expected["annotations"], actual["annotations"], strict=True):
        assert got == want
    assert actual == expected


@pytest.mark.parametrize("which", ["synthetic", "sample"])
def test_panoptic_to_semantic_colour_png(
    tmp_path: Path, sample_dir: Path, panoptic_set, categories_file, which
) -> None:
    """``save_with_color`` (a panopticapi pull request's option, not in its main branch): the oracle only."""
    input_json, pngs = sample_or_synthetic(which, sample_dir, panoptic_set)
    oracle.panoptic_to_semantic(
        str(input_json), str(pngs), None, str(tmp_path / "ref"), str(categories_file), save_with_color=True
    )
    conv.extract_semantic(
        str(input_json), str(pngs), None, str(tmp_path / "ours"), str(categories_file), save_with_color=True
    )
    assert_same_pixels(tmp_path / "ref", tmp_path / "ours")


# --------------------------------------------------------------------------------------------
# Combining semantic and instance predictions


@pytest.mark.parametrize(("confidence_thr", "overlap_thr", "stuff_area_limit"), [(0.5, 0.5, 64 * 64), (0.4, 0.3, 300)])
def test_combine(
    reference, request, tmp_path: Path, categories, categories_file, confidence_thr, overlap_thr, stuff_area_limit
) -> None:
    semseg, instseg, images = data.write_combine_inputs(tmp_path / "in", rng_of(request), categories, 10)
    reference.combine(
        semseg, instseg, images, categories_file, tmp_path / "ref", tmp_path / "ref.json",
        confidence_thr, overlap_thr, stuff_area_limit,
    )  # fmt: skip
    conv.combine_predictions(
        str(semseg), str(instseg), str(images), str(categories_file), str(tmp_path / "ours"),
        str(tmp_path / "ours.json"), confidence_thr, overlap_thr, stuff_area_limit, seed=5, threads=2,
    )  # fmt: skip
    expected = load(tmp_path / "ref.json")
    # The rule must have had something to do: dropped instances and small stuff alike.
    kept = sum(len(a["segments_info"]) for a in expected["annotations"])
    assert 0 < kept < len(load(instseg)) + len(load(semseg))
    assert_same_panoptic(tmp_path / "ref.json", tmp_path / "ref", tmp_path / "ours.json", tmp_path / "ours", categories)


# --------------------------------------------------------------------------------------------
# Cityscapes


def test_cityscapes(reference, request, tmp_path: Path) -> None:
    root = data.write_cityscapes(tmp_path / "in", rng_of(request))
    reference.cityscapes(root, tmp_path / "ref", tmp_path / "ref.json")
    conv.panoptic_converter(str(root), str(tmp_path / "ours"), str(tmp_path / "ours.json"), seed=2, threads=2)
    expected = load(tmp_path / "ref.json")
    assert len(expected["images"]) == 6
    crowd = [s for a in expected["annotations"] for s in a["segments_info"] if s["iscrowd"]]
    assert crowd, "the data should hold crowd regions"
    assert_same_panoptic(
        tmp_path / "ref.json", tmp_path / "ref", tmp_path / "ours.json", tmp_path / "ours", expected["categories"]
    )


def test_cityscapes_own_categories(request, tmp_path: Path) -> None:
    """panoptiq's ``categories=``: classes outside them stay VOID, ``isthing`` decides crowds."""
    root = data.write_cityscapes(tmp_path / "in", rng_of(request))
    categories = [
        {"id": 7, "name": "road", "color": [128, 64, 128], "supercategory": "flat", "isthing": 0},
        {"id": 21, "name": "vegetation", "color": [107, 142, 35], "supercategory": "nature", "isthing": 0},
        {"id": 26, "name": "car", "color": [0, 0, 142], "supercategory": "vehicle", "isthing": 1},
        {"id": 24, "name": "person", "color": [220, 20, 60], "supercategory": "human", "isthing": 0},
        {"id": 29, "name": "caravan", "color": [0, 0, 90], "supercategory": "vehicle", "isthing": 1},
    ]
    oracle.cityscapes_to_panoptic(str(root), str(tmp_path / "ref"), str(tmp_path / "ref.json"), categories)
    conv.panoptic_converter(str(root), str(tmp_path / "ours"), str(tmp_path / "ours.json"), categories=categories)
    assert_same_panoptic(tmp_path / "ref.json", tmp_path / "ref", tmp_path / "ours.json", tmp_path / "ours", categories)


# --------------------------------------------------------------------------------------------
# The scripts' arguments


@pytest.mark.parametrize("key", sorted(FUNCTIONS))
def test_positional_arguments_are_the_scripts(script: Script, key: str) -> None:
    """A call written for panopticapi's function means the same to panoptiq's: the script's
    parameters, in its order, with its defaults (panoptiq may add defaults and keyword-only ones)."""
    name, ours = FUNCTIONS[key]
    theirs = inspect.signature(getattr(script.module(key), name)).parameters.values()
    mine = [p for p in inspect.signature(ours).parameters.values() if p.kind is p.POSITIONAL_OR_KEYWORD]
    assert [p.name for p in mine[: len(theirs)]] == [p.name for p in theirs]
    for t, m in zip(theirs, mine[: len(theirs)], strict=True):
        if t.default is not t.empty:
            assert m.default == t.default, t.name


def test_combine_positional_arguments_are_the_scripts() -> None:
    theirs = list(inspect.signature(panopticapi_combine.combine_predictions).parameters)
    mine = list(inspect.signature(conv.combine_predictions).parameters)
    assert mine[: len(theirs)] == theirs


def test_garbage_collector_paused_and_restored(request, tmp_path: Path, categories, categories_file: Path) -> None:
    """The converters pause CPython's cyclic collector while they build their JSON and give it
    back as they found it: on after a run that succeeded or failed, still off if it was off."""
    import gc

    seen: list[bool] = []
    detections, _ = data.write_detection(tmp_path / "in", rng_of(request), categories, 4)
    conv.convert_detection_to_panoptic_coco_format(
        str(detections),
        str(tmp_path / "ok"),
        str(tmp_path / "ok.json"),
        str(categories_file),
        progress=lambda done, total: seen.append(gc.isenabled()),
    )
    assert seen
    assert not any(seen)
    assert gc.isenabled()
    with pytest.raises(FileNotFoundError):
        conv.convert_detection_to_panoptic_coco_format(
            str(tmp_path / "missing.json"), str(tmp_path / "x"), str(tmp_path / "x.json"), str(categories_file)
        )
    assert gc.isenabled()
    gc.disable()
    try:
        conv.convert_detection_to_panoptic_coco_format(
            str(detections), str(tmp_path / "again"), str(tmp_path / "again.json"), str(categories_file)
        )
        assert not gc.isenabled()
    finally:
        gc.enable()


# --------------------------------------------------------------------------------------------
# Bad input: an error naming the culprit, and no partial output


def rewrite_json(path: Path, change: Callable[[Any], None]) -> None:
    contents = load(path)
    change(contents)
    path.write_text(json.dumps(contents))


def test_two_channels_unknown_class(request, tmp_path: Path, categories, categories_file: Path) -> None:
    source, images_json = data.write_two_channels(tmp_path / "in", rng_of(request), categories, 8)
    image = load(images_json)["images"][4]
    png = source / oracle.png_name(image["file_name"])
    pixels = np.asarray(Image.open(png)).copy()
    pixels[5:9, 5:9, 0] = 250  # not a COCO panoptic category
    Image.fromarray(pixels).save(png)
    with pytest.raises(ValueError, match=rf"\b{image['id']}\b.*250|250.*\b{image['id']}\b"):
        conv.converter(str(source), str(images_json), str(categories_file), str(tmp_path / "out"),
                       str(tmp_path / "out.json"), threads=2)  # fmt: skip
    assert_no_output(tmp_path / "out", tmp_path / "out.json")


def failing_detection(tmp_path: Path, rng: np.random.Generator, categories, change: Callable[[Any], Any]) -> tuple:
    detections, _ = data.write_detection(tmp_path / "in", rng, categories, 8)
    culprit: dict[str, Any] = {}

    def edit(contents: Any) -> None:
        culprit.update(change(contents))

    rewrite_json(detections, edit)
    return detections, culprit


def run_detection(detections: Path, tmp_path: Path, categories_file: Path) -> None:
    conv.convert_detection_to_panoptic_coco_format(
        str(detections), str(tmp_path / "out"), str(tmp_path / "out.json"), str(categories_file), threads=2
    )


def annotation_of(contents: Any, image_position: int, kind: Callable[[Any], bool] = lambda a: True) -> Any:
    image_id = contents["images"][image_position]["id"]
    return next(a for a in contents["annotations"] if a["image_id"] == image_id and kind(a["segmentation"]))


def test_detection_unknown_category(request, tmp_path: Path, categories, categories_file: Path) -> None:
    def change(contents: Any) -> dict[str, Any]:
        ann = annotation_of(contents, 3)
        ann["category_id"] = 999
        return ann

    detections, ann = failing_detection(tmp_path, rng_of(request), categories, change)
    with pytest.raises(ValueError, match=rf"(?s)\b{ann['image_id']}\b.*999"):
        run_detection(detections, tmp_path, categories_file)
    assert_no_output(tmp_path / "out", tmp_path / "out.json")


def test_detection_overlap_names_both(request, tmp_path: Path, categories, categories_file: Path) -> None:
    def change(contents: Any) -> dict[str, Any]:
        first = annotation_of(contents, 2, lambda s: isinstance(s, dict) and isinstance(s["counts"], str))
        second = copy.deepcopy(first)
        second["id"] = 4242424
        contents["annotations"].append(second)
        return {"first": first["id"], "second": second["id"], "image_id": first["image_id"]}

    detections, culprit = failing_detection(tmp_path, rng_of(request), categories, change)
    with pytest.raises(ValueError, match="overlap") as raised:
        run_detection(detections, tmp_path, categories_file)
    message = str(raised.value)
    assert str(culprit["first"]) in message
    assert str(culprit["second"]) in message
    assert str(culprit["image_id"]) in message
    assert_no_output(tmp_path / "out", tmp_path / "out.json")


@pytest.mark.parametrize("form", ["uncompressed", "compressed"])
def test_detection_rle_of_the_wrong_length(request, tmp_path: Path, categories, categories_file: Path, form) -> None:
    def change(contents: Any) -> dict[str, Any]:
        ann = annotation_of(contents, 5, lambda s: isinstance(s, dict))
        h, w = ann["segmentation"]["size"]
        if form == "uncompressed":
            ann["segmentation"] = {"size": [h, w], "counts": [h * w - 10, 5]}  # 5 pixels short
        else:
            mask = np.zeros((h, w + 1), bool)
            mask[2:5, 3:9] = True
            ann["segmentation"] = {"size": [h, w], "counts": oracle.rle_string(mask)}  # h pixels too many
        return ann

    detections, ann = failing_detection(tmp_path, rng_of(request), categories, change)
    with pytest.raises(ValueError, match=rf"(?s)\b{ann['image_id']}\b.*sum"):
        run_detection(detections, tmp_path, categories_file)
    assert_no_output(tmp_path / "out", tmp_path / "out.json")


def test_detection_polygon_with_nan(request, tmp_path: Path, categories, categories_file: Path) -> None:
    def change(contents: Any) -> dict[str, Any]:
        ann = annotation_of(contents, 1)
        ann["segmentation"] = [[10.0, 10.0, float("nan"), 20.0, 30.0, 30.0]]
        return ann

    detections, ann = failing_detection(tmp_path, rng_of(request), categories, change)
    with pytest.raises(ValueError, match=rf"(?si)\b{ann['image_id']}\b.*nan"):
        run_detection(detections, tmp_path, categories_file)
    assert_no_output(tmp_path / "out", tmp_path / "out.json")


def test_detection_annotation_of_unlisted_image(request, tmp_path: Path, categories, categories_file: Path) -> None:
    def change(contents: Any) -> dict[str, Any]:
        ann = annotation_of(contents, 0)
        ann["image_id"] = 123456789
        return ann

    detections, ann = failing_detection(tmp_path, rng_of(request), categories, change)
    with pytest.raises(ValueError, match=rf"(?s){ann['id']}.*123456789"):
        run_detection(detections, tmp_path, categories_file)
    assert_no_output(tmp_path / "out", tmp_path / "out.json")


def test_combine_unknown_category_and_unlisted_image(request, tmp_path: Path, categories, categories_file) -> None:
    semseg, instseg, images = data.write_combine_inputs(tmp_path / "in", rng_of(request), categories, 6)
    image_id = load(instseg)[7]["image_id"]

    def run() -> None:
        conv.combine_predictions(str(semseg), str(instseg), str(images), str(categories_file),
                                 str(tmp_path / "out"), str(tmp_path / "out.json"), threads=2)  # fmt: skip

    rewrite_json(instseg, lambda results: results[7].update(category_id=999))
    with pytest.raises(ValueError, match=rf"(?s)\b{image_id}\b.*999"):
        run()
    assert_no_output(tmp_path / "out", tmp_path / "out.json")
    rewrite_json(instseg, lambda results: results[7].update(category_id=1, image_id=123456789))
    with pytest.raises(ValueError, match="123456789"):
        run()
    assert_no_output(tmp_path / "out", tmp_path / "out.json")


def test_missing_two_channel_png(request, tmp_path: Path, categories, categories_file: Path) -> None:
    source, images_json = data.write_two_channels(tmp_path / "in", rng_of(request), categories, 8)
    missing = source / oracle.png_name(load(images_json)["images"][5]["file_name"])
    missing.unlink()
    with pytest.raises(FileNotFoundError, match=str(missing)):
        conv.converter(str(source), str(images_json), str(categories_file), str(tmp_path / "out"),
                       str(tmp_path / "out.json"), threads=2)  # fmt: skip
    assert_no_output(tmp_path / "out", tmp_path / "out.json")


@pytest.mark.parametrize("converter", ["to_detection", "semantic_json", "semantic_png"])
def test_missing_panoptic_png(tmp_path: Path, panoptic_set, categories_file: Path, converter: str) -> None:
    input_json, pngs = panoptic_set
    missing = pngs / load(input_json)["annotations"][3]["file_name"]
    missing.unlink()
    out_json, out_folder = tmp_path / "out.json", tmp_path / "out"
    args = (str(input_json), str(pngs))
    cats = str(categories_file)
    if converter == "to_detection":
        run = partial(conv.convert_panoptic_to_detection_coco_format, *args, str(out_json), cats, False, threads=2)
    elif converter == "semantic_json":
        run = partial(conv.extract_semantic, *args, str(out_json), None, cats, threads=2)
    else:
        run = partial(conv.extract_semantic, *args, None, str(out_folder), cats, threads=2)
    with pytest.raises(FileNotFoundError, match=str(missing)):
        run()
    assert_no_output(out_folder, out_json)


# --------------------------------------------------------------------------------------------
# The seed


def run_seeded(kind: str, inputs: tuple, out: Path, seed: int, threads: int, categories_file: Path) -> None:
    folder, output = str(out), str(out) + ".json"
    if kind == "two_channels":
        conv.converter(*map(str, inputs), str(categories_file), folder, output, seed=seed, threads=threads)
    elif kind == "detection":
        conv.convert_detection_to_panoptic_coco_format(
            str(inputs[0]), folder, output, str(categories_file), seed=seed, threads=threads
        )
    elif kind == "combine":
        conv.combine_predictions(
            *map(str, inputs), str(categories_file), folder, output, 0.3, 0.5, 100, seed=seed, threads=threads
        )
    else:
        conv.panoptic_converter(str(inputs[0]), folder, output, seed=seed, threads=threads)


def files_of(out: Path) -> dict[str, bytes]:
    files = {name: (out / name).read_bytes() for name in sorted(os.listdir(out))}
    files["json"] = Path(str(out) + ".json").read_bytes()
    return files


@pytest.mark.parametrize("kind", ["two_channels", "detection", "combine", "cityscapes"])
def test_seed(request, tmp_path: Path, categories, categories_file: Path, kind: str) -> None:
    rng = rng_of(request)
    if kind == "two_channels":
        inputs: tuple = data.write_two_channels(tmp_path / "in", rng, categories, 8)
        cats = categories
    elif kind == "detection":
        inputs = data.write_detection(tmp_path / "in", rng, categories, 8)
        cats = categories
    elif kind == "combine":
        inputs = data.write_combine_inputs(tmp_path / "in", rng, categories, 8)
        cats = categories
    else:
        inputs = (data.write_cityscapes(tmp_path / "in", rng),)
        cats = cityscapes_categories_of(cityscapes_labels())
    runs = {}
    for name, seed, threads in [("a", 7, 1), ("b", 7, 2), ("c", 7, 2), ("d", 8, 2)]:
        run_seeded(kind, inputs, tmp_path / name, seed, threads, categories_file)
        runs[name] = files_of(tmp_path / name)
    assert runs["a"] == runs["b"] == runs["c"]
    isthing = {c["id"]: c["isthing"] for c in cats}

    def ids(name: str, thing: int) -> list[int]:
        annotations = load(Path(tmp_path / f"{name}.json"))["annotations"]
        return [s["id"] for a in annotations for s in a["segments_info"] if isthing[s["category_id"]] == thing]

    assert ids("a", 0) == ids("d", 0), "stuff colours do not depend on the seed"
    assert len(ids("a", 1)) == len(ids("d", 1)) > 0
    assert ids("a", 1) != ids("d", 1), "another seed should give other thing colours"
    assert runs["a"].keys() == runs["d"].keys()
