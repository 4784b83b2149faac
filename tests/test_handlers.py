"""The page's and the API's handlers, called in-process on real digits: every outcome is a Label
value, a preview and a sentence; nothing raises, and photos are opened only from the upload folder."""

import numpy as np
import pytest
from PIL import Image

from demo.classifier import Prediction
from demo.components import NOT_UPLOADED
from demo.correct import Corrector
from demo.handlers import NO_PHOTO, UNSURE, Reader, correct_photo, verdict
from demo.sqlite_store import Store
from train.drawn import place_digit, sketch_value


@pytest.fixture(scope="module")
def reader(classifier):
    return Reader(classifier, top_k=3)


def test_a_drawn_digit_gets_its_label_preview_and_sentence(reader, sample):
    for i in range(10):
        label, preview, sentence = reader.drawing(sketch_value(place_digit(sample["x_test"][i], 400, 0.6)))
        truth = str(sample["y_test"][i])
        assert next(iter(label)) == truth and len(label) == 3
        assert preview.startswith('<img src="data:image/png;base64,')
        assert sentence.startswith(f"**{truth}**") or sentence.startswith("**Not sure")


def test_the_sentence_says_not_sure_below_the_threshold():
    labels = [str(d) for d in range(10)]
    sure = Prediction.from_probabilities(np.array([0.01] * 7 + [0.93, 0.0, 0.0]), None, k=3)
    unsure = Prediction.from_probabilities(np.array([0.0] * 7 + [UNSURE - 0.01, 0.0, 0.41]), None, k=3)
    assert verdict(sure, labels) == "**7** (93.0%)"
    assert verdict(unsure, labels) == "**Not sure: 7 or 9?** (59% vs 41%). Try a larger, clearer digit."


@pytest.mark.parametrize(
    "value,words",
    [
        (sketch_value(np.zeros((400, 400), np.float32)), "Draw a digit"),
        ({"unreadable": "The drawing could not be read (x)."}, "could not be read"),
        (np.array([["a"]]), "Expected a greyscale"),
    ],
)
def test_what_cannot_be_read_gets_a_sentence(reader, value, words):
    label, preview, sentence = reader.drawing(value)
    assert words in sentence and label == sentence and preview is None


def test_photos_only_from_the_upload_folder(reader, sample, tmp_path, monkeypatch):
    monkeypatch.setenv("GRADIO_TEMP_DIR", str(tmp_path / "uploads"))
    (tmp_path / "uploads").mkdir()
    i = int(np.flatnonzero(sample["y_test"] == 4)[0])
    photo = tmp_path / "uploads" / "four.png"
    Image.fromarray(255 - sample["x_test"][i]).resize((300, 300)).save(photo)
    assert next(iter(reader.photo({"path": str(photo)})[0])) == "4"
    outside = tmp_path / "four.png"
    Image.fromarray(255 - sample["x_test"][i]).save(outside)
    for path in (str(outside), "/etc/passwd"):
        assert reader.photo({"path": path}) == (NOT_UPLOADED, None, NOT_UPLOADED)


def test_a_photo_correction_opens_only_uploads_and_keeps_one_digit(classifier, sample, tmp_path, monkeypatch):
    monkeypatch.setenv("GRADIO_TEMP_DIR", str(tmp_path / "uploads"))
    (tmp_path / "uploads").mkdir()
    store = Store(tmp_path / "corrections.sqlite")
    corrector = Corrector(classifier, store)
    i = int(np.flatnonzero(sample["y_test"] == 4)[0])
    photo = tmp_path / "uploads" / "four.png"
    Image.fromarray(255 - sample["x_test"][i]).resize((300, 300)).save(photo)
    assert "kept 9" in correct_photo(corrector, {"path": str(photo)}, 9, "someone")
    assert [(r.predicted, r.label) for r in store.all()] == [(4, 9)]
    assert correct_photo(corrector, None, 9) == NO_PHOTO
    assert correct_photo(corrector, {"path": "/etc/passwd"}, 9) == NOT_UPLOADED
    assert len(store.all()) == 1


def test_why_explains_each_digit_of_a_drawing_and_the_photo_as_its_answer_read_it(
    reader, sample, tmp_path, monkeypatch
):
    """The Draw tab explains each digit it read; the Upload tab explains the one digit its answer is."""
    seven = sketch_value(place_digit(sample["x_test"][0], 400, 0.6))
    digit = str(sample["y_test"][0])
    assert reader.why(seven).count("<img") == 1 and f"made it read {digit}" in reader.why(seven)
    assert reader.why(sketch_value(np.zeros((400, 400), np.uint8))).startswith("<p>Draw")
    monkeypatch.setenv("GRADIO_TEMP_DIR", str(tmp_path / "uploads"))
    (tmp_path / "uploads").mkdir()
    photo = tmp_path / "uploads" / "wide.png"  # two digits side by side: the number path would explain two
    i, j = int(np.flatnonzero(sample["y_test"] == 4)[0]), int(np.flatnonzero(sample["y_test"] == 7)[0])
    pair = np.concatenate([sample["x_test"][i], sample["x_test"][j]], axis=1)
    Image.fromarray(255 - pair).resize((600, 300)).save(photo)
    answer = next(iter(reader.photo({"path": str(photo)})[0]))
    html = reader.why_photo({"path": str(photo)})
    assert html.count("<img") == 1 and f"made it read {answer}" in html
    assert "not uploaded" in reader.why_photo({"path": "/etc/passwd"})
