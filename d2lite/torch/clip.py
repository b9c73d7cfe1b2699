"""Gradient clipping by global norm in PyTorch, written out; torch.nn.utils.clip_grad_norm_ is the same."""
import torch


def clip_grad_norm(parameters, max_norm, eps=1e-6):
    """Scale all gradients by one factor so their joint L2 norm is at most `max_norm`; returns the norm before.

    The recipe of d2lite.scratch.clip.clip_grad_norm, on tensors: the norm of the per-tensor norms is
    the global norm, and the factor max_norm / (norm + eps) is applied only when it is below 1.
    """
    grads = [p.grad for p in parameters if p.grad is not None]
    if not grads:
        return torch.tensor(0.0)
    total = torch.linalg.vector_norm(torch.stack([torch.linalg.vector_norm(g.detach()) for g in grads]))
    scale = torch.clamp(max_norm / (total + eps), max=1.0)
    for g in grads:
        g.detach().mul_(scale.to(g.dtype))
    return total
