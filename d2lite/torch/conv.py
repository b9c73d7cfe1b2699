"""2-D convolution and its transpose in PyTorch, mirroring d2lite.scratch.conv; autograd does the backward.

Two versions of each, as in the scratch module, and a parity test binds them:
`conv2d_unfold` spells out the scratch recipe (torch.nn.functional.unfold is im2col,
then one matrix product) and `conv_transpose2d_fold` its transpose (a matrix product,
then fold, which is col2im); `conv2d` and `conv_transpose2d` call PyTorch's fused
kernels (cuDNN on a GPU), several times faster. The layers run the fused kernels
unless built with `fused=False`. The layers take `device` and `dtype` where the
scratch ones take a NumPy `rng`.
"""
import math

import torch
from torch import nn
from torch.nn import functional as F

from d2lite.scratch.conv import conv_output_size, conv_transpose_output_size

__all__ = ["Conv2d", "ConvTranspose2d", "conv2d", "conv2d_unfold", "conv_output_size",
           "conv_transpose2d", "conv_transpose2d_fold", "conv_transpose_output_size"]


def _check_channels(x, expected, weight, layout):
    if x.ndim != 4:
        raise ValueError(f"x must be (N, C, H, W); got shape {tuple(x.shape)}.")
    if x.shape[1] != expected:
        raise ValueError(f"x has {x.shape[1]} channels but weight expects {expected} "
                         f"(weight is {layout} = {tuple(weight.shape)}).")


def conv2d_unfold(x, weight, bias=None, stride=1, padding=0):
    """The scratch recipe: x (N, C_in, H, W), weight (C_out, C_in, kh, kw) -> (N, C_out, out_h, out_w)."""
    _check_channels(x, weight.shape[1], weight, "(C_out, C_in, kh, kw)")
    n, _, h, w = x.shape
    c_out, _, kh, kw = weight.shape
    cols = F.unfold(x, (kh, kw), padding=padding, stride=stride)   # (N, C_in*kh*kw, L)
    out = weight.reshape(c_out, -1) @ cols                          # (N, C_out, L)
    if bias is not None:
        out = out + bias[:, None]
    out_h, out_w = conv_output_size(h, kh, stride, padding), conv_output_size(w, kw, stride, padding)
    return out.reshape(n, c_out, out_h, out_w)


def conv2d(x, weight, bias=None, stride=1, padding=0):
    """The same function as `conv2d_unfold`, by PyTorch's fused kernel."""
    _check_channels(x, weight.shape[1], weight, "(C_out, C_in, kh, kw)")
    return F.conv2d(x, weight, bias, stride, padding)


def conv_transpose2d_fold(x, weight, bias=None, stride=1, padding=0):
    """The scratch recipe: x (N, C_in, H, W), weight (C_in, C_out, kh, kw); columns Wᵀ @ x, then fold (col2im)."""
    _check_channels(x, weight.shape[0], weight, "(C_in, C_out, kh, kw)")
    n, c_in, h, w = x.shape
    _, c_out, kh, kw = weight.shape
    size = (conv_transpose_output_size(h, kh, stride, padding), conv_transpose_output_size(w, kw, stride, padding))
    cols = weight.reshape(c_in, -1).T @ x.reshape(n, c_in, h * w)    # (N, C_out*kh*kw, H*W)
    out = F.fold(cols, size, (kh, kw), padding=padding, stride=stride)
    return out if bias is None else out + bias[:, None, None]


def conv_transpose2d(x, weight, bias=None, stride=1, padding=0):
    """The same function as `conv_transpose2d_fold`, by PyTorch's fused kernel."""
    _check_channels(x, weight.shape[0], weight, "(C_in, C_out, kh, kw)")
    return F.conv_transpose2d(x, weight, bias, stride, padding)


class _ConvNd(nn.Module):
    """Weight and bias uniform in ±1/sqrt(fan_in), PyTorch's default; fan_in counts the weight's second axis
    times the kernel: C_in for a convolution (C_out, C_in, kh, kw), C_out for its transpose (C_in, C_out, kh, kw)."""

    def __init__(self, in_channels, out_channels, kernel_size, stride, padding, bias, fused, device, dtype,
                 transposed):
        super().__init__()
        kh, kw = (kernel_size, kernel_size) if isinstance(kernel_size, int) else tuple(kernel_size)
        shape = (in_channels, out_channels, kh, kw) if transposed else (out_channels, in_channels, kh, kw)
        bound = 1.0 / math.sqrt(shape[1] * kh * kw)
        factory = {"device": device, "dtype": dtype}
        self.weight = nn.Parameter(torch.empty(*shape, **factory).uniform_(-bound, bound))
        self.bias = nn.Parameter(torch.empty(out_channels, **factory).uniform_(-bound, bound)) if bias else None
        self.in_channels, self.out_channels, self.kernel_size = in_channels, out_channels, (kh, kw)
        self.stride, self.padding, self.fused = stride, padding, fused

    def extra_repr(self):
        return (f"{self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}, stride={self.stride}, "
                f"padding={self.padding}, bias={self.bias is not None}, fused={self.fused}")


class Conv2d(_ConvNd):
    """A convolution layer; weight (C_out, C_in, kh, kw), uniform in ±1/sqrt(C_in * kh * kw) like its bias.

    `kernel_size` is an int or a pair (kh, kw); `fused=False` runs `conv2d_unfold` instead of `conv2d`.
    """

    def __init__(self, in_channels, out_channels, kernel_size, stride=1, padding=0, bias=True, fused=True,
                 device=None, dtype=None):
        super().__init__(in_channels, out_channels, kernel_size, stride, padding, bias, fused, device, dtype,
                         transposed=False)

    def forward(self, x):
        conv = conv2d if self.fused else conv2d_unfold
        return conv(x, self.weight, self.bias, self.stride, self.padding)


class ConvTranspose2d(_ConvNd):
    """A transposed convolution (learned upsampling); weight (C_in, C_out, kh, kw), uniform in ±1/sqrt(C_out * kh * kw).

    `fused=False` runs `conv_transpose2d_fold` instead of `conv_transpose2d`.
    """

    def __init__(self, in_channels, out_channels, kernel_size, stride=1, padding=0, bias=True, fused=True,
                 device=None, dtype=None):
        super().__init__(in_channels, out_channels, kernel_size, stride, padding, bias, fused, device, dtype,
                         transposed=True)

    def forward(self, x):
        conv = conv_transpose2d if self.fused else conv_transpose2d_fold
        return conv(x, self.weight, self.bias, self.stride, self.padding)
