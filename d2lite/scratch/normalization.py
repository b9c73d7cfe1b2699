"""Normalization layers from scratch: batch norm (Ioffe and Szegedy, 2015), for (N, C) and (N, C, H, W)
inputs, and layer norm (Ba, Kiros and Hinton, 2016), over the last axis.

Batch norm, in training: each channel is normalised by the mean and (biased) variance of the
batch, over N (and H, W), then scaled and shifted: y = x̂·weight + bias with
x̂ = (x − μ)/√(σ² + eps). Running estimates are updated on the way,
running ← (1 − momentum)·running + momentum·batch (the variance unbiased, as in
PyTorch); eval mode normalises with them instead. Names match torch.nn.BatchNorm.
"""
import numpy as np

from d2lite.scratch.layers import Module, Parameter


class _BatchNorm(Module):
    ndim = None  # the input's number of axes

    def __init__(self, num_features, eps=1e-5, momentum=0.1, dtype=np.float64):
        self.num_features, self.eps, self.momentum = num_features, eps, momentum
        self.weight = Parameter(np.ones(num_features, dtype=dtype))
        self.bias = Parameter(np.zeros(num_features, dtype=dtype))
        self.running_mean = np.zeros(num_features, dtype=dtype)
        self.running_var = np.ones(num_features, dtype=dtype)

    def forward(self, x):
        if x.ndim != self.ndim or x.shape[1] != self.num_features:
            raise ValueError(f"{type(self).__name__}({self.num_features}) expects {self.ndim}-D input with "
                             f"{self.num_features} channels on axis 1, got shape {x.shape}")
        self.axes = (0,) + tuple(range(2, x.ndim))   # every axis but the channels
        shape = (1, -1) + (1,) * (x.ndim - 2)        # a channel vector broadcast against x
        self.batch_stats = self.training
        if self.training:
            m = x.size // self.num_features
            if m < 2:
                raise ValueError("batch norm in training mode needs more than one value per channel: "
                                 "use a batch of at least 2 (or call .eval())")
            mean, var = x.mean(axis=self.axes), x.var(axis=self.axes)
            self.running_mean += self.momentum * (mean - self.running_mean)
            self.running_var += self.momentum * (var * m / (m - 1) - self.running_var)
        else:
            mean, var = self.running_mean, self.running_var
        self.inv_std = (1.0 / np.sqrt(var + self.eps)).reshape(shape)
        self.x_hat = (x - mean.reshape(shape)) * self.inv_std
        self.shape = shape
        return self.x_hat * self.weight.data.reshape(shape) + self.bias.data.reshape(shape)

    def backward(self, dout):
        """dweight = Σ dout·x̂;  dbias = Σ dout;  with g = dout·weight and m values per channel,
        dx = (m·g − Σg − x̂·Σ(g·x̂)) / (m·√(σ² + eps)) in training (μ and σ² depend on x),
        dx = g / √(running_var + eps) in eval mode."""
        self.weight.grad += (dout * self.x_hat).sum(axis=self.axes)
        self.bias.grad += dout.sum(axis=self.axes)
        g = dout * self.weight.data.reshape(self.shape)
        if not self.batch_stats:
            return g * self.inv_std
        m = dout.size // self.num_features
        sum_g = g.sum(axis=self.axes, keepdims=True)
        sum_gx = (g * self.x_hat).sum(axis=self.axes, keepdims=True)
        return (m * g - sum_g - self.x_hat * sum_gx) * self.inv_std / m


class BatchNorm1d(_BatchNorm):
    """Batch norm over the batch for (N, C) inputs: one mean and variance per feature."""
    ndim = 2


class BatchNorm2d(_BatchNorm):
    """Batch norm for (N, C, H, W) inputs: one mean and variance per channel, over N, H and W."""
    ndim = 4


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
