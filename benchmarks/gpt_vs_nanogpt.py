"""The book's small GPT (section 3.9) against nanoGPT's CPU recipe, trained on Tiny Shakespeare under the same budget.

    .venv/bin/python benchmarks/gpt_vs_nanogpt.py [--budget-s 50] [--threads 1] [--clock cpu]

nanoGPT's README (github.com/karpathy/nanoGPT, section "I only have a macbook") trains its CPU model with
    --block_size=64 --batch_size=12 --n_layer=4 --n_head=4 --n_embd=128 --max_iters=2000
    --lr_decay_iters=2000 --dropout=0.0
on top of config/train_shakespeare_char.py (learning_rate 1e-3, min_lr 1e-4, warmup_iters 100, beta2 0.99)
and train.py's defaults (AdamW, weight_decay 0.1 on matrices only, beta1 0.9, grad_clip 1.0, bias False),
and reports a validation loss of 1.88 after about 3 minutes. Its model is GPT-2's: learned positions,
pre-norm blocks, a GELU MLP of width 4d, a head tied to the token embedding, no biases. We express that
architecture with d2lite's own GPT (GPTRecipe(bias=False, learned_positions=True)), which also starts
as GPT-2 does (N(0, 0.02²), residual projections shrunk by sqrt(2 · layers)); no nanoGPT code runs here.
Where it differs: our attention has separate q, k, v projections (nanoGPT one stacked matrix: the same
function, three smaller products), our warm-up reaches the peak one step earlier, and both models are
scored the same way, on every 64-character window of the validation text (nanoGPT's log estimates the
loss from 20 random batches).

Each model follows its own recipe (steps, batch, schedule) and stops at the end of its schedule or when
the budget (CPU seconds of this process by default, or wall seconds) runs out, whichever comes first.
Validation time is not counted. The ratio is nanoGPT's loss over ours.
"""
import argparse
import math
import time

import torch
from torch.nn import functional as F

from conv_bench import machine_line
from d2lite.data import load_tiny_shakespeare
from d2lite.text import CharVocab
from d2lite.torch.schedules import Scheduler, cosine_warmup_lr
from d2lite.torch.transformer import GPT, SHAKESPEARE_RECIPE, GPTRecipe, random_windows, window_loss


NANOGPT_CPU = GPTRecipe(dim=128, heads=4, layers=4, context=64, bias=False, batch_size=12, steps=2000, lr=1e-3,
                        warmup=100, min_lr=1e-4, beta2=0.99)
RECIPES = {"nanoGPT CPU recipe": NANOGPT_CPU, "d2lite section 3.9": SHAKESPEARE_RECIPE}  # theirs, then ours


def train(recipe, train_ids, val_ids, vocab_size, budget_s, clock):
    """Train one recipe from seed 0 until its schedule ends or `budget_s` of `clock` is spent."""
    torch.manual_seed(0)
    model = GPT(recipe.config(vocab_size))
    matrices = [p for p in model.parameters() if p.dim() >= 2]
    vectors = [p for p in model.parameters() if p.dim() < 2]
    opt = torch.optim.AdamW([{"params": matrices, "weight_decay": recipe.weight_decay},
                             {"params": vectors, "weight_decay": 0.0}], lr=recipe.lr, betas=(0.9, recipe.beta2))
    schedule = Scheduler(opt, lambda t: cosine_warmup_lr(t, recipe.lr, recipe.warmup, recipe.steps, recipe.min_lr))
    gen = torch.Generator().manual_seed(0)
    wall0, cpu0 = time.perf_counter(), time.process_time()
    spent = (lambda: time.process_time() - cpu0) if clock == "cpu" else (lambda: time.perf_counter() - wall0)
    steps = 0
    while steps < recipe.steps and spent() < budget_s:
        x, y = random_windows(train_ids, recipe.batch_size, recipe.context, gen)
        loss = F.cross_entropy(model(x).flatten(0, 1), y.flatten())
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        schedule.step()
        steps += 1
    wall, cpu = time.perf_counter() - wall0, time.process_time() - cpu0
    params = sum(p.numel() for p in model.parameters())
    val = window_loss(model, val_ids, recipe.context)
    return {"steps": steps, "wall": wall, "cpu": cpu, "params": params, "val": val}


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--budget-s", type=float, default=50.0, help="training budget per model, in seconds")
    parser.add_argument("--threads", type=int, default=1, help="torch threads (1 is fastest on a busy machine)")
    parser.add_argument("--clock", choices=["cpu", "wall"], default="cpu",
                        help="what the budget counts: this process's CPU time (steadier on a shared machine) "
                             "or wall time")
    args = parser.parse_args(argv)
    if not (args.budget_s > 0 and math.isfinite(args.budget_s)):
        parser.error(f"--budget-s must be a positive number of seconds, got {args.budget_s}")
    if args.threads < 1:
        parser.error(f"--threads must be at least 1, got {args.threads}")
    return args


def main(argv=None):
    args = parse_args(argv)
    torch.set_num_threads(args.threads)
    train_text, val_text = load_tiny_shakespeare()
    vocab = CharVocab(train_text + val_text)
    train_ids, val_ids = torch.from_numpy(vocab.encode(train_text)), torch.from_numpy(vocab.encode(val_text))
    print(f"{machine_line()}; budget {args.budget_s:g} s of {args.clock} time per model\n")
    results = {name: train(recipe, train_ids, val_ids, len(vocab), args.budget_s, args.clock)
               for name, recipe in RECIPES.items()}
    print(f"{'recipe':<20} {'params':>8} {'steps':>11} {'wall s':>7} {'CPU s':>6} {'val nats/char':>14}")
    for name, recipe in RECIPES.items():
        r = results[name]
        print(f"{name:<20} {r['params']:>8,} {r['steps']:>5}/{recipe.steps:<5} {r['wall']:>7.1f} "
              f"{r['cpu']:>6.1f} {r['val']:>14.3f}")
    theirs, ours = (results[name]["val"] for name in RECIPES)
    ratio = theirs / ours
    print(f"\nvalidation loss, nanoGPT's recipe / ours: {ratio:.3f}")
    return results


if __name__ == "__main__":
    main()
