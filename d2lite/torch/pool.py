"""Max and average pooling in PyTorch, mirroring d2lite.scratch.pool; autograd does the backward.

Tensor.unfold gives a view of the k×k windows (no copy); each window is then
reduced with max or mean. Windows move by `stride` (default k); windows that
would hang over the edge are dropped, as in PyTorch; there is no padding.
"""
from torch import nn


def _windows(x, k, stride):
    """(N, C, H, W) -> (N, C, out_h, out_w, k*k): every window, flattened."""
    return x.unfold(2, k, stride).unfold(3, k, stride).flatten(-2)


def max_pool2d(x, k, stride=None):
    """The largest value of each k×k window; the gradient goes to one maximum per window
    (ties: the first in reading order on the CPU, like the scratch version)."""
    return _windows(x, k, k if stride is None else stride).max(dim=-1).values


def avg_pool2d(x, k, stride=None):
    """The mean of each k×k window."""
    return _windows(x, k, k if stride is None else stride).mean(dim=-1)


class _Pool2d(nn.Module):
    def __init__(self, kernel_size, stride=None):
        super().__init__()
        self.kernel_size, self.stride = kernel_size, kernel_size if stride is None else stride

    def extra_repr(self):
        return f"kernel_size={self.kernel_size}, stride={self.stride}"


class MaxPool2d(_Pool2d):
    def forward(self, x):
        return max_pool2d(x, self.kernel_size, self.stride)


class AvgPool2d(_Pool2d):
    def forward(self, x):
        return avg_pool2d(x, self.kernel_size, self.stride)
