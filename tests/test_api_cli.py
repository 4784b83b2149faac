"""The Python API and `python -m demo.predict`: real digit files, one bad file, no TensorFlow."""

import json
import subprocess
import sys

import numpy as np
import pytest
from PIL import Image

from demo.preprocess import BadImage
from tests.conftest import ROOT


@pytest.fixture(scope="module")
def digit_files(sample, tmp_path_factory):
    """Real test digits saved the ways people save them: dark on white, white on black, colour, big."""
    folder = tmp_path_factory.mktemp("digits")
    files = []
    for i in range(12):
        d, label = sample["x_test"][i], int(sample["y_test"][i])
        img = Image.fromarray(d).resize((28 * (i % 4 + 1),) * 2, Image.Resampling.BILINEAR)
        if i % 3 == 0:
            img = Image.fromarray(255 - np.asarray(img))  # pencil on paper
        elif i % 3 == 1:
            img = Image.merge("RGB", (img, img, Image.new("L", img.size, 0)))  # yellow on black
        path = folder / f"{i:02d}-label{label}.png"
        img.save(path)
        files.append((path, label))
    return files


def test_api_single_and_batch(classifier, digit_files):
    one = classifier.predict(str(digit_files[0][0]), k=3)
    assert one.digit == digit_files[0][1] and len(one.top) == 3 and one.seen.shape == (28, 28)
    assert one.confidence == one.top[0][1] and abs(one.probabilities.sum() - 1) < 1e-4
    many = classifier.predict([Image.open(p) for p, _ in digit_files], k=2)
    assert [p.digit for p in many] == [label for _, label in digit_files]
    assert classifier.predict([]) == []


def test_api_names_a_bad_file(classifier, tmp_path):
    bad = tmp_path / "notes.png"
    bad.write_text("not an image")
    with pytest.raises(BadImage, match="notes.png is not an image"):
        classifier.predict(str(bad))


def cli(*args):
    code = (
        "import runpy, sys\n"
        "sys.argv = ['demo.predict', *sys.argv[1:]]\n"
        "try:\n    runpy.run_module('demo.predict', run_name='__main__')\n"
        "finally:\n"
        "    assert not [m for m in sys.modules if m.split('.')[0] in ('tensorflow', 'keras')], 'TF imported'\n"
    )
    return subprocess.run(
        [sys.executable, "-c", code, *map(str, args)], cwd=ROOT, capture_output=True, text=True, timeout=120
    )


def test_cli_lines_json_and_a_failing_file(digit_files, tmp_path):
    bad = tmp_path / "truncated.png"
    bad.write_bytes(digit_files[0][0].read_bytes()[:60])
    paths = [p for p, _ in digit_files[:4]]
    result = cli(*paths, bad, "--top-k", "2")
    assert result.returncode == 1, result.stderr
    lines = result.stdout.strip().splitlines()
    assert [line.split(": ")[1].split(" ")[0] for line in lines] == [str(label) for _, label in digit_files[:4]]
    assert "truncated.png is not an image that can be read" in result.stderr and "Traceback" not in result.stderr

    as_json = cli(*paths, "--json")
    assert as_json.returncode == 0, as_json.stderr
    doc = json.loads(as_json.stdout)
    assert [r["top"][0]["digit"] for r in doc] == [label for _, label in digit_files[:4]]
    assert all(len(r["top"]) == 3 for r in doc)
