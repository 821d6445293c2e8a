"""panoptiq in forked, spawned and forkserver workers, in concurrent threads, under a CPU limit,
and over repeated calls (no leak)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import textwrap
import threading
from pathlib import Path

import pytest

import panoptiq
from panoptiq.synthetic import make_dataset


@pytest.fixture(scope="module")
def data(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    return make_dataset(tmp_path_factory.mktemp("processes"), 12, seed=8)


def run_python(code: str, *args: str, env: dict[str, str] | None = None) -> str:
    done = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code), *args],
        capture_output=True,
        text=True,
        timeout=600,
        env=env,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


def test_forked_children_work_after_the_parent_used_every_parallel_path(data) -> None:
    # mmdetection's offline path: the parent converts ids, pool workers forked from it call
    # rgb2id and evaluate. Before panoptiq rebuilt its pools in a child, these children hung.
    out = run_python(
        """
        import json, multiprocessing, sys
        import numpy as np
        import panoptiq

        gt_json, pred_json = sys.argv[1:]
        big = np.random.default_rng(0).integers(0, 2**24, size=(1200, 1200), dtype=np.uint32)
        colours = panoptiq.id2rgb(big)                      # the parallel path, in the parent
        assert (panoptiq.rgb2id(colours) == big).all()
        expected = panoptiq.pq_compute(gt_json, pred_json, verbose=False)

        def work(threads):
            assert (panoptiq.rgb2id(colours) == big).all()
            return panoptiq.pq_compute(gt_json, pred_json, verbose=False, num_threads=threads)

        with multiprocessing.get_context("fork").Pool(2) as pool:
            results = pool.map_async(work, [None, 1, 2, None]).get(timeout=300)
        print(json.dumps(all(r == expected for r in results)))
        """,
        *map(str, data),
    )
    assert json.loads(out.splitlines()[-1]) is True


def test_background_metrics_work_in_forked_children() -> None:
    """A forked child has none of its parent's threads: its background metric starts its own
    worker, and metrics from several children merge into the parent's result."""
    out = run_python(
        """
        import json, multiprocessing, pickle
        import numpy as np
        import panoptiq

        rng = np.random.default_rng(1)
        batches = [rng.integers(1, 4, size=(2, 400, 400, 2)) for _ in range(4)]
        def fresh():
            return panoptiq.PanopticQuality(things={1, 2}, stuffs={3}, background=True, rules="torchmetrics")
        parent = fresh()
        parent.update(batches[0], batches[1])     # the parent's worker thread now exists
        one = fresh()
        for b in batches[:2]:
            one.update(b, b[::-1].copy())
        def work(i):
            m = parent if i == 0 else fresh()      # the inherited metric, and a new one
            m.reset()
            m.update(batches[i], batches[i][::-1].copy())
            return pickle.dumps(m)
        with multiprocessing.get_context("fork").Pool(2) as pool:
            parts = [pickle.loads(p) for p in pool.map_async(work, [0, 1]).get(timeout=300)]
        merged = parts[0] + parts[1]
        print(json.dumps(merged.compute() == one.compute() and merged.images == 4))
        """
    )
    assert json.loads(out.splitlines()[-1]) is True


@pytest.mark.parametrize("method", ["spawn", "forkserver"])
def test_install_as_panopticapi_reaches_spawned_workers(tmp_path: Path, data, method: str) -> None:
    # A worker module that imports panopticapi at its top, as mmdetection's evaluation code does.
    (tmp_path / "worker_module.py").write_text(
        textwrap.dedent(
            """
            from panopticapi.evaluation import pq_compute

            def work(args):
                return pq_compute.__module__, pq_compute(*args, verbose=False)["All"]
            """
        )
    )
    out = run_python(
        """
        import json, multiprocessing, sys
        import panoptiq

        sys.path.insert(0, sys.argv[1])
        panoptiq.install_as_panopticapi()
        import worker_module

        with multiprocessing.get_context(sys.argv[2]).Pool(1) as pool:
            module, result = pool.apply_async(worker_module.work, [sys.argv[3:]]).get(timeout=300)
        print(json.dumps([module, result == panoptiq.pq_compute(*sys.argv[3:], verbose=False)["All"]]))
        """,
        str(tmp_path),
        method,
        *map(str, data),
    )
    assert json.loads(out.splitlines()[-1]) == ["panoptiq.evaluation", True]


def test_the_shim_stays_off_in_processes_that_did_not_ask(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if k != "PANOPTIQ_AS_PANOPTICAPI"}
    out = run_python(
        "import sys; print('panoptiq' in sys.modules, 'panopticapi' in sys.modules)",
        env=env,
    )
    assert out.split() == ["False", "False"]  # the .pth imports nothing unless asked


def test_two_threads_evaluating_at_once_get_the_single_threaded_results(data, tmp_path: Path) -> None:
    other = make_dataset(tmp_path, 9, seed=21)
    expected = [panoptiq.pq_compute(*map(str, d), verbose=False, num_threads=1) for d in (data, other)]
    results: dict[int, list] = {0: [], 1: []}

    def evaluate(which: int, dataset: tuple[Path, Path]) -> None:
        for threads in (None, 2, 1, None):
            results[which].append(panoptiq.pq_compute(*map(str, dataset), verbose=False, num_threads=threads))

    workers = [threading.Thread(target=evaluate, args=(i, d)) for i, d in enumerate((data, other))]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(timeout=300)
    for which in (0, 1):
        assert len(results[which]) == 4
        assert all(r == expected[which] for r in results[which])


@pytest.mark.skipif(shutil.which("taskset") is None, reason="taskset (util-linux) is not installed")
def test_default_threads_follow_the_cpus_the_process_may_use() -> None:
    code = "import panoptiq._core as c, panoptiq._dataset as d; print(c.default_threads(), d.default_threads())"
    env = {k: v for k, v in os.environ.items() if k != "RAYON_NUM_THREADS"}
    done = subprocess.run(["taskset", "-c", "0", sys.executable, "-c", code], capture_output=True, text=True, env=env)
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["1", "1"]
    env["RAYON_NUM_THREADS"] = "3"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env)
    assert done.stdout.split() == ["3", "3"]


CPU_CGROUP = Path("/sys/fs/cgroup/cpu")  # cgroup v1's cpu controller, as on this project's machines


def _make_cpu_cgroup() -> Path | None:
    folder = CPU_CGROUP / f"panoptiq-test-{os.getpid()}"
    try:
        folder.mkdir()
        (folder / "cpu.cfs_period_us").write_text("100000")
        (folder / "cpu.cfs_quota_us").write_text("100000")  # one CPU's worth of time
    except OSError:
        return None
    return folder


def test_default_threads_follow_a_cgroup_cpu_quota() -> None:
    folder = _make_cpu_cgroup()
    if folder is None:
        pytest.skip("cannot create a cgroup v1 cpu group here (needs root and /sys/fs/cgroup/cpu)")
    try:
        code = (
            "import os, sys; open(sys.argv[1], 'w').write(str(os.getpid())); "
            "import panoptiq._core as c, panoptiq._dataset as d; print(c.default_threads(), d.default_threads())"
        )
        env = {k: v for k, v in os.environ.items() if k != "RAYON_NUM_THREADS"}
        done = subprocess.run(
            [sys.executable, "-c", code, str(folder / "cgroup.procs")], capture_output=True, text=True, env=env
        )
        assert done.returncode == 0, done.stderr
        assert done.stdout.split() == ["1", "1"]  # a one-CPU quota on a multi-core machine
    finally:
        folder.rmdir()


def test_repeated_calls_do_not_grow_memory(data) -> None:
    out = run_python(
        """
        import json, sys
        import panoptiq

        def rss_kb():
            for line in open("/proc/self/status"):
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])

        gt_json, pred_json = sys.argv[1:]
        sizes = []
        for call in range(1, 501):
            panoptiq.pq_compute(gt_json, pred_json, verbose=False)
            if call in (2, 50, 500):
                sizes.append(rss_kb())
        print(json.dumps(sizes))
        """,
        *map(str, data),
    )
    sizes = json.loads(out.splitlines()[-1])
    # RSS moves up and down by a few MB as glibc's per-thread arenas grow and are trimmed
    # (measured over 1,000 calls: within 35-40 MB, no trend). A leak of 10 KB a call, a tenth
    # of one decoded file's buffers, would add 4.5 MB over the last 450 calls.
    after_2, after_50, after_500 = sizes
    assert after_500 - after_50 < 4096, sizes
    assert after_500 - after_2 < 6144, sizes
