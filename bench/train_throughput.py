"""Training images/s by choice, side by side in one run.  `python -m bench.train_throughput`

The same ResNet50V2 trains a few steps under each choice: TensorFlow's own convolution gradient or
train.fastgrad's, XLA (`jit_compile`), precision, batch size, fed by the real pipeline with
augmentation; one cached batch shows the model alone, under what training picks on this machine
(`--precision auto` and `fastgrad.install_if_faster`). The pipeline alone is timed too: if it is far
faster than the model, the model never waits for data.
"""

import argparse
import time

import keras
import tensorflow as tf

from bench.report import machine, publish, table
from demo.contract import to_model_input
from train import fastgrad
from train.augment import Augment
from train.data import load
from train.devices import resolve_precision
from train.model import build_model
from train.train import make_dataset

# (label, fast input gradient, jit_compile, precision, batch)
CHOICES = [
    ("TensorFlow's conv gradient", False, False, "float32", 128),
    ("TensorFlow's conv gradient", False, False, "mixed_bfloat16", 128),
    ("TensorFlow's conv gradient, the quick and fast recipes' batch", False, False, "float32", 32),
    ("TensorFlow's conv gradient, the quick and fast recipes' batch", False, False, "mixed_bfloat16", 32),
    ("TensorFlow's conv gradient, batch 64", False, False, "mixed_bfloat16", 64),
    ("TensorFlow's conv gradient, batch 256", False, False, "mixed_bfloat16", 256),
    ("TensorFlow's conv gradient + XLA", False, True, "float32", 128),
    ("TensorFlow's conv gradient + XLA", False, True, "mixed_bfloat16", 128),
    ("fast input gradient (train.fastgrad)", True, False, "float32", 128),
    ("fast input gradient (train.fastgrad)", True, False, "mixed_bfloat16", 128),
]


class Timer(keras.callbacks.Callback):
    def __init__(self):
        super().__init__()
        self.times = []

    def on_train_batch_end(self, batch, logs=None):
        self.times.append(time.perf_counter())


def images_per_s(ds, fast, jit, precision, steps, batch, skip=2):
    (fastgrad.install if fast else fastgrad.uninstall)()
    keras.mixed_precision.set_global_policy(precision)
    model = build_model()
    model.compile(optimizer=keras.optimizers.AdamW(1e-3), loss="categorical_crossentropy", jit_compile=jit)
    timer = Timer()
    model.fit(ds.take(steps + skip), epochs=1, verbose=0, callbacks=[timer])
    t = timer.times
    return batch * (len(t) - skip) / (t[-1] - t[skip - 1])


def pipeline_only(ds, batches):
    it = iter(ds)
    next(it)
    t = time.perf_counter()
    n = sum(int(b[0].shape[0]) for _, b in zip(range(batches), it))
    return n / (time.perf_counter() - t)


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--data", default=None)
    p.add_argument("--steps", type=int, default=6, help="timed steps per cell (after 2 warm-up steps)")
    p.add_argument("--only", default="", help="comma-separated row numbers (1-based) to run")
    p.add_argument("--no-write", action="store_true")
    args = p.parse_args(argv)

    (x, y), _ = load(args.data)
    x, y = to_model_input(x[:20000]), y[:20000]
    rows = []
    picked = [int(i) - 1 for i in args.only.split(",") if i] or range(len(CHOICES))
    for i in picked:
        name, fast, jit, precision, batch = CHOICES[i]
        aug = make_dataset(x, y, batch, 0, Augment()).repeat()
        rate = images_per_s(aug, fast, jit, precision, args.steps, batch)
        rows.append([name, precision, str(batch), "yes" if jit else "no", f"{rate:.0f}"])
        print(rows[-1], flush=True)
    fast = fastgrad.install_if_faster()
    precision = resolve_precision("auto")
    plain = make_dataset(x, y, 128, 0, Augment(0, 0, 0, 0)).repeat()
    cached = plain.take(1).cache().repeat()
    rate = images_per_s(cached, fast, False, precision, args.steps, 128)
    gradient = "fast input gradient" if fast else "TensorFlow's conv gradient"
    name = f"what training picks here ({gradient}), one cached batch (model only)"
    rows.append([name, precision, "128", "no", f"{rate:.0f}"])
    aug = make_dataset(x, y, 128, 0, Augment()).repeat()
    rows.append(["input pipeline alone, with augmentation", "-", "128", "-", f"{pipeline_only(aug, 100):.0f}"])
    body = (
        f"`python -m bench.train_throughput --steps {args.steps}` on {machine()}, TensorFlow {tf.__version__}, "
        f"Keras {keras.__version__}; ResNet50V2 at 32x32, training images/s with augmentation after 2 warm-up "
        "steps (short runs: expect +-10% between runs).\n\n"
        + table(["choice", "precision", "batch", "XLA", "images/s"], rows)
    )
    publish("Training throughput", body, write=not args.no_write)


if __name__ == "__main__":
    main()
