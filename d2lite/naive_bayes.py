"""A multinomial naive-Bayes text classifier on character n-grams, in NumPy: the baseline of language tasks.

A text is the bag of its character n-grams (n = 1 … max_n, the text padded with a space on each
side so that word starts and ends count); each class k has a prior p(k) and a distribution over
n-grams p(g | k), estimated by counting with additive smoothing alpha:
    p(g | k) = (count(g, k) + alpha) / (Σ_g' count(g', k) + alpha · V).
The prediction is the class with the largest log p(k) + Σ_g log p(g | k) over the text's n-grams
(n-grams never seen in training are skipped: they carry no evidence for any class).
"""
import numpy as np


def char_ngrams(text, max_n=3):
    """All character n-grams of " text " with 1 <= n <= max_n, repeats kept."""
    padded = f" {text.lower()} "
    return [padded[i:i + n] for n in range(1, max_n + 1) for i in range(len(padded) - n + 1)]


class CharNaiveBayes:
    """fit(texts, labels) counts n-grams per class; log_posterior(texts) -> (N, K) unnormalised log p(k | text)."""

    def __init__(self, num_classes, max_n=3, alpha=0.1):
        if max_n < 1 or alpha <= 0:
            raise ValueError(f"need max_n >= 1 and alpha > 0; got max_n={max_n}, alpha={alpha}")
        self.num_classes, self.max_n, self.alpha = num_classes, max_n, alpha

    def fit(self, texts, labels):
        labels = np.asarray(labels)
        self.vocab = {}
        rows, cols = [], []
        for text, y in zip(texts, labels):
            for g in char_ngrams(text, self.max_n):
                cols.append(self.vocab.setdefault(g, len(self.vocab)))
                rows.append(y)
        counts = np.zeros((self.num_classes, len(self.vocab)))
        np.add.at(counts, (np.array(rows), np.array(cols)), 1.0)
        smoothed = counts + self.alpha
        self.log_likelihood = np.log(smoothed / smoothed.sum(axis=1, keepdims=True))     # (K, V)
        self.log_prior = np.log(np.bincount(labels, minlength=self.num_classes) / len(labels))
        return self

    def log_posterior(self, texts):
        out = np.tile(self.log_prior, (len(texts), 1))
        for i, text in enumerate(texts):
            ids = [self.vocab[g] for g in char_ngrams(text, self.max_n) if g in self.vocab]
            out[i] += self.log_likelihood[:, ids].sum(axis=1)
        return out

    def predict(self, texts):
        return self.log_posterior(texts).argmax(axis=1)
