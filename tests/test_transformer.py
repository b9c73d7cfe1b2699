"""The Transformer models: shapes, causality, padding, and that they learn a small task."""
import pytest
import torch
from torch.nn import functional as F

from d2lite.torch.transformer import (GPT, SHAKESPEARE_RECIPE, GPTRecipe, Seq2SeqTransformer, TransformerConfig,
                                      random_windows, window_loss)


def test_gpt_is_causal_and_generates():
    torch.manual_seed(0)
    model = GPT(TransformerConfig(vocab_size=11, dim=16, heads=2, layers=2, context=8)).eval()
    ids = torch.randint(0, 11, (2, 6))
    logits = model(ids)
    assert logits.shape == (2, 6, 11)
    changed = ids.clone()
    changed[:, 4] = (changed[:, 4] + 1) % 11
    assert torch.allclose(model(changed)[:, :4], logits[:, :4], atol=1e-6)   # the future does not leak back
    assert not torch.allclose(model(changed)[:, 4:], logits[:, 4:])
    out = model.generate(ids[:1], 10, temperature=0.8, top_k=3, generator=torch.Generator().manual_seed(0))
    assert out.shape == (1, 16) and torch.equal(out[:, :6], ids[:1])
    greedy = model.generate(ids[:1, :1], 3, temperature=0)
    assert greedy[0, 1] == model(ids[:1, :1])[0, -1].argmax()


def test_seq2seq_ignores_source_padding_and_learns_to_reverse():
    torch.manual_seed(0)
    cfg = TransformerConfig(vocab_size=8, dim=32, heads=4, layers=1, context=8)
    model = Seq2SeqTransformer(cfg, pad_id=0)
    src = torch.tensor([[3, 4, 5, 0, 0]])
    tgt = torch.tensor([[1, 5, 4]])
    model.eval()
    a = model(src, tgt)
    b = model(torch.tensor([[3, 4, 5, 0, 0, 0, 0]]), tgt)
    assert torch.allclose(a, b, atol=1e-5)     # more padding changes nothing
    model.train()
    opt = torch.optim.Adam(model.parameters(), lr=1e-2)
    threads = torch.get_num_threads()
    torch.set_num_threads(1)    # a tiny model: one thread is fastest on a busy machine
    try:
        for _ in range(200):        # reverse sequences of 4 tokens from 3..7; 1 = BOS, 2 = EOS
            x = torch.randint(3, 8, (64, 4))
            y = torch.cat([x.flip(1), torch.full((64, 1), 2)], dim=1)
            y_in = torch.cat([torch.ones(64, 1, dtype=torch.long), y[:, :-1]], dim=1)
            loss = F.cross_entropy(model(x, y_in).flatten(0, 1), y.flatten())
            opt.zero_grad()
            loss.backward()
            opt.step()
    finally:
        torch.set_num_threads(threads)
    model.eval()
    x = torch.randint(3, 8, (128, 4))
    out = model.greedy(x, bos=1, eos=2, max_len=5)
    assert (out[:, :4] == x.flip(1)).all(dim=1).float().mean() > 0.8   # chance: 5⁻⁴ < 0.002


def test_seq2seq_keeps_cross_attention_weights_on_request():
    torch.manual_seed(1)
    model = Seq2SeqTransformer(TransformerConfig(vocab_size=6, dim=8, heads=2, layers=1, context=6), pad_id=0).eval()
    src, tgt = torch.tensor([[3, 4, 0]]), torch.tensor([[1, 5]])
    fast = model(src, tgt)
    slow = model(src, tgt, need_weights=True)
    w = model.decoder[0].cross.weights
    assert torch.allclose(fast, slow, atol=1e-6) and w.shape == (1, 2, 2, 3)
    assert torch.all(w[..., 2] == 0) and torch.allclose(w.sum(-1), torch.ones(1, 2, 2))   # padding gets nothing


def test_random_windows_are_shifted_slices_of_the_text():
    ids = torch.arange(100, 130)
    x, y = random_windows(ids, 5, 7, torch.Generator().manual_seed(0))
    assert x.shape == y.shape == (5, 7)
    assert torch.equal(y[:, :-1], x[:, 1:]) and torch.equal(y[:, -1], x[:, -1] + 1)   # consecutive ids
    assert x.min() >= 100 and y.max() <= 129
    again, _ = random_windows(ids, 5, 7, torch.Generator().manual_seed(0))
    assert torch.equal(x, again)
    with pytest.raises(ValueError, match="shorter t"):
        random_windows(ids, 2, 30)


def test_window_loss_is_the_mean_over_consecutive_windows():
    torch.manual_seed(0)
    model = GPT(TransformerConfig(vocab_size=7, dim=8, heads=2, layers=1, context=4)).train()
    ids = torch.randint(0, 7, (23,))        # 5 windows of 4 and two tokens left over
    expected = F.cross_entropy(model.eval()(ids[:20].view(5, 4)).flatten(0, 1), ids[1:21])
    model.train()
    assert abs(window_loss(model, ids, 4, batch_size=2) - expected.item()) < 1e-5   # batches of 2, 2 and 1
    assert model.training                                                          # put back as it was
    with pytest.raises(ValueError, match="one window"):
        window_loss(model, ids[:4], 4)


def test_gpt_starts_as_gpt2_and_can_drop_its_biases():
    torch.manual_seed(0)
    block = GPT(TransformerConfig(vocab_size=50, dim=64, heads=2, layers=2, context=8)).blocks[1]
    for w in (block.attn.q_proj.weight, block.attn.v_proj.weight, block.mlp[0].weight):
        assert abs(w.std().item() - 0.02) < 0.001
    for w in (block.attn.out_proj.weight, block.mlp[2].weight):   # writes into the residual stream: 0.02 / sqrt(2·2)
        assert abs(w.std().item() - 0.01) < 0.0005
    assert torch.all(block.attn.q_proj.bias == 0) and torch.all(block.mlp[0].bias == 0)
    lean = GPT(TransformerConfig(vocab_size=5, dim=8, heads=2, layers=1, context=4, bias=False))
    assert not [name for name, _ in lean.named_parameters() if name.endswith("bias")]
    assert lean(torch.zeros(1, 4, dtype=torch.long)).shape == (1, 4, 5)


def test_a_recipe_builds_the_model_it_describes():
    recipe = GPTRecipe(dim=16, heads=2, layers=3, hidden=24, context=10, batch_size=4, steps=7, lr=1e-3, warmup=2,
                       bias=False, learned_positions=False)
    cfg = recipe.config(vocab_size=11)
    assert (cfg.vocab_size, cfg.dim, cfg.heads, cfg.layers, cfg.hidden, cfg.context) == (11, 16, 2, 3, 24, 10)
    assert not cfg.bias and not cfg.learned_positions
    model = GPT(cfg)
    assert len(model.blocks) == 3 and model.blocks[0].mlp[0].out_features == 24
    assert model(torch.zeros(2, 10, dtype=torch.long)).shape == (2, 10, 11)
    book = SHAKESPEARE_RECIPE.config(vocab_size=65)                # the defaults: learned positions, biases
    assert book.learned_positions and book.bias and book.context == SHAKESPEARE_RECIPE.context
