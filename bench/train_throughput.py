"""Training images/s by precision and input pipeline, side by side.  `python -m bench.train_throughput`

For each precision (float32, mixed_bfloat16, mixed_float16) the same ResNet50V2 trains a few steps
fed by (a) the real pipeline with augmentation, (b) the pipeline without augmentation, (c) one
cached batch (the model alone). The pipeline alone is timed too: if it is far faster than the
model, the model never waits for data.
"""
import argparse
import time

import keras
import tensorflow as tf

from bench.report import machine, publish, table
from demo.contract import to_model_input
from train.augment import Augment
from train.data import load
from train.model import build_model
from train.train import make_dataset


class Timer(keras.callbacks.Callback):
    def __init__(self, skip):
        super().__init__()
        self.skip, self.times = skip, []

    def on_train_batch_end(self, batch, logs=None):
        self.times.append(time.perf_counter())


def images_per_s(ds, precision, steps, batch, skip=2):
    keras.mixed_precision.set_global_policy(precision)
    model = build_model()
    model.compile(optimizer=keras.optimizers.Adam(1e-3), loss="categorical_crossentropy")
    timer = Timer(skip)
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
    p.add_argument("--batch", type=int, default=128)
    p.add_argument("--steps", type=int, default=8, help="timed steps per cell (after 2 warm-up steps)")
    p.add_argument("--precisions", default="float32,mixed_bfloat16,mixed_float16")
    args = p.parse_args(argv)

    (x, y), _ = load(args.data)
    x, y = to_model_input(x[:20000]), y[:20000]
    aug = make_dataset(x, y, args.batch, 0, Augment()).repeat()
    plain = make_dataset(x, y, args.batch, 0, Augment(0, 0, 0, 0)).repeat()
    cached = plain.take(1).cache().repeat()
    feeds = {"augmented pipeline": aug, "pipeline, no augmentation": plain, "one cached batch (model only)": cached}
    rows = []
    for precision in args.precisions.split(","):
        for name, ds in feeds.items():
            steps = max(3, args.steps // 4) if precision == "mixed_float16" else args.steps
            rate = images_per_s(ds, precision, steps, args.batch)
            rows.append([precision, name, f"{rate:.0f}"])
            print(rows[-1], flush=True)
    keras.mixed_precision.set_global_policy("float32")
    rows.append(["-", "input pipeline alone, with augmentation", f"{pipeline_only(aug, 100):.0f}"])
    rows.append(["-", "input pipeline alone, no augmentation", f"{pipeline_only(plain, 100):.0f}"])
    body = (f"`python -m bench.train_throughput --batch {args.batch} --steps {args.steps}` on {machine()}, "
            f"TensorFlow {tf.__version__}, Keras {keras.__version__}; ResNet50V2 at 32x32, training images/s "
            "after 2 warm-up steps (short runs: expect +-10% between runs).\n\n"
            + table(["precision", "fed by", "images/s"], rows))
    publish("Training throughput", body)


if __name__ == "__main__":
    main()
