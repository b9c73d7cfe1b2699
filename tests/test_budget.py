"""Exercise 2.7 and the budget mechanism: the grader measures, trains and scores the handed-over model itself.

Each hole of the old 2.7 (issue 7, §4) has a model here that used to pass and must now fail with
its own reason; right models written in other ways must still pass.
"""
import json

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from torch import nn

from d2lite import torch as dt
from d2lite.data import load_placed_digits
from d2lite.exercises.cnns import BUDGET_2_7
from d2lite.grading import get_exercise, grade_exercise, wire
from d2lite.grading.budget import BudgetError, Program, hand_over, judge, probe


def grade(build):
    result = grade_exercise(get_exercise("2.7"), {"build_cnn": build})
    return result.earned, result.parts[0].cases[0].message


def reference():
    return nn.Sequential(nn.Conv2d(1, 8, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
                         nn.Conv2d(8, 16, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
                         nn.Conv2d(16, 32, 3, padding=1), nn.ReLU(), nn.AdaptiveMaxPool2d(1), nn.Flatten(),
                         nn.Linear(32, 10))


class NormedNet(nn.Module):
    """A right answer written differently: its own forward, functional calls, batch norm and dropout."""

    def __init__(self):
        super().__init__()
        self.c1, self.n1 = nn.Conv2d(1, 12, 3, padding=1), nn.BatchNorm2d(12)
        self.c2 = nn.Conv2d(12, 24, 3, padding=1)
        self.head = nn.Linear(24, 10)

    def forward(self, x):
        x = F.max_pool2d(F.relu(self.n1(self.c1(x))), 2)
        x = F.max_pool2d(F.relu(self.c2(x)), 2)
        x = x.view(x.size(0), x.size(1), -1).amax(dim=2)
        return self.head(F.dropout(x, 0.1, self.training))


# ---- models that used to pass -----------------------------------------------------------------

class ConvNet(nn.Module):
    """An MLP in a class named like a CNN."""

    def __init__(self):
        super().__init__()
        self.net = nn.Sequential(nn.Flatten(), nn.Linear(256, 70), nn.ReLU(), nn.Linear(70, 10))

    def forward(self, x):
        return self.net(x)


class UnusedConv(ConvNet):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(1, 4, 3)


class WholeImageConv(nn.Module):
    """A "convolution" whose kernel covers the whole image: a dense layer in disguise."""

    def __init__(self):
        super().__init__()
        self.conv, self.head = nn.Conv2d(1, 60, 16), nn.Linear(60, 10)

    def forward(self, x):
        return self.head(F.relu(self.conv(x)).flatten(1))


class HiddenInBuffer(nn.Module):
    """Most of the weights in a buffer: not counted as parameters before."""

    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(1, 4, 3, padding=1)
        self.register_buffer("w", torch.randn(1024, 16) * 0.03)  # within the budget, once counted
        self.head = nn.Linear(16, 10)

    def forward(self, x):
        return self.head(F.relu(self.conv(x).flatten(1) @ self.w))


class HiddenInList(nn.Module):
    """Weights in a plain Python list: invisible to .parameters()."""

    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(1, 4, 3, padding=1)
        self.hidden = [nn.Parameter(torch.randn(1024, 10) * 0.03)]

    def forward(self, x):
        return self.conv(x).flatten(1) @ self.hidden[0]


class Squeezed(nn.Module):
    def __init__(self):
        super().__init__()
        self.body = reference()

    def forward(self, x):
        return self.body(x).squeeze()


class BatchMixing(nn.Module):
    """Normalises with statistics of the batch even when evaluating."""

    def __init__(self):
        super().__init__()
        self.body = reference()

    def forward(self, x):
        return self.body(x - x.mean(dim=0, keepdim=True))


class Sorted(nn.Module):
    def __init__(self):
        super().__init__()
        self.body = reference()

    def forward(self, x):
        return torch.sort(self.body(x), dim=1).values


def too_big():
    return nn.Sequential(nn.Conv2d(1, 8, 3, padding=1), nn.ReLU(), nn.Flatten(), nn.Linear(8 * 256, 10))


def too_slow():
    return nn.Sequential(nn.Conv2d(1, 32, 3, padding=1), nn.ReLU(), nn.Conv2d(32, 32, 3, padding=1), nn.ReLU(),
                         nn.AdaptiveMaxPool2d(1), nn.Flatten(), nn.Linear(32, 10))


def fixed_batch():
    class Fixed(nn.Module):
        def __init__(self):
            super().__init__()
            self.body = reference()

        def forward(self, x):
            return self.body(x.view(2, 1, 16, 16))
    return Fixed()


def pretrained_mlp():
    """An MLP trained inside build_cnn on the grader's own test images, labels included."""
    model = nn.Sequential(nn.Conv2d(1, 1, 3, padding=1), nn.Flatten(), nn.Linear(256, 70), nn.ReLU(), nn.Linear(70, 10))
    split = load_placed_digits(seed=0)
    X, y = torch.from_numpy(split.X_test), torch.from_numpy(split.y_test)
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-2)
    for _ in range(60):
        optimizer.zero_grad()
        F.cross_entropy(model(X), y).backward()
        optimizer.step()
    assert (model(X).argmax(1) == y).float().mean() > 0.9  # it knows the test set by heart
    return model


REJECTED = [
    (ConvNet, "no convolution runs in its forward pass"),
    (UnusedConv, "no convolution runs in its forward pass"),
    (WholeImageConv, "no convolution runs in its forward pass"),
    (HiddenInBuffer, "`w`, a tensor that is not a registered parameter"),
    (HiddenInList, "not a registered parameter"),
    (Squeezed, "a batch of one example, shape (1, 1, 16, 16), gives (10,)"),
    (BatchMixing, "an example's logits depend on the rest of its batch"),
    (Sorted, "calls `aten.sort.default`, which the grader does not run"),
    (too_big, "it reads 20,570 values (parameters, buffers and constants); the budget is 20,000"),
    (too_slow, "multiply-adds per example; the limit is 500,000"),
    (fixed_batch, "could not be traced"),
    (lambda: nn.Linear, "must return a model instance"),
]


@pytest.mark.parametrize("build, words", REJECTED, ids=[getattr(b, "__name__", "lambda") for b, _ in REJECTED])
def test_each_hole_is_closed_with_its_own_reason(build, words):
    earned, message = grade(build)
    assert earned == 0 and words in message, message


def test_an_mlp_trained_on_the_test_set_inside_build_cnn_gains_nothing():
    earned, message = grade(pretrained_mlp)
    assert earned == 0 and "mean test accuracy" in message and "needs at least 0.7" in message, message


@pytest.mark.parametrize("build", [reference, NormedNet], ids=["sequential", "own_forward_batchnorm_dropout"])
def test_right_models_pass(build):
    assert grade(build) == (3, "")


def test_d2lite_torch_layers_count_as_convolutions():
    def build():
        return nn.Sequential(dt.Conv2d(1, 8, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(),
                             nn.Linear(512, 10))
    program = Program.read(hand_over(build, (1, 16, 16)))
    _, convolutions, mult_adds, _ = probe(program, program.fresh_state(0), torch.zeros(1, 1, 16, 16))
    assert convolutions == 1 and mult_adds == 8 * 9 * 256 + 512 * 10


def test_the_grader_draws_its_own_starting_weights():
    program = Program.read(hand_over(reference, (1, 16, 16)))
    state, again, other = program.fresh_state(0), program.fresh_state(0), program.fresh_state(1)
    weight = "0.weight"
    assert torch.equal(state[weight], again[weight]) and not torch.equal(state[weight], other[weight])
    assert not torch.equal(state[weight], program.tensors[weight])      # not what the kernel handed over
    assert float(state[weight].detach().abs().max()) <= 1 / 3 and not state["0.bias"].any()


def _through_wire(value):
    return wire.decode(json.loads(json.dumps(wire.encode(value))))


def test_the_hand_over_crosses_the_wire_as_plain_data():
    got = _through_wire(hand_over(reference, (1, 16, 16)))
    program = Program.read(got)
    assert program.size() == sum(p.numel() for p in reference().parameters())


def _forged(graph, arrays=()):
    return np.frombuffer(json.dumps(graph).encode(), dtype=np.uint8), tuple(arrays)


@pytest.mark.parametrize("got, words", [
    (("not", "a model"), "malformed"),
    (_forged({"inputs": [], "nodes": [], "output": "x"}), "exactly one input"),
    (_forged({"inputs": [{"name": "x", "kind": "input", "target": None}],
              "nodes": [{"name": "y", "op": "builtins.eval", "args": ["1"], "kwargs": {}}], "output": "y"}),
     "calls `builtins.eval`, which the grader does not run"),
    (_forged({"inputs": [{"name": "x", "kind": "input", "target": None}],
              "nodes": [{"name": "y", "op": "aten.relu.default", "args": [{"n": "nowhere"}], "kwargs": {}}],
              "output": "y"}), "malformed operator argument"),
    (_forged({"inputs": [{"name": "x", "kind": "input", "target": None}],
              "nodes": [{"name": f"y{i}", "op": "aten.relu.default", "args": [{"n": "x"}], "kwargs": {}}
                        for i in range(1000)], "output": "y0"}), "the grader accepts at most 400"),
    ((np.frombuffer(b"[" * 100_000, dtype=np.uint8), ()), "malformed"),
])
def test_a_forged_hand_over_is_refused_with_a_reason(got, words):
    assert words in judge(BUDGET_2_7, got), judge(BUDGET_2_7, got)


def test_huge_intermediates_are_refused_before_they_are_computed():
    class Blowup(nn.Module):
        def __init__(self):
            super().__init__()
            self.body = reference()

        def forward(self, x):
            wide = x.expand(x.shape[0], 256, 16, 16).contiguous()  # 65,536 values per example
            return self.body(wide.amax(dim=1, keepdim=True))

    earned, message = grade(Blowup)
    assert earned == 0 and "values per example, the limit" in message, message
    huge = _forged({"inputs": [{"name": "x", "kind": "input", "target": None}],
                    "nodes": [{"name": "y", "op": "aten.expand.default", "args": [{"n": "x"}, [1 << 16, 1 << 16]],
                               "kwargs": {}}], "output": "y"})
    assert "far larger than a small model needs" in judge(BUDGET_2_7, huge)


def test_placed_digits_hold_each_digit_once_somewhere_on_the_canvas():
    from d2lite.data import load_digits

    placed, plain = load_placed_digits(seed=3), load_digits(seed=3, images=True)
    assert placed.X_train.shape == (len(plain.X_train), 1, 16, 16) and placed.X_train.dtype == np.float32
    assert np.array_equal(placed.y_test, plain.y_test)
    assert np.allclose(placed.X_train.sum(axis=(1, 2, 3)), plain.X_train.sum(axis=(1, 2, 3)))
    assert np.array_equal(load_placed_digits(seed=3).X_test, placed.X_test)
    rows = placed.X_train[:, 0].any(axis=2).argmax(axis=1)  # first row with ink: the digits sit at many heights
    assert len(set(rows.tolist())) > 6
