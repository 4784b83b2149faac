"""The drawing -> model input pipeline, on canvases drawn the many ways people draw."""

import numpy as np
import pytest
from PIL import Image

from demo.contract import INPUT_SHAPE
from demo.preprocess import EmptyDrawing, center_digit, prepare, sketch_ink
from train.drawn import place_digit, sketch_value, stroke_digit


def geometry(digit):
    """(height, width) of the ink's box and its centre of mass, in the 28x28 digit."""
    mask = digit > 0.1
    rows, cols = np.flatnonzero(mask.any(1)), np.flatnonzero(mask.any(0))
    total = digit.sum()
    com = ((digit.sum(1) @ np.arange(28)) / total, (digit.sum(0) @ np.arange(28)) / total)
    return rows[-1] - rows[0] + 1, cols[-1] - cols[0] + 1, com


SEVEN = [(110, 100), (290, 100), (170, 320)]


@pytest.mark.parametrize(
    "name,ink",
    [
        ("centred", stroke_digit(SEVEN)),
        ("off-centre", stroke_digit([(x - 90, y - 70) for x, y in SEVEN])),
        ("tiny", stroke_digit([(300 + x / 8, 300 + y / 8) for x, y in SEVEN], width=4)),
        ("huge", stroke_digit([(x * 1.9 - 200, y * 1.8 - 170) for x, y in SEVEN], width=40)),
        ("thick", stroke_digit(SEVEN, width=70)),
        ("thin", stroke_digit(SEVEN, width=3)),
    ],
)
def test_any_seven_lands_in_mnist_geometry(name, ink):
    x, digit = prepare(sketch_value(ink))
    assert x.shape == (1, *INPUT_SHAPE) and x.dtype == np.float32
    assert 0.0 <= x.min() and x.max() == pytest.approx(1.0)
    h, w, (cy, cx) = geometry(digit)
    assert max(h, w) in (20, 21), f"{name}: longer side {max(h, w)} px, MNIST uses 20"
    assert abs(cy - 14) <= 0.5 and abs(cx - 14) <= 0.5, f"{name}: centre of mass at {cy:.1f}, {cx:.1f}"


def test_fine_and_fat_pens_are_brought_towards_mnists_pen():
    def ink_share(width):  # fraction of the 28x28 digit that is solid ink
        return (prepare(sketch_value(stroke_digit(SEVEN, width=width)))[1] > 0.5).mean()

    normal = ink_share(28)
    assert 0.07 < normal < 0.13  # MNIST's own digits: about a tenth of the square
    assert ink_share(3) > 0.8 * normal  # a 3 px pen on a canvas hundreds of px tall would all but vanish
    assert ink_share(110) < 2.2 * normal  # a 110 px brush fills the 7's box unless narrowed


def test_same_drawing_anywhere_at_any_size_gives_the_same_input():
    a = prepare(sketch_value(stroke_digit(SEVEN)))[1]
    b = prepare(sketch_value(stroke_digit([(x * 0.5 + 5, y * 0.5 + 190) for x, y in SEVEN], width=14)))[1]
    assert np.corrcoef(a.ravel(), b.ravel())[0, 1] > 0.9


def test_transparent_layer_and_opaque_composite_agree():
    ink = stroke_digit(SEVEN)
    layered = prepare(sketch_value(ink))[1]
    flattened = prepare(sketch_value(ink, opaque_layer=True))[1]  # only the white composite
    assert np.abs(layered - flattened).max() < 0.05


def test_coloured_ink_and_light_on_dark_photo_read_like_black_on_white():
    ink = stroke_digit(SEVEN)
    reference = prepare(sketch_value(ink))[1]
    coloured = prepare(sketch_value(ink, color=(230, 200, 0), opaque_layer=True))[1]  # yellow on white
    inverted = prepare(((1 - ink) * 255).astype(np.uint8)[..., None].repeat(3, 2) ^ 255)[1]  # white on black RGB
    assert np.abs(coloured - reference).max() < 0.1
    assert np.abs(inverted - reference).max() < 0.05


def test_pil_image_and_file_path_inputs(tmp_path):
    ink = stroke_digit(SEVEN)
    img = Image.fromarray(((1 - ink) * 255).astype(np.uint8), mode="L")
    img.save(tmp_path / "seven.png")
    a = prepare(img)[1]
    b = prepare(str(tmp_path / "seven.png"))[1]
    assert np.array_equal(a, b) and a.max() == pytest.approx(1.0)


@pytest.mark.parametrize(
    "value",
    [
        None,
        {"background": None, "layers": [], "composite": None},
        sketch_value(np.zeros((400, 400), np.float32)),
        sketch_value(np.zeros((400, 400), np.float32), opaque_layer=True),
        np.full((50, 50, 3), 255, np.uint8),
    ],
)
def test_empty_canvas_asks_for_a_drawing(value):
    with pytest.raises(EmptyDrawing, match="Draw a digit"):
        prepare(value)


def test_none_composite_falls_back_to_layers():
    value = sketch_value(stroke_digit(SEVEN))
    value["composite"] = None
    assert sketch_ink(value).max() == pytest.approx(1.0)


def test_real_mnist_digit_round_trips_close_to_itself(sample):
    """A real test digit drawn big and off-centre comes back close to the original MNIST image."""
    corr = [
        np.corrcoef(center_digit(place_digit(d, canvas=400, height=0.7, center=(0.3, 0.6))).ravel(), d.ravel())[0, 1]
        for d in sample["x_test"][:50]
    ]
    # unrelated digits correlate ~0.3; the few thin MNIST digits come back a little thicker
    assert np.mean(corr) > 0.95 and np.percentile(corr, 10) > 0.9 and min(corr) > 0.7


def scan_of(digit28: np.ndarray, margin: int) -> np.ndarray:
    """A real digit, dark ink on white paper (a photo or scan), inside a transparent margin."""
    paper = 255 - place_digit(digit28, 200, 0.6) * 255
    rgba = np.zeros((200 + 2 * margin, 200 + 2 * margin, 4), np.uint8)
    rgba[margin : margin + 200, margin : margin + 200, :3] = paper[..., None].astype(np.uint8)
    rgba[margin : margin + 200, margin : margin + 200, 3] = 255
    return rgba


def test_a_scan_with_a_transparent_margin_reads_as_the_same_scan_opaque(classifier, sample):
    """The opaque paper inside a transparent margin is paper, not ink (it used to read 'ink almost everywhere')."""
    for i in range(5):
        digit, label = sample["x_test"][i], int(sample["y_test"][i])
        framed, opaque = scan_of(digit, 40), scan_of(digit, 0)
        assert classifier.predict(framed).digit == classifier.predict(opaque).digit == label
        assert np.allclose(prepare(framed)[1], prepare(opaque[..., :3])[1], atol=0.05)


def test_boolean_and_zero_one_masks_read_as_the_digit(classifier, sample):
    """A mask of the digit (True/1 = ink) is a drawing, not an empty canvas."""
    for i in range(5):
        mask = place_digit(sample["x_test"][i], 200, 0.6) > 0.5
        label = int(sample["y_test"][i])
        assert classifier.predict(mask).digit == label
        assert classifier.predict(mask.astype(np.uint8)).digit == label
