"""The course file: due dates, the late-penalty rule, submission times; clear errors for a wrong file."""
from datetime import datetime, timedelta, timezone

import pytest

from d2lite.grading.course import CourseError, load_course

CHAPTERS = ("01_fundamentals", "02_cnns")


def _write(tmp_path, text, name="course.toml"):
    path = tmp_path / name
    path.write_text(text)
    return path


def test_a_full_course_file(tmp_path, monkeypatch):
    monkeypatch.setenv("MY_SECRET", "s3cret")
    _write(tmp_path, "student,chapter,submitted\nann,01_fundamentals,2026-03-03T09:00:00+01:00\nbob,,2026-02-28\n",
           "times.csv")
    path = _write(tmp_path, 'name = "DL 101"\nsecret_env = "MY_SECRET"\ntimes = "times.csv"\n'
                            "[late]\npercent_per_day = 20\nmax_percent = 50\ngrace_minutes = 30\n"
                            "[chapters.01_fundamentals]\ndue = 2026-03-01T23:59:00+01:00\ncanvas_id = 12\n"
                            "[chapters.02_cnns]\ndue = 2026-03-08\n")
    course = load_course(path, CHAPTERS)
    assert (course.name, course.secret, course.canvas_ids) == ("DL 101", "s3cret", {"01_fundamentals": "12"})
    assert course.due["02_cnns"] == datetime(2026, 3, 8, 23, 59, 59, tzinfo=timezone.utc)  # a date: its last second
    ann = course.lateness("ann", "01_fundamentals", tmp_path / "missing.ipynb")  # 1 day 9 h 1 min late
    assert (ann.days, ann.keep) == (2, 0.6)
    bob = course.lateness("bob", "01_fundamentals", tmp_path / "missing.ipynb")  # the "*" row: early
    assert (bob.days, bob.keep) == (0, 1.0) and "on time" in bob.describe()


@pytest.mark.parametrize("late, days, keep", [
    (timedelta(minutes=29), 0, 1.0),              # inside the grace period
    (timedelta(minutes=31), 1, 0.8),              # a started day counts
    (timedelta(days=1, minutes=30), 1, 0.8),      # exactly one day after the grace period
    (timedelta(days=2, minutes=31), 3, 0.5),      # 60% capped at 50%
    (timedelta(days=-3), 0, 1.0),
])
def test_penalty_from_the_file_time(tmp_path, late, days, keep):
    import os

    path = _write(tmp_path, '[late]\npercent_per_day = 20\nmax_percent = 50\ngrace_minutes = 30\n'
                            '[chapters.01_fundamentals]\ndue = 2026-03-01T12:00:00Z\n')
    course = load_course(path, CHAPTERS)
    notebook = tmp_path / "nb.ipynb"
    notebook.write_text("{}")
    stamp = (datetime(2026, 3, 1, 12, tzinfo=timezone.utc) + late).timestamp()
    os.utime(notebook, (stamp, stamp))
    got = course.lateness("x", "01_fundamentals", notebook)
    assert (got.days, got.keep) == (days, keep)
    assert course.lateness("x", "02_cnns", notebook).keep == 1.0  # no due date: no penalty


@pytest.mark.parametrize("text, message", [
    ('secret_env = "NOT_SET_ANYWHERE"\n', "NOT_SET_ANYWHERE, which is not set; export"),
    ('[chapters.09_magic]\ndue = 2026-01-01\n', "there is no chapter '09_magic'"),
    ('[chapters.01_fundamentals]\ndue = "next friday"\n', "'next friday' is not a date; write it as"),
    ('[late]\npercent_per_day = "ten"\n', "late.percent_per_day: 'ten' should be a number"),
    ('[late]\nmax_percent = 150\n', "late.max_percent: 150 should be a number from 0 to 100"),
    ('deadline = 3\n', "unknown setting(s) deadline"),
    ('name = "unclosed\n', "is not valid TOML"),
])
def test_a_wrong_course_file_gets_a_clear_error(tmp_path, text, message, monkeypatch):
    monkeypatch.delenv("NOT_SET_ANYWHERE", raising=False)
    with pytest.raises(CourseError, match=__import__("re").escape(message)):
        load_course(_write(tmp_path, text), CHAPTERS)


def test_a_times_file_without_its_columns(tmp_path):
    _write(tmp_path, "who,when\nann,2026-01-01\n", "times.csv")
    with pytest.raises(CourseError, match="needs the columns student, chapter, submitted; missing student"):
        load_course(_write(tmp_path, 'times = "times.csv"\n'), CHAPTERS)
