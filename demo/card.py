"""The model card, defined once: every metadata key an export carries, written by export, quantize and
average (through export), read by the classifier and the UI. ONNX metadata is string to string;
this dataclass is the one place that knows each key's type."""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass, field

# The networks train.config's --arch offers (the first ships), by the name the card gives them.
NETWORKS = {"resnet50v2": "ResNet50V2", "tiny": "the tiny stand-in CNN"}

# The recipe fields (train.config.Config) the card shows; tests/test_card.py checks each still exists.
RECIPE_SHOWN = (
    "arch",
    "init",
    "weights",
    "optimizer",
    "lr",
    "schedule",
    "batch_size",
    "label_smoothing",
    "ema",
    "rotation",
    "zoom",
    "shift",
    "stroke",
    "styles",
    "redrawn",
    "no_augment",
    "time_budget",
    "pause_after",
    "precision_used",
    "seed",
    "val_size",
    "averaged",
    "finetune",
)


class CardError(ValueError):
    """A model whose metadata claims to be a card but lacks fields; names what is missing."""


@dataclass(frozen=True)
class ModelCard:
    contract: str  # demo.contract.DESCRIPTION at export time
    labels: list[str]
    test_accuracy: float
    test_images: int
    val_accuracy: float | None
    epochs: int | None  # epochs behind the weights (all cycles for an average)
    recipe: dict  # train.config.Config as a dict, plus "averaged" for an average
    history: str | None  # sidecar file names, beside the ONNX file
    metrics: str | None
    exported: str  # ISO time
    parity: str  # ONNX vs Keras on test digits
    best_epoch: int | None = None  # the epoch whose weights were kept; None for an average (see `averaged`)
    fp32_test_accuracy: float | None = None  # int8 models only
    quantization: str | None = None
    temperature: float | None = None  # divides the logits (export.calibrate); None: the softmax as trained
    extra: dict[str, str] = field(default_factory=dict)  # keys this version does not know

    def to_metadata(self) -> dict[str, str]:
        out = {}
        for f in dataclasses.fields(self):
            value = getattr(self, f.name)
            if f.name == "extra":
                out.update(value)
            elif value is not None:
                out[f.name] = value if isinstance(value, str) else json.dumps(value)
        return out

    @classmethod
    def from_metadata(cls, meta: dict[str, str]) -> ModelCard | None:
        """None for a model with no card at all (another tool's export); CardError for half a card."""
        if "contract" not in meta:
            return None
        known = {f.name: f for f in dataclasses.fields(cls) if f.name != "extra"}
        required = [n for n, f in known.items() if f.default is dataclasses.MISSING]
        missing = [n for n in required if n not in meta]
        if missing:
            raise CardError(f"the model's card lacks {', '.join(missing)}; export it again with `python -m export`.")
        if not meta.get("best_epoch", "0").isdigit():  # cards before one shape said "average of 3 cycle ends"
            meta = {k: v for k, v in meta.items() if k != "best_epoch"}
        values = {n: _parse(n, meta[n]) for n in known if n in meta}
        return cls(**values, extra={k: v for k, v in meta.items() if k not in known})

    @property
    def averaged(self) -> dict | None:
        return self.recipe.get("averaged")

    @property
    def fitted_minutes(self) -> float:
        """--time-budget's minutes, 0 when none; before --pause-after existed, time_budget only paused a run."""
        return self.recipe.get("time_budget") or 0.0 if self.recipe.get("pause_after") is not None else 0.0


def _parse(name: str, text: str):
    """One metadata string as its field's type, read from the dataclass itself (a new field needs no entry)."""
    kind = str(next(f.type for f in dataclasses.fields(ModelCard) if f.name == name))
    if kind.startswith(("list", "dict")):
        return json.loads(text or "null") or ([] if kind.startswith("list") else {})
    if not text:
        return None if "None" in kind else text
    if kind.startswith("str"):
        return text
    try:
        return int(text) if kind.startswith("int") else float(text)
    except ValueError:
        raise CardError(f"the model's card gives {name} as {text[:40]!r}, which is not a number.") from None
