"""Optimizers in PyTorch, mirroring d2lite.scratch.optim: the same update rules, on tensors.

They subclass torch.optim.Optimizer, so they have param_groups (a schedule sets
each group's "lr"), state_dict() and load_state_dict() for checkpoints, and work
with the Trainer. The step count `t` lives in each parameter's state, as in torch.optim.
"""
import torch


class Optimizer(torch.optim.Optimizer):
    """Base class: `step()` calls `update(p, g, state, group)` for every parameter that has a gradient."""

    @torch.no_grad()
    def step(self, closure=None):
        loss = None
        if closure is not None:
            with torch.enable_grad():
                loss = closure()
        for group in self.param_groups:
            for p in group["params"]:
                if p.grad is None:
                    continue
                state = self.state[p]
                state["t"] = state.get("t", 0) + 1
                g = p.grad + group["weight_decay"] * p if group["weight_decay"] else p.grad
                self.update(p, g, state, group)
        return loss

    def update(self, p, g, state, group):
        raise NotImplementedError


class SGD(Optimizer):
    """v ← μ·v + g;  w ← w − lr·v  (Nesterov: w ← w − lr·(g + μ·v)); g includes weight_decay·w."""

    def __init__(self, params, lr, momentum=0.0, weight_decay=0.0, nesterov=False):
        if nesterov and momentum <= 0:
            raise ValueError("Nesterov momentum needs momentum > 0")
        super().__init__(params, dict(lr=lr, momentum=momentum, weight_decay=weight_decay, nesterov=nesterov))

    def update(self, p, g, state, group):
        mu = group["momentum"]
        if mu:
            v = state.setdefault("velocity", torch.zeros_like(p))
            v.mul_(mu).add_(g)
            g = g + mu * v if group["nesterov"] else v
        p.sub_(group["lr"] * g)


class AdaGrad(Optimizer):
    """s ← s + g²;  w ← w − lr·g / (√s + eps)."""

    def __init__(self, params, lr=0.01, eps=1e-10, weight_decay=0.0):
        super().__init__(params, dict(lr=lr, eps=eps, weight_decay=weight_decay))

    def update(self, p, g, state, group):
        s = state.setdefault("sum_sq", torch.zeros_like(p))
        s.addcmul_(g, g)
        p.sub_(group["lr"] * g / (s.sqrt() + group["eps"]))


class RMSprop(Optimizer):
    """s ← α·s + (1 − α)·g²;  w ← w − lr·g / (√s + eps) (with momentum μ: v ← μ·v + g/(√s + eps), w ← w − lr·v)."""

    def __init__(self, params, lr=0.01, alpha=0.99, eps=1e-8, momentum=0.0, weight_decay=0.0):
        super().__init__(params, dict(lr=lr, alpha=alpha, eps=eps, momentum=momentum, weight_decay=weight_decay))

    def update(self, p, g, state, group):
        s = state.setdefault("square_avg", torch.zeros_like(p))
        s.mul_(group["alpha"]).addcmul_(g, g, value=1 - group["alpha"])
        step = g / (s.sqrt() + group["eps"])
        if group["momentum"]:
            step = state.setdefault("velocity", torch.zeros_like(p)).mul_(group["momentum"]).add_(step)
        p.sub_(group["lr"] * step)


class Adam(Optimizer):
    """m ← β₁m + (1 − β₁)g;  v ← β₂v + (1 − β₂)g²;  w ← w − lr·m̂ / (√v̂ + eps), m̂ = m/(1 − β₁ᵗ), v̂ = v/(1 − β₂ᵗ).

    weight_decay is L2 (added to the gradient); AdamW decouples it.
    """

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0):
        super().__init__(params, dict(lr=lr, betas=betas, eps=eps, weight_decay=weight_decay, decoupled_decay=0.0))

    def update(self, p, g, state, group):
        (b1, b2), t = group["betas"], state["t"]
        if group["decoupled_decay"]:
            p.mul_(1 - group["lr"] * group["decoupled_decay"])
        m = state.setdefault("m", torch.zeros_like(p))
        v = state.setdefault("v", torch.zeros_like(p))
        m.mul_(b1).add_(g, alpha=1 - b1)
        v.mul_(b2).addcmul_(g, g, value=1 - b2)
        m_hat = m / (1 - b1 ** t)
        v_hat = v / (1 - b2 ** t)
        p.sub_(group["lr"] * m_hat / (v_hat.sqrt() + group["eps"]))


class AdamW(Adam):
    """Adam with decoupled weight decay: w ← w·(1 − lr·λ) first, then Adam's step on the plain gradient."""

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.01):
        super().__init__(params, lr, betas, eps)
        self.defaults["decoupled_decay"] = weight_decay
        for group in self.param_groups:
            group["decoupled_decay"] = weight_decay
