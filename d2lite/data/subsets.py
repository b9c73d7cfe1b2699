"""Subsets of a labelled data set: a few training examples per class, for regularization, augmentation,
transfer and few-shot experiments (the glyphs have 20 examples per class; most experiments want far fewer)."""
import numpy as np

from d2lite.data.digits import Split


def few_shot_split(X, y, shots, classes=None, test_per_class=None, seed=0):
    """`shots` training examples of each chosen class and other examples of the same classes for testing.

    `classes` is None (every class in `y`), a number (that many classes drawn at
    random) or a sequence of class labels. Within each class the examples are
    shuffled; the first `shots` go to training, the next `test_per_class` (default:
    all the others) to testing. Labels are renumbered 0..K−1 in the order of the
    chosen classes. Returns (Split(X_train, X_test, y_train, y_test), classes), where
    `classes[k]` is the original label of new class k; everything depends only on `seed`.
    """
    y = np.asarray(y)
    if len(X) != len(y):
        raise ValueError(f"X has {len(X)} rows but y has {len(y)}; they must match")
    if isinstance(shots, bool) or not isinstance(shots, (int, np.integer)) or shots < 1:
        raise ValueError(f"shots must be a positive whole number of training examples per class, got {shots!r}")
    rng = np.random.default_rng(seed)
    present = np.unique(y)
    if classes is None:
        chosen = present
    elif isinstance(classes, (int, np.integer)):
        if not 1 <= classes <= len(present):
            raise ValueError(f"asked for {classes} classes, but y has {len(present)}")
        chosen = np.sort(rng.choice(present, size=int(classes), replace=False))
    else:
        chosen = np.asarray(classes)
        missing = np.setdiff1d(chosen, present)
        if len(missing):
            raise ValueError(f"classes {missing[:5].tolist()} do not occur in y")
        if len(np.unique(chosen)) != len(chosen):
            raise ValueError("classes lists a class more than once")
    train, test = [], []
    for c in chosen:
        members = rng.permutation(np.flatnonzero(y == c))
        if len(members) <= shots:
            raise ValueError(f"class {c} has {len(members)} examples: too few for {shots} training "
                             "examples and at least one test example; ask for fewer shots")
        train.append(members[:shots])
        test.append(members[shots:] if test_per_class is None else members[shots:shots + test_per_class])
    new_label = {c: k for k, c in enumerate(chosen.tolist())}

    def part(rows):
        rows = np.concatenate(rows)
        return X[rows], np.array([new_label[c] for c in y[rows].tolist()], dtype=np.int64)

    (X_train, y_train), (X_test, y_test) = part(train), part(test)
    return Split(X_train, X_test, y_train, y_test), chosen
