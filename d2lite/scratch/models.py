"""Whole models assembled from d2lite.scratch layers."""
import numpy as np

from d2lite.scratch.activations import ReLU
from d2lite.scratch.conv import Conv2d
from d2lite.scratch.layers import Flatten, Linear, Sequential
from d2lite.scratch.pool import MaxPool2d


def lenet(rng=None, in_channels=1, image_size=8, channels=(16, 32), hidden=128, num_classes=10,
          dtype=np.float64):
    """A small LeNet-style CNN: two (3×3 convolution, ReLU, 2×2 max-pool) stages, then an MLP head.

    The convolutions pad by 1, so only the pools shrink the image: 8×8 → 4×4 → 2×2
    for the digits (image_size=8), 28×28 → 7×7 for Fashion-MNIST (image_size=28).
    """
    rng = np.random.default_rng() if rng is None else rng
    c1, c2 = channels
    side = image_size // 2 // 2
    return Sequential(
        Conv2d(in_channels, c1, 3, padding=1, rng=rng, dtype=dtype), ReLU(), MaxPool2d(2),
        Conv2d(c1, c2, 3, padding=1, rng=rng, dtype=dtype), ReLU(), MaxPool2d(2),
        Flatten(),
        Linear(c2 * side * side, hidden, rng=rng, dtype=dtype), ReLU(),
        Linear(hidden, num_classes, rng=rng, dtype=dtype),
    )
