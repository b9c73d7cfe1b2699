"""Pairs of submissions whose solution to an exercise is unusually alike: a list to review by hand.

For each exercise, a notebook's solution is the code of the cells that define the exercise's
functions. Its tokens are normalised (comments, blank lines and layout dropped; every name
that is not a keyword, a builtin or an attribute becomes `v`; every string `s`), cut into
k-grams and hashed; winnowing keeps the smallest hash of each window of w k-grams (Schleimer,
Wilkerson and Aiken, SIGMOD 2003: any shared run of w + k - 1 tokens leaves a shared
fingerprint). Fingerprints of the starter code, and those found in more than half of the class
(the idioms everyone writes), are left out; a pair's score is the Jaccard index of what remains.

It cannot see copying that changes the structure (reordered statements, a loop rewritten as
a vectorised expression, code translated from another language or paraphrased by a model),
and a short exercise has few ways to be solved: two honest one-liners look identical. A high
score is a reason to look, never evidence on its own.
"""
import ast
import builtins
import hashlib
import io
import itertools
import json
import keyword
import tokenize
from dataclasses import dataclass
from pathlib import Path

K, WINDOW = 6, 4
_SKIP = {tokenize.COMMENT, tokenize.NL, tokenize.ENCODING, tokenize.ENDMARKER}
_KEPT_NAMES = set(keyword.kwlist) | set(dir(builtins))


def normalise(code):
    """The code's tokens with names, strings and layout made uniform (a list of strings); [] if it does not parse."""
    out, previous = [], ""
    try:
        for tok in tokenize.generate_tokens(io.StringIO(code).readline):
            if tok.type in _SKIP:
                continue
            if tok.type == tokenize.NAME:
                text = tok.string if tok.string in _KEPT_NAMES or previous == "." else "v"
            elif tok.type == tokenize.STRING or tok.type == getattr(tokenize, "FSTRING_START", -1):
                text = "s"
            elif tok.type in (getattr(tokenize, "FSTRING_MIDDLE", -1), getattr(tokenize, "FSTRING_END", -1)):
                continue
            elif tok.type == tokenize.NEWLINE:
                text = ";"
            elif tok.type in (tokenize.INDENT, tokenize.DEDENT):
                text = "{" if tok.type == tokenize.INDENT else "}"
            else:
                text = tok.string
            out.append(text)
            previous = tok.string
    except (tokenize.TokenError, IndentationError, SyntaxError):
        return []
    return out


def fingerprints(code, k=K, window=WINDOW):
    """The winnowed set of k-gram hashes of the normalised code."""
    tokens = normalise(code)
    grams = [int.from_bytes(hashlib.blake2b(" ".join(tokens[i:i + k]).encode(), digest_size=8).digest(), "big")
             for i in range(len(tokens) - k + 1)]
    if len(grams) <= window:
        return set(grams)
    return {min(grams[i:i + window]) for i in range(len(grams) - window + 1)}


def _defines(source, names):
    """True when the cell defines one of `names` at its top level."""
    try:
        tree = ast.parse(source)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return any(f"def {n}(" in source for n in names)
    return any(isinstance(node, ast.FunctionDef) and node.name in names for node in tree.body)


def solution_code(nb, exercise):
    """The code of the notebook's (a dict's) cells that define the exercise's functions."""
    names = {p.func for p in exercise.parts}
    sources = ["".join(c["source"]) if isinstance(c.get("source"), list) else str(c.get("source", ""))
               for c in nb.get("cells", []) if isinstance(c, dict) and c.get("cell_type") == "code"]
    return "\n".join(s for s in sources if _defines(s, names))


@dataclass
class Pair:
    exercise: str
    first: str
    second: str
    score: float   # Jaccard index of the fingerprints that remain
    shared: int    # how many they share


def _read(path):
    try:
        return json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError, RecursionError):
        return {}


def similar_pairs(notebooks, exercises, starter=None, min_shared=3):
    """Pairs of students, per exercise, ranked by score (highest first).

    `notebooks` maps a student to a notebook path; `starter` is the exercise notebook handed out
    (its code is never counted); pairs sharing fewer than `min_shared` fingerprints are left out."""
    books = {student: _read(path) for student, path in notebooks.items()}
    starter_nb = _read(starter) if starter else {}
    pairs = []
    for ex in exercises:
        common = fingerprints(solution_code(starter_nb, ex))
        prints = {s: fingerprints(solution_code(nb, ex)) - common for s, nb in books.items()}
        counts = {}
        for fp in itertools.chain.from_iterable(prints.values()):
            counts[fp] = counts.get(fp, 0) + 1
        if len(prints) >= 4:  # the class's idioms: in more than half of the solutions
            idioms = {fp for fp, n in counts.items() if n > len(prints) / 2}
            prints = {s: fps - idioms for s, fps in prints.items()}
        for a, b in itertools.combinations(sorted(prints), 2):
            shared = len(prints[a] & prints[b])
            if shared >= min_shared:
                pairs.append(Pair(ex.id, a, b, shared / len(prints[a] | prints[b]), shared))
    return sorted(pairs, key=lambda p: (-p.score, -p.shared, p.exercise, p.first, p.second))


def similarity_markdown(pairs, top=20):
    out = ["# Similar solutions", "",
           "Pairs whose solutions share unusually many normalised fragments, highest first. This is a list to "
           "review by hand: short exercises have few honest ways to be solved, and a high score proves nothing "
           "on its own. See docs/grading.md, 'Similarity report', for what it cannot detect.", "",
           "| exercise | student | student | score | fragments shared |", "|---|---|---|---|---|"]
    out += [f"| {p.exercise} | {p.first} | {p.second} | {p.score:.2f} | {p.shared} |" for p in pairs[:top]]
    if not pairs:
        out.append("| | no pair shares enough | | | |")
    return "\n".join(out) + "\n"
