"""Grade a reader's functions against an Exercise: run every case, collect results and feedback."""
import copy
import inspect
from dataclasses import dataclass, field

import numpy as np

from d2lite.grading.compare import mismatch
from d2lite.grading.limits import run_limited

NOT_IMPLEMENTED = "not implemented yet"


@dataclass
class CaseResult:
    name: str
    passed: bool
    message: str = ""


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
        return next((c for c in self.cases if not c.passed), None)


@dataclass
class ExerciseResult:
    id: str
    title: str
    parts: list

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
    def feedback(self):
        """The first thing to fix, in one line (empty when everything passed)."""
        for p in self.parts:
            bad = p.first_failure
            if bad is not None:
                return f"{p.func}: {bad.message}" if bad.name == "" else f"{p.func}, {bad.name}: {bad.message}"
        return ""


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


def _diagnose(part, args, got):
    """The hint of the first known mistake whose output the reader's output matches."""
    for m in part.mistakes:
        with np.errstate(all="ignore"):  # a mistake may overflow: that is often the point of it
            out, err = run_limited(lambda: part.driver(m.fn, *copy.deepcopy(args)), part.timeout)
        if err is None and mismatch(got, out, part.rtol, part.atol) is None:
            return m.hint
    return ""


def grade_part(part, fn):
    result = PartResult(part.func, part.points)
    if fn is None:
        result.cases.append(CaseResult("", False, f"`{part.func}` is not defined: run the cell that defines it."))
        return result
    if not callable(fn):
        result.cases.append(CaseResult("", False, f"`{part.func}` is a {type(fn).__name__}, not a function."))
        return result
    for case in part.cases():
        expected = part.driver(part.reference, *copy.deepcopy(case.args))
        args = copy.deepcopy(case.args)
        snapshot = copy.deepcopy(args)
        got, error = run_limited(lambda: part.driver(fn, *args), part.timeout, part.strict_float)
        if error is not None:
            result.cases.append(CaseResult(case.name, False, error))
            if error.startswith(NOT_IMPLEMENTED) or error.startswith("did not finish"):
                break  # the other cases would say the same, slowly
            continue
        names = _arg_names(part.reference, len(args))
        changed = [names[i] for i, (a, b) in enumerate(zip(snapshot, args))
                   if i not in part.mutates and _changed(a, b)]
        if changed:
            result.cases.append(CaseResult(case.name, False,
                                           f"changed its input `{changed[0]}` in place (an in-place operation "
                                           "such as `x -= ...`, `x[...] = ...` or `out = x` followed by edits); "
                                           "work on a copy and leave the inputs as they were."))
            continue
        if part.judge is not None:
            problem = part.judge(got, expected)
        else:
            problem = mismatch(got, expected, part.rtol, part.atol, part.output_names)
        if problem:
            hint = _diagnose(part, case.args, got) or case.hint
            result.cases.append(CaseResult(case.name, False, f"{problem} Hint: {hint}" if hint else problem))
        else:
            result.cases.append(CaseResult(case.name, True))
    return result


def grade_exercise(exercise, funcs):
    """Grade `funcs` (a dict from function name to the reader's object) on every part of `exercise`."""
    parts = [grade_part(part, funcs.get(part.func)) for part in exercise.parts]
    return ExerciseResult(exercise.id, exercise.title, parts)
