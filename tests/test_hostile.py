"""Hostile submissions against the verdicts, graded in one batch beside honest students.

Every hostile notebook must earn no more than the honest notebook it was built from, with a
reason; the honest ones must get their grades; the grader's memory must stay bounded. The batch
runs once (module fixture); unit tests below pin the pieces (wire, flags, names) one by one.
"""
import csv
import json
import os
import re
import resource
import tracemalloc
from pathlib import Path

import numpy as np
import pytest

from d2lite import cli
from d2lite.grading import wire
from d2lite.grading.flags import routes_to_references
from d2lite.grading.exports import csv_cell
from d2lite.grading.gradebook import _slug, find_submissions, grade_all, write_gradebook
from d2lite.grading.exercise import exercises_of
from d2lite.grading.submission import Limits
from grading_corpus import write
from hostile_corpus import POINTS_1, corpus, expected


@pytest.fixture(scope="module")
def batch(tmp_path_factory):
    root = tmp_path_factory.mktemp("hostile")
    submissions = root / "submissions"
    for student, (content, name) in corpus().items():
        path = submissions / student / name if name else submissions / student
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, tuple):
            os.symlink(content[1], path)
        elif isinstance(content, bytes):
            path.write_bytes(content)
        else:
            write(content, path)
    _reset_peak_memory()
    graded = grade_all(find_submissions(submissions), limits=Limits(timeout=120, memory_mb=4096), jobs=2,
                       progress=False)
    out = root / "out"
    write_gradebook(graded, out)
    rows = {r["student"]: r for r in csv.DictReader(open(out / "gradebook.csv"))}
    book = json.loads((out / "gradebook.json").read_text())
    return {"rows": rows, "json": {s["student"]: s for s in book["students"]}, "out": out, "in": submissions,
            "peak_mb": _peak_memory_mb()}


def _reset_peak_memory():
    """Start the process's peak resident memory afresh (Linux), so the batch is measured, not earlier tests."""
    try:
        Path("/proc/self/clear_refs").write_text("5")
    except OSError:
        pass


def _peak_memory_mb():
    status = Path("/proc/self/status")
    if status.exists():
        return int(re.search(r"^VmHWM:\s+(\d+) kB", status.read_text(), re.MULTILINE).group(1)) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _exercises(batch, student):
    student = student[1:] if student.startswith("'=") else student  # the CSV escapes it, the JSON does not
    return {e["id"]: e for sub in batch["json"][student]["submissions"] for e in sub["exercises"]}


@pytest.mark.parametrize("student", sorted(expected()))
def test_each_submission_earns_what_it_earned_honestly(batch, student):
    total, problem, feedback = expected()[student]
    row = batch["rows"][student]
    if total is None:  # racing its own forgery: never more than the honest notebook
        assert float(row["total"]) <= POINTS_1, row
    else:
        assert row["total"] == str(total), (row, _exercises(batch, student))
    assert problem in row["problems"], row["problems"]
    for ex_id, words in feedback.items():
        assert words in _exercises(batch, student)[ex_id]["feedback"], _exercises(batch, student)[ex_id]["feedback"]


def test_d2lite_grade_gives_nothing_for_2_7_to_a_notebook_that_patches_the_trainer(batch, capsys):
    path = batch["in"] / "patched_trainer" / "02_cnns.ipynb"
    assert cli.main(["grade", "--json", str(path)]) == 1
    out = capsys.readouterr().out
    report = json.loads(out[out.index("["):])[0]  # after any one-line notice before the JSON
    ex = next(e for e in report["exercises"] if e["id"] == "2.7")
    assert ex["earned"] == 0 and "no convolution runs in its forward pass" in ex["feedback"], ex


def test_no_internal_grader_error(batch):
    assert not [s for s, r in batch["rows"].items() if "internal grader error" in r["problems"]]


def test_one_feedback_file_per_distinct_student(batch):
    files = sorted((batch["out"] / "feedback").iterdir())
    assert len(files) == len(batch["rows"])
    assert "Total: **17/19**" in (batch["out"] / "feedback" / f"{_slug('li_na')}.md").read_text()
    assert "Total: **19/19**" in (batch["out"] / "feedback" / f"{_slug('li na')}.md").read_text()


def test_the_grader_memory_stays_bounded(batch):
    # the memory bomb's reply is a few kilobytes; the old decoder expanded it to 32 GB of pointers
    assert batch["peak_mb"] < 1500, batch["peak_mb"]


# ---- the pieces, one by one --------------------------------------------------------------------

def test_decoding_is_bounded_by_the_reply():
    bomb = {"t": "list", "items": [{"t": "array", "dtype": "object", "shape": [1000, 1000]}] * 100}
    tracemalloc.start()
    with pytest.raises(ValueError, match="not accepted"):
        wire.decode(json.loads(json.dumps(bomb)))
    empty_items = {"t": "array", "dtype": "S0", "shape": [10 ** 12], "data": ""}
    with pytest.raises(ValueError, match="not accepted"):
        wire.decode(empty_items)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert peak < 1 << 20
    many = {"t": "list", "items": [{"t": "list", "items": [{"t": "int", "v": 1}] * 10_000}] * 200}
    with pytest.raises(ValueError, match="expands to more than the grader accepts"):
        wire.decode(many)  # two million values from one reply: past the per-reply budget
    budget = wire.Budget(max_bytes=20 << 20)
    arrays = [wire.encode(np.zeros(1 << 20)) for _ in range(2)]
    wire.decode(arrays[0], budget=budget)
    with pytest.raises(ValueError, match="expands to more"):
        wire.decode(arrays[1], budget=budget)  # the budget is shared by everything in one reply


@pytest.mark.parametrize("source, words", [
    ("from d2lite import grading as G\nf = G.runner.attempts", "through d2lite.grading.runner.attempts"),
    ("import importlib\nm = importlib.import_module(name)", "import_module() of a module named at run time"),
    ("m = __import__('d2lite.grading.harness')", "the name 'd2lite.grading.harness' in a string"),
    ("import d2lite\ng = getattr(d2lite, 'grad' + 'ing')", "getattr() on d2lite"),
    ("import sys\nr = sys.modules['d2lite.exercises.cnns']", "the name 'd2lite.exercises.cnns' in a string"),
    ("from d2lite.exercises.cnns import im2col", "from d2lite.exercises.cnns import im2col (exercise 2.6)"),
    ("exec(open('x.py').read())", "exec() of code built at run time"),
    ("import d2lite.scratch as S\n\n\ndef max_pool2d_backward(x, dout):\n    return S.MaxPool2d(2).backward(dout)",
     "exercise 2.5 asks for what d2lite.scratch.MaxPool2d does, and `max_pool2d_backward` uses it"),
])
def test_every_route_to_the_references_is_flagged_with_its_exercise(source, words):
    found = routes_to_references([source], exercises_of("02_cnns"))
    assert any(words in f for f in found), found


@pytest.mark.parametrize("source", [
    "from d2lite.grading import check, scoreboard\ncheck('2.1', f)",
    "import d2lite.grading\nd2lite.grading.check('2.1', f)",
    "from d2lite import grading\ngrading.scoreboard()",
    "from d2lite import scratch\n\n\ndef train(model):\n    return scratch.SoftmaxCrossEntropy()",  # not asked for in 2.x
    "exercises = ['2.1']\nprint('grading', exercises)",
])
def test_public_use_is_not_flagged(source):
    assert routes_to_references([source], exercises_of("02_cnns")) == []


def test_csv_cells_never_start_a_formula():
    assert [csv_cell(t) for t in ["=2+5", "+1", "-1", "@SUM(A1)", "\tx", "alice"]] == [
        "'=2+5", "'+1", "'-1", "'@SUM(A1)", "'\tx", "alice"]


def test_feedback_names_never_collide():
    names = ["li na", "li_na", "li/na", "li__na", "Li_na", "li_na~0", ".hidden", "a" * 200]
    slugs = [_slug(n) for n in names]
    assert len(set(slugs)) == len(names) and all("/" not in s and not s.startswith(".") for s in slugs)
    assert _slug("alice") == "alice"


def test_check_in_a_notebook_also_needs_one_attempt_per_case():
    import sys

    from d2lite.grading import get_exercise, grade_exercise

    def emptying(x, W, b):  # right answers, but it empties the list of results made so far
        frame = sys._getframe(1)
        while frame is not None:
            if isinstance(frame.f_locals.get("results"), list):
                frame.f_locals["results"].clear()
            frame = frame.f_back
        return x @ W + b

    result = grade_exercise(get_exercise("1.1"), {"linear_forward": emptying})
    assert result.earned == 0 and "the answer holds 1 attempts for" in result.feedback, result.feedback
