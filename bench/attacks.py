"""What one visitor of a public link can send, each as a function against a running app.

Every attack returns (what the app answered, whether that is the safe answer). `measured` runs one
while watching the app's peak memory and CPU; `normal_drawing` is the request that must still be
right afterwards. Used by bench/attack.py (the table) and tests/test_attacks.py (the floors).
Loopback only, every loop bounded in count and time.
"""

from __future__ import annotations

import base64
import contextlib
import os
import socket
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import numpy as np
from PIL import Image

from bench.client import FILE, call, client_from, pad_call, sketch_files, upload
from bench.drawing import FIXTURE, as_upload
from bench.hostile_files import biggest_png, heaviest_jpeg, jpeg_declaring, png
from bench.serve import rss_mb
from bench.target import answer_label, digit_value, normal_drawing, pad_ink
from demo.canvas import CANVAS_H, CANVAS_W
from demo.correct import SLOW_DOWN
from demo.number import TOO_SCATTERED
from demo.pad import PREFIX, png_payload
from demo.serving.fair import BUSY
from demo.serving.limits import RateLimit
from train.drawn import sketch_value

SCRIPT = "127.0.0.66"  # floods come from one address of their own


def pad_oversized(target):
    """A 10 MB payload to the pad's `read`: refused from its declared length, nothing read."""
    huge = {"png": PREFIX + "A" * (10 * 2**20)}
    out = pad_call(target.http, target.url, "read", huge)
    return f"HTTP {out.get('status', 200)}", out.get("status") == 413


def pad_malformed(target):
    """What a script can send instead of the pad's PNG: each gets a sentence, nothing else."""
    wide = np.zeros((CANVAS_H, CANVAS_W + 1, 4), np.uint8)
    sends = [
        None,
        "a string",
        [1, 2, 3],
        {"png": 7},
        {"png": "data:text/html;base64,PHA+"},
        {"png": PREFIX + "!!!not base64!!!"},
        {"png": PREFIX + base64.b64encode(b"not a png").decode()},
        {"png": PREFIX + base64.b64encode(png((12000, 12000), "1")).decode()},
        png_payload(wide),
        {"png": PREFIX + base64.b64encode(png((CANVAS_W, CANVAS_H))[:200]).decode()},
    ]
    said = [pad_call(target.http, target.url, "read", payload).get("message", "") for payload in sends]
    return " / ".join(sorted(set(said))), all(said) and len(said) == len(sends)


def pad_flood(target, n: int = 300, pages: bool = False):
    """n readings from one address as fast as it can send them, four at a time (each from a page of its
    own when `pages`): read in the address's fair turn, each answered with its digit or a sentence."""
    payload = png_payload(pad_ink(3))
    said: dict[str, int] = {}
    with client_from(SCRIPT, timeout=120) as http, ThreadPoolExecutor(4) as pool:
        outs = list(
            pool.map(
                lambda k: pad_call(http, target.url, "read", {**payload, "page": f"p{k}" if pages else ""}), range(n)
            )
        )
    for out in outs:
        key = out.get("number") or out.get("message") or ("dropped" if out.get("dropped") else str(out))
        said[key] = said.get(key, 0) + 1
    return ", ".join(f"{v} x {k[:40]}" for k, v in said.items()), set(said) <= {"3", BUSY, "dropped"}


def dotted_canvases(target, n: int = 4, dots: int = 12000):
    """n drawings of `dots` isolated dots at once, to /read_number and to the pad: each gets a sentence."""
    ink = np.zeros((CANVAS_H, CANVAS_W), np.float32)
    ys, xs = np.mgrid[0:CANVAS_H:2, 0:CANVAS_W:2]
    pick = np.random.default_rng(0).choice(ys.size, dots, replace=False)
    ink[ys.ravel()[pick], xs.ravel()[pick]] = 1.0
    value = as_upload(sketch_value(ink), target.tmp, "dots")
    rgba = sketch_value(ink)["layers"][0]
    files = sketch_files(target.http, target.url, value)
    with ThreadPoolExecutor(n) as pool:
        api = list(pool.map(lambda _: call(target.http, target.url, "read_number", [files]), range(n)))
        pad = list(pool.map(lambda k: pad_call(target.http, target.url, "read", png_payload(rgba, f"p{k}")), range(n)))
    said = {str(out[0].get("message")) for kind, out in api if kind == "complete"} | {p.get("message") for p in pad}
    return " / ".join(sorted(map(str, said))), said == {TOO_SCATTERED}


def thousand_layers(target):
    path = target.tmp / "tiny.png"
    path.write_bytes(png((64, 64), "LA", (0, 0)))
    f = upload(target.http, target.url, [str(path)])[0]
    kind, out = call(target.http, target.url, "predict", [{"background": f, "layers": [f] * 1000, "composite": f}])
    answer = answer_label(
        *call(target.http, target.url, "predict", [{"background": f, "layers": [f] * 50, "composite": f}])
    )
    refused = kind == "refused" and out.startswith("413")  # the body alone is past the queue's limit
    return f"1,000 layers: {out[:3]}; 50 layers: {answer}", refused and "at most 1 layer" in answer


def declared_huge_png(target):
    path = target.tmp / "8944.png"
    Image.new("1", (8944, 8944), 1).save(path)
    f = upload(target.http, target.url, [str(path)])[0]
    answer = answer_label(*call(target.http, target.url, "predict", [{"background": f, "layers": [f], "composite": f}]))
    return answer, "could not be read" in answer


def predict_image(target, path: Path) -> str:
    f = upload(target.http, target.url, [str(path)])[0]
    return answer_label(*call(target.http, target.url, "predict_image", [f]))


def progressive_jpeg(target):
    path = target.tmp / "progressive.jpg"
    path.write_bytes(jpeg_declaring(32000, progressive=True))
    answer = predict_image(target, path)
    return answer, "too large" in answer and "progressive" in answer


def huge_upload(target):
    try:
        status = target.http.post(
            target.url + "gradio_api/upload", files={"files": ("big.png", b"\0" * (200 * 2**20))}
        ).status_code
    except httpx.TransportError:
        status = 413
    return f"HTTP {status}", status == 413


def server_paths(target):
    """File records that point anywhere but the upload folder: one sentence for all, nothing opened."""
    fifo = target.tmp / "fifo"
    if not fifo.exists():
        os.mkfifo(fifo)
    paths = [
        "/etc/shadow",
        "/etc/passwd",
        "/nonexistent.png",
        str(fifo),
        "/dev/stdin",
        "/tmp/gradio/../../etc/passwd",
        str(FIXTURE),
    ]
    ours = {answer_label(*call(target.http, target.url, "predict_image", [{"path": p}])) for p in paths}
    # Tagged as Gradio file records, Gradio refuses them before our code runs: the same sentence, no traceback.
    gradios = {
        answer_label(*call(target.http, target.url, "predict_image", [{"path": p, "meta": FILE}])) for p in paths
    }
    ok = len(ours) == len(gradios) == 1 and all("not uploaded" in answer for answer in ours | gradios)
    return f"{' / '.join(sorted(ours))} (as Gradio file records: {' / '.join(sorted(gradios))})", ok


def queue_flood(target, jobs: int = 1500, seconds: float = 60):
    """1,500 events posted as fast as one client can: the queue takes a bounded number, refuses the rest."""
    drawing = [sketch_files(target.http, target.url, digit_value(target, name="flood"))]
    statuses, deadline = [], time.time() + seconds
    for _ in range(jobs):
        if time.time() > deadline:
            break
        statuses.append(target.http.post(f"{target.url}gradio_api/call/predict", json={"data": drawing}).status_code)
    refused = sum(s != 200 for s in statuses)
    return f"{len(statuses) - refused} queued, {refused} refused", 0 < refused and len(statuses) == jobs


def burst(target, clients: int = 8, each: int = 3) -> float:
    """The biggest accepted photos from several clients at once, drawings beside them; then the
    app's memory above where it started (MB), one second after the last answer."""
    files = [upload(target.http, target.url, [str(p)])[0] for p in (biggest_png(target.tmp), heaviest_jpeg(target.tmp))]
    normal_drawing(target)
    start = rss_mb(target.pid)

    def photos(f):
        with httpx.Client(timeout=120) as http:
            for _ in range(each):
                call(http, target.url, "predict_image", [f])

    threads = [threading.Thread(target=photos, args=(files[i % 2],)) for i in range(clients)]
    for t in threads:
        t.start()
    while any(t.is_alive() for t in threads):
        normal_drawing(target)
    for t in threads:
        t.join()
    time.sleep(1)
    return rss_mb(target.pid) - start


def heavy_in_flight(target, n: int = 10):
    """n of the heaviest accepted photos in flight from n clients while people draw."""
    path = heaviest_jpeg(target.tmp)
    answers, drawings = [], []

    def heavy():
        with httpx.Client(timeout=120) as http:
            try:
                f = upload(http, target.url, [str(path)])[0]
                answers.append(answer_label(*call(http, target.url, "predict_image", [f])))
            except httpx.HTTPError as e:
                answers.append(f"failed: {e}")

    threads = [threading.Thread(target=heavy) for _ in range(n)]
    for t in threads:
        t.start()
    time.sleep(0.5)
    while any(t.is_alive() for t in threads) and len(drawings) < 500:
        drawings.append(normal_drawing(target))
    for t in threads:
        t.join()
    worst = max(s for _, s in drawings)
    ok = all(right for right, _ in drawings) and worst < 2 and len(answers) == n
    return f"photos: {' / '.join(sorted(set(answers)))}; {len(drawings)} drawings, slowest {worst:.2f} s", ok


def correction_flood(target, n: int = 400, seconds: float = 60):
    """One client sends the same correction as fast as it can, each call a new session: the store keeps
    at most its address's share per minute, every other answer is a sentence, and drawing goes on."""
    value = sketch_files(target.http, target.url, digit_value(target))
    answers, deadline = [], time.time() + seconds
    with client_from(SCRIPT, timeout=120) as http:
        while len(answers) < n and time.time() < deadline:
            kind, out = call(http, target.url, "correct", [value, "3"])
            answers.append(out[0] if kind == "complete" else {"kept": 0, "message": f"{kind}: {out}"})
    kept = sum(a["kept"] for a in answers)
    said = {a["message"] for a in answers if not a["kept"]}
    ok = len(answers) == n and kept <= RateLimit().per_key and said == {SLOW_DOWN}
    return f"{kept} of {len(answers)} kept; the rest: {' / '.join(sorted(said))}", ok


@contextlib.contextmanager
def slow_connections(url: str, n: int):
    """n connections that send half a request and then nothing more; yields the open sockets."""
    port = int(url.rstrip("/").rsplit(":", 1)[1])
    socks = []
    try:
        for _ in range(n):
            try:
                s = socket.create_connection(("127.0.0.1", port), timeout=5)
                s.sendall(b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nX-a: ")
                socks.append(s)
            except OSError:
                break
        yield socks
    finally:
        for s in socks:
            s.close()


def slow_headers(target, n: int = 1100, hold: float = 10):
    """n slow-header connections held while people draw, each drawing on a new connection."""
    drawings, deadline = [], time.time() + hold
    with slow_connections(target.app or target.url, n) as socks:  # the app's own sockets, no front between
        while time.time() < deadline:
            with httpx.Client(timeout=30) as http:
                drawings.append(normal_drawing(target, http))
    worst = max(s for _, s in drawings)
    return (
        f"{len(socks)} held; {len(drawings)} drawings, slowest {worst:.2f} s",
        len(socks) == n and all(r for r, _ in drawings) and worst < 2,
    )


ATTACKS = {
    "pad: a 10 MB payload": pad_oversized,
    "pad: 10 malformed payloads (not PNG, bad base64, 12000 px, 801 px wide, cut short)": pad_malformed,
    "pad: 300 readings from one address, four at a time": pad_flood,
    "pad: 300 readings from one address, each from a page of its own": lambda t: pad_flood(t, pages=True),
    "/read_number and pad: 4 + 4 drawings of 12,000 dots at once": dotted_canvases,
    "/predict with one PNG as 1,000 layers (and as 50)": thousand_layers,
    "/predict with 3 PNGs declaring 8944x8944": declared_huge_png,
    "/predict_image: progressive JPEG declaring 32000x32000": progressive_jpeg,
    "200 MB to /gradio_api/upload": huge_upload,
    "/predict_image with server paths (/etc/shadow, FIFO, ..)": server_paths,
    "1,500 queued jobs from one client": queue_flood,
    "10 heaviest accepted photos in flight (29000 px JPEG)": heavy_in_flight,
    "1,100 slow-header connections, straight to the app": slow_headers,
    "400 corrections from one client, as fast as it can": correction_flood,
}
REQUESTS = {
    "pad: 10 malformed payloads (not PNG, bad base64, 12000 px, 801 px wide, cut short)": 10,
    "pad: 300 readings from one address, four at a time": 300,
    "pad: 300 readings from one address, each from a page of its own": 300,
    "/read_number and pad: 4 + 4 drawings of 12,000 dots at once": 8,
    "1,500 queued jobs from one client": 1500,
    "10 heaviest accepted photos in flight (29000 px JPEG)": 10,
    "/predict_image with server paths (/etc/shadow, FIFO, ..)": 14,
    "1,100 slow-header connections, straight to the app": 1100,
    "400 corrections from one client, as fast as it can": 400,
}
