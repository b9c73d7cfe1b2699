"""Data augmentation with array operations, for image batches of shape (N, C, H, W).

Each random transform takes an explicit `rng` and draws its parameters per image;
the deterministic function underneath (`pad_crop`, `affine`) is what it applies.
d2lite.torch.augment does the same on tensors (on the GPU too), with the same
conventions, so both give the same images for the same parameters.
"""
import math

import numpy as np


def _check_images(x):
    if x.ndim != 4:
        raise ValueError(f"augmentations take a batch of images (N, C, H, W), got shape {x.shape}; "
                         "add the missing axes with x[:, None] (channels) or x[None] (batch)")


def pad_crop(x, pad, top, left):
    """Zero-pad every side by `pad`, then cut an H×W window at (top[n], left[n]) from image n.

    Offsets run from 0 to 2·pad; (pad, pad) gives the original image back.
    """
    _check_images(x)
    n, _, h, w = x.shape
    padded = np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad)))
    rows = np.asarray(top)[:, None] + np.arange(h)          # (N, H)
    cols = np.asarray(left)[:, None] + np.arange(w)         # (N, W)
    out = padded[np.arange(n)[:, None, None], :, rows[:, :, None], cols[:, None, :]]  # (N, H, W, C)
    return out.transpose(0, 3, 1, 2)


def random_crop(x, pad, rng):
    """pad_crop at offsets drawn uniformly from {0, ..., 2·pad}: first all tops, then all lefts."""
    top = rng.integers(0, 2 * pad + 1, len(x))
    left = rng.integers(0, 2 * pad + 1, len(x))
    return pad_crop(x, pad, top, left)


def random_flip(x, rng, p=0.5):
    """Mirror each image left-right with probability p (only for data whose meaning survives a mirror)."""
    _check_images(x)
    flip = rng.random(len(x)) < p
    return np.where(flip[:, None, None, None], x[..., ::-1], x)


def add_noise(x, std, rng):
    """Add Gaussian noise of standard deviation `std` to every pixel."""
    return x + std * rng.standard_normal(x.shape)


def affine_matrices(angle, scale, shift_x, shift_y):
    """(N, 2, 3) matrices mapping output to input coordinates in [-1, 1] (as torch's affine_grid):
    rotate by `angle` radians, zoom by `scale` (> 1 enlarges), then shift by a fraction of the half-width."""
    angle, scale = np.asarray(angle, dtype=np.float64), np.asarray(scale, dtype=np.float64)
    cos, sin = np.cos(angle) / scale, np.sin(angle) / scale
    return np.stack([np.stack([cos, -sin, -np.asarray(shift_x, dtype=np.float64)], -1),
                     np.stack([sin, cos, -np.asarray(shift_y, dtype=np.float64)], -1)], -2)


def affine(x, theta):
    """Resample each image at theta[n] @ (u, v, 1): bilinear, zeros outside, pixel centres at
    (2i + 1)/H − 1 (torch's grid_sample with align_corners=False)."""
    _check_images(x)
    n, c, h, w = x.shape
    v, u = np.meshgrid((2 * np.arange(h) + 1) / h - 1, (2 * np.arange(w) + 1) / w - 1, indexing="ij")
    base = np.stack([u, v, np.ones_like(u)], -1).reshape(-1, 3)        # (H·W, 3)
    grid = base @ theta.transpose(0, 2, 1)                              # (N, H·W, 2)
    ix = ((grid[..., 0] + 1) * w - 1) / 2                               # source column, in pixels
    iy = ((grid[..., 1] + 1) * h - 1) / 2
    x0, y0 = np.floor(ix).astype(int), np.floor(iy).astype(int)
    out = np.zeros((n, c, h * w), dtype=np.result_type(x.dtype, np.float32))
    batch = np.arange(n)[:, None]
    for dy in (0, 1):
        for dx in (0, 1):
            xs, ys = x0 + dx, y0 + dy
            weight = (1 - np.abs(ix - xs)) * (1 - np.abs(iy - ys))
            inside = (xs >= 0) & (xs < w) & (ys >= 0) & (ys < h)
            values = x[batch, :, np.clip(ys, 0, h - 1), np.clip(xs, 0, w - 1)]   # (N, H·W, C)
            out += (values * (weight * inside)[..., None]).transpose(0, 2, 1)
    return out.reshape(n, c, h, w)


def random_affine(x, rng, degrees=15.0, scale=(0.9, 1.1), shift=0.1):
    """affine with, per image, an angle uniform in ±degrees, a zoom uniform in `scale`, and shifts
    uniform in ±shift (fractions of the half-width), drawn in that order."""
    n = len(x)
    angle = rng.uniform(-math.radians(degrees), math.radians(degrees), n)
    zoom = rng.uniform(scale[0], scale[1], n)
    sx, sy = rng.uniform(-shift, shift, n), rng.uniform(-shift, shift, n)
    return affine(x, affine_matrices(angle, zoom, sx, sy))
