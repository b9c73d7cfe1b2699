"""Mini-batches: a NumPy iterator for the scratch path and DataLoaders for the torch path."""
import numpy as np


def minibatches(X, y, batch_size, rng=None, shuffle=True):
    """Yield (X_batch, y_batch) pairs covering the data once; the last batch may be smaller."""
    n = len(X)
    if len(y) != n:
        raise ValueError(f"X has {n} rows but y has {len(y)}; they must match.")
    order = (np.random.default_rng() if rng is None else rng).permutation(n) if shuffle else np.arange(n)
    for start in range(0, n, batch_size):
        idx = order[start:start + batch_size]
        yield X[idx], y[idx]


def to_loaders(split, batch_size=64, seed=0):
    """Train and test DataLoaders over a `Split` of NumPy arrays; the training order is seeded."""
    import torch
    from torch.utils.data import DataLoader, TensorDataset

    def dataset(X, y):
        return TensorDataset(torch.from_numpy(np.ascontiguousarray(X)), torch.from_numpy(np.asarray(y)))

    generator = torch.Generator().manual_seed(seed)
    train = DataLoader(dataset(split.X_train, split.y_train), batch_size=batch_size,
                       shuffle=True, generator=generator)
    test = DataLoader(dataset(split.X_test, split.y_test), batch_size=max(batch_size, 256))
    return train, test
