"""The `d2lite` command.

  d2lite exercises [--check]            regenerate exercises/ from solutions/ (or check they agree)
  d2lite grade PATH... [--json]         grade notebooks in fresh kernels and print score tables
  d2lite gradebook TARGET --out DIR     grade a class's submissions into a gradebook (and LMS exports, insights)
  d2lite doctor                         print the environment and check it against what d2lite needs
"""
import argparse
import json
import os
import sys
from pathlib import Path


def cmd_exercises(args):
    from d2lite.grading.notebooks import sync_exercises

    stale = sync_exercises(args.solutions, args.exercises, check=args.check)
    if args.check:
        if stale:
            print("Out of date with solutions/: " + ", ".join(map(str, stale)) + "\nRun: d2lite exercises")
            return 1
        print("exercises/ is up to date with solutions/.")
        return 0
    print(f"Wrote {len(stale)} notebook(s)" + (": " + ", ".join(map(str, stale)) if stale else "; all up to date."))
    return 0


def _limits(args, isolated):
    from d2lite.grading.submission import Limits

    return Limits(timeout=args.timeout, memory_mb=args.memory, call_timeout=args.call_timeout, isolated=isolated)


def _why_not_isolated(args):
    """"" when kernels will run in the OS sandbox, else why not."""
    from d2lite.grading.isolation import unavailable

    return "--no-sandbox was given" if args.no_sandbox else unavailable()


def _notebooks(paths):
    """The notebooks named, with folders replaced by the notebooks directly inside them."""
    found = []
    for p in map(Path, paths):
        found += sorted(p.glob("*.ipynb")) if p.is_dir() else [p]
    return found


def _course(args):
    """The course file's Course (None without --course); exits with the file's problem when it is wrong."""
    if not args.course:
        return None
    from d2lite.grading.course import CourseError, load_course
    from d2lite.grading.exercise import chapters

    try:
        return load_course(args.course, chapters())
    except CourseError as e:
        raise SystemExit(f"d2lite: {e}") from None


def _drift_warnings(paths):
    """Warn (stderr) when a notebook was last checked under another exercise bank or other library versions."""
    from d2lite.grading.environment import drift, notebook_fingerprint

    for path in paths:
        try:
            theirs = notebook_fingerprint(json.loads(Path(path).read_text(encoding="utf-8")))
        except (OSError, ValueError, RecursionError):
            continue  # the grader says what is wrong with the file
        for sentence in drift(theirs) if theirs else []:
            print(f"Warning: {path}: {sentence}.", file=sys.stderr)


def cmd_grade(args):
    from d2lite.grading.gradebook import grade_all
    from d2lite.grading.scoreboard import render, rows

    paths = _notebooks(args.paths)
    course = _course(args)
    seed = args.seed
    if course and args.student and course.secret and seed is None:
        from d2lite.grading.variants import student_seed

        seed = student_seed(course.secret, args.student)
    why_not = _why_not_isolated(args)
    if why_not:
        print(f"Not isolated ({why_not}): the notebook runs as you, guarded only against accidents; "
              "fine for your own work, not for other people's.", file=sys.stderr)
    _drift_warnings(paths)
    pairs = [(str(p), p) for p in paths]
    graded = [sub for _, sub in grade_all(pairs, args.chapter, _limits(args, not why_not), args.jobs, progress=False,
                                          seeds={str(p): seed for p in paths})]
    if args.gradescope:
        from d2lite.grading.exports import gradescope_results
        from d2lite.grading.gradebook import lateness, write_atomic

        student = args.student or "student"
        late = lateness({student: graded}, course)
        write_atomic(args.gradescope, json.dumps(gradescope_results(student, graded, late), indent=1))
    if args.json:
        print(json.dumps([sub.to_dict() for sub in graded], indent=1))
    else:
        for sub in graded:
            print(f"{sub.path} ({sub.chapter or 'chapter unknown'}): {sub.earned:g}/{sub.points:g} points"
                  + (f" (variant seed {seed})" if seed is not None else ""))
            if sub.exercises:
                print(render(rows(sub.exercises)))
            for problem in sub.problems:
                print(f"  ! {problem}")
            print()
    return 0 if graded and all(sub.passed for sub in graded) else 1


def _formats(text):
    from d2lite.grading.gradebook import FORMATS

    chosen = [f.strip() for f in text.split(",") if f.strip()]
    unknown = [f for f in chosen if f not in FORMATS]
    if unknown or not chosen:
        raise argparse.ArgumentTypeError(f"unknown format {', '.join(unknown) or text!r}; "
                                         f"choose from {','.join(FORMATS)}")
    return chosen


def _write_similarity(graded, args):
    from d2lite.grading.exercise import exercises_of
    from d2lite.grading.similarity import similar_pairs, similarity_markdown

    import d2lite

    shipped = Path(d2lite.__file__).resolve().parents[1] / "exercises"  # in a checkout of the book
    pairs = []
    for chapter in sorted({sub.chapter for _, sub in graded if sub.chapter}):
        notebooks = {student: sub.path for student, sub in graded if sub.chapter == chapter}
        starter = (args.starter or shipped) / f"{chapter}.ipynb"
        if not Path(starter).exists():
            print(f"Warning: no starter notebook for {chapter} ({starter}): the similarity report counts the code "
                  "handed out too; give it with --starter", file=sys.stderr)
        pairs += similar_pairs(notebooks, exercises_of(chapter), starter if Path(starter).exists() else None)
    path = args.out / "similarity.md"
    path.write_text(similarity_markdown(sorted(pairs, key=lambda p: -p.score)))
    return path


def cmd_gradebook(args):
    from d2lite.grading.cache import GradeCache
    from d2lite.grading.environment import fingerprint
    from d2lite.grading.gradebook import find_submissions, grade_all, write_gradebook

    course = _course(args)
    why_not = _why_not_isolated(args)
    if why_not and not args.no_sandbox:
        print(f"Refusing to grade other people's notebooks without an OS sandbox: {why_not}.\n"
              "Install bubblewrap (see docs/grading.md, 'Grading on a shared server'), or pass --no-sandbox "
              "if every notebook is trusted.", file=sys.stderr)
        return 2
    pairs = find_submissions(args.target)
    if not pairs:
        print(f"No notebooks found in {args.target}.", file=sys.stderr)
        return 1
    warning = (f"NOT ISOLATED ({why_not}): each kernel ran as the grader's user, guarded only by Python hooks."
               if why_not else "")
    if warning:
        print(f"Warning: {warning}", file=sys.stderr)
    seeds = {}
    if course and course.secret:
        from d2lite.grading.variants import student_seed

        seeds = {student: student_seed(course.secret, student) for student, _ in pairs}
    cache = None if args.no_cache else GradeCache(args.cache or args.out / ".cache", read=not args.force)
    graded = grade_all(pairs, args.chapter, _limits(args, not why_not), args.jobs, progress=not args.quiet,
                       seeds=seeds, cache=cache)
    written = write_gradebook(graded, args.out, args.feedback, warning=warning, formats=args.format, course=course,
                              environment=fingerprint())
    if args.insights:
        from d2lite.grading.insights import write_insights

        write_insights(graded, args.out)
        written.append(args.out / "insights.html")
    if args.similarity:
        written.append(_write_similarity(graded, args))
    flagged = sum(bool(sub.problems) for _, sub in graded)
    reused = f"; {cache.hits} from the cache" if cache and cache.hits else ""
    print(f"Graded {len(graded)} notebook(s){reused} into " + ", ".join(map(str, written))
          + f" and {Path(args.out) / 'feedback'}/" + (f"; {flagged} with problems (see that column)." if flagged else ".")
          + (f"\nWarning: {warning}" if warning else ""))
    return 0


def cmd_doctor(args):
    from d2lite.grading.environment import fingerprint, problems
    from d2lite.grading.isolation import unavailable

    for key, value in fingerprint().items():
        print(f"{key:8} {value or 'not installed'}")
    rows = problems()
    width = max(len(name) for name, *_ in rows)
    print("\nrequirements of d2lite:")
    for name, wanted, have, problem in rows:
        print(f"  {'✘' if problem else '✔'} {name:{width}} {have:10} (needs {wanted or 'any'})"
              + (f": {problem}" if problem else ""))
    sandbox = unavailable()
    print("\nsandbox for grading a class: " + (f"not available ({sandbox})" if sandbox else "bubblewrap works"))
    bad = sum(bool(p) for *_, p in rows)
    print(f"\n{bad} problem(s) found." if bad else "\nEverything d2lite needs is installed.")
    return 1 if bad else 0


def _grading_options(parser, jobs):
    parser.add_argument("--chapter", help="grade every notebook as this chapter (default: from file name or content)")
    parser.add_argument("--jobs", type=int, default=jobs, help=f"notebooks graded at once (default {jobs})")
    parser.add_argument("--timeout", type=float, default=300,
                        help="CPU seconds for all of a notebook's cells together (default 300)")
    parser.add_argument("--memory", type=int, default=4096,
                        help="resident memory per kernel in MB, all its processes together (default 4096)")
    parser.add_argument("--call-timeout", type=float, default=None,
                        help="cap in CPU seconds on each graded call (default: each exercise's own, 10 s)")
    parser.add_argument("--no-sandbox", action="store_true",
                        help="run kernels without the OS sandbox (bubblewrap), as your own user: trusted notebooks "
                             "only (default: the sandbox when it is available; gradebook refuses without it)")


def build_parser():
    parser = argparse.ArgumentParser(prog="d2lite", description="Tools for the d2lite book and its exercises.")
    sub = parser.add_subparsers(dest="command", required=True)
    ex = sub.add_parser("exercises", help="regenerate exercises/ from solutions/ (or --check that they agree)")
    ex.add_argument("--solutions", type=Path, default=Path("solutions"))
    ex.add_argument("--exercises", type=Path, default=Path("exercises"))
    ex.add_argument("--check", action="store_true", help="change nothing; exit 1 if exercises/ is out of date")
    ex.set_defaults(run=cmd_exercises)
    grade = sub.add_parser("grade", help="run notebooks in fresh kernels and print a score table each",
                           description="Run each notebook in a fresh, limited kernel, grade its exercises with the "
                                       "installed d2lite (its own check cells do not count) and print a score table. "
                                       "Exit status 0 only when every exercise passes.")
    grade.add_argument("paths", nargs="+", help="notebooks, or folders of notebooks")
    grade.add_argument("--json", action="store_true", help="print the results as JSON")
    grade.add_argument("--seed", type=int, help="grade with this variant seed (the gradebook records each student's)")
    grade.add_argument("--course", type=Path, help="course file (TOML): with --student, the student's variant and "
                                                   "late penalty")
    grade.add_argument("--student", help="the student's id, for --course and --gradescope")
    grade.add_argument("--gradescope", type=Path, help="also write Gradescope's results.json here")
    _grading_options(grade, jobs=1)
    grade.set_defaults(run=cmd_grade)
    book = sub.add_parser("gradebook", help="grade a class's submissions into a CSV/JSON gradebook and feedback files",
                          description="Grade every notebook under TARGET (a folder, e.g. submissions/<student>/"
                                      "<chapter>.ipynb, or a quoted glob), each in its own kernel and temporary "
                                      "folder, and write gradebook.csv, gradebook.json and feedback/<student>.md "
                                      "to --out.")
    book.add_argument("target", help="a folder searched for *.ipynb, or a glob such as 'subs/*/01_*.ipynb'")
    book.add_argument("--out", type=Path, required=True, help="folder for the gradebook and feedback files")
    book.add_argument("--feedback", choices=["md", "html"], default="md", help="feedback file format (default md)")
    book.add_argument("--quiet", action="store_true", help="no progress bar")
    book.add_argument("--format", type=_formats, default=["csv", "json"],
                      help="comma-separated exports: csv, json, gradescope, canvas (default csv,json)")
    book.add_argument("--course", type=Path, help="course file (TOML): secret for variants, due dates, late penalty")
    book.add_argument("--insights", action="store_true", help="also write insights.md/.html: what the class got wrong")
    book.add_argument("--similarity", action="store_true",
                      help="also write similarity.md: pairs of unusually similar solutions, to review by hand")
    book.add_argument("--starter", type=Path, help="folder of the exercise notebooks handed out (<chapter>.ipynb), "
                                                   "left out of the similarity report (default: the book's exercises/)")
    book.add_argument("--cache", type=Path, help="folder of cached results (default OUT/.cache)")
    book.add_argument("--force", action="store_true", help="grade every notebook again, ignoring the cache")
    book.add_argument("--no-cache", action="store_true", help="neither read nor write the cache")
    _grading_options(book, jobs=os.cpu_count() or 1)
    book.set_defaults(run=cmd_gradebook)
    doctor = sub.add_parser("doctor", help="print the environment and check it against what d2lite needs",
                            description="Print Python's, NumPy's, PyTorch's and d2lite's versions and the exercise "
                                        "bank's hash, and check every requirement of d2lite. Exit status 1 when one "
                                        "is missing or too old.")
    doctor.set_defaults(run=cmd_doctor)
    return parser


def main(argv=None):
    args = build_parser().parse_args(argv)
    return args.run(args)


if __name__ == "__main__":
    sys.exit(main())
