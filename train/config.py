"""Every training knob, in one dataclass, and the command line built from it."""

import argparse
import dataclasses
from dataclasses import dataclass, field

from demo.card import NETWORKS

ARCHS = tuple(NETWORKS)  # train.model builds each; the first ships
SHIPPED_ARCH, TINY_ARCH = ARCHS


@dataclass
class Config:
    data: str = field(default=None, metadata={"help": "local mnist.npz (default: $MNIST_NPZ, else download)"})
    out: str = field(default="runs/resnet50v2", metadata={"help": "run folder: checkpoints, history, metrics"})
    recipe: str = field(
        default="ours",
        metadata={
            "help": "ours (what ships, hours) | quick (a first look: 10 minutes) | fast (60 minutes) | original "
            "(the blog: Adam 1e-4, batch 200, plateau)",
            "choices": ["ours", "quick", "fast", "original"],
        },
    )
    epochs: int = field(default=24, metadata={"help": "maximum epochs (the cosine schedule spans them)"})
    batch_size: int = field(default=128, metadata={"help": "batch per replica (global = this x replicas)"})
    lr: float = field(default=2e-3, metadata={"help": "peak learning rate for one replica (scaled x replicas)"})
    optimizer: str = field(default="adamw", metadata={"choices": ["adamw", "adam", "sgd"], "help": "optimizer"})
    weight_decay: float = field(default=0.05, metadata={"help": "decoupled weight decay (adamw, sgd)"})
    schedule: str = field(
        default="cosine",
        metadata={"choices": ["cosine", "plateau"], "help": "cosine with warm-up, or ReduceLROnPlateau"},
    )
    restart_epochs: tuple = field(
        default=(14, 12, 12),
        metadata={
            "help": "then shorter cosine cycles (warm restarts: fresh optimizer, half an epoch of warm-up), each from "
            "the best weights of the one before, in OUT/restart, OUT/restart2, ...; 0 = none"
        },
    )
    restart_lr: tuple = field(
        default=(4e-4, 3e-4, 3e-4),
        metadata={"help": "peak learning rate of each restart cycle (the last one repeats if fewer are given)"},
    )
    no_average: bool = field(
        default=False,
        metadata={
            "help": "keep the last restart cycle rather than average the restart cycles' weights (SWA) into OUT/average"
        },
    )
    warmup_epochs: float = field(default=1.0, metadata={"help": "linear warm-up (cosine only)"})
    label_smoothing: float = field(default=0.05, metadata={"help": "label smoothing"})
    ema: float = field(
        default=0.0, metadata={"help": "weight EMA momentum, 0 for none (Keras EMA skips BatchNorm statistics)"}
    )
    rotation: float = field(default=10.0, metadata={"help": "augmentation: max rotation, degrees"})
    zoom: float = field(default=0.10, metadata={"help": "augmentation: max zoom in/out, independent in x and y"})
    shift: float = field(default=0.10, metadata={"help": "augmentation: max translation, fraction of the side"})
    shear: float = field(default=0.0, metadata={"help": "augmentation: max shear, degrees"})
    stroke: float = field(
        default=0.5,
        metadata={"help": "augmentation: pen width change, 0-1 of a 3x3 dilation/erosion (0 = MNIST's pens only)"},
    )
    styles: float = field(
        default=0.25,
        metadata={
            "help": "writing forms (train.styles: flagged 1s, crossed 7s, ...): styled copies of this fraction "
            "of each form's digits join the training digits (0 = MNIST's forms only)"
        },
    )
    redrawn: float = field(
        default=0.0,
        metadata={
            "help": "digits as the pad gives them (train.redrawn: a pen along the centreline, every size, read "
            "back by the app's preprocessing): copies of this fraction of the training digits join them"
        },
    )
    no_augment: bool = field(default=False, metadata={"help": "train without augmentation"})
    val_size: int = field(default=5000, metadata={"help": "training images held out for validation"})
    limit: int = field(default=0, metadata={"help": "use only this many training images (quick runs); 0 = all"})
    limit_test: int = field(default=0, metadata={"help": "evaluate on only this many test images; 0 = all"})
    seed: int = field(default=42, metadata={"help": "seed for split, shuffling, augmentation, init"})
    init: str = field(
        default="",
        metadata={
            "help": "start a new run from these weights: an ONNX export (models/mnist-resnet50v2.onnx) or a run's "
            "best.weights.h5"
        },
    )
    dropout: float = field(default=0.5, metadata={"help": "dropout before the last layer (training only)"})
    zero_init_residual: bool = field(
        default=False,
        metadata={
            "help": "residual blocks but the 3 stride-2 ones start as the identity (last conv zeroed; from scratch)"
        },
    )
    arch: str = field(
        default=SHIPPED_ARCH,
        metadata={
            "choices": list(ARCHS),
            "help": "the network; tiny is a two-convolution stand-in for trying the run mechanics in seconds, not for "
            "accuracy",
        },
    )
    weights: str = field(default="none", metadata={"choices": ["none", "imagenet"], "help": "backbone initialisation"})
    precision: str = field(
        default="auto",
        metadata={
            "choices": ["auto", "float32", "mixed_float16", "mixed_bfloat16"],
            "help": "auto picks per device and says why: mixed_float16 on a GPU with tensor cores, mixed_bfloat16 "
            "on a CPU with AVX-512 BF16 or AMX, else float32",
        },
    )
    patience: int = field(
        default=-1,
        metadata={
            "help": "early stopping: epochs without val_loss improvement; -1 = 5 with --schedule plateau, off with "
            "cosine (its length is the plan, and the best validation epoch is kept either way)"
        },
    )
    plateau_patience: int = field(default=2, metadata={"help": "plateau schedule: epochs before LR x0.2"})
    time_budget: float = field(
        default=0.0,
        metadata={
            "help": "minutes of training: the cosine schedule is fitted to them (it reaches zero when they are "
            "spent) and the run ends there; --epochs becomes a cap. 0 = the schedule is sized in epochs"
        },
    )
    pause_after: float = field(
        default=0.0,
        metadata={"help": "minutes; pause at the epoch boundary that would overrun them (--resume continues)"},
    )
    resume: bool = field(default=False, metadata={"help": "continue the run in --out from its last epoch"})
    strategy: str = field(
        default="auto",
        metadata={
            "choices": ["auto", "none", "mirrored", "multiworker"],
            "help": "tf.distribute: auto = mirrored on 2+ GPUs, else none; multiworker reads TF_CONFIG",
        },
    )
    cpu_replicas: int = field(default=0, metadata={"help": "split the CPU into N logical devices (to try mirrored)"})
    eager: bool = field(
        default=False,
        metadata={
            "help": "run every step eagerly, without tracing a graph (Keras run_eagerly): errors point at your code, "
            "and a run of a few steps starts sooner; each step is slower"
        },
    )
    steps_per_epoch: int = field(default=0, metadata={"help": "cap steps per epoch (tests, smoke runs); 0 = full"})
    verbose: int = field(default=1, metadata={"help": "Keras progress: 1 bar, 2 one line per epoch, 0 silent"})

    def problem(self) -> str | None:
        """One sentence if these knobs contradict each other, else None."""
        if self.arch != SHIPPED_ARCH and self.weights != "none":
            return f"--weights {self.weights} is for ResNet50V2; the {self.arch} network starts from scratch."
        if self.arch != SHIPPED_ARCH and self.init.endswith(".onnx"):
            return f"--init reads ONNX exports of ResNet50V2 only; start {self.arch} from a run's best.weights.h5."
        return None


ORIGINAL_RECIPE = dict(  # the blog post: ImageDataGenerator-style augmentation, Adam 1e-4, plateau + early stop
    epochs=30,
    batch_size=200,
    lr=1e-4,
    optimizer="adam",
    weight_decay=0.0,
    schedule="plateau",
    label_smoothing=0.0,
    ema=0.0,
    rotation=10.0,
    zoom=0.10,
    shift=0.10,
    shear=0.0,
    stroke=0.0,
    patience=5,
    plateau_patience=2,
    restart_epochs=(0,),
)


QUICK_RECIPE = dict(  # a first look: 10 minutes of training on 2 CPU cores, whatever they manage in them
    time_budget=10.0,
    epochs=100,  # a cap; the budget ends the run
    steps_per_epoch=250,  # validate every 250 steps, so the curve has points
    batch_size=32,  # more updates per image: in minutes, the number of updates matters more than their size
    lr=1e-3,
    warmup_epochs=0.4,
    dropout=0.0,  # in under two passes there is nothing to overfit yet,
    no_augment=True,  # so no dropout and no augmentation
    zero_init_residual=True,  # all but the stride-2 blocks; chosen on validation over no zeroing (README)
    restart_epochs=(0,),
)
FAST_RECIPE = dict(  # an hour on 2 CPU cores: twenty-odd passes over the training digits, augmented
    QUICK_RECIPE,
    time_budget=60.0,
    steps_per_epoch=0,
    warmup_epochs=0.25,
    no_augment=False,
    batch_size=128,  # and the default augmentation: chosen on validation over batch 256, 64 and 32 (README)
    lr=2e-3,
)
RECIPES = {"ours": {}, "quick": QUICK_RECIPE, "fast": FAST_RECIPE, "original": ORIGINAL_RECIPE}


def shown_default(f):
    """Defaults are SUPPRESSed so a recipe can set them; --help still says what they are."""
    if f.type is bool or f.type == "bool" or f.default is None:
        return ""
    show = lambda v: " ".join(map(str, v)) if isinstance(v, tuple) else v
    text = f" (default: {show(f.default)}"
    for name, recipe in RECIPES.items():
        if f.name in recipe and recipe[f.name] != f.default:
            text += f"; --recipe {name}: {show(recipe[f.name])}"
    return text.replace("%", "%%") + ")"


def parser():
    p = argparse.ArgumentParser(
        prog="python -m train",
        description="Train ResNet50V2 on MNIST.",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    for f in dataclasses.fields(Config):
        flag = "--" + f.name.replace("_", "-")
        kw = dict(help=f.metadata.get("help", "") + shown_default(f))
        if f.type is bool or f.type == "bool":  # a recipe may set it; --no-FLAG undoes a recipe's True
            undo = not f.name.startswith("no_") and any(r.get(f.name) for r in RECIPES.values())
            action = argparse.BooleanOptionalAction if undo else "store_true"
            p.add_argument(flag, action=action, default=argparse.SUPPRESS, **kw)
        elif isinstance(f.default, tuple):  # one value or several: --restart-epochs 14 12
            p.add_argument(flag, type=type(f.default[0]), nargs="+", default=argparse.SUPPRESS, **kw)
        else:
            p.add_argument(
                flag,
                type=type(f.default) if f.default is not None else str,
                default=argparse.SUPPRESS,
                choices=f.metadata.get("choices"),
                **kw,
            )
    return p


def from_args(argv=None):
    """Recipe defaults first, explicit flags on top."""
    args = vars(parser().parse_args(argv))
    base = RECIPES[args.get("recipe", "ours")]
    return Config(**{**base, **args})
