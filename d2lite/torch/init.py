"""Weight initialisation for tensors, with the scales of d2lite.scratch.init (fans from the book's layouts).

The functions fill a tensor in place, like torch.nn.init, and return it. Note that
torch.nn.Linear stores its weight as (out, in), so torch.nn.init's fans of a 2-D
tensor are the transpose of ours: use these for d2lite's (in, out) Linear weights.
"""
import math

import torch

from d2lite.scratch.init import fans, he_std, xavier_std

__all__ = ["fans", "he_normal_", "he_std", "he_uniform_", "xavier_normal_", "xavier_std", "xavier_uniform_"]


@torch.no_grad()
def xavier_uniform_(tensor, gain=1.0, generator=None):
    bound = math.sqrt(3.0) * xavier_std(tensor.shape, gain)
    return tensor.uniform_(-bound, bound, generator=generator)


@torch.no_grad()
def xavier_normal_(tensor, gain=1.0, generator=None):
    return tensor.normal_(0.0, xavier_std(tensor.shape, gain), generator=generator)


@torch.no_grad()
def he_normal_(tensor, mode="fan_in", generator=None):
    return tensor.normal_(0.0, he_std(tensor.shape, mode), generator=generator)


@torch.no_grad()
def he_uniform_(tensor, mode="fan_in", generator=None):
    bound = math.sqrt(3.0) * he_std(tensor.shape, mode)
    return tensor.uniform_(-bound, bound, generator=generator)
