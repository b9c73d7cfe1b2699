"""Making a model cheaper: count what it costs (parameters, bytes, FLOPs), prune it, distil it.

Pruning here is global magnitude pruning (Han et al., 2015): the smallest weights of all the
weight matrices and kernels together are set to zero, and a mask keeps them at zero while the
model is fine-tuned. Biases are left alone (they are few). Quantization lives in
d2lite.torch.quantize; distillation is Hinton, Vinyals and Dean's (2015) soft-target loss.
"""
import torch
from torch.nn import functional as F
from torch.utils.flop_counter import FlopCounterMode


def count_parameters(model):
    """Number of scalars in the model's parameters and buffers (everything its forward can read)."""
    return sum(t.numel() for t in list(model.parameters()) + list(model.buffers()))


def count_flops(model, x):
    """Floating-point operations of one forward pass on x, as torch.utils.flop_counter counts them
    (a multiply-add is 2 FLOPs; matrix products and convolutions only, element-wise work is ignored)."""
    with torch.no_grad(), FlopCounterMode(display=False) as counter:
        model(x)
    return counter.get_total_flops()


def prunable(model):
    """The model's weight matrices and kernels by name: parameters with at least two dimensions."""
    return {name: p for name, p in model.named_parameters() if p.ndim >= 2}


def magnitude_prune(model, sparsity):
    """Zero the fraction `sparsity` of smallest-magnitude weights, ranked across all prunable tensors
    together; returns the masks (name -> bool tensor, True = kept) for `apply_masks` during fine-tuning."""
    if not 0.0 <= sparsity < 1.0:
        raise ValueError(f"sparsity is a fraction in [0, 1), got {sparsity}")
    weights = prunable(model)
    magnitudes = torch.cat([p.detach().abs().flatten() for p in weights.values()])
    n_pruned = int(round(sparsity * magnitudes.numel()))
    threshold = magnitudes.kthvalue(n_pruned).values if n_pruned > 0 else magnitudes.new_tensor(-1.0)
    masks = {name: p.detach().abs() > threshold for name, p in weights.items()}
    apply_masks(model, masks)
    return masks


def apply_masks(model, masks):
    """Set the pruned weights (mask False) back to zero; call after every optimizer step."""
    params = dict(model.named_parameters())
    with torch.no_grad():
        for name, mask in masks.items():
            params[name].mul_(mask)


def sparsity(model):
    """Fraction of the prunable weights that are exactly zero."""
    weights = list(prunable(model).values())
    return sum(int((p == 0).sum()) for p in weights) / sum(p.numel() for p in weights)


def distillation_loss(student_logits, teacher_logits, labels, temperature=4.0, alpha=0.5):
    """alpha · T² · KL(softmax(teacher/T) ‖ softmax(student/T)) + (1 − alpha) · cross-entropy(student, labels).

    The T² keeps the soft term's gradients the same size as the hard term's when T changes
    (Hinton et al., 2015).
    """
    soft = F.kl_div(F.log_softmax(student_logits / temperature, dim=1),
                    F.log_softmax(teacher_logits.detach() / temperature, dim=1),
                    log_target=True, reduction="batchmean")
    return alpha * temperature ** 2 * soft + (1 - alpha) * F.cross_entropy(student_logits, labels)
