"""Exports an LMS imports (Gradescope's results.json, Canvas's gradebook CSV), with late penalties applied,
checked against their formats on a synthetic class graded in-process."""
import csv
import json
import os
from datetime import datetime, timezone

import pytest

from class_corpus import CHAPTER, klass
from d2lite.grading.course import Course, LateRule
from d2lite.grading.gradebook import write_gradebook

# Gradescope's autograder specification: the keys of results.json and of each test, with their types.
TOP = {"score": (int, float), "execution_time": (int,), "output": (str,), "visibility": (str,),
       "stdout_visibility": (str,), "tests": (list,)}
TEST = {"score": (int, float), "max_score": (int, float), "name": (str,), "number": (str,), "output": (str,),
        "visibility": (str,), "status": (str,)}
VISIBILITY = {"hidden", "after_due_date", "after_published", "visible"}


def _valid_gradescope(results):
    for key, types in TOP.items():
        assert isinstance(results[key], types) and not isinstance(results[key], bool), key
    assert results["visibility"] in VISIBILITY and results["stdout_visibility"] in VISIBILITY
    for test in results["tests"]:
        assert set(test) <= set(TEST) | {"tags", "extra_data"}, set(test) - set(TEST)
        for key, types in TEST.items():
            assert isinstance(test[key], types) and not isinstance(test[key], bool), (key, test)
        assert test["visibility"] in VISIBILITY and test["status"] in {"passed", "failed"}
        assert 0 <= test["score"] <= test["max_score"]


DUE = datetime(2026, 3, 1, 12, 0, tzinfo=timezone.utc)


@pytest.fixture()
def graded(tmp_path):
    graded = klass(tmp_path / "subs")
    for n, (student, sub) in enumerate(graded):  # s01 three days late, s04 within the grace period, others early
        late = {1: 3 * 86400 - 3600, 4: 600}.get(n, -86400)
        os.utime(sub.path, (DUE.timestamp() + late,) * 2)
    return graded


def _course():
    return Course(name="test", due={CHAPTER: DUE}, canvas_ids={CHAPTER: "77"},
                  late=LateRule(percent_per_day=10, max_percent=25, grace_minutes=15),
                  roster={"s02": {"student": "s02", "name": "Ada L", "id": "1002", "sis_user_id": "A2", "section": "B"}})


def test_gradescope_results_follow_the_schema_and_apply_the_penalty(graded, tmp_path):
    written = write_gradebook(graded, tmp_path / "out", formats=["gradescope"], course=_course())
    assert written == [tmp_path / "out" / "gradescope"]
    results = {p.stem: json.loads(p.read_text()) for p in (tmp_path / "out" / "gradescope").glob("*.json")}
    assert sorted(results) == [s for s, _ in graded]
    for r in results.values():
        _valid_gradescope(r)
    right, late = results["s09"], results["s01"]  # s01: transposed W in 1.1, right 1.2 (3 points); 3 days late
    assert [t["number"] for t in right["tests"]] == ["1.1.1", "1.2.1", "1.2.2", "1.2.3"]
    assert right["score"] == 5 and sum(t["max_score"] for t in right["tests"]) == 5
    first = late["tests"][0]
    assert (first["score"], first["max_score"], first["status"]) == (0, 2, "failed")
    assert "W transposed" in first["output"]
    assert late["score"] == pytest.approx(3 * 0.75)  # 3 days at 10% a day, capped at 25%
    assert "3 day(s) late, penalty 25%" in late["output"]
    assert results["s04"]["score"] == 3  # 10 minutes late is inside the 15-minute grace period


def test_canvas_csv_has_the_import_columns_and_points_possible(graded, tmp_path):
    write_gradebook(graded, tmp_path / "out", formats=["canvas"], course=_course())
    rows = list(csv.reader(open(tmp_path / "out" / "canvas.csv")))
    assert rows[0] == ["Student", "ID", "SIS User ID", "Section", f"{CHAPTER} (77)"]
    assert rows[1] == ["Points Possible", "", "", "", "19"]
    by_student = {r[2]: r for r in rows[2:]}  # by SIS User ID: the roster's, else the student id
    assert by_student["A2"] == ["Ada L", "1002", "A2", "B", "3"]
    assert by_student["s09"] == ["s09", "", "s09", "", "5"]
    assert by_student["s01"][-1] == "2.25"
    assert not (tmp_path / "out" / "gradebook.csv").exists()  # only the formats asked for


def test_csv_json_and_feedback_show_lateness(graded, tmp_path):
    write_gradebook(graded, tmp_path / "out", course=_course())
    rows = {r["student"]: r for r in csv.DictReader(open(tmp_path / "out" / "gradebook.csv"))}
    assert (rows["s01"]["total"], rows["s01"]["late days"], rows["s01"]["total after penalty"]) == ("3", "3", "2.25")
    assert (rows["s04"]["late days"], rows["s04"]["total after penalty"]) == ("0", "3")
    book = json.loads((tmp_path / "out" / "gradebook.json").read_text())
    s01 = next(s for s in book["students"] if s["student"] == "s01")
    assert s01["after_penalty"] == 2.25 and s01["lateness"][CHAPTER]["days"] == 3
    feedback = (tmp_path / "out" / "feedback" / "s01.md").read_text()
    assert "Total: **2.25/5** (3 before the late penalty)" in feedback and "3 day(s) late, penalty 25%" in feedback
    assert "on time" in (tmp_path / "out" / "feedback" / "s04.md").read_text()


def test_without_a_course_the_csv_keeps_its_columns(graded, tmp_path):
    write_gradebook(graded, tmp_path / "out")
    header = next(csv.reader(open(tmp_path / "out" / "gradebook.csv")))
    assert header[-3:] == ["total", "possible", "problems"] and "late days" not in header


def test_an_unknown_format_is_refused(graded, tmp_path):
    with pytest.raises(ValueError, match="unknown gradebook format.*moodle.*choose from csv, json, gradescope, canvas"):
        write_gradebook(graded, tmp_path / "out", formats=["csv", "moodle"])
