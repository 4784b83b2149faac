"""The epoch policy on its own: best-epoch choice, patience, the plateau cut, why a run stops, and
state.json read back (also as written before the stop reason was an enum)."""

import math

from train.policy import (
    RunState,
    StopReason,
    budget_lr,
    effective_patience,
    plateau_cut,
    stop_reason,
    update_best,
    update_patience,
)


def test_best_epoch_prefers_accuracy_then_lower_loss_and_ema_only_when_it_validates_better():
    s = RunState()
    assert update_best(s, 1, [(0.90, 0.5, "ema"), (0.91, 0.6, "raw")]) == "raw"
    assert update_best(s, 2, [(0.91, 0.7, "raw")]) is None  # same accuracy, worse loss
    assert update_best(s, 3, [(0.91, 0.4, "ema")]) == "ema" and s.best_epoch == 3 and s.best_weights == "ema"
    assert (s.best_val_accuracy, s.best_val_loss_at_best) == (0.91, 0.4)


def test_patience_plateau_cut_and_early_stop():
    s = RunState()
    for loss in (1.0, 0.8, 0.9, 0.95):
        update_patience(s, loss)
    assert (s.wait, s.plateau_wait, s.min_val_loss) == (2, 2, 0.8)
    assert plateau_cut(s, "cosine", 2, 1e-3) is None
    assert math.isclose(plateau_cut(s, "plateau", 2, 1e-3), 2e-4) and s.plateau_wait == 0
    assert plateau_cut(RunState(plateau_wait=5), "plateau", 2, 1e-6) == 1e-6  # floor
    assert effective_patience(-1, "plateau") == 5 and effective_patience(-1, "cosine") == 0
    s.epoch = 4
    reason, detail = stop_reason(s, patience=2, epochs=10, pause_after_min=0, elapsed_s=0, epoch_s=0)
    assert reason is StopReason.EARLY_STOP and "2 epochs" in detail


def test_pause_after_pauses_only_when_the_next_epoch_would_overrun():
    s = RunState(epoch=3)
    go = dict(patience=0, epochs=10, pause_after_min=10)
    assert stop_reason(s, **go, elapsed_s=400, epoch_s=100) is None
    assert stop_reason(s, **go, elapsed_s=540, epoch_s=100)[0] is StopReason.PAUSED
    assert stop_reason(RunState(epoch=10), **go, elapsed_s=900, epoch_s=100) is None  # the last epoch: done


def test_a_fitted_time_budget_ends_the_run_once_spent_and_resume_does_not_lift_it():
    go = dict(patience=0, epochs=100, pause_after_min=0, elapsed_s=10, epoch_s=100, time_budget_min=10)
    assert stop_reason(RunState(epoch=3), **go, budget_spent=False) is None
    reason, detail = stop_reason(RunState(epoch=3), **go, budget_spent=True)
    assert reason is StopReason.BUDGET_SPENT and "10 minutes" in detail
    assert RunState(epoch=3, stop=reason).resumed().stop is StopReason.BUDGET_SPENT


def test_budget_schedule_warms_up_by_steps_and_reaches_zero_with_the_time():
    at = dict(peak=1e-3, warmup_steps=100, budget_s=600)
    assert math.isclose(budget_lr(0, 0, **at), 1e-5)
    assert budget_lr(50, 1, **at) < budget_lr(100, 2, **at) <= 1e-3  # linear warm-up by step
    assert math.isclose(budget_lr(100, 300, **at), 5e-4, rel_tol=1e-6)  # half the time: half the peak
    assert budget_lr(5000, 600, **at) == 0.0 and budget_lr(5000, 900, **at) == 0.0
    lrs = [budget_lr(1000, t, **at) for t in range(0, 601, 30)]
    assert lrs == sorted(lrs, reverse=True)  # after warm-up it only decays


def test_state_json_round_trip_and_old_files():
    s = RunState(
        epoch=2,
        history=[{"epoch": 1}, {"epoch": 2}],
        best_epoch=2,
        stop=StopReason.PAUSED,
        stop_detail="time budget: 9.0 of 10 minutes used, next epoch would overrun",
    )
    back = RunState.from_json(s.to_json())
    assert back == s and back.resumed().stop is None and back.resumed().epoch == 2
    early = RunState.from_json(
        {"epoch": 5, "stopped": "early stopping: no val_loss improvement for 5 epochs", "paused": None, "wait": 5}
    )
    assert early.stop is StopReason.EARLY_STOP and early.resumed().stop is StopReason.EARLY_STOP
    assert RunState.from_json({"epoch": 1, "paused": "time budget: ..."}).stop is StopReason.PAUSED
