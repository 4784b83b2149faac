"""One training run: data -> model -> fit with resumable state -> best weights, history, test metrics."""

import dataclasses
import datetime
import json
import time
from pathlib import Path

import keras
import numpy as np
import tensorflow as tf

from demo.contract import NUM_CLASSES, to_model_input
from demo.fileio import atomic_path, write_json
from train import data, fastgrad, history, policy
from train.augment import Augment, augment_batch
from train.budget import BudgetSchedule
from train.devices import MULTIWORKER_BROKEN, make_strategy, resolve_precision
from train.evaluate import evaluate
from train.from_onnx import check_init, start_from
from train.layout import BEST, CONFIG, LAST, METRICS, STATE
from train.model import build_model, load_weights, save_weights, zero_residual_branches
from train.policy import RunState, StopReason
from train.redrawn import with_redrawn
from train.styles import FORMS, styled_set, with_styles

PIPELINE_THREADS = 2  # parallel augmentation calls and batches prefetched: ahead of any step here


class TrainError(Exception):
    """A run that cannot go on or has nothing to show; one sentence for people (the CLI prints it)."""


def make_dataset(x, y, batch_size, seed, augment=None, steps=0):
    """x: contract-shaped float32. Augmentation is a batched map, parallel and prefetched.

    Parallelism and prefetch are fixed rather than autotuned: the pipeline is never the bottleneck, and
    the autotuner's thread sleeps up to a minute between tunings, which an iterator dropped at an epoch's
    end waited for, idle, before the next epoch could start (README, "Epochs that stood still")."""
    ds = tf.data.Dataset.from_tensor_slices((x, tf.one_hot(y, NUM_CLASSES)))
    if augment is not None:
        ds = ds.shuffle(len(x), seed=seed, reshuffle_each_iteration=True)
    ds = ds.batch(batch_size, drop_remainder=augment is not None and len(x) >= batch_size)
    if augment is not None and augment.enabled():
        ds = ds.map(lambda a, b: (augment_batch(a, augment), b), num_parallel_calls=PIPELINE_THREADS)
    if steps:
        ds = ds.take(steps)
    options = tf.data.Options()
    options.autotune.enabled = False
    return ds.prefetch(PIPELINE_THREADS).with_options(options)


def make_optimizer(cfg, steps_per_epoch):
    """With --time-budget the learning rate is a plain variable that train.budget sets every step."""
    if cfg.schedule == "cosine" and not cfg.time_budget:
        total = max(1, cfg.epochs * steps_per_epoch)
        warmup = min(int(cfg.warmup_epochs * steps_per_epoch), total - 1)
        lr = keras.optimizers.schedules.CosineDecay(
            initial_learning_rate=cfg.lr / 100 if warmup else cfg.lr,
            decay_steps=total - warmup,
            warmup_target=cfg.lr if warmup else None,
            warmup_steps=warmup,
            alpha=0.0,
        )
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


class EpochEnd(keras.callbacks.Callback):
    """Everything a killed run needs to continue, written atomically at each epoch end:
    the last model with optimizer (raw weights), the best weights (EMA or raw, whichever validates
    better), the counters."""

    def __init__(self, cfg, out, state, val_ds, budget=None):
        super().__init__()
        self.cfg, self.out, self.state, self.val_ds, self.budget = cfg, out, state, val_ds, budget
        self.started = self.mark = time.time()

    def on_train_begin(self, logs=None):
        self.started = self.mark = time.time()

    def on_epoch_end(self, epoch, logs=None):
        s, cfg = self.state, self.cfg
        now = time.time()  # wall clock since the last epoch end, its checkpoint included: what training costs
        seconds, self.mark = now - self.mark, now
        row = {"epoch": epoch + 1, "learning_rate": current_lr(self.model.optimizer), "seconds": round(seconds, 1)}
        row.update({k: float(logs[k]) for k in ("loss", "accuracy", "val_loss", "val_accuracy")})
        s.history.append(row)
        s.epoch = epoch + 1

        candidates = [(row["val_accuracy"], row["val_loss"], "ema" if cfg.ema else "raw")]
        if cfg.ema:
            # Keras averages only trainable weights; BatchNorm statistics follow the raw ones, so early
            # in a run the EMA model can validate far worse. Both are candidates, chosen on validation.
            raw = self.model.evaluate(self.val_ds, verbose=0, return_dict=True)
            row.update(val_loss_raw=float(raw["loss"]), val_accuracy_raw=float(raw["accuracy"]))
            candidates.append((row["val_accuracy_raw"], row["val_loss_raw"], "raw"))
        if kind := policy.update_best(s, epoch + 1, candidates):
            self.save_best(ema=kind == "ema")
        policy.update_patience(s, row["val_loss"])
        if new := policy.plateau_cut(s, cfg.schedule, cfg.plateau_patience, current_lr(self.model.optimizer)):
            self.model.optimizer.learning_rate.assign(new)
            print(
                f"\nEpoch {epoch + 1}: validation loss flat for {cfg.plateau_patience} epochs, "
                f"learning rate -> {new:.2e}"
            )
        s.lr = current_lr(self.model.optimizer)
        stop = policy.stop_reason(
            s,
            patience=policy.effective_patience(cfg.patience, cfg.schedule),
            epochs=cfg.epochs,
            pause_after_min=cfg.pause_after,
            elapsed_s=time.time() - self.started,  # this session
            epoch_s=seconds,
            time_budget_min=cfg.time_budget,
            budget_spent=self.budget is not None and self.budget.spent(),
        )
        if stop:
            s.stop, s.stop_detail = stop
            print(f"\nStopping after epoch {epoch + 1}: {s.stop_detail}")
            self.model.stop_training = True

        with atomic_path(self.out / LAST, suffix=".keras") as tmp:
            self.model.save(tmp)
        write_json(self.out / STATE, s.to_json())  # last: state never points at files not yet written
        history.save(s.history, self.out)

    def save_best(self, ema):
        """Save the weights validation chose (EMA or raw), then put the raw ones back."""
        model = self.model
        raw = [v.numpy() for v in model.trainable_variables]
        if ema:
            model.optimizer.finalize_variable_values(model.trainable_variables)
        save_weights(model, self.out / BEST)
        for v, w in zip(model.trainable_variables, raw):
            v.assign(w)


def load_data(cfg):
    """MNIST as uint8 arrays, the test split cut to --limit-test."""
    (x_train, y_train), (x_test, y_test) = data.load(cfg.data)
    if cfg.limit_test:
        x_test, y_test = x_test[: cfg.limit_test], y_test[: cfg.limit_test]
    return (x_train, y_train), (x_test, y_test)


def restore_or_build(cfg, out, steps, x_calib):
    """--resume: the last finished epoch's model, optimizer (schedule position, EMA) and counters.
    Otherwise a fresh model and state."""
    state_path = out / STATE
    if cfg.resume and state_path.exists() and (out / LAST).exists():
        state = RunState.from_json(json.loads(state_path.read_text())).resumed()
        model = keras.saving.load_model(out / LAST)
        if cfg.schedule == "plateau" and state.lr:
            model.optimizer.learning_rate.assign(state.lr)
        print(
            f"Resuming {out} after epoch {state.epoch} (best val_accuracy {state.best_val_accuracy:.4f} "
            f"at epoch {state.best_epoch})"
        )
        if state.stop:
            print(f"That run had already stopped ({state.stop_detail}); evaluating its best model.")
    else:
        if cfg.resume:
            print(f"Nothing to resume in {out}; starting a new run.")
        state = RunState()
        model = build_model(cfg.arch, cfg.weights, dropout=cfg.dropout)
        if cfg.init:
            start_from(model, cfg.init, x_calib)
            print(f"Starting from the weights in {cfg.init}")
        elif cfg.zero_init_residual and cfg.weights == "none" and (zeroed := zero_residual_branches(model)):
            print(f"Every residual block starts as the identity ({zeroed} branches zeroed)")
        compile_for_training(model, make_optimizer(cfg, steps), cfg.label_smoothing)
    return model, state


def compile_for_training(model: keras.Model, optimizer, label_smoothing: float) -> None:
    """The one loss and metric of every run here (train, tune, finetune): cross-entropy on one-hot
    labels, smoothed, and accuracy."""
    model.compile(
        optimizer=optimizer,
        loss=keras.losses.CategoricalCrossentropy(label_smoothing=label_smoothing),
        metrics=["accuracy"],
    )


def build_before_tracing(model: keras.Model, x: np.ndarray, y: np.ndarray) -> None:
    """Create the optimizer's and the metrics' variables now. Keras defers that to the first trace of the
    training step when no tf.distribute scope is set, and a traced function that creates variables is traced
    twice: for ResNet50V2 on a CPU that second trace costs more than a quick run's first epoch of steps."""
    if hasattr(model, "_symbolic_build"):  # Keras 3's own pre-build (what it does under a strategy scope)
        model._symbolic_build(data_batch=(x, tf.one_hot(y, NUM_CLASSES)))


def run(cfg):
    if cfg.init:
        check_init(cfg.init)
    if problem := cfg.problem():
        raise TrainError(problem)
    out = Path(cfg.out)
    strategy = make_strategy(cfg.strategy, cfg.cpu_replicas)
    precision = resolve_precision(cfg.precision)
    fastgrad.install_if_faster()
    keras.utils.set_random_seed(cfg.seed)
    replicas = strategy.num_replicas_in_sync
    if replicas > 1:  # global batch grows with the replicas; the linear scaling rule keeps lr in step
        cfg = dataclasses.replace(cfg, batch_size=cfg.batch_size * replicas, lr=cfg.lr * replicas)
        print(f"{type(strategy).__name__}: {replicas} replicas, global batch {cfg.batch_size}, peak lr {cfg.lr:g}")

    (x_train, y_train), (x_test, y_test) = load_data(cfg)
    (x_tr, y_tr), (x_val, y_val) = data.split(x_train, y_train, cfg.val_size, cfg.seed)
    if cfg.limit:
        x_tr, y_tr = x_tr[: cfg.limit], y_tr[: cfg.limit]
    x_tr, y_tr = with_redrawn(*with_styles(x_tr, y_tr, cfg.styles, cfg.seed), cfg.redrawn, cfg.seed)
    styled_val = {form: styled_set(x_val, y_val, form, cfg.seed) for form in FORMS}
    x_tr, x_val, x_test = (to_model_input(a) for a in (x_tr, x_val, x_test))
    print(f"train {len(x_tr)}  validation {len(x_val)}  test {len(x_test)}  precision {precision}")

    augment = None if cfg.no_augment else Augment(cfg.rotation, cfg.zoom, cfg.shift, cfg.shear, cfg.stroke)
    train_ds = make_dataset(x_tr, y_tr, cfg.batch_size, cfg.seed, augment or Augment(0, 0, 0, 0), cfg.steps_per_epoch)
    val_ds = make_dataset(x_val, y_val, 500, cfg.seed)
    steps = cfg.steps_per_epoch or max(1, len(x_tr) // cfg.batch_size)

    out.mkdir(parents=True, exist_ok=True)  # after the data loaded: a wrong --data leaves no empty run folder
    with strategy.scope():
        model, state = restore_or_build(cfg, out, steps, x_tr[:1000])
        model.run_eagerly = cfg.eager
        build_before_tracing(model, x_tr[: cfg.batch_size], y_tr[: cfg.batch_size])
    write_json(out / CONFIG, {**dataclasses.asdict(cfg), "precision_used": precision, "replicas": replicas})

    started = time.time()
    if state.epoch < cfg.epochs and not state.stop:
        budget = None
        if cfg.time_budget:
            spent = sum(h["seconds"] for h in state.history)  # a resumed run's finished epochs
            peak = cfg.lr if cfg.schedule == "cosine" else None
            budget = BudgetSchedule(peak, int(cfg.warmup_epochs * steps), cfg.time_budget, spent)
        callbacks = [EpochEnd(cfg, out, state, val_ds, budget), keras.callbacks.TerminateOnNaN()]
        if budget:
            callbacks.insert(0, budget)
        if cfg.ema:
            callbacks.insert(0, keras.callbacks.SwapEMAWeights(swap_on_epoch=False))  # validate with EMA weights
        try:
            model.fit(
                train_ds,
                validation_data=val_ds,
                epochs=cfg.epochs,
                initial_epoch=state.epoch,
                callbacks=callbacks,
                verbose=cfg.verbose,
                shuffle=False,
            )  # tf.data shuffles
        except ValueError as e:
            if "PerReplica" in str(e) and isinstance(strategy, tf.distribute.MultiWorkerMirroredStrategy):
                raise TrainError(MULTIWORKER_BROKEN) from None
            raise
    if not (out / BEST).exists():
        raise TrainError(f"No epoch finished in {out}, so there is no model to evaluate; train for at least one epoch.")

    load_weights(model, out / BEST)
    test = evaluate(model, x_test, y_test)
    styled = {f: evaluate(model, to_model_input(sx), sy)["accuracy"] for f, (sx, sy) in styled_val.items() if len(sy)}
    metrics = dict(
        test_accuracy=test["accuracy"],
        test=test,
        best_epoch=state.best_epoch,
        val_accuracy=round(state.best_val_accuracy, 5),
        styled_val_accuracy=styled,
        best_weights=state.best_weights,
        epochs_run=state.epoch,
        stop_reason=(state.stop or StopReason.FINISHED).value,
        stopped=state.stop_detail or StopReason.FINISHED.value,
        train_images=len(x_tr),
        val_images=len(x_val),
        precision=precision,
        replicas=replicas,
        seconds_this_session=round(time.time() - started, 1),
        train_seconds_total=round(sum(h["seconds"] for h in state.history), 1),
        finished=datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
    )
    write_json(out / METRICS, metrics)
    print(
        f"Best epoch {state.best_epoch} (val_accuracy {state.best_val_accuracy:.4f}); "
        f"test accuracy {test['accuracy']:.4%} ({test['errors']} errors in {test['count']})"
    )
    return metrics
