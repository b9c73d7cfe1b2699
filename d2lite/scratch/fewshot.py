"""Few-shot classification with prototypical networks (Snell, Swersky and Zemel, NeurIPS 2017), in NumPy.

An episode gives a few labelled *support* embeddings per class and asks for the classes of some
*query* embeddings. Each class's prototype is the mean of its support embeddings,
    c_k = mean of f(x_i) over the support examples with label k,
and a query's logits are its negative squared Euclidean distances to the prototypes,
    logit_k(q) = −‖f(q) − c_k‖²,
so that softmax(logits) is a distribution over the episode's classes and cross-entropy trains f.
"""
import numpy as np


def prototypes(support, labels, classes):
    """(K, d) class means of support (S, d), one row per entry of `classes`, in that order."""
    support, labels = np.asarray(support), np.asarray(labels)
    rows = []
    for k in classes:
        members = support[labels == k]
        if len(members) == 0:
            raise ValueError(f"class {k!r} has no support example; every class in `classes` needs at least one")
        rows.append(members.mean(axis=0))
    return np.stack(rows)


def prototypical_logits(support, labels, query, classes=None):
    """(Q, K) logits −‖query_q − c_k‖² for query (Q, d), support (S, d) with labels (S,).

    Column k belongs to classes[k]; without `classes`, the sorted distinct labels.
    The squared distance is expanded as ‖q‖² − 2 q·c + ‖c‖², one matrix product.
    """
    classes = np.unique(labels) if classes is None else classes
    c = prototypes(support, labels, classes)
    q = np.asarray(query)
    sq = (q ** 2).sum(1)[:, None] - 2 * q @ c.T + (c ** 2).sum(1)[None, :]
    return -np.maximum(sq, 0.0)     # rounding can make a tiny distance negative
