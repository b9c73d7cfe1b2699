"""Text classification with chapter 3's Transformer encoder: token ids (N, T) -> class logits (N, K).

The encoder is d2lite.torch.transformer's: embeddings plus positions, pre-norm blocks with
padding masked out of the attention, a final LayerNorm. A sequence's representation is the mean
of its tokens' outputs over the positions that are not padding, and a linear head maps it to K logits.
"""
import torch
from torch import nn

from d2lite.torch.transformer import Block, Embed, padding_mask


class TransformerClassifier(nn.Module):
    """forward(ids (N, T)) -> logits (N, num_classes); `pad_id` marks padding in ids."""

    def __init__(self, cfg, num_classes, pad_id=0):
        super().__init__()
        self.embed = Embed(cfg.vocab_size, cfg)
        self.blocks = nn.ModuleList(Block(cfg) for _ in range(cfg.layers))
        self.norm = nn.LayerNorm(cfg.dim)
        self.head = nn.Linear(cfg.dim, num_classes)
        self.pad_id = pad_id

    def forward(self, ids):
        mask = padding_mask(ids, self.pad_id)
        x = self.embed(ids)
        for block in self.blocks:
            x = block(x, mask=mask)
        keep = mask[:, 0, 0, :, None].to(x.dtype)                          # (N, T, 1)
        pooled = (self.norm(x) * keep).sum(1) / keep.sum(1).clamp(min=1)   # mean over real tokens
        return self.head(pooled)


def encode_texts(texts, vocab, length):
    """(N, length) int64 ids of `texts`, each cut to `length` characters and padded with id 0."""
    ids = torch.zeros(len(texts), length, dtype=torch.long)
    for i, text in enumerate(texts):
        row = vocab.encode(text[:length])
        ids[i, :len(row)] = torch.from_numpy(row)
    return ids
