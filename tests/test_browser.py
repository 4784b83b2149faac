"""A person at the page: Chromium opens the app, draws digits with the mouse, reads the Label."""
import math
import os
from pathlib import Path

import pytest
from playwright.sync_api import sync_playwright

from tests.conftest import ROOT

pytestmark = [pytest.mark.browser, pytest.mark.server]

CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
SHOTS = Path(os.environ.get("SCREENSHOTS", ROOT / "runs" / "screenshots"))
SEEN_SRC = "() => { const img = document.querySelector('#seen img'); return img ? img.src : null; }"
FLAGS = ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--disable-background-networking",
         "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-quic"]

# Strokes in canvas units (the canvas is 400x400), each a list of points for one mouse-down drag.
DIGITS = {
    "1": [[(200, 70), (200, 330)]],
    "7": [[(110, 90), (290, 90), (170, 330)]],
    "0": [[(200 + 90 * math.sin(t / 24 * 2 * math.pi), 200 - 130 * math.cos(t / 24 * 2 * math.pi))
           for t in range(25)]],
    "4": [[(230, 70), (100, 230), (300, 230)], [(240, 150), (240, 330)]],
}


@pytest.fixture(scope="module")
def page(app_url):
    if not os.access(CHROMIUM, os.X_OK):
        pytest.fail(f"No Chromium at {CHROMIUM}: install Debian's (`sudo apt-get install chromium`, as `bash .ci/run` "
                    "does) or set CHROMIUM to a Chromium binary.", pytrace=False)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=FLAGS)
        page = browser.new_page(viewport={"width": 1200, "height": 950})
        page.goto(app_url)
        page.locator("#sketchpad canvas").first.wait_for(state="visible", timeout=60_000)
        yield page
        browser.close()


def draw(page, strokes):
    """Mouse strokes on the drawable square, which the editor centres in its canvas element."""
    box = page.locator("#sketchpad canvas").first.bounding_box()
    side = min(box["width"], box["height"]) * 0.8       # the white square at the editor's zoom
    cx, cy = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2

    def at(x, y):
        return cx + (x / 400 - 0.5) * side, cy + (y / 400 - 0.5) * side

    for stroke in strokes:
        page.mouse.move(*at(*stroke[0]))
        page.mouse.down()
        for a, b in zip(stroke, stroke[1:]):
            for i in range(1, 9):
                page.mouse.move(*at(a[0] + (b[0] - a[0]) * i / 8, a[1] + (b[1] - a[1]) * i / 8))
        page.mouse.up()


def test_opens_ready_to_draw(page):
    assert page.locator('#sketchpad button[aria-label="Brush"]').count() == 1
    assert not page.get_by_text("select the draw tool to start").is_visible()


@pytest.mark.parametrize("digit", list(DIGITS))
def test_drawn_digit_is_read(page, digit):
    page.locator('#sketchpad button[aria-label="Clear canvas"]').click()
    page.wait_for_timeout(300)
    before = page.evaluate(SEEN_SRC)
    draw(page, DIGITS[digit])
    label = page.locator('[data-testid="label-output-value"]').first
    page.wait_for_function(
        "(d) => { const el = document.querySelector('[data-testid=\"label-output-value\"]');"
        " return el && el.innerText.trim() === d; }", arg=digit, timeout=30_000)
    assert label.inner_text().strip() == digit
    # the preview of the model's input shows this drawing (a new image, loaded), not the last one
    page.wait_for_function(f"(before) => {{ const src = ({SEEN_SRC})();"
                           " const img = document.querySelector('#seen img');"
                           " return src && src !== before && img.complete && img.naturalWidth > 0; }",
                           arg=before, timeout=30_000)
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"drawn-{digit}.png"))
