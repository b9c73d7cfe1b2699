"""Recommenders in PyTorch: matrix factorization (the twin of d2lite.scratch.recommenders) and NeuMF.

`MatrixFactorization` keeps the scratch version's parameter names and formula; embeddings
(`nn.Embedding`, a table looked up by index) hold the factor and bias rows, autograd does the
backward, and `regularizer` is the penalty that the scratch backward adds by hand. `NeuMF` is
He et al.'s (2017) neural collaborative filtering: a generalised dot product (GMF) and an MLP
on the two embeddings, joined by one linear layer into a logit "will this user pick this item?".
"""
import torch
from torch import nn


class MatrixFactorization(nn.Module):
    """r̂(u, i) = global_bias + user_bias[u] + item_bias[i] + user_factors[u] · item_factors[i].

    With `sparse=True` the tables' gradients are sparse (only the rows a batch used), which
    torch.optim.SGD (without momentum) and SparseAdam can apply without touching the other rows.
    """

    def __init__(self, n_users, n_items, k=32, reg=0.0, init_std=0.1, global_bias=0.0, sparse=False,
                 device=None, dtype=None):
        super().__init__()
        factory = {"device": device, "dtype": dtype, "sparse": sparse}
        self.user_factors = nn.Embedding(n_users, k, **factory)
        self.item_factors = nn.Embedding(n_items, k, **factory)
        self.user_bias = nn.Embedding(n_users, 1, **factory)
        self.item_bias = nn.Embedding(n_items, 1, **factory)
        self.global_bias = nn.Parameter(torch.tensor(float(global_bias), device=device, dtype=dtype))
        for table in (self.user_factors, self.item_factors):
            nn.init.normal_(table.weight, std=init_std)
        for table in (self.user_bias, self.item_bias):
            nn.init.zeros_(table.weight)
        self.reg = reg

    def forward(self, users, items):
        p, q = self.user_factors(users), self.item_factors(items)
        return (self.global_bias + self.user_bias(users).squeeze(-1) + self.item_bias(items).squeeze(-1)
                + (p * q).sum(dim=-1))

    def regularizer(self, users, items):
        """reg/2 · mean over the batch of |p_u|² + |q_i|² + b_u² + b_i²: only the rows the batch uses."""
        rows = (self.user_factors(users).square().sum(-1) + self.item_factors(items).square().sum(-1)
                + self.user_bias(users).squeeze(-1).square() + self.item_bias(items).squeeze(-1).square())
        return 0.5 * self.reg * rows.mean()


class NeuMF(nn.Module):
    """Neural matrix factorization: logit = w · [p_u ⊙ q_i, MLP([p'_u, q'_i])] + b.

    The GMF and MLP branches have their own embeddings (`k` wide each), as in He et al. (2017);
    `hidden` lists the MLP's layer widths (ReLU after each).
    """

    def __init__(self, n_users, n_items, k=16, hidden=(32, 16), device=None, dtype=None):
        super().__init__()
        factory = {"device": device, "dtype": dtype}
        self.gmf_users, self.gmf_items = nn.Embedding(n_users, k, **factory), nn.Embedding(n_items, k, **factory)
        self.mlp_users, self.mlp_items = nn.Embedding(n_users, k, **factory), nn.Embedding(n_items, k, **factory)
        for table in (self.gmf_users, self.gmf_items, self.mlp_users, self.mlp_items):
            nn.init.normal_(table.weight, std=0.01)
        layers, width = [], 2 * k
        for h in hidden:
            layers += [nn.Linear(width, h, **factory), nn.ReLU()]
            width = h
        self.mlp = nn.Sequential(*layers)
        self.out = nn.Linear(k + width, 1, **factory)

    def forward(self, users, items):
        gmf = self.gmf_users(users) * self.gmf_items(items)
        mlp = self.mlp(torch.cat([self.mlp_users(users), self.mlp_items(items)], dim=-1))
        return self.out(torch.cat([gmf, mlp], dim=-1)).squeeze(-1)
