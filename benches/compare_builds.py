"""Two builds of panoptiq timed against each other: the same workloads, on the same data, each
measurement in a fresh process of one build or the other, builds alternating within each round,
medians over rounds and their ratio printed.

Run: python benches/compare_builds.py --before /path/to/venv-before/bin/python
         [--after python] [--rounds 7] [--cache DIR] [--pairs 2000] [--only "name;name"]

For a change that must not cost speed (a restructuring): build the commit before it into a
second venv (``python -m venv v && v/bin/pip install "/path/to/checkout-before[bench]"``) and
compare. Every workload uses the public API both builds have; each process evaluates once to
warm up, then times ``--repeat`` evaluations and keeps the quickest (interpreter start-up,
imports and data loading excluded; the quickest of a few is the least disturbed by whatever else
the machine does). Both builds' results are checked equal.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from pillow_data import dataset as pillow_dataset

#: What a measuring process runs: ``panoptiq`` imported, ``gt`` and ``pred`` the JSON files;
#: ``run()`` is called once to warm up, then timed; its return value is compared across builds.
WORKLOADS = {
    "pq_compute": """
def run():
    r = evaluation.pq_compute(gt, pred, verbose=False)
    return r["All"]
""",
    "pq_compute per_image": """
def run():
    r = evaluation.pq_compute(gt, pred, verbose=False, per_image=True)
    return [r["All"], len(r["segments"])]
""",
    "pq_compute boundary": """
def run():
    r = evaluation.pq_compute(gt, pred, verbose=False, iou_type="boundary")
    return r["All"]
""",
    "pq_compute_multi_core (dicts)": """
g, p = json.load(open(gt)), json.load(open(pred))
by_id = {a["image_id"]: a for a in p["annotations"]}
pairs = [(a, by_id[a["image_id"]]) for a in g["annotations"]]
cats = {c["id"]: c for c in g["categories"]}
def run():
    s = evaluation.pq_compute_multi_core(pairs, gt[:-5], pred[:-5], cats, verbose=False)
    return s.pq_average(cats, isthing=None)[0]
""",
    "partials (parts of 100)": """
from panoptiq import partials
plan = partials.plan(gt, pred, partition_size=100)
def run():
    return plan.combine([partials.evaluate(part) for part in plan.parts])["All"]
""",
    "PanopticQuality.update id maps": """
g, p = json.load(open(gt)), json.load(open(pred))
by_id = {a["image_id"]: a for a in p["annotations"]}
items = []
for a in g["annotations"][:300]:
    b = by_id[a["image_id"]]
    items.append((panoptiq.read_id_map(gt[:-5] + "/" + a["file_name"]), a["segments_info"],
                  panoptiq.read_id_map(pred[:-5] + "/" + b["file_name"]), b["segments_info"]))
cats = g["categories"]
def run():
    m = panoptiq.PanopticQuality(cats)
    for gi, gs, pi, ps in items:
        m.update(pi, gi, preds_segments_info=ps, target_segments_info=gs)
    return m.compute().to_dict()["All"]
""",
    "evaluate_image": """
g, p = json.load(open(gt)), json.load(open(pred))
by_id = {a["image_id"]: a for a in p["annotations"]}
items = []
for a in g["annotations"][:300]:
    b = by_id[a["image_id"]]
    items.append((panoptiq.read_id_map(gt[:-5] + "/" + a["file_name"]), a["segments_info"],
                  panoptiq.read_id_map(pred[:-5] + "/" + b["file_name"]), b["segments_info"]))
cats = {c["id"]: c for c in g["categories"]}
def run():
    total = panoptiq.PQStat()
    for gi, gs, pi, ps in items:
        total += panoptiq.evaluate_image(gi, gs, pi, ps, cats)
    return total.pq_average(cats, isthing=None)[0]
""",
    "PanopticQuality.update (B, H, W, 2) pairs": """
import numpy as np
rng = np.random.default_rng(0)
g, p = json.load(open(gt)), json.load(open(pred))
cats = g["categories"]
kind = {c["id"]: c["isthing"] for c in cats}
def pairs_of(path, segments):
    ids = panoptiq.read_id_map(path)
    out = np.zeros(ids.shape + (2,), dtype=np.int64)
    for k, s in enumerate(segments):
        mask = ids == s["id"]
        out[mask, 0] = s["category_id"]
        out[mask, 1] = k + 1 if kind[s["category_id"]] else 0
    out[ids == 0, 0] = 255
    return out
by_id = {a["image_id"]: a for a in p["annotations"]}
items = []
for a in g["annotations"][:100]:
    b = by_id[a["image_id"]]
    items.append((pairs_of(pred[:-5] + "/" + b["file_name"], b["segments_info"])[None],
                  pairs_of(gt[:-5] + "/" + a["file_name"], a["segments_info"])[None]))
def run():
    m = panoptiq.PanopticQuality(cats, void=255)
    for pr, ta in items:
        m.update(pr, ta)
    return m.compute().to_dict()["All"]
""",
}

PROCESS = """
import json, sys, time
import panoptiq
from panoptiq import evaluation
gt, pred, repeat = sys.argv[1], sys.argv[2], int(sys.argv[3])
{body}
result = run()
times = []
for _ in range(repeat):
    start = time.perf_counter()
    run()
    times.append(time.perf_counter() - start)
print(json.dumps({{"seconds": min(times), "result": result}}, default=repr))
"""


def measure(python: str, workload: str, gt_json: Path, pred_json: Path, repeat: int) -> dict:
    code = PROCESS.format(body=WORKLOADS[workload])
    done = subprocess.run(
        [python, "-c", code, str(gt_json), str(pred_json), str(repeat)], capture_output=True, text=True, check=False
    )
    if done.returncode != 0:
        raise SystemExit(f"{workload} failed under {python}:\n{done.stderr}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def version_of(python: str) -> str:
    code = "import panoptiq, sys; print(panoptiq.__version__, panoptiq.__file__)"
    return subprocess.run([python, "-c", code], capture_output=True, text=True, check=True).stdout.strip()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--before", required=True, help="the Python of the build to compare against")
    parser.add_argument("--after", default=sys.executable, help="the Python of the build under test")
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--repeat", type=int, default=3, help="timed evaluations per process (the quickest kept)")
    parser.add_argument("--pairs", type=int, default=2000, help="COCO-like 640x480 pairs (Pillow-written)")
    parser.add_argument("--cache", type=Path, default=Path(tempfile.gettempdir()) / "panoptiq-bench")
    parser.add_argument("--only", help="workload names, separated by semicolons")
    args = parser.parse_args()
    names = list(WORKLOADS) if args.only is None else [n.strip() for n in args.only.split(";")]
    folder = pillow_dataset(args.cache, args.pairs, archives=False)
    gt_json, pred_json = folder / "gt.json", folder / "pred.json"
    builds = {"before": args.before, "after": args.after}
    for label, python in builds.items():
        print(f"{label}: {version_of(python)}")
    print(f"data: {args.pairs} COCO-like 640x480 pairs, PNGs written by Pillow ({folder})")
    print(
        f"{args.rounds} rounds, builds alternating, each measurement its own process "
        f"(the quickest of {args.repeat} timed evaluations)\n"
    )
    print("| workload | before (median) | after (median) | after / before | rounds' ratios |")
    print("|---|---:|---:|---:|---|")
    worst = 0.0
    for name in names:
        samples: dict[str, list[float]] = {"before": [], "after": []}
        results = {}
        for round_ in range(args.rounds):
            order = ("before", "after") if round_ % 2 == 0 else ("after", "before")
            for label in order:
                measured = measure(builds[label], name, gt_json, pred_json, args.repeat)
                samples[label].append(measured["seconds"])
                results.setdefault(label, measured["result"])
        if results["before"] != results["after"]:
            raise SystemExit(f"{name}: the builds disagree: {results['before']} != {results['after']}")
        before, after = statistics.median(samples["before"]), statistics.median(samples["after"])
        ratios = ", ".join(f"{a / b:.3f}" for a, b in zip(samples["after"], samples["before"], strict=True))
        worst = max(worst, after / before)
        print(f"| {name} | {before * 1000:.1f} ms | {after * 1000:.1f} ms | {after / before:.3f} | {ratios} |")
    print(f"\nlargest median ratio after / before: {worst:.3f}; both builds' results equal in every workload")


if __name__ == "__main__":
    main()
