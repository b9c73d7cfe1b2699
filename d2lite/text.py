"""Turning text into token ids and back: vocabularies of characters or words, and byte-pair encoding.

Three granularities, three trade-offs: characters (a tiny vocabulary, long sequences), words
(short sequences, a large vocabulary and unknown words) and byte-pair encoding (BPE: start from
the 256 byte values and repeatedly merge the most frequent adjacent pair into a new token, so
common words become one token while any text, even unseen, still encodes and decodes exactly).
"""
import re
from collections import Counter, defaultdict

import numpy as np

WORD = re.compile(r"\w+|[^\w\s]")
# BPE never merges across these chunks: a word with its leading space, a run of punctuation, or spaces.
CHUNK = re.compile(r" ?\w+| ?[^\w\s]+|\s+(?!\S)|\s+")


class Vocab:
    """A two-way map between tokens and ids: reserved tokens first, then the others sorted.

    Tokens seen fewer than `min_freq` times are left out; they, and any unseen token, map to
    "<unk>" when it is among `reserved`, and raise a KeyError otherwise.
    """

    def __init__(self, tokens, reserved=(), min_freq=1):
        counts = Counter(tokens)
        kept = sorted(t for t, c in counts.items() if c >= min_freq and t not in reserved)
        self.itos = list(reserved) + kept
        self.stoi = {t: i for i, t in enumerate(self.itos)}
        self.unk = self.stoi.get("<unk>")

    def __len__(self):
        return len(self.itos)

    def __getitem__(self, token):
        i = self.stoi.get(token, self.unk)
        if i is None:
            raise KeyError(f"{token!r} is not in the vocabulary (and it has no '<unk>' token)")
        return i

    def encode(self, tokens):
        return np.array([self[t] for t in tokens], dtype=np.int64)

    def decode(self, ids):
        return [self.itos[int(i)] for i in ids]


class CharVocab(Vocab):
    """One token per distinct character of `text`, sorted (65 for Tiny Shakespeare); encode a string, decode ids."""

    def __init__(self, text):
        super().__init__(text)

    def decode(self, ids):
        return "".join(super().decode(ids))


def words(text, lower=True):
    """Word-level tokens: runs of letters and digits, and each punctuation mark alone."""
    return WORD.findall(text.lower() if lower else text)


NO_SPACE_BEFORE = set(".,;:!?%)]}'")
NO_SPACE_AFTER = set("([{$#'")


def join_words(tokens):
    """Words back into text: a space between words, none before closing punctuation ("end.") or after an
    opening bracket ("(x"). An apostrophe joins both sides ("don't"); other spacing is not recovered."""
    out = []
    for token in tokens:
        if out and token not in NO_SPACE_BEFORE and out[-1] not in NO_SPACE_AFTER:
            out.append(" ")
        out.append(token)
    return "".join(out)


class WordTokenizer:
    """A word-level tokenizer learned from texts: `words` splits (lower-cased, each punctuation mark a token),
    the vocabulary keeps words seen at least `min_count` times, at most `max_size` ids in all (the most
    frequent words win; ties go alphabetically), and every other word encodes as "<unk>".

    Ids 0–3 are "<pad>", "<unk>", "<bos>", "<eos>". encode(text) -> int64 ids; decode(ids) -> text, which
    drops padding, stops at "<eos>" and skips "<bos>".
    """

    SPECIALS = ("<pad>", "<unk>", "<bos>", "<eos>")
    PAD, UNK, BOS, EOS = range(4)

    def __init__(self, texts, min_count=1, max_size=None, lower=True):
        if isinstance(texts, str):
            raise TypeError("pass a list of texts (a single string would be read one character at a time)")
        if max_size is not None and max_size <= len(self.SPECIALS):
            raise ValueError(f"max_size must leave room for words beyond the {len(self.SPECIALS)} special tokens; "
                             f"got {max_size}")
        self.lower = lower
        counts = Counter(w for t in texts for w in words(t, lower))
        ranked = sorted((w for w, c in counts.items() if c >= min_count and w not in self.SPECIALS),
                        key=lambda w: (-counts[w], w))
        if max_size is not None:
            ranked = ranked[:max_size - len(self.SPECIALS)]
        self.counts = counts
        self.vocab = Vocab(ranked, reserved=self.SPECIALS)

    def __len__(self):
        return len(self.vocab)

    def tokens(self, text):
        """The words of `text`, with those outside the vocabulary replaced by "<unk>"."""
        return [w if w in self.vocab.stoi else "<unk>" for w in words(text, self.lower)]

    def encode(self, text, bos=False, eos=False):
        ids = self.vocab.encode(words(text, self.lower))
        return np.concatenate([[self.BOS]] * bos + [ids] + [[self.EOS]] * eos).astype(np.int64)

    def decode(self, ids):
        out = []
        for i in map(int, ids):
            if i == self.EOS:
                break
            if i not in (self.PAD, self.BOS):
                out.append(self.vocab.itos[i])
        return join_words(out)

    def coverage(self, texts):
        """The fraction of the words of `texts` that the vocabulary knows (not "<unk>")."""
        tokens = [w for t in texts for w in words(t, self.lower)]
        return sum(w in self.vocab.stoi for w in tokens) / max(len(tokens), 1)


def merge_pair(ids, pair, new_id):
    """Replace every occurrence of `pair` in `ids` by `new_id`, scanning left to right without overlaps
    (so (a, a) in [a, a, a] merges once: [new, a])."""
    out, i = [], 0
    while i < len(ids):
        if i + 1 < len(ids) and ids[i] == pair[0] and ids[i + 1] == pair[1]:
            out.append(new_id)
            i += 2
        else:
            out.append(ids[i])
            i += 1
    return out


class BPE:
    """Byte-level byte-pair encoding, trained on a text (Sennrich et al., 2016; bytes as in GPT-2).

    Ids 0–255 are bytes; id 256 + m is the m-th merge. `encode` applies the merges in the order
    they were learned; `decode(encode(s)) == s` for every string s.
    """

    def __init__(self, merges=()):
        self.merges = {tuple(pair): 256 + m for m, pair in enumerate(merges)}
        self.pieces = {i: bytes([i]) for i in range(256)}
        for (a, b), new in self.merges.items():
            self.pieces[new] = self.pieces[a] + self.pieces[b]
        self._cache = {}

    @classmethod
    def train(cls, text, num_merges):
        """Learn up to `num_merges` merges: each time, merge the most frequent pair (ties: the smallest ids).

        Pair counts are kept up to date as merges happen: only the chunks that hold the merged pair
        are recounted, which makes training fast enough for a notebook.
        """
        chunks = [[list(c), k] for c, k in Counter(tuple(c.encode("utf-8")) for c in CHUNK.findall(text)).items()]
        counts, where = Counter(), defaultdict(set)
        for i, (ids, k) in enumerate(chunks):
            for pair in zip(ids, ids[1:]):
                counts[pair] += k
                where[pair].add(i)
        merges = []
        for m in range(num_merges):
            if not counts:
                break
            pair = max(counts, key=lambda p: (counts[p], -p[0], -p[1]))
            if counts[pair] < 2:
                break
            merges.append(pair)
            for i in where.pop(pair):
                ids, k = chunks[i]
                for old in zip(ids, ids[1:]):
                    counts[old] -= k
                ids = chunks[i][0] = merge_pair(ids, pair, 256 + m)
                for new in zip(ids, ids[1:]):
                    counts[new] += k
                    where[new].add(i)
            counts = +counts    # drop pairs whose count fell to zero
        return cls(merges)

    def __len__(self):
        return 256 + len(self.merges)

    def _encode_chunk(self, chunk):
        ids = self._cache.get(chunk)
        if ids is None:
            ids = list(chunk.encode("utf-8"))
            while len(ids) > 1:
                pair = min(zip(ids, ids[1:]), key=lambda p: self.merges.get(p, float("inf")))
                if pair not in self.merges:
                    break
                ids = merge_pair(ids, pair, self.merges[pair])
            self._cache[chunk] = ids
        return ids

    def encode(self, text):
        return [i for chunk in CHUNK.findall(text) for i in self._encode_chunk(chunk)]

    def decode(self, ids):
        return b"".join(self.pieces[int(i)] for i in ids).decode("utf-8", errors="replace")
