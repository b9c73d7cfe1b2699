"""The similarity report: planted near-copies (renamed, reformatted, commented) rank on top; honest solutions
written independently do not; the starter code counts for nothing."""
from grading_corpus import CHAPTER, code_cell, stubs, write

from d2lite.grading import get_exercise
from d2lite.grading.similarity import fingerprints, normalise, similar_pairs, similarity_markdown

EXERCISE = get_exercise("1.4")  # softmax_cross_entropy: long enough to be written many ways

HONEST = {
    "ann": """def softmax_cross_entropy(logits, labels):
    n = logits.shape[0]
    shifted = logits - logits.max(axis=1, keepdims=True)
    log_probs = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
    rows = np.arange(n)
    loss = -log_probs[rows, labels].mean()
    dlogits = np.exp(log_probs)
    dlogits[rows, labels] -= 1.0
    return loss, dlogits / n
""",
    "bob": """def softmax_cross_entropy(logits, labels):
    z = logits - np.max(logits, axis=1)[:, None]
    p = np.exp(z)
    p /= p.sum(axis=1)[:, None]
    onehot = np.zeros_like(p)
    onehot[np.arange(len(labels)), labels] = 1
    loss = -np.sum(onehot * (z - np.log(np.exp(z).sum(axis=1))[:, None])) / len(labels)
    return loss, (p - onehot) / len(labels)
""",
    "cy": """def softmax_cross_entropy(logits, labels):
    batch = len(logits)
    top = np.amax(logits, axis=-1, keepdims=True)
    lse = top + np.log(np.sum(np.exp(logits - top), axis=-1, keepdims=True))
    probs = np.exp(logits - lse)
    picked = logits[np.arange(batch), labels] - lse[:, 0]
    grad = probs.copy()
    for i, y in enumerate(labels):
        grad[i, y] = grad[i, y] - 1
    return float(-picked.mean()), grad / batch
""",
    "dee": """def softmax_cross_entropy(logits, labels):
    out_loss = 0.0
    g = np.empty_like(logits)
    for i in range(logits.shape[0]):
        row = logits[i] - logits[i].max()
        e = np.exp(row)
        total = e.sum()
        out_loss += np.log(total) - row[labels[i]]
        g[i] = e / total
        g[i, labels[i]] -= 1
    count = logits.shape[0]
    return out_loss / count, g / count
""",
}

# cy's solution with every name changed, comments added, other line breaks and spacing.
COPY_OF_CY = """def softmax_cross_entropy(logits, labels):
    # my own implementation
    N = len(logits)
    m = np.amax(logits,
                axis=-1, keepdims=True)   # max per row
    logsumexp = m + np.log(np.sum(np.exp(logits - m),
                                  axis=-1, keepdims=True))
    P = np.exp(logits - logsumexp)

    correct = logits[np.arange(N), labels] - logsumexp[:, 0]
    G = P.copy()
    for row_index, target in enumerate(labels):
        G[row_index, target] = G[row_index, target] - 1
    return float(-correct.mean()), G / N
"""


def _notebook(tmp_path, student, code):
    nb = stubs()
    cell = next(c for c in nb["cells"] if "def softmax_cross_entropy" in "".join(c["source"]))
    cell["source"] = code
    nb["cells"].append(code_cell("x = 1  # other work"))
    return write(nb, tmp_path / student / f"{CHAPTER}.ipynb")


def test_normalising_forgets_names_comments_and_layout():
    a = normalise("def f(x, y):\n    z = x + y  # sum\n    return np.sum(z)\n")
    b = normalise("def g(a,\n      b):\n\n    total=a+b\n    return np.sum( total )\n")
    assert a == b and "sum" in a and "np" not in a  # the attribute stays, the names do not
    assert fingerprints("def f(x):\n    return x\n") == fingerprints("def f(y):  # same\n    return y\n")


def test_planted_copies_rank_on_top_and_honest_solutions_do_not(tmp_path):
    notebooks = {s: _notebook(tmp_path, s, code) for s, code in HONEST.items()}
    notebooks["eve"] = _notebook(tmp_path, "eve", COPY_OF_CY)
    notebooks["fay"] = _notebook(tmp_path, "fay", HONEST["ann"].replace("shifted", "s").replace("log_probs", "lp")
                                 .replace("    n =", "    # copied, renamed\n    n ="))
    starter = tmp_path / "starter.ipynb"
    write(stubs(), starter)
    pairs = similar_pairs(notebooks, [EXERCISE], starter)
    top = {frozenset((p.first, p.second)) for p in pairs[:2]}
    assert top == {frozenset(("cy", "eve")), frozenset(("ann", "fay"))}, pairs[:4]
    assert min(p.score for p in pairs[:2]) > 0.8
    honest = [p for p in pairs if {p.first, p.second} <= set(HONEST)]
    assert all(p.score < 0.3 for p in honest), honest
    assert "| 1.4 | ann | fay | 1.00 |" in similarity_markdown(pairs) or "| 1.4 | cy | eve |" in similarity_markdown(pairs)


def test_the_starter_code_is_not_similarity(tmp_path):
    notebooks = {s: write(stubs(), tmp_path / s / f"{CHAPTER}.ipynb") for s in ("ann", "bob", "cy")}
    starter = write(stubs(), tmp_path / "starter.ipynb")
    assert similar_pairs(notebooks, [EXERCISE], starter) == []
    assert len(similar_pairs(notebooks, [EXERCISE])) == 3  # without the starter, the untouched stubs all match
