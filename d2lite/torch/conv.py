"""2-D convolution in PyTorch, mirroring d2lite.scratch.conv; autograd does the backward.

The same recipe as the fast scratch version: unfold the image into columns
(torch.nn.functional.unfold is im2col), then one matrix product with the weight.
"""
import math

import torch
from torch import nn
from torch.nn import functional as F

from d2lite.scratch.conv import conv_output_size

__all__ = ["Conv2d", "conv2d", "conv_output_size"]


def conv2d(x, weight, bias=None, stride=1, padding=0):
    """x (N, C_in, H, W), weight (C_out, C_in, kh, kw), bias (C_out,) -> (N, C_out, out_h, out_w)."""
    n, _, h, w = x.shape
    c_out, c_in, kh, kw = weight.shape
    if x.shape[1] != c_in:
        raise ValueError(f"x has {x.shape[1]} channels but weight expects {c_in} "
                         f"(weight is (C_out, C_in, kh, kw) = {tuple(weight.shape)}).")
    cols = F.unfold(x, (kh, kw), padding=padding, stride=stride)   # (N, C_in*kh*kw, L)
    out = weight.reshape(c_out, -1) @ cols                          # (N, C_out, L)
    if bias is not None:
        out = out + bias[:, None]
    out_h, out_w = conv_output_size(h, kh, stride, padding), conv_output_size(w, kw, stride, padding)
    return out.reshape(n, c_out, out_h, out_w)


class Conv2d(nn.Module):
    """A convolution layer; weight and bias start uniform in ±1/sqrt(C_in * kh * kw), PyTorch's default.

    `kernel_size` is an int or a pair (kh, kw). Like d2lite.torch.Linear it takes
    `device` and `dtype` where the scratch layer takes a NumPy `rng`.
    """

    def __init__(self, in_channels, out_channels, kernel_size, stride=1, padding=0, bias=True,
                 device=None, dtype=None):
        super().__init__()
        kh, kw = (kernel_size, kernel_size) if isinstance(kernel_size, int) else kernel_size
        bound = 1.0 / math.sqrt(in_channels * kh * kw)
        factory = {"device": device, "dtype": dtype}
        self.weight = nn.Parameter(torch.empty(out_channels, in_channels, kh, kw, **factory).uniform_(-bound, bound))
        self.bias = nn.Parameter(torch.empty(out_channels, **factory).uniform_(-bound, bound)) if bias else None
        self.stride, self.padding = stride, padding

    def forward(self, x):
        return conv2d(x, self.weight, self.bias, self.stride, self.padding)

    def extra_repr(self):
        c_out, c_in, kh, kw = self.weight.shape
        return (f"{c_in}, {c_out}, kernel_size=({kh}, {kw}), stride={self.stride}, "
                f"padding={self.padding}, bias={self.bias is not None}")
