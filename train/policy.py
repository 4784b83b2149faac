"""The epoch policy: what a run decides at each epoch end, as small pure functions over a typed state.

`RunState` is also the schema of state.json (what `--resume` reads). No TensorFlow here: the Keras
callback in train.train feeds these functions numbers and acts on what they return.
"""

from __future__ import annotations

import dataclasses
import enum
import math
from dataclasses import dataclass, field

PLATEAU_FACTOR, MIN_LR = 0.2, 1e-6


class StopReason(enum.StrEnum):
    EARLY_STOP = "early stopping"  # validation loss stopped improving: the run is over
    PAUSED = "time budget"  # a pause (--pause-after): `--resume` continues (the value older runs wrote)
    BUDGET_SPENT = "time budget spent"  # --time-budget: the schedule fitted to it has reached zero; the run is over
    FINISHED = "finished all epochs"


@dataclass
class RunState:
    epoch: int = 0  # epochs finished
    history: list[dict] = field(default_factory=list)  # one row per epoch (train.history.COLUMNS)
    best_epoch: int = 0
    best_val_accuracy: float = -1.0
    best_val_loss_at_best: float = math.inf
    best_weights: str = "raw"  # "raw" or "ema": which weights validated better at the best epoch
    min_val_loss: float = math.inf
    wait: int = 0  # epochs since val_loss last improved (early stopping)
    plateau_wait: int = 0  # ...since the last improvement or learning-rate cut (plateau schedule)
    lr: float | None = None
    stop: StopReason | None = None
    stop_detail: str = ""  # the sentence people read

    def to_json(self) -> dict:
        d = dataclasses.asdict(self)
        d["stop"] = self.stop.value if self.stop else None
        return d

    @classmethod
    def from_json(cls, d: dict) -> RunState:
        """state.json, also as written before the enum (free-text "stopped" / "paused")."""
        d = dict(d)
        old_stopped, old_paused = d.pop("stopped", None), d.pop("paused", None)
        if d.get("stop"):
            d["stop"] = StopReason(d["stop"])
        elif old_stopped or old_paused:
            d["stop"] = StopReason.EARLY_STOP if old_stopped else StopReason.PAUSED
            d["stop_detail"] = old_stopped or old_paused
        known = {f.name for f in dataclasses.fields(cls)}
        return cls(**{k: v for k, v in d.items() if k in known})

    def resumed(self) -> RunState:
        """A pause is lifted by --resume; an early stop is not."""
        if self.stop is StopReason.PAUSED:
            return dataclasses.replace(self, stop=None, stop_detail="")
        return self


def update_best(state: RunState, epoch: int, candidates: list[tuple[float, float, str]]) -> str | None:
    """candidates: (val_accuracy, val_loss, "raw" | "ema"). Highest accuracy wins, lower loss breaks
    ties. Returns the kind whose weights to save when this epoch is the best so far, else None."""
    acc, neg_loss, kind = max((a, -loss, k) for a, loss, k in candidates)
    if (acc, neg_loss) > (state.best_val_accuracy, -state.best_val_loss_at_best):
        state.best_epoch, state.best_val_accuracy, state.best_val_loss_at_best = epoch, acc, -neg_loss
        state.best_weights = kind
        return kind
    return None


def update_patience(state: RunState, val_loss: float) -> None:
    if val_loss < state.min_val_loss:
        state.min_val_loss, state.wait, state.plateau_wait = val_loss, 0, 0
    else:
        state.wait += 1
        state.plateau_wait += 1


def plateau_cut(state: RunState, schedule: str, plateau_patience: int, lr: float) -> float | None:
    """The plateau schedule's new learning rate when validation loss has been flat long enough."""
    if schedule == "plateau" and state.plateau_wait >= plateau_patience:
        state.plateau_wait = 0
        return max(lr * PLATEAU_FACTOR, MIN_LR)
    return None


def effective_patience(patience: int, schedule: str) -> int:
    """-1 means: 5 epochs with the plateau schedule, off with cosine (its length is the plan)."""
    return patience if patience >= 0 else (5 if schedule == "plateau" else 0)


def stop_reason(
    state: RunState,
    *,
    patience: int,
    epochs: int,
    pause_after_min: float,
    elapsed_s: float,
    epoch_s: float,
    time_budget_min: float = 0.0,
    budget_spent: bool = False,
) -> tuple[StopReason, str] | None:
    """Whether to stop after the epoch just finished (state.epoch of `epochs`), and why. `elapsed_s`:
    this session's time (what --pause-after counts); `budget_spent`: train.budget's clock says the
    --time-budget minutes are used."""
    if patience and state.wait >= patience:
        return StopReason.EARLY_STOP, f"early stopping: no val_loss improvement for {patience} epochs"
    if time_budget_min and budget_spent and state.epoch < epochs:
        return (
            StopReason.BUDGET_SPENT,
            f"time budget spent: the schedule fitted to {time_budget_min:g} minutes reached zero",
        )
    if pause_after_min and state.epoch < epochs and elapsed_s + epoch_s > pause_after_min * 60:
        return StopReason.PAUSED, (
            f"time budget: {elapsed_s / 60:.1f} of {pause_after_min:g} minutes used, next epoch would overrun"
        )
    return None


def budget_lr(step: int, elapsed_s: float, *, peak: float, warmup_steps: int, budget_s: float) -> float:
    """Peak x linear warm-up over `warmup_steps` (from 1% of peak) x cosine over the budget's time."""
    warm = 1.0 if step >= warmup_steps else 0.01 + 0.99 * step / max(warmup_steps, 1)
    spent = min(max(elapsed_s / budget_s, 0.0), 1.0)
    return peak * warm * 0.5 * (1.0 + math.cos(math.pi * spent))
