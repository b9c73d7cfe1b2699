"""Normalization layers in PyTorch, mirroring d2lite.scratch.normalization; autograd does the backward.

For batch norm, `batch_norm` spells the computation out (batch statistics, running estimates, eval
mode); the modules run PyTorch's fused F.batch_norm, which computes the same thing
several times faster, and a test binds the two (and both to torch.nn.BatchNorm).
Parameter and buffer names are torch.nn's (weight, bias, running_mean, running_var,
num_batches_tracked), so state dicts load into either.

LayerNorm is written from tensor ops; its parameters are named like torch.nn.LayerNorm's (weight, bias).
"""
import torch
import torch.nn.functional as F
from torch import nn


def batch_norm(x, weight, bias, running_mean, running_var, training, momentum, eps):
    """Normalise each channel (axis 1) over every other axis; in training, with the batch's statistics
    and updating the running ones in place (variance unbiased); in eval, with the running ones."""
    axes = [0] + list(range(2, x.dim()))
    shape = (1, -1) + (1,) * (x.dim() - 2)
    if training:
        m = x.numel() // x.shape[1]
        mean = x.mean(dim=axes)
        var = x.var(dim=axes, unbiased=False)
        with torch.no_grad():
            running_mean.lerp_(mean, momentum)
            running_var.lerp_(var * m / (m - 1), momentum)
    else:
        mean, var = running_mean, running_var
    x_hat = (x - mean.reshape(shape)) * torch.rsqrt(var.reshape(shape) + eps)
    return x_hat * weight.reshape(shape) + bias.reshape(shape)


class _BatchNorm(nn.Module):
    ndim = None

    def __init__(self, num_features, eps=1e-5, momentum=0.1, device=None, dtype=None):
        super().__init__()
        kw = {"device": device, "dtype": dtype}
        self.num_features, self.eps, self.momentum = num_features, eps, momentum
        self.weight = nn.Parameter(torch.ones(num_features, **kw))
        self.bias = nn.Parameter(torch.zeros(num_features, **kw))
        self.register_buffer("running_mean", torch.zeros(num_features, **kw))
        self.register_buffer("running_var", torch.ones(num_features, **kw))
        self.register_buffer("num_batches_tracked", torch.tensor(0, dtype=torch.long, device=device))

    def forward(self, x):
        if x.dim() != self.ndim or x.shape[1] != self.num_features:
            raise ValueError(f"{type(self).__name__}({self.num_features}) expects {self.ndim}-D input with "
                             f"{self.num_features} channels on axis 1, got shape {tuple(x.shape)}")
        if self.training:
            if x.numel() // self.num_features < 2:
                raise ValueError("batch norm in training mode needs more than one value per channel: "
                                 "use a batch of at least 2 (or call .eval())")
            self.num_batches_tracked += 1
        return F.batch_norm(x, self.running_mean, self.running_var, self.weight, self.bias, self.training,
                            self.momentum, self.eps)

    def extra_repr(self):
        return f"{self.num_features}, eps={self.eps}, momentum={self.momentum}"


class BatchNorm1d(_BatchNorm):
    """Batch norm for (N, C) inputs: one mean and variance per feature."""
    ndim = 2


class BatchNorm2d(_BatchNorm):
    """Batch norm for (N, C, H, W) inputs: one mean and variance per channel, over N, H and W."""
    ndim = 4


class LayerNorm(nn.Module):
    """y = (x − mean) / sqrt(var + eps) · weight + bias over the last axis; autograd does the backward."""

    def __init__(self, dim, eps=1e-5, device=None, dtype=None):
        super().__init__()
        factory = {"device": device, "dtype": dtype}
        self.weight = nn.Parameter(torch.ones(dim, **factory))
        self.bias = nn.Parameter(torch.zeros(dim, **factory))
        self.eps = eps

    def forward(self, x):
        mean = x.mean(dim=-1, keepdim=True)
        var = x.var(dim=-1, unbiased=False, keepdim=True)
        return (x - mean) * torch.rsqrt(var + self.eps) * self.weight + self.bias

    def extra_repr(self):
        return f"{self.weight.shape[0]}, eps={self.eps}"
