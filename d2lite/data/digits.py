"""The 8×8 handwritten digits that ship with scikit-learn: 1,797 real images, offline.

Source: the UCI "Optical Recognition of Handwritten Digits" data set
(E. Alpaydin and C. Kaynak, 1998), bundled with scikit-learn.
"""
from typing import NamedTuple

import numpy as np


class Split(NamedTuple):
    X_train: np.ndarray
    X_test: np.ndarray
    y_train: np.ndarray
    y_test: np.ndarray


def load_digits(test_size=0.25, seed=0, images=False, dtype=np.float32):
    """The digits, scaled to [0, 1] and split into train and test sets.

    The split is stratified (each digit in the same proportion in both parts)
    and depends only on `seed`, so every run and every reader sees the same one.
    With `images=True`, X has shape (N, 1, 8, 8) for convolutions; otherwise (N, 64).
    """
    from sklearn.datasets import load_digits as sklearn_digits
    from sklearn.model_selection import train_test_split

    bunch = sklearn_digits()
    X = (bunch.data / 16.0).astype(dtype)  # pixel values are 0..16
    if images:
        X = X.reshape(-1, 1, 8, 8)
    y = bunch.target.astype(np.int64)
    parts = train_test_split(X, y, test_size=test_size, random_state=seed, stratify=y)
    return Split(*parts)



def load_placed_digits(canvas=16, test_size=0.25, seed=0, dtype=np.float32):
    """The digits, each pasted at a random position on a blank `canvas`×`canvas` image: X is (N, 1, canvas, canvas).

    The split is `load_digits`'s; positions and split depend only on `seed`. A network
    must recognise a digit wherever it sits, which favours convolutions (one filter
    slides over every position).
    """
    split = load_digits(test_size=test_size, seed=seed, images=True, dtype=dtype)
    rng = np.random.default_rng(seed)

    def place(X):
        out = np.zeros((len(X), 1, canvas, canvas), dtype=dtype)
        for i, (top, left) in enumerate(rng.integers(0, canvas - 8 + 1, size=(len(X), 2))):
            out[i, 0, top:top + 8, left:left + 8] = X[i, 0]
        return out

    return Split(place(split.X_train), place(split.X_test), split.y_train, split.y_test)
