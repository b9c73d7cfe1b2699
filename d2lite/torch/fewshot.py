"""Prototypical networks in PyTorch: the same logits as d2lite.scratch.fewshot, autograd doing the
backward, and the convolutional embedding that Snell et al. (2017) used for Omniglot.

`prototypical_logits` has the scratch version's signature and result (a parity test binds them);
the prototypes are computed with a one-hot matrix product instead of a loop over classes, so that
an episode's classes cost one product on any device.
"""
import torch
from torch import nn


def prototypes(support, labels, classes):
    """(K, d) class means of support (S, d), one row per entry of `classes`, in that order."""
    classes = torch.as_tensor(classes, device=labels.device)
    one_hot = (labels[None, :] == classes[:, None]).to(support.dtype)          # (K, S)
    counts = one_hot.sum(1, keepdim=True)
    if (counts == 0).any():
        missing = classes[(counts[:, 0] == 0)].tolist()
        raise ValueError(f"classes {missing} have no support example; every class in `classes` needs at least one")
    return one_hot @ support / counts


def prototypical_logits(support, labels, query, classes=None):
    """(Q, K) logits −‖query_q − c_k‖²; column k belongs to classes[k] (default: the sorted distinct labels)."""
    classes = torch.unique(labels) if classes is None else classes
    return -torch.cdist(query, prototypes(support, labels, classes)).square()


def conv_block(c_in, c_out):
    """Conv 3×3 (padding 1), batch norm, ReLU, 2×2 max pooling: the unit of Snell et al.'s embedding."""
    return nn.Sequential(nn.Conv2d(c_in, c_out, 3, padding=1), nn.BatchNorm2d(c_out), nn.ReLU(), nn.MaxPool2d(2))


def conv_embedding(in_channels=1, width=64, blocks=4):
    """`blocks` conv blocks of `width` channels, flattened: (N, 1, 28, 28) -> (N, width) with 4 blocks."""
    layers = [conv_block(in_channels if i == 0 else width, width) for i in range(blocks)]
    return nn.Sequential(*layers, nn.Flatten())
