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
