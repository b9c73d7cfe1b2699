"""Prototypical logits (NumPy and PyTorch twins), the conv embedding and the episode sampler."""
import numpy as np
import pytest
import torch

from d2lite.data.episodes import sample_episode
from d2lite.scratch import fewshot as np_fewshot
from d2lite.torch import fewshot as torch_fewshot


def brute_force(support, labels, query, classes):
    return np.array([[-np.sum((q - support[labels == k].mean(0)) ** 2) for k in classes] for q in query])


@pytest.mark.parametrize("classes", [None, np.array([9, 2, 4])])
def test_scratch_logits_are_negative_squared_distances_to_class_means(classes):
    rng = np.random.default_rng(0)
    support, labels, query = rng.normal(size=(8, 5)), np.array([4, 2, 9, 9, 2, 4, 4, 9]), rng.normal(size=(3, 5))
    got = np_fewshot.prototypical_logits(support, labels, query, classes)
    assert got.shape == (3, 3)
    np.testing.assert_allclose(got, brute_force(support, labels, query, [2, 4, 9] if classes is None else classes))


def test_torch_twin_matches_scratch_and_has_gradients():
    rng = np.random.default_rng(1)
    support, labels, query = rng.normal(size=(10, 7)), rng.permutation(np.repeat([3, 0, 5, 8, 1], 2)), rng.normal(size=(4, 7))
    classes = np.array([5, 0, 1, 8, 3])
    s = torch.tensor(support, requires_grad=True)
    got = torch_fewshot.prototypical_logits(s, torch.from_numpy(labels), torch.tensor(query), torch.from_numpy(classes))
    np.testing.assert_allclose(got.detach().numpy(), np_fewshot.prototypical_logits(support, labels, query, classes), atol=1e-10)
    got.sum().backward()
    assert s.grad is not None and torch.isfinite(s.grad).all()
    default = torch_fewshot.prototypical_logits(torch.tensor(support), torch.from_numpy(labels), torch.tensor(query))
    np.testing.assert_allclose(default.numpy(), np_fewshot.prototypical_logits(support, labels, query), atol=1e-10)


def test_a_class_without_support_is_a_clear_error():
    with pytest.raises(ValueError, match="no support example"):
        np_fewshot.prototypical_logits(np.ones((2, 3)), np.array([0, 1]), np.ones((1, 3)), [0, 1, 2])
    with pytest.raises(ValueError, match="no support example"):
        torch_fewshot.prototypical_logits(torch.ones(2, 3), torch.tensor([0, 1]), torch.ones(1, 3), torch.tensor([0, 2]))


def test_conv_embedding_maps_glyph_images_to_vectors():
    net = torch_fewshot.conv_embedding(width=8)
    assert net(torch.zeros(3, 1, 28, 28)).shape == (3, 8)


def test_episodes_have_distinct_examples_of_the_drawn_classes():
    labels = np.repeat(np.arange(12), 6)
    rng = np.random.default_rng(0)
    ep = sample_episode(labels, ways=5, shots=2, queries=3, rng=rng, classes=np.arange(2, 12))
    assert len(set(ep.classes)) == 5 and set(ep.classes) <= set(range(2, 12))
    assert len(set(ep.support) | set(ep.query)) == 5 * (2 + 3)
    np.testing.assert_array_equal(ep.classes[ep.support_labels], labels[ep.support])
    np.testing.assert_array_equal(ep.classes[ep.query_labels], labels[ep.query])
    np.testing.assert_array_equal(ep.query_labels, np.repeat(np.arange(5), 3))
    again = sample_episode(labels, 5, 2, 3, np.random.default_rng(0), classes=np.arange(2, 12))
    np.testing.assert_array_equal(ep.support, again.support)


def test_episodes_that_cannot_be_drawn_say_why():
    labels = np.repeat(np.arange(4), 3)
    with pytest.raises(ValueError, match="at least 5 classes"):
        sample_episode(labels, 5, 1, 1, np.random.default_rng(0))
    with pytest.raises(ValueError, match="shots \\+ queries"):
        sample_episode(labels, 2, 2, 2, np.random.default_rng(0))
