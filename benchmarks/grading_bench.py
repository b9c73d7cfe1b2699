"""How much time grading adds, and how long a class takes.

1. Overhead per notebook: the grader's wall time for a notebook (`grade_notebook`: fresh
   sandboxed kernel, cells, harness, judging) minus the notebook's own run time, measured
   two ways: executed top to bottom by nbclient in a fresh kernel, check cells included (as
   `jupyter nbconvert --execute` would), and the same in the grader's own kind of kernel
   (same sandbox and thread settings). Median of --runs runs each.
2. A batch: --batch copies of the chapter's notebooks (a third solutions, a third the
   shipped exercises, a third a solution with one bug) graded by `d2lite gradebook`
   with --jobs workers, timed end to end.
3. What the OS sandbox (bubblewrap) costs: a notebook graded in it and without it
   (`--no-sandbox`), alternately, medians of --runs runs, and the batch both ways.

Run from the repository root:  .venv/bin/python benchmarks/grading_bench.py [--runs 3] [--batch 30] [--jobs 2]
(--only-sandbox: part 3 alone).
"""
import argparse
import json
import os
import shutil
import statistics
import tempfile
import time
from pathlib import Path

from d2lite import cli
from d2lite.grading.kernel import Kernel
from d2lite.grading.isolation import unavailable
from d2lite.grading.submission import Limits, grade_notebook

ROOT = Path(__file__).resolve().parents[1]
CHAPTER = "01_fundamentals"


def own_run_time(path):
    """Seconds for nbclient to execute the notebook in a fresh kernel (start and shutdown included)."""
    import nbformat
    from nbclient import NotebookClient

    nb = nbformat.read(str(path), as_version=4)
    start = time.perf_counter()
    NotebookClient(nb, timeout=600, allow_errors=True, kernel_name="python3",
                   resources={"metadata": {"path": str(path.parent)}}).execute()
    return time.perf_counter() - start


def own_run_in_sandbox(path):
    """Seconds to start the grader's kind of kernel and run every code cell in it, check cells included."""
    cells = ["".join(c["source"]) for c in json.loads(path.read_text())["cells"] if c["cell_type"] == "code"]
    start = time.perf_counter()
    with Kernel(memory_mb=4096, isolated=not unavailable()) as kernel:
        for source in cells:
            kernel.execute(source, timeout=600)
    return time.perf_counter() - start


def overhead(path, runs):
    own, same, graded, parts = [], [], [], []
    for _ in range(runs):
        own.append(own_run_time(path))
        same.append(own_run_in_sandbox(path))
        start = time.perf_counter()
        sub = grade_notebook(path, limits=Limits(isolated=not unavailable()))
        graded.append(time.perf_counter() - start)
        parts.append(sub.seconds)
    median = {k: statistics.median(p[k] for p in parts) for k in ("kernel", "cells", "grading")}
    g, own, same = statistics.median(graded), statistics.median(own), statistics.median(same)
    return {"notebook": str(path.relative_to(ROOT)), "own_s": own, "own_sandbox_s": same, "graded_s": g,
            "overhead_s": g - own, "overhead_sandbox_s": g - same, "grader_breakdown_s": median,
            "earned": sub.earned, "points": sub.points}


def _one_bug(folder):
    text = (ROOT / "solutions" / f"{CHAPTER}.ipynb").read_text()
    bugged = text.replace("dx = dout @ W.T", "dx = dout @ W")
    assert bugged != text, "the solutions notebook changed: update the bug"
    path = folder / "bug.ipynb"
    path.write_text(bugged)
    return path


def sandbox_cost(path, runs):
    """Median seconds to grade `path` with and without the sandbox (total, and the kernel's start), alternately."""
    seconds = {True: [], False: []}
    for _ in range(runs):
        for isolated in (True, False):
            seconds[isolated].append(grade_notebook(path, limits=Limits(isolated=isolated)).seconds)
    return {isolated: {k: statistics.median(s[k] for s in runs_) for k in ("kernel", "total")}
            for isolated, runs_ in seconds.items()}


def batch(size, jobs, isolated=True):
    folder = Path(tempfile.mkdtemp(prefix="d2lite-bench-"))
    try:
        sources = [ROOT / "solutions" / f"{CHAPTER}.ipynb", ROOT / "exercises" / f"{CHAPTER}.ipynb", _one_bug(folder)]
        for i in range(size):
            student = folder / "submissions" / f"student{i:02d}"
            student.mkdir(parents=True)
            shutil.copy(sources[i % 3], student / f"{CHAPTER}.ipynb")
        start = time.perf_counter()
        cli.main(["gradebook", str(folder / "submissions"), "--out", str(folder / "out"), "--jobs", str(jobs),
                  "--quiet"] + ["--no-sandbox"] * (not isolated))
        wall = time.perf_counter() - start
        book = json.loads((folder / "out" / "gradebook.json").read_text())
        totals = sorted({s["earned"] for s in book["students"]})
        return {"submissions": size, "jobs": jobs, "cores": os.cpu_count(), "wall_s": wall,
                "per_submission_s": wall / size, "distinct_totals": totals}
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--batch", type=int, default=30)
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--only-sandbox", action="store_true", help="measure only what the sandbox costs")
    args = parser.parse_args()
    if unavailable():
        print(f"No OS sandbox here ({unavailable()}): measuring without it only.")
    else:
        for name in ("solutions", "exercises"):
            c = sandbox_cost(ROOT / name / f"{CHAPTER}.ipynb", args.runs)
            print(f"{name}: graded in the sandbox {c[True]['total']:.2f} s (kernel start {c[True]['kernel']:.2f} s), "
                  f"without {c[False]['total']:.2f} s (kernel start {c[False]['kernel']:.2f} s): "
                  f"{c[True]['total'] - c[False]['total']:+.2f} s per notebook")
        both = {isolated: batch(args.batch, args.jobs, isolated) for isolated in (True, False)}
        print(f"batch of {args.batch}, --jobs {args.jobs} on {os.cpu_count()} cores: "
              f"sandbox {both[True]['wall_s']:.1f} s, without {both[False]['wall_s']:.1f} s "
              f"({both[True]['wall_s'] / both[False]['wall_s']:.2f}x); "
              f"totals seen {both[True]['distinct_totals']} and {both[False]['distinct_totals']}")
        if args.only_sandbox:
            return
    for name in ("solutions", "exercises"):
        r = overhead(ROOT / name / f"{CHAPTER}.ipynb", args.runs)
        parts = r["grader_breakdown_s"]
        print(f"{r['notebook']} ({r['earned']:g}/{r['points']:g} points): graded {r['graded_s']:.2f} s; "
              f"own run {r['own_s']:.2f} s with nbclient (overhead {r['overhead_s']:+.2f} s), "
              f"{r['own_sandbox_s']:.2f} s in the grader's kernel (overhead {r['overhead_sandbox_s']:+.2f} s); "
              f"grader: kernel {parts['kernel']:.2f} s, cells {parts['cells']:.2f} s, "
              f"harness+judging {parts['grading']:.2f} s")
    b = batch(args.batch, args.jobs, isolated=not unavailable())
    print(f"batch: {b['submissions']} submissions, --jobs {b['jobs']} on {b['cores']} cores: {b['wall_s']:.1f} s "
          f"({b['per_submission_s']:.2f} s per submission); totals seen {b['distinct_totals']}")


if __name__ == "__main__":
    main()
