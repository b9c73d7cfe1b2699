"""Verdicts that do not depend on how busy the machine is.

Time limits count CPU seconds (the kernel's, in the grader; the process's, around each graded
call), and a time-out fires once: code that swallows it is stopped from outside, always. The
class's batch from test_gradebook is graded here with CPU hogs beside it, and the submissions
that run out of time must get exactly the grades and reasons they get on a quiet machine.
"""
import csv
import os
import subprocess
import sys
import time

import pytest

from d2lite import cli
from d2lite.grading.isolation import unavailable
from d2lite.grading import limits
from d2lite.grading.limits import run_limited
from d2lite.grading.submission import Limits, grade_notebook
from grading_corpus import CHAPTER, POINTS, insert_after, replace, solutions, write
from test_gradebook import REASONS, corpus

SLOW = ["stubborn", "endless_function", "endless_cell"]
# Right, and well inside its limit (1 s) in CPU time: 0.4 s per call. On a busy machine each call takes
# longer on the clock than the limit.
SLOW_BUT_RIGHT = ("import time\n\n\ndef linear_forward(x, W, b):\n    start = time.process_time()\n"
                  "    while time.process_time() - start < 0.4:\n        pass\n    return x @ W + b\n")


@pytest.fixture(scope="module")
def under_load(tmp_path_factory):
    root = tmp_path_factory.mktemp("load")
    class_ = corpus(root / "outside")
    class_["slow_but_right"] = replace(solutions(), "def linear_forward", SLOW_BUT_RIGHT)
    for student in SLOW + ["slow_but_right"]:
        write(class_[student], root / "submissions" / student / f"{CHAPTER}.ipynb")
    hogs = [subprocess.Popen([sys.executable, "-c", "while True: pass"]) for _ in range(2 * (os.cpu_count() or 1))]
    try:
        cli.main(["gradebook", str(root / "submissions"), "--out", str(root / "out"), "--jobs", "2", "--timeout", "25",
                  "--call-timeout", "1", "--memory", "2048", "--quiet"] + ["--no-sandbox"] * bool(unavailable()))
    finally:
        for hog in hogs:
            hog.kill()
            hog.wait()
    return {r["student"]: r for r in csv.DictReader(open(root / "out" / "gradebook.csv"))}


@pytest.mark.timeout(900)
@pytest.mark.parametrize("student", SLOW)
def test_time_outs_give_the_same_grade_beside_cpu_hogs(under_load, student):
    _, problem, total, _ = next(r for r in REASONS if r[0] == student)
    row = under_load[student]
    assert row["total"] == str(total) and problem in row["problems"], row


def test_a_function_within_its_cpu_limit_passes_beside_cpu_hogs(under_load):
    assert under_load["slow_but_right"]["total"] == str(POINTS) and under_load["slow_but_right"]["problems"] == ""


def _swallows_once():
    try:
        while True:
            pass
    except BaseException:
        return 42  # caught the time-out and answered anyway


def test_a_call_that_swallows_the_time_out_still_timed_out():
    value, error = run_limited(_swallows_once, 0.2)
    assert value is None and error.startswith("did not finish within 0.2 s of CPU time")


def _computes_forever():
    n = 0
    while True:
        n += 1


def test_the_limit_counts_cpu_time_not_waiting():
    # A call that waits (here: sleeps) longer than the limit but computes little is not a time-out;
    # the same time spent computing is.
    assert run_limited(lambda: time.sleep(0.6) or 7, 0.3) == (7, None)
    value, error = run_limited(_computes_forever, 0.3)
    assert value is None and error.startswith("did not finish within 0.3 s of CPU time")


def _graded_with_a_short_idle_limit(tmp_path, monkeypatch, cell):
    # The grader's rule, scaled down: 3 s on the clock with (almost) no CPU is waiting, not working.
    monkeypatch.setattr(limits, "IDLE_SECONDS", 3.0)
    monkeypatch.setattr(limits, "IDLE_CPU", 0.02)
    path = tmp_path / f"{CHAPTER}.ipynb"
    write(insert_after(solutions(), "import numpy", cell), path)
    return grade_notebook(path, CHAPTER, Limits(timeout=120, memory_mb=2048, isolated=not unavailable()))


def test_a_cell_that_waits_without_computing_is_stopped_before_the_clock_limit(tmp_path, monkeypatch):
    # Without this rule a kernel stuck waiting (input, a lock, a sleep) would hold a grading slot for
    # WALL_FACTOR * 120 + WALL_SLACK = 510 s.
    sub = _graded_with_a_short_idle_limit(tmp_path, monkeypatch, "import time\ntime.sleep(600)\n")
    assert any("was stopped: it waited" in p and "without computing" in p for p in sub.problems), sub.problems
    assert sub.earned == 0


def test_a_cell_that_computes_longer_than_the_idle_limit_is_not_stopped(tmp_path, monkeypatch):
    busy = "import time\n_start = time.process_time()\nwhile time.process_time() - _start < 5:\n    pass\n"
    sub = _graded_with_a_short_idle_limit(tmp_path, monkeypatch, busy)
    assert sub.problems == [] and sub.earned == POINTS, sub.problems
