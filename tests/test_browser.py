"""A person at the page: Chromium opens the app, draws digits with the mouse, reads the Label."""

import os
from pathlib import Path

import pytest
from playwright.sync_api import sync_playwright

from bench.pages import CHROMIUM, DIGITS, FLAGS, LABEL, clear, draw, open_page, shape, touch, wait_for_label
from demo.ui import EXAMPLES
from tests.conftest import ROOT

pytestmark = [pytest.mark.browser, pytest.mark.server]

SHOTS = Path(os.environ.get("SCREENSHOTS", ROOT / "runs" / "screenshots"))
SEEN_SRC = "() => { const img = document.querySelector('#seen img'); return img ? img.src : null; }"


@pytest.fixture(scope="module")
def browser(app_url):
    if not os.access(CHROMIUM, os.X_OK):
        pytest.fail(
            f"No Chromium at {CHROMIUM}: install Debian's (`sudo apt-get install chromium`, as `bash .ci/run` "
            "does) or set CHROMIUM to a Chromium binary.",
            pytrace=False,
        )
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=FLAGS)
        yield browser
        browser.close()


@pytest.fixture(scope="module")
def page(browser, app_url):
    return open_page(browser, app_url, viewport={"width": 1200, "height": 950})


@pytest.fixture(scope="module")
def phone(browser, app_url):
    return open_page(
        browser, app_url, viewport={"width": 390, "height": 844}, has_touch=True, is_mobile=True, device_scale_factor=3
    )


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
    page.wait_for_function(
        f"(before) => {{ const src = ({SEEN_SRC})();"
        " const img = document.querySelector('#seen img');"
        " return src && src !== before && img.complete && img.naturalWidth > 0; }",
        arg=before,
        timeout=30_000,
    )
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"drawn-{digit}.png"))


def test_a_written_number_is_read_whole(page):
    clear(page)
    draw(page, shape(DIGITS["4"], 160) + shape(DIGITS["0"], 400) + shape(DIGITS["7"], 640))
    wait_for_label(page, "407")
    assert page.locator("#seen img").count() == 3  # each digit's own 28x28 view
    page.get_by_role("button", name="Why did it read that?").first.click()
    page.locator("#why img").nth(2).wait_for(state="visible", timeout=30_000)  # one explanation per digit
    assert "strokes that made it read 7" in page.locator("#why").inner_text()
    # The editor can send the same drawing once more after the label is shown; that must not clear it.
    page.wait_for_timeout(2000)
    assert page.locator("#why img").count() == 3
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / "number-desktop.png"))


def test_wrong_it_was_keeps_the_correction(page, corrections_file):
    """A person draws a 1, says it was a 7 with one tap, and the SQLite file holds that digit."""
    from demo.correction_store import Store

    before = len(Store(corrections_file).all())
    clear(page)
    draw(page, shape(DIGITS["1"]))
    wait_for_label(page, "1")
    assert "Nothing about you" in page.locator("#kept").inner_text()
    page.locator("#correct").get_by_role("button", name="7", exact=True).click()
    page.wait_for_function("() => document.querySelector('#said').innerText.includes('kept 7')", timeout=30_000)
    rows = Store(corrections_file).all()[before:]
    assert [(r.predicted, r.label, r.source) for r in rows] == [(1, 7, "page")]
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / "corrected.png"), full_page=True)


def test_a_wrong_photo_can_be_corrected_on_the_upload_tab(page, corrections_file):
    """A person uploads a photo of a 7, says with one tap that it was a 1, and that digit is kept."""
    from demo.correction_store import Store

    before = len(Store(corrections_file).all())
    page.get_by_role("tab", name="Upload").click()
    page.locator('#photo input[type="file"]').set_input_files(str(EXAMPLES / "7-blue-pen-on-squared-paper.png"))
    page.wait_for_function(
        f"() => {{ const el = document.querySelector('#photo-answer {LABEL}');"
        " return el && el.innerText.trim() === '7'; }",
        timeout=30_000,
    )
    page.locator("#correct-photo").get_by_role("button", name="1", exact=True).click()
    page.wait_for_function("() => document.querySelector('#said-photo').innerText.includes('kept 1')", timeout=30_000)
    rows = Store(corrections_file).all()[before:]
    assert [(r.predicted, r.label, r.source) for r in rows] == [(7, 1, "page")]
    assert rows[0].seen.shape == (28, 28) and rows[0].seen.max() > 0.5  # what the model read, kept
    page.get_by_role("tab", name="Draw").click()


def test_on_a_phone_the_canvas_fits_and_the_answer_shows_without_scrolling(phone):
    box = phone.locator("#sketchpad").first.bounding_box()
    assert box["x"] >= 0 and box["x"] + box["width"] <= 390
    touch(phone, shape(DIGITS["7"], 250) + shape(DIGITS["1"], 550))
    label = wait_for_label(phone, "71")
    answer = label.bounding_box()
    assert phone.evaluate("window.scrollY") == 0 and answer["y"] + answer["height"] <= 844
    SHOTS.mkdir(parents=True, exist_ok=True)
    phone.screenshot(path=str(SHOTS / "number-phone.png"))
    clear(phone)  # Clear is one tap
    gone = f"() => {{ const el = document.querySelector('{LABEL}'); return !el || el.innerText.trim() !== '71'; }}"
    phone.wait_for_function(gone, timeout=30_000)
    # and stays gone: a change the editor sends late with the old drawing is read as the empty canvas
    assert phone.evaluate("window.digitInkSinceClear") is False
    phone.wait_for_timeout(2000)
    assert phone.evaluate(gone)
