"""Shared assertions for the tests that prove a chapter's grader: right answers pass, wrong ones are told why."""
import numpy as np
import pytest

from d2lite.grading import ExerciseFailed, check, get_exercise, grade_exercise


def wrong_params(wrong):
    """pytest parameters (exercise id, functions, expected feedback fragment) from {id: [(funcs, fragment)]}."""
    return pytest.mark.parametrize(
        "exercise_id,funcs,fragment", [(k, f, frag) for k, items in wrong.items() for f, frag in items],
        ids=lambda v: v if isinstance(v, str) else None)


def assert_accepted(exercise_id, funcs):
    result = check(exercise_id, *funcs, quiet=True)
    assert result.passed and result.earned == get_exercise(exercise_id).points


def assert_rejected(exercise_id, funcs, fragment):
    with pytest.raises(ExerciseFailed) as info:
        check(exercise_id, *funcs, quiet=True)
    assert fragment.lower() in str(info.value).lower(), str(info.value)


def cached_by_shape(fn):
    """`fn` that answers once per shape of its arguments and then repeats that answer, as a reader's
    cache keyed by shape would: two cases with the same shapes and other values must catch it."""
    seen = {}

    def cached(*args):
        key = tuple(np.shape(a) for a in args if isinstance(a, np.ndarray))
        if key not in seen:
            seen[key] = fn(*args)
        return seen[key]
    return cached


def assert_a_cache_is_caught(exercise_id, funcs):
    """The right `funcs`, cached by shape, fail the case that repeats an earlier case's shapes."""
    exercise = get_exercise(exercise_id)
    cached = {part.func: cached_by_shape(f) for part, f in zip(exercise.parts, funcs)}
    failed = [c.name for p in grade_exercise(exercise, cached).parts for c in p.cases if not c.passed]
    assert any("with other values" in name for name in failed), failed
