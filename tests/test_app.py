"""The real app, started like a user starts it, answering a real gradio_client."""

import subprocess
import sys
import time

import httpx
import numpy as np
import pytest
from gradio_client import Client

from bench.drawing import as_upload
from tests.conftest import ROOT
from train.drawn import place_digit, sketch_value

pytestmark = pytest.mark.server


def test_app_predicts_drawn_real_digits(app_url, sample, tmp_path):
    client = Client(app_url, verbose=False)
    picks = [int(np.flatnonzero(sample["y_test"] == d)[0]) for d in (0, 3, 7)]
    for i in picks:
        value = sketch_value(place_digit(sample["x_test"][i], 400, 0.6, (0.45, 0.55)))
        result = client.predict(as_upload(value, tmp_path, str(i)), api_name="/predict")
        assert result["label"] == str(sample["y_test"][i]), result
        assert len(result["confidences"]) == 3 and result["confidences"][0]["confidence"] > 0.5


def test_plain_http_api_without_gradio_client(app_url, sample, tmp_path):
    """The route curl takes (README): upload, call, read the result stream; bench.inference times it."""
    from bench.client import rest_predict

    i = int(np.flatnonzero(sample["y_test"] == 5)[0])
    value = as_upload(sketch_value(place_digit(sample["x_test"][i], 400, 0.6)), tmp_path, "http")
    with httpx.Client(timeout=60) as http:
        assert rest_predict(http, app_url, value)["label"] == "5"


def test_app_answers_an_empty_canvas_with_a_message(app_url, tmp_path):
    client = Client(app_url, verbose=False)
    empty = sketch_value(np.zeros((400, 400), np.float32))
    result = client.predict(as_upload(empty, tmp_path, "empty"), api_name="/predict")
    assert result["label"].startswith("Draw a digit") and not result.get("confidences")


def test_app_refuses_to_start_without_its_model(tmp_path):
    missing = tmp_path / "gone.onnx"
    result = subprocess.run(
        [sys.executable, "app.py", "--model", str(missing)], cwd=ROOT, capture_output=True, text=True, timeout=120
    )
    assert result.returncode != 0 and f"Model file {missing} does not exist" in result.stderr
    assert "Traceback" not in result.stderr


def test_demo_and_app_never_import_tensorflow():
    code = (
        "import sys, app, demo.ui, demo.classifier, demo.preprocess\n"
        "from demo.classifier import Classifier\n"
        "demo.ui.build_app(Classifier())\n"
        "bad = sorted(m for m in sys.modules if m.split('.')[0] in ('tensorflow', 'keras', 'tf2onnx'))\n"
        "assert not bad, bad\n"
        "print('ok')\n"
    )
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=180)
    assert result.returncode == 0 and result.stdout.strip().endswith("ok"), result.stderr[-2000:]


def test_a_second_app_on_a_busy_port_says_so(app_url):
    port = app_url.rstrip("/").rsplit(":", 1)[1]
    result = subprocess.run(
        [sys.executable, "app.py", "--port", port], cwd=ROOT, capture_output=True, text=True, timeout=120
    )
    assert result.returncode != 0 and "Traceback" not in result.stderr
    assert f"port {port} on 127.0.0.1 is already in use" in result.stderr and f"--port {int(port) + 1}" in result.stderr


def test_upload_folder_is_swept(tmp_path, sample):
    """Every API drawing leaves files in the upload folder; the sweep removes them."""
    from bench.client import rest_predict
    from bench.serve import running_app

    folder = tmp_path / "uploads"
    with (
        running_app("--keep-uploads", 3, env={"GRADIO_TEMP_DIR": str(folder)}) as (url, _),
        httpx.Client(timeout=60) as http,
    ):
        before = {p for p in folder.rglob("*") if p.is_file()}  # the page's examples, kept
        for i in range(10):
            value = as_upload(sketch_value(place_digit(sample["x_test"][i], 400, 0.6)), tmp_path, str(i))
            assert rest_predict(http, url, value)["label"] == str(sample["y_test"][i])
        uploaded = [p for p in folder.rglob("*") if p.is_file() and p not in before]
        assert len(uploaded) >= 30  # 3 PNGs a drawing
        deadline = time.time() + 15  # files older than 3 s go at the next sweep, every second
        while [p for p in uploaded if p.exists()] and time.time() < deadline:
            time.sleep(0.5)
        assert [p for p in folder.rglob("*") if p.is_file() and p in uploaded] == []
        assert before <= {p for p in folder.rglob("*") if p.is_file()}


def test_many_clients_correct_at_once_and_nothing_is_lost(app_url, corrections_file, sample, tmp_path):
    """Twelve plain-HTTP clients (each from its own address) send corrections at the same
    time; every one that says "kept" is in the SQLite file, and drawing goes on meanwhile."""
    from concurrent.futures import ThreadPoolExecutor

    from bench.client import call, client_from, rest_predict, sketch_files, visitor
    from demo.sqlite_store import Store

    before = len(Store(corrections_file).all()) if corrections_file.exists() else 0
    i = int(np.flatnonzero(sample["y_test"] == 3)[0])
    value = as_upload(sketch_value(place_digit(sample["x_test"][i], 300, 0.6)), tmp_path, "fix")

    def send(k):
        with client_from(visitor(k % 12)) as http:
            return call(http, app_url, "correct", [sketch_files(http, app_url, value), str(k % 10)])

    with ThreadPoolExecutor(12) as pool:
        results = list(pool.map(send, range(36)))
        with httpx.Client(timeout=60) as http:
            assert rest_predict(http, app_url, value)["label"] == "3"
    assert all(kind == "complete" for kind, _ in results), results
    kept = [out[0] for _, out in results]
    assert sum(k["kept"] for k in kept) == 36, kept
    rows = Store(corrections_file).all()[before:]
    assert sorted(r.label for r in rows) == sorted(k % 10 for k in range(36))
    assert all(r.source == "api" and r.predicted == 3 for r in rows)
    with httpx.Client(timeout=60) as http:
        kind, out = call(http, app_url, "correct", [sketch_files(http, app_url, value), "three"])
    assert kind == "complete" and out[0]["kept"] == 0 and out[0]["message"].startswith("Type the digits")
