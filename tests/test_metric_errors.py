"""Bad input to PanopticQuality: a typed error that names the batch index, never a wrong number."""

from __future__ import annotations

import numpy as np
import pytest

import panoptiq


def metric(**kwargs) -> panoptiq.PanopticQuality:
    return panoptiq.PanopticQuality(things={1, 2}, stuffs={3}, **kwargs)


def batch(*images: list[tuple[int, int]]) -> np.ndarray:
    return np.array(images, dtype=np.int64)


GOOD = [(1, 1), (1, 1), (3, 0)]


@pytest.mark.parametrize(
    ("preds", "target", "error", "message"),
    [
        (np.zeros((2, 3, 2), int), np.zeros((2, 4, 2), int), ValueError, "same shape"),
        (np.zeros((2, 3), int), np.zeros((2, 3), int), ValueError, "(batch, *spatial, 2)"),
        (np.zeros((2, 3, 3), int), np.zeros((2, 3, 3), int), ValueError, "exactly 2 channels"),
        (np.zeros((2, 3, 2)), np.zeros((2, 3, 2)), TypeError, "integer array"),
        (np.zeros((2, 3, 2), bool), np.zeros((2, 3, 2), bool), TypeError, "integer array"),
        (batch(GOOD, [(1, 1), (9, 0), (3, 0)]), batch(GOOD, GOOD), ValueError, "category 9"),
        (batch(GOOD, GOOD), batch(GOOD, [(1, 1), (-4, 0), (3, 0)]), ValueError, "category -4"),
        (batch(GOOD, [(1, 1), (3, 5), (3, 0)]), batch(GOOD, GOOD), ValueError, "instance id 5 to stuff category 3"),
    ],
)
def test_pairs_errors(preds, target, error, message) -> None:
    m = metric()
    with pytest.raises(error, match=None) as raised:
        m.update(preds, target)
    assert message in str(raised.value)
    if "category" in message or "instance" in message:
        assert "(batch index 1)" in str(raised.value)
        assert "In the image with ID 1" in str(raised.value)
    # Nothing of a failed batch is counted.
    assert m.compute().all.n == 0


def test_named_images_and_sides_in_errors() -> None:
    with pytest.raises(ValueError, match=r"image with ID cat\.png the ground-truth has pixels of category 9"):
        metric().update(batch(GOOD), batch([(9, 0)] * 3), image_ids=["cat.png"])
    # Under torchmetrics' rules unknown target categories are VOID, stuff instances ignored.
    m = metric(rules="torchmetrics")
    m.update(batch([(3, 7)] * 3), batch([(9, 0), (1, 1), (1, 1)]))
    result = m.compute()
    assert (result.per_class[3].fp, result.per_class[1].fn) == (1, 1)
    with pytest.raises(ValueError, match="allow_unknown_preds_category"):
        m.update(batch([(9, 0)] * 3), batch(GOOD))


def test_encoded_errors() -> None:
    m = metric(label_divisor=1000)
    with pytest.raises(ValueError, match=r"labels must be non-negative.*\(batch index 1\)"):
        m.update(np.array([[1001, 3000], [1001, -1]]), np.array([[1001, 3000], [1001, 3000]]))
    with pytest.raises(ValueError, match=r"2\*\*63 or more \(batch index 1\)"):
        m.update(np.array([[1001, 3000], [1001, 2**63]], np.uint64), np.array([[1001, 3000], [1001, 3000]], np.uint64))
    with pytest.raises(ValueError, match="label_divisor must be a positive integer"):
        metric(label_divisor=0)


def test_id_map_errors() -> None:
    m = metric()
    info = [{"id": 5, "category_id": 1}]
    gt_info = [{"id": 5, "category_id": 1, "iscrowd": 0}]
    maps = np.array([[5, 5], [5, -1]])
    with pytest.raises(ValueError, match=r"outside \[0, 2\*\*32\).*\(batch index 1\)"):
        m.update(maps, maps, preds_segments_info=[info, info], target_segments_info=[gt_info, gt_info])
    with pytest.raises(ValueError, match=r"outside \[0, 2\*\*32\).*\(batch index 0\)"):
        m.update(np.array([[2**32, 5]]), np.array([[5, 5]]), preds_segments_info=[info], target_segments_info=[gt_info])
    with pytest.raises(KeyError, match="segment with ID 6 is presented in PNG and not presented in JSON"):
        m.update(np.array([5, 6]), np.array([5, 5]), preds_segments_info=info, target_segments_info=gt_info)
    with pytest.raises(ValueError, match="need both"):
        m.update(np.array([5, 5]), np.array([5, 5]), preds_segments_info=info)
    with pytest.raises(ValueError, match="as many segments_info"):
        m.update(
            np.array([[5, 5]]),
            np.array([[5, 5]]),
            preds_segments_info=[info, info],
            target_segments_info=[gt_info, gt_info],
        )
    with pytest.raises(ValueError, match=r"negative area"):
        m.update(
            np.array([5, 5]),
            np.array([5, 5]),
            preds_segments_info=info,
            target_segments_info=[{**gt_info[0], "area": -2}],
        )
    assert m.compute().all.n == 0


class _DeviceTensor:
    """Stands for a tensor in GPU memory: no GPU here; the DLPack device query is what counts."""

    def __dlpack__(self, stream=None):  # pragma: no cover - never reached
        raise AssertionError("must not be read")

    def __dlpack_device__(self):
        return (2, 0)  # kDLCUDA


def test_gpu_tensors_are_refused_with_a_hint() -> None:
    with pytest.raises(ValueError, match=r"CUDA memory.*\.cpu\(\)"):
        metric().update(_DeviceTensor(), batch(GOOD))


def test_bad_settings() -> None:
    with pytest.raises(ValueError, match="disjoint"):
        panoptiq.PanopticQuality(things={1}, stuffs={1})
    with pytest.raises(ValueError, match="rules must be one of"):
        metric(rules="coco")
    with pytest.raises(ValueError, match="either categories or things"):
        panoptiq.PanopticQuality([{"id": 1, "isthing": 1}], things={1})
    with pytest.raises(TypeError, match="integer category ids"):
        panoptiq.PanopticQuality(things={1.5}, stuffs=set())
    with pytest.raises(ValueError, match="different settings: rules"):
        metric().merge(metric(rules="torchmetrics"))
    with pytest.raises(ValueError, match=r"not a panoptiq\.PanopticQuality state"):
        panoptiq.PanopticQuality.from_state_dict({"format": "x"})
    state = metric().state_dict()
    state["totals"] = [[1, "xyz", 0, 0, 0]]
    with pytest.raises(ValueError, match="not a hexadecimal count"):
        panoptiq.PanopticQuality.from_state_dict(state)


def test_background_errors_surface_at_the_next_call() -> None:
    m = metric(background=True, per_image=True)
    m.update(batch(GOOD), batch(GOOD))
    m.update(np.array([[[9, 0]] * 3]), batch(GOOD), image_ids=["bad"])  # checked on the worker
    with pytest.raises(ValueError, match=r"ID bad the prediction has pixels of category 9"):
        m.compute()
    # The failed update added nothing; the metric goes on.
    m.update(batch(GOOD), batch(GOOD))
    result = m.compute()
    assert [r.image_id for r in result.per_image] == ["0", "2"]
    assert result.per_class[1].tp == 2
