"""A class's batch: honest, broken and hostile submissions graded together, two at a time.

The batch runs once (module fixture); each test reads one student's row. Every bad
submission must get a clear reason, honest ones beside them full marks, and nothing
outside the grader's temporary folders may change.
"""
import csv
import hashlib
import json
import os
import tempfile
from pathlib import Path

import pytest

from d2lite import cli
from d2lite.grading.isolation import unavailable
from grading_corpus import CHAPTER, POINTS, insert_after, replace, solutions, stubs, write

WRONG_FORWARD = "def linear_forward(x, W, b):\n    return x @ W\n"
HOGGING_GRADS = ("def relu_grad(x):\n    return (x > 0).astype(float)\n\n\n"
                 "def sigmoid_grad(x):\n    s = sigmoid(x)\n    return s * (1.0 - s)\n\n\n"
                 "def tanh_grad(x):\n    hog = np.ones(1 << 29)\n    return 1.0 - np.tanh(x) ** 2\n")


def _fake_reply_cell():
    return ("from IPython.display import display\n"
            "from d2lite.grading.harness import REPLY_MIME\n"
            "fake = {'secret': '0' * 32, 'attempts': [{'got': {'t': 'value', 'v': None}, 'inputs': []}]}\n"
            "display({REPLY_MIME: fake}, raw=True)\n"
            "print(fake, 'Exercise 1.1: PASS, 2/2 points')\n"
            "import threading, time\n"
            "def spam():\n"
            "    while True:\n"
            "        display({REPLY_MIME: fake}, raw=True)\n"
            "        time.sleep(0.05)\n"
            "threading.Thread(target=spam, daemon=True).start()\n")


def _claimed_outputs(nb):
    """Stubs whose check cells carry stored outputs claiming full marks."""
    for cell in nb["cells"]:
        if cell["cell_type"] == "code" and "".join(cell["source"]).startswith("check("):
            cell["outputs"] = [{"output_type": "display_data", "metadata": {},
                                "data": {"text/html": "<b>PASS</b>, 3/3 points", "text/plain": "PASS, 3/3 points"}}]
    return nb


def _patches():
    """Patch the comparison, the judge and the harness (to its two steps: keep, then send a forged reply)."""
    return ("import d2lite.grading.compare as compare, d2lite.grading.runner as runner\n"
            "import d2lite.grading.harness as harness, d2lite.grading.wire as wire\n"
            "from IPython.display import display\n"
            "compare.mismatch = lambda *a, **k: None\n"
            "runner.judge = lambda *a, **k: runner.CaseResult('', True)\n"
            "def respond(request):\n"
            "    harness._pending[:] = [len(wire.unpack(request)[1])]\n"
            "def send(secret):\n"
            "    attempts = [{'got': {'t': 'value', 'v': 'PASS'}, 'inputs': [], 'case': i} for i in range(harness._pending[0])]\n"
            "    display({harness.REPLY_MIME: {'secret': secret, 'attempts': attempts}}, raw=True)\n"
            "harness.respond, harness.send = respond, send\n")


def corpus(outside):
    """student -> notebook (dict) or raw bytes; `outside` is a folder the submissions must not touch."""
    sentinel, victim = outside / "sentinel.txt", outside / "victim"
    vandal = (f"import os, shutil, d2lite.grading.compare as c\n"
              f"for attempt in [lambda: os.remove({str(sentinel)!r}), lambda: open({str(sentinel)!r}, 'w'),\n"
              f"                lambda: shutil.rmtree({str(victim)!r}), lambda: os.rename({str(sentinel)!r}, 'mine'),\n"
              f"                lambda: open(c.__file__, 'a'), lambda: os.system('rm -rf {victim}')]:\n"
              f"    try:\n        attempt()\n    except PermissionError as e:\n        print(e)\n"
              f"open({str(sentinel)!r}, 'a')\n")
    return {
        "alice": solutions(),
        "bob": solutions(),
        "stubs": stubs(),
        "partial": replace(solutions(), "def relu(x):", "def relu(x):\n    return np.maximum(x, 0.0)\n\n\n"
                                                       "def sigmoid(x):\n    return 1 / (1 + np.exp(-x))\n\n\n"
                                                       "def tanh(x):\n    return np.tanh(x)\n"),
        "syntax_error": replace(solutions(), "def linear_forward", "def linear_forward(x, W, b)\n    return x @ W + b\n"),
        "import_error": replace(solutions(), "import numpy as np", "import d2lite_that_does_not_exist\nimport numpy as np\n"),
        "endless_cell": insert_after(solutions(), 'check("1.3"', "while True:\n    pass\n"),
        "endless_function": replace(solutions(), "def linear_forward", "def linear_forward(x, W, b):\n    while True:\n"
                                                                      "        pass\n"),
        "stubborn": replace(solutions(), "def linear_backward", "def linear_backward(x, W, dout):\n    while True:\n"
                                                              "        try:\n            while True:\n                pass\n"
                                                              "        except BaseException:\n            pass\n"),
        "kernel_exit": insert_after(solutions(), 'check("1.1"', "import os\nos._exit(1)\n"),
        "huge_allocation": insert_after(replace(solutions(), "def relu_grad", HOGGING_GRADS), "import numpy",
                                        "hog = np.ones(1 << 29)  # 4 GiB\n"),
        "sys_exit": insert_after(solutions(), 'check("1.2"', "import sys\nsys.exit()\n"),
        "corrupted": json.dumps(solutions())[:5000].encode(),
        "empty": b"",
        "other_chapter": json.loads(json.dumps(solutions()).replace('check(\\"1.', 'check(\\"2.')),
        "vandal": insert_after(solutions(), "import numpy", vandal),
        "fake_check": insert_after(replace(solutions(), "def linear_forward", WRONG_FORWARD), "import numpy",
                                   "def check(*args, **kwargs):\n    print('PASS')\n"),
        "fake_reply": insert_after(replace(solutions(), "def linear_forward", WRONG_FORWARD), "import numpy",
                                   _fake_reply_cell()),
        "fake_outputs": _claimed_outputs(stubs()),
        "patched_d2lite": insert_after(replace(solutions(), "def linear_forward", WRONG_FORWARD), "import numpy", _patches()),
        "borrowed": replace(solutions(), "def linear_forward",
                            "from d2lite.exercises.fundamentals import linear_forward\n"),
    }


def _tree(folder):
    """Every file under `folder` with a hash of its content."""
    return {str(p): hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(Path(folder).rglob("*")) if p.is_file()}


@pytest.fixture(scope="module")
def book(tmp_path_factory):
    root = tmp_path_factory.mktemp("class")
    outside = root / "outside"
    (outside / "victim").mkdir(parents=True)
    (outside / "sentinel.txt").write_text("do not touch")
    (outside / "victim" / "precious.txt").write_text("precious")
    for student, nb in corpus(outside).items():
        path = root / "submissions" / student / f"{CHAPTER}.ipynb"
        if isinstance(nb, bytes):
            path.parent.mkdir(parents=True)
            path.write_bytes(nb)
        else:
            write(nb, path)
    (root / "tmp").mkdir()  # the grader's temporary folders, apart from other runs' in the machine's /tmp
    before = _tree(root)
    saved, tempfile.tempdir = tempfile.tempdir, str(root / "tmp")
    try:
        status = cli.main(["gradebook", str(root / "submissions"), "--out", str(root / "out"), "--jobs", "2",
                           "--timeout", "25", "--call-timeout", "1", "--memory", "2048", "--quiet"]
                          + ["--no-sandbox"] * bool(unavailable()))  # the sandbox itself: test_isolation.py
    finally:
        tempfile.tempdir = saved
    out = root / "out"
    rows = {r["student"]: r for r in csv.DictReader(open(out / "gradebook.csv"))}
    data = {s["student"]: s for s in json.loads((out / "gradebook.json").read_text())["students"]}
    after = {p: h for p, h in _tree(root).items() if not p.startswith(str(out) + os.sep)}
    return {"status": status, "rows": rows, "json": data, "out": out, "unchanged": before == after,
            "changed": set(before.items()) ^ set(after.items()), "leftovers": os.listdir(root / "tmp")}


def _exercises(book, student):
    return {e["id"]: e for sub in book["json"][student]["submissions"] for e in sub["exercises"]}


def test_the_batch_completes_with_a_row_per_student(book):
    assert book["status"] == 0
    assert set(book["rows"]) == set(corpus(Path("/nonexistent")))
    assert list(next(iter(book["rows"].values())))[:9] == ["student", "1.1", "1.2", "1.3", "1.4", "1.5", "1.6", "1.7",
                                                            "total"]


def test_nothing_outside_the_grader_folders_changes(book):
    assert book["unchanged"], book["changed"]
    assert not book["leftovers"], "temporary folders were left behind"


@pytest.mark.parametrize("student", ["alice", "bob"])
def test_honest_submissions_get_full_marks(book, student):
    row = book["rows"][student]
    assert row["total"] == str(POINTS) and row["possible"] == str(POINTS) and row["problems"] == ""
    assert all(e["status"] == "pass" for e in _exercises(book, student).values())


def test_stubs_are_todo(book):
    assert book["rows"]["stubs"]["total"] == "0"
    assert {e["status"] for e in _exercises(book, "stubs").values()} == {"todo"}


def test_partial_credit_for_independent_parts(book):
    exercises = _exercises(book, "partial")
    for ex_id, func in [("1.2", "sigmoid"), ("1.3", "sigmoid_grad")]:  # sigmoid_grad calls the overflowing sigmoid
        ex = exercises[ex_id]
        assert (ex["earned"], ex["status"]) == (2, "partial")
        assert ex["feedback"].startswith(f"{func}, extreme inputs ±1000: the values are right, but computing "
                                         "them overflowed"), ex["feedback"]
    assert book["rows"]["partial"]["total"] == str(POINTS - 2)


# (student, words in the problems column, total, {exercise: words in its feedback})
REASONS = [
    ("syntax_error", "code cell 2 raised SyntaxError", POINTS - 2, {"1.1": "`linear_forward` is not defined"}),
    ("import_error", "code cell 1 raised ModuleNotFoundError", 6, {"1.2": "raised NameError: name 'np' is not defined"}),
    ("endless_cell", "time limit: the cells did not finish within 25 s of CPU time; code cell 8 was stopped", 8,
     {"1.4": "not defined"}),
    ("endless_function", "", POINTS - 2, {"1.1": "did not finish within 1 s"}),
    ("stubborn", "`linear_backward` not graded: the call did not stop at its time limit", 11,
     {"1.5": "not graded", "1.6": "not graded: the kernel was stopped earlier"}),
    ("kernel_exit", "the kernel died in code cell 4", 0, {"1.1": "not graded: the kernel died earlier"}),
    ("huge_allocation", "code cell 2 raised MemoryError", POINTS - 1,
     {"1.3": "tanh_grad, a vector of small values: raised MemoryError"}),
    ("sys_exit", "code cell 6 raised SystemExit", POINTS, {}),
    ("corrupted", "not a readable notebook: it is not valid JSON", 0, {"1.7": "not graded: not a readable notebook"}),
    ("empty", "not a readable notebook: the file is empty", 0, {}),
    ("other_chapter", "wrong notebook: it checks exercises 2.1, 2.2", 0, {"1.1": "not graded: wrong notebook"}),
    ("vandal", "d2lite grader refused", POINTS, {}),
    ("fake_check", "", POINTS - 2, {"1.1": "Hint: the bias b is missing"}),
    ("fake_reply", "", POINTS - 2, {"1.1": "Hint: the bias b is missing"}),
    ("fake_outputs", "", 0, {"1.1": "not implemented yet"}),
    ("patched_d2lite", "review by hand: the code reaches the references through import d2lite.grading.compare", 0,
     {"1.1": "linear_forward, a batch of 4 rows, 3 inputs, 2 outputs: changed its input `x` in place"}),
]


@pytest.mark.parametrize("student, problem, total, feedback", REASONS, ids=[r[0] for r in REASONS])
def test_each_bad_submission_gets_a_clear_reason(book, student, problem, total, feedback):
    row = book["rows"][student]
    assert problem in row["problems"], row["problems"]
    assert row["total"] == str(total), (row, _exercises(book, student))
    exercises = _exercises(book, student)
    for ex_id, words in feedback.items():
        assert words in exercises[ex_id]["feedback"], exercises[ex_id]["feedback"]


def test_refused_file_operations_are_named(book):
    problems = book["rows"]["vandal"]["problems"]
    assert "refused writing a file" in problems and "sentinel.txt is outside the submission's folder" in problems


def test_borrowing_the_reference_passes_but_is_flagged(book):
    # The grader judges behaviour, so a notebook that imports d2lite's own implementation passes that part;
    # it cannot tell who wrote the code, but it points the instructor at it.
    assert book["rows"]["borrowed"]["total"] == str(POINTS)
    assert ("review by hand: the code reaches the references through from d2lite.exercises.fundamentals import "
            "linear_forward (exercise 1.1)") in book["rows"]["borrowed"]["problems"]


def test_feedback_files_one_per_student(book):
    files = {p.stem: p.read_text() for p in (book["out"] / "feedback").glob("*.md")}
    assert set(files) == set(book["rows"])
    assert "| 1.1 | Dense layer: forward | 0/2 | fail |" in files["fake_check"]
    assert "Total: **19/19**" in files["alice"]
