"""The fine-tuning loop behind `python -m train.finetune`: epochs of corrections mixed with replayed
MNIST, each scored on held-out corrections and MNIST validation, the best kept as the run's weights."""

from __future__ import annotations

import time
from pathlib import Path

import keras
import numpy as np

from demo.contract import NUM_CLASSES, to_model_input
from train import data, fastgrad, history
from train.augment import Augment
from train.average import split_of
from train.config import Config
from train.evaluate import evaluate
from train.from_onnx import all_layers, start_from
from train.layout import BEST
from train.model import build_model, load_weights, save_weights
from train.train import build_before_tracing, compile_for_training, make_dataset


def per_digit(model, x, y) -> tuple[float, float, np.ndarray]:
    """(loss, accuracy, each digit's accuracy) on labelled digits, in one pass: the guard needs every class,
    not just the mean."""
    probs = model.predict(x, batch_size=500, verbose=0)
    loss = float(keras.ops.convert_to_numpy(model.loss(keras.utils.to_categorical(y, NUM_CLASSES), probs)))
    right = probs.argmax(1) == y
    digits = [right[y == d].mean() if (y == d).any() else 1.0 for d in range(NUM_CLASSES)]  # none: nothing lost
    return loss, float(right.mean()), np.array(digits)


def guarded(start: np.ndarray, now: np.ndarray, mean_start: float, mean_now: float, args) -> bool:
    """Whether an epoch may be kept: MNIST validation no worse than the starting model by more than
    args.tolerance, and no one digit worse by more than args.digit_tolerance (each digit's accuracy in
    `start` and `now`). A mean can hide 3s traded for 8s; the digits cannot."""
    return mean_now >= mean_start - args.tolerance and float((start - now).max()) <= args.digit_tolerance


def balanced_replay(y_corrections: np.ndarray, repeat: int, replay: float, y_pool: np.ndarray) -> np.ndarray:
    """MNIST digits to replay per class each epoch: `replay` per correction seen in all, spread so that
    every digit is seen equally often (corrections included). Corrections of only a few digits would
    otherwise tilt the model towards those digits."""
    seen = np.bincount(y_corrections, minlength=NUM_CLASSES) * repeat
    target = (seen.sum() * (1 + replay)) / NUM_CLASSES
    want = np.maximum(0, np.round(target - seen)).astype(int)
    return np.minimum(want, np.bincount(y_pool, minlength=NUM_CLASSES))


def learns(name: str, first: str) -> bool:
    """Whether a layer of the model is at or after the stage `first` (conv1..conv5, or "head")."""
    order = ["conv1", "conv2", "conv3", "conv4", "conv5", "post", "head", "probabilities"]
    stage = next((i for i, s in enumerate(order) if name.startswith(s) or (s == "head" and name == "gap")), -1)
    return stage >= order.index(first) if stage >= 0 else first == "conv1"


def finetune(args, xc_train, yc_train, xc_val, yc_val, x_review=None) -> dict:
    """Train from args.init; writes OUT/best.weights.h5 and OUT/history.json; returns the figures, and what
    the kept model reads in `x_review` (every correction, for demo.review) as "predicted"."""
    out = Path(args.out)
    (x_train, y_train), (x_test, y_test) = data.load(args.data)
    if args.limit_test:
        x_test, y_test = x_test[: args.limit_test], y_test[: args.limit_test]
    val_size, seed = split_of([args.init], args.val_size, args.split_seed)
    (x_tr, y_tr), (x_val, y_val) = data.split(x_train, y_train, val_size, seed)
    x_tr, x_val, x_test = (to_model_input(a) for a in (x_tr, x_val, x_test))
    xc_train, xc_val = to_model_input(xc_train), to_model_input(xc_val)
    print(
        f"corrections: {len(yc_train)} to learn from, {len(yc_val)} held out; MNIST replayed from {len(x_tr)}, "
        f"validation {len(x_val)} (val_size {val_size}, seed {seed}, as the starting model)"
    )

    keras.mixed_precision.set_global_policy("float32")
    fastgrad.install_if_faster()  # before the seed: its timing tensors are not the run's random stream
    keras.utils.set_random_seed(args.seed)
    model = build_model()
    start_from(model, args.init, x_tr[:1000])
    learning = 0
    for layer in all_layers(model):
        # BatchNorm frozen in inference mode: a few hundred digits must not move statistics measured on 55,000;
        # and only the layers from --learn on change, so the features MNIST is read with stay as they are.
        layer.trainable = learns(layer.name, args.learn) and not isinstance(layer, keras.layers.BatchNormalization)
        learning += sum(int(np.prod(v.shape)) for v in layer.trainable_weights)
    print(f"learning {learning:,} of {model.count_params():,} weights (from {args.learn} on)")
    rng = np.random.default_rng(args.seed)
    replay = balanced_replay(yc_train, args.repeat, args.replay, y_tr)
    per_epoch = len(yc_train) * args.repeat + int(replay.sum())
    steps = max(1, per_epoch // args.batch_size)
    lr = keras.optimizers.schedules.CosineDecay(args.lr, decay_steps=args.epochs * steps, alpha=0.0)
    recipe = Config()
    optimizer = (
        keras.optimizers.SGD(lr, momentum=0.9, nesterov=True)
        if args.optimizer == "sgd"
        else keras.optimizers.AdamW(lr, weight_decay=recipe.weight_decay)
    )
    compile_for_training(model, optimizer, recipe.label_smoothing)
    build_before_tracing(model, x_val[: args.batch_size], y_val[: args.batch_size])
    model.run_eagerly = args.eager
    augment = Augment(recipe.rotation, recipe.zoom, recipe.shift, recipe.shear, recipe.stroke)

    out.mkdir(parents=True, exist_ok=True)
    _, start_val, start_digits = per_digit(model, x_val, y_val)
    start_corr_loss, start_corr, _ = per_digit(model, xc_val, yc_val)
    before = evaluate(model, x_test, y_test)
    test_before = before["accuracy"]
    rows = []
    best = (start_corr, -start_corr_loss, 0, start_val, 0.0)  # corrections: accuracy, loss; epoch; MNIST; worst digit
    save_weights(model, out / BEST)
    print(f"epoch 0 (the starting model): MNIST validation {start_val:.4%}, corrections held out {start_corr:.1%}")
    c = np.tile(np.arange(len(yc_train)), args.repeat)
    for epoch in range(1, args.epochs + 1):
        m = np.concatenate([rng.choice(np.flatnonzero(y_tr == d), n, replace=False) for d, n in enumerate(replay)])
        x = np.concatenate([xc_train[c], x_tr[m]])
        y = np.concatenate([yc_train[c], y_tr[m]])
        started = time.time()
        fit = model.fit(
            make_dataset(x, y, args.batch_size, args.seed + epoch, augment), epochs=1, verbose=0, shuffle=False
        )
        seconds = time.time() - started
        (val_loss, val, digits), (corr_loss, corr, _) = per_digit(model, x_val, y_val), per_digit(model, xc_val, yc_val)
        worst = float((start_digits - digits).max())
        rows.append(
            dict(
                epoch=epoch,
                loss=fit.history["loss"][-1],
                accuracy=fit.history["accuracy"][-1],
                val_loss=val_loss,
                val_accuracy=val,
                corrections_val_accuracy=corr,
                worst_digit_lost=round(worst, 5),
                learning_rate=float(keras.ops.convert_to_numpy(model.optimizer.learning_rate)),
                seconds=round(seconds, 1),
            )
        )
        kept = guarded(start_digits, digits, start_val, val, args) and (corr, -corr_loss) > best[:2]
        if kept:
            best = (corr, -corr_loss, epoch, val, worst)
            save_weights(model, out / BEST)
        print(
            f"epoch {epoch}: {len(y)} images in {seconds:.0f} s, MNIST validation {val:.4%}, corrections "
            f"held out {corr:.1%} (loss {corr_loss:.3f}), worst digit {-worst:+.2%}{'  (kept)' if kept else ''}"
        )
        history.save(rows, out)

    load_weights(model, out / BEST)
    test = evaluate(model, x_test, y_test)
    predicted = []
    if x_review is not None:  # what the kept model reads in every correction, for the review
        predicted = model.predict(to_model_input(x_review), batch_size=500, verbose=0).argmax(-1).tolist()
    return dict(
        predicted=predicted,
        seed=seed,
        val_size=val_size,
        corrections=len(yc_train) + len(yc_val),
        corrections_train=len(yc_train),
        corrections_val=len(yc_val),
        repeat=args.repeat,
        replay=args.replay,
        store=str(args.corrections),
        metrics=dict(
            test_accuracy=test["accuracy"],
            test=test,
            test_before=test_before,
            test_before_per_digit=before["per_digit"],
            best_epoch=best[2],
            val_accuracy=round(best[3], 5),
            val_worst_digit_lost=round(best[4], 5),
            val_before=round(start_val, 5),
            corrections_val_accuracy=best[0],
            corrections_val_before=start_corr,
            epochs_run=args.epochs,
            stop_reason="finished",
            stopped="finished",
            train_images=per_epoch,
            val_images=len(y_val),
            train_seconds_total=round(sum(r["seconds"] for r in rows), 1),
        ),
    )
