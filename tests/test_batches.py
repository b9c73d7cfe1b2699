"""drop_last: both the NumPy iterator and the DataLoaders skip only the short last batch."""
import numpy as np
import pytest

from d2lite.data import Split, minibatches, to_loaders


@pytest.mark.parametrize("n, batch_size", [(10, 4), (12, 4), (3, 5), (7, 1)])
def test_minibatches_drop_last_keeps_only_full_batches(n, batch_size):
    X, y = np.arange(n * 2.0).reshape(n, 2), np.arange(n)
    kept = list(minibatches(X, y, batch_size, np.random.default_rng(0), drop_last=True))
    assert [len(b) for _, b in kept] == [batch_size] * (n // batch_size)
    assert len(np.unique(np.concatenate([b for _, b in kept] or [[]]))) == n // batch_size * batch_size
    every = list(minibatches(X, y, batch_size, np.random.default_rng(0)))
    assert sum(len(b) for _, b in every) == n  # the default still covers every row


def test_to_loaders_drop_last_applies_to_training_only():
    split = Split(np.zeros((10, 3), np.float32), np.zeros((7, 3), np.float32), np.arange(10), np.arange(7))
    train, test = to_loaders(split, batch_size=4, drop_last=True)
    assert [len(y) for _, y in train] == [4, 4]
    assert sum(len(y) for _, y in test) == 7
