"""Exercise 2.7's verdict across seeds: the reference CNN and plain MLPs, trained the way the grader trains them.

    nice .venv/bin/python benchmarks/budget_seeds.py [--seeds 0-19] > budget_seeds.log

For each seed (data placement, split, starting weights and batch order) and each model it
prints the test accuracy after the exercise's fixed recipe, the values counted, and the
seconds one training took on one thread (CPU time, steadier than wall time on a busy
machine). The exercise grades the mean over its three seeds; this shows every seed alone, so
the threshold can be checked against the worst one: the reference must clear it on every seed
and the MLPs, within the same budget, must fail on every seed.
"""
import argparse
import time

from torch import nn

from d2lite import limit_threads
from d2lite.exercises.cnns import BUDGET_2_7
from d2lite.grading.budget import Program, _check_probe, _check_static, _train, hand_over


def reference():
    return nn.Sequential(nn.Conv2d(1, 8, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
                         nn.Conv2d(8, 16, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
                         nn.Conv2d(16, 32, 3, padding=1), nn.ReLU(), nn.AdaptiveMaxPool2d(1),
                         nn.Flatten(), nn.Linear(32, 10))


def mlp_one_layer():
    return nn.Sequential(nn.Flatten(), nn.Linear(256, 74), nn.ReLU(), nn.Linear(74, 10))


def mlp_two_layers():
    return nn.Sequential(nn.Flatten(), nn.Linear(256, 64), nn.ReLU(), nn.Linear(64, 40), nn.ReLU(), nn.Linear(40, 10))


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--seeds", default="0-9", help="a range such as 0-19")
    first, last = map(int, parser.parse_args().seeds.split("-"))
    limit_threads(1)
    budget = BUDGET_2_7
    print(f"recipe {budget.recipe}; pass at a mean of {budget.min_accuracy} over seeds {budget.recipe.seeds}")
    for build in (reference, mlp_one_layer, mlp_two_layers):
        program = Program.read(hand_over(build, budget.input_shape))
        rule = _check_static(program, budget) or _check_probe(program, budget)[0]
        print(f"{build.__name__}: {program.size():,} values; rules: {rule or 'met'}", flush=True)
        for seed in range(first, last + 1):
            start = time.process_time()
            accuracy, _ = _train(program, budget, seed)
            print(f"  seed {seed:2d}: accuracy {accuracy:.3f}  ({time.process_time() - start:.1f} s)", flush=True)


if __name__ == "__main__":
    main()
