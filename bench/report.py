"""Benchmarks print a markdown table and keep it in BENCHMARKS.md under their own heading."""

import platform
import re
from pathlib import Path

import numpy as np

from demo.fileio import write_text

HEADER = (
    "# Benchmarks\n\nMeasured on this project's CI-class machine; each section is rewritten by the script "
    "named in it.\n"
)
BENCHMARKS = Path(__file__).resolve().parent.parent / "BENCHMARKS.md"


def table(header, rows):
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(str(c) for c in row) + " |" for row in rows]
    return "\n".join(lines)


def machine():
    import os

    return f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}"


def publish(section, body, write=True):
    """Print `## section`, and replace (or append) it in BENCHMARKS.md unless `write` is false."""
    block = f"## {section}\n\n{body.strip()}\n"
    if not write:
        print(block)
        return
    text = BENCHMARKS.read_text() if BENCHMARKS.exists() else HEADER
    pattern = re.compile(rf"^## {re.escape(section)}\n.*?(?=^## |\Z)", re.S | re.M)
    text = pattern.sub(block + "\n", text) if pattern.search(text) else text.rstrip() + "\n\n" + block
    write_text(BENCHMARKS, text)
    print(block)


def percentiles(ms):
    ms = np.asarray(ms)
    return {p: float(np.percentile(ms, p)) for p in (50, 95, 99)}
