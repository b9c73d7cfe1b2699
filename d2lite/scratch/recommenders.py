"""Matrix factorization from scratch: a rating is a global mean, two biases and a dot product.

    r̂(u, i) = global_bias + user_bias[u] + item_bias[i] + user_factors[u] · item_factors[i]

Inputs are index arrays (users, items), so backward returns no input gradient; it accumulates
the gradients of the parameters, one row per rating (np.add.at adds repeated rows up). With
`reg` > 0 it adds the gradient of reg/2 · (|p_u|² + |q_i|² + b_u² + b_i²) per rating, averaged
over the batch: the regulariser of Koren, Bell and Volinsky (2009), which only touches the rows
a rating uses.
"""
import numpy as np

from d2lite.scratch.layers import Module, Parameter


class MatrixFactorization(Module):
    """Biased matrix factorization with `k` factors; factors start normal with standard deviation `init_std`."""

    def __init__(self, n_users, n_items, k=32, reg=0.0, init_std=0.1, global_bias=0.0, rng=None,
                 dtype=np.float64):
        rng = np.random.default_rng() if rng is None else rng
        self.user_factors = Parameter((rng.normal(size=(n_users, k)) * init_std).astype(dtype))
        self.item_factors = Parameter((rng.normal(size=(n_items, k)) * init_std).astype(dtype))
        self.user_bias = Parameter(np.zeros(n_users, dtype=dtype))
        self.item_bias = Parameter(np.zeros(n_items, dtype=dtype))
        self.global_bias = Parameter(np.full((), global_bias, dtype=dtype))
        self.reg = reg

    def forward(self, users, items):
        self.users, self.items = np.asarray(users), np.asarray(items)
        p, q = self.user_factors.data[self.users], self.item_factors.data[self.items]
        return (self.global_bias.data + self.user_bias.data[self.users] + self.item_bias.data[self.items]
                + (p * q).sum(axis=1))

    def backward(self, dout):
        """dout = dL/dr̂ (R,).  dp_u = dout q_i,  dq_i = dout p_u,  db_u = db_i = dout,  dμ = Σ dout;
        the regulariser adds reg · row / R for each rating that uses the row."""
        u, i, n = self.users, self.items, len(self.users)
        p, q = self.user_factors.data[u], self.item_factors.data[i]
        np.add.at(self.user_factors.grad, u, dout[:, None] * q + self.reg * p / n)
        np.add.at(self.item_factors.grad, i, dout[:, None] * p + self.reg * q / n)
        np.add.at(self.user_bias.grad, u, dout + self.reg * self.user_bias.data[u] / n)
        np.add.at(self.item_bias.grad, i, dout + self.reg * self.item_bias.data[i] / n)
        self.global_bias.grad += dout.sum()
        return None

    def sgd_step(self, users, items, ratings, lr):
        """One SGD step on a batch, written out and applied only to the rows the batch uses.

        The same gradient as `backward` with dout = r̂ − r (a sum over the batch, as if each rating
        took its own step): e = r̂ − r, then p_u −= lr (e q_i + reg p_u), q_i −= lr (e p_u + reg q_i),
        b_u −= lr (e + reg b_u), b_i −= lr (e + reg b_i), μ −= lr · mean(e). Returns the batch's mean ½e².
        """
        users, items = np.asarray(users), np.asarray(items)
        e = self.forward(users, items) - ratings
        p, q = self.user_factors.data[users], self.item_factors.data[items]
        np.add.at(self.user_factors.data, users, -lr * (e[:, None] * q + self.reg * p))
        np.add.at(self.item_factors.data, items, -lr * (e[:, None] * p + self.reg * q))
        np.add.at(self.user_bias.data, users, -lr * (e + self.reg * self.user_bias.data[users]))
        np.add.at(self.item_bias.data, items, -lr * (e + self.reg * self.item_bias.data[items]))
        self.global_bias.data -= lr * e.mean()
        return float(0.5 * np.mean(e ** 2))
