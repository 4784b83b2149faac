"""Pen-up to answer in a real Chromium: `python -m bench.browser [--n 20] [--round-trip 0.1]`

Four pages are started side by side in one run and driven the same way: the app's pad, the pad's floor
(`bench/floor_app.py --pad`: the same page, calls that do no work) and Gradio's Sketchpad
floor (`bench/floor_app.py`: a bare Sketchpad -> Label, the path the app took until 2026-12). Each gets
one-stroke digits with the mouse on a desktop and with a finger on a 390x844 phone screen, with no
network delay and through `bench.delay_proxy` at a round trip a shared link has. The time is taken inside
the page: `performance.now()` at the pen's lift and at the answer's arrival (the pad's `pad-answer`
event; the Label's change, seen by a MutationObserver).
"""

from __future__ import annotations

import argparse

import numpy as np
from playwright.sync_api import sync_playwright

from bench.delay_proxy import delayed
from bench.pages import CHROMIUM, DIGITS, FLAGS, clear, draw, open_page, path, shape, touch
from bench.report import machine, publish, table
from bench.serve import running_app
from demo.canvas import CANVAS_H, CANVAS_W

PAD_WATCH = """() => {
  window.__marks = {up: [], answer: []};
  document.querySelector('#pad canvas').addEventListener('pointerup', () => window.__marks.up.push(performance.now()));
  document.querySelector('#pad .pad').parentElement.closest('[id]').addEventListener('pad-answer',
    () => window.__marks.answer.push(performance.now()), true);
}"""
SKETCH_WATCH = """() => {
  window.__marks = {up: [], answer: []};
  document.addEventListener('pointerup', () => window.__marks.up.push(performance.now()), true);
  let last = null;
  const answer = document.querySelector('#answer');
  new MutationObserver(() => {
    const el = answer.querySelector('[data-testid="label-output-value"]');
    const text = el ? el.textContent.trim() : null;
    if (text !== last) { last = text; window.__marks.answer.push(performance.now()); }
  }).observe(answer, {subtree: true, childList: true, characterData: true});
}"""
ONE_STROKE = ["1", "7", "0"]
DESKTOP = {"viewport": {"width": 1200, "height": 950}}
PHONE = {"viewport": {"width": 390, "height": 844}, "has_touch": True, "is_mobile": True, "device_scale_factor": 3}


def sketch_at(page):
    """Canvas units -> page pixels on Gradio's Sketchpad, which shows its canvas centred at a zoom."""
    box = page.locator("#sketchpad canvas").first.bounding_box()
    zoom = float(page.locator("#sketchpad .zoom-number").first.inner_text().strip().rstrip("%")) / 100
    cx, cy = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2
    return lambda x, y: (cx + (x - CANVAS_W / 2) * zoom, cy + (y - CANVAS_H / 2) * zoom)


def sketch_stroke(page, stroke, finger: bool):
    at = sketch_at(page)
    if finger:
        cdp = page.context.new_cdp_session(page)
        x, y = at(*stroke[0])
        cdp.send("Input.dispatchTouchEvent", {"type": "touchStart", "touchPoints": [{"x": x, "y": y}]})
        for x, y in path(at, stroke):
            cdp.send("Input.dispatchTouchEvent", {"type": "touchMove", "touchPoints": [{"x": x, "y": y}]})
        cdp.send("Input.dispatchTouchEvent", {"type": "touchEnd", "touchPoints": []})
        return
    page.mouse.move(*at(*stroke[0]))
    page.mouse.down()
    for point in path(at, stroke):
        page.mouse.move(*point)
    page.mouse.up()


def measure(url: str, n: int, browser, sketchpad: bool, phone: bool) -> list[float]:
    """n one-stroke digits on one page, cleared between them: ms from pen-up to the answer."""
    page = browser.new_context(**(PHONE if phone else DESKTOP)).new_page()
    if sketchpad:
        page.goto(url)
        page.locator('#sketchpad button[aria-label="Brush"]').first.click(timeout=60_000)
    else:
        page.close()
        page = open_page(browser, url, **(PHONE if phone else DESKTOP))
    page.evaluate(SKETCH_WATCH if sketchpad else PAD_WATCH)
    out = []
    for k in range(n):
        if sketchpad:
            before = page.evaluate("window.__marks.answer.length")
            page.locator('#sketchpad button[aria-label="Clear canvas"]').click()
            page.wait_for_function(f"() => window.__marks.answer.length > {before}", timeout=30_000)
            page.locator('#sketchpad button[aria-label="Brush"]').first.click()
        else:
            clear(page)
        seen = page.evaluate("window.__marks.answer.length")
        stroke = shape(DIGITS[ONE_STROKE[k % len(ONE_STROKE)]])
        if sketchpad:
            sketch_stroke(page, stroke[0], phone)
        else:
            (touch if phone else draw)(page, stroke)
        page.wait_for_function(f"() => window.__marks.answer.length > {seen}", timeout=30_000)
        up = page.evaluate("window.__marks.up[window.__marks.up.length - 1]")
        out.append(page.evaluate(f"window.__marks.answer[{seen}]") - up)
    page.context.close()
    return out


def summary(values: list[float]) -> str:
    """p50 / p90 with 20 or more samples; p50 / max with fewer (a p95 of ten samples is their maximum)."""
    tail = f"{np.percentile(values, 90):.0f}" if len(values) >= 20 else f"{max(values):.0f} max"
    return f"{np.percentile(values, 50):.0f} / {tail}"


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--n", type=int, default=10, help="drawings per page and setting")
    p.add_argument(
        "--sketchpad-n", type=int, default=6, help="drawings on the Sketchpad floor (its editor slows as they pile up)"
    )
    p.add_argument("--round-trip", type=float, default=0.1, help="seconds the delaying proxy adds per round trip")
    p.add_argument("--no-write", action="store_true", help="print only, leave BENCHMARKS.md alone")
    args = p.parse_args(argv)
    pages = {
        "the app's pad": (("app.py",), False),
        "pad floor (no work)": (("-m", "bench.floor_app", "--pad"), False),
        "Gradio Sketchpad floor (no work)": (("-m", "bench.floor_app"), True),
    }
    settings = [
        (f"{where}, {delay}", phone, rt)
        for where, phone in (("desktop mouse", False), ("phone touch", True))
        for delay, rt in (("no delay", 0.0), (f"{args.round_trip * 1000:.0f} ms round trip", args.round_trip))
    ]
    runs: dict[str, dict[str, list[float]]] = {name: {} for name in pages}
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=FLAGS)
        for name, (program, sketchpad) in pages.items():
            n = args.sketchpad_n if sketchpad else args.n
            with running_app(program=program) as (url, _):
                for label, phone, rt in settings:
                    if rt:
                        with delayed(url, rt) as slow:
                            runs[name][label] = measure(slow, n, browser, sketchpad, phone)
                    else:
                        runs[name][label] = measure(url, n, browser, sketchpad, phone)
                    print(name, label, summary(runs[name][label]), flush=True)
        browser.close()
    rows = [(label, *(summary(runs[name][label]) for name in pages)) for label, _, _ in settings]
    body = (
        f"`python -m bench.browser --n {args.n} --sketchpad-n {args.sketchpad_n} --round-trip {args.round_trip}` on "
        f"{machine()}, headless Chromium, the three pages started one after the other in one run. Pen-up to the "
        f"answer on the page, ms, p50 / p90 (p50 / max under 20 drawings: {args.n} per setting on the pads, "
        f"{args.sketchpad_n} on the Sketchpad), one-stroke digits; the round trip is added by "
        "`bench.delay_proxy` between the browser and the server.\n\n" + table(["pen-up to answer", *pages], rows)
    )
    publish("Browser", body, write=not args.no_write)
    return runs


if __name__ == "__main__":
    main()
