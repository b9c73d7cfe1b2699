"""The grader's pieces without a kernel: check() and its split halves, the wire format, the file guard,
the score table, telling a notebook's chapter and a class's students."""
import json
import math
import re
import subprocess
import sys
import textwrap

import numpy as np
import pytest

from d2lite import scratch
from d2lite.grading import ExerciseFailed, check, get_exercise, harness, scoreboard, wire
from d2lite.grading.compare import mismatch
from d2lite.grading.gradebook import find_submissions
from d2lite.grading.runner import Attempt, attempts, expected_output, grade_part, judge
from d2lite.grading.scoreboard import _SESSION, render, rows
from d2lite.grading.submission import _only_checks, _read, resolve_chapter
from grading_corpus import CHAPTER, solutions, write


def relu(x):
    return np.maximum(x, 0.0)


def test_check_passes_fails_with_a_hint_and_feeds_the_scoreboard(capsys):
    _SESSION.clear()
    assert check("1.2", relu, scratch.sigmoid, np.tanh, quiet=True).passed
    with pytest.raises(ExerciseFailed, match="2/3 points"):
        check("1.2", relu, lambda x: 1 / (1 + np.exp(x)), np.tanh, quiet=True)
    check("1.1", lambda x, W, b: x @ W + b, quiet=True)
    scoreboard()
    text = capsys.readouterr().out
    assert f"Scoreboard · {CHAPTER}" in text
    assert "1.1  " in text and "2/2" in text and "pass" in text
    assert "partial" in text and "sigmoid, a vector of small values: values differ" in text
    assert "not checked" in text and re.search(r"\n +total +4/19$", text.rstrip())


def test_the_two_halves_give_what_grade_part_gives():
    part = get_exercise("1.2").parts[1]
    wrong = lambda x: 1 / (1 + np.exp(x))  # noqa: E731
    cases = part.cases()
    tried = attempts(part, wrong, [c.args for c in cases])
    split = [judge(part, c, a, expected_output(part, c)) for c, a in zip(cases, tried)]
    assert split == grade_part(part, wrong).cases
    assert "Hint: the sign in the exponent is flipped" in split[0].message


def test_judge_sees_an_input_changed_in_place():
    part = get_exercise("1.1").parts[0]

    def in_place(x, W, b):
        x *= 2
        return x @ W + b

    assert "changed its input `x` in place" in grade_part(part, in_place).first_failure.message


def _ask(part, namespace):
    """What the harness in a kernel would answer for `part`, given the notebook's namespace."""
    return harness.reply(harness.request(part, part.cases(), part.timeout), namespace)


def test_the_harness_answers_with_plain_data_only():
    part = get_exercise("1.1").parts[0]
    assert _ask(part, {}) == {"problem": "`linear_forward` is not defined: run the cell that defines it."}
    assert _ask(part, {"linear_forward": 3})["problem"] == "`linear_forward` is a int, not a function."
    answer = _ask(part, {"linear_forward": lambda x, W, b: x @ W + b})
    assert json.loads(json.dumps(answer)) == answer and len(answer["attempts"]) == len(part.cases())
    got = wire.decode(answer["attempts"][0]["got"])
    assert got.shape == (4, 2) and [wire.decode(x).shape for x in answer["attempts"][0]["inputs"]] == [(4, 3), (3, 2), (2,)]


def test_the_harness_refuses_to_send_huge_outputs():
    part = get_exercise("1.1").parts[0]
    answer = _ask(part, {"linear_forward": lambda x, W, b: np.ones(5_000_000)})
    # still one attempt per case, without outputs
    assert [a["case"] for a in answer["attempts"]] == list(range(len(part.cases())))
    assert all(re.match(r"returned \d+ MB of output, far more than expected", a["error"]) for a in answer["attempts"])


def _roundtrip(value):
    return wire.decode(json.loads(json.dumps(wire.encode(value))))


def _same(a, b):
    if isinstance(a, np.ndarray):
        return a.dtype == b.dtype and a.shape == b.shape and np.array_equal(a, b)
    if isinstance(a, (tuple, list)):
        return type(a) is type(b) and len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b))
    return type(a) is type(b) and a == b


@pytest.mark.parametrize("value", [None, True, 3, -2.5, "text", np.float32(1.5), np.int64(7), np.bool_(False),
                                   np.arange(6.0).reshape(2, 3), np.asfortranarray(np.ones((2, 3))), np.array(3.0),
                                   np.zeros((0, 4), dtype=np.int32), np.array([1 + 2j]), (1.0, (np.ones(2), [2, 3]))])
def test_wire_carries_outputs_exactly(value):
    assert _same(_roundtrip(value), value)


def test_other_objects_come_back_as_stand_ins_with_their_type_name():
    assert mismatch(_roundtrip({"a": 1}), np.zeros(3)) == "returned a dict; expected a NumPy array of shape (3,)."
    objects = _roundtrip(np.array([None, 1], dtype=object))  # never rebuilt: its cells could all point at one huge object
    assert mismatch(objects, np.zeros(2)) == "returned a object_array; expected a NumPy array of shape (2,)."
    assert math.isnan(_roundtrip(float("nan"))) and _roundtrip(-math.inf) == -math.inf
    huge = _roundtrip(10 ** 30)
    assert type(huge).__name__ == "int" and not isinstance(huge, int)


@pytest.mark.parametrize("tree", [
    {"t": "array", "dtype": "O", "shape": [1], "data": ""},
    {"t": "array", "dtype": "<f8", "shape": [1000000000], "data": "AAAAAAAAAAA="},
    {"t": "array", "dtype": "<f8", "shape": [-1], "data": ""},
    {"t": "pickle", "data": "gASVAAAAAAAAAAA="},
    {"t": "int", "v": "1"},
    {"t": "other", "type": 3},
    [1, 2],
])
def test_wire_rejects_anything_malformed(tree):
    with pytest.raises(ValueError):
        wire.decode(tree)


def test_wire_limits_nesting():
    tree = {"t": "value", "v": None}
    for _ in range(wire.MAX_DEPTH + 1):
        tree = {"t": "tuple", "items": [tree]}
    with pytest.raises(ValueError):
        wire.decode(tree)


GUARDED = textwrap.dedent("""
    import json, os, shutil, subprocess, sys
    from d2lite.grading.sandbox import limit_resources, make_guard
    work, outside = sys.argv[1], sys.argv[2]
    os.chdir(work)
    limit_resources(1024)
    sys.addaudithook(make_guard(work))
    tries = {
        "write inside": lambda: open("mine.txt", "w").write("ok"),
        "make a folder inside": lambda: os.makedirs("a/b"),
        "write /dev/null": lambda: open(os.devnull, "w").write("ok"),
        "read outside": lambda: open(os.path.join(outside, "keep.txt")).read(),
        "write outside": lambda: open(os.path.join(outside, "keep.txt"), "a"),
        "os.open outside": lambda: os.open(os.path.join(outside, "new"), os.O_WRONLY | os.O_CREAT),
        "remove outside": lambda: os.remove(os.path.join(outside, "keep.txt")),
        "rename outside": lambda: os.rename(os.path.join(outside, "keep.txt"), "stolen"),
        "rmtree outside": lambda: shutil.rmtree(outside),
        "write through a link": lambda: (os.symlink(os.path.join(outside, "keep.txt"), "link"), open("link", "a")),
        "folder fd outside": lambda: os.open(outside, os.O_RDONLY),
        "subprocess": lambda: subprocess.run(["true"]),
        "os.system": lambda: os.system("true"),
        "kill the parent": lambda: os.kill(os.getppid(), 0),
        "raise the memory limit": lambda: __import__("resource").setrlimit(__import__("resource").RLIMIT_AS, (-1, -1)),
        "allocate 2 GiB": lambda: bytearray(2 << 30),
    }
    out = {}
    for name, attempt in tries.items():
        try:
            attempt()
            out[name] = "ok"
        except BaseException as e:
            out[name] = f"{type(e).__name__}: {e}"
    print(json.dumps(out))
""")


def test_the_sandbox_guard_confines_changes_to_the_folder(tmp_path):
    work, outside = tmp_path / "work", tmp_path / "outside"
    work.mkdir()
    outside.mkdir()
    (outside / "keep.txt").write_text("keep")
    done = subprocess.run([sys.executable, "-c", GUARDED, str(work), str(outside)], capture_output=True, text=True,
                          timeout=60)
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    allowed = {"write inside", "make a folder inside", "write /dev/null", "read outside"}
    assert all(result[name] == "ok" for name in allowed), result
    assert result["allocate 2 GiB"].startswith("MemoryError")
    for name in set(result) - allowed - {"allocate 2 GiB"}:
        assert result[name].startswith("PermissionError: d2lite grader refused"), (name, result[name])
    assert (outside / "keep.txt").read_text() == "keep" and sorted(p.name for p in outside.iterdir()) == ["keep.txt"]


def test_score_table_formats():
    results = [get_exercise("1.1"), get_exercise("1.2")]
    table = rows([], results)
    assert table[0][:5] == ("1.1", "Dense layer: forward", 0.0, 2, "not checked")
    assert render(table, "markdown").splitlines()[-1] == "| | **total** | **0/5** | | |"
    assert "<tfoot>" in render(table, "html") and "<b>not checked</b>" in render(table, "html")


def test_only_check_calls_are_skipped():
    assert _only_checks('check("1.1", f)\ncheck("1.2", a, b, c)')
    assert not _only_checks('def f(x):\n    return x\ncheck("1.1", f)')
    assert not _only_checks("check(")
    assert not _only_checks("")


def test_reading_a_notebook(tmp_path):
    path = write(solutions(), tmp_path / "nb.ipynb")
    sources = _read(path)
    assert sources[1].startswith("def linear_forward") and all(isinstance(s, str) for s in sources)
    for text, words in [("", "empty"), ("{", "not valid JSON"), ('{"nbformat": 3, "cells": []}', "nbformat 3"),
                        ("[1]", "no list of cells"), ('{"nbformat": 4, "cells": [{"cell_type": "code", "source": 1}]}',
                                                      "not text")]:
        path.write_text(text)
        with pytest.raises(ValueError, match=words):
            _read(path)


def test_telling_the_chapter():
    checks = ['check("1.1", f)']
    assert resolve_chapter(f"x/{CHAPTER}.ipynb", checks) == (CHAPTER, "")
    assert resolve_chapter("x/alice.ipynb", checks) == (CHAPTER, "")
    assert resolve_chapter("x/alice.ipynb", [])[1].startswith("cannot tell which chapter")
    assert resolve_chapter("x/alice.ipynb", [], "99_nothing")[1].startswith("there is no chapter '99_nothing'")
    chapter, problem = resolve_chapter(f"x/{CHAPTER}.ipynb", ['check("3.2", f)'])
    assert chapter == CHAPTER and problem.startswith("wrong notebook: it checks exercises 3.2")


def test_finding_a_class(tmp_path, monkeypatch):
    for path in [f"subs/alice/{CHAPTER}.ipynb", f"subs/bob/{CHAPTER}.ipynb", "subs/bob/.ipynb_checkpoints/x.ipynb",
                 "flat/carol.ipynb", "flat/dave.ipynb"]:
        (tmp_path / path).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / path).write_text("{}")
    monkeypatch.chdir(tmp_path)
    assert [s for s, _ in find_submissions("subs")] == ["alice", "bob"]
    assert [s for s, _ in find_submissions(f"subs/*/{CHAPTER}.ipynb")] == ["alice", "bob"]
    assert [s for s, _ in find_submissions(str(tmp_path / "flat" / "*.ipynb"))] == ["carol", "dave"]


# ---- feedback that points at the real problem ----------------------------------------------------

def test_the_message_points_at_an_entry_that_fails_the_tolerance():
    # entry 0 differs by 0.5 but is within rtol·1e6; entry 1 differs by only 1e-4 and fails
    message = mismatch(np.array([1e6 + 0.5, 1.0 + 1e-4]), np.array([1e6, 1.0]))
    assert message.startswith("values differ at index (1,): expected 1, got 1.0001 (1 of 2 entries")


@pytest.mark.parametrize("got,expected", [(1.0000001, 1.0), (np.array([2.0, 1 + 3e-9]), np.array([2.0, 1.0]))])
def test_expected_and_got_never_print_alike(got, expected):
    message = mismatch(got, expected, rtol=1e-9, atol=1e-12)
    shown = re.search(r"expected (\S+), got (\S+)", message)
    assert shown and shown.group(1) != shown.group(2), message


def test_integer_results_are_checked_for_type():
    assert "returned a float (3.0); expected an integer such as 3" in mismatch(3.0, 3)
    assert "expected an integer" in mismatch(np.float64(3.0), 3)
    assert mismatch(np.int64(3), 3) is None and mismatch(3, 3) is None


def test_nan_where_a_known_mistake_gives_nan_counts_as_the_same_output():
    assert mismatch(np.array([np.nan, 1.0]), np.array([np.nan, 1.0])) is None
    assert "NaN or infinite" in mismatch(np.array([np.nan, 1.0]), np.array([0.5, 1.0]))


def test_a_failure_is_not_given_a_hint_about_something_else():
    def no_bias_when_square(x, W, b):  # fails only on the square case, and not by transposing
        return x @ W if W.shape[0] == W.shape[1] else x @ W + b

    with pytest.raises(ExerciseFailed) as info:
        check("1.1", no_bias_when_square, quiet=True)
    message = str(info.value)
    assert "square weights" in message and "transpose" not in message.lower(), message


def test_an_overflow_on_the_way_to_right_values_is_named_through_the_wire():
    """The sigmoid written with np.where: the kernel's half runs it, the grader's half names the mistake."""
    part = get_exercise("1.2").parts[1]

    def sigmoid(x):
        return np.where(x >= 0, 1 / (1 + np.exp(-x)), np.exp(x) / (1 + np.exp(x)))

    answer = _ask(part, {"sigmoid": sigmoid})
    verdicts = []
    for case, item in zip(part.cases(), answer["attempts"]):
        attempt = Attempt(wire.decode(item["got"]), "", [wire.decode(x) for x in item["inputs"]])
        verdicts.append(judge(part, case, attempt, expected_output(part, case)))
    bad = [v for v in verdicts if not v.passed]
    assert [v.name for v in bad] == ["extreme inputs ±1000"]
    assert "the values are right, but computing them overflowed" in bad[0].message
    assert "NumPy computes both A and B for every entry" in bad[0].message


CHECK_CELLS = ["from d2lite.grading import check\nimport numpy as np",
               "check('1.1', lambda x, W, b: x @ W + b)",
               "check('1.1', lambda x, W, b: x @ W)"]


def test_a_check_in_a_notebook_shows_one_report_and_a_one_line_error():
    import nbformat
    from nbclient import NotebookClient

    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(c) for c in CHECK_CELLS])
    NotebookClient(nb, timeout=120, allow_errors=True, kernel_name="python3").execute()
    passing, failing = nb.cells[1].outputs, nb.cells[2].outputs
    assert [o.output_type for o in passing] == ["display_data"]  # no echo of the result under the report
    assert "PASS, 2/2 points" in passing[0].data["text/plain"]
    assert [o.output_type for o in failing] == ["display_data", "error"]
    assert "Hint: the bias b is missing" in failing[0].data["text/plain"]
    error = failing[1]
    assert "the bias b is missing" in error.evalue  # pytest --nbval-lax and scripts still get the whole message
    assert error.traceback == ["ExerciseFailed: Exercise 1.1 does not pass yet: see the report above."]


# ---- every bank's cases vary what a wrong implementation could ignore ------------------------------

def _graded_parts():
    from d2lite.grading.exercise import chapters, exercises_of

    return [pytest.param(p, id=f"{e.id}-{p.func}") for c in chapters() for e in exercises_of(c)
            for p in e.parts if p.reference is not None]


@pytest.mark.parametrize("part", _graded_parts())
def test_cases_vary_every_argument_and_repeat_shapes_with_other_values(part):
    cases = [c.args for c in part.cases()]
    for i in range(len(cases[0])):
        scalars = [a[i] for a in cases if isinstance(a[i], (int, float)) and not isinstance(a[i], bool)]
        if len(scalars) == len(cases):  # a number in every case (lr, eps, stride, ...) must not be the same in all
            assert len(set(scalars)) > 1, f"argument {i} is {scalars[0]} in every case"
    shapes = [tuple(np.shape(a) for a in args if isinstance(a, np.ndarray)) for args in cases]
    if any(shapes):
        repeats = [(i, j) for i in range(len(cases)) for j in range(i) if shapes[i] == shapes[j]]
        assert any(not all(np.array_equal(a, b) for a, b in zip(cases[i], cases[j]) if isinstance(a, np.ndarray))
                   for i, j in repeats), "no two cases share their shapes with other values"
    grids = [np.shape(a)[-2:] for args in cases for a in args if isinstance(a, np.ndarray) and np.ndim(a) >= 2]
    if grids:
        assert any(h != w for h, w in grids), "every matrix, image or kernel is square"
