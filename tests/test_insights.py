"""Class insights on a synthetic class whose mistakes are planted in advance: the report must find them."""
import dataclasses

import numpy as np

from class_corpus import CHAPTER, klass, right, submission
from d2lite.grading import get_exercise, grade_exercise
from d2lite.grading.insights import class_insights, summary_lines, write_insights
from d2lite.grading.submission import Submission

TRANSPOSED_HINT = get_exercise("1.1").parts[0].mistakes[1].hint
BIAS_HINT = get_exercise("1.1").parts[0].mistakes[0].hint
ABS_HINT = get_exercise("1.2").parts[0].mistakes[1].hint


def _slow_class(tmp_path):
    """Two more students: one whose ReLU never returns (a 0.2 s limit), one with nothing implemented."""
    exercise = get_exercise("1.2")
    quick = dataclasses.replace(exercise, parts=[dataclasses.replace(p, timeout=0.2) for p in exercise.parts])

    def forever(x):
        while True:
            pass

    def todo(*args):
        raise NotImplementedError

    looping = grade_exercise(quick, dict(right(), relu=forever))
    lazy = [grade_exercise(get_exercise(i), {"linear_forward": todo, "relu": todo, "sigmoid": todo, "tanh": todo})
            for i in ("1.1", "1.2")]
    ok = grade_exercise(get_exercise("1.1"), right())
    return [("loop", Submission(str(tmp_path / "loop.ipynb"), CHAPTER, [ok, looping])),
            ("lazy", Submission(str(tmp_path / "lazy.ipynb"), CHAPTER, lazy))]


def test_the_planted_mistakes_are_found(tmp_path):
    insights = {i.id: i for i in class_insights(klass(tmp_path))}
    first, second = insights["1.1"], insights["1.2"]
    assert (first.students, first.passed, first.pass_rate) == (10, 4, 0.4)
    assert dict(first.mistakes) == {TRANSPOSED_HINT: 4, BIAS_HINT: 2}
    assert dict(second.mistakes) == {ABS_HINT: 3} and second.passed == 7
    assert dict(first.points_earned) == {0.0: 6, 2.0: 4}
    lines = summary_lines(list(insights.values()))
    assert lines[0] == f"40% of the class (4/10) in 1.1: {TRANSPOSED_HINT}"
    assert lines[1:] == [f"30% of the class (3/10) in 1.2: {ABS_HINT}", f"20% of the class (2/10) in 1.1: {BIAS_HINT}"]
    assert first.failing_cases.most_common(1)[0][1] == 6  # every wrong 1.1 fails its first case


def test_timeouts_and_unstarted_work_are_counted(tmp_path):
    insights = {i.id: i for i in class_insights(_slow_class(tmp_path))}
    assert (insights["1.2"].timeouts, insights["1.2"].not_started, insights["1.2"].passed) == (1, 1, 0)
    assert (insights["1.1"].not_started, insights["1.1"].passed) == (1, 1)
    assert not insights["1.2"].failing_cases  # neither a timeout nor "not implemented" is a failing case


def test_the_page_has_plots_and_the_findings(tmp_path):
    write_insights(klass(tmp_path / "class"), tmp_path / "out")
    md = (tmp_path / "out" / "insights.md").read_text()
    page = (tmp_path / "out" / "insights.html").read_text()
    assert f"- 40% of the class (4/10) in 1.1: {TRANSPOSED_HINT}" in md and "![pass rate" in md
    assert "| passed | 4 (40%) |" in md
    assert "data:image/png;base64," in page and "40% of the class (4/10) in 1.1" in page
    assert (tmp_path / "out" / "insights.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_a_class_that_got_everything_right_has_no_findings(tmp_path):
    graded = [(f"s{n}", submission(right(), tmp_path / f"s{n}.ipynb")) for n in range(3)]
    insights = class_insights(graded)
    assert [i.pass_rate for i in insights] == [1.0, 1.0] and summary_lines(insights) == []
    assert np.isclose(sum(insights[0].points_earned.values()), 3)
