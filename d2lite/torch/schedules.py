"""Learning-rate schedules for PyTorch optimizers, with the formulas of d2lite.scratch.schedules.

`Scheduler` is a torch.optim.lr_scheduler.LRScheduler, so it works with any torch
optimizer, and its state_dict() (the step count) goes into checkpoints.
"""
from torch.optim.lr_scheduler import LRScheduler

from d2lite.scratch.schedules import cosine_warmup_lr, exponential_lr, inverse_sqrt_lr, step_lr

__all__ = ["Scheduler", "cosine_warmup_lr", "exponential_lr", "inverse_sqrt_lr", "step_lr"]


class Scheduler(LRScheduler):
    """Sets every param group's lr to `schedule(t)`; `step()` advances t. Starts at t = 0.

    `schedule` is a function of t alone, e.g. `lambda t: cosine_warmup_lr(t, 0.1, 5, 100)`;
    it is not saved in state_dict() (functions do not pickle), only the step count.
    """

    def __init__(self, optimizer, schedule):
        self.schedule = schedule
        super().__init__(optimizer)

    def get_lr(self):
        return [self.schedule(self.last_epoch) for _ in self.optimizer.param_groups]

    @property
    def t(self):
        return self.last_epoch

    def state_dict(self):
        return {k: v for k, v in super().state_dict().items() if k != "schedule"}
