"""few_shot_split: the right number of examples per class, disjoint parts, renumbered labels, seeded."""
import numpy as np
import pytest

from d2lite.data.subsets import few_shot_split


def labelled(counts, seed=0):
    """X whose row i is (i, label), so that every row can be traced back; classes with the given sizes."""
    y = np.repeat(np.arange(len(counts)) * 10 + 3, counts)  # labels 3, 13, 23, ...: not 0..K-1
    X = np.stack([np.arange(len(y)), y], axis=1)
    return X, np.random.default_rng(seed).permutation(len(y)), y


def test_shots_per_class_disjoint_parts_and_renumbered_labels():
    X, order, y = labelled([6, 9, 7, 8])
    X, y = X[order], y[order]
    split, classes = few_shot_split(X, y, shots=2, classes=3, test_per_class=4, seed=5)
    assert len(classes) == 3 and set(classes) <= {3, 13, 23, 33}
    assert np.bincount(split.y_train).tolist() == [2, 2, 2]
    assert np.bincount(split.y_test).tolist() == [4, 4, 4]
    assert split.y_train.dtype == np.int64 and split.y_test.dtype == np.int64
    # a row keeps its own (renumbered) label, and no row is in both parts
    for X_part, y_part in ((split.X_train, split.y_train), (split.X_test, split.y_test)):
        np.testing.assert_array_equal(classes[y_part], X_part[:, 1])
    assert not set(split.X_train[:, 0]) & set(split.X_test[:, 0])


def test_every_class_by_default_all_other_examples_for_testing_and_a_given_class_list():
    X, _, y = labelled([5, 3, 4])
    split, classes = few_shot_split(X, y, shots=1)
    assert classes.tolist() == [3, 13, 23]
    assert np.bincount(split.y_test).tolist() == [4, 2, 3]
    split, classes = few_shot_split(X, y, shots=2, classes=[23, 3])
    assert classes.tolist() == [23, 3]
    np.testing.assert_array_equal(split.X_train[split.y_train == 0, 1], [23, 23])
    assert len(split.X_test) == (4 - 2) + (5 - 2)


def test_seeded_same_seed_same_split_other_seed_other_examples():
    X, _, y = labelled([10] * 6)
    a, ca = few_shot_split(X, y, shots=3, classes=4, seed=1)
    b, cb = few_shot_split(X, y, shots=3, classes=4, seed=1)
    c, _ = few_shot_split(X, y, shots=3, classes=4, seed=2)
    assert np.array_equal(ca, cb) and all(np.array_equal(u, v) for u, v in zip(a, b))
    assert not np.array_equal(a.X_train, c.X_train)


@pytest.mark.parametrize("kwargs, message", [
    ({"shots": 4}, "too few for 4 training examples"),
    ({"shots": 0}, "positive whole number"),
    ({"shots": 2.0}, "positive whole number"),
    ({"shots": 1, "classes": 5}, "asked for 5 classes, but y has 3"),
    ({"shots": 1, "classes": [3, 99]}, r"classes \[99\] do not occur"),
    ({"shots": 1, "classes": [3, 3]}, "more than once"),
])
def test_bad_requests_say_what_is_wrong(kwargs, message):
    X, _, y = labelled([5, 4, 6])
    with pytest.raises(ValueError, match=message):
        few_shot_split(X, y, **kwargs)
    with pytest.raises(ValueError, match="must match"):
        few_shot_split(X[:-1], y, shots=1)
