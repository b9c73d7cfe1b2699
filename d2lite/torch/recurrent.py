"""RNN, LSTM and GRU in PyTorch, written from tensor operations; autograd does backpropagation through time.

The same recipe as d2lite.scratch.recurrent: batch-first sequences (N, T, input_size), the input
projection of all steps in one product, then a Python loop over time for h @ W_hh.T. Parameters
carry torch.nn's names, layout and gate order (LSTM: i, f, g, o; GRU: r, z, n), so
`ours.load_state_dict(nn.LSTM(..., batch_first=True).state_dict())` works and the outputs agree.
These versions teach; for training, torch.nn.LSTM and friends run one fused kernel per layer
(cuDNN on a GPU), and benchmarks/recurrent_bench.py measures what the loop costs.
Final states are (N, H) here, without torch.nn's leading layer axis.
"""
import math

import torch
from torch import nn

__all__ = ["RNN", "LSTM", "GRU", "rnn_cell", "lstm_cell", "gru_cell"]


def rnn_cell(x, h, w_ih, w_hh, b_ih, b_hh):
    """h' = tanh(x @ w_ih.T + b_ih + h @ w_hh.T + b_hh)."""
    return torch.tanh(x @ w_ih.T + b_ih + h @ w_hh.T + b_hh)


def lstm_cell(x, h, c, w_ih, w_hh, b_ih, b_hh):
    """(h', c') with c' = σ(f)·c + σ(i)·tanh(g), h' = σ(o)·tanh(c'); gates i, f, g, o in that order."""
    i, f, g, o = (x @ w_ih.T + b_ih + h @ w_hh.T + b_hh).chunk(4, dim=-1)
    c_new = torch.sigmoid(f) * c + torch.sigmoid(i) * torch.tanh(g)
    return torch.sigmoid(o) * torch.tanh(c_new), c_new


def gru_cell(x, h, w_ih, w_hh, b_ih, b_hh):
    """h' = (1 − z)·n + z·h with r, z = σ(x_r + h_r), σ(x_z + h_z) and n = tanh(x_n + r·h_n)."""
    xr, xz, xn = (x @ w_ih.T + b_ih).chunk(3, dim=-1)
    hr, hz, hn = (h @ w_hh.T + b_hh).chunk(3, dim=-1)
    r, z = torch.sigmoid(xr + hr), torch.sigmoid(xz + hz)
    n = torch.tanh(xn + r * hn)
    return (1 - z) * n + z * h


class _Recurrent(nn.Module):
    gates = 1
    states = 1

    def __init__(self, input_size, hidden_size, device=None, dtype=None):
        super().__init__()
        bound = 1.0 / math.sqrt(hidden_size)
        rows = self.gates * hidden_size
        factory = {"device": device, "dtype": dtype}

        def init(*shape):
            return nn.Parameter(torch.empty(*shape, **factory).uniform_(-bound, bound))

        self.weight_ih_l0, self.weight_hh_l0 = init(rows, input_size), init(rows, hidden_size)
        self.bias_ih_l0, self.bias_hh_l0 = init(rows), init(rows)
        self.input_size, self.hidden_size = input_size, hidden_size

    def forward(self, x, state=None):
        if x.dim() != 3 or x.shape[2] != self.input_size:
            raise ValueError(f"x must be (N, T, {self.input_size}) (batch first); got shape {tuple(x.shape)}.")
        n = x.shape[0]
        if state is None:
            state = tuple(x.new_zeros(n, self.hidden_size) for _ in range(self.states))
        elif self.states == 1:
            state = (state,)
        xw = x @ self.weight_ih_l0.T + self.bias_ih_l0          # (N, T, G·H) for every step at once
        outs = []
        for t in range(x.shape[1]):
            state = self._step(xw[:, t], state[0] @ self.weight_hh_l0.T + self.bias_hh_l0, state)
            outs.append(state[0])
        return torch.stack(outs, dim=1), (state[0] if self.states == 1 else state)

    def extra_repr(self):
        return f"{self.input_size}, {self.hidden_size}"


class RNN(_Recurrent):
    """The tanh RNN over a sequence; weights as torch.nn.RNN(nonlinearity='tanh', batch_first=True)."""

    def _step(self, xw, hh, state):
        return (torch.tanh(xw + hh),)


class LSTM(_Recurrent):
    """The LSTM over a sequence; weights as torch.nn.LSTM(batch_first=True), gates i, f, g, o."""

    gates, states = 4, 2

    def _step(self, xw, hh, state):
        i, f, g, o = (xw + hh).chunk(4, dim=-1)
        c = torch.sigmoid(f) * state[1] + torch.sigmoid(i) * torch.tanh(g)
        return torch.sigmoid(o) * torch.tanh(c), c


class GRU(_Recurrent):
    """The GRU over a sequence; weights as torch.nn.GRU(batch_first=True), gates r, z, n."""

    gates = 3

    def _step(self, xw, hh, state):
        xr, xz, xn = xw.chunk(3, dim=-1)
        hr, hz, hn = hh.chunk(3, dim=-1)
        r, z = torch.sigmoid(xr + hr), torch.sigmoid(xz + hz)
        n = torch.tanh(xn + r * hn)
        return ((1 - z) * n + z * state[0],)
