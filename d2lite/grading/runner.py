"""Grade a reader's functions against an Exercise: run every case, collect results and feedback.

Grading a case has two halves, kept apart so that they can run in different
processes: `attempts` calls the reader's function on copies of the cases'
arguments (in the reader's kernel), `judge` compares what came back with the
reference's output and looks for a known mistake (in the grader). `check()` in a
notebook runs both halves in one process; the batch grader (d2lite.grading.submission)
runs the first in the submission's kernel and the second in its own process.
"""
import copy
import inspect
from dataclasses import dataclass, field

import numpy as np

from d2lite.grading.compare import mismatch
from d2lite.grading.limits import run_limited

NOT_IMPLEMENTED = "not implemented yet"
NOT_GRADED = "not graded"  # the start of a message for a part the grader could not get an answer for


@dataclass
class CaseResult:
    name: str
    passed: bool
    message: str = ""
    diagnosed: bool = False  # the message names a recognised mistake


@dataclass
class PartResult:
    func: str
    points: float
    cases: list = field(default_factory=list)

    @property
    def passed(self):
        return bool(self.cases) and all(c.passed for c in self.cases)

    @property
    def earned(self):
        return self.points if self.passed else 0.0

    @property
    def first_failure(self):
        """The failing case to show: one whose mistake was recognised, else the first."""
        failures = [c for c in self.cases if not c.passed]
        return next((c for c in failures if c.diagnosed), failures[0] if failures else None)


@dataclass
class ExerciseResult:
    id: str
    title: str
    parts: list
    seed: int | None = None  # the variant seed its cases were built with (None: the public cases)

    def __repr__(self):  # short: a passing check cell shows this under its report
        return f"<Exercise {self.id}: {self.earned:g}/{self.points:g} points, {self.status}>"

    @property
    def points(self):
        return sum(p.points for p in self.parts)

    @property
    def earned(self):
        return sum(p.earned for p in self.parts)

    @property
    def passed(self):
        return all(p.passed for p in self.parts)

    @property
    def status(self):
        """"pass", "partial" (some parts pass), "todo" (not implemented), "error" (not graded) or "fail"."""
        if self.passed:
            return "pass"
        if self.earned > 0:
            return "partial"
        messages = [p.first_failure.message for p in self.parts if not p.passed]
        if any(m.startswith(NOT_GRADED) for m in messages):
            return "error"
        return "todo" if all(m.startswith(NOT_IMPLEMENTED) for m in messages) else "fail"

    @property
    def feedback(self):
        """The first thing to fix, in one line (empty when everything passed)."""
        for p in self.parts:
            bad = p.first_failure
            if bad is not None:
                return f"{p.func}: {bad.message}" if bad.name == "" else f"{p.func}, {bad.name}: {bad.message}"
        return ""


@dataclass
class Attempt:
    """What the reader's function did on one case."""
    got: object = None
    error: str = ""                             # set when it raised, timed out or returned nothing usable
    inputs: list = field(default_factory=list)  # the arguments after the call, to see what it changed in place
    case: int = -1                              # the position of its case in the grader's list


def _changed(before, after):
    if isinstance(before, np.ndarray):
        return not (isinstance(after, np.ndarray) and before.shape == after.shape
                    and np.array_equal(before, after, equal_nan=True))
    return False


def _arg_names(fn, count):
    try:
        names = list(inspect.signature(fn).parameters)
    except (TypeError, ValueError):
        names = []
    return [names[i] if i < len(names) else f"argument {i + 1}" for i in range(count)]


def unusable(part, fn):
    """Why `fn` cannot be graded as `part.func` (missing, not a function), or ""."""
    if fn is None:
        return f"`{part.func}` is not defined: run the cell that defines it."
    if not callable(fn):
        return f"`{part.func}` is a {type(fn).__name__}, not a function."
    return ""


def attempts(part, fn, cases_args):
    """Call the reader's `fn` through the part's driver on a copy of each case's arguments, with a time limit:
    one Attempt per case, in order.

    Once a call fails in a way the remaining cases would repeat (not implemented, too slow), the
    remaining cases get the same error without being called.
    """
    cases_args = tuple(cases_args)  # a tuple: the function may find it on the stack, but cannot shorten it
    results, stop = [], ""
    for index, case_args in enumerate(cases_args):
        if stop:
            results.append(Attempt(error=stop, case=index))
            continue
        args = copy.deepcopy(case_args)
        got, error = run_limited(lambda: part.driver(fn, *args), part.timeout, part.strict_float)
        results.append(Attempt(got, error or "", args, index))
        if error and (error.startswith(NOT_IMPLEMENTED) or error.startswith("did not finish")):
            stop = error
    return results


def one_per_case(cases, tried):
    """"" when `tried` holds exactly one attempt per case, in the cases' order; else why the part scores 0."""
    if [a.case for a in tried] == list(range(len(cases))):
        return ""
    return (f"{NOT_GRADED}: the answer holds {len(tried)} attempts for {len(cases)} cases, or not in their order "
            "(was the grader tampered with?); the part scores 0")


def expected_output(part, case):
    """The reference's output on `case` (the grader's own code: no limits needed); None for a part
    without a reference, whose `judge` needs none."""
    if part.reference is None:
        return None
    return part.driver(part.reference, *copy.deepcopy(case.args))


def mistake_outputs(part, args):
    """(hint, output) for each known mistake run on `args`, computed as they are asked for."""
    for m in part.mistakes:
        with np.errstate(all="ignore"):  # a mistake may overflow: that is often the point of it
            out, err = run_limited(lambda: part.driver(m.fn, *copy.deepcopy(args)), part.timeout)
        if err is None:
            yield m.hint, out


def judge(part, case, attempt, expected, mistakes=None):
    """The verdict on one case: the reader's `attempt` against the `expected` output.

    `mistakes` is an iterable of (hint, output) (default: `mistake_outputs`); the first
    mistake whose output the reader's matches gives the hint.
    """
    if attempt.error:
        return CaseResult(case.name, False, attempt.error)
    names = _arg_names(part.reference, len(case.args))
    after = list(attempt.inputs) + [None] * (len(case.args) - len(attempt.inputs))
    changed = [names[i] for i, before in enumerate(case.args) if i not in part.mutates and _changed(before, after[i])]
    if changed:
        return CaseResult(case.name, False,
                          f"changed its input `{changed[0]}` in place (an in-place operation such as `x -= ...`, "
                          "`x[...] = ...` or `out = x` followed by edits); work on a copy and leave the inputs "
                          "as they were.")
    if part.judge is not None:
        problem = part.judge(attempt.got, expected)
    else:
        problem = mismatch(attempt.got, expected, part.rtol, part.atol, part.output_names)
    if not problem:
        return CaseResult(case.name, True)
    outputs = mistake_outputs(part, case.args) if mistakes is None else mistakes
    recognised = next((h for h, out in outputs if mismatch(attempt.got, out, part.rtol, part.atol) is None), "")
    hint = recognised or case.hint
    return CaseResult(case.name, False, f"{problem} Hint: {hint}" if hint else problem, diagnosed=bool(recognised))


def grade_part(part, fn):
    problem = unusable(part, fn)
    if problem:
        return PartResult(part.func, part.points, [CaseResult("", False, problem)])
    cases = part.cases()
    return judge_all(part, cases, attempts(part, fn, [case.args for case in cases]))


def judge_all(part, cases, tried):
    """The PartResult for `tried`, which must hold exactly one attempt per case, in order."""
    problem = one_per_case(cases, tried)
    if problem:
        return PartResult(part.func, part.points, [CaseResult("", False, problem)])
    return PartResult(part.func, part.points,
                      [judge(part, case, a, expected_output(part, case)) for case, a in zip(cases, tried)])


def grade_exercise(exercise, funcs):
    """Grade `funcs` (a dict from function name to the reader's object) on every part of `exercise`."""
    parts = [grade_part(part, funcs.get(part.func)) for part in exercise.parts]
    return ExerciseResult(exercise.id, exercise.title, parts)
