"""Driving the app's page in Chromium as a person does: strokes on the pad with a mouse or a finger, the
answer read back. Shared by the browser tests and `bench.browser`."""

import math
import os

from demo.canvas import CANVAS_W

CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
FLAGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]


# Strokes in canvas units (the app's canvas, CANVAS_W x CANVAS_H), each a list of points for one drag,
# drawn 260 units tall and centred at x = `at`.
def shape(strokes, at=400):
    return [[(at + (x - 200) * 0.65, 20 + (y - 70) * 0.65 * 260 / 169) for x, y in stroke] for stroke in strokes]


DIGITS = {
    "1": [[(200, 70), (200, 330)]],
    "7": [[(110, 90), (290, 90), (170, 330)]],
    "0": [[(200 + 90 * math.sin(t / 12 * 2 * math.pi), 200 - 130 * math.cos(t / 12 * 2 * math.pi)) for t in range(13)]],
    "4": [[(230, 70), (100, 230), (300, 230)], [(240, 150), (240, 330)]],
}
ANSWER = "#pad .pad-answer"
CANVAS = "#pad canvas"


def open_page(browser, url, **context):
    page = browser.new_context(**context).new_page()
    page.goto(url)
    page.wait_for_selector('#pad[data-ready="true"], #pad [data-ready="true"]', state="attached", timeout=60_000)
    page.locator(CANVAS).wait_for(state="visible", timeout=60_000)
    settle(page)
    return page


def settle(page, timeout=10_000):
    """Wait until the pad stops moving (the page above it still laying out on a slow machine), so strokes
    computed from its box land where they were meant to."""
    page.wait_for_function(
        f"""() => {{ const b = document.querySelector('{CANVAS}').getBoundingClientRect();
        const now = [b.x, b.y, b.width, b.height, window.scrollY].join();
        const same = window.__padBox === now; window.__padBox = now; return same; }}""",
        polling=250,
        timeout=timeout,
    )


def units(page) -> tuple[int, int]:
    """The pad's size in canvas units: CANVAS_W x CANVAS_H on a desktop, narrower on a phone."""
    w, h = page.locator(CANVAS).get_attribute("data-units").split("x")
    return int(w), int(h)


def canvas_to_page(page):
    """Canvas units -> page pixels. Strokes are given for a CANVAS_W x CANVAS_H canvas and centred on the
    pad, which is as wide as the screen allows (a phone's is narrower)."""
    box = page.locator(CANVAS).bounding_box()
    w, h = units(page)
    scale = box["height"] / h
    return lambda x, y: (box["x"] + (x - (CANVAS_W - w) / 2) * scale, box["y"] + y * scale)


STEP = 12  # canvas units between pointer events: a quick hand at 60 events a second


def path(at, stroke):
    for a, b in zip(stroke, stroke[1:]):
        steps = max(1, math.ceil(math.dist(a, b) / STEP))
        for i in range(1, steps + 1):
            yield at(a[0] + (b[0] - a[0]) * i / steps, a[1] + (b[1] - a[1]) * i / steps)


def draw(page, strokes):
    """Mouse strokes."""
    settle(page)
    at = canvas_to_page(page)
    for stroke in strokes:
        page.mouse.move(*at(*stroke[0]))
        page.mouse.down()
        for point in path(at, stroke):
            page.mouse.move(*point)
        page.mouse.up()


def touch(page, strokes):
    """Finger strokes, as a phone sends them (Chrome DevTools Protocol touch events)."""
    settle(page)
    at = canvas_to_page(page)
    cdp = page.context.new_cdp_session(page)
    for stroke in strokes:
        x, y = at(*stroke[0])
        cdp.send("Input.dispatchTouchEvent", {"type": "touchStart", "touchPoints": [{"x": x, "y": y}]})
        for x, y in path(at, stroke):
            cdp.send("Input.dispatchTouchEvent", {"type": "touchMove", "touchPoints": [{"x": x, "y": y}]})
        cdp.send("Input.dispatchTouchEvent", {"type": "touchEnd", "touchPoints": []})


def clear(page):
    """One tap on Clear: the empty state shows at once."""
    page.locator("#pad .pad-clear").click()
    page.wait_for_function(f"() => document.querySelector('{ANSWER}').dataset.state === 'empty'", timeout=5_000)


def wait_for_answer(page, text, timeout=30_000):
    """The pad's answer (the number read) once it shows `text`; if it never does, the error says what the pad
    showed instead."""
    try:
        page.wait_for_function(
            f"(d) => {{ const el = document.querySelector('{ANSWER} .pad-number');"
            " return el && el.innerText.trim() === d; }",
            arg=text,
            timeout=timeout,
        )
    except Exception as error:
        shown = page.evaluate(
            f"""() => {{ const a = document.querySelector('{ANSWER}');
            return a ? `state=${{a.dataset.state}} text=${{a.innerText.trim().slice(0, 300)}}` : 'no answer'; }}"""
        )
        raise AssertionError(f"The pad never showed {text!r}; it showed: {shown}") from error
    return page.locator(f"{ANSWER} .pad-number")
