"""The real COCO sample: the ground truth against itself, and its 2-channel twin."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image

import panoptiq


def load(sample_dir: Path, sample_json: dict):
    for ann in sample_json["annotations"]:
        yield ann, panoptiq.read_id_map(sample_dir / "panoptic_examples" / ann["file_name"])


def test_ground_truth_against_itself_is_perfect(sample_dir: Path, sample_json: dict, coco_categories) -> None:
    total = panoptiq.PQStat()
    for ann, ids in load(sample_dir, sample_json):
        stat = panoptiq.evaluate_image(ids, ann["segments_info"], ids, ann["segments_info"], coco_categories)
        non_crowd = {s["category_id"] for s in ann["segments_info"] if not s["iscrowd"]}
        assert set(stat.pq_per_cat) == non_crowd
        for category in non_crowd:
            count = sum(1 for s in ann["segments_info"] if s["category_id"] == category and not s["iscrowd"])
            s = stat[category]
            assert (s.iou, s.tp, s.fp, s.fn) == (float(count), count, 0, 0)
        _, per_class = stat.pq_average(coco_categories, None)
        for category in non_crowd:
            assert per_class[category] == {"pq": 1.0, "sq": 1.0, "rq": 1.0}
        total += stat
    for isthing in (None, True, False):
        averages, _ = total.pq_average(coco_categories, isthing)
        assert (averages["pq"], averages["sq"], averages["rq"]) == (1.0, 1.0, 1.0)
        assert averages["n"] > 0


def test_two_channel_pngs_agree_with_rgb(sample_dir: Path, sample_json: dict, coco_categories) -> None:
    for ann, ids in load(sample_dir, sample_json):
        two = np.array(Image.open(sample_dir / "panoptic_examples_2ch_format" / ann["file_name"]))
        assert two.shape[:2] == ids.shape
        category, instance = two[..., 0].astype(np.int64), two[..., 1].astype(np.int64)
        # The same partition: (category, instance) pairs and RGB ids map one to one.
        pairs = np.unique(np.stack([ids.ravel(), category.ravel() * 256 + instance.ravel()]), axis=1)
        assert len(np.unique(pairs[0])) == len(np.unique(pairs[1])) == pairs.shape[1]
        assert np.array_equal(ids == 0, category == 0)
        # Each RGB segment has the category its 2-channel pixels carry.
        category_of = {s["id"]: s["category_id"] for s in ann["segments_info"]}
        for segment_id, packed in pairs.T:
            if segment_id:
                assert category_of[int(segment_id)] == packed // 256
        # Used as a prediction, the 2-channel map scores as the ground truth does against itself.
        pred_ids = panoptiq.rgb2id(two)
        pred_segments = [{"id": int(p), "category_id": int(p) % 256} for p in np.unique(pred_ids) if p]
        from_two = panoptiq.evaluate_image(ids, ann["segments_info"], pred_ids, pred_segments, coco_categories)
        from_rgb = panoptiq.evaluate_image(ids, ann["segments_info"], ids, ann["segments_info"], coco_categories)
        assert from_two.pq_average(coco_categories, None) == from_rgb.pq_average(coco_categories, None)
