"""Scoring predictions (and ground truth) given as COCO masks in the JSON, with no PNG folder:
the result equals converting the masks to PNGs first — with pycocotools and Pillow, or with
panopticapi's own combination script — and then evaluating."""

from __future__ import annotations

import json
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from panoptiq import PanopticQuality, pq_compute, read_id_map
from panoptiq._dataset import load_dataset
from panoptiq.synthetic import make_dataset

mask_utils = pytest.importorskip("pycocotools.mask", reason="pycocotools is the reference of COCO masks (test extra)")
Image = pytest.importorskip("PIL.Image", reason="Pillow writes the reference PNGs (test extra)")


@pytest.fixture(scope="module")
def dataset(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    return make_dataset(tmp_path_factory.mktemp("mask-scoring"), 6, seed=11)


def _decode(rle: Any) -> np.ndarray:
    # pycocotools' decode warns under numpy 2 (its __array__ lacks the copy keyword).
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", "__array__ implementation doesn't accept a copy keyword", DeprecationWarning)
        return mask_utils.decode(rle)


def _load(path: Path) -> dict[str, Any]:
    return json.loads(path.read_text())


def _rle(mask: np.ndarray) -> dict[str, Any]:
    rle = mask_utils.encode(np.asfortranarray(mask.astype(np.uint8)))
    return {"size": rle["size"], "counts": rle["counts"].decode("ascii")}


def _as_masks(json_file: Path, polygons: bool = False) -> dict[str, Any]:
    """The JSON with every segment carrying its mask (pycocotools' RLE of its PNG pixels), no
    ``file_name`` and no PNG folder."""
    data = _load(json_file)
    folder = json_file.with_suffix("")
    for annotation in data["annotations"]:
        ids = read_id_map(folder / annotation.pop("file_name"))
        for segment in annotation["segments_info"]:
            segment["segmentation"] = _rle(ids == segment["id"])
    return data


def _loose(masks_json: Path) -> Path:
    """The masks JSON with integral float segment ids, a form only Python's reader takes."""
    data = _load(masks_json)
    for annotation in data["annotations"]:
        for segment in annotation["segments_info"]:
            segment["id"] = float(segment["id"])
    loose = masks_json.with_name(f"{masks_json.stem}-loose.json")
    loose.write_text(json.dumps(data))
    return loose


def _held(gt_json: Path, pred_json: Path) -> bool:
    """Whether the core read the masks and holds them (not Python's reader)."""
    masks = load_dataset(gt_json, pred_json).masks
    assert masks is not None
    return masks.held


def _both_readers(gt_json: Path, masks_json: Path) -> list[Path]:
    """The masks JSON as the core reads it (its strict form) and as Python's reader does: both
    must give every result."""
    loose = _loose(masks_json)
    assert _held(gt_json, masks_json)
    assert not _held(gt_json, loose)
    return [masks_json, loose]


def _results_equal(a: dict[str, Any], b: dict[str, Any]) -> None:
    for key in ("All", "Things", "Stuff", "per_class"):
        assert a[key] == b[key], key


def test_rle_predictions_score_as_their_pngs(dataset: tuple[Path, Path], tmp_path: Path) -> None:
    gt_json, pred_json = dataset
    masks_json = tmp_path / "masks.json"
    masks_json.write_text(json.dumps(_as_masks(pred_json)))
    on_pngs = pq_compute(str(gt_json), str(pred_json), verbose=False, per_image=True)
    assert 0 < on_pngs["All"]["pq"] < 1
    for path in _both_readers(gt_json, masks_json):
        from_masks = pq_compute(str(gt_json), str(path), verbose=False, per_image=True)
        _results_equal(from_masks, on_pngs)
        assert [r["pq"] for r in from_masks["per_image"]] == [r["pq"] for r in on_pngs["per_image"]]


def test_ground_truth_as_masks_too(dataset: tuple[Path, Path], tmp_path: Path) -> None:
    gt_json, pred_json = dataset
    gt_masks = _as_masks(gt_json)
    gt_masks_json = tmp_path / "gt_masks.json"
    gt_masks_json.write_text(json.dumps(gt_masks))
    pred_masks_json = tmp_path / "pred_masks.json"
    pred_masks_json.write_text(json.dumps(_as_masks(pred_json)))
    on_pngs = pq_compute(str(gt_json), str(pred_json), verbose=False)
    loose = (_loose(gt_masks_json), _loose(pred_masks_json))
    for gt_path, pred_path, held in ((gt_masks_json, pred_masks_json, True), (*loose, False)):
        assert _held(gt_path, pred_path) is held
        _results_equal(pq_compute(str(gt_path), str(pred_path), verbose=False), on_pngs)
    # Python finds a ground truth's masks by image id, the last annotation of each: the core
    # reader leaves a repeated image to it.
    gt_masks["annotations"].append(gt_masks["annotations"][0])
    gt_masks_json.write_text(json.dumps(gt_masks))
    assert not _held(gt_masks_json, pred_masks_json)


def _polygon_dataset(tmp_path: Path) -> tuple[Path, Path, Path]:
    """Ground truth as PNGs; predictions as random polygons (one or two per segment), with the
    reference PNGs drawn by pycocotools (frPyObjects, merge, decode) and written by Pillow."""
    rng = np.random.default_rng(4)
    height, width = 90, 120
    categories = [
        {"id": 1, "name": "a", "isthing": 1, "color": [200, 10, 10]},
        {"id": 2, "name": "b", "isthing": 1, "color": [10, 200, 10]},
        {"id": 3, "name": "c", "isthing": 0, "color": [10, 10, 200]},
    ]
    gt_folder, ref_folder = tmp_path / "gt", tmp_path / "ref"
    gt_folder.mkdir()
    ref_folder.mkdir()
    gt_anns, ref_anns, poly_anns, images = [], [], [], []
    for image in range(6):
        name = f"{image}.png"
        images.append({"id": image, "height": height, "width": width, "file_name": name})
        gt_ids = np.zeros((height, width), np.uint32)
        gt_segments = []
        for k in range(4):
            y, x = rng.integers(0, height - 20), rng.integers(0, width - 20)
            gt_ids[y : y + rng.integers(10, 30), x : x + rng.integers(10, 30)] = k + 1
        for k in range(4):
            area = int((gt_ids == k + 1).sum())
            if area:
                gt_segments.append({"id": k + 1, "category_id": int(k % 3 + 1), "iscrowd": 0, "area": area})
        Image.fromarray(np.stack([gt_ids % 256, gt_ids // 256 % 256, gt_ids // 65536], -1).astype(np.uint8)).save(
            gt_folder / name
        )
        gt_anns.append({"image_id": image, "file_name": name, "segments_info": gt_segments})
        # Predictions: polygons near the ground-truth boxes, painted in order (later wins, no
        # overlap once the earlier pixels are taken out of the later masks' polygons' rasters).
        ref = np.zeros((height, width), np.uint32)
        segments = []
        for k, gt_segment in enumerate(gt_segments):
            ys, xs = np.nonzero(gt_ids == gt_segment["id"])
            cx, cy = xs.mean(), ys.mean()
            polygons = []
            for _ in range(int(rng.integers(1, 3))):
                angles = np.sort(rng.uniform(0, 2 * np.pi, int(rng.integers(3, 9))))
                radius = rng.uniform(4, 16, angles.size)
                polygon = np.stack([cx + radius * np.cos(angles), cy + radius * np.sin(angles)], -1).ravel()
                polygons.append([round(float(v), 2) for v in polygon])
            mask = _decode(mask_utils.merge(mask_utils.frPyObjects(polygons, height, width))).astype(bool)
            mask &= ref == 0  # keep the masks disjoint, so overlap="error" accepts them
            if not mask.any():
                continue
            ref[mask] = 100 + k
            # The disjoint mask as the segment's RLE would not test polygons: keep polygons where
            # nothing was taken out, the RLE where something was.
            full = _decode(mask_utils.merge(mask_utils.frPyObjects(polygons, height, width))).astype(bool)
            segmentation: Any = polygons if (full == mask).all() else _rle(mask)
            segments.append({"id": 100 + k, "category_id": gt_segment["category_id"], "segmentation": segmentation})
        Image.fromarray(np.stack([ref % 256, ref // 256 % 256, ref // 65536], -1).astype(np.uint8)).save(
            ref_folder / name
        )
        ref_anns.append(
            {
                "image_id": image,
                "file_name": name,
                "segments_info": [{"id": s["id"], "category_id": s["category_id"]} for s in segments],
            }
        )
        poly_anns.append({"image_id": image, "segments_info": segments})
    gt_json, ref_json, poly_json = tmp_path / "gt.json", tmp_path / "ref.json", tmp_path / "poly.json"
    gt_json.write_text(json.dumps({"images": images, "annotations": gt_anns, "categories": categories}))
    ref_json.write_text(json.dumps({"annotations": ref_anns}))
    poly_json.write_text(json.dumps({"annotations": poly_anns}))
    assert sum(isinstance(s["segmentation"], list) for a in poly_anns for s in a["segments_info"]) > 5
    return gt_json, ref_json, poly_json


def test_polygons_score_as_pycocotools_rasterises_them(tmp_path: Path) -> None:
    gt_json, ref_json, poly_json = _polygon_dataset(tmp_path)
    reference = pq_compute(str(gt_json), str(ref_json), None, str(tmp_path / "ref"), verbose=False)
    assert 0 < reference["All"]["pq"] < 1
    # The polygons' size comes from the ground truth's images list.
    for path in _both_readers(gt_json, poly_json):
        _results_equal(pq_compute(str(gt_json), str(path), verbose=False), reference)


def _combine_inputs(dataset: tuple[Path, Path]) -> tuple[list[Any], list[Any], dict[str, Any]]:
    """Instance results (things, scored, overlapping) and semantic results (stuff) made from the
    predictions' PNGs, as panopticapi's combine script reads them."""
    gt_json, pred_json = dataset
    gt, pred = _load(gt_json), _load(pred_json)
    things = {c["id"] for c in gt["categories"] if c["isthing"] == 1}
    rng = np.random.default_rng(8)
    instances, semantic = [], []
    for annotation in pred["annotations"]:
        ids = read_id_map(pred_json.with_suffix("") / annotation["file_name"])
        stuff: dict[int, np.ndarray] = {}
        for segment in annotation["segments_info"]:
            if segment["category_id"] not in things:
                # Semantic results hold one region per class and image.
                mask = ids == segment["id"]
                stuff[segment["category_id"]] = stuff.get(segment["category_id"], mask) | mask
        for category_id, mask in stuff.items():
            record = {"image_id": annotation["image_id"], "category_id": category_id}
            semantic.append({**record, "segmentation": _rle(mask)})
        for segment in annotation["segments_info"]:
            mask = ids == segment["id"]
            record = {"image_id": annotation["image_id"], "category_id": segment["category_id"]}
            if segment["category_id"] in things:
                # Grown by a pixel, so neighbouring instances overlap and the heuristic decides.
                grown = mask.copy()
                grown[1:] |= mask[:-1]
                grown[:, 1:] |= mask[:, :-1]
                score = float(rng.choice([0.3, 0.6, 0.75, 0.9]))
                instances.append({**record, "segmentation": _rle(grown), "score": score})
    images = {"images": [{"id": a["image_id"], "file_name": a["file_name"]} for a in pred["annotations"]]}
    for image, annotation in zip(images["images"], pred["annotations"], strict=True):
        h, w = read_id_map(pred_json.with_suffix("") / annotation["file_name"]).shape
        image.update(height=h, width=w)
    return instances, semantic, images


def test_the_combination_heuristic_equals_panopticapis_script(dataset: tuple[Path, Path], tmp_path: Path) -> None:
    combine = pytest.importorskip(
        "panopticapi.combine_semantic_and_instance_predictions",
        reason="panopticapi-lite (installed --no-deps in CI) is the reference of the combination heuristic",
    )
    gt_json, _ = dataset
    gt = _load(gt_json)
    instances, semantic, images = _combine_inputs(dataset)
    categories = {c["id"]: c for c in gt["categories"]}
    things = {c["id"] for c in gt["categories"] if c["isthing"] == 1}
    limit = 300.0
    # panopticapi's own procedure, single core, its PNGs; then panoptiq evaluates them.
    img_id2img = {img["id"]: img for img in images["images"]}
    inst_by_image: dict[Any, list[Any]] = {i: [] for i in img_id2img}
    for inst in instances:
        if inst["score"] >= 0.5:
            inst_by_image[inst["image_id"]].append(inst)
    for image_id in inst_by_image:
        inst_by_image[image_id].sort(key=lambda el: -el["score"])
    sem_by_image: dict[Any, list[Any]] = {i: [] for i in img_id2img}
    for sem in semantic:
        sem_by_image[sem["image_id"]].append(sem)
    folder = tmp_path / "combined"
    folder.mkdir()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the script's own numpy/pycocotools warnings, if any
        np.random.seed(0)  # noqa: NPY002 - the script draws colours from the global generator
        combined = combine.combine_to_panoptic_single_core(
            0, list(img_id2img), img_id2img, inst_by_image, sem_by_image, str(folder), 0.5, limit, categories
        )
    combined_json = tmp_path / "combined.json"
    combined_json.write_text(json.dumps({"annotations": combined}))
    reference = pq_compute(str(gt_json), str(combined_json), None, str(folder), verbose=False)
    assert 0 < reference["All"]["pq"] < 1
    # panoptiq: the same results as one prediction JSON whose segments carry the masks.
    by_image: dict[Any, list[Any]] = {i: [] for i in img_id2img}
    next_id = 1
    for result in instances + semantic:
        segment = {k: result[k] for k in ("category_id", "segmentation")}
        if "score" in result:
            segment["score"] = result["score"]
        by_image[result["image_id"]].append({"id": next_id, **segment})
        next_id += 1
    masks_json = tmp_path / "masks.json"
    masks_json.write_text(
        json.dumps({"annotations": [{"image_id": i, "segments_info": s} for i, s in by_image.items()], **images})
    )
    overlap = {"confidence_thr": 0.5, "overlap_thr": 0.5, "stuff_area_limit": limit}
    assert any(c in things for c in {r["category_id"] for r in instances})
    for path in _both_readers(gt_json, masks_json):
        _results_equal(pq_compute(str(gt_json), str(path), verbose=False, overlap=overlap), reference)
        with pytest.raises(ValueError, match=r"In the image with ID .*segment \d+ overlaps segment \d+"):
            pq_compute(str(gt_json), str(path), verbose=False)


def test_bad_masks_name_the_image_and_the_segment(dataset: tuple[Path, Path], tmp_path: Path) -> None:
    gt_json, pred_json = dataset
    data = _as_masks(pred_json)
    annotation = data["annotations"][2]
    segment = annotation["segments_info"][0]
    segment["segmentation"] = {"size": segment["segmentation"]["size"], "counts": "3"}  # counts sum to 3
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps(data))
    named = rf"image with ID {annotation['image_id']}.*segment {segment['id']}.*sum to 3"
    for path in _both_readers(gt_json, bad):
        with pytest.raises(ValueError, match=named):
            pq_compute(str(gt_json), str(path), verbose=False)
    segment["segmentation"] = [[1.0, float("nan"), 5.0, 5.0, 9.0, 1.0]]
    bad.write_text(json.dumps(data))
    with pytest.raises(ValueError, match=rf"image with ID {annotation['image_id']}.*segment {segment['id']}"):
        pq_compute(str(gt_json), str(bad), verbose=False)
    del annotation["segments_info"][1]["segmentation"]
    bad.write_text(json.dumps(data))
    with pytest.raises(ValueError, match="either as masks"):
        pq_compute(str(gt_json), str(bad), verbose=False)


def test_the_metric_takes_masks_and_png_bytes(dataset: tuple[Path, Path]) -> None:
    gt_json, pred_json = dataset
    gt, pred, masks = _load(gt_json), _load(pred_json), _as_masks(pred_json)
    on_maps, from_masks, from_bytes = (PanopticQuality(gt["categories"], per_image=True) for _ in range(3))
    for g, p, m in zip(gt["annotations"], pred["annotations"], masks["annotations"], strict=True):
        gt_png = gt_json.with_suffix("") / g["file_name"]
        pred_png = pred_json.with_suffix("") / p["file_name"]
        target = read_id_map(gt_png)
        kwargs = {"target_segments_info": g["segments_info"], "image_ids": g["image_id"]}
        on_maps.update(read_id_map(pred_png), target, preds_segments_info=p["segments_info"], **kwargs)
        from_masks.update(None, target, preds_segments_info=m["segments_info"], **kwargs)
        with open(gt_png, "rb") as f:
            from_bytes.update(pred_png.read_bytes(), f, preds_segments_info=p["segments_info"], **kwargs)
    expected = on_maps.compute()
    assert 0 < expected.pq < 1
    for other in (from_masks.compute(), from_bytes.compute()):
        assert other.pq == expected.pq
        assert other.per_class == expected.per_class
        assert [r.pq for r in other.per_image] == [r.pq for r in expected.per_image]


def test_the_command_line_scores_masks(
    dataset: tuple[Path, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from panoptiq.cli import main

    gt_json, pred_json = dataset
    masks_json = tmp_path / "masks.json"
    masks_json.write_text(json.dumps(_as_masks(pred_json)))
    expected = pq_compute(str(gt_json), str(pred_json), verbose=False)
    out = tmp_path / "out.json"
    assert (
        main(["eval", str(gt_json), str(masks_json), "--overlap", "combine", "--no-progress", "--json", str(out)]) == 0
    )
    written = json.loads(out.read_text())
    # The masks do not overlap: the heuristic keeps every thing; stuff below 4096 pixels goes.
    assert written["All"]["n"] == expected["All"]["n"]
    assert main(["eval", str(gt_json), str(masks_json), "--no-progress", "--json", str(out)]) == 0
    assert json.loads(out.read_text())["All"]["pq"] == pytest.approx(expected["All"]["pq"], abs=0)
    capsys.readouterr()


def test_masks_cannot_go_to_a_cluster(dataset: tuple[Path, Path], tmp_path: Path) -> None:
    gt_json, pred_json = dataset
    masks_json = tmp_path / "masks.json"
    masks_json.write_text(json.dumps(_as_masks(pred_json)))
    with pytest.raises(ValueError, match="cannot go to a cluster"):
        pq_compute(str(gt_json), str(masks_json), verbose=False, client=object())
