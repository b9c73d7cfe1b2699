"""Activation functions in PyTorch, mirroring d2lite.scratch.activations."""
import torch
from torch import nn


def relu(x):
    return torch.where(x > 0, x, torch.zeros_like(x))  # derivative 0 at x = 0, like torch.relu


def sigmoid(x):
    """1 / (1 + exp(-x)) without overflow: exp(-|x|), like the scratch version.

    -|x| is written with `where` rather than abs() so that autograd's derivative
    at x = 0 is right (abs() has derivative 0 there).
    """
    positive = x >= 0
    e = torch.exp(torch.where(positive, -x, x))
    return torch.where(positive, 1.0 / (1.0 + e), e / (1.0 + e))


def tanh(x):
    return torch.tanh(x)


class ReLU(nn.Module):
    """`relu` by PyTorch's fused kernel (the same function and gradient, a third of a LeNet step faster)."""

    def forward(self, x):
        return torch.relu(x)


class Sigmoid(nn.Module):
    def forward(self, x):
        return sigmoid(x)


class Tanh(nn.Module):
    def forward(self, x):
        return tanh(x)
