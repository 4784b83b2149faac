"""The model card: one typed definition of every metadata key, read back from the shipped model, and
the recipe fields the page shows still exist in the trainer's Config."""

import dataclasses
import re

import onnx
import pytest

from demo.card import RECIPE_SHOWN, CardError, ModelCard
from tests.conftest import ROOT, SHIPPED
from train.config import Config

ADDED_BY_TRAINING = {"precision_used", "replicas", "averaged", "finetune"}  # written beside the Config in config.json


def shipped_metadata():
    return {p.key: p.value for p in onnx.load(str(SHIPPED), load_external_data=False).metadata_props}


def test_shipped_model_has_a_whole_card():
    """Whatever model ships: its card is whole, agrees with the metrics beside it and round-trips."""
    import json

    card = ModelCard.from_metadata(shipped_metadata())
    assert card.labels == [str(d) for d in range(10)]
    assert card.history and (SHIPPED.parent / card.history).is_file()
    assert card.metrics and (SHIPPED.parent / card.metrics).is_file()
    metrics = json.loads((SHIPPED.parent / card.metrics).read_text())
    assert card.test_accuracy == pytest.approx(metrics["test_accuracy"], abs=5e-5)
    assert card.test_images == metrics["test"]["count"] and card.recipe["val_size"] > 0
    assert 0.2 <= card.temperature <= 3.0  # export.calibrate ran on it
    assert card.extra == {}  # every key the export wrote is a field of the card
    assert card.best_epoch == metrics.get("best_epoch") and (card.best_epoch is None) == bool(card.averaged)
    assert ModelCard.from_metadata(card.to_metadata()) == card


def test_fields_are_read_as_their_declared_types():
    meta = {**shipped_metadata(), "temperature": "0.7", "quantization": "static QDQ, 3.5 MB", "epochs": ""}
    card = ModelCard.from_metadata(meta)
    assert card.temperature == 0.7 and card.quantization == "static QDQ, 3.5 MB" and card.epochs is None
    with pytest.raises(CardError, match="temperature"):
        ModelCard.from_metadata({**meta, "temperature": "warm"})


def test_best_epoch_has_one_shape_and_older_cards_still_load():
    """An epoch's number, or None for an average (whose `averaged` names its cycles); cards exported before
    that said "average of 3 cycle ends" and still load."""
    meta = shipped_metadata()
    assert ModelCard.from_metadata({**meta, "best_epoch": "7"}).best_epoch == 7
    assert ModelCard.from_metadata({**meta, "best_epoch": "average of 3 cycle ends"}).best_epoch is None
    without = ModelCard.from_metadata({k: v for k, v in meta.items() if k != "best_epoch"})
    assert without.best_epoch is None and "best_epoch" not in without.to_metadata()


def test_a_missing_field_fails_loudly_and_a_foreign_model_has_no_card():
    meta = shipped_metadata()
    for field in ("test_accuracy", "recipe", "labels"):
        with pytest.raises(CardError, match=field):
            ModelCard.from_metadata({k: v for k, v in meta.items() if k != field})
    assert ModelCard.from_metadata({"producer": "someone else"}) is None


def test_recipe_fields_the_page_shows_exist_in_the_trainer():
    config = {f.name for f in dataclasses.fields(Config)}
    assert set(RECIPE_SHOWN) - ADDED_BY_TRAINING <= config
    used = set(re.findall(r"recipe\.get\(['\"](\w+)['\"]", (ROOT / "demo" / "card_markdown.py").read_text()))
    assert used <= set(RECIPE_SHOWN) and "arch" in used
    assert len(used) >= 10


def test_the_page_says_how_a_model_was_trained_quick_or_shipped():
    """The shipped card (its time_budget was a pause then) against the same card as `--recipe quick` writes it."""
    from types import SimpleNamespace

    from demo.card_markdown import model_card
    from demo.classifier import Classifier

    shipped = Classifier(SHIPPED)
    text = model_card(shipped, None)
    assert "augmentation: rotation ±10.0°" in text and "fitted to" not in text
    quick_recipe = {**shipped.card.recipe, "no_augment": True, "time_budget": 10.0, "pause_after": 0.0, "init": ""}
    quick = SimpleNamespace(card=dataclasses.replace(shipped.card, recipe=quick_recipe), path=shipped.path)
    text = model_card(quick, None)
    assert "fitted to 10 minutes" in text and "no augmentation" in text and "rotation" not in text
