"""benchmarks/gpt_vs_nanogpt.py: bad options are refused with a message, and a run stops at its budget or its
last step (no timing is asserted: the figures themselves come from running the benchmark)."""
from dataclasses import replace

import pytest
import torch
from scripts import load_script


def load():
    return load_script("benchmarks/gpt_vs_nanogpt.py")


def test_options_and_their_defaults():
    bench = load()
    args = bench.parse_args([])
    assert (args.budget_s, args.threads, args.clock) == (50.0, 1, "cpu")
    args = bench.parse_args(["--budget-s", "2.5", "--threads", "2", "--clock", "wall"])
    assert (args.budget_s, args.threads, args.clock) == (2.5, 2, "wall")


@pytest.mark.parametrize("argv, message", [(["--budget-s", "0"], "positive number"),
                                           (["--budget-s", "nan"], "positive number"),
                                           (["--threads", "0"], "at least 1"), (["--clock", "gpu"], "invalid choice")])
def test_bad_options_are_refused(argv, message, capsys):
    with pytest.raises(SystemExit):
        load().parse_args(argv)
    assert message in capsys.readouterr().err


def test_a_run_stops_at_its_last_step_or_its_budget():
    bench = load()
    tiny = replace(bench.SHAKESPEARE_RECIPE, dim=8, heads=2, layers=1, context=6, batch_size=3, steps=4, warmup=1)
    ids = torch.randint(0, 5, (200,), generator=torch.Generator().manual_seed(0))
    done = bench.train(tiny, ids, ids[:50], 5, budget_s=1e6, clock="cpu")
    assert done["steps"] == 4 and 0 < done["val"] < 5
    assert bench.train(tiny, ids, ids[:50], 5, budget_s=1e-9, clock="wall")["steps"] <= 1
