"""`d2lite grade`: a score table for a learner, JSON for machines, exit status 0 only when all pass;
and `scoreboard()` in a notebook."""
import json
import subprocess
import sys

import pytest

from d2lite import cli
from d2lite.grading.kernel import Kernel
from grading_corpus import CHAPTER, POINTS, ROOT, solutions, write


def test_grade_prints_a_score_table_and_exits_0_when_all_pass():
    # The real solutions notebook, as shipped, through the installed entry point.
    done = subprocess.run([sys.executable, "-m", "d2lite.cli", "grade", str(ROOT / "solutions" / f"{CHAPTER}.ipynb")],
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stdout + done.stderr
    lines = done.stdout.splitlines()
    assert lines[0].endswith(f"({CHAPTER}): {POINTS}/{POINTS} points")
    assert lines[1].split() == ["exercise", "title", "points", "status", "feedback"]
    assert lines[2].split()[:1] + lines[2].split()[-2:] == ["1.1", "2/2", "pass"]
    assert lines[9].split() == ["total", f"{POINTS}/{POINTS}"]


def test_grade_a_folder_as_json(tmp_path, capsys):
    write(solutions(), tmp_path / "a" / f"{CHAPTER}.ipynb")
    (tmp_path / "b").mkdir()
    (tmp_path / "b" / f"{CHAPTER}.ipynb").write_text((ROOT / "exercises" / f"{CHAPTER}.ipynb").read_text())
    status = cli.main(["grade", "--json", "--jobs", "2", "--timeout", "60", str(tmp_path / "a"), str(tmp_path / "b")])
    graded = json.loads(capsys.readouterr().out)
    assert status == 1  # the stubs do not pass
    assert [g["earned"] for g in graded] == [POINTS, 0]
    assert graded[0]["problems"] == [] and graded[0]["seconds"]["grading"] < graded[0]["seconds"]["total"]
    first = graded[1]["exercises"][0]
    assert (first["id"], first["status"], first["earned"], first["points"]) == ("1.1", "todo", 0, 2)
    assert first["feedback"].startswith("linear_forward, a batch of 4 rows, 3 inputs, 2 outputs: not implemented yet")
    assert first["parts"][0]["cases"][0]["passed"] is False


def test_grade_reports_an_unreadable_notebook_without_a_kernel(tmp_path, capsys):
    (tmp_path / f"{CHAPTER}.ipynb").write_text('{"cells": [')
    assert cli.main(["grade", str(tmp_path / f"{CHAPTER}.ipynb")]) == 1
    out = capsys.readouterr().out
    assert "0/19 points" in out and "error" in out and "! not a readable notebook: it is not valid JSON" in out


@pytest.mark.parametrize("command", ["grade", "gradebook", "exercises"])
def test_every_subcommand_has_help(command, capsys):
    with pytest.raises(SystemExit) as exit_:
        cli.main([command, "--help"])
    assert exit_.value.code == 0 and "usage: d2lite " + command in capsys.readouterr().out


def test_scoreboard_in_a_notebook_is_an_html_table_with_a_text_twin():
    with Kernel(memory_mb=4096) as kernel:
        kernel.execute("from d2lite.grading import check, scoreboard\n"
                       "check('1.1', lambda x, W, b: x @ W + b, quiet=True)", timeout=60)
        run = kernel.execute("scoreboard()", timeout=60, keep=lambda data: "text/html" in data)
    assert run.status == "ok" and len(run.displays) == 1
    shown = run.displays[0]
    assert "<table>" in shown["text/html"] and "<b>pass</b>" in shown["text/html"]
    assert shown["text/plain"].startswith(f"Scoreboard · {CHAPTER}\nexercise") and "not checked" in shown["text/plain"]
