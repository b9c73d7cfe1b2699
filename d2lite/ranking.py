"""Ranking metrics for recommenders: hit rate and NDCG at k, with one held-out item per row.

`scores` is (N, 1 + n): column 0 scores the item the user really chose, the other columns
score n items they never rated. The held-out item's rank is the number of candidates scored
above it, with ties counted against it (a model that scores everything alike earns nothing).
"""
import numpy as np


def held_out_rank(scores):
    """Rank (0 = first) of column 0 among each row's candidates, ties counted against it; int64 (N,)."""
    scores = np.asarray(scores)
    if scores.ndim != 2 or scores.shape[1] < 2:
        raise ValueError(f"scores must be (N, 1 + n) with the held-out item in column 0, got shape {scores.shape}")
    return (scores[:, 1:] >= scores[:, :1]).sum(axis=1).astype(np.int64)


def hit_rate_at_k(scores, k=10):
    """Fraction of rows whose held-out item ranks among the top k."""
    return float((held_out_rank(scores) < k).mean())


def ndcg_at_k(scores, k=10):
    """Mean normalised discounted cumulative gain: 1 / log2(rank + 2) when rank < k, else 0.

    With a single relevant item the ideal ordering puts it first (gain 1), so no further normalising.
    """
    rank = held_out_rank(scores)
    return float(np.where(rank < k, 1.0 / np.log2(rank + 2.0), 0.0).mean())
