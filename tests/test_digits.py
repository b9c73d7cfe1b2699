import numpy as np
import torch

from d2lite.data import load_digits, minibatches, to_loaders


def test_digits_split_is_real_stratified_and_repeatable():
    a, b = load_digits(seed=0), load_digits(seed=0)
    assert a.X_train.shape == (1347, 64) and a.X_test.shape == (450, 64)
    assert all(np.array_equal(x, y) for x, y in zip(a, b))
    assert 0.0 <= a.X_train.min() and a.X_train.max() <= 1.0
    train_share = np.bincount(a.y_train) / len(a.y_train)
    test_share = np.bincount(a.y_test) / len(a.y_test)
    assert np.abs(train_share - test_share).max() < 0.01
    assert not np.array_equal(load_digits(seed=1).y_test, a.y_test)


def test_digits_as_images():
    split = load_digits(images=True)
    assert split.X_train.shape[1:] == (1, 8, 8)


def test_minibatches_cover_every_row_once():
    X, y = np.arange(10)[:, None], np.arange(10)
    batches = list(minibatches(X, y, 4, np.random.default_rng(0)))
    assert [len(b[1]) for b in batches] == [4, 4, 2]
    seen = np.concatenate([b[1] for b in batches])
    assert sorted(seen) == list(range(10))
    assert all(np.array_equal(bx[:, 0], by) for bx, by in batches)


def test_minibatches_reject_mismatched_lengths():
    import pytest

    with pytest.raises(ValueError, match="must match"):
        next(minibatches(np.zeros((3, 2)), np.zeros(4), 2))


def test_loaders_are_seeded():
    split = load_digits()
    first = [next(iter(to_loaders(split, 32, seed=7)[0]))[1] for _ in range(2)]
    assert torch.equal(first[0], first[1])
    train, test = to_loaders(split, 32)
    assert sum(len(y) for _, y in test) == 450
