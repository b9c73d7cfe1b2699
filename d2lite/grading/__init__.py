"""Graded exercises: `check("1.1", my_function)` grades the reader's code against the library.

`scoreboard()` shows the chapter's score table from the checks run so far in the kernel;
`d2lite grade` and `d2lite gradebook` grade whole notebooks (see d2lite.grading.submission).

A check never trusts the reader's code: every call runs with a time limit, on
copies of the inputs, and any exception, wrong type, NaN or wrong shape becomes
a message. In a notebook it shows a compact report and raises `ExerciseFailed`
when something does not pass.
"""
from d2lite.grading.exercise import Case, Exercise, Mistake, Part, exercises_of, get_exercise
from d2lite.grading.report import ExerciseFailed, report_text, show
from d2lite.grading.runner import ExerciseResult, grade_exercise
from d2lite.grading.scoreboard import record, scoreboard

__all__ = ["check", "scoreboard", "Case", "Exercise", "Mistake", "Part", "ExerciseFailed", "ExerciseResult",
           "exercises_of", "get_exercise", "grade_exercise", "report_text", "show"]


def check(exercise_id, *funcs, quiet=False):
    """Grade the reader's functions for one exercise, in the order the exercise lists them.

    Shows the report (unless `quiet`) and raises ExerciseFailed when a part fails.
    When every part passes it returns the ExerciseResult, except where the report
    was just displayed in a notebook: there it returns None, so that the cell shows
    one report and no echo of the result under it.
    """
    exercise = get_exercise(exercise_id)
    if len(funcs) != len(exercise.parts):
        names = ", ".join(p.func for p in exercise.parts)
        raise ExerciseFailed(f"Exercise {exercise.id} checks {len(exercise.parts)} function(s) ({names}); "
                             f"{len(funcs)} were given. Call check({exercise.id!r}, {names}).")
    result = grade_exercise(exercise, {p.func: f for p, f in zip(exercise.parts, funcs)})
    record(result)
    shown = not quiet and show(result)
    if not result.passed:
        raise ExerciseFailed(f"Exercise {result.id} ({result.title}): "
                             f"{result.earned:g}/{result.points:g} points. {result.feedback}", shown=shown)
    return None if shown else result
