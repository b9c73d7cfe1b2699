"""Make exercises/ from solutions/: each solution region becomes a stub, outputs are cleared.

In a solutions notebook the reader's part of a code cell sits between the lines
`### BEGIN SOLUTION` and `### END SOLUTION`; the exercise notebook has, in its
place, one line that raises NotImplementedError, at the same indentation.
"""
import re
from pathlib import Path

import nbformat

BEGIN, END = "### BEGIN SOLUTION", "### END SOLUTION"
STUB = 'raise NotImplementedError("Exercise: replace this line with your code")'
_REGION = re.compile(rf"^([ \t]*){re.escape(BEGIN)}[^\n]*\n.*?^[ \t]*{re.escape(END)}[^\n]*$",
                     re.DOTALL | re.MULTILINE)


def strip_solutions(source):
    """The cell source with every solution region replaced by the stub."""
    if source.count(BEGIN) != source.count(END):
        raise ValueError(f"unbalanced {BEGIN} / {END} markers in cell:\n{source[:200]}")
    return _REGION.sub(lambda m: f"{m.group(1)}{STUB}", source)


def make_exercise(solution_nb):
    """A new notebook: solutions stubbed out, outputs and execution counts cleared."""
    nb = nbformat.from_dict(solution_nb)
    for cell in nb.cells:
        if cell.cell_type == "code":
            cell.source = strip_solutions(cell.source)
            cell.outputs = []
            cell.execution_count = None
        cell.get("metadata", {}).pop("execution", None)
    return nb


def exercise_text(solution_path):
    """The exact text of the exercise notebook made from `solution_path`."""
    nb = nbformat.read(str(solution_path), as_version=4)
    return nbformat.writes(make_exercise(nb)) + "\n"


def sync_exercises(solutions_dir, exercises_dir, check=False):
    """Write (or with check=True, only compare) exercises/X.ipynb for every solutions/X.ipynb.

    Returns the list of exercise paths that were out of date.
    """
    stale = []
    exercises_dir = Path(exercises_dir)
    for src in sorted(Path(solutions_dir).glob("*.ipynb")):
        dst = exercises_dir / src.name
        text = exercise_text(src)
        if not dst.exists() or dst.read_text() != text:
            stale.append(dst)
            if not check:
                exercises_dir.mkdir(parents=True, exist_ok=True)
                dst.write_text(text)
    return stale
