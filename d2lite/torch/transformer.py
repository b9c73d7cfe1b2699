"""A small Transformer in PyTorch: pre-norm blocks, an encoder–decoder for translation and a
decoder-only language model (GPT), built from d2lite.torch.attention.MultiHeadAttention.

Every block is pre-norm, x + dropout(sublayer(LayerNorm(x))), which trains stably without a
learning-rate warm-up at this size. The layers that run are the fused ones (torch.nn.LayerNorm,
F.scaled_dot_product_attention inside MultiHeadAttention, flash attention on a GPU); their
hand-written twins (d2lite.torch.LayerNorm, the spelled-out attention) are parity-tested against them.
"""
from dataclasses import dataclass

import torch
from torch import nn
from torch.nn import functional as F

from d2lite.torch.attention import MultiHeadAttention, positional_encoding
from d2lite.torch.layers import Linear


@dataclass
class TransformerConfig:
    vocab_size: int
    dim: int = 128              # d, the model width
    heads: int = 4
    layers: int = 2             # blocks (in each of encoder and decoder for the encoder–decoder)
    hidden: int = 0             # the feed-forward width; 0 means 4·dim
    context: int = 64           # the longest sequence the position table covers
    dropout: float = 0.0
    target_vocab_size: int = 0  # encoder–decoder only; 0 means the same vocabulary on both sides
    learned_positions: bool = False  # a learned table of positions (GPT-2) instead of sinusoids
    bias: bool = True           # biases in the linear layers and LayerNorms (nanoGPT trains without)


@dataclass(frozen=True)
class GPTRecipe:
    """A character GPT and its training run: the model's shape, the batches and the AdamW schedule (a linear
    warm-up to `lr`, then a half cosine down to `min_lr` at the last step). `config(V)` gives the model's
    TransformerConfig. Section 3.9 and benchmarks/gpt_vs_nanogpt.py train SHAKESPEARE_RECIPE from here."""
    dim: int
    heads: int
    layers: int
    context: int                # T, the window length in training and validation
    batch_size: int
    steps: int
    lr: float
    warmup: int
    hidden: int = 0             # the feed-forward width; 0 means 4·dim
    min_lr: float = 0.0
    beta2: float = 0.99
    weight_decay: float = 0.1   # on the weight matrices only
    bias: bool = True
    learned_positions: bool = True

    def config(self, vocab_size):
        return TransformerConfig(vocab_size=vocab_size, dim=self.dim, heads=self.heads, layers=self.layers,
                                 hidden=self.hidden, context=self.context, bias=self.bias,
                                 learned_positions=self.learned_positions)


# section 3.9's GPT on Tiny Shakespeare, tuned for about 40 s of one CPU core
SHAKESPEARE_RECIPE = GPTRecipe(dim=128, heads=4, layers=2, hidden=256, context=48, batch_size=16, steps=2100,
                               lr=6e-3, warmup=50)


def padding_mask(ids, pad_id):
    """(N, 1, 1, T) booleans from token ids (N, T): False at padding, so no query attends to it."""
    return (ids != pad_id)[:, None, None, :]


class FeedForward(nn.Sequential):
    """Linear(d, hidden), GELU, Linear(hidden, d), dropout: the same small MLP at every position."""

    def __init__(self, dim, hidden, dropout, bias=True):
        super().__init__(nn.Linear(dim, hidden, bias=bias), nn.GELU(), nn.Linear(hidden, dim, bias=bias),
                         nn.Dropout(dropout))


def _norm(cfg):
    return nn.LayerNorm(cfg.dim, bias=cfg.bias)


def _attention(cfg):
    return MultiHeadAttention(cfg.dim, cfg.heads, cfg.dropout, bias=cfg.bias)


class Block(nn.Module):
    """Self-attention, then (in a decoder with `cross=True`) attention to the encoder's output, then the MLP."""

    def __init__(self, cfg, cross=False):
        super().__init__()
        self.norm1, self.attn = _norm(cfg), _attention(cfg)
        if cross:
            self.norm_x, self.cross = _norm(cfg), _attention(cfg)
        self.norm2, self.mlp = _norm(cfg), FeedForward(cfg.dim, cfg.hidden or 4 * cfg.dim, cfg.dropout, cfg.bias)
        self.drop = nn.Dropout(cfg.dropout)

    def forward(self, x, mask=None, causal=False, memory=None, memory_mask=None, need_weights=False):
        """With `need_weights`, the attention layers keep their weights (`.attn.weights`, `.cross.weights`)."""
        h = self.norm1(x)
        x = x + self.drop(self.attn(h, h, h, mask=mask, causal=causal, need_weights=need_weights))
        if memory is not None:
            x = x + self.drop(self.cross(self.norm_x(x), memory, memory, mask=memory_mask, need_weights=need_weights))
        return x + self.mlp(self.norm2(x))


class Embed(nn.Module):
    """Token embeddings plus positions, then dropout. Positions are either fixed sinusoids (with the
    tokens scaled by sqrt(d), as in Vaswani et al.) or a learned table (`cfg.learned_positions`, as in GPT-2)."""

    def __init__(self, vocab, cfg):
        super().__init__()
        self.tokens = nn.Embedding(vocab, cfg.dim)
        self.context = cfg.context
        if cfg.learned_positions:
            self.positions = nn.Parameter(torch.zeros(cfg.context, cfg.dim))
            self.scale = 1.0
        else:
            self.register_buffer("positions", positional_encoding(cfg.context, cfg.dim), persistent=False)
            self.scale = cfg.dim ** 0.5
        self.drop = nn.Dropout(cfg.dropout)

    def forward(self, ids):
        if ids.shape[1] > self.context:
            raise ValueError(f"sequence of length {ids.shape[1]} is longer than the context {self.context}")
        return self.drop(self.tokens(ids) * self.scale + self.positions[:ids.shape[1]])


class Seq2SeqTransformer(nn.Module):
    """The encoder–decoder of "Attention is all you need" (pre-norm): source ids -> target logits.

    forward(src, tgt_in) takes source ids (N, S) and the shifted target ids (N, T) that start with
    BOS, and returns logits (N, T, target vocabulary); `pad_id` marks padding in the source.
    """

    def __init__(self, cfg, pad_id=0):
        super().__init__()
        target_vocab = cfg.target_vocab_size or cfg.vocab_size
        self.src_embed, self.tgt_embed = Embed(cfg.vocab_size, cfg), Embed(target_vocab, cfg)
        self.encoder = nn.ModuleList(Block(cfg) for _ in range(cfg.layers))
        self.decoder = nn.ModuleList(Block(cfg, cross=True) for _ in range(cfg.layers))
        self.enc_norm, self.dec_norm = _norm(cfg), _norm(cfg)
        self.head = nn.Linear(cfg.dim, target_vocab)
        self.pad_id = pad_id

    def encode(self, src):
        mask = padding_mask(src, self.pad_id)
        x = self.src_embed(src)
        for block in self.encoder:
            x = block(x, mask=mask)
        return self.enc_norm(x), mask

    def decode(self, tgt_in, memory, memory_mask, need_weights=False):
        y = self.tgt_embed(tgt_in)
        for block in self.decoder:
            y = block(y, causal=True, memory=memory, memory_mask=memory_mask, need_weights=need_weights)
        return self.head(self.dec_norm(y))

    def forward(self, src, tgt_in, need_weights=False):
        """Logits (N, T, target vocabulary); with `need_weights`, each decoder block's `.cross.weights`
        holds its attention to the source, (N, heads, T, S)."""
        return self.decode(tgt_in, *self.encode(src), need_weights=need_weights)

    @torch.no_grad()
    def greedy(self, src, bos, eos, max_len):
        """Greedy decoding of a batch: (N, ≤ max_len) ids after BOS; rows that ended are padded with eos."""
        memory, mask = self.encode(src)
        out = torch.full((len(src), 1), bos, dtype=torch.long, device=src.device)
        done = torch.zeros(len(src), dtype=torch.bool, device=src.device)
        for _ in range(max_len):
            nxt = self.decode(out, memory, mask)[:, -1].argmax(-1)
            nxt = torch.where(done, torch.full_like(nxt, eos), nxt)
            out = torch.cat([out, nxt[:, None]], dim=1)
            done |= nxt == eos
            if done.all():
                break
        return out[:, 1:]


def _gpt2_init(model, layers):
    """GPT-2's initialisation: every weight N(0, 0.02²) and biases zero (small logits at the start, loss ≈ log V);
    the two projections that write into the residual stream (attention output, MLP output) start sqrt(2·layers)
    times smaller, so that the stream's variance does not grow with depth."""
    for module in model.modules():
        if isinstance(module, (nn.Linear, Linear, nn.Embedding)):
            nn.init.normal_(module.weight, std=0.02)
        if isinstance(module, (nn.Linear, Linear)) and module.bias is not None:
            nn.init.zeros_(module.bias)
        if isinstance(module, Embed) and isinstance(module.positions, nn.Parameter):
            nn.init.normal_(module.positions, std=0.02)
    for block in model.blocks:
        for proj in (block.attn.out_proj, block.mlp[2]):
            nn.init.normal_(proj.weight, std=0.02 / (2 * layers) ** 0.5)


class GPT(nn.Module):
    """A decoder-only language model: embeddings, causal pre-norm blocks, a final norm and a linear head
    whose weight is the token embedding's (tied), as in GPT-2. forward(ids (N, T)) -> logits (N, T, V)."""

    def __init__(self, cfg):
        super().__init__()
        self.embed = Embed(cfg.vocab_size, cfg)
        self.blocks = nn.ModuleList(Block(cfg) for _ in range(cfg.layers))
        self.norm = _norm(cfg)
        self.head = nn.Linear(cfg.dim, cfg.vocab_size, bias=False)
        self.head.weight = self.embed.tokens.weight
        self.context = cfg.context
        _gpt2_init(self, cfg.layers)

    def forward(self, ids):
        x = self.embed(ids)
        for block in self.blocks:
            x = block(x, causal=True)
        return self.head(self.norm(x))

    @torch.no_grad()
    def generate(self, ids, steps, temperature=1.0, top_k=None, generator=None):
        """Append `steps` sampled tokens to ids (N, T); temperature 0 means greedy (the most likely token)."""
        for _ in range(steps):
            logits = self(ids[:, -self.context:])[:, -1]
            if temperature == 0:
                nxt = logits.argmax(-1, keepdim=True)
            else:
                logits = logits / temperature
                if top_k is not None:
                    kth = torch.topk(logits, min(top_k, logits.shape[-1])).values[:, -1:]
                    logits = logits.masked_fill(logits < kth, float("-inf"))
                nxt = torch.multinomial(F.softmax(logits, dim=-1), 1, generator=generator)
            ids = torch.cat([ids, nxt], dim=1)
        return ids


def random_windows(ids, n, t, generator=None):
    """`n` windows of `t` tokens from random places in the 1-D tensor `ids`: inputs x (n, t) and
    targets y (n, t), the same windows shifted one token ahead."""
    if len(ids) <= t:
        raise ValueError(f"{len(ids)} tokens cannot give windows of {t} tokens plus a target: use a shorter t.")
    starts = torch.randint(len(ids) - t, (n,), generator=generator)
    rows = ids[starts[:, None] + torch.arange(t + 1)]
    return rows[:, :-1], rows[:, 1:]


@torch.no_grad()
def window_loss(model, ids, t, batch_size=256):
    """A language model's mean cross-entropy (nats per token) on `ids`, read as consecutive windows of
    `t` tokens: each prediction sees only the earlier tokens of its window, as in training."""
    n = (len(ids) - 1) // t
    if n < 1:
        raise ValueError(f"{len(ids)} tokens do not fill one window of {t} tokens plus a target.")
    device = next(model.parameters()).device
    x, y = ids[:n * t].view(n, t), ids[1:n * t + 1].view(n, t)
    was_training = model.training
    model.eval()
    total = 0.0
    for i in range(0, n, batch_size):
        logits = model(x[i:i + batch_size].to(device))
        total += F.cross_entropy(logits.flatten(0, 1), y[i:i + batch_size].flatten().to(device), reduction="sum").item()
    model.train(was_training)
    return total / y.numel()
