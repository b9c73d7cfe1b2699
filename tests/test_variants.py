"""Per-student variants: other hidden inputs for each student, the same on every regrade; check() keeps the
public cases; every known mistake is still caught in every variant."""
import numpy as np
import pytest

from d2lite.grading import exercises_of, get_exercise
from d2lite.grading.exercise import chapters
from d2lite.grading.runner import attempts, judge_all
from d2lite.grading.variants import student_seed, variant_cases

CHAPTER = "01_fundamentals"


def _arrays(cases):
    return [[np.asarray(a) for a in case.args] for case in cases]


def _same(a, b):
    return all(len(x) == len(y) and all(u.shape == v.shape and np.array_equal(u, v) for u, v in zip(x, y))
               for x, y in zip(a, b)) and len(a) == len(b)


def test_the_seed_is_fixed_by_secret_and_student():
    assert student_seed("secret", "ann") == student_seed("secret", "ann")
    assert len({student_seed("secret", s) for s in ("ann", "bob", "cy", "ann ")}) == 4
    assert student_seed("other", "ann") != student_seed("secret", "ann")
    with pytest.raises(ValueError, match="variants need a course secret"):
        student_seed("", "ann")


def test_a_variant_keeps_names_and_shapes_and_changes_the_values():
    part = get_exercise("1.1").parts[0]
    public, ann, ann_again, bob = (variant_cases(part, s) for s in (None, 1, 1, 2))
    assert [c.name for c in ann] == [c.name for c in public]
    assert [[a.shape for a in args] for args in _arrays(ann)] == [[a.shape for a in args] for args in _arrays(public)]
    assert _same(_arrays(ann), _arrays(ann_again))
    assert not _same(_arrays(ann), _arrays(bob)) and not _same(_arrays(ann), _arrays(public))
    assert np.abs(ann[3].args[0]).max() > 1e5  # "large values (±1e6)" is still large


def test_check_keeps_the_public_cases():
    part = get_exercise("1.1").parts[0]
    before = _arrays(part.cases())
    variant_cases(part, 5)
    assert _same(_arrays(part.cases()), before) and _same(_arrays(variant_cases(part, None)), before)
    assert np.random.default_rng(3).normal() == np.random.Generator(np.random.PCG64(3)).normal()


def test_most_parts_of_chapter_1_vary():
    parts = [p for ex in exercises_of(CHAPTER) for p in ex.parts]
    varying = [p.func for p in parts if not _same(_arrays(variant_cases(p, 1)), _arrays(variant_cases(p, 2)))]
    assert len(varying) >= len(parts) - 2, set(p.func for p in parts) - set(varying)


@pytest.mark.parametrize("chapter, student", [(c, f"student{n}") for n, c in enumerate(chapters())])
def test_every_known_mistake_is_still_caught_in_a_variant(chapter, student):
    seed = student_seed("course", student)
    for ex in exercises_of(chapter):
        for part in ex.parts:
            if part.reference is None:
                continue
            cases = variant_cases(part, seed)
            reference = judge_all(part, cases, attempts(part, part.reference, [c.args for c in cases]))
            assert reference.passed, (ex.id, part.func)
            for mistake in part.mistakes:
                result = judge_all(part, cases, attempts(part, mistake.fn, [c.args for c in cases]))
                assert not result.passed, (ex.id, part.func, mistake.hint)
