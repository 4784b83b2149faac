import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from bench.drawing import FIXTURE

ROOT = Path(__file__).resolve().parent.parent
if os.environ.get("PYTEST_XDIST_WORKER"):
    # Two test processes share 2 cores: TensorFlow computes each op on one thread, so a training test leaves
    # the other core to the app under test next door (its tests have time bounds).
    os.environ.setdefault("TF_NUM_INTRAOP_THREADS", "1")
SHIPPED = ROOT / "models" / "mnist-resnet50v2.onnx"

TRAIN_SMOKE = [  # a training run of a few steps on the fixture digits
    "--data",
    str(FIXTURE),
    "--val-size",
    "100",
    "--batch-size",
    "32",
    "--steps-per-epoch",
    "2",
    "--limit-test",
    "100",
    "--verbose",
    "2",
    "--restart-epochs",
    "0",
]


@pytest.fixture(scope="session")
def sample():
    with np.load(FIXTURE, allow_pickle=False) as f:
        return {k: f[k] for k in f.files}


@pytest.fixture(scope="session")
def classifier():
    from demo.classifier import Classifier

    return Classifier(SHIPPED)


@pytest.fixture(scope="session")
def imported(sample):
    """The shipped model's weights in Keras ResNet50V2 (it ships without Keras weights). Shared: a test
    that changes them puts them back."""
    from demo.contract import to_model_input
    from train.from_onnx import load_onnx_into
    from train.model import build_model

    model = build_model()
    load_onnx_into(model, SHIPPED, to_model_input(sample["x_train"][:300]))
    return model


def run_module(*args, timeout=600, env=None, **kw):
    """`python -m ...` in a child, from the project root, so the CLI is what is tested."""
    return subprocess.run(
        [sys.executable, *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=timeout,
        env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2", **(env or {})},
        **kw,
    )


@pytest.fixture(scope="session")
def corrections_file(tmp_path_factory):
    return tmp_path_factory.mktemp("store") / "corrections.sqlite"


@pytest.fixture(scope="session")
def app(corrections_file):
    """The real app, started as a user starts it (a test says which address a request comes from by binding
    its client to a loopback address: bench.client.client_from), on a free port, with the 1,024-descriptor soft
    limit of many hosts, keeping corrections in a temporary file: (url, process)."""
    from bench.serve import running_app

    with running_app("--corrections", corrections_file, nofile=1024) as (url, proc):
        yield url, proc


@pytest.fixture(scope="session")
def app_url(app):
    return app[0]


def pytest_collection_modifyitems(config, items):
    """Slow files first: TensorFlow's (each starts it in a child), then the app's, then the fast lane. With
    `-n 2 --dist loadfile --no-loadscope-reorder` the quick files then fill in at the end, rather than a
    training file starting last while the other process has nothing left to do."""
    rank = lambda item: 0 if item.get_closest_marker("train") else 1 if item.get_closest_marker("server") else 2
    items.sort(key=rank)  # stable: each file's tests stay together and in order
