"""Max and average pooling from scratch, built on im2col/col2im from d2lite.scratch.conv.

Each channel is pooled on its own: x (N, C, H, W) is viewed as N*C one-channel
images, whose k×k windows become columns. A square window of size k moves by
`stride` (default k, as in PyTorch); windows that would hang over the edge are
dropped (PyTorch's default, ceil_mode=False). There is no padding.
"""
import numpy as np

from d2lite.scratch.conv import col2im, conv_output_size, im2col
from d2lite.scratch.layers import Module


def _columns(x, k, stride):
    """Windows of every channel as columns (N*C, k*k, L), and the pooled output's shape."""
    n, c, h, w = x.shape
    cols = im2col(x.reshape(n * c, 1, h, w), k, k, stride)
    return cols, (n, c, conv_output_size(h, k, stride), conv_output_size(w, k, stride))


def _fold(dcols, x_shape, k, stride):
    """Sum column gradients back onto the input (col2im, channel by channel)."""
    n, c, h, w = x_shape
    return col2im(dcols, (n * c, 1, h, w), k, k, stride).reshape(x_shape)


def max_pool2d(x, k, stride=None):
    """The largest value of each k×k window."""
    cols, shape = _columns(x, k, k if stride is None else stride)
    return cols.max(axis=1).reshape(shape)


def avg_pool2d(x, k, stride=None):
    """The mean of each k×k window."""
    cols, shape = _columns(x, k, k if stride is None else stride)
    return cols.mean(axis=1).reshape(shape)


class MaxPool2d(Module):
    """Max pooling. Backward sends each output's gradient to the input that was the maximum.

    Ties: the gradient goes to one element only, the first maximum in reading
    order (row by row, left to right) within the window, as PyTorch does on the CPU.
    """

    def __init__(self, kernel_size, stride=None):
        self.kernel_size = kernel_size
        self.stride = kernel_size if stride is None else stride

    def forward(self, x):
        self.x_shape = x.shape
        cols, shape = _columns(x, self.kernel_size, self.stride)
        self.argmax = cols.argmax(axis=1)[:, None]           # (N*C, 1, L); argmax keeps the first tie
        self.cols_shape = cols.shape
        return np.take_along_axis(cols, self.argmax, axis=1).reshape(shape)

    def backward(self, dout):
        dcols = np.zeros(self.cols_shape, dtype=dout.dtype)
        np.put_along_axis(dcols, self.argmax, dout.reshape(self.argmax.shape), axis=1)
        return _fold(dcols, self.x_shape, self.kernel_size, self.stride)


class AvgPool2d(Module):
    """Average pooling. Backward shares each output's gradient equally among its k*k inputs."""

    def __init__(self, kernel_size, stride=None):
        self.kernel_size = kernel_size
        self.stride = kernel_size if stride is None else stride

    def forward(self, x):
        self.x_shape = x.shape
        return avg_pool2d(x, self.kernel_size, self.stride)

    def backward(self, dout):
        n, c, out_h, out_w = dout.shape
        k2 = self.kernel_size ** 2
        dcols = np.broadcast_to(dout.reshape(n * c, 1, out_h * out_w) / k2, (n * c, k2, out_h * out_w))
        return _fold(dcols, self.x_shape, self.kernel_size, self.stride)
