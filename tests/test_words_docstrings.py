"""The word-level tokenizer (d2lite.text.WordTokenizer) and the docstring summarization pairs (d2lite.data.docstrings)."""
import numpy as np
import pytest

from d2lite.data import docstrings
from d2lite.text import WordTokenizer, join_words

TEXTS = ["The cat sat on the mat.", "The dog sat, then the dog ran!", "A cat (small) ran to the dog's mat."]


# ---- the word tokenizer ----------------------------------------------------------------------------
def test_vocabulary_keeps_frequent_words_and_the_specials_first():
    tok = WordTokenizer(TEXTS)
    assert tok.vocab.itos[:4] == ["<pad>", "<unk>", "<bos>", "<eos>"]
    assert {"the", "cat", "dog", ".", ",", "!", "(", ")", "'"} <= set(tok.vocab.itos)
    assert "The" not in tok.vocab.stoi                          # lower-cased by default
    assert "The" in WordTokenizer(TEXTS, lower=False).vocab.stoi


def test_min_count_and_max_size_choose_the_most_frequent_words():
    counts = WordTokenizer(TEXTS).counts
    kept = set(WordTokenizer(TEXTS, min_count=2).vocab.itos[4:])
    assert kept == {w for w, c in counts.items() if c >= 2} and "mat" in kept and "small" not in kept
    small = WordTokenizer(TEXTS, max_size=7)
    assert len(small) == 7
    assert set(small.vocab.itos[4:]) == {"the", "dog", "."}    # counts 6, 3, 2 (ties: "cat", "mat", "sat", "ran" at 2 lose alphabetically to ".")
    with pytest.raises(ValueError, match="max_size"):
        WordTokenizer(TEXTS, max_size=4)
    with pytest.raises(TypeError, match="list of texts"):
        WordTokenizer("one string")


def test_unknown_words_encode_as_unk_and_decode_reads_like_text():
    tok = WordTokenizer(TEXTS, min_count=2)
    ids = tok.encode("The zebra sat.")
    assert ids.dtype == np.int64 and ids[1] == tok.UNK and ids[0] != tok.UNK
    assert tok.tokens("The zebra sat.") == ["the", "<unk>", "sat", "."]
    assert tok.decode(ids) == "the <unk> sat."
    full = WordTokenizer(TEXTS)
    for s in ["the cat sat on the mat.", "a cat (small) ran to the dog's mat.", "the dog sat, then the dog ran!"]:
        assert full.decode(full.encode(s)) == s                 # punctuation spacing comes back
    assert full.coverage(["the zebra"]) == 0.5


def test_bos_eos_and_padding():
    tok = WordTokenizer(TEXTS)
    ids = tok.encode("the cat", bos=True, eos=True)
    assert ids[0] == tok.BOS and ids[-1] == tok.EOS and len(ids) == 4
    assert tok.decode([tok.BOS, *ids[1:3], tok.EOS, tok.vocab["dog"]]) == "the cat"   # stops at eos
    assert tok.decode([tok.PAD, *ids[1:3], tok.PAD]) == "the cat"
    assert tok.encode("").shape == (0,)


def test_join_words_spacing():
    assert join_words(["hello", ",", "world", "!"]) == "hello, world!"
    assert join_words(["a", "cat", "(", "small", ")", "is", "50", "%"]) == "a cat (small) is 50%"
    assert join_words(["don", "'", "t"]) == "don't"


# ---- docstring pairs -------------------------------------------------------------------------------
def test_clean_strips_markup_and_stops_at_examples():
    doc = "Use :func:`~numpy.sum` on ``x``.\n\nParameters\n----------\nx : array\n\nExamples\n--------\n>>> f(1)"
    assert docstrings.clean(doc) == "Use numpy.sum on x. Parameters x : array"
    assert docstrings.clean("See :ref:`the guide <guide-label>` now.") == "See the guide now."


def test_split_and_name_words():
    assert docstrings.split_docstring("One line only.") is None
    assert docstrings.split_docstring("Sum it.\n\nThe *details* here.\n\nNotes\n-----\nx") == ("Sum it.", "The *details* here.")
    assert docstrings.name_words("numpy.ma.mask_or") == "mask or"
    assert docstrings.name_words("torch.nn.LayerNorm") == "layer norm"
    assert docstrings.name_words("torch.nn.GELU") == "gelu"


def test_pairs_from_real_modules_are_deduplicated_and_split_by_summary():
    pairs = docstrings.docstring_pairs(modules=("json", "textwrap", "numpy.linalg"))
    assert len(pairs) > 10 and pairs == sorted(pairs)
    summaries = [p.summary.lower() for p in pairs]
    assert len(set(summaries)) == len(summaries)
    for p in pairs:
        assert p.summary.endswith(".") and 3 <= len(p.summary.split()) <= 20
        assert p.document.startswith(docstrings.name_words(p.name) + " : ")
        assert ">>>" not in p.document
    train, test = docstrings.split_pairs(pairs, test_percent=30)
    assert len(train) + len(test) == len(pairs) and test and train
    again = docstrings.split_pairs(pairs[::-1], test_percent=30)[1]       # the order of harvesting does not matter
    assert sorted(again) == sorted(test)
    shares = np.mean([docstrings.is_test(f"summary number {i}.") for i in range(4000)])
    assert 0.13 < shares < 0.17                                           # 15% by default


# ---- next-character windows (exercise 3.12's data) ------------------------------------------------------
def test_char_windows_are_one_hot_contexts_of_the_next_character():
    from d2lite.data.shakespeare import char_windows, load_tiny_shakespeare
    from d2lite.text import CharVocab

    split = char_windows(context=5, n_train=300, n_test=200, seed=3)
    assert split.X_train.shape == (300, 5, 65) and split.X_test.shape == (200, 5, 65)
    assert split.X_train.dtype == np.float32 and split.y_train.dtype == np.int64
    assert np.array_equal(split.X_train.sum(axis=2), np.ones((300, 5)))        # one character per position
    train, val = load_tiny_shakespeare()
    vocab = CharVocab(train + val)
    for X, y, text in [(split.X_train, split.y_train, train), (split.X_test, split.y_test, val)]:
        window = vocab.decode(X[0].argmax(axis=1)) + vocab.decode([y[0]])
        assert window in text                                                  # a real stretch of its own part
    again = char_windows(context=5, n_train=300, n_test=200, seed=3)
    other = char_windows(context=5, n_train=300, n_test=200, seed=4)
    assert np.array_equal(again.X_train, split.X_train) and not np.array_equal(other.y_train, split.y_train)


def test_sampling_explorer_redraws_from_the_model_functions():
    import matplotlib
    matplotlib.use("Agg")
    from d2lite.explorers import sampling_explorer

    calls = []

    def next_probs(temperature, top_k):
        calls.append((temperature, top_k))
        return list("abc"), np.array([0.2, 0.5, 0.3])

    widget, fallback = sampling_explorer(next_probs, lambda t, k, seed: f"text at {t} {k} {seed}", 0.7, 2)
    bars_ax, text_ax = fallback.axes
    assert [label.get_text() for label in bars_ax.get_xticklabels()] == ["b", "c", "a"]   # most likely first
    assert bars_ax.get_ylabel() == "probability" and "temperature 0.7, top-k 2" in bars_ax.get_title()
    assert text_ax.texts[0].get_text() == "text at 0.7 2 0"
    assert calls[0] == (0.7, 2)
    if widget is not None:
        slider = widget.children[0].children[0]
        slider.value = 1.5
        assert calls[-1] == (1.5, 2)
