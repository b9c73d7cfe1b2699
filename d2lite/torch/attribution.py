"""Attribution: which input pixels did a classifier's score for one class depend on?

Each function takes a model that maps x (N, C, H, W) to logits (N, K), the input x and the
target classes (N,), and returns a map with x's shape (Grad-CAM: one map per image at the
chosen layer's resolution). The twin of d2lite.scratch.attribution, which gets its gradients
from the scratch model's backward instead of autograd.
"""
import torch
from torch.nn import functional as F


def _target_score(model, x, target):
    """The logit of each image's target class, (N,)."""
    return model(x).gather(1, torch.as_tensor(target, device=x.device).view(-1, 1)).squeeze(1)


def input_gradient(model, x, target):
    """∂ f_target(x) / ∂x: how much each pixel moves the target logit, to first order."""
    x = x.detach().clone().requires_grad_(True)
    (grad,) = torch.autograd.grad(_target_score(model, x, target).sum(), x)
    return grad


def saliency(model, x, target):
    """|∂ f_target / ∂x| (Simonyan et al., 2014)."""
    return input_gradient(model, x, target).abs()


def gradient_x_input(model, x, target):
    """x ⊙ ∂ f_target / ∂x (Shrikumar et al., 2016): the gradient, weighted by how far each pixel is from 0."""
    return x * input_gradient(model, x, target)


def integrated_gradients(model, x, target, baseline=None, steps=50):
    """(x − x') ⊙ mean over α of ∂f(x' + α(x − x'))/∂x (Sundararajan et al., 2017); returns (IG, delta).

    α runs over the midpoints (j + ½)/steps, j = 0..steps−1 (a midpoint Riemann sum); x' is
    `baseline` (default all zeros). `delta` = Σ IG − (f(x) − f(x')) per image: completeness says
    it goes to zero as steps grows.
    """
    baseline = torch.zeros_like(x) if baseline is None else baseline.expand_as(x)
    target = torch.as_tensor(target, device=x.device)
    alphas = (torch.arange(steps, dtype=x.dtype, device=x.device) + 0.5) / steps
    path = baseline[None] + alphas.view(-1, 1, 1, 1, 1) * (x - baseline)[None]   # (steps, N, C, H, W)
    grads = input_gradient(model, path.flatten(0, 1), target.repeat(steps))
    ig = (x - baseline) * grads.view(steps, *x.shape).mean(dim=0)
    with torch.no_grad():
        gap = _target_score(model, x, target) - _target_score(model, baseline, target)
    return ig, ig.flatten(1).sum(dim=1) - gap


def occlusion(model, x, target, window=(2, 2), stride=1, fill=0.0):
    """Mean drop of the target logit when a window × window patch around each pixel is set to `fill`.

    The patch starts at every multiple of `stride` (the last one may hang over the edge and is
    cut there, so that every pixel is covered) and hides all channels together; its drop
    f(x) − f(x occluded) is credited to each pixel under it, and each pixel's credits are averaged.
    """
    (wh, ww), (sh, sw) = window, (stride, stride) if isinstance(stride, int) else stride
    n, _, h, w = x.shape
    total, count = torch.zeros_like(x[:, :1]), torch.zeros_like(x[:1, :1])
    with torch.no_grad():
        clean = _target_score(model, x, target)
        for top in range(0, h - wh + sh, sh):
            for left in range(0, w - ww + sw, sw):
                covered = x.clone()
                covered[:, :, top:top + wh, left:left + ww] = fill
                drop = clean - _target_score(model, covered, target)
                total[:, :, top:top + wh, left:left + ww] += drop.view(n, 1, 1, 1)
                count[:, :, top:top + wh, left:left + ww] += 1
    return (total / count).expand_as(x).clone()


def grad_cam(model, layer, x, target):
    """ReLU(Σ_c α_c A_c) with α_c the spatial mean of ∂f_target/∂A_c (Selvaraju et al., 2017); (N, 1, h, w).

    A (N, C, h, w) is what `layer` (a module inside `model`) outputs; a forward hook catches it.
    """
    caught = []
    handle = layer.register_forward_hook(lambda module, inputs, output: caught.append(output))
    try:
        score = _target_score(model, x, target)
    finally:
        handle.remove()
    (activation,) = caught
    (grad,) = torch.autograd.grad(score.sum(), activation)
    weights = grad.mean(dim=(2, 3), keepdim=True)
    return F.relu((weights * activation).sum(dim=1, keepdim=True)).detach()
