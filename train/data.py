"""MNIST: download (SHA-256 checked, atomic), or a local copy; validation; a seeded split."""

import os
import time
import urllib.request
from pathlib import Path

import numpy as np

from demo.fileio import atomic_path, file_sha256

MNIST_URL = "https://storage.googleapis.com/tensorflow/tf-keras-datasets/mnist.npz"
MNIST_SHA256 = "731c5ac602752760c8e48fbffcf8c3b850d9dc2a2aedcf2cc48468fc17b673d1"  # as in keras.datasets.mnist
DATA_ENV = "MNIST_NPZ"
STALE_SECONDS = 600  # a live download writes every second; an older temp file is a killed one's leftover
CACHE_DIR = Path(os.environ.get("MNIST_CACHE", Path.home() / ".cache" / "mnist-resnet50v2"))

EXPECTED = {  # key -> (shape after the first axis, dtype)
    "x_train": ((28, 28), np.uint8),
    "y_train": ((), np.uint8),
    "x_test": ((28, 28), np.uint8),
    "y_test": ((), np.uint8),
}


class DataError(Exception):
    """A data file that is missing, corrupt or not MNIST; the message says what to do."""


def download(url=MNIST_URL, dest=None, expected_sha256=MNIST_SHA256):
    """Fetch into a temp file beside `dest`, check the hash, then rename: never a half file."""
    dest = Path(dest or CACHE_DIR / "mnist.npz")
    if dest.exists() and file_sha256(dest) == expected_sha256:
        return dest
    for stale in dest.parent.glob(f".{dest.name}.*.tmp"):
        if time.time() - stale.stat().st_mtime > STALE_SECONDS:
            stale.unlink(missing_ok=True)
    with atomic_path(dest) as tmp:
        with open(tmp, "wb") as out:
            try:
                with urllib.request.urlopen(url, timeout=60) as resp:
                    while block := resp.read(1 << 20):
                        out.write(block)
            except OSError as e:
                raise DataError(
                    f"Could not download MNIST from {url} ({e}); "
                    f"pass --data PATH/mnist.npz or set {DATA_ENV} to use a local copy."
                ) from None
        got = file_sha256(tmp)
        if got != expected_sha256:
            raise DataError(
                f"Downloaded {url} has SHA-256 {got}, expected {expected_sha256}; "
                "the download is corrupt, run again or use --data with a good copy."
            )
    return dest


def resolve(path=None):
    """--data, then $MNIST_NPZ, then the verified download."""
    path = path or os.environ.get(DATA_ENV)
    if path:
        path = Path(path).expanduser()
        if not path.is_file():
            raise DataError(f"MNIST file {path} does not exist; check the path given to --data or {DATA_ENV}.")
        return path
    return download()


def load(path=None):
    """Returns (x_train, y_train), (x_test, y_test) as uint8 arrays, after checking keys, shapes, dtypes."""
    path = resolve(path)
    try:
        with np.load(path, allow_pickle=False) as f:
            missing = [k for k in EXPECTED if k not in f.files]
            if missing:
                raise DataError(
                    f"{path} is not an MNIST .npz: it lacks {', '.join(missing)} "
                    "(expected x_train, y_train, x_test, y_test as in keras.datasets.mnist)."
                )
            arrays = {k: f[k] for k in EXPECTED}
    except DataError:
        raise
    except Exception as e:  # zip/npy errors, pickled arrays, truncated files
        raise DataError(
            f"{path} could not be read as an .npz file ({e}); replace it with a good copy of mnist.npz."
        ) from None
    for key, (shape, dtype) in EXPECTED.items():
        a = arrays[key]
        if a.shape[1:] != shape or a.dtype != dtype or len(a) == 0:
            raise DataError(
                f"{path}: {key} has shape {list(a.shape)} and dtype {a.dtype}, "
                f"expected [N, {', '.join(map(str, shape))}] {np.dtype(dtype).name}; is this the Keras mnist.npz?"
            )
    for x, y in (("x_train", "y_train"), ("x_test", "y_test")):
        if len(arrays[x]) != len(arrays[y]):
            raise DataError(f"{path}: {x} has {len(arrays[x])} images but {y} has {len(arrays[y])} labels.")
        if arrays[y].max() > 9:
            raise DataError(f"{path}: {y} holds labels above 9; this is not MNIST.")
    return (arrays["x_train"], arrays["y_train"]), (arrays["x_test"], arrays["y_test"])


def split(x, y, val_size, seed):
    """Seeded, stratification-free hold-out of `val_size` training images for model selection."""
    order = np.random.default_rng(seed).permutation(len(x))
    val, tr = order[:val_size], order[val_size:]
    return (x[tr], y[tr]), (x[val], y[val])
