"""The app under attack: how a bench or a test talks to it (its HTTP API, its Sketchpad's blob
endpoint, a real drawing) and measures it (peak memory and CPU of its process, from /proc)."""

from __future__ import annotations

import os
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

import httpx
import numpy as np

from bench.client import call, sketch_files
from bench.drawing import FIXTURE, as_upload, place_digit, sketch_value
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
    return Measured(
        answer, ok, seconds, peak_rss_mb(target.pid) - start_rss, (cpu_seconds(target.pid) - start_cpu) / requests
    )


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
    for kind, path in (
        ("background", value["background"]["path"]),
        ("layer", value["layers"][0]["path"]),
        ("composite", value["composite"]["path"]),
    ):
        status = send_blob(target, Path(path).read_bytes(), kind=kind, drawing=drawing)
        if status != 200:
            return f"blob refused: HTTP {status}"
    return answer_label(
        *call(
            target.http, target.url, "predict", [{"id": drawing, "background": None, "layers": [], "composite": None}]
        )
    )


def answer_label(kind, out) -> str:
    return str(out[0]["label"]) if kind == "complete" else f"{kind}: {out}"


def _sketchpad(target: Target) -> int:
    if target.url not in _SKETCHPAD:
        config = target.http.get(target.url + "config").json()
        _SKETCHPAD[target.url] = next(
            c["id"] for c in config["components"] if c.get("props", {}).get("elem_id") == "sketchpad"
        )
    return _SKETCHPAD[target.url]


_SKETCHPAD: dict[str, int] = {}


def send_blob(target: Target, blob: bytes, index="0", kind="layer", drawing=None) -> int:
    form = {
        "session_hash": uuid.uuid4().hex[:10],
        "component_id": str(_sketchpad(target)),
        "fn_name": "accept_blobs",
        "id": drawing or uuid.uuid4().hex,
        "type": kind,
        "index": index,
    }
    try:
        return target.http.post(
            target.url + "gradio_api/component_server", data=form, files={"file": ("blob", blob, "image/png")}
        ).status_code
    except httpx.TransportError:  # the server may close the connection on an oversized body
        return 413
