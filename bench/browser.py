"""Pen-up to answer in a real Chromium: `python -m bench.browser [--n 20]`

The app and the bare-Gradio floor (`bench/floor_app.py`: the same Sketchpad -> Label, a handler that
does no work) are started side by side in one run and driven the same way: a one-stroke digit drawn
with the mouse, the time from the pen's lift to the Label showing the new answer, measured inside the
page (`performance.now()` at `pointerup` and at the Label's change, seen by a MutationObserver). Where
the time goes comes from the page's own Resource Timing: pen-up to the first request (the front end
turning the canvas into PNGs), the uploads, and the queue call to the Label.
"""

from __future__ import annotations

import argparse

import numpy as np
from playwright.sync_api import sync_playwright

from bench.pages import CHROMIUM, DIGITS, FLAGS, clear, draw, open_page, shape
from bench.report import machine, publish, table
from bench.serve import running_app

WATCH = """() => {
  window.__marks = {up: [], label: []};
  document.addEventListener('pointerup', () => window.__marks.up.push(performance.now()), true);
  let last = null;
  const answer = document.querySelector('#answer');
  new MutationObserver(() => {
    const el = answer.querySelector('[data-testid="label-output-value"]');
    const text = el ? el.textContent.trim() : null;
    if (text !== last) { last = text; window.__marks.label.push([performance.now(), text]); }
  }).observe(answer, {subtree: true, childList: true, characterData: true});
}"""
RESOURCES = """() => performance.getEntriesByType('resource').filter(e => e.name.includes('/gradio_api/'))
  .map(e => [e.name.split('/gradio_api/')[1].split('?')[0], e.startTime, e.responseEnd])"""
ONE_STROKE = ["1", "7", "0"]


def measure(url: str, n: int, browser) -> list[dict]:
    """n drawings on one page, cleared between them: pen-up -> Label change, and the page's requests
    in between. (The editor gets slower as its history grows: keep n small, see BENCHMARKS.md.)"""
    page = open_page(browser, url, viewport={"width": 1200, "height": 950})
    page.locator('#sketchpad button[aria-label="Brush"]').first.click()
    page.evaluate(WATCH)
    out = []
    for k in range(n):
        before = page.evaluate("window.__marks.label.length")
        clear(page)  # the clear's own answer arrives first
        page.wait_for_function(f"() => window.__marks.label.length > {before}", timeout=30_000)
        page.locator('#sketchpad button[aria-label="Brush"]').first.click()
        seen = page.evaluate("window.__marks.label.length")
        page.evaluate("performance.clearResourceTimings()")
        draw(page, shape(DIGITS[ONE_STROKE[k % len(ONE_STROKE)]]))
        page.wait_for_function(f"() => window.__marks.label.length > {seen}", timeout=30_000)
        page.wait_for_timeout(300)  # let the request entries settle
        up = page.evaluate("window.__marks.up[window.__marks.up.length - 1]")
        label_at = page.evaluate(f"window.__marks.label[{seen}][0]")
        requests = [r for r in page.evaluate(RESOURCES) if r[1] >= up]
        first = min((r[1] for r in requests), default=label_at)
        join = min((r[1] for r in requests if r[0].startswith("queue/join")), default=first)
        out.append(
            {
                "total": label_at - up,
                "front end": first - up,
                "uploads": join - first,
                "queue call to label": label_at - join,
            }
        )
    page.context.close()
    return out


def pct(values: list[float], q: float) -> str:
    return f"{np.percentile(values, q):.0f}"


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--n", type=int, default=3, help="drawings per app")
    p.add_argument("--no-write", action="store_true", help="print only, leave BENCHMARKS.md alone")
    args = p.parse_args(argv)
    runs = {}
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=FLAGS)
        with running_app() as (url, _):
            runs["the app"] = measure(url, args.n, browser)
        with running_app(program=("-m", "bench.floor_app")) as (url, _):
            runs["Gradio floor (no work)"] = measure(url, args.n, browser)
        browser.close()
    rows = []
    for part in ("total", "front end", "uploads", "queue call to label"):
        rows.append(
            (part, *(f"{pct([r[part] for r in runs[a]], 50)} / {pct([r[part] for r in runs[a]], 95)}" for a in runs))
        )
    body = (
        f"`python -m bench.browser --n {args.n}` on {machine()}, headless Chromium, the app and the floor "
        "started one after the other in one run. Pen-up to the Label's new answer, ms p50 / p95, measured "
        "inside the page, and where it goes (the page's Resource Timing): the front end turning the canvas "
        "into images before its first request, the uploads of those images, and the queue call until the "
        "Label changes (the server's work, the answer's stream and the render).\n\n"
        + table(["pen-up to answer", *runs], rows)
    )
    publish("Browser", body, write=not args.no_write)
    return runs


if __name__ == "__main__":
    main()
