"""Hostile submissions against the grader's verdicts (issue "Grading a class safely", findings 1, 2, 6, 7, 8).

Each entry is a notebook (dict), raw bytes, or a ("symlink", target) pair, with what it must earn:
the points of the honest notebook it is built from (the cheat must gain nothing), or fewer when
the cheat breaks its own kernel. `expected()` lists, per student, (total, words that must appear
in the problems column, {exercise id: words in its feedback}).
"""
import json
import sys

from grading_corpus import ROOT, insert_after, replace, solutions

CHAPTER_2 = "02_cnns"
POINTS_1, POINTS_2 = 19, 17
# CPython 3.12.0-3.12.3's tokenize builds a copy of a line for every token on it (python/cpython#119118, fixed
# in 3.12.4), and IPython tokenizes every cell: long_line's 33,000-element list then needs about 6 GB, which the
# grader's memory cap turns into a MemoryError. Other Pythons tokenize it in a few MB and grade it in full.
TOKENIZE_NEEDS_GIGABYTES = sys.version_info[:2] == (3, 12) and sys.version_info[2] < 4
NAIVE_SIGMOID = "def sigmoid(x):\n    return 1 / (1 + np.exp(-x))\n"
ROUTE = "review by hand: the code reaches the references through"
RELU = "def relu(x):\n    return np.maximum(x, 0.0)\n\n\n"
TANH = "\n\ndef tanh(x):\n    return np.tanh(x)\n"


def chapter_2():
    """solutions/02_cnns.ipynb with its stored outputs gone (they never count anyway)."""
    nb = json.loads((ROOT / "solutions" / f"{CHAPTER_2}.ipynb").read_text())
    for cell in nb["cells"]:
        if cell["cell_type"] == "code":
            cell["outputs"], cell["execution_count"] = [], None
    return nb


def naive(nb):
    """The honest mistake the cheats below build on: a sigmoid that overflows (1.2 and 1.3 lose a part each)."""
    return insert_after(nb, "def relu(x):", NAIVE_SIGMOID)


# Finding 1: fewer cases. The graded function walks up the stack and empties every list of cases or
# results it finds; or the runner is patched before the harness imports it.
SHORTEN_FROM_THE_STACK = '''import sys


def sigmoid(x):
    frame = sys._getframe(1)
    while frame is not None:
        for name in ("cases_args", "cases", "results", "described"):
            value = frame.f_locals.get(name)
            if isinstance(value, list) and len(value) > 0:
                del value[:]
        frame = frame.f_back
    return 1 / (1 + np.exp(-x))
'''
PATCHED_RUNNER = '''import d2lite.grading.runner as R
_honest_attempts = R.attempts


def _fewer(part, fn, cases_args):
    return _honest_attempts(part, fn, list(cases_args)[:1] if part.func == "sigmoid" else cases_args)


R.attempts = _fewer
'''

# Finding 2: verdicts computed in the kernel. Patch the Trainer and hand in an MLP; or steal the
# secret from the stack, send a forged one-case reply and swallow the genuine one.
PATCHED_TRAINER = '''import d2lite.training as T
T.Trainer.fit = lambda self, *a, **k: None
T.Trainer.evaluate = lambda self, *a, **k: (0.0, 1.0)
import torch
from torch import nn


def build_cnn():  # an MLP: no convolution, and no chance on digits that move around
    return nn.Sequential(nn.Flatten(), nn.Linear(256, 64), nn.ReLU(), nn.Linear(64, 10))
'''
STEAL_THE_SECRET = '''import re, sys
import IPython.display

_display = IPython.display.display
_forged = []


def _swallow_once(*args, **kwargs):  # the genuine reply, displayed after ours, is never sent
    IPython.display.display = _display


def linear_forward(x, W, b):  # forgets the bias, but forges a one-case reply that has it
    secret = wire = None
    frame = sys._getframe(1)
    while frame is not None:
        secret = secret or next((v for v in frame.f_locals.values()
                                 if isinstance(v, str) and re.fullmatch("[0-9a-f]{32}", v)), None)
        wire = wire or frame.f_globals.get("wire")
        frame = frame.f_back
    if secret and wire and not _forged:
        _forged.append(secret)
        attempt = {"got": wire.encode(x @ W + b), "inputs": [], "case": 0}
        _display({"application/vnd.d2lite.reply+json": {"secret": secret, "attempts": [attempt]}}, raw=True)
        IPython.display.display = _swallow_once
    return x @ W
'''
WATCH_FOR_THE_SECRET = '''import sys, threading, time
import numpy as np
from IPython.display import display


def _forge():
    while True:
        for frame in list(sys._current_frames().values()):
            while frame is not None:
                if frame.f_code.co_name == "send" and "secret" in frame.f_locals:
                    n = 20
                    attempts = [{"got": {"t": "value", "v": None}, "inputs": [], "case": i} for i in range(n)]
                    display({"application/vnd.d2lite.reply+json": {"secret": frame.f_locals["secret"],
                                                                    "attempts": attempts}}, raw=True)
                frame = frame.f_back
        time.sleep(0.0005)


threading.Thread(target=_forge, daemon=True).start()
'''

# Finding 6: a tiny reply that would decode into gigabytes (object arrays of repeated references).
MEMORY_BOMB = '''import d2lite.grading.harness as H
from IPython.display import display
_bomb = {"t": "array", "dtype": "object", "shape": [1000, 1000]}  # 8 MB of pointers each, 32 GB in all


def _send(secret):
    attempts = [{"got": {"t": "list", "items": [_bomb] * 100}, "inputs": [], "case": i} for i in range(40)]
    display({H.REPLY_MIME: {"secret": secret, "attempts": attempts}}, raw=True)


H.send = _send
'''
OBJECT_ARRAY_OUTPUT = '''def linear_forward(x, W, b):
    big = np.zeros(1 << 20)
    return np.array([big] * 1000 + [None], dtype=object)
'''

# Finding 7: borrowing the references in import forms the old check missed.
BORROW_ALIAS = ("from d2lite import grading as G\n"
                "linear_forward = G.get_exercise('1.1').parts[0].reference\n")
BORROW_IMPORTLIB = ("import importlib\n"
                    "_bank = importlib.import_module('d2lite.exer' + 'cises.fundamentals')\n"
                    "linear_forward = _bank.linear_forward\n")
BORROW_DUNDER = "linear_forward = __import__('d2lite.exercises.fundamentals', fromlist=['x']).linear_forward\n"
BORROW_GETATTR = ("import d2lite\nimport d2lite.exercises.fundamentals\n"
                  "linear_forward = getattr(getattr(d2lite, 'exercises').fundamentals, 'linear_forward')\n")
BORROW_SCRATCH = ("from d2lite import scratch\n\n\n"
                  "def conv_output_size(size, kernel, stride, padding):\n"
                  "    return scratch.conv_output_size(size, kernel, stride, padding)\n")


def corpus():
    """student -> (what to write, the folder-relative path of its notebook)."""
    chapter_1 = "01_fundamentals.ipynb"
    long_line = insert_after(solutions(), "import numpy", "x = [" + "1, " * 33_000 + "1]\n")
    return {
        # honest students beside them
        "honest_1": (solutions(), chapter_1),
        "honest_2": (chapter_2(), f"{CHAPTER_2}.ipynb"),
        "honest_naive": (naive(solutions()), chapter_1),
        # finding 1
        "short_stack": (replace(solutions(), "def relu(x):", RELU + SHORTEN_FROM_THE_STACK + TANH), chapter_1),
        "short_runner": (insert_after(naive(solutions()), "import numpy", PATCHED_RUNNER), chapter_1),
        # finding 2
        "patched_trainer": (replace(chapter_2(), "import torch", PATCHED_TRAINER), f"{CHAPTER_2}.ipynb"),
        "stolen_secret": (replace(solutions(), "def linear_forward", STEAL_THE_SECRET), chapter_1),
        "watched_secret": (insert_after(solutions(), "import numpy", WATCH_FOR_THE_SECRET), chapter_1),
        # finding 6
        "memory_bomb": (insert_after(solutions(), "import numpy", MEMORY_BOMB), chapter_1),
        "object_output": (replace(solutions(), "def linear_forward", OBJECT_ARRAY_OUTPUT), chapter_1),
        # finding 7
        "borrow_alias": (replace(solutions(), "def linear_forward", BORROW_ALIAS), chapter_1),
        "borrow_importlib": (replace(solutions(), "def linear_forward", BORROW_IMPORTLIB), chapter_1),
        "borrow_dunder": (replace(solutions(), "def linear_forward", BORROW_DUNDER), chapter_1),
        "borrow_getattr": (replace(solutions(), "def linear_forward", BORROW_GETATTR), chapter_1),
        "borrow_scratch": (replace(chapter_2(), "def conv_output_size", BORROW_SCRATCH), f"{CHAPTER_2}.ipynb"),
        # finding 8
        "linked_file": (("symlink", ROOT / "solutions" / chapter_1), chapter_1),
        "linked_folder": (("symlink-folder", ROOT / "solutions"), ""),
        "li na": (solutions(), chapter_1),
        "li_na": (naive(solutions()), chapter_1),
        "=2+5": (solutions(), chapter_1),
        "dup": (solutions(), chapter_1),
        "dup.ipynb": (naive(solutions()), ""),  # dup.ipynb beside dup/01_fundamentals.ipynb
        "deep_json": (b"[" * 200_000 + b"]" * 200_000, chapter_1),
        "long_line": (long_line, chapter_1),
    }


def expected():
    """student -> (total, words in the problems column, {exercise id: words in its feedback})."""
    naive_total = POINTS_1 - 2
    return {
        "honest_1": (POINTS_1, "", {}),
        "honest_2": (POINTS_2, "", {}),
        "honest_naive": (naive_total, "", {"1.2": "computing them overflowed"}),
        "short_stack": (naive_total, "", {}),
        "short_runner": (naive_total, f"{ROUTE} import d2lite.grading.runner",
                         {"1.2": "not graded: the answer holds 1 attempts for"}),
        "patched_trainer": (POINTS_2 - 3, "", {"2.7": "no convolution runs in its forward pass"}),
        "stolen_secret": (POINTS_1 - 2, "", {"1.1": "Hint: the bias b is missing"}),
        "watched_secret": (None, "", {}),   # at most what the honest notebook earns (it races its own forgery)
        "memory_bomb": (0, "the kernel's answer was malformed", {"1.1": "not graded"}),
        "object_output": (POINTS_1 - 2, "", {"1.1": "returned a object_array"}),
        "borrow_alias": (POINTS_1, f"{ROUTE} d2lite.grading.get_exercise", {}),
        "borrow_importlib": (POINTS_1, f"{ROUTE} import_module() of a module named at run time", {}),
        "borrow_dunder": (POINTS_1, f"{ROUTE} the name 'd2lite.exercises.fundamentals' in a string", {}),
        "borrow_getattr": (POINTS_1, f"{ROUTE} import d2lite.exercises.fundamentals", {}),
        "borrow_scratch": (POINTS_2, "review by hand: exercise 2.1 asks for what d2lite.scratch.conv_output_size does",
                           {}),
        "linked_file": (0, "not graded: 01_fundamentals.ipynb is a symbolic link", {}),
        "linked_folder": (0, "not graded: linked_folder is a symbolic link", {}),
        "li na": (POINTS_1, "", {}),
        "li_na": (naive_total, "", {}),
        "'=2+5": (POINTS_1, "", {}),
        "dup": (POINTS_1, "another notebook for 01_fundamentals", {}),
        "deep_json": (0, "its JSON is nested far more deeply than a notebook's", {}),
        "long_line": (0, "code cell 2 raised MemoryError", {}) if TOKENIZE_NEEDS_GIGABYTES else (POINTS_1, "", {}),
    }

