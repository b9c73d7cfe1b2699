"""Data augmentation on tensors (N, C, H, W), on whatever device they live: d2lite.scratch.augment's
transforms with the same conventions, using F.affine_grid/F.grid_sample for the resampling.

Random transforms draw their parameters with torch's generator on the batch's device,
so augmenting on the GPU moves no data; `Augment` chains them for use inside a training loop.
"""
import math

import torch
import torch.nn.functional as F


def _check_images(x):
    if x.dim() != 4:
        raise ValueError(f"augmentations take a batch of images (N, C, H, W), got shape {tuple(x.shape)}; "
                         "add the missing axes with x[:, None] (channels) or x[None] (batch)")


def pad_crop(x, pad, top, left):
    """Zero-pad every side by `pad`, then cut an H×W window at (top[n], left[n]) from image n."""
    _check_images(x)
    n, _, h, w = x.shape
    padded = F.pad(x, (pad, pad, pad, pad))
    top, left = torch.as_tensor(top, device=x.device), torch.as_tensor(left, device=x.device)
    rows = top[:, None] + torch.arange(h, device=x.device)
    cols = left[:, None] + torch.arange(w, device=x.device)
    batch = torch.arange(n, device=x.device)[:, None, None]
    return padded[batch, :, rows[:, :, None], cols[:, None, :]].permute(0, 3, 1, 2)


def random_crop(x, pad, generator=None):
    top, left = torch.randint(0, 2 * pad + 1, (2, len(x)), device=x.device, generator=generator)
    return pad_crop(x, pad, top, left)


def random_flip(x, p=0.5, generator=None):
    _check_images(x)
    flip = torch.rand(len(x), device=x.device, generator=generator) < p
    return torch.where(flip[:, None, None, None], x.flip(-1), x)


def add_noise(x, std, generator=None):
    return x + std * torch.randn(x.shape, device=x.device, dtype=x.dtype, generator=generator)


def affine_matrices(angle, scale, shift_x, shift_y):
    """(N, 2, 3) output-to-input matrices in [-1, 1] coordinates (see d2lite.scratch.augment)."""
    cos, sin = torch.cos(angle) / scale, torch.sin(angle) / scale
    return torch.stack([torch.stack([cos, -sin, -shift_x], -1), torch.stack([sin, cos, -shift_y], -1)], -2)


def affine(x, theta):
    """Bilinear resampling at theta[n] @ (u, v, 1), zeros outside (grid_sample, align_corners=False)."""
    _check_images(x)
    grid = F.affine_grid(theta.to(x.dtype), list(x.shape), align_corners=False)
    return F.grid_sample(x, grid, mode="bilinear", padding_mode="zeros", align_corners=False)


def random_affine(x, degrees=15.0, scale=(0.9, 1.1), shift=0.1, generator=None):
    """affine with a random angle (±degrees), zoom (in `scale`) and shift (±shift of the half-width) per image."""
    u = torch.rand(4, len(x), device=x.device, dtype=x.dtype, generator=generator)
    angle = math.radians(degrees) * (2 * u[0] - 1)
    zoom = scale[0] + (scale[1] - scale[0]) * u[1]
    return affine(x, affine_matrices(angle, zoom, shift * (2 * u[2] - 1), shift * (2 * u[3] - 1)))


class Augment(torch.nn.Module):
    """Random affine, then crop with padding, flips and noise, each only where asked for; active in train mode only."""

    def __init__(self, degrees=0.0, scale=(1.0, 1.0), shift=0.0, crop_pad=0, flip=False, noise=0.0):
        super().__init__()
        self.degrees, self.scale, self.shift = degrees, scale, shift
        self.crop_pad, self.flip, self.noise = crop_pad, flip, noise

    def forward(self, x):
        if not self.training:
            return x
        if self.degrees or self.shift or tuple(self.scale) != (1.0, 1.0):
            x = random_affine(x, self.degrees, self.scale, self.shift)
        if self.crop_pad:
            x = random_crop(x, self.crop_pad)
        if self.flip:
            x = random_flip(x)
        if self.noise:
            x = add_noise(x, self.noise)
        return x
