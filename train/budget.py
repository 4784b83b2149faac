"""A learning-rate schedule sized to minutes instead of epochs (`--time-budget`), as a Keras callback.

A cosine schedule cut short by a clock ends at a high learning rate, which is the worst moment to
stop. Here the cosine runs on the fraction of the budget spent, so it reaches zero when the time does,
on a slow laptop and a fast GPU alike; the warm-up counts steps, because what it protects against (the
first updates of a fresh network) is counted in updates.
"""

from __future__ import annotations

import time

import keras

from train.policy import budget_lr


class BudgetSchedule(keras.callbacks.Callback):
    """Sets the learning rate before every step from `budget_lr`, and ends training after the last step
    whose successor would overrun the budget less the measured time of a validation and checkpoint,
    which still follow inside it. `spent_s`: training time of the epochs a resumed run already finished.
    `peak` None: only the end (--schedule plateau)."""

    def __init__(self, peak: float | None, warmup_steps: int, budget_min: float, spent_s: float = 0.0):
        super().__init__()
        self.peak, self.warmup_steps, self.budget_s, self.spent_s = peak, warmup_steps, budget_min * 60, spent_s
        self.t0 = 0.0  # the clock starts with training (on_train_begin), less a resumed run's spent time
        self.tail = 0.0  # validation and checkpoint after an epoch's last step, as last measured
        self.last_step_end: float | None = None
        self.step_start = 0.0
        self.step_s = 0.0  # the last step's duration: the next one is expected to take as long

    def on_train_begin(self, logs=None):
        self.t0 = time.time() - self.spent_s

    def elapsed(self) -> float:
        return time.time() - self.t0

    def steps_budget(self) -> float:
        """The budget less the tail that follows the last step, so the run ends inside the minutes."""
        return max(self.budget_s - self.tail, 1e-3)

    def spent(self) -> bool:
        """True once another step would end past the budget less the tail."""
        return self.elapsed() + self.step_s >= self.steps_budget()

    def on_epoch_begin(self, epoch, logs=None):
        if self.last_step_end is not None:  # the longest seen: the schedule may only move forward
            self.tail = max(self.tail, time.time() - self.last_step_end)

    def on_train_batch_begin(self, batch, logs=None):
        self.step_start = time.time()
        if self.peak is None:
            return
        step = int(self.model.optimizer.iterations.numpy())
        lr = budget_lr(
            step, self.elapsed(), peak=self.peak, warmup_steps=self.warmup_steps, budget_s=self.steps_budget()
        )
        self.model.optimizer.learning_rate.assign(lr)

    def on_train_batch_end(self, batch, logs=None):
        self.last_step_end = time.time()
        self.step_s = self.last_step_end - self.step_start
        if self.spent():
            self.model.stop_training = True
