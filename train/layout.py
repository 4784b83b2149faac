"""The run folder, defined once: what `python -m train` writes and train.average, export and the
benchmarks read. Plain Python: importing it loads no TensorFlow."""

import json
from pathlib import Path

from train.config import SHIPPED_ARCH

BEST = "best.weights.h5"  # the best validation epoch's weights (raw or EMA): what export reads
LAST = "last.keras"  # model + optimizer after the last finished epoch: what --resume reads
STATE = "state.json"  # epoch, best-so-far, history, plateau/early-stop counters
CONFIG = "config.json"  # the recipe (train.config.Config as a dict), plus what was used
HISTORY = "history.json"  # one row per epoch (train.history.COLUMNS)
METRICS = "metrics.json"  # test and validation figures of the chosen weights
RESTART = "restart"  # the warm-restart cycles' run folders (restart, restart2, ...), inside the main one
AVERAGE = "average"  # their weights averaged: the recipe's final model


def folder_of(path: Path | str) -> Path:
    """A run folder, or the folder of a file in one."""
    path = Path(path)
    return path if path.is_dir() else path.parent


def recipe_of(run_dir: Path | str) -> dict:
    """The recipe a run folder was trained with (its config.json), or {} when it has none."""
    config = Path(run_dir) / CONFIG
    return json.loads(config.read_text()) if config.is_file() else {}


def arch_in(recipe: dict) -> str:
    """The network a recipe trained; recipes from before --arch are ResNet50V2's."""
    return recipe.get("arch", SHIPPED_ARCH)


def arch_of(run_dir: Path | str) -> str:
    """The network a run folder holds."""
    return arch_in(recipe_of(run_dir))


def best_epoch(metrics: dict) -> int | None:
    """metrics.json's `best_epoch`: the epoch whose weights were kept, or None for an average of cycle
    ends (its `averaged` says which; averages before one shape wrote a sentence here)."""
    value = metrics.get("best_epoch")
    return value if isinstance(value, int) else None
