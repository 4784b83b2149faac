"""What one visitor of a public link can send, each as a function against a running app.

Every attack returns (what the app answered, whether that is the safe answer). `measured` runs one
while watching the app's peak memory and CPU; `normal_drawing` is the request that must still be
right afterwards. Used by bench/attack.py (the table) and tests/test_attacks.py (the floors).
Loopback only, every loop bounded in count and time.
"""

from __future__ import annotations

import contextlib
import io
import os
import socket
import threading
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

import httpx
import numpy as np
from PIL import Image

from bench.client import FILE, call, sketch_files, upload
from bench.drawing import FIXTURE, as_upload, place_digit, sketch_value
from bench.hostile_files import biggest_png, heaviest_jpeg, jpeg_declaring, png
from bench.serve import rss_mb


@dataclass
class Target:
    url: str
    pid: int
    http: httpx.Client
    tmp: Path


@dataclass
class Measured:
    answer: str
    ok: bool
    seconds: float
    peak_mb: float  # the app's peak resident memory during the attack, above where it started
    cpu_s: float  # the app's CPU time (all threads) during the attack, per request sent


def cpu_seconds(pid: int) -> float:
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def peak_rss_mb(pid: int) -> float:
    with open(f"/proc/{pid}/status") as f:
        return next(int(line.split()[1]) / 1024 for line in f if line.startswith("VmHWM:"))


def measured(target: Target, attack, requests: int = 1) -> Measured:
    with open(f"/proc/{target.pid}/clear_refs", "w") as f:
        f.write("5")  # peak RSS := current RSS
    start_rss, start_cpu, t = rss_mb(target.pid), cpu_seconds(target.pid), time.perf_counter()
    answer, ok = attack(target)
    seconds = time.perf_counter() - t
    return Measured(answer, ok, seconds, peak_rss_mb(target.pid) - start_rss,
                    (cpu_seconds(target.pid) - start_cpu) / requests)


def digit_value(target: Target, digit: int = 3, name: str = "normal") -> dict:
    with np.load(FIXTURE) as f:
        i = int(np.flatnonzero(f["y_test"] == digit)[0])
        ink = place_digit(f["x_test"][i], 400, 0.6)
    return as_upload(sketch_value(ink), target.tmp, name)


def normal_drawing(target: Target, http: httpx.Client | None = None) -> tuple[bool, float]:
    """A real 3 drawn on the canvas, through the HTTP API: (read right, seconds)."""
    t = time.perf_counter()
    http = http or target.http
    kind, out = call(http, target.url, "predict", [sketch_files(http, target.url, digit_value(target))])
    return kind == "complete" and out[0].get("label") == "3", time.perf_counter() - t


def page_drawing(target: Target) -> str:
    """A real 3 sent the way the page sends it: canvas blobs to the Sketchpad, then the event with
    the drawing's id (no upload, nothing written to disk). The label, or what went wrong."""
    value, drawing = digit_value(target, name="page"), uuid.uuid4().hex
    for kind, path in (("background", value["background"]["path"]), ("layer", value["layers"][0]["path"]),
                       ("composite", value["composite"]["path"])):
        status = _send_blob(target, Path(path).read_bytes(), kind=kind, drawing=drawing)
        if status != 200:
            return f"blob refused: HTTP {status}"
    return _label(*call(target.http, target.url, "predict",
                        [{"id": drawing, "background": None, "layers": [], "composite": None}]))


def _label(kind, out) -> str:
    return str(out[0]["label"]) if kind == "complete" else f"{kind}: {out}"


def _sketchpad(target: Target) -> int:
    if target.url not in _SKETCHPAD:
        config = target.http.get(target.url + "config").json()
        _SKETCHPAD[target.url] = next(c["id"] for c in config["components"]
                                      if c.get("props", {}).get("elem_id") == "sketchpad")
    return _SKETCHPAD[target.url]


_SKETCHPAD: dict[str, int] = {}


def _send_blob(target: Target, blob: bytes, index="0", kind="layer", drawing=None) -> int:
    form = {"session_hash": uuid.uuid4().hex[:10], "component_id": str(_sketchpad(target)),
            "fn_name": "accept_blobs", "id": drawing or uuid.uuid4().hex, "type": kind, "index": index}
    try:
        return target.http.post(target.url + "gradio_api/component_server", data=form,
                                files={"file": ("blob", blob, "image/png")}).status_code
    except httpx.TransportError:  # the server may close the connection on an oversized body
        return 413


def blob_index(target):
    status = _send_blob(target, png(), index="300000000")
    return f"HTTP {status}", status == 400


def blob_flood(target):
    """20 blobs of 10 MB, then 1,000 valid ones of 0.6 MB, each a new drawing and session: refused or bounded."""
    big = [_send_blob(target, os.urandom(10 * 2**20)) for _ in range(20)]
    noise = Image.fromarray(np.random.default_rng(0).integers(0, 256, (400, 400, 4), dtype=np.uint8))
    buf = io.BytesIO()
    noise.save(buf, format="PNG")
    small = [_send_blob(target, buf.getvalue()) for _ in range(1000)]
    return (f"10 MB: HTTP {sorted(set(big))}; 1,000 x {len(buf.getvalue()) / 2**20:.1f} MB: HTTP {sorted(set(small))}",
            all(s in (400, 413) for s in big) and set(small) == {200})


def thousand_layers(target):
    path = target.tmp / "tiny.png"
    path.write_bytes(png((64, 64), "LA", (0, 0)))
    f = upload(target.http, target.url, [str(path)])[0]
    answer = _label(*call(target.http, target.url, "predict",
                          [{"background": f, "layers": [f] * 1000, "composite": f}]))
    return answer, "at most 1 layer" in answer


def declared_huge_png(target):
    path = target.tmp / "8944.png"
    Image.new("1", (8944, 8944), 1).save(path)
    f = upload(target.http, target.url, [str(path)])[0]
    answer = _label(*call(target.http, target.url, "predict", [{"background": f, "layers": [f], "composite": f}]))
    return answer, "could not be read" in answer


def predict_image(target, path: Path) -> str:
    f = upload(target.http, target.url, [str(path)])[0]
    return _label(*call(target.http, target.url, "predict_image", [f]))


def progressive_jpeg(target):
    path = target.tmp / "progressive.jpg"
    path.write_bytes(jpeg_declaring(32000, progressive=True))
    answer = predict_image(target, path)
    return answer, "too large" in answer and "progressive" in answer


def huge_upload(target):
    try:
        status = target.http.post(target.url + "gradio_api/upload",
                                  files={"files": ("big.png", b"\0" * (200 * 2**20))}).status_code
    except httpx.TransportError:
        status = 413
    return f"HTTP {status}", status == 413


def server_paths(target):
    """File records that point anywhere but the upload folder: one sentence for all, nothing opened."""
    fifo = target.tmp / "fifo"
    if not fifo.exists():
        os.mkfifo(fifo)
    paths = ["/etc/shadow", "/etc/passwd", "/nonexistent.png", str(fifo), "/dev/stdin",
             "/tmp/gradio/../../etc/passwd", str(FIXTURE)]
    ours = {_label(*call(target.http, target.url, "predict_image", [{"path": p}])) for p in paths}
    # Tagged as Gradio file records, Gradio itself refuses them first, with an error that says nothing.
    gradios = {_label(*call(target.http, target.url, "predict_image", [{"path": p, "meta": FILE}])) for p in paths}
    ok = len(ours) == 1 and "not uploaded" in next(iter(ours)) and len(gradios) == 1
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
                answers.append(_label(*call(http, target.url, "predict_image", [f])))
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
    with slow_connections(target.url, n) as socks:
        while time.time() < deadline:
            with httpx.Client(timeout=30) as http:
                drawings.append(normal_drawing(target, http))
    worst = max(s for _, s in drawings)
    return (f"{len(socks)} held; {len(drawings)} drawings, slowest {worst:.2f} s",
            len(socks) == n and all(r for r, _ in drawings) and worst < 2)


ATTACKS = {
    "Sketchpad blob with layer index 300,000,000": blob_index,
    "Sketchpad blobs: 20 x 10 MB, then 1,000 x 0.6 MB": blob_flood,
    "/predict with one PNG as 1,000 layers": thousand_layers,
    "/predict with 3 PNGs declaring 8944x8944": declared_huge_png,
    "/predict_image: progressive JPEG declaring 32000x32000": progressive_jpeg,
    "200 MB to /gradio_api/upload": huge_upload,
    "/predict_image with server paths (/etc/shadow, FIFO, ..)": server_paths,
    "1,500 queued jobs from one client": queue_flood,
    "10 heaviest accepted photos in flight (29000 px JPEG)": heavy_in_flight,
    "1,100 slow-header connections, straight to the app": slow_headers,
}
REQUESTS = {"Sketchpad blobs: 20 x 10 MB, then 1,000 x 0.6 MB": 1020, "1,500 queued jobs from one client": 1500,
            "10 heaviest accepted photos in flight (29000 px JPEG)": 10,
            "/predict_image with server paths (/etc/shadow, FIFO, ..)": 14,
            "1,100 slow-header connections, straight to the app": 1100}
