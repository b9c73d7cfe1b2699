"""Language identification: the data builder, the naive-Bayes baseline and the Transformer classifier."""
import numpy as np
import pytest
import torch

from d2lite.data.languages import LANGUAGES, language_texts, split_by_key
from d2lite.naive_bayes import CharNaiveBayes, char_ngrams
from d2lite.text import Vocab
from d2lite.torch.text_classifier import TransformerClassifier, encode_texts
from d2lite.torch.transformer import TransformerConfig


@pytest.fixture(scope="module")
def three():
    return language_texts(("fr", "de", "sk"), n_dates=20, n_numbers=20)


def test_texts_are_real_language_and_unambiguous(three):
    assert three.languages == ["fr", "de", "sk"]
    found = set(zip(three.keys, three.texts, three.labels.tolist()))
    assert {("country:DE", "Allemagne", 0), ("country:DE", "Deutschland", 1), ("country:DE", "Nemecko", 2)} <= found
    owners = {}
    for text, label in zip(three.texts, three.labels):
        owners.setdefault(text.lower(), set()).add(int(label))
    assert all(len(o) == 1 for o in owners.values())       # no text left in two languages
    assert set(three.kinds) == {"country", "language", "currency", "script", "date", "number"}
    assert sum(k == "number" for k in three.kinds) <= 3 * 20
    assert three.labels.dtype == np.int64


def test_same_seed_same_texts_and_unknown_language_is_an_error(three):
    again = language_texts(("fr", "de", "sk"), n_dates=20, n_numbers=20)
    assert again.texts == three.texts and again.keys == three.keys
    with pytest.raises(ValueError, match="unknown language codes \\['xx'\\]"):
        language_texts(("fr", "xx"))
    assert len(LANGUAGES) == 20


def test_split_holds_out_whole_keys(three):
    train, test = split_by_key(three, test_fraction=0.25, seed=3)
    assert len(train.texts) + len(test.texts) == len(three.texts)
    assert not set(train.keys) & set(test.keys)
    assert 0.15 < len(set(test.keys)) / len(set(three.keys)) < 0.35
    with pytest.raises(ValueError, match="between 0 and 1"):
        split_by_key(three, test_fraction=1.0)


def test_char_ngrams_pad_and_lowercase():
    assert char_ngrams("Ab", 2) == [" ", "a", "b", " ", " a", "ab", "b "]


def test_naive_bayes_counts_match_a_hand_computation():
    nb = CharNaiveBayes(2, max_n=1, alpha=1.0).fit(["aa", "b"], [0, 1])
    # vocabulary " ", "a", "b"; class 0 counts 2, 2, 0; class 1 counts 2, 0, 1
    ids = [nb.vocab[g] for g in (" ", "a", "b")]
    np.testing.assert_allclose(np.exp(nb.log_likelihood[:, ids]), [[3 / 7, 3 / 7, 1 / 7], [3 / 6, 1 / 6, 2 / 6]])
    np.testing.assert_allclose(np.exp(nb.log_prior), [0.5, 0.5])
    assert nb.predict(["a", "bb", "zzz b"]).tolist() == [0, 1, 1]
    with pytest.raises(ValueError, match="alpha > 0"):
        CharNaiveBayes(2, alpha=0)


def test_transformer_classifier_ignores_padding():
    torch.manual_seed(0)
    vocab = Vocab("abcdef", reserved=("<pad>", "<unk>"))
    model = TransformerClassifier(TransformerConfig(vocab_size=len(vocab), dim=16, heads=2, layers=1, context=10), 3).eval()
    short, long = encode_texts(["abc", "fed"], vocab, 4), encode_texts(["abc", "fed"], vocab, 10)
    assert short[0].tolist() == [vocab["a"], vocab["b"], vocab["c"], 0]
    out = model(long)
    assert out.shape == (2, 3)
    torch.testing.assert_close(out, model(short))
