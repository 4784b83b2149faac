"""The training command line: a recipe sets defaults (flags included), explicit flags win over it."""

import dataclasses

import pytest

from tests.conftest import run_module
from train.config import RECIPES, Config, from_args, parser


def test_a_recipe_sets_its_values_flags_included_and_explicit_flags_win():
    quick = from_args(["--recipe", "quick"])
    assert quick.time_budget == 10 and quick.no_augment and quick.restart_epochs == (0,)
    assert quick.zero_init_residual and quick.batch_size == 32
    assert not from_args(["--recipe", "quick", "--no-zero-init-residual"]).zero_init_residual
    fast = from_args(["--recipe", "fast", "--lr", "5e-4"])
    assert fast.time_budget == 60 and fast.zero_init_residual and not fast.no_augment and fast.lr == 5e-4
    assert fast.batch_size == 128 and fast.warmup_epochs == 0.25
    ours = from_args([])
    assert ours == Config() and ours.time_budget == 0 and not ours.zero_init_residual


@pytest.mark.parametrize("name", list(RECIPES))
def test_every_recipe_names_only_real_knobs_and_help_shows_it(name):
    assert set(RECIPES[name]) <= {f.name for f in dataclasses.fields(Config)}
    assert name in parser().format_help()


def test_knobs_that_contradict_each_other_get_one_sentence_before_tensorflow_loads(tmp_path):
    for flags, words in (
        (["--arch", "tiny", "--weights", "imagenet"], "--weights imagenet is for ResNet50V2"),
        (["--arch", "tiny", "--init", "models/mnist-resnet50v2.onnx"], "--init reads ONNX exports of ResNet50V2 only"),
    ):
        result = run_module("-m", "train", *flags, "--out", str(tmp_path / "run"), timeout=60)
        assert result.returncode != 0 and words in result.stderr and "Traceback" not in result.stderr
        assert result.stderr.count("\n") == 1 and not (tmp_path / "run").exists()
    assert from_args(["--arch", "tiny", "--init", "runs/a/best.weights.h5"]).problem() is None
