"""What you write is what it reads, on every screen: Chromium at desktop, tablet and phone sizes writes a
round 0 on the pad, and the model's own 28x28 view of it keeps the proportions it was drawn with; a window
resized mid-drawing keeps the ink; a pen whose capture is lost does not lock the pad."""

import base64
import io

import numpy as np
import pytest
from PIL import Image, ImageDraw
from playwright.sync_api import sync_playwright

from bench.pages import CANVAS, CHROMIUM, DIGITS, FLAGS, draw, open_page, shape, units, wait_for_answer
from demo.canvas import BRUSH, CANVAS_H, CANVAS_W

pytestmark = [pytest.mark.browser, pytest.mark.server]

SCREENS = {  # CSS px of the window; phones and tablets as their browsers report them
    "desktop 1280": dict(viewport={"width": 1280, "height": 800}),
    "desktop 1920": dict(viewport={"width": 1920, "height": 1080}),
    "desktop 2560": dict(viewport={"width": 2560, "height": 1440}),
    "tablet landscape": dict(viewport={"width": 1024, "height": 768}, has_touch=True, device_scale_factor=2),
    "tablet portrait": dict(viewport={"width": 768, "height": 1024}, has_touch=True, device_scale_factor=2),
    "phone portrait": dict(
        viewport={"width": 390, "height": 844}, has_touch=True, is_mobile=True, device_scale_factor=3
    ),
    "phone landscape": dict(
        viewport={"width": 844, "height": 390}, has_touch=True, is_mobile=True, device_scale_factor=3
    ),
}
SEEN_SRC = "() => document.querySelector('#seen img').src"


@pytest.fixture(scope="module")
def browser(app_url):
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=FLAGS)
        yield browser
        browser.close()


def aspect(seen: np.ndarray) -> float:
    """Width over height of the ink in a 28x28 view."""
    ys, xs = np.nonzero(seen > 0.15)
    return (xs.max() - xs.min() + 1) / (ys.max() - ys.min() + 1)


def seen_from_src(src: str) -> np.ndarray:
    """The page's enlarged 28x28 view (a data: URL) -> the 28x28 floats the model read."""
    big = np.asarray(Image.open(io.BytesIO(base64.b64decode(src.split(",", 1)[1]))).convert("L"), np.float32)
    return big[:: big.shape[0] // 28, :: big.shape[1] // 28] / 255.0


@pytest.fixture(scope="module")
def zero_as_drawn(classifier):
    """The 0 the tests draw, painted straight onto the canvas in canvas units with the pad's brush (no
    screen in between), and the aspect of the model's view of it: what every screen should give."""
    img = Image.new("L", (CANVAS_W, CANVAS_H), 0)
    for stroke in shape(DIGITS["0"]):
        ImageDraw.Draw(img).line(stroke, fill=255, width=BRUSH, joint="curve")
    seen = classifier.read_number(np.asarray(img)).digits[0].prediction.seen
    return aspect(seen)


@pytest.mark.parametrize("screen", list(SCREENS))
def test_a_round_zero_reaches_the_model_round_on_every_screen(browser, app_url, screen, zero_as_drawn):
    page = open_page(browser, app_url, **SCREENS[screen])
    page.locator(CANVAS).scroll_into_view_if_needed()
    box = page.locator(CANVAS).bounding_box()
    assert box["y"] >= 0 and box["y"] + box["height"] <= SCREENS[screen]["viewport"]["height"] + 1  # all of it in sight
    w, h = units(page)
    assert abs(box["width"] / box["height"] - w / h) < 0.01, (box, w, h)  # one scale for x and y: round pens
    assert box["x"] >= 0 and box["x"] + box["width"] <= SCREENS[screen]["viewport"]["width"]
    draw(page, shape(DIGITS["0"]))
    wait_for_answer(page, "0")
    got = aspect(seen_from_src(page.evaluate(SEEN_SRC)))
    assert abs(got - zero_as_drawn) < 0.08, (screen, got, zero_as_drawn)
    page.context.close()


def test_a_window_narrowed_mid_drawing_keeps_the_ink_and_reads_it_again(browser, app_url):
    page = open_page(browser, app_url, viewport={"width": 1280, "height": 900})
    draw(page, shape(DIGITS["7"], 250) + shape(DIGITS["1"], 650))
    wait_for_answer(page, "71")
    page.set_viewport_size({"width": 600, "height": 900})  # past the phone breakpoint: a narrower pad
    page.wait_for_function(f"() => document.querySelector('{CANVAS}').dataset.units !== '{CANVAS_W}x{CANVAS_H}'")
    assert units(page)[0] < CANVAS_W
    assert page.locator("#pad .pad").evaluate("el => el.classList.contains('pad-inked')")
    wait_for_answer(page, "71")  # the 1 was moved in from beyond the new edge and both read again
    page.set_viewport_size({"width": 1280, "height": 900})
    page.wait_for_function(f"() => document.querySelector('{CANVAS}').dataset.units === '{CANVAS_W}x{CANVAS_H}'")
    draw(page, shape(DIGITS["4"], 700))
    wait_for_answer(page, "714")
    page.context.close()


def test_a_pen_whose_capture_is_lost_mid_stroke_does_not_lock_the_pad(browser, app_url):
    page = open_page(browser, app_url, viewport={"width": 1280, "height": 900})
    remember = "(e) => { window.pen = e.pointerId; }"
    page.evaluate(f"() => document.querySelector('{CANVAS}').addEventListener('pointerdown', {remember})")
    box = page.locator(CANVAS).bounding_box()
    page.mouse.move(box["x"] + 300, box["y"] + 60)
    page.mouse.down()
    page.mouse.move(box["x"] + 300, box["y"] + 150, steps=5)
    page.evaluate(f"() => document.querySelector('{CANVAS}').releasePointerCapture(window.pen)")  # a system gesture
    page.mouse.move(5, 5, steps=3)  # the pen is lifted outside the pad, where the canvas no longer hears it
    page.mouse.up()
    page.locator("#pad .pad-clear").click()
    draw(page, shape(DIGITS["7"]))
    wait_for_answer(page, "7")
    page.context.close()
