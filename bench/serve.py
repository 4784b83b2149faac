"""Start app.py as a user does, on a free port, and stop it afterwards (benchmarks and tests)."""

import contextlib
import os
import resource
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from functools import partial
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def rss_mb(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return float("nan")


def soft_nofile(n):
    resource.setrlimit(resource.RLIMIT_NOFILE, (n, resource.getrlimit(resource.RLIMIT_NOFILE)[1]))


def wait_until(proc, ready, timeout, name, log):
    """Poll `ready()` until it is true; a child that exits or never gets ready is an error with its log."""
    deadline = time.time() + timeout
    while not ready():
        if proc.poll() is not None:
            log.seek(0)
            raise RuntimeError(f"{name} exited during start-up: {log.read()[-2000:]}")
        if time.time() > deadline:
            raise RuntimeError(f"{name} did not answer within {timeout} s")
        time.sleep(0.2)


def stop(proc):
    """Stop a child we started, by its PID."""
    proc.terminate()
    try:
        proc.wait(timeout=30)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


def output(fd: int) -> str:
    """All the child has printed so far, read without moving the offset the child writes at."""
    return os.pread(fd, os.fstat(fd).st_size, 0).decode(errors="replace")


def answers(url):
    try:
        urllib.request.urlopen(url, timeout=2)
        return True
    except OSError:
        return False


@contextlib.contextmanager
def running_app(*args, timeout=120, program=("app.py",), env=None, nofile=None):
    """Yields (url, process) once the page answers; `args` go to app.py (or `program`, e.g. ("-m", module));
    `env` is added to this process's environment; `nofile` sets its soft descriptor limit (many hosts: 1,024).
    Its output goes to a temp file, never a pipe that nobody reads (a full pipe would stall it)."""
    port = free_port()
    url = f"http://127.0.0.1:{port}/"
    with tempfile.TemporaryFile("w+") as log:
        proc = subprocess.Popen(
            [sys.executable, *program, "--port", str(port), *map(str, args)],
            cwd=ROOT,
            stdout=log,
            stderr=subprocess.STDOUT,
            text=True,
            env={**os.environ, **(env or {})},
            preexec_fn=nofile and partial(soft_nofile, nofile),
        )
        proc.output = partial(output, log.fileno())
        try:
            wait_until(proc, lambda: answers(url), timeout, " ".join(program), log)
            yield url, proc
        finally:
            stop(proc)
