"""Learning-rate schedules: their shape, and parity with torch.optim.lr_scheduler where it has them."""
import math

import pytest
import torch

import d2lite.torch as dt
from d2lite import scratch
from d2lite.scratch.schedules import cosine_warmup_lr, exponential_lr, inverse_sqrt_lr, step_lr


def torch_lrs(make_scheduler, steps, lr=0.1):
    opt = torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr=lr)
    sched = make_scheduler(opt)
    lrs = []
    for _ in range(steps):
        lrs.append(opt.param_groups[0]["lr"])
        opt.step()
        sched.step()
    return lrs


def ours(schedule, steps, lr=0.1):
    """The lrs that d2lite.torch.Scheduler sets, step by step."""
    return torch_lrs(lambda opt: dt.Scheduler(opt, schedule), steps, lr)


def test_step_lr_matches_torch():
    ref = torch_lrs(lambda o: torch.optim.lr_scheduler.StepLR(o, step_size=7, gamma=0.3), 30)
    assert ours(lambda t: step_lr(t, 0.1, 7, 0.3), 30) == pytest.approx(ref, rel=1e-12)


def test_exponential_lr_matches_torch():
    ref = torch_lrs(lambda o: torch.optim.lr_scheduler.ExponentialLR(o, gamma=0.93), 40)
    assert ours(lambda t: exponential_lr(t, 0.1, 0.93), 40) == pytest.approx(ref, rel=1e-10)


def test_cosine_with_warmup_matches_torch_linear_then_cosine():
    warmup, total, min_lr = 5, 40, 0.002

    def make(o):
        return torch.optim.lr_scheduler.SequentialLR(o, [
            torch.optim.lr_scheduler.LinearLR(o, start_factor=1 / warmup, end_factor=1.0, total_iters=warmup - 1),
            torch.optim.lr_scheduler.CosineAnnealingLR(o, T_max=total - warmup, eta_min=min_lr)],
            milestones=[warmup])
    ref = torch_lrs(make, total + 1)
    got = ours(lambda t: cosine_warmup_lr(t, 0.1, warmup, total, min_lr), total + 1)
    assert got == pytest.approx(ref, rel=1e-9, abs=1e-12)


def test_cosine_warmup_shape():
    lrs = [cosine_warmup_lr(t, 0.5, 4, 20, 0.05) for t in range(25)]
    assert lrs[:4] == pytest.approx([0.125, 0.25, 0.375, 0.5])
    assert lrs[4] == pytest.approx(0.5) and lrs[12] == pytest.approx((0.5 + 0.05) / 2)
    assert lrs[20:] == pytest.approx([0.05] * 5)
    with pytest.raises(ValueError, match="warmup < total"):
        cosine_warmup_lr(0, 0.1, 10, 10)


def test_inverse_sqrt_peaks_at_warmup_and_decays_like_one_over_root_t():
    lrs = [inverse_sqrt_lr(t, 1e-3, 100) for t in range(400)]
    assert max(lrs) == pytest.approx(1e-3) and lrs.index(max(lrs)) == 99
    assert lrs[0] == pytest.approx(1e-5)
    assert lrs[399] == pytest.approx(1e-3 * math.sqrt(100 / 400))


def test_scratch_scheduler_sets_the_optimizer_lr():
    p = scratch.Parameter([1.0])
    opt = scratch.SGD([p], lr=1.0)
    sched = scratch.Scheduler(opt, lambda t: step_lr(t, 0.2, 2, 0.5))
    seen = []
    for _ in range(5):
        seen.append(opt.lr)
        sched.step()
    assert seen == pytest.approx([0.2, 0.2, 0.1, 0.1, 0.05])


def test_torch_scheduler_state_dict_resumes_without_the_function():
    opt = torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr=0.1)
    sched = dt.Scheduler(opt, lambda t: exponential_lr(t, 0.1, 0.5))
    for _ in range(3):
        opt.step()
        sched.step()
    state = sched.state_dict()
    assert "schedule" not in state
    opt2 = torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr=0.1)
    sched2 = dt.Scheduler(opt2, lambda t: exponential_lr(t, 0.1, 0.5))
    sched2.load_state_dict(state)
    opt2.step()
    sched2.step()
    assert sched2.t == 4 and opt2.param_groups[0]["lr"] == pytest.approx(0.1 * 0.5 ** 4)
