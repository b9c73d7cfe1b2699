"""How long a regrade of an unchanged class takes with the cache, against the first grading.

A class of --students notebooks of chapter 1 (the solutions notebook, each with one cell of its
own so that no two are the same file; every third with a bug in 1.1) is graded with
`d2lite gradebook` in fresh processes, timed end to end (wall clock, and the CPU time of the
command and the processes it waited for): cold (empty cache), then --warm times warm (the class
unchanged: every result from the cache). The warm runs' gradebook must equal the cold one's.

Run from the repository root:  .venv/bin/python benchmarks/regrade_bench.py [--students 30] [--jobs 2]
"""
import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))
from grading_corpus import CHAPTER, code_cell, replace, solutions, write  # noqa: E402


def make_class(folder, students):
    for n in range(students):
        nb = solutions()
        if n % 3 == 2:
            nb = replace(nb, "def linear_forward", "def linear_forward(x, W, b):\n    return x @ W\n")
        nb["cells"].append(code_cell(f"student_number = {n}"))
        write(nb, folder / f"s{n:02d}" / f"{CHAPTER}.ipynb")


def _cpu():
    used = resource.getrusage(resource.RUSAGE_CHILDREN)
    return used.ru_utime + used.ru_stime


def timed(args):
    """(wall seconds, CPU seconds, the command's last line) of one `d2lite gradebook` run."""
    start, cpu = time.perf_counter(), _cpu()
    done = subprocess.run([sys.executable, "-m", "d2lite.cli", "gradebook", *args], capture_output=True, text=True)
    seconds = time.perf_counter() - start
    if done.returncode != 0:
        raise SystemExit(done.stdout + done.stderr)
    return seconds, _cpu() - cpu, done.stdout.strip().splitlines()[-1].split(" into ")[0]


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--students", type=int, default=30)
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--warm", type=int, default=3, help="warm runs (default 3)")
    opts = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        make_class(tmp / "subs", opts.students)
        base = [str(tmp / "subs"), "--out", str(tmp / "out"), "--jobs", str(opts.jobs), "--quiet"]
        cold = timed(base)
        first = json.loads((tmp / "out" / "gradebook.json").read_text())
        warm = []
        for _ in range(opts.warm):
            warm.append(timed(base))
            again = json.loads((tmp / "out" / "gradebook.json").read_text())
            assert again["students"] == first["students"], "the cached regrade differs from the first grading"
    totals = sorted({s["earned"] for s in first["students"]})
    print(f"class of {opts.students}, --jobs {opts.jobs}, totals {totals}")
    print(f"cold (empty cache):      {cold[0]:6.1f} s wall, {cold[1]:5.1f} s CPU   {cold[2]}")
    for wall, cpu, said in warm:
        print(f"warm (unchanged class):  {wall:6.1f} s wall, {cpu:5.1f} s CPU   {said}")

if __name__ == "__main__":
    main()
