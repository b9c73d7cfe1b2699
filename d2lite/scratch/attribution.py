"""Gradient attributions from scratch: the scratch model's own backward gives ∂f_target/∂x.

The same definitions as d2lite.torch.attribution (there autograd does the backward). Feeding
backward a one-hot dout (1 at each image's target class) returns the gradient of the target
logit with respect to every input pixel.
"""
import numpy as np


def input_gradient(model, x, target):
    """∂ f_target(x) / ∂x for a scratch model (anything with forward and backward)."""
    logits = model.forward(x)
    dout = np.zeros_like(logits)
    dout[np.arange(len(x)), np.asarray(target)] = 1.0
    for p in model.parameters():   # backward accumulates parameter gradients: leave none behind
        p.zero_grad()
    dx = model.backward(dout)
    for p in model.parameters():
        p.zero_grad()
    return dx


def saliency(model, x, target):
    """|∂ f_target / ∂x| (Simonyan et al., 2014)."""
    return np.abs(input_gradient(model, x, target))


def gradient_x_input(model, x, target):
    """x ⊙ ∂ f_target / ∂x (Shrikumar et al., 2016)."""
    return x * input_gradient(model, x, target)


def integrated_gradients(model, x, target, baseline=None, steps=50):
    """(x − x') ⊙ mean over α = (j + ½)/steps of ∂f(x' + α(x − x'))/∂x; returns (IG, delta) with
    delta = Σ IG − (f(x) − f(x')) per image (Sundararajan et al., 2017)."""
    baseline = np.zeros_like(x) if baseline is None else np.broadcast_to(baseline, x.shape)
    target = np.asarray(target)
    alphas = (np.arange(steps) + 0.5) / steps
    path = baseline[None] + alphas[:, None, None, None, None] * (x - baseline)[None]
    grads = input_gradient(model, path.reshape(-1, *x.shape[1:]), np.tile(target, steps))
    ig = (x - baseline) * grads.reshape(steps, *x.shape).mean(axis=0)
    rows = np.arange(len(x))
    gap = model.forward(x)[rows, target] - model.forward(np.ascontiguousarray(baseline))[rows, target]
    return ig, ig.reshape(len(x), -1).sum(axis=1) - gap
