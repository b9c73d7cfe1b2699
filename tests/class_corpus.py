"""A synthetic class graded in-process (no kernels): each student's functions for chapter 1, some with
mistakes planted in advance, so that exports and insights can be checked against what is known."""
import numpy as np

from d2lite.grading import get_exercise, grade_exercise
from d2lite.grading.submission import Submission

CHAPTER = "01_fundamentals"


def right():
    """Correct functions for exercises 1.1 and 1.2, written differently from the references."""
    def sigmoid(x):
        e = np.exp(-np.abs(x))
        return np.where(x >= 0, 1 / (1 + e), e / (1 + e))
    return {"linear_forward": lambda x, W, b: np.einsum("ni,io->no", x, W) + b,
            "relu": lambda x: x * (x > 0), "sigmoid": sigmoid, "tanh": np.tanh}


TRANSPOSED = dict(right(), linear_forward=lambda x, W, b: x @ W.T + b)
NO_BIAS = dict(right(), linear_forward=lambda x, W, b: x @ W)
ABS_RELU = dict(right(), relu=np.abs)


def submission(funcs, path, ids=("1.1", "1.2")):
    """A Submission of chapter 1 with exercises `ids` graded on `funcs` (name -> function)."""
    results = [grade_exercise(get_exercise(i), funcs) for i in ids]
    return Submission(str(path), CHAPTER, results, seconds={"total": 1.5})


def klass(tmp_path):
    """Ten students: 4 multiply by W transposed in 1.1, 2 forget the bias, 3 write abs for ReLU, the rest right."""
    plan = (["transposed"] * 4 + ["no_bias"] * 2 + ["right"] * 4)
    funcs = {"transposed": TRANSPOSED, "no_bias": NO_BIAS, "right": right()}
    graded = []
    for n, kind in enumerate(plan):
        chosen = dict(funcs[kind])
        if n in (0, 6, 7):  # abs for ReLU, across the groups
            chosen["relu"] = np.abs
        path = tmp_path / f"s{n:02d}" / f"{CHAPTER}.ipynb"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("{}")
        graded.append((f"s{n:02d}", submission(chosen, path)))
    return graded
