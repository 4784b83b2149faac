"""Weight averaging over warm restarts (SWA with a cyclic schedule): the weights at the end of several
training cycles are averaged into one model, whose BatchNorm statistics are then measured again,
since averaged weights change every layer's input. One model, no extra cost at inference.

    python -m train.average runs/resnet50v2/restart runs/resnet50v2/restart2 --out runs/resnet50v2/average
"""

import argparse
import datetime
import json
import sys
from pathlib import Path

import numpy as np
import onnx

from demo.contract import to_model_input
from demo.fileio import write_json
from train import data, history
from train.config import Config
from train.evaluate import evaluate
from train.from_onnx import InitError
from train.layout import BEST, CONFIG, METRICS, arch_in, folder_of, recipe_of

BN_IMAGES = 5000  # training digits, un-augmented, that measure the averaged model's BatchNorm statistics


def weights_file(src):
    """A run folder stands for its best weights; an .onnx or .weights.h5 file for itself."""
    src = Path(src)
    return src / BEST if src.is_dir() else src


def source_recipe(src) -> dict:
    """The recipe a source was trained with: its run folder's config.json, or the recipe in an ONNX
    export's metadata; {} when it does not say."""
    src = Path(src)
    if src.suffix == ".onnx" and src.is_file():
        meta = {p.key: p.value for p in onnx.load(str(src), load_external_data=False).metadata_props}
        return json.loads(meta.get("recipe") or "{}")
    return recipe_of(folder_of(src))


def source_split(src):
    """(val_size, seed) a source was trained with; None when it does not say."""
    recipe = source_recipe(src)
    return (recipe["val_size"], recipe["seed"]) if "val_size" in recipe and "seed" in recipe else None


def arch_of_sources(sources) -> str:
    """The one network all sources hold (weights of different networks cannot be averaged)."""
    archs = {arch_in(source_recipe(src)) for src in sources}
    if len(archs) > 1:
        raise InitError(f"The sources hold different networks ({', '.join(sorted(archs))}); average one kind.")
    return archs.pop()


def split_of(sources, val_size=None, seed=None):
    """The validation split to measure the average on: the one its sources were trained with, so no
    training digit is counted as validation. `val_size`/`seed`, when given, win (another data file, say)."""
    known = {split for split in map(source_split, sources) if split}
    if len(known) > 1 and (val_size is None or seed is None):
        raise InitError(
            f"The sources were trained on different validation splits (val_size, seed: "
            f"{sorted(known)}); average cycles of one training run, or give --val-size and --seed."
        )
    recorded = len(known) == 1
    theirs = next(iter(known)) if recorded else (Config.val_size, Config.seed)
    split = (theirs[0] if val_size is None else val_size, theirs[1] if seed is None else seed)
    if recorded and split != theirs:
        print(f"note: measuring on val_size {split[0]}, seed {split[1]}; the sources were trained with {theirs}")
    return split


def remeasure_batchnorm(model, images, batch=500):
    """Training-mode passes (each BatchNorm normalises by its batch, as in training) with the moving
    statistics set to the running mean over the batches: what each layer sees at inference."""
    import keras

    from train.from_onnx import all_layers

    bns = [layer for layer in all_layers(model) if isinstance(layer, keras.layers.BatchNormalization)]
    saved = [bn.momentum for bn in bns]
    for k, start in enumerate(range(0, len(images), batch)):
        for bn in bns:
            bn.momentum = k / (k + 1)  # moving = (k * moving + this batch) / (k + 1)
        model(images[start : start + batch], training=True)
    for bn, momentum in zip(bns, saved):
        bn.momentum = momentum


def chained_history(paths):
    """The training history behind the averaged model: the runs' histories end to end, renumbered."""
    try:
        return history.chain(paths)
    except history.HistoryError as e:
        raise InitError(f"--history: {e}") from None


def average(
    sources, out, x_train, y_train, x_test, y_test, val_size=None, seed=None, history_from=(), bn_images=BN_IMAGES
):
    """Average `sources` (run folders, .onnx exports or .weights.h5 files) into the run folder `out`:
    best.weights.h5 (what export reads), metrics.json (returned), config.json and, from `history_from`,
    history.json. The validation split is the sources' own (`split_of`)."""
    from train.from_onnx import check_init, start_from

    if len(sources) < 2:
        raise InitError("Averaging needs at least two sources (run folders, .onnx exports or .weights.h5 files).")
    for src in sources:
        check_init(weights_file(src))
    val_size, seed = split_of(sources, val_size, seed)
    arch = arch_of_sources(sources)
    rows = chained_history(history_from)  # a wrong path fails here, before a minute of work
    import keras  # after the checks: a mistyped argument is told in a second, not after TensorFlow loads

    from train.model import build_model, save_weights

    keras.mixed_precision.set_global_policy("float32")
    (x_tr, _), (x_val, y_val) = data.split(x_train, y_train, val_size, seed)
    x_tr, x_val = to_model_input(x_tr), to_model_input(x_val)
    pick = np.random.default_rng(seed).choice(len(x_tr), min(bn_images, len(x_tr)), replace=False)

    model, total, alone = build_model(arch), None, []
    for src in sources:
        start_from(model, weights_file(src), x_tr[:1000])
        alone.append(evaluate(model, x_val, y_val)["accuracy"])
        print(f"{src}: validation accuracy {alone[-1]:.2%}")
        weights = model.get_weights()
        total = weights if total is None else [t + w for t, w in zip(total, weights)]
    model.set_weights([t / len(sources) for t in total])
    remeasure_batchnorm(model, x_tr[pick])
    val, test = evaluate(model, x_val, y_val), evaluate(model, to_model_input(x_test), y_test)
    print(
        f"average of {len(sources)}: validation accuracy {val['accuracy']:.2%} ({val['errors']} errors); "
        f"test accuracy {test['accuracy']:.2%} ({test['errors']} errors)"
    )

    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    save_weights(model, out / BEST)
    if rows:
        history.save(rows, out)
    base = next((recipe for s in reversed(sources) if (recipe := recipe_of(s))), {})
    averaged = dict(sources=[str(s) for s in sources], val_accuracy_each=alone, bn_images=len(pick))
    write_json(out / CONFIG, {**base, "averaged": averaged})
    metrics = dict(
        test_accuracy=test["accuracy"],
        test=test,
        val_accuracy=val["accuracy"],
        val_errors=val["errors"],
        best_epoch=None,  # no one epoch: `averaged` names the cycle ends
        epochs_run=len(rows),
        averaged=averaged,
        val_images=len(x_val),
        finished=datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
    )
    write_json(out / METRICS, metrics)
    return metrics


def main(argv=None):
    p = argparse.ArgumentParser(
        prog="python -m train.average",
        description=__doc__.split("\n\n")[0],
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    p.add_argument("sources", nargs="+", help="run folders (their best weights), .onnx exports or .weights.h5 files")
    p.add_argument("--out", required=True, help="run folder to write (export it with `python -m export --run`)")
    p.add_argument("--data", default=None, help="local mnist.npz (default: $MNIST_NPZ, else download)")
    p.add_argument(
        "--history",
        nargs="*",
        default=[],
        help="run folders or history.json files whose histories, end to end, are the averaged model's training history",
    )
    p.add_argument("--bn-images", type=int, default=BN_IMAGES, help="training digits that re-measure BatchNorm")
    p.add_argument(
        "--val-size",
        type=int,
        default=None,
        help=f"for sources that do not record their split (default: theirs, else {Config.val_size})",
    )
    p.add_argument(
        "--seed",
        type=int,
        default=None,
        help=f"for sources that do not record their split (default: theirs, else {Config.seed})",
    )
    args = p.parse_args(argv)
    try:
        (x_train, y_train), (x_test, y_test) = data.load(args.data)
        average(
            args.sources,
            args.out,
            x_train,
            y_train,
            x_test,
            y_test,
            args.val_size,
            args.seed,
            args.history,
            args.bn_images,
        )
    except (data.DataError, InitError) as e:
        sys.exit(f"error: {e}")


if __name__ == "__main__":
    main()
