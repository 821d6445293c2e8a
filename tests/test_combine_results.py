"""The combination's results files read in Rust (``_core.read_combine_results``) give what
Python's reader gives, and every form the Rust reader does not take is left to Python's.

Two checks: on strict files, the converter's outputs are byte for byte those of the same run
with the Rust reader switched off (Python's reader is the one test_converters checks against
panopticapi's script); on files in forms only Python reads (float image ids, repeated keys,
``NaN`` scores), the Rust reader must decline and the outputs must equal panopticapi's script's.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import converter_data as data
import numpy as np
import pytest
from test_converters import Script, assert_same_panoptic, load, rng_of

import panoptiq.converters as conv
from panoptiq import _core
from panoptiq.converters import _combine


@pytest.fixture
def python_reader_calls(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Counts the calls of Python's reader (each run of the converter makes one or none)."""
    calls: list[int] = []
    group = _combine._group

    def counted(*args: Any, **kwargs: Any) -> Any:
        calls.append(1)
        return group(*args, **kwargs)

    monkeypatch.setattr(_combine, "_group", counted)
    return calls


def run(inputs: tuple[Path, Path, Path], categories_file: Path, out: Path, **kwargs: Any) -> None:
    semseg, instseg, images = inputs
    conv.combine_predictions(
        str(semseg), str(instseg), str(images), str(categories_file), str(out), f"{out}.json", seed=3, threads=2,
        **kwargs,
    )  # fmt: skip


def assert_same_bytes(first: Path, second: Path) -> None:
    assert Path(f"{first}.json").read_bytes() == Path(f"{second}.json").read_bytes()
    names = sorted(p.name for p in first.iterdir())
    assert names == sorted(p.name for p in second.iterdir())
    assert names
    for name in names:
        assert (first / name).read_bytes() == (second / name).read_bytes(), name


def vary(results: list[dict[str, Any]], rng: np.random.Generator, heights: dict[Any, tuple[int, int]]) -> None:
    """Every strict form in one file: integer and tied scores, -0.0 beside 0.0, uncompressed
    counts, polygons, extra fields, escaped characters."""
    for k, result in enumerate(results):
        if "score" in result:
            choice = k % 6
            if choice == 0:
                result["score"] = int(result["score"] >= 0.5)
            elif choice == 1:
                result["score"] = 0.0 if k % 12 == 1 else -0.0
        if k % 5 == 0:
            height, width = heights[result["image_id"]]
            mask = _core_mask(result["segmentation"], height, width)
            result["segmentation"] = {"size": [height, width], "counts": data.uncompressed_counts(mask)}
        elif k % 7 == 0:
            height, width = heights[result["image_id"]]
            y, x = rng.uniform(0, height - 1), rng.uniform(0, width - 1)
            result["segmentation"] = [[x, y, x + 30.5, y, x + 10, min(y + 40, height - 1.0)]]
        result["bbox"] = [1, 2, 3, 4]
        result["note"] = "é\\\u0001"


def _core_mask(rle: dict[str, Any], height: int, width: int) -> np.ndarray:
    from panoptiq import masks

    return masks.decode({"size": [height, width], "counts": rle["counts"]}).astype(bool)


def test_strict_files_give_what_pythons_reader_gives(
    request, tmp_path: Path, categories, categories_file, python_reader_calls, monkeypatch
) -> None:
    semseg, instseg, images = data.write_combine_inputs(tmp_path / "in", rng_of(request), categories, 12)
    sizes = {i["id"]: (i["height"], i["width"]) for i in load(images)["images"]}
    rng = np.random.default_rng(7)
    for path in (semseg, instseg):
        results = load(path)
        vary(results, rng, sizes)
        # Indented, with escapes: the text differs, the JSON does not.
        path.write_text(json.dumps(results, indent=1, ensure_ascii=True))
    for thr in (0.5, 0.0, 1):
        run((semseg, instseg, images), categories_file, tmp_path / f"rust-{thr}", confidence_thr=thr)
        assert python_reader_calls == [], "the strict files should not need Python's reader"
        with monkeypatch.context() as m:
            m.setattr(_core, "read_combine_results", lambda *args: None)
            run((semseg, instseg, images), categories_file, tmp_path / f"python-{thr}", confidence_thr=thr)
        assert python_reader_calls == [1]
        python_reader_calls.clear()
        assert_same_bytes(tmp_path / f"rust-{thr}", tmp_path / f"python-{thr}")


def test_string_image_ids(request, tmp_path: Path, categories, categories_file, python_reader_calls, monkeypatch):
    semseg, instseg, images = data.write_combine_inputs(tmp_path / "in", rng_of(request), categories, 5)
    for path in (semseg, instseg):
        path.write_text(json.dumps([{**r, "image_id": f"img-{r['image_id']}"} for r in load(path)]))
    listed = load(images)
    for image in listed["images"]:
        image["id"] = f"img-{image['id']}"
    images.write_text(json.dumps(listed))
    run((semseg, instseg, images), categories_file, tmp_path / "rust")
    assert python_reader_calls == []
    monkeypatch.setattr(_core, "read_combine_results", lambda *args: None)
    run((semseg, instseg, images), categories_file, tmp_path / "python")
    assert_same_bytes(tmp_path / "rust", tmp_path / "python")


def _float_image_ids(results: list[dict[str, Any]]) -> str:
    # Python's 1.0 == 1: the script finds these results under the images' integer ids.
    return json.dumps([{**r, "image_id": float(r["image_id"])} if k % 3 == 0 else r for k, r in enumerate(results)])


def _repeated_keys(results: list[dict[str, Any]]) -> str:
    # Python keeps the last of a repeated key: a wrong category first, the real one last.
    texts = [json.dumps(r) for r in results]
    texts[0] = texts[0].replace('{"image_id"', '{"category_id": 99999, "image_id"', 1)
    return "[" + ", ".join(texts) + "]"


def _nan_scores(results: list[dict[str, Any]]) -> str:
    # Python's json reads NaN; it compares as neither below the threshold nor above another score.
    return json.dumps([{**r, "score": float("nan")} if k == 1 else r for k, r in enumerate(results)])


@pytest.mark.parametrize("form", [_float_image_ids, _repeated_keys, _nan_scores])
def test_forms_only_python_reads_are_left_to_it(
    request, tmp_path: Path, categories, categories_file, python_reader_calls, form, monkeypatch
) -> None:
    # panopticapi's script itself (panopticapi-lite's copy: no checkout needed): what Python
    # does with these forms is what it does, NaN's place in a sort included.
    reference = Script(None, monkeypatch)
    semseg, instseg, images = data.write_combine_inputs(tmp_path / "in", rng_of(request), categories, 6)
    instseg.write_text(form(load(instseg)))
    reference.combine(
        semseg, instseg, images, categories_file, tmp_path / "ref", tmp_path / "ref.json", 0.5, 0.5, 64 * 64
    )
    run((semseg, instseg, images), categories_file, tmp_path / "ours")
    assert python_reader_calls == [1]
    assert_same_panoptic(tmp_path / "ref.json", tmp_path / "ref", tmp_path / "ours.json", tmp_path / "ours", categories)
