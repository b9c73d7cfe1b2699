"""The regrade cache: an unchanged notebook is not graded again; a changed notebook, seed or chapter's bank is;
--force ignores it; entries are written atomically and a corrupt one is ignored with a warning."""
import json

import pytest

import d2lite.grading.cache as cache_module
import d2lite.grading.gradebook as gradebook
from class_corpus import CHAPTER, right, submission
from d2lite.grading.cache import GradeCache
from d2lite.grading.submission import Limits, Submission


@pytest.fixture()
def counted(monkeypatch, tmp_path):
    """grade_notebook replaced by an in-process grading that counts its calls."""
    calls = []

    def fake(path, chapter=None, limits=None, seed=None):
        calls.append((str(path), seed))
        sub = submission(right(), path)
        for e in sub.exercises:
            e.seed = seed
        return sub

    monkeypatch.setattr(gradebook, "grade_notebook", fake)
    pairs = []
    for n in range(3):
        path = tmp_path / "subs" / f"s{n}" / f"{CHAPTER}.ipynb"
        path.parent.mkdir(parents=True)
        path.write_text(json.dumps({"cells": [], "n": n}))
        pairs.append((f"s{n}", path))
    return calls, pairs


def test_an_unchanged_class_is_not_graded_again(counted, tmp_path):
    calls, pairs = counted
    cache = GradeCache(tmp_path / "cache")
    first = gradebook.grade_all(pairs, progress=False, cache=cache)
    assert len(calls) == 3 and cache.misses == 3
    again = GradeCache(tmp_path / "cache")
    second = gradebook.grade_all(pairs, progress=False, cache=again)
    assert len(calls) == 3 and again.hits == 3
    assert [s.to_dict() for _, s in first] == [s.to_dict() for _, s in second]
    assert not list((tmp_path / "cache").rglob(".*.tmp"))  # no half-written entry left behind


def test_what_changed_is_graded_again(counted, tmp_path, monkeypatch):
    calls, pairs = counted
    gradebook.grade_all(pairs, progress=False, cache=GradeCache(tmp_path / "cache"))
    pairs[1][1].write_text(json.dumps({"cells": [], "n": "edited"}))
    gradebook.grade_all(pairs, progress=False, cache=GradeCache(tmp_path / "cache"), seeds={"s2": 7})
    assert [c[0] for c in calls[3:]] == [str(pairs[1][1]), str(pairs[2][1])] and calls[-1][1] == 7
    real = cache_module.bank_hash
    monkeypatch.setattr(cache_module, "bank_hash", lambda chapter=None: "x" + real(chapter))  # the bank changed
    gradebook.grade_all(pairs, progress=False, cache=GradeCache(tmp_path / "cache"), seeds={"s2": 7})
    assert len(calls) == 8
    gradebook.grade_all(pairs, progress=False, cache=GradeCache(tmp_path / "cache", read=False), seeds={"s2": 7})
    assert len(calls) == 11  # --force


def test_a_cached_result_keeps_the_student_path(counted, tmp_path):
    calls, pairs = counted
    twin = tmp_path / "subs" / "twin" / f"{CHAPTER}.ipynb"
    twin.parent.mkdir()
    twin.write_bytes(pairs[0][1].read_bytes())
    graded = gradebook.grade_all(pairs[:1] + [("twin", twin)], jobs=1, progress=False,
                                 cache=GradeCache(tmp_path / "cache"))
    assert len(calls) in (1, 2) and graded[1][1].path == str(twin)


def test_a_corrupt_entry_is_ignored_with_a_warning(counted, tmp_path):
    calls, pairs = counted
    cache = GradeCache(tmp_path / "cache")
    key = cache.key(pairs[0][1], None, Limits(), None)
    cache.put(key, submission(right(), pairs[0][1]))
    next((tmp_path / "cache").rglob(f"{key}.json")).write_text('{"bank": "')
    with pytest.warns(UserWarning, match="ignored an unreadable cache entry .* grading again"):
        assert cache.get(key) is None
    with pytest.warns(UserWarning, match="unreadable cache entry"):
        gradebook.grade_all(pairs[:1], progress=False, cache=cache)
    assert len(calls) == 1 and cache.get(key) is not None  # graded again, and the entry replaced


def test_grader_failures_are_not_cached(tmp_path):
    cache = GradeCache(tmp_path / "cache")
    path = tmp_path / "nb.ipynb"
    path.write_text("{}")
    key = cache.key(path, None, Limits(), None)
    cache.put(key, Submission(str(path), problems=["the kernel did not start: no ports"]))
    assert cache.get(key) is None


def test_a_submission_survives_the_round_trip(tmp_path):
    sub = submission(dict(right(), relu=abs), tmp_path / "nb.ipynb")
    back = Submission.from_dict(json.loads(json.dumps(sub.to_dict())))
    assert back.to_dict() == sub.to_dict() and back.exercises[1].status == sub.exercises[1].status


def test_a_missing_notebook_is_reported_not_a_grader_error(tmp_path):
    graded = gradebook.grade_all([("gone", tmp_path / "gone.ipynb")], progress=False, cache=GradeCache(tmp_path / "c"))
    assert graded[0][1].problems[0].startswith("not a readable notebook"), graded[0][1].problems


def test_a_write_that_fails_leaves_the_old_file_whole(tmp_path, monkeypatch):
    path = tmp_path / "gradebook.csv"
    gradebook.write_atomic(path, "old")
    monkeypatch.setattr(gradebook.os, "replace", lambda *a: (_ for _ in ()).throw(OSError("disk full")))
    with pytest.raises(OSError, match="disk full"):
        gradebook.write_atomic(path, "new")
    assert path.read_text() == "old" and [p.name for p in tmp_path.iterdir()] == ["gradebook.csv"]
