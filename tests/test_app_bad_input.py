"""Through the real API: whatever arrives gets a short message or a prediction, never an error,
and the next normal request still works."""

import io

import numpy as np
import pytest
from gradio_client import Client, handle_file
from PIL import Image

from bench.drawing import as_upload
from train.drawn import place_digit, sketch_value

pytestmark = pytest.mark.server


@pytest.fixture(scope="module")
def client(app_url):
    return Client(app_url, verbose=False)


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    d = tmp_path_factory.mktemp("bad")
    png = io.BytesIO()
    Image.new("L", (64, 64), 255).save(png, format="PNG")
    (d / "truncated.png").write_bytes(png.getvalue()[:40])
    (d / "text.png").write_text("I am a text file with a .png name")
    Image.new("RGB", (1, 1), (255, 255, 255)).save(d / "one-pixel.png")
    Image.fromarray(np.random.default_rng(0).integers(0, 256, (200, 200, 3), dtype=np.uint8)).save(d / "noise.png")
    Image.new("1", (12000, 12000), 1).save(d / "bomb.png")
    return d


def test_12000_px_photo_of_a_digit(client, sample, tmp_path):
    i = int(np.flatnonzero(sample["y_test"] == 4)[0])
    photo = tmp_path / "camera.jpg"  # 144 million pixels, as a big camera writes them: a few MB of JPEG
    Image.fromarray(255 - sample["x_test"][i]).resize((12000, 12000), Image.Resampling.BILINEAR).save(photo)
    assert client.predict(handle_file(str(photo)), api_name="/predict_image")["label"] == "4"
    assert_reads_a_digit(client, sample, tmp_path)


def assert_message(result, *words):
    assert isinstance(result, dict) and not result.get("confidences"), result
    assert any(w in result["label"] for w in words), result["label"]


def assert_reads_a_digit(client, sample, tmp_path):
    i = int(np.flatnonzero(sample["y_test"] == 3)[0])
    result = client.predict(
        as_upload(sketch_value(place_digit(sample["x_test"][i], 400, 0.6)), tmp_path, "ok"), api_name="/predict"
    )
    assert result["label"] == "3", result


@pytest.mark.parametrize(
    "ink,words",
    [
        (np.zeros((400, 400), np.float32), ["Draw a digit"]),
        (np.ones((400, 400), np.float32), ["ink almost everywhere"]),
        (np.pad(np.ones((20, 20), np.float32), 190), ["dot or a blot"]),
        (
            np.random.default_rng(1).random((400, 400)).astype(np.float32),
            ["ink almost everywhere", "noise", "blot", "too thick"],
        ),
    ],
)
def test_bad_canvases(client, sample, tmp_path, ink, words):
    assert_message(client.predict(as_upload(sketch_value(ink), tmp_path, "bad"), api_name="/predict"), *words)
    assert_reads_a_digit(client, sample, tmp_path)


def test_sketch_with_no_composite_and_broken_layers(client, sample, tmp_path, files):
    value = as_upload(sketch_value(place_digit(sample["x_test"][0], 400, 0.6)), tmp_path, "nocomp")
    value["composite"] = None
    assert client.predict(value, api_name="/predict")["label"] == str(sample["y_test"][0])
    broken = {"background": None, "layers": [handle_file(str(files / "text.png"))], "composite": None}
    assert_message(client.predict(broken, api_name="/predict"), "drawing could not be read")
    assert_reads_a_digit(client, sample, tmp_path)


@pytest.mark.parametrize(
    "name,words",
    [
        ("truncated.png", ["not an image that can be read"]),
        ("text.png", ["not an image that can be read"]),
        ("one-pixel.png", ["Draw a digit"]),
        ("noise.png", ["noise", "ink almost everywhere"]),
        ("bomb.png", ["too large"]),
    ],
)
def test_bad_uploads(client, sample, tmp_path, files, name, words):
    assert_message(client.predict(handle_file(str(files / name)), api_name="/predict_image"), *words)
    assert_reads_a_digit(client, sample, tmp_path)
