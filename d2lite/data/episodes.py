"""Episodes for few-shot learning: N-way K-shot tasks drawn from a labelled data set.

An episode picks `ways` classes at random, then `shots` support and `queries` query examples of
each, all distinct. Its labels are renumbered 0 … ways − 1 in the order the classes were drawn,
so a model cannot learn the data set's class ids: only how to compare examples.
"""
from typing import NamedTuple

import numpy as np


class Episode(NamedTuple):
    support: np.ndarray          # (ways · shots,) indices into the data set, class by class
    support_labels: np.ndarray   # (ways · shots,) episode labels 0 … ways − 1
    query: np.ndarray            # (ways · queries,) indices, class by class
    query_labels: np.ndarray     # (ways · queries,)
    classes: np.ndarray          # (ways,) the data set's class ids, episode label k is classes[k]


def sample_episode(labels, ways, shots, queries, rng, classes=None):
    """One episode from `labels` (N,) ints; `classes` restricts the classes it may draw (default: all)."""
    labels = np.asarray(labels)
    pool = np.unique(labels) if classes is None else np.asarray(classes)
    if ways > len(pool):
        raise ValueError(f"{ways}-way episodes need at least {ways} classes; there are {len(pool)}")
    chosen = rng.choice(pool, size=ways, replace=False)
    support, query = [], []
    for k in chosen:
        members = np.flatnonzero(labels == k)
        if len(members) < shots + queries:
            raise ValueError(f"class {k} has {len(members)} examples; an episode needs shots + queries = {shots + queries}")
        picked = rng.choice(members, size=shots + queries, replace=False)
        support.append(picked[:shots])
        query.append(picked[shots:])
    ids = np.arange(ways)
    return Episode(np.concatenate(support), np.repeat(ids, shots), np.concatenate(query), np.repeat(ids, queries), chosen)
