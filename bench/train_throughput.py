"""Training images/s by choice, side by side in one run.  `python -m bench.train_throughput`

The same ResNet50V2 trains a few steps under each choice: TensorFlow's own convolution gradients or
train.fastgrad's rewrites, XLA (`jit_compile`), precision, batch size, fed by the real pipeline with
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

# conv gradients: TensorFlow's own, or train.fastgrad's rewrites (install keywords)
GRADIENTS = {
    "TensorFlow's": dict(small_maps=False, flipped_input=False),
    "small maps as matrix products": dict(small_maps=True, flipped_input=False),
    "flipped input gradient": dict(small_maps=False, flipped_input=True),
    "both rewrites": dict(small_maps=True, flipped_input=True),
}
# (conv gradients, jit_compile, precision, batch)
CHOICES = [
    ("TensorFlow's", False, "float32", 128),
    ("TensorFlow's", False, "mixed_bfloat16", 128),
    ("TensorFlow's", False, "mixed_bfloat16", 32),
    ("TensorFlow's", False, "mixed_bfloat16", 64),
    ("TensorFlow's", False, "mixed_bfloat16", 256),
    ("TensorFlow's", True, "float32", 128),
    ("TensorFlow's", True, "mixed_bfloat16", 128),
    ("flipped input gradient", False, "float32", 128),
    ("flipped input gradient", False, "mixed_bfloat16", 128),
    ("both rewrites", False, "mixed_bfloat16", 128),
    ("small maps as matrix products", False, "float32", 128),
    ("small maps as matrix products", False, "mixed_bfloat16", 128),
    ("small maps as matrix products", False, "mixed_bfloat16", 32),
    ("small maps as matrix products", False, "mixed_bfloat16", 64),
    ("small maps as matrix products", False, "mixed_bfloat16", 256),
    ("small maps as matrix products", True, "mixed_bfloat16", 128),
]


class Timer(keras.callbacks.Callback):
    def __init__(self):
        super().__init__()
        self.times = []

    def on_train_batch_end(self, batch, logs=None):
        self.times.append(time.perf_counter())


def images_per_s(ds, gradients, jit, precision, steps, batch, skip=2):
    fastgrad.install(**gradients)
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
        gradients, jit, precision, batch = CHOICES[i]
        aug = make_dataset(x, y, batch, 0, Augment()).repeat()
        rate = images_per_s(aug, GRADIENTS[gradients], jit, precision, args.steps, batch)
        rows.append([gradients, precision, str(batch), "yes" if jit else "no", f"{rate:.0f}"])
        print(rows[-1], flush=True)
    precision = resolve_precision("auto")
    chosen = fastgrad.install_if_faster()
    plain = make_dataset(x, y, 128, 0, Augment(0, 0, 0, 0)).repeat()
    cached = plain.take(1).cache().repeat()
    rate = images_per_s(cached, chosen, False, precision, args.steps, 128)
    gradients = next(name for name, kw in GRADIENTS.items() if kw == chosen)
    name = f"what training picks here ({gradients}), one cached batch (model only)"
    rows.append([name, precision, "128", "no", f"{rate:.0f}"])
    aug = make_dataset(x, y, 128, 0, Augment()).repeat()
    rows.append(["input pipeline alone, with augmentation", "-", "128", "-", f"{pipeline_only(aug, 100):.0f}"])
    body = (
        f"`python -m bench.train_throughput --steps {args.steps}` on {machine()}, TensorFlow {tf.__version__}, "
        f"Keras {keras.__version__}; ResNet50V2 at 32x32, training images/s with augmentation after 2 warm-up "
        "steps (short runs: compare the rows of one run, not one run with another).\n\n"
        + table(["conv gradients", "precision", "batch", "XLA", "images/s"], rows)
    )
    publish("Training throughput", body, write=not args.no_write)


if __name__ == "__main__":
    main()
