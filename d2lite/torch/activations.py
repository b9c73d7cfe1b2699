"""Activation functions in PyTorch, mirroring d2lite.scratch.activations."""
import torch
from torch import nn


def relu(x):
    return torch.clamp(x, min=0.0)


def sigmoid(x):
    """1 / (1 + exp(-x)) without overflow, written with exp(-|x|) like the scratch version."""
    e = torch.exp(-x.abs())
    return torch.where(x >= 0, 1.0 / (1.0 + e), e / (1.0 + e))


def tanh(x):
    return torch.tanh(x)


class ReLU(nn.Module):
    def forward(self, x):
        return relu(x)


class Sigmoid(nn.Module):
    def forward(self, x):
        return sigmoid(x)


class Tanh(nn.Module):
    def forward(self, x):
        return tanh(x)
