"""Max and average pooling in PyTorch, mirroring d2lite.scratch.pool; autograd does the backward.

`max_pool2d_unfold` and `avg_pool2d_unfold` spell the recipe out: Tensor.unfold gives
a view of the k×k windows (no copy), each reduced with max or mean. `max_pool2d` and
`avg_pool2d` call PyTorch's fused kernels, which the layers run unless built with
`fused=False`. Windows move by `stride` (default k); windows that would hang over
the edge are dropped, as in PyTorch; there is no padding.
"""
from torch import nn
from torch.nn import functional as F


def _windows(x, k, stride):
    """(N, C, H, W) -> (N, C, out_h, out_w, k*k): every window, flattened."""
    return x.unfold(2, k, stride).unfold(3, k, stride).flatten(-2)


def max_pool2d_unfold(x, k, stride=None):
    """The largest value of each k×k window; the gradient goes to one maximum per window
    (ties: the first in reading order on the CPU, like the scratch version)."""
    return _windows(x, k, k if stride is None else stride).max(dim=-1).values


def avg_pool2d_unfold(x, k, stride=None):
    """The mean of each k×k window."""
    return _windows(x, k, k if stride is None else stride).mean(dim=-1)


def max_pool2d(x, k, stride=None):
    """The same function as `max_pool2d_unfold`, by PyTorch's fused kernel."""
    return F.max_pool2d(x, k, k if stride is None else stride)


def avg_pool2d(x, k, stride=None):
    """The same function as `avg_pool2d_unfold`, by PyTorch's fused kernel."""
    return F.avg_pool2d(x, k, k if stride is None else stride)


class _Pool2d(nn.Module):
    def __init__(self, kernel_size, stride=None, fused=True):
        super().__init__()
        self.kernel_size, self.stride = kernel_size, kernel_size if stride is None else stride
        self.fused = fused

    def extra_repr(self):
        return f"kernel_size={self.kernel_size}, stride={self.stride}, fused={self.fused}"


class MaxPool2d(_Pool2d):
    def forward(self, x):
        pool = max_pool2d if self.fused else max_pool2d_unfold
        return pool(x, self.kernel_size, self.stride)


class AvgPool2d(_Pool2d):
    def forward(self, x):
        pool = avg_pool2d if self.fused else avg_pool2d_unfold
        return pool(x, self.kernel_size, self.stride)
