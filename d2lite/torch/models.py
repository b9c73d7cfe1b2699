"""Whole models assembled from d2lite.torch layers, mirroring d2lite.scratch.models."""
from d2lite.runtime import device as default_device
from d2lite.torch.activations import ReLU
from d2lite.torch.conv import Conv2d
from d2lite.torch.layers import Flatten, Linear, Sequential
from d2lite.torch.pool import MaxPool2d


def lenet(device=None, in_channels=1, image_size=8, channels=(16, 32), hidden=128, num_classes=10, fused=True):
    """A small LeNet-style CNN on `device` (default d2lite.device()); the same layers as the scratch lenet.

    Two (3×3 convolution padded by 1, ReLU, 2×2 max-pool) stages, then Linear, ReLU, Linear:
    8×8 → 4×4 → 2×2 for the digits (image_size=8), 28×28 → 7×7 for Fashion-MNIST (image_size=28).
    Convolutions and pooling run PyTorch's fused kernels; `fused=False` runs the
    unfold versions instead (the same function, several times slower: benchmarks/lenet_bench.py).
    """
    c1, c2 = channels
    side = image_size // 2 // 2
    model = Sequential(
        Conv2d(in_channels, c1, 3, padding=1, fused=fused), ReLU(), MaxPool2d(2, fused=fused),
        Conv2d(c1, c2, 3, padding=1, fused=fused), ReLU(), MaxPool2d(2, fused=fused),
        Flatten(),
        Linear(c2 * side * side, hidden), ReLU(),
        Linear(hidden, num_classes),
    )
    return model.to(default_device() if device is None else device)
