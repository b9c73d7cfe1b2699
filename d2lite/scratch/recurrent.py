"""Recurrent layers from scratch: RNN, LSTM and GRU, with backpropagation through time (BPTT).

Shapes are batch first: a sequence x is (N, T, input_size). A layer returns the hidden state
of every step, (N, T, H), and its final state: h (N, H) for RNN and GRU, (h, c) for LSTM.
(torch.nn returns final states with an extra leading layer axis; ours have none.)

Weights follow torch.nn.RNN/LSTM/GRU, names and layout alike, so that state dicts interchange:
weight_ih_l0 is (G·H, input_size) and weight_hh_l0 is (G·H, H), with G gates stacked by rows,
applied as x @ weight_ih_l0.T + bias_ih_l0 (like convolution weights, output rows first).
Gate order is PyTorch's: LSTM rows are (input i, forget f, candidate g, output o);
GRU rows are (reset r, update z, candidate n).

`forward(x, state=None)` remembers what BPTT needs. `backward(dout, dstate=None)` takes the
gradient of the loss with respect to every output (N, T, H), and optionally with respect to
the final state, walks the steps in reverse, adds to each parameter's `grad` and returns dx;
the gradient with respect to the initial state is left in `self.dstate0`.
"""
import numpy as np

from d2lite.scratch.activations import sigmoid
from d2lite.scratch.layers import Module, Parameter


def rnn_cell(x, h, w_ih, w_hh, b_ih, b_hh):
    """One step of the tanh RNN: h' = tanh(x @ w_ih.T + b_ih + h @ w_hh.T + b_hh)."""
    return np.tanh(x @ w_ih.T + b_ih + h @ w_hh.T + b_hh)


def lstm_cell(x, h, c, w_ih, w_hh, b_ih, b_hh):
    """One LSTM step; returns (h', c').

    [i, f, g, o] = x @ w_ih.T + b_ih + h @ w_hh.T + b_hh, split in four along the last axis;
    c' = σ(f)·c + σ(i)·tanh(g) and h' = σ(o)·tanh(c').
    """
    i, f, g, o = np.split(x @ w_ih.T + b_ih + h @ w_hh.T + b_hh, 4, axis=-1)
    c_new = sigmoid(f) * c + sigmoid(i) * np.tanh(g)
    return sigmoid(o) * np.tanh(c_new), c_new


def gru_cell(x, h, w_ih, w_hh, b_ih, b_hh):
    """One GRU step, PyTorch's variant (the reset gate multiplies the projected state):

    r = σ(x_r + h_r), z = σ(x_z + h_z), n = tanh(x_n + r·h_n), h' = (1 − z)·n + z·h,
    where x_* are the thirds of x @ w_ih.T + b_ih and h_* those of h @ w_hh.T + b_hh.
    """
    xr, xz, xn = np.split(x @ w_ih.T + b_ih, 3, axis=-1)
    hr, hz, hn = np.split(h @ w_hh.T + b_hh, 3, axis=-1)
    r, z = sigmoid(xr + hr), sigmoid(xz + hz)
    n = np.tanh(xn + r * hn)
    return (1 - z) * n + z * h


class _Recurrent(Module):
    """The loop over time shared by RNN, LSTM and GRU; subclasses define one step and its backward.

    The input projection of all steps is one matrix product before the loop, x @ W_ih.T, and
    its gradients are one product after the backward loop; only h @ W_hh.T runs step by step.
    """

    gates = 1
    states = 1  # how many arrays the state holds: (h,), or (h, c) for the LSTM

    def __init__(self, input_size, hidden_size, rng=None, dtype=np.float64):
        rng = np.random.default_rng() if rng is None else rng
        bound = 1.0 / np.sqrt(hidden_size)  # PyTorch's default: every weight uniform in ±1/sqrt(H)
        rows = self.gates * hidden_size

        def init(*shape):
            return Parameter(rng.uniform(-bound, bound, shape).astype(dtype))

        self.weight_ih_l0, self.weight_hh_l0 = init(rows, input_size), init(rows, hidden_size)
        self.bias_ih_l0, self.bias_hh_l0 = init(rows), init(rows)
        self.input_size, self.hidden_size = input_size, hidden_size

    def state_dict(self):
        return {name: p.data for name, p in vars(self).items() if isinstance(p, Parameter)}

    def load_state_dict(self, arrays):
        """Copy weights in from a dict such as `{k: v.numpy() for k, v in torch_lstm.state_dict().items()}`."""
        for name, p in vars(self).items():
            if isinstance(p, Parameter):
                value = np.asarray(arrays[name], dtype=p.data.dtype)
                if value.shape != p.data.shape:
                    raise ValueError(f"{name}: expected shape {p.data.shape}, got {value.shape}.")
                p.data = value.copy()

    def _as_tuple(self, state, n, dtype):
        if state is None:
            return tuple(np.zeros((n, self.hidden_size), dtype) for _ in range(self.states))
        return (state,) if self.states == 1 else tuple(state)

    def forward(self, x, state=None):
        if x.ndim != 3 or x.shape[2] != self.input_size:
            raise ValueError(f"x must be (N, T, {self.input_size}) (batch first); got shape {x.shape}.")
        n, t_len, _ = x.shape
        state = self._as_tuple(state, n, x.dtype)
        w_hh, b_hh = self.weight_hh_l0.data, self.bias_hh_l0.data
        xw = x @ self.weight_ih_l0.data.T + self.bias_ih_l0.data   # (N, T, G·H): every step's input part at once
        out = np.empty((n, t_len, self.hidden_size), dtype=np.result_type(x, w_hh))
        self.x, self.h_prev, self.caches = x, np.empty_like(out), []
        for t in range(t_len):
            self.h_prev[:, t] = state[0]
            state, cache = self._step(xw[:, t], state[0] @ w_hh.T + b_hh, state)
            self.caches.append(cache)
            out[:, t] = state[0]
        return out, (state[0] if self.states == 1 else state)

    def backward(self, dout, dstate=None):
        """BPTT: at step t the state's gradient is dout[:, t] plus what flows back from step t + 1."""
        n, t_len, h = dout.shape
        w_hh = self.weight_hh_l0.data
        dstate = list(self._as_tuple(dstate, n, dout.dtype))
        dxw = np.empty((n, t_len, self.gates * h), dtype=dout.dtype)
        dhh = np.empty_like(dxw)
        for t in reversed(range(t_len)):
            dstate[0] = dstate[0] + dout[:, t]
            dxw[:, t], dhh[:, t], dstate = self._step_backward(dstate, self.caches[t])
            dstate[0] = dstate[0] + dhh[:, t] @ w_hh          # the path through h @ W_hh.T
        flat_x, flat_h = self.x.reshape(-1, self.input_size), self.h_prev.reshape(-1, h)
        self.weight_ih_l0.grad += dxw.reshape(-1, self.gates * h).T @ flat_x
        self.weight_hh_l0.grad += dhh.reshape(-1, self.gates * h).T @ flat_h
        self.bias_ih_l0.grad += dxw.sum(axis=(0, 1))
        self.bias_hh_l0.grad += dhh.sum(axis=(0, 1))
        self.dstate0 = dstate[0] if self.states == 1 else tuple(dstate)
        return dxw @ self.weight_ih_l0.data

    def __repr__(self):
        return f"{type(self).__name__}({self.input_size}, {self.hidden_size})"


class RNN(_Recurrent):
    """h_t = tanh(x_t @ W_ih.T + b_ih + h_{t-1} @ W_hh.T + b_hh); weights as torch.nn.RNN(nonlinearity='tanh')."""

    def _step(self, xw, hh, state):
        h = np.tanh(xw + hh)
        return (h,), h

    def _step_backward(self, dstate, h):
        """h = tanh(a) with a = xw + hh, so da = dh·(1 − h²), and a passes da to both of its terms."""
        da = dstate[0] * (1 - h * h)
        return da, da, [np.zeros_like(da)]


class LSTM(_Recurrent):
    """The long short-term memory of `lstm_cell`, over a sequence; weights as torch.nn.LSTM (gates i, f, g, o)."""

    gates, states = 4, 2

    def _step(self, xw, hh, state):
        _, c_prev = state
        i, f, g, o = np.split(xw + hh, 4, axis=-1)
        i, f, g, o = sigmoid(i), sigmoid(f), np.tanh(g), sigmoid(o)
        c = f * c_prev + i * g
        tc = np.tanh(c)
        h = o * tc
        return (h, c), (i, f, g, o, c_prev, tc)

    def _step_backward(self, dstate, cache):
        """dc gathers dc' and dh·o·(1 − tanh²c); then di = dc·g, df = dc·c_prev, dg = dc·i, do = dh·tanh c,
        each times its activation's derivative; the previous cell gets dc·f."""
        dh, dc = dstate
        i, f, g, o, c_prev, tc = cache
        dc = dc + dh * o * (1 - tc * tc)
        da = np.concatenate([dc * g * i * (1 - i), dc * c_prev * f * (1 - f),
                             dc * i * (1 - g * g), dh * tc * o * (1 - o)], axis=-1)
        return da, da, [np.zeros_like(dh), dc * f]


class GRU(_Recurrent):
    """The gated recurrent unit of `gru_cell`, over a sequence; weights as torch.nn.GRU (gates r, z, n)."""

    gates = 3

    def _step(self, xw, hh, state):
        h_prev = state[0]
        xr, xz, xn = np.split(xw, 3, axis=-1)
        hr, hz, hn = np.split(hh, 3, axis=-1)
        r, z = sigmoid(xr + hr), sigmoid(xz + hz)
        n = np.tanh(xn + r * hn)
        h = (1 - z) * n + z * h_prev
        return (h,), (r, z, n, hn, h_prev)

    def _step_backward(self, dstate, cache):
        """From h' = (1 − z)·n + z·h: dn = dh'·(1 − z), dz = dh'·(h − n), and h gets dh'·z directly;
        n = tanh(x_n + r·h_n) gives dx_n = dn·(1 − n²), dh_n = dx_n·r and dr = dx_n·h_n."""
        dh = dstate[0]
        r, z, n, hn, h_prev = cache
        dan = dh * (1 - z) * (1 - n * n)
        dar = dan * hn * r * (1 - r)
        daz = dh * (h_prev - n) * z * (1 - z)
        return (np.concatenate([dar, daz, dan], axis=-1), np.concatenate([dar, daz, dan * r], axis=-1),
                [dh * z])
