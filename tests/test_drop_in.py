"""panoptiq as panopticapi: the mirror modules and the import shim."""

from __future__ import annotations

import inspect
import json
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import panopticapi.evaluation
import panopticapi.utils
import pytest

from panoptiq import evaluation, utils
from panoptiq.synthetic import make_dataset


@pytest.mark.parametrize(
    ("ours", "theirs"),
    [
        (evaluation, panopticapi.evaluation),
        (utils, panopticapi.utils),
    ],
)
def test_mirrors_have_panopticapi_names_and_signatures(ours, theirs) -> None:
    public = [
        name
        for name, value in vars(theirs).items()
        if not name.startswith("_")
        and getattr(value, "__module__", theirs.__name__) == theirs.__name__
        and (callable(value) or name in ("OFFSET", "VOID"))
    ]
    assert public  # the comparison below must compare something
    for name in public:
        assert hasattr(ours, name), name
        theirs_value, ours_value = getattr(theirs, name), getattr(ours, name)
        if name in ("OFFSET", "VOID"):
            assert ours_value == theirs_value
        elif inspect.isfunction(theirs_value):
            # Same positional parameters, then boundary-iou-api's two (it extends these very
            # functions with them); panoptiq only adds keyword-only ones.
            their_params = [(p.name, p.default) for p in inspect.signature(theirs_value).parameters.values()]
            our_params = [
                (p.name, p.default)
                for p in inspect.signature(ours_value).parameters.values()
                if p.kind != p.KEYWORD_ONLY
            ]
            assert our_params[: len(their_params)] == their_params, name
            assert our_params[len(their_params) :] in ([], [("iou_type", "segm"), ("dilation_ratio", 0.02)]), name


def test_id_generator_gives_unique_ids_near_category_colours() -> None:
    categories = {1: {"id": 1, "isthing": 1, "color": [220, 20, 60]}, 2: {"id": 2, "isthing": 0, "color": [0, 0, 70]}}
    generator = utils.IdGenerator(categories)
    ids = [generator.get_id(1) for _ in range(50)]
    assert len(set(ids)) == 50
    assert ids[0] == utils.rgb2id([220, 20, 60])
    for segment_id in ids:
        assert np.abs(np.array(utils.id2rgb(segment_id)) - [220, 20, 60]).max() <= 30
    assert generator.get_id_and_color(2) == (utils.rgb2id([0, 0, 70]), [0, 0, 70])


def test_save_json_and_get_traceback(tmp_path: Path, capsys) -> None:
    utils.save_json({"a": [1, 2]}, str(tmp_path / "x.json"))
    assert json.loads((tmp_path / "x.json").read_text()) == {"a": [1, 2]}

    @utils.get_traceback
    def fails() -> None:
        raise RuntimeError("boom")

    with pytest.raises(RuntimeError, match="boom"):
        fails()
    assert "Caught exception in worker thread" in capsys.readouterr().out


def test_shim_runs_unmodified_panopticapi_code(tmp_path: Path) -> None:
    gt_json, pred_json = make_dataset(tmp_path, 4, seed=5)
    # Written against panopticapi's import paths, as detectron2's and mmdet's evaluators are.
    user_code = textwrap.dedent(
        f"""
        import panoptiq
        panoptiq.install_as_panopticapi()

        import json
        import numpy as np
        from panopticapi.evaluation import pq_compute, PQStat, OFFSET, VOID
        from panopticapi.utils import rgb2id, id2rgb
        import panopticapi.evaluation

        assert pq_compute.__module__ == "panoptiq.evaluation", pq_compute.__module__
        assert panopticapi.evaluation.pq_compute_multi_core.__module__ == "panoptiq.evaluation"
        assert rgb2id(id2rgb(np.array([[7, 70000]], dtype=np.int32))).tolist() == [[7, 70000]]
        results = pq_compute({str(gt_json)!r}, {str(pred_json)!r})
        print(json.dumps(results["All"]))
        """
    )
    done = subprocess.run([sys.executable, "-c", user_code], capture_output=True, text=True, check=True)
    shimmed = json.loads(done.stdout.strip().splitlines()[-1])
    assert shimmed == evaluation.pq_compute(str(gt_json), str(pred_json), verbose=False)["All"]
