"""Gradient clipping by global norm, from scratch."""
import numpy as np


def clip_grad_norm(parameters, max_norm, eps=1e-6):
    """Scale every gradient by one factor so that their joint L2 norm is at most `max_norm`.

    The norm is taken over all gradients together, sqrt(sum of every entry squared), so the
    update keeps its direction. Gradients are changed in place (`p.grad`); returns the norm
    before clipping, as torch.nn.utils.clip_grad_norm_ does (eps keeps the factor finite).
    """
    parameters = list(parameters)
    total = float(np.sqrt(sum(float(np.sum(p.grad.astype(np.float64) ** 2)) for p in parameters)))
    if total > max_norm:
        scale = max_norm / (total + eps)
        for p in parameters:
            p.grad *= scale
    return total
