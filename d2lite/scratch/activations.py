"""Activation functions from scratch, as functions and as layers.

Each function has its derivative beside it, written in terms of the input `x`.
"""
import numpy as np

from d2lite.scratch.layers import Module


def relu(x):
    return np.maximum(x, 0.0)


def relu_grad(x):
    """1 where x > 0, else 0 (we take the derivative at 0 to be 0, as PyTorch does)."""
    return (x > 0).astype(np.result_type(x, np.float32))


def sigmoid(x):
    """1 / (1 + exp(-x)), computed without overflow for large |x|."""
    x = np.asarray(x)
    e = np.exp(-np.abs(x))  # never overflows: the exponent is <= 0
    return np.where(x >= 0, 1.0 / (1.0 + e), e / (1.0 + e))


def sigmoid_grad(x):
    s = sigmoid(x)
    return s * (1.0 - s)


def tanh(x):
    return np.tanh(x)


def tanh_grad(x):
    return 1.0 - np.tanh(x) ** 2


class ReLU(Module):
    def forward(self, x):
        self.x = x
        return relu(x)

    def backward(self, dout):
        return dout * relu_grad(self.x)


class Sigmoid(Module):
    def forward(self, x):
        self.out = sigmoid(x)
        return self.out

    def backward(self, dout):
        return dout * self.out * (1.0 - self.out)


class Tanh(Module):
    def forward(self, x):
        self.out = np.tanh(x)
        return self.out

    def backward(self, dout):
        return dout * (1.0 - self.out ** 2)
