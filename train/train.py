"""One training run: data -> model -> fit with resumable state -> best weights, history, test metrics."""
import dataclasses
import datetime
import json
import math
import time
from pathlib import Path

import keras
import tensorflow as tf

from demo.contract import NUM_CLASSES, to_model_input
from demo.fileio import atomic_path, write_json
from train import data, history
from train.augment import Augment, augment_batch
from train.average import average
from train.devices import MULTIWORKER_BROKEN, make_strategy, resolve_precision
from train.evaluate import evaluate
from train.from_onnx import check_init, start_from
from train.layout import AVERAGE, BEST, CONFIG, LAST, METRICS, RESTART, STATE
from train.model import build_model


class TrainError(Exception):
    """A run that cannot go on or has nothing to show; one sentence for people (the CLI prints it)."""


def make_dataset(x, y, batch_size, seed, augment=None, steps=0):
    """x: contract-shaped float32. Augmentation is a batched map, parallel and prefetched."""
    ds = tf.data.Dataset.from_tensor_slices((x, tf.one_hot(y, NUM_CLASSES)))
    if augment is not None:
        ds = ds.shuffle(len(x), seed=seed, reshuffle_each_iteration=True)
    ds = ds.batch(batch_size, drop_remainder=augment is not None and len(x) >= batch_size)
    if augment is not None and augment.enabled():
        ds = ds.map(lambda a, b: (augment_batch(a, augment), b), num_parallel_calls=tf.data.AUTOTUNE)
    if steps:
        ds = ds.take(steps)
    return ds.prefetch(tf.data.AUTOTUNE)


def make_optimizer(cfg, steps_per_epoch):
    if cfg.schedule == "cosine":
        total = max(1, cfg.epochs * steps_per_epoch)
        warmup = min(int(cfg.warmup_epochs * steps_per_epoch), total - 1)
        lr = keras.optimizers.schedules.CosineDecay(
            initial_learning_rate=cfg.lr / 100 if warmup else cfg.lr, decay_steps=total - warmup,
            warmup_target=cfg.lr if warmup else None, warmup_steps=warmup, alpha=0.0)
    else:
        lr = cfg.lr
    ema = dict(use_ema=cfg.ema > 0, ema_momentum=cfg.ema or 0.99)
    if cfg.optimizer == "adamw":
        return keras.optimizers.AdamW(lr, weight_decay=cfg.weight_decay, **ema)
    if cfg.optimizer == "adam":
        return keras.optimizers.Adam(lr, **ema)
    return keras.optimizers.SGD(lr, momentum=0.9, nesterov=True, weight_decay=cfg.weight_decay or None, **ema)


def current_lr(optimizer):
    lr = optimizer.learning_rate
    return float(keras.ops.convert_to_numpy(lr))


class RunState(keras.callbacks.Callback):
    """Everything a killed run needs to continue, written atomically at each epoch end:
    the last model with optimizer (raw weights), the best weights (EMA or raw, whichever validates
    better), the counters."""

    def __init__(self, cfg, out, state, val_ds):
        super().__init__()
        self.cfg, self.out, self.state, self.val_ds = cfg, out, state, val_ds
        self.started = time.time()
        self.epoch_started = None

    def on_epoch_begin(self, epoch, logs=None):
        self.epoch_started = time.time()

    def on_epoch_end(self, epoch, logs=None):
        s, cfg = self.state, self.cfg
        seconds = time.time() - self.epoch_started
        row = {"epoch": epoch + 1, "learning_rate": current_lr(self.model.optimizer), "seconds": round(seconds, 1)}
        row.update({k: float(logs[k]) for k in ("loss", "accuracy", "val_loss", "val_accuracy")})
        s["history"].append(row)
        s["epoch"] = epoch + 1

        candidates = [(row["val_accuracy"], -row["val_loss"], "ema" if cfg.ema else "raw")]
        if cfg.ema:
            # Keras averages only trainable weights; BatchNorm statistics follow the raw ones, so early
            # in a run the EMA model can validate far worse. Both are candidates, chosen on validation.
            raw = self.model.evaluate(self.val_ds, verbose=0, return_dict=True)
            row.update(val_loss_raw=float(raw["loss"]), val_accuracy_raw=float(raw["accuracy"]))
            candidates.append((row["val_accuracy_raw"], -row["val_loss_raw"], "raw"))
        acc, neg_loss, kind = max(candidates)
        if (acc, neg_loss) > (s["best_val_accuracy"], -s["best_val_loss_at_best"]):
            s.update(best_epoch=epoch + 1, best_val_accuracy=acc, best_val_loss_at_best=-neg_loss, best_weights=kind)
            self.save_best(ema=kind == "ema")
        if row["val_loss"] < s["min_val_loss"]:
            s["min_val_loss"], s["wait"], s["plateau_wait"] = row["val_loss"], 0, 0
        else:
            s["wait"] += 1
            s["plateau_wait"] += 1
        if cfg.schedule == "plateau" and s["plateau_wait"] >= cfg.plateau_patience:
            new = max(current_lr(self.model.optimizer) * 0.2, 1e-6)
            self.model.optimizer.learning_rate.assign(new)
            s["plateau_wait"] = 0
            print(f"\nEpoch {epoch + 1}: validation loss flat for {cfg.plateau_patience} epochs, "
                  f"learning rate -> {new:.2e}")
        s["lr"] = current_lr(self.model.optimizer)
        patience = cfg.patience if cfg.patience >= 0 else (5 if cfg.schedule == "plateau" else 0)
        if patience and s["wait"] >= patience:
            s["stopped"] = f"early stopping: no val_loss improvement for {patience} epochs"
        elapsed = time.time() - self.started
        overrun = elapsed + seconds > cfg.time_budget * 60
        if cfg.time_budget and epoch + 1 < cfg.epochs and overrun:   # a pause: --resume continues
            s["paused"] = (f"time budget: {elapsed / 60:.1f} of {cfg.time_budget:g} minutes used, "
                           "next epoch would overrun")
        if s.get("stopped") or s.get("paused"):
            print(f"\nStopping after epoch {epoch + 1}: {s.get('stopped') or s['paused']}")
            self.model.stop_training = True

        with atomic_path(self.out / LAST, suffix=".keras") as tmp:
            self.model.save(tmp)
        write_json(self.out / STATE, s)   # last: state never points at files not yet written
        history.save(s["history"], self.out)

    def save_best(self, ema):
        """Save the weights validation chose (EMA or raw), then put the raw ones back."""
        model = self.model
        raw = [v.numpy() for v in model.trainable_variables]
        if ema:
            model.optimizer.finalize_variable_values(model.trainable_variables)
        with atomic_path(self.out / BEST, suffix=".weights.h5") as tmp:
            model.save_weights(tmp)
        for v, w in zip(model.trainable_variables, raw):
            v.assign(w)


def fresh_state():
    return dict(epoch=0, history=[], best_epoch=0, best_val_accuracy=-1.0, best_val_loss_at_best=math.inf,
                min_val_loss=math.inf, wait=0, plateau_wait=0, lr=None, stopped=None, paused=None)


def load_data(cfg):
    """MNIST as uint8 arrays, the test split cut to --limit-test."""
    (x_train, y_train), (x_test, y_test) = data.load(cfg.data)
    if cfg.limit_test:
        x_test, y_test = x_test[:cfg.limit_test], y_test[:cfg.limit_test]
    return (x_train, y_train), (x_test, y_test)


def restore_or_build(cfg, out, steps, x_calib):
    """--resume: the last finished epoch's model, optimizer (schedule position, EMA) and counters.
    Otherwise a fresh model and state."""
    state_path = out / STATE
    if cfg.resume and state_path.exists() and (out / LAST).exists():
        state = json.loads(state_path.read_text())
        state["paused"] = None
        model = keras.saving.load_model(out / LAST)
        if cfg.schedule == "plateau" and state.get("lr"):
            model.optimizer.learning_rate.assign(state["lr"])
        print(f"Resuming {out} after epoch {state['epoch']} (best val_accuracy {state['best_val_accuracy']:.4f} "
              f"at epoch {state['best_epoch']})")
        if state.get("stopped"):
            print(f"That run had already stopped ({state['stopped']}); evaluating its best model.")
    else:
        if cfg.resume:
            print(f"Nothing to resume in {out}; starting a new run.")
        state = fresh_state()
        model = build_model(cfg.weights)
        if cfg.init:
            start_from(model, cfg.init, x_calib)
            print(f"Starting from the weights in {cfg.init}")
        model.compile(optimizer=make_optimizer(cfg, steps),
                      loss=keras.losses.CategoricalCrossentropy(label_smoothing=cfg.label_smoothing),
                      metrics=["accuracy"])
    return model, state


def run(cfg):
    if cfg.init:
        check_init(cfg.init)
    out = Path(cfg.out)
    strategy = make_strategy(cfg.strategy, cfg.cpu_replicas)
    precision = resolve_precision(cfg.precision)
    keras.utils.set_random_seed(cfg.seed)
    replicas = strategy.num_replicas_in_sync
    if replicas > 1:   # global batch grows with the replicas; the linear scaling rule keeps lr in step
        cfg = dataclasses.replace(cfg, batch_size=cfg.batch_size * replicas, lr=cfg.lr * replicas)
        print(f"{type(strategy).__name__}: {replicas} replicas, global batch {cfg.batch_size}, peak lr {cfg.lr:g}")

    (x_train, y_train), (x_test, y_test) = load_data(cfg)
    (x_tr, y_tr), (x_val, y_val) = data.split(x_train, y_train, cfg.val_size, cfg.seed)
    if cfg.limit:
        x_tr, y_tr = x_tr[:cfg.limit], y_tr[:cfg.limit]
    x_tr, x_val, x_test = (to_model_input(a) for a in (x_tr, x_val, x_test))
    print(f"train {len(x_tr)}  validation {len(x_val)}  test {len(x_test)}  precision {precision}")

    augment = None if cfg.no_augment else Augment(cfg.rotation, cfg.zoom, cfg.shift, cfg.shear, cfg.stroke)
    train_ds = make_dataset(x_tr, y_tr, cfg.batch_size, cfg.seed, augment or Augment(0, 0, 0, 0), cfg.steps_per_epoch)
    val_ds = make_dataset(x_val, y_val, 500, cfg.seed)
    steps = cfg.steps_per_epoch or max(1, len(x_tr) // cfg.batch_size)

    out.mkdir(parents=True, exist_ok=True)    # after the data loaded: a wrong --data leaves no empty run folder
    with strategy.scope():
        model, state = restore_or_build(cfg, out, steps, x_tr[:1000])
    write_json(out / CONFIG, {**dataclasses.asdict(cfg), "precision_used": precision, "replicas": replicas})

    started = time.time()
    if state["epoch"] < cfg.epochs and not state.get("stopped"):
        callbacks = [RunState(cfg, out, state, val_ds), keras.callbacks.TerminateOnNaN()]
        if cfg.ema:
            callbacks.insert(0, keras.callbacks.SwapEMAWeights(swap_on_epoch=False))  # validate with EMA weights
        try:
            model.fit(train_ds, validation_data=val_ds, epochs=cfg.epochs, initial_epoch=state["epoch"],
                      callbacks=callbacks, verbose=cfg.verbose, shuffle=False)  # tf.data shuffles
        except ValueError as e:
            if "PerReplica" in str(e) and isinstance(strategy, tf.distribute.MultiWorkerMirroredStrategy):
                raise TrainError(MULTIWORKER_BROKEN) from None
            raise
    if not (out / BEST).exists():
        raise TrainError(f"No epoch finished in {out}, so there is no model to evaluate; train for at least one epoch.")

    model.load_weights(out / BEST)
    test = evaluate(model, x_test, y_test)
    metrics = dict(
        test_accuracy=test["accuracy"], test=test, best_epoch=state["best_epoch"],
        val_accuracy=round(state["best_val_accuracy"], 5), best_weights=state.get("best_weights", "ema"),
        epochs_run=state["epoch"],
        stopped=state.get("stopped") or state.get("paused") or "finished all epochs",
        train_images=len(x_tr), val_images=len(x_val), precision=precision, replicas=replicas,
        seconds_this_session=round(time.time() - started, 1),
        train_seconds_total=round(sum(h["seconds"] for h in state["history"]), 1),
        finished=datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
    )
    write_json(out / METRICS, metrics)
    print(f"Best epoch {state['best_epoch']} (val_accuracy {state['best_val_accuracy']:.4f}); "
          f"test accuracy {test['accuracy']:.4%} ({test['errors']} errors in {test['count']})")
    return metrics


def restart_cycles(cfg):
    """[(folder, epochs, peak lr)] of the warm restarts; the last learning rate repeats."""
    epochs = [e for e in cfg.restart_epochs if e > 0]
    lrs = list(cfg.restart_lr) + [cfg.restart_lr[-1]] * len(epochs)
    folders = [Path(cfg.out) / (RESTART + (str(i + 1) if i else "")) for i in range(len(epochs))]
    return list(zip(folders, epochs, lrs))


def run_recipe(cfg):
    """The whole recipe: the main run, then (unless --restart-epochs 0 or --init) the warm restarts,
    each from the best weights of the one before, under what is left of --time-budget, then the
    restart cycles' weights averaged into OUT/average. Each part resumes on its own."""
    started = time.time()
    last = run(cfg)
    cycles = restart_cycles(cfg)
    if not cycles or cfg.init:
        return last
    init = Path(cfg.out) / BEST
    for folder, epochs, lr in cycles:
        left = cfg.time_budget - (time.time() - started) / 60 if cfg.time_budget else 0.0
        if last["stopped"].startswith("time budget") or (cfg.time_budget and left <= 0):
            print(f"Time budget used; `--resume` continues with the cycle in {folder}.")
            return last
        restart = dataclasses.replace(cfg, out=str(folder), init=str(init), epochs=epochs, lr=lr, warmup_epochs=0.5,
                                      time_budget=left, restart_epochs=(0,))
        print(f"Warm restart: {epochs} more epochs from the best weights, peak lr {lr:g}, in {folder}")
        last, init = run(restart), folder / BEST
    if last["stopped"].startswith("time budget") or cfg.no_average or len(cycles) < 2:
        return last

    (x_train, y_train), (x_test, y_test) = load_data(cfg)
    out = Path(cfg.out) / AVERAGE
    print(f"Averaging the weights of the {len(cycles)} restart cycles into {out} (export that folder)")
    return average([c[0] for c in cycles], out, x_train, y_train, x_test, y_test, cfg.val_size, cfg.seed,
                   history_from=[cfg.out] + [c[0] for c in cycles])
