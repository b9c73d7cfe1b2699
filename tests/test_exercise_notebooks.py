"""exercises/ is generated from solutions/, and every shipped check fails cleanly with 'not implemented'."""
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

from d2lite.grading import exercises_of
from d2lite.grading.notebooks import STUB, strip_solutions, sync_exercises

ROOT = Path(__file__).resolve().parents[1]
CHAPTERS = sorted(p.stem for p in (ROOT / "solutions").glob("*.ipynb"))


def test_exercises_are_up_to_date_with_solutions():
    stale = sync_exercises(ROOT / "solutions", ROOT / "exercises", check=True)
    assert not stale, f"run `d2lite exercises` (or `make exercises`): out of date: {stale}"


def test_strip_solutions_keeps_indentation_and_surroundings():
    src = "def f(x):\n    y = 1\n    ### BEGIN SOLUTION\n    return x + y\n    ### END SOLUTION\n\nprint(f)"
    assert strip_solutions(src) == f"def f(x):\n    y = 1\n    {STUB}\n\nprint(f)"


def test_strip_solutions_refuses_unbalanced_markers():
    with pytest.raises(ValueError, match="unbalanced"):
        strip_solutions("### BEGIN SOLUTION\nx = 1\n")


def test_sync_writes_a_stale_exercise(tmp_path):
    sol, ex = tmp_path / "solutions", tmp_path / "exercises"
    sol.mkdir()
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("### BEGIN SOLUTION\nx = 1\n### END SOLUTION")])
    nbformat.write(nb, sol / "a.ipynb")
    assert sync_exercises(sol, ex, check=True) == [ex / "a.ipynb"] and not ex.exists()
    assert sync_exercises(sol, ex) == [ex / "a.ipynb"]
    assert nbformat.read(ex / "a.ipynb", as_version=4).cells[0].source == STUB
    assert sync_exercises(sol, ex, check=True) == []


@pytest.mark.parametrize("chapter", CHAPTERS)
def test_shipped_exercises_fail_every_check_cleanly(chapter):
    nb = nbformat.read(ROOT / "exercises" / f"{chapter}.ipynb", as_version=4)
    assert all(not c.get("outputs") for c in nb.cells if c.cell_type == "code"), "exercises/ ships without outputs"
    NotebookClient(nb, timeout=120, allow_errors=True, kernel_name="python3",
                   resources={"metadata": {"path": str(ROOT / "exercises")}}).execute()
    checked = {}
    for cell in nb.cells:
        if cell.cell_type != "code" or not cell.source.lstrip().startswith("check("):
            continue
        errors = [o for o in cell.outputs if o.output_type == "error"]
        assert errors and errors[0].ename == "ExerciseFailed", (cell.source, cell.outputs)
        assert "not implemented yet" in errors[0].evalue, errors[0].evalue
        checked[cell.source.split('"')[1]] = True
    assert sorted(checked) == sorted(e.id for e in exercises_of(chapter))
