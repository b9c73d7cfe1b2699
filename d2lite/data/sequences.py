"""Batches for language models that keep their hidden state: parallel streams through one long text.

For truncated backpropagation through time, the text is cut into N equal parts read side by side
(one per row of the batch); each batch is the next T tokens of every part, so the hidden state
left by one batch is the right starting state for the next one.
"""


def streams(ids, n):
    """The token ids (a 1-D array or tensor) cut into `n` consecutive rows of equal length, (n, L)."""
    length = len(ids) // n
    if length < 2:
        raise ValueError(f"{len(ids)} tokens cannot make {n} streams of at least 2 tokens: use fewer streams.")
    return ids[:length * n].reshape(n, length)


def stream_windows(rows, t):
    """Yield (x, y) windows of `rows` (n, L) in order: x = rows[:, i:i+t], y the same shifted by one token."""
    for i in range(0, rows.shape[1] - 1, t):
        y = rows[:, i + 1:i + t + 1]
        yield rows[:, i:i + y.shape[1]], y
