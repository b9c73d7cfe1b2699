"""Batch normalization in PyTorch, mirroring d2lite.scratch.normalization; autograd does the backward.

The forward is spelled out (batch statistics, running estimates, eval mode) and
parity-tested against torch.nn.BatchNorm1d/2d; parameter and buffer names are
theirs (weight, bias, running_mean, running_var, num_batches_tracked), so state
dicts load into either.
"""
import torch
from torch import nn


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
        axes = [0] + list(range(2, x.dim()))
        shape = (1, -1) + (1,) * (x.dim() - 2)
        if self.training:
            m = x.numel() // self.num_features
            if m < 2:
                raise ValueError("batch norm in training mode needs more than one value per channel: "
                                 "use a batch of at least 2 (or call .eval())")
            mean = x.mean(dim=axes)
            var = x.var(dim=axes, unbiased=False)
            with torch.no_grad():
                self.running_mean.lerp_(mean, self.momentum)
                self.running_var.lerp_(var * m / (m - 1), self.momentum)
                self.num_batches_tracked += 1
        else:
            mean, var = self.running_mean, self.running_var
        x_hat = (x - mean.reshape(shape)) * torch.rsqrt(var.reshape(shape) + self.eps)
        return x_hat * self.weight.reshape(shape) + self.bias.reshape(shape)

    def extra_repr(self):
        return f"{self.num_features}, eps={self.eps}, momentum={self.momentum}"


class BatchNorm1d(_BatchNorm):
    """Batch norm for (N, C) inputs: one mean and variance per feature."""
    ndim = 2


class BatchNorm2d(_BatchNorm):
    """Batch norm for (N, C, H, W) inputs: one mean and variance per channel, over N, H and W."""
    ndim = 4
