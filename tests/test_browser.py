"""A person at the page: Chromium opens the app, draws digits with the mouse, reads the Label."""
import math
import os
from pathlib import Path

import pytest
from playwright.sync_api import sync_playwright

from demo.ui import CANVAS_H, CANVAS_W
from tests.conftest import ROOT

pytestmark = [pytest.mark.browser, pytest.mark.server]

CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
SHOTS = Path(os.environ.get("SCREENSHOTS", ROOT / "runs" / "screenshots"))
SEEN_SRC = "() => { const img = document.querySelector('#seen img'); return img ? img.src : null; }"
FLAGS = ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--disable-background-networking",
         "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-quic"]

# Strokes in canvas units (the app's canvas, CANVAS_W x CANVAS_H), each a list of points for one drag,
# drawn 260 units tall and centred at x = `at`.
def shape(strokes, at=400):
    return [[(at + (x - 200) * 0.65, 20 + (y - 70) * 0.65 * 260 / 169) for x, y in stroke] for stroke in strokes]


DIGITS = {
    "1": [[(200, 70), (200, 330)]],
    "7": [[(110, 90), (290, 90), (170, 330)]],
    "0": [[(200 + 90 * math.sin(t / 24 * 2 * math.pi), 200 - 130 * math.cos(t / 24 * 2 * math.pi))
           for t in range(25)]],
    "4": [[(230, 70), (100, 230), (300, 230)], [(240, 150), (240, 330)]],
}
LABEL = "[data-testid=\"label-output-value\"]"


def open_page(browser, url, **context):
    page = browser.new_context(**context).new_page()
    page.goto(url)
    page.locator("#sketchpad canvas").first.wait_for(state="visible", timeout=60_000)
    return page


@pytest.fixture(scope="module")
def browser(app_url):
    if not os.access(CHROMIUM, os.X_OK):
        pytest.fail(f"No Chromium at {CHROMIUM}: install Debian's (`sudo apt-get install chromium`, as `bash .ci/run` "
                    "does) or set CHROMIUM to a Chromium binary.", pytrace=False)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=FLAGS)
        yield browser
        browser.close()


@pytest.fixture(scope="module")
def page(browser, app_url):
    return open_page(browser, app_url, viewport={"width": 1200, "height": 950})


@pytest.fixture(scope="module")
def phone(browser, app_url):
    return open_page(browser, app_url, viewport={"width": 390, "height": 844}, has_touch=True, is_mobile=True,
                     device_scale_factor=3)


def canvas_to_page(page):
    """Canvas units -> page pixels: the editor centres the canvas in its element at the zoom it shows."""
    box = page.locator("#sketchpad canvas").first.bounding_box()
    zoom = float(page.locator("#sketchpad .zoom-number").first.inner_text().strip().rstrip("%")) / 100
    cx, cy = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2
    return lambda x, y: (cx + (x - CANVAS_W / 2) * zoom, cy + (y - CANVAS_H / 2) * zoom)


def path(at, stroke, steps=8):
    for a, b in zip(stroke, stroke[1:]):
        for i in range(1, steps + 1):
            yield at(a[0] + (b[0] - a[0]) * i / steps, a[1] + (b[1] - a[1]) * i / steps)


def draw(page, strokes):
    """Mouse strokes."""
    at = canvas_to_page(page)
    for stroke in strokes:
        page.mouse.move(*at(*stroke[0]))
        page.mouse.down()
        for point in path(at, stroke):
            page.mouse.move(*point)
        page.mouse.up()


def touch(page, strokes):
    """Finger strokes, as a phone sends them (Chrome DevTools Protocol touch events)."""
    at = canvas_to_page(page)
    cdp = page.context.new_cdp_session(page)
    for stroke in strokes:
        x, y = at(*stroke[0])
        cdp.send("Input.dispatchTouchEvent", {"type": "touchStart", "touchPoints": [{"x": x, "y": y}]})
        for x, y in path(at, stroke):
            cdp.send("Input.dispatchTouchEvent", {"type": "touchMove", "touchPoints": [{"x": x, "y": y}]})
        cdp.send("Input.dispatchTouchEvent", {"type": "touchEnd", "touchPoints": []})


def clear(page):
    page.locator('#sketchpad button[aria-label="Clear canvas"]').click()
    page.wait_for_timeout(300)


def wait_for_label(page, text):
    page.wait_for_function(f"(d) => {{ const el = document.querySelector('{LABEL}');"
                           " return el && el.innerText.trim() === d; }", arg=text, timeout=30_000)
    return page.locator(LABEL).first


def test_opens_ready_to_draw(page):
    assert page.locator('#sketchpad button[aria-label="Brush"]').count() == 1
    assert not page.get_by_text("select the draw tool to start").is_visible()


@pytest.mark.parametrize("digit", list(DIGITS))
def test_drawn_digit_is_read(page, digit):
    clear(page)
    before = page.evaluate(SEEN_SRC)
    draw(page, shape(DIGITS[digit]))
    assert wait_for_label(page, digit).inner_text().strip() == digit
    # the preview of the model's input shows this drawing (a new image, loaded), not the last one
    page.wait_for_function(f"(before) => {{ const src = ({SEEN_SRC})();"
                           " const img = document.querySelector('#seen img');"
                           " return src && src !== before && img.complete && img.naturalWidth > 0; }",
                           arg=before, timeout=30_000)
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"drawn-{digit}.png"))


def test_a_written_number_is_read_whole(page):
    clear(page)
    draw(page, shape(DIGITS["4"], 160) + shape(DIGITS["0"], 400) + shape(DIGITS["7"], 640))
    wait_for_label(page, "407")
    assert page.locator("#seen img").count() == 3      # each digit's own 28x28 view
    page.screenshot(path=str(SHOTS / "number-desktop.png"))


def test_on_a_phone_the_canvas_fits_and_the_answer_shows_without_scrolling(phone):
    box = phone.locator("#sketchpad").first.bounding_box()
    assert box["x"] >= 0 and box["x"] + box["width"] <= 390
    touch(phone, shape(DIGITS["7"], 250) + shape(DIGITS["1"], 550))
    label = wait_for_label(phone, "71")
    answer = label.bounding_box()
    assert phone.evaluate("window.scrollY") == 0 and answer["y"] + answer["height"] <= 844
    clear(phone)                                    # Clear is one tap
    phone.wait_for_function(f"() => document.querySelector('{LABEL}') === null"
                            f" || document.querySelector('{LABEL}').innerText.trim() !== '71'", timeout=30_000)
    SHOTS.mkdir(parents=True, exist_ok=True)
    phone.screenshot(path=str(SHOTS / "number-phone.png"))
