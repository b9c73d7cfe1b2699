"""Losses from scratch: softmax cross-entropy (numerically stable) and mean squared error."""
import numpy as np

from d2lite.scratch.layers import Module


def log_softmax(logits, axis=-1):
    """log(softmax(logits)), stable for any finite logits.

    Subtracting the row maximum leaves the result unchanged (it cancels between
    numerator and denominator) and keeps every exponent <= 0, so exp cannot overflow.
    """
    shifted = logits - logits.max(axis=axis, keepdims=True)
    return shifted - np.log(np.exp(shifted).sum(axis=axis, keepdims=True))


def softmax(logits, axis=-1):
    return np.exp(log_softmax(logits, axis=axis))


def cross_entropy(logits, labels):
    """Mean negative log-likelihood of integer `labels` under softmax(`logits`)."""
    logp = log_softmax(logits)
    return -logp[np.arange(len(labels)), labels].mean()


def one_hot(labels, num_classes):
    out = np.zeros((len(labels), num_classes))
    out[np.arange(len(labels)), labels] = 1.0
    return out


class SoftmaxCrossEntropy(Module):
    """Softmax followed by cross-entropy, fused: the gradient is (softmax - one_hot) / N."""

    def forward(self, logits, labels):
        self.probs = softmax(logits)
        self.labels = np.asarray(labels)
        return cross_entropy(logits, self.labels)

    def backward(self, dout=1.0):
        n, k = self.probs.shape
        return dout * (self.probs - one_hot(self.labels, k).astype(self.probs.dtype)) / n


class MSELoss(Module):
    """Mean of (prediction - target)² over every element."""

    def forward(self, pred, target):
        self.diff = pred - target
        return np.mean(self.diff ** 2)

    def backward(self, dout=1.0):
        return dout * 2.0 * self.diff / self.diff.size
