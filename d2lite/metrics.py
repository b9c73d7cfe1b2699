"""Scores for sequence models: perplexity, BLEU, ROUGE-L and exact match.

BLEU and ROUGE take sentences as lists of tokens (split them yourself), so that the choice of
tokenizer stays visible; tests compare them with sacrebleu and rouge-score on the same tokens.
"""
import math
from collections import Counter


def perplexity(mean_nll):
    """exp(mean negative log-likelihood in nats per token): the number of equally likely choices it is worth."""
    return math.exp(mean_nll)


def _ngrams(tokens, n):
    return Counter(tuple(tokens[i:i + n]) for i in range(len(tokens) - n + 1))


def bleu(candidates, references, max_n=4):
    """Corpus BLEU (Papineni et al., 2002) in [0, 1], one reference per candidate, no smoothing.

    p_n = clipped n-gram matches / candidate n-grams, summed over the corpus (clipped: an n-gram
    counts at most as often as in the reference); BLEU = BP · exp(mean of log p_1 … p_max_n), with the
    brevity penalty BP = exp(1 − r / c) when the total candidate length c is below the reference length r.
    It is 0 when some p_n is 0 (sacrebleu with smooth_method="none" agrees).
    """
    if len(candidates) != len(references):
        raise ValueError(f"{len(candidates)} candidates but {len(references)} references: give one each.")
    matches, totals = [0] * max_n, [0] * max_n
    c_len = sum(len(c) for c in candidates)
    r_len = sum(len(r) for r in references)
    for cand, ref in zip(candidates, references):
        for n in range(1, max_n + 1):
            cand_counts, ref_counts = _ngrams(cand, n), _ngrams(ref, n)
            matches[n - 1] += sum(min(k, ref_counts[g]) for g, k in cand_counts.items())
            totals[n - 1] += max(len(cand) - n + 1, 0)
    if c_len == 0 or min(matches) == 0:
        return 0.0
    log_p = sum(math.log(m / t) for m, t in zip(matches, totals)) / max_n
    brevity = 1.0 if c_len >= r_len else math.exp(1 - r_len / c_len)
    return brevity * math.exp(log_p)


def lcs_length(a, b):
    """Length of the longest common subsequence of two token lists (dynamic programming, one row at a time)."""
    prev = [0] * (len(b) + 1)
    for x in a:
        row = [0]
        for j, y in enumerate(b):
            row.append(prev[j] + 1 if x == y else max(prev[j + 1], row[j]))
        prev = row
    return prev[-1]


def rouge_l(candidate, reference):
    """ROUGE-L of one candidate (Lin, 2004): (precision, recall, F1) from the longest common subsequence."""
    lcs = lcs_length(candidate, reference)
    if lcs == 0:
        return 0.0, 0.0, 0.0
    p, r = lcs / len(candidate), lcs / len(reference)
    return p, r, 2 * p * r / (p + r)


def exact_match(predictions, targets):
    """The fraction of predictions equal to their target."""
    if len(predictions) != len(targets):
        raise ValueError(f"{len(predictions)} predictions but {len(targets)} targets.")
    return sum(p == t for p, t in zip(predictions, targets)) / max(len(targets), 1)
