"""A small class through `d2lite gradebook` with a course file: variants, late penalty, every export, insights,
similarity, then a regrade from the cache; and one student's grade reproduced with `d2lite grade`."""
import csv
import json
import os

import pytest

from d2lite import cli
from d2lite.grading.isolation import unavailable
from d2lite.grading import get_exercise
from d2lite.grading.runner import attempts, judge_all
from d2lite.grading.variants import student_seed, variant_cases
from grading_corpus import CHAPTER, replace, solutions, stubs, write
from test_exports import _valid_gradescope

SECRET = "a course secret"
TRANSPOSED = "def linear_forward(x, W, b):\n    return x @ W.T + b\n"


def _gradebook(root, *extra):
    return cli.main(["gradebook", str(root / "subs"), "--out", str(root / "out"), "--course", str(root / "course.toml"),
                     "--jobs", "2", "--quiet", "--timeout", "120", *extra]
                    + ([] if not unavailable() else ["--no-sandbox"]))


def _students(root):
    book = json.loads((root / "out" / "gradebook.json").read_text())
    return {s["student"]: s for s in book["students"]}


def _without_seconds(students):
    return {name: [dict(sub, seconds=None) for sub in s["submissions"]] for name, s in students.items()}


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    root = tmp_path_factory.mktemp("course")
    write(solutions(), root / "subs" / "ann" / f"{CHAPTER}.ipynb")
    write(replace(solutions(), "def linear_forward", TRANSPOSED), root / "subs" / "bob" / f"{CHAPTER}.ipynb")
    write(stubs(), root / "subs" / "cy" / f"{CHAPTER}.ipynb")
    os.utime(root / "subs" / "bob" / f"{CHAPTER}.ipynb", (1772409600,) * 2)  # 2026-03-02 00:00 UTC: 1 day late
    (root / "course.toml").write_text(f'name = "test"\nsecret = "{SECRET}"\n[late]\npercent_per_day = 10\n'
                                      f"[chapters.{CHAPTER}]\ndue = 2026-03-01T00:00:00Z\n")
    for student in ("ann", "cy"):
        os.utime(root / "subs" / student / f"{CHAPTER}.ipynb", (1772236800,) * 2)  # 2026-02-28: early
    assert _gradebook(root, "--format", "csv,json,gradescope,canvas", "--insights", "--similarity") == 0
    return root


def test_each_student_is_graded_on_their_own_variant(graded):
    students = _students(graded)
    for name in ("ann", "bob", "cy"):
        seeds = {e["seed"] for sub in students[name]["submissions"] for e in sub["exercises"]}
        assert seeds == {student_seed(SECRET, name)}
    assert students["ann"]["earned"] == 19  # a right solution passes its hidden variant
    first = students["bob"]["submissions"][0]["exercises"][0]
    assert first["earned"] == 0 and "W transposed" in first["feedback"]
    # bob's messages quote values of his own variant's cases, not of the public ones
    part, transposed = get_exercise("1.1").parts[0], lambda x, W, b: x @ W.T + b
    messages = [c["message"] for c in first["parts"][0]["cases"]]
    for seed, same in ((student_seed(SECRET, "bob"), True), (None, False)):
        cases = variant_cases(part, seed)
        here = judge_all(part, cases, attempts(part, transposed, [c.args for c in cases]))
        assert ([c.message for c in here.cases] == messages) is same
    assert students["bob"]["earned"] == 17 and students["bob"]["after_penalty"] == pytest.approx(17 * 0.9)


def test_the_exports_and_reports(graded):
    out = graded / "out"
    for path in (out / "gradescope").glob("*.json"):
        _valid_gradescope(json.loads(path.read_text()))
    assert json.loads((out / "gradescope" / "bob.json").read_text())["score"] == pytest.approx(15.3)
    rows = list(csv.reader(open(out / "canvas.csv")))
    assert rows[1][-1] == "19" and [r[-1] for r in rows[2:]] == ["19", "15.3", "0"]
    assert "1 day(s) late, penalty 10%" in (out / "feedback" / "bob.md").read_text()
    assert "33% of the class (1/3) in 1.1: you multiplied by W transposed" in (out / "insights.md").read_text()
    table = (out / "similarity.md").read_text().split("|---|---|---|---|---|\n")[1].splitlines()
    assert all("| ann | bob |" in line for line in table[:6]) and "| cy |" not in "".join(table)  # stubs: starter


def test_a_regrade_of_the_unchanged_class_comes_from_the_cache(graded, capsys):
    before = _without_seconds(_students(graded))
    assert _gradebook(graded) == 0
    assert "3 from the cache" in capsys.readouterr().out
    assert _without_seconds(_students(graded)) == before


def test_one_grade_reproduces_exactly_with_grade(graded, tmp_path, capsys):
    bob = _students(graded)["bob"]["submissions"][0]
    status = cli.main(["grade", "--json", str(graded / "subs" / "bob" / f"{CHAPTER}.ipynb"), "--course",
                       str(graded / "course.toml"), "--student", "bob", "--gradescope", str(tmp_path / "results.json"),
                       "--timeout", "120"])
    again = json.loads(capsys.readouterr().out)[0]
    assert status == 1 and again["exercises"] == bob["exercises"]  # every case's message, values included
    results = json.loads((tmp_path / "results.json").read_text())
    _valid_gradescope(results)
    assert results["score"] == pytest.approx(15.3) and "1 day(s) late" in results["output"]
