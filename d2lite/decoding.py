"""Decoding a sequence from a model, one token at a time: greedy, sampling, beam search.

The model is any function `step(prefixes) -> log_probs`: given a list of token-id lists it
returns a NumPy array (len(prefixes), V) of log-probabilities for the next token. A PyTorch
model is wrapped in a few lines (see chapter 3); so is a table of bigram log-probabilities.
"""
import numpy as np


def sample_next(logits, temperature=1.0, top_k=None, rng=None):
    """Draw one token id per row of `logits` (B, V) from softmax(logits / temperature), among the top_k.

    temperature → 0 approaches greedy choice; temperature 0 is exactly argmax. top_k keeps only the
    k largest logits of each row (ties at the k-th value are kept).
    """
    logits = np.atleast_2d(np.asarray(logits, dtype=np.float64))
    if temperature == 0:
        return logits.argmax(axis=-1)
    rng = np.random.default_rng() if rng is None else rng
    z = logits / temperature
    if top_k is not None:
        kth = np.sort(z, axis=-1)[:, -min(top_k, z.shape[-1])][:, None]
        z = np.where(z < kth, -np.inf, z)
    p = np.exp(z - z.max(axis=-1, keepdims=True))
    p /= p.sum(axis=-1, keepdims=True)
    return np.array([rng.choice(len(row), p=row) for row in p])


def greedy(step, bos, eos, max_len):
    """Take the most likely next token until `eos` or `max_len` tokens; returns the tokens after bos."""
    seq = [bos]
    for _ in range(max_len):
        token = int(np.argmax(step([seq])[0]))
        seq.append(token)
        if token == eos:
            break
    return seq[1:]


def beam_search(step, bos, eos, beam_size, max_len, alpha=1.0):
    """Keep the `beam_size` best unfinished prefixes at each step; return (tokens after bos, score).

    At each step every beam is extended by every token; candidates are visited from the highest
    total log-probability down, those that end with `eos` are set aside as finished, and the first
    `beam_size` others form the next beam. After `max_len` steps (or when no beam is left) the
    unfinished beams join the finished ones and the winner maximises log P / L^alpha, with L the
    number of tokens after bos (length normalisation: alpha = 0 favours short outputs, 1 is per-token).
    """
    beams, finished = [([bos], 0.0)], []
    for _ in range(max_len):
        logp = np.asarray(step([seq for seq, _ in beams]), dtype=np.float64)
        totals = np.array([score for _, score in beams])[:, None] + logp        # (B, V)
        order = np.argsort(-totals, axis=None, kind="stable")
        new = []
        for flat in order:
            b, token = divmod(int(flat), logp.shape[1])
            candidate = (beams[b][0] + [token], float(totals[b, token]))
            if token == eos:
                finished.append(candidate)
            else:
                new.append(candidate)
            if len(new) == beam_size:
                break
        beams = new
        if not beams:
            break
    best = max(finished + beams, key=lambda c: c[1] / (len(c[0]) - 1) ** alpha)
    return best[0][1:], best[1]
