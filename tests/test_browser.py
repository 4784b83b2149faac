"""A person at the page: Chromium opens the app, writes on the pad with a mouse or a finger, reads the
answer, undoes, clears, asks why, corrects; a late answer never lands on a newer drawing."""

import os
from pathlib import Path

import pytest
from playwright.sync_api import sync_playwright

from bench.pages import ANSWER, CANVAS, CHROMIUM, DIGITS, FLAGS, clear, draw, open_page, shape, touch, wait_for_answer
from demo.ui import EXAMPLES
from tests.conftest import ROOT

pytestmark = [pytest.mark.browser, pytest.mark.server]

SHOTS = Path(os.environ.get("SCREENSHOTS", ROOT / "runs" / "screenshots"))
SEEN_SRC = "() => { const img = document.querySelector('#seen img'); return img ? img.src : null; }"
LABEL = '[data-testid="label-output-value"]'
STATE = f"() => document.querySelector('{ANSWER}').dataset.state"
NUMBER = f"() => document.querySelector('{ANSWER} .pad-number').innerText.trim()"


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
    assert page.evaluate(STATE) == "empty"
    assert page.get_by_text("Write a digit or a number here").is_visible()
    assert page.locator(CANVAS).get_attribute("data-units") == "800x300"
    assert page.locator(CANVAS).evaluate("c => getComputedStyle(c).touchAction") == "none"


@pytest.mark.parametrize("digit", list(DIGITS))
def test_drawn_digit_is_read(page, digit):
    clear(page)
    before = page.evaluate(SEEN_SRC)
    draw(page, shape(DIGITS[digit]))
    wait_for_answer(page, digit)
    assert page.locator(f"{ANSWER} .pad-bar").count() == 3  # the top 3 with their confidences
    assert page.locator(f"{ANSWER} .pad-bar-label").first.inner_text() == digit
    # the preview of the model's input shows this drawing (a new image, loaded), not the last one
    page.wait_for_function(
        f"(before) => {{ const src = ({SEEN_SRC})();"
        " const img = document.querySelector('#seen img');"
        " return src && src !== before && img.complete && img.naturalWidth > 0; }",
        arg=before,
        timeout=30_000,
    )
    assert not page.get_by_text("Write a digit or a number here").is_visible()
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"drawn-{digit}.png"))


def test_a_written_number_is_read_whole_and_explained(page):
    clear(page)
    draw(page, shape(DIGITS["4"], 160) + shape(DIGITS["0"], 400) + shape(DIGITS["7"], 640))
    wait_for_answer(page, "407")
    assert page.locator("#seen img").count() == 3  # each digit's own 28x28 view
    page.get_by_role("button", name="Why did it read that?").click()
    page.locator("#why img").nth(2).wait_for(state="visible", timeout=30_000)  # one explanation per digit
    assert "strokes that made it read 7" in page.locator("#why").inner_text()
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / "number-desktop.png"))
    draw(page, shape(DIGITS["1"], 760))  # a new stroke: the explanation was of the old drawing
    assert page.locator("#why img").count() == 0
    wait_for_answer(page, "4071")


def test_undo_takes_back_the_last_stroke_and_clear_empties_at_once(page):
    clear(page)
    draw(page, shape(DIGITS["7"], 250) + shape(DIGITS["1"], 550))
    wait_for_answer(page, "71")
    page.get_by_role("button", name="Undo").click()
    wait_for_answer(page, "7")
    page.locator("#pad .pad-clear").click()
    assert page.evaluate(STATE) == "empty" and page.evaluate(NUMBER) == ""  # no wait: at once
    page.get_by_role("button", name="Undo").click()  # undo on an empty pad stays empty
    assert page.evaluate(STATE) == "empty"


def held_read(page):
    """Holds the next of the pad's readings until released (later ones go through):
    (the held routes, release)."""
    held = []
    page.route("**/gradio_api/pad/read", lambda route: route.continue_() if held else held.append(route))

    def release():
        assert len(held) == 1
        for route in held:
            with page.expect_response("**/gradio_api/pad/read"):
                route.continue_()
        page.unroute("**/gradio_api/pad/read")
        page.evaluate("() => new Promise(r => setTimeout(r, 50))")  # its answer handled by the page

    return held, release


def test_a_late_answer_never_overwrites_a_clear(page):
    clear(page)
    held, release = held_read(page)
    draw(page, shape(DIGITS["1"]))
    assert page.evaluate(STATE) == "reading"
    clear(page)
    release()  # the answer for the 1 arrives after the clear
    assert page.evaluate(STATE) == "empty" and page.evaluate(NUMBER) == ""


def test_a_late_answer_never_overwrites_a_newer_drawing(page):
    clear(page)
    held, release = held_read(page)
    draw(page, shape(DIGITS["7"], 250))
    draw(page, shape(DIGITS["1"], 550))  # answered at once
    wait_for_answer(page, "71")
    release()  # now the first stroke's answer, "7", comes in
    assert page.evaluate(NUMBER) == "71"


def test_wrong_it_was_keeps_the_correction(page, corrections_file):
    """A person draws a 1, says it was a 7 with one tap, and the SQLite file holds that digit; then a
    number, typed whole."""
    from demo.sqlite_store import Store

    before = len(Store(corrections_file).all())
    clear(page)
    draw(page, shape(DIGITS["1"]))
    wait_for_answer(page, "1")
    assert "never the address itself" in page.locator("#kept").inner_text()  # what is kept of the person
    page.locator("#correct").get_by_role("button", name="7", exact=True).click()
    page.wait_for_function("() => document.querySelector('#said').innerText.includes('kept 7')", timeout=30_000)
    clear(page)
    draw(page, shape(DIGITS["4"], 250) + shape(DIGITS["0"], 550))
    wait_for_answer(page, "40")
    page.locator("#typed").fill("49")
    page.get_by_role("button", name="Keep").click()
    page.wait_for_function("() => document.querySelector('#said').innerText.includes('kept 49')", timeout=30_000)
    rows = Store(corrections_file).all()[before:]
    assert [(r.predicted, r.label, r.source) for r in rows] == [(1, 7, "page"), (4, 4, "page"), (0, 9, "page")]
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / "corrected.png"), full_page=True)


def test_a_wrong_photo_can_be_corrected_on_the_upload_tab(page, corrections_file):
    """A person uploads a photo of a 7, says with one tap that it was a 1, and that digit is kept."""
    from demo.sqlite_store import Store

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


def test_on_a_phone_the_pad_fills_the_width_and_the_answer_shows_while_writing(phone):
    box = phone.locator(CANVAS).bounding_box()
    assert box["x"] >= 0 and box["x"] + box["width"] <= 390 and box["width"] >= 0.75 * 390
    assert box["height"] >= 160  # room for a finger to write a number (the Sketchpad's strip was 99 px)
    cx, cy = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2
    assert phone.evaluate(f"() => document.elementFromPoint({cx}, {cy}).tagName") == "CANVAS"  # nothing over it
    # sharp at 3x: the backing store follows the box (pad.js's ResizeObserver, which runs after a late reflow)
    phone.wait_for_function(
        f"() => {{ const c = document.querySelector('{CANVAS}');"
        " return c.width === Math.round(c.getBoundingClientRect().width * 3); }",
        timeout=5_000,
    )
    touch(phone, shape(DIGITS["7"], 250) + shape(DIGITS["1"], 550))
    answer = wait_for_answer(phone, "71").bounding_box()
    assert phone.evaluate("window.scrollY") == 0 and answer["y"] + answer["height"] <= 844
    SHOTS.mkdir(parents=True, exist_ok=True)
    phone.screenshot(path=str(SHOTS / "number-phone.png"))
    phone.locator("#pad .pad-clear").tap()  # Clear is one tap; the click a tap makes follows its touchend
    phone.wait_for_function(f"() => ({STATE})() === 'empty'", timeout=500)


def test_dark_theme_draws_light_ink_on_dark_paper(browser, app_url):
    dark = open_page(browser, app_url + "?__theme=dark", viewport={"width": 1200, "height": 950})
    ink, paper = dark.locator(CANVAS).evaluate("c => [getComputedStyle(c).color, getComputedStyle(c).backgroundColor]")
    brightness = lambda css: sum(int(v) for v in css[css.index("(") + 1 : css.index(")")].split(",")[:3])
    assert brightness(ink) > 384 > brightness(paper), (ink, paper)
    draw(dark, shape(DIGITS["7"]))
    wait_for_answer(dark, "7")
    dark.context.close()
