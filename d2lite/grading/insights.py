"""What a class got wrong: per exercise, the pass rate, the points, the mistakes recognised.

`class_insights(graded)` counts, for each exercise, over the students whose notebook for its
chapter was graded: how many passed, the distribution of points, how many students' code
matched each known mistake (the hints the checks give, turned into teaching feedback: "40% of
the class multiplied by W transposed"), the cases that failed most, and how many timed out or
could not be graded. `write_insights` writes it as insights.md and insights.html with plots.
"""
import base64
import html
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from d2lite.grading.runner import NOT_GRADED, NOT_IMPLEMENTED

_TIMEOUT = "did not finish"
_HINT = " Hint: "


@dataclass
class ExerciseInsight:
    id: str
    title: str
    points: float
    students: int = 0                                  # graded on this exercise
    passed: int = 0
    points_earned: Counter = field(default_factory=Counter)  # points -> students
    mistakes: Counter = field(default_factory=Counter)       # hint -> students whose code matched that mistake
    failing_cases: Counter = field(default_factory=Counter)  # "func: case" -> students failing it
    timeouts: int = 0
    not_graded: int = 0
    not_started: int = 0

    @property
    def pass_rate(self):
        return self.passed / self.students if self.students else 0.0

    def share(self, count):
        return count / self.students if self.students else 0.0


def _hint(message):
    return message.split(_HINT, 1)[1] if _HINT in message else ""


def class_insights(graded):
    """Per exercise (in the order first seen) an ExerciseInsight, from (student, Submission) pairs."""
    found = {}
    for _, sub in graded:
        for result in sub.exercises:
            ins = found.setdefault(result.id, ExerciseInsight(result.id, result.title, result.points))
            ins.students += 1
            ins.passed += result.passed
            ins.points_earned[result.earned] += 1
            status = result.status
            ins.not_graded += status == "error"
            ins.not_started += status == "todo"
            cases = [c for p in result.parts for c in p.cases]
            ins.timeouts += any(c.message.startswith(_TIMEOUT) for c in cases)
            ins.mistakes.update({_hint(c.message) for c in cases if c.diagnosed and _hint(c.message)})
            ins.failing_cases.update({f"{p.func}: {c.name}" for p in result.parts for c in p.cases
                                      if not c.passed and c.name and not c.message.startswith(
                                          (NOT_IMPLEMENTED, NOT_GRADED, _TIMEOUT))})
    return list(found.values())


def _pct(x):
    return f"{100 * x:.0f}%"


def summary_lines(insights, top=3):
    """The findings as sentences, the most common mistakes first."""
    lines = []
    for ins in insights:
        for hint, n in ins.mistakes.most_common(top):
            lines.append((ins.share(n), f"{_pct(ins.share(n))} of the class ({n}/{ins.students}) in {ins.id}: {hint}"))
    return [text for _, text in sorted(lines, key=lambda item: -item[0])]


def _figure(insights):
    """A PNG (bytes): pass rate per exercise beside the share of the class at each fraction of the points."""
    import io

    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, (left, right) = plt.subplots(1, 2, figsize=(11, 3.5))
    ids = [i.id for i in insights]
    left.bar(ids, [100 * i.pass_rate for i in insights], color="#1a7f37")
    left.set(xlabel="exercise", ylabel="students who passed (%)", ylim=(0, 100), title="Pass rate")
    bins = [0, 0.25, 0.5, 0.75, 1.0]
    bottom = [0.0] * len(insights)
    for lo, hi in zip([-1] + bins[:-1], bins):
        share = [100 * sum(n for p, n in i.points_earned.items() if lo < (p / i.points if i.points else 0) <= hi)
                 / max(i.students, 1) for i in insights]
        right.bar(ids, share, bottom=bottom, label=f"over {100 * lo:.0f}%, up to {100 * hi:.0f}%" if hi else "none")
        bottom = [b + s for b, s in zip(bottom, share)]
    right.set(xlabel="exercise", ylabel="students (%)", ylim=(0, 100), title="Points earned")
    right.legend(title="share of the points", fontsize=7, title_fontsize=7, loc="upper left", bbox_to_anchor=(1, 1))
    fig.tight_layout()
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=100)
    plt.close(fig)
    return buffer.getvalue()


def _table(ins, top):
    rows = [("students graded", str(ins.students)), ("passed", f"{ins.passed} ({_pct(ins.pass_rate)})"),
            ("points (points: students)", ", ".join(f"{p:g}: {n}" for p, n in sorted(ins.points_earned.items()))),
            ("not started (todo)", str(ins.not_started)), ("timed out", str(ins.timeouts)),
            ("not graded (crash, kernel died)", str(ins.not_graded))]
    mistakes = [(f"{_pct(ins.share(n))} ({n})", hint) for hint, n in ins.mistakes.most_common(top)]
    cases = [(f"{_pct(ins.share(n))} ({n})", case) for case, n in ins.failing_cases.most_common(top)]
    return rows, mistakes, cases


def insights_markdown(insights, top=5, figure="insights.png"):
    out = ["# Class insights", "", f"![pass rate and points per exercise]({figure})", "", "## Findings", ""]
    out += [f"- {line}" for line in summary_lines(insights)] or ["- no known mistake was recognised"]
    for ins in insights:
        rows, mistakes, cases = _table(ins, top)
        out += ["", f"## {ins.id} {ins.title} ({ins.points:g} points)", "", "| | |", "|---|---|"]
        out += [f"| {k} | {v} |" for k, v in rows]
        if mistakes:
            out += ["", "Known mistakes recognised (share of the class):", ""] + [f"- {s}: {h}" for s, h in mistakes]
        if cases:
            out += ["", "Cases failed most:", ""] + [f"- {s}: {c}" for s, c in cases]
    return "\n".join(out) + "\n"


def insights_html(insights, png, top=5):
    e = html.escape
    out = ["<!DOCTYPE html><meta charset='utf-8'><title>Class insights</title><h1>Class insights</h1>",
           f"<img alt='pass rate and points per exercise' src='data:image/png;base64,{base64.b64encode(png).decode()}'>",
           "<h2>Findings</h2><ul>" + "".join(f"<li>{e(line)}</li>" for line in summary_lines(insights)) + "</ul>"]
    for ins in insights:
        rows, mistakes, cases = _table(ins, top)
        out.append(f"<h2>{e(ins.id)} {e(ins.title)} ({ins.points:g} points)</h2><table>"
                   + "".join(f"<tr><th style='text-align:left'>{e(k)}</th><td>{e(v)}</td></tr>" for k, v in rows)
                   + "</table>")
        if mistakes:
            out.append("<p>Known mistakes recognised:</p><ul>"
                       + "".join(f"<li><b>{e(s)}</b> {e(h)}</li>" for s, h in mistakes) + "</ul>")
        if cases:
            out.append("<p>Cases failed most:</p><ul>"
                       + "".join(f"<li><b>{e(s)}</b> {e(c)}</li>" for s, c in cases) + "</ul>")
    return "\n".join(out) + "\n"


def write_insights(graded, out_dir):
    """Write insights.md, insights.png and insights.html (plots inlined) into `out_dir`; returns the insights."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    insights = class_insights(graded)
    png = _figure(insights)
    (out / "insights.png").write_bytes(png)
    (out / "insights.md").write_text(insights_markdown(insights))
    (out / "insights.html").write_text(insights_html(insights, png))
    return insights
