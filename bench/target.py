"""The app under attack: how a bench or a test talks to it (its HTTP API, its pad's calls,
a real drawing) and measures it (peak memory and CPU of its process, from /proc)."""

from __future__ import annotations

import os
import time
from dataclasses import dataclass
from pathlib import Path

import httpx
import numpy as np

from bench.client import call, pad_call, sketch_files
from bench.drawing import FIXTURE, as_upload
from bench.serve import rss_mb
from demo.pad import png_payload
from train.drawn import pad_rgba, place_digit, sketch_value


@dataclass
class Target:
    url: str
    pid: int
    http: httpx.Client
    tmp: Path
    app: str = ""  # the app's own address when `url` is a front in front of it


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


def pad_ink(digit: int = 3) -> np.ndarray:
    """A real MNIST digit on the pad's canvas, as the pad sends it: black ink on transparent, RGBA."""
    with np.load(FIXTURE) as f:
        return pad_rgba(f["x_test"][int(np.flatnonzero(f["y_test"] == digit)[0])])


def pad_drawing(target: Target, page: str = "bench") -> str:
    """A real 3 sent the way the page sends it: one PNG to the pad's `read`. The number, or what was said."""
    out = pad_call(target.http, target.url, "read", png_payload(pad_ink(3), page))
    return str(out.get("number") or out.get("message") or out)


def answer_label(kind, out) -> str:
    return str(out[0]["label"]) if kind == "complete" else f"{kind}: {out}"
