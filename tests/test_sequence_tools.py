"""Text, data, decoding and metrics for chapter 3."""
import datetime
import math

import numpy as np
import pytest

from d2lite import decoding, metrics, text
from d2lite.data import date_pairs, held_out_split, load_tiny_shakespeare, number_pairs
from d2lite.data.shakespeare import check_sha256


# ---- data ----------------------------------------------------------------------------------------
def test_tiny_shakespeare_is_verified_and_split_by_position():
    train, val = load_tiny_shakespeare()
    assert len(train) + len(val) == 1_115_394
    assert len(val) == 111_540 and train.startswith("First Citizen:")
    assert len(text.CharVocab(train + val)) == 65


def test_a_damaged_file_gets_a_clear_error():
    with pytest.raises(ValueError, match="Reinstall"):
        check_sha256(b"not shakespeare")


def test_number_and_date_pairs_are_real_and_held_out():
    assert number_pairs([97, 71]) == [("ninety-seven", "quatre-vingt-dix-sept"), ("seventy-one", "soixante et onze")]
    train, test = held_out_split(range(100), 10, seed=1)
    assert len(train) == 90 and not set(train) & set(test)
    pairs = date_pairs([datetime.date(1987, 3, 14)] * 40, seed=0)
    assert {iso for _, iso in pairs} == {"1987-03-14"}
    assert len({src for src, _ in pairs}) > 10        # many languages and formats
    assert date_pairs([datetime.date(2001, 2, 3)], locales=("de_DE",), formats=("long",)) == [
        ("3. Februar 2001", "2001-02-03")]


# ---- text ----------------------------------------------------------------------------------------
def test_vocab_and_words():
    v = text.Vocab(["b", "a", "b", "c"], reserved=("<pad>", "<unk>"), min_freq=1)
    assert v.itos == ["<pad>", "<unk>", "a", "b", "c"] and v["zzz"] == 1
    assert text.Vocab(["a", "a", "b"], min_freq=2).itos == ["a"]
    with pytest.raises(KeyError, match="unk"):
        text.Vocab("ab")["z"]
    cv = text.CharVocab("hello")
    assert cv.decode(cv.encode("hole")) == "hole"
    assert text.words("Thou art, Sir!") == ["thou", "art", ",", "sir", "!"]


def test_merge_pair_scans_left_to_right_without_overlaps():
    assert text.merge_pair([1, 1, 1, 2, 1, 1], (1, 1), 9) == [9, 1, 2, 9]
    assert text.merge_pair([3], (3, 3), 9) == [3]


def test_bpe_round_trips_any_text_and_compresses_what_it_saw():
    corpus = "the cat sat on the mat. the cat ate the rat! " * 20
    bpe = text.BPE.train(corpus, 12)
    assert len(bpe) == 256 + 12
    ids = bpe.encode(corpus)
    assert bpe.decode(ids) == corpus and len(ids) < len(corpus.encode()) / 2
    for s in ["unseen wörds, ünïcode ✓ and  spaces\n\n", "", "x"]:
        assert bpe.decode(bpe.encode(s)) == s
    first = bpe.merges and next(iter(bpe.merges))
    assert first in {(32, 116), (116, 104), (104, 101), (97, 116)}  # " t", "th", "he" or "at": the most frequent pairs


# ---- metrics -------------------------------------------------------------------------------------
SENTENCES = [("the cat sat on the mat today", "the cat is on the mat today"),
             ("a quick brown fox jumps over the lazy dog", "the quick brown fox jumped over a lazy dog"),
             ("hello there general kenobi you are bold", "hello there general kenobi"),
             ("we love small models that run on a laptop", "we like small models that run on laptops")]


def test_bleu_matches_sacrebleu():
    sacrebleu = pytest.importorskip("sacrebleu")
    cands, refs = [c for c, _ in SENTENCES], [r for _, r in SENTENCES]
    ours = metrics.bleu([c.split() for c in cands], [r.split() for r in refs])
    theirs = sacrebleu.corpus_bleu(cands, [refs], tokenize="none", smooth_method="none").score / 100
    assert math.isclose(ours, theirs, rel_tol=1e-9) and 0.2 < ours < 0.8
    short = sacrebleu.corpus_bleu(cands[:1], [refs[:1]], tokenize="none", smooth_method="none").score / 100
    assert math.isclose(metrics.bleu([cands[0].split()], [refs[0].split()]), short, rel_tol=1e-9)
    assert metrics.bleu([["a", "b"]], [["c", "d"]]) == 0.0


def test_rouge_l_matches_rouge_score():
    rouge_scorer = pytest.importorskip("rouge_score.rouge_scorer")
    scorer = rouge_scorer.RougeScorer(["rougeL"])
    for cand, ref in SENTENCES:
        s = scorer.score(ref, cand)["rougeL"]
        assert np.allclose(metrics.rouge_l(cand.split(), ref.split()), (s.precision, s.recall, s.fmeasure))
    assert metrics.lcs_length("abcbdab", "bdcaba") == 4


def test_perplexity_and_exact_match():
    assert math.isclose(metrics.perplexity(math.log(65)), 65)
    assert metrics.exact_match(["a", "b", "c"], ["a", "x", "c"]) == 2 / 3
    with pytest.raises(ValueError):
        metrics.exact_match(["a"], [])


# ---- decoding ------------------------------------------------------------------------------------
def _table_step(table):
    return lambda prefixes: table[[p[-1] for p in prefixes]]


def test_beam_search_finds_what_greedy_misses():
    # tokens: 0 = bos, 1 = eos, 2 = "a", 3 = "b". Greedy takes "a" (0.6) but then must ramble;
    # "b" (0.4) is followed by eos with certainty: log 0.4 beats log 0.6 + log 0.45 and every longer path
    p = np.full((4, 4), 1e-9)
    p[0, 2], p[0, 3] = 0.6, 0.4
    p[2, 2], p[2, 1] = 0.55, 0.45
    p[3, 1] = 1.0
    step = _table_step(np.log(p))
    assert decoding.greedy(step, 0, 1, 10) == [2, 2, 2, 2, 2, 2, 2, 2, 2, 2]
    seq, score = decoding.beam_search(step, 0, 1, beam_size=2, max_len=10, alpha=0.0)
    assert seq == [3, 1] and math.isclose(score, math.log(0.4), rel_tol=1e-6)
    assert decoding.beam_search(step, 0, 1, beam_size=1, max_len=3, alpha=0.0)[0] == [2, 2, 2]  # a beam of 1 is greedy


def test_length_normalisation_prefers_the_longer_good_answer():
    p = np.full((5, 5), 1e-12)
    p[0, 1], p[0, 2] = 0.5, 0.5        # stop at once (total 0.5), or go on: 2, 3, 4, eos has total 0.256
    p[2, 3], p[2, 1] = 0.8, 0.2        # but 0.256 over 4 tokens is the better per-token score
    p[3, 4], p[3, 1] = 0.8, 0.2
    p[4, 1], p[4, 2] = 0.8, 0.2
    step = _table_step(np.log(p))
    assert decoding.beam_search(step, 0, 1, 3, 6, alpha=0.0)[0] == [1]
    assert decoding.beam_search(step, 0, 1, 3, 6, alpha=1.0)[0] == [2, 3, 4, 1]


def test_sampling_temperature_and_top_k():
    rng = np.random.default_rng(0)
    logits = np.log(np.array([[0.5, 0.3, 0.2]]))
    assert decoding.sample_next(logits, temperature=0)[0] == 0
    draws = np.concatenate([decoding.sample_next(logits, 1.0, rng=rng) for _ in range(4000)])
    assert np.allclose(np.bincount(draws, minlength=3) / 4000, [0.5, 0.3, 0.2], atol=0.03)
    top2 = np.concatenate([decoding.sample_next(logits, 1.0, top_k=2, rng=rng) for _ in range(500)])
    assert set(top2) == {0, 1}
    cold = np.concatenate([decoding.sample_next(logits, 0.05, rng=rng) for _ in range(200)])
    assert (cold == 0).mean() > 0.99


def test_streams_carry_on_where_the_last_batch_stopped():
    from d2lite.data import stream_windows, streams
    rows = streams(np.arange(23), 3)
    assert rows.shape == (3, 7) and rows[1, 0] == 7
    windows = list(stream_windows(rows, 4))
    assert [x.shape[1] for x, _ in windows] == [4, 2]
    assert np.array_equal(windows[1][0][:, 0], windows[0][0][:, -1] + 1)     # the next window continues each row
    assert all(np.array_equal(y, x + 1) for x, y in windows)
    with pytest.raises(ValueError, match="fewer streams"):
        streams(np.arange(3), 2)
