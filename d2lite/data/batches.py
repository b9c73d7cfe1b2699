"""Mini-batches: a NumPy iterator for the scratch path and DataLoaders for the torch path."""
import numpy as np


def minibatches(X, y, batch_size, rng=None, shuffle=True, drop_last=False):
    """Yield (X_batch, y_batch) pairs covering the data once; the last batch may be smaller.

    `drop_last=True` skips that short last batch (a few rows, different ones each
    shuffled epoch), so that every step averages the gradient over `batch_size` examples.
    """
    n = len(X)
    if len(y) != n:
        raise ValueError(f"X has {n} rows but y has {len(y)}; they must match.")
    order = (np.random.default_rng() if rng is None else rng).permutation(n) if shuffle else np.arange(n)
    for start in range(0, n - batch_size + 1 if drop_last else n, batch_size):
        idx = order[start:start + batch_size]
        yield X[idx], y[idx]


def to_loaders(split, batch_size=64, seed=0, drop_last=False):
    """Train and test DataLoaders over a `Split` of NumPy arrays; the training order is seeded.

    `drop_last` applies to the training loader, as in `minibatches`; the test loader keeps every example.
    """
    import torch
    from torch.utils.data import DataLoader, TensorDataset

    def dataset(X, y):
        return TensorDataset(torch.from_numpy(np.ascontiguousarray(X)), torch.from_numpy(np.asarray(y)))

    generator = torch.Generator().manual_seed(seed)
    train = DataLoader(dataset(split.X_train, split.y_train), batch_size=batch_size,
                       shuffle=True, generator=generator, drop_last=drop_last)
    test = DataLoader(dataset(split.X_test, split.y_test), batch_size=max(batch_size, 256))
    return train, test
