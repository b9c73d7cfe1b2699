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
    """Every window of every channel as a column: (k*k, out_h * out_w * N * C), as im2col lays them out."""
    n, c, h, w = x.shape
    return im2col(x.reshape(n * c, 1, h, w), k, k, stride)


def _to_image(row, x_shape, k, stride):
    """One value per window, (out_h * out_w * N * C,) in im2col's column order, as (N, C, out_h, out_w)."""
    n, c, h, w = x_shape
    out_h, out_w = conv_output_size(h, k, stride), conv_output_size(w, k, stride)
    return row.reshape(out_h, out_w, n, c).transpose(2, 3, 0, 1)


def _fold(dcols, x_shape, k, stride):
    """Sum column gradients back onto the input (col2im, channel by channel)."""
    n, c, h, w = x_shape
    return col2im(dcols, (n * c, 1, h, w), k, k, stride).reshape(x_shape)


def max_pool2d(x, k, stride=None):
    """The largest value of each k×k window."""
    stride = k if stride is None else stride
    return _to_image(_columns(x, k, stride).max(axis=0), x.shape, k, stride)


def avg_pool2d(x, k, stride=None):
    """The mean of each k×k window."""
    stride = k if stride is None else stride
    return _to_image(_columns(x, k, stride).mean(axis=0), x.shape, k, stride)


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
        cols = _columns(x, self.kernel_size, self.stride)
        self.argmax = cols.argmax(axis=0)[None]          # (1, windows); argmax keeps the first tie
        self.cols_shape = cols.shape
        out = np.take_along_axis(cols, self.argmax, axis=0)[0]
        return _to_image(out, x.shape, self.kernel_size, self.stride)

    def backward(self, dout):
        dcols = np.zeros(self.cols_shape, dtype=dout.dtype)
        np.put_along_axis(dcols, self.argmax, dout.transpose(2, 3, 0, 1).reshape(1, -1), axis=0)
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
        k2 = self.kernel_size ** 2
        per_window = dout.transpose(2, 3, 0, 1).reshape(1, -1) / k2   # im2col's column order
        return _fold(np.broadcast_to(per_window, (k2, per_window.shape[1])), self.x_shape,
                     self.kernel_size, self.stride)
