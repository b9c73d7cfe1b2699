"""Optimizers from scratch. Each updates `Parameter.data` in place from `Parameter.grad`.

Every optimizer keeps one state dict per parameter (velocities, squared-gradient
averages, ...) and a step count `t`; `step()` applies one update to every
parameter with `self.lr`, which a learning-rate schedule may change between steps.
The update rules are PyTorch's (torch.optim), so both give the same numbers.
"""
import numpy as np


class Optimizer:
    """Base class: `step()` calls `update(p, g, state)` for each parameter; `zero_grad()` clears gradients."""

    def __init__(self, params, lr, weight_decay=0.0):
        self.params = list(params)
        if not self.params:
            raise ValueError("the optimizer got no parameters: pass model.parameters()")
        self.lr, self.weight_decay, self.t = lr, weight_decay, 0
        self.state = [{} for _ in self.params]

    def step(self):
        self.t += 1
        for p, state in zip(self.params, self.state):
            g = p.grad + self.weight_decay * p.data if self.weight_decay else p.grad
            self.update(p.data, g, state)

    def update(self, w, g, state):
        raise NotImplementedError

    def zero_grad(self):
        for p in self.params:
            p.zero_grad()


class SGD(Optimizer):
    """v ← μ·v + g;  w ← w − lr·v  (Nesterov: w ← w − lr·(g + μ·v)); g includes weight_decay·w."""

    def __init__(self, params, lr, momentum=0.0, weight_decay=0.0, nesterov=False):
        super().__init__(params, lr, weight_decay)
        if nesterov and momentum <= 0:
            raise ValueError("Nesterov momentum needs momentum > 0")
        self.momentum, self.nesterov = momentum, nesterov

    def update(self, w, g, state):
        if self.momentum:
            v = state.setdefault("velocity", np.zeros_like(w))
            v *= self.momentum
            v += g
            g = g + self.momentum * v if self.nesterov else v
        w -= self.lr * g


class AdaGrad(Optimizer):
    """s ← s + g²;  w ← w − lr·g / (√s + eps): each coordinate's step shrinks with its gradient history."""

    def __init__(self, params, lr=0.01, eps=1e-10, weight_decay=0.0):
        super().__init__(params, lr, weight_decay)
        self.eps = eps

    def update(self, w, g, state):
        s = state.setdefault("sum_sq", np.zeros_like(w))
        s += g * g
        w -= self.lr * g / (np.sqrt(s) + self.eps)


class RMSprop(Optimizer):
    """s ← α·s + (1 − α)·g²;  w ← w − lr·g / (√s + eps) (with momentum μ: v ← μ·v + g/(√s + eps), w ← w − lr·v)."""

    def __init__(self, params, lr=0.01, alpha=0.99, eps=1e-8, momentum=0.0, weight_decay=0.0):
        super().__init__(params, lr, weight_decay)
        self.alpha, self.eps, self.momentum = alpha, eps, momentum

    def update(self, w, g, state):
        s = state.setdefault("square_avg", np.zeros_like(w))
        s *= self.alpha
        s += (1 - self.alpha) * g * g
        step = g / (np.sqrt(s) + self.eps)
        if self.momentum:
            v = state.setdefault("velocity", np.zeros_like(w))
            v *= self.momentum
            v += step
            step = v
        w -= self.lr * step


class Adam(Optimizer):
    """m ← β₁m + (1 − β₁)g;  v ← β₂v + (1 − β₂)g²;  w ← w − lr·m̂ / (√v̂ + eps),
    with the bias corrections m̂ = m / (1 − β₁ᵗ) and v̂ = v / (1 − β₂ᵗ).

    weight_decay is L2: it is added to the gradient, so Adam rescales it like the gradient.
    """

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0):
        super().__init__(params, lr, weight_decay)
        self.betas, self.eps = betas, eps

    def update(self, w, g, state):
        b1, b2 = self.betas
        m = state.setdefault("m", np.zeros_like(w))
        v = state.setdefault("v", np.zeros_like(w))
        m *= b1
        m += (1 - b1) * g
        v *= b2
        v += (1 - b2) * g * g
        m_hat = m / (1 - b1 ** self.t)
        v_hat = v / (1 - b2 ** self.t)
        w -= self.lr * m_hat / (np.sqrt(v_hat) + self.eps)


class AdamW(Adam):
    """Adam with decoupled weight decay: w ← w·(1 − lr·λ) first, then Adam's step on the plain gradient."""

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.01):
        super().__init__(params, lr, betas, eps, weight_decay=0.0)
        self.decoupled_decay = weight_decay

    def update(self, w, g, state):
        w *= 1 - self.lr * self.decoupled_decay
        super().update(w, g, state)
