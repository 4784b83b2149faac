"""The whole recipe: the main run, then the warm restarts, each from the best weights of the one before,
then the restart cycles' weights averaged. Each part is a run folder of its own and resumes on its own."""

import dataclasses
import time
from pathlib import Path

from train.average import average
from train.layout import AVERAGE, BEST, RESTART
from train.policy import StopReason
from train.train import load_data, run


def restart_cycles(cfg):
    """[(folder, epochs, peak lr)] of the warm restarts; the last learning rate repeats."""
    epochs = [e for e in cfg.restart_epochs if e > 0]
    lrs = list(cfg.restart_lr) + [cfg.restart_lr[-1]] * len(epochs)
    folders = [Path(cfg.out) / (RESTART + (str(i + 1) if i else "")) for i in range(len(epochs))]
    return list(zip(folders, epochs, lrs))


def run_recipe(cfg):
    """The whole recipe: the main run, then (unless --restart-epochs 0 or --init) the warm restarts,
    each from the best weights of the one before, under what is left of --pause-after, then the
    restart cycles' weights averaged into OUT/average. Each part resumes on its own. --time-budget
    fits the main run to the minutes given, so it is the whole recipe."""
    started = time.time()
    last = run(cfg)
    cycles = restart_cycles(cfg)
    if not cycles or cfg.init:
        return last
    if cfg.time_budget:
        print(f"--time-budget gave all {cfg.time_budget:g} minutes to the main run: no warm restarts, no average.")
        return last
    init = Path(cfg.out) / BEST
    for folder, epochs, lr in cycles:
        left = cfg.pause_after - (time.time() - started) / 60 if cfg.pause_after else 0.0
        if last["stop_reason"] == StopReason.PAUSED or (cfg.pause_after and left <= 0):
            print(f"Time budget used; `--resume` continues with the cycle in {folder}.")
            return last
        restart = dataclasses.replace(
            cfg,
            out=str(folder),
            init=str(init),
            epochs=epochs,
            lr=lr,
            warmup_epochs=0.5,
            pause_after=left,
            restart_epochs=(0,),
        )
        print(f"Warm restart: {epochs} more epochs from the best weights, peak lr {lr:g}, in {folder}")
        last, init = run(restart), folder / BEST
    if last["stop_reason"] == StopReason.PAUSED or cfg.no_average or len(cycles) < 2:
        return last

    (x_train, y_train), (x_test, y_test) = load_data(cfg)
    out = Path(cfg.out) / AVERAGE
    print(f"Averaging the weights of the {len(cycles)} restart cycles into {out} (export that folder)")
    return average(
        [c[0] for c in cycles],
        out,
        x_train,
        y_train,
        x_test,
        y_test,
        cfg.val_size,
        cfg.seed,
        history_from=[cfg.out] + [c[0] for c in cycles],
    )
