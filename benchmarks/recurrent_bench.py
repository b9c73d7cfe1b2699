"""Sequence layers: d2lite's hand-written versions against PyTorch's fused ones, on the CPU, float32.

    .venv/bin/python benchmarks/recurrent_bench.py [--repeat 5] [--threads 1] [--clock cpu]

Forward + backward of
- an LSTM (batch 32, T = 64, 64 inputs, H = 256): scratch.LSTM (NumPy, BPTT by hand) and
  d2lite.torch.LSTM (a Python loop over time, autograd) against torch.nn.LSTM (one fused kernel);
- multi-head self-attention (batch 32, T = 64, d = 128, 4 heads): scratch.MultiHeadAttention against
  torch.nn.MultiheadAttention.
Each figure is the best of `--repeat` runs (see conv_bench.py); ratios are ours / PyTorch's fused layer.
"""
import argparse
import time

import numpy as np
import torch
from conv_bench import best_times, machine_line
from torch import nn

from d2lite import scratch
from d2lite import torch as dtorch


def lstm_times(repeat, number, clock, n=32, t=64, i=64, h=256):
    rng = np.random.default_rng(0)
    x = rng.standard_normal((n, t, i)).astype(np.float32)
    dout = rng.standard_normal((n, t, h)).astype(np.float32)
    ours = scratch.LSTM(i, h, rng=rng, dtype=np.float32)
    fused = nn.LSTM(i, h, batch_first=True)
    twin = dtorch.LSTM(i, h)
    twin.load_state_dict(fused.state_dict())
    xt, dt = torch.from_numpy(x), torch.from_numpy(dout)

    def numpy_step():
        ours.forward(x)
        ours.backward(dout)

    def torch_step(layer):
        def step():
            layer.zero_grad()
            layer(xt)[0].backward(dt)
        return step

    return best_times({"fused": torch_step(fused), "numpy": numpy_step, "loop": torch_step(twin)}, repeat, number, clock)


def attention_times(repeat, number, clock, n=32, t=64, d=128, heads=4):
    rng = np.random.default_rng(0)
    x = rng.standard_normal((n, t, d)).astype(np.float32)
    dout = rng.standard_normal((n, t, d)).astype(np.float32)
    ours = scratch.MultiHeadAttention(d, heads, rng=rng, dtype=np.float32)
    theirs = nn.MultiheadAttention(d, heads, batch_first=True)
    xt, dt = torch.from_numpy(x).requires_grad_(), torch.from_numpy(dout)

    def numpy_step():
        ours.forward(x, x, x)
        ours.backward(dout)

    def torch_step():
        theirs.zero_grad()
        xt.grad = None
        theirs(xt, xt, xt, need_weights=False)[0].backward(dt)

    return best_times({"torch": torch_step, "numpy": numpy_step}, repeat, number, clock)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--number", type=int, default=3, help="calls per timed run")
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--clock", choices=["wall", "cpu"], default="wall")
    args = parser.parse_args()
    from threadpoolctl import threadpool_limits

    torch.set_num_threads(args.threads)
    threadpool_limits(args.threads)
    clock = time.process_time if args.clock == "cpu" else time.perf_counter
    print(f"{machine_line()}, numpy {np.__version__}; {args.clock} clock, best of {args.repeat} runs\n")
    r = lstm_times(args.repeat, args.number, clock)
    print("LSTM forward+backward, batch 32, T=64, inputs 64, H=256")
    print(f"  torch.nn.LSTM (fused)            {r['fused'] * 1e3:8.1f} ms")
    print(f"  scratch.LSTM (NumPy)             {r['numpy'] * 1e3:8.1f} ms  {r['numpy'] / r['fused']:5.2f}x fused")
    print(f"  d2lite.torch.LSTM (loop)         {r['loop'] * 1e3:8.1f} ms  {r['loop'] / r['fused']:5.2f}x fused")
    a = attention_times(args.repeat, args.number, clock)
    print("Multi-head self-attention forward+backward, batch 32, T=64, d=128, 4 heads")
    print(f"  torch.nn.MultiheadAttention      {a['torch'] * 1e3:8.1f} ms")
    print(f"  scratch.MultiHeadAttention       {a['numpy'] * 1e3:8.1f} ms  {a['numpy'] / a['torch']:5.2f}x torch")


if __name__ == "__main__":
    main()
