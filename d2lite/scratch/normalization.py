"""Normalization layers from scratch: LayerNorm."""
import numpy as np

from d2lite.scratch.layers import Module, Parameter


class LayerNorm(Module):
    """y = (x − mean) / sqrt(var + eps) · weight + bias, statistics over the last axis of each row.

    mean and var (the biased variance) are per position, so a layer norm behaves the same for
    a batch of one and in training and evaluation. weight starts at ones, bias at zeros (torch.nn.LayerNorm).
    """

    def __init__(self, dim, eps=1e-5, dtype=np.float64):
        self.weight = Parameter(np.ones(dim, dtype=dtype))
        self.bias = Parameter(np.zeros(dim, dtype=dtype))
        self.eps = eps

    def forward(self, x):
        mean = x.mean(axis=-1, keepdims=True)
        centred = x - mean
        self.inv_std = 1.0 / np.sqrt((centred * centred).mean(axis=-1, keepdims=True) + self.eps)
        self.xhat = centred * self.inv_std
        return self.xhat * self.weight.data + self.bias.data

    def backward(self, dout):
        """dweight = Σ dout·x̂ and dbias = Σ dout over rows; with g = dout·weight,
        dx = inv_std · (g − mean(g) − x̂·mean(g·x̂)), the mean and the variance each taking their share."""
        rows = tuple(range(dout.ndim - 1))
        self.weight.grad += (dout * self.xhat).sum(axis=rows)
        self.bias.grad += dout.sum(axis=rows)
        g = dout * self.weight.data
        return self.inv_std * (g - g.mean(axis=-1, keepdims=True)
                               - self.xhat * (g * self.xhat).mean(axis=-1, keepdims=True))
