"""Augmentations: scratch and torch agree for the same parameters; the random ones are seeded and sensible."""
import math

import numpy as np
import pytest
import torch

from d2lite.scratch import augment as sa
from d2lite.torch import augment as ta


def images(n=3, c=2, h=7, w=9, seed=0):
    return np.random.default_rng(seed).normal(size=(n, c, h, w))


def test_pad_crop_at_the_centre_is_the_identity_and_shifts_otherwise():
    x = images()
    assert np.array_equal(sa.pad_crop(x, 2, [2, 2, 2], [2, 2, 2]), x)
    out = sa.pad_crop(x, 2, [0, 4, 2], [1, 2, 3])
    np.testing.assert_array_equal(out[0, :, 2:, 1:], x[0, :, :-2, :-1])      # moved down 2, right 1
    np.testing.assert_array_equal(out[1, :, :-2, :], x[1, :, 2:, :])          # moved up 2
    assert np.all(out[0, :, :2] == 0)
    np.testing.assert_array_equal(ta.pad_crop(torch.from_numpy(x), 2, [0, 4, 2], [1, 2, 3]).numpy(), out)


def test_affine_matches_between_numpy_and_grid_sample():
    x = images(n=4, h=8, w=11)
    theta = sa.affine_matrices([0.3, -0.5, 0.0, 1.2], [1.1, 0.8, 1.0, 1.3], [0.1, -0.2, 0.0, 0.05], [0.0, 0.3, 0.0, -0.1])
    got = sa.affine(x, theta)
    ref = ta.affine(torch.from_numpy(x), torch.from_numpy(theta)).numpy()
    np.testing.assert_allclose(got, ref, rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(got[2], x[2], atol=1e-12)  # the identity matrix changes nothing


def test_a_quarter_turn_rotates_the_pixels():
    x = images(n=1, c=1, h=6, w=6)
    out = sa.affine(x, sa.affine_matrices([math.pi / 2], [1.0], [0.0], [0.0]))
    assert np.allclose(out[0, 0], np.rot90(x[0, 0], k=1), atol=1e-9) or np.allclose(out[0, 0], np.rot90(x[0, 0], k=-1), atol=1e-9)


def test_random_transforms_are_seeded_and_keep_shape_and_dtype():
    x = images(n=10).astype(np.float32)
    for f in (lambda r: sa.random_crop(x, 3, r), lambda r: sa.random_affine(x, r, 20, (0.8, 1.2), 0.2),
              lambda r: sa.random_flip(x, r), lambda r: sa.add_noise(x, 0.1, r)):
        a, b = f(np.random.default_rng(5)), f(np.random.default_rng(5))
        assert a.shape == x.shape and np.array_equal(a, b) and not np.array_equal(a, x)
    xt = torch.from_numpy(x)
    for f in (lambda g: ta.random_crop(xt, 3, g), lambda g: ta.random_affine(xt, 20, (0.8, 1.2), 0.2, g),
              lambda g: ta.random_flip(xt, 0.5, g), lambda g: ta.add_noise(xt, 0.1, g)):
        a, b = f(torch.Generator().manual_seed(5)), f(torch.Generator().manual_seed(5))
        assert a.shape == xt.shape and a.dtype == xt.dtype and torch.equal(a, b) and not torch.equal(a, xt)


def test_flip_mirrors_only_the_chosen_images():
    x = images(n=40)
    out = sa.random_flip(x, np.random.default_rng(1))
    flipped = [np.array_equal(o, xi[..., ::-1]) for o, xi in zip(out, x)]
    kept = [np.array_equal(o, xi) for o, xi in zip(out, x)]
    assert all(f != k for f, k in zip(flipped, kept)) and 10 < sum(flipped) < 30


def test_augment_module_is_off_in_eval_mode_and_explains_bad_shapes():
    aug = ta.Augment(degrees=10, shift=0.1, crop_pad=2, flip=True, noise=0.05)
    x = torch.randn(5, 1, 12, 12)
    assert not torch.equal(aug(x), x)
    assert torch.equal(aug.eval()(x), x)
    with pytest.raises(ValueError, match=r"x\[:, None\]"):
        sa.random_crop(np.zeros((5, 12, 12)), 2, np.random.default_rng(0))
