"""Start app.py as a user does, on a free port, and stop it afterwards (benchmarks and tests)."""
import contextlib
import os
import resource
import socket
import subprocess
import sys
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


@contextlib.contextmanager
def running_app(*args, timeout=120, program=("app.py",), env=None, nofile=None):
    """Yields (url, process) once the page answers; `args` go to app.py (or `program`, e.g. ("-m", module));
    `env` is added to this process's environment; `nofile` sets its soft descriptor limit (many hosts: 1,024)."""
    port = free_port()
    proc = subprocess.Popen([sys.executable, *program, "--port", str(port), *map(str, args)], cwd=ROOT,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                            env={**os.environ, **(env or {})}, preexec_fn=nofile and partial(soft_nofile, nofile))
    url = f"http://127.0.0.1:{port}/"
    try:
        deadline = time.time() + timeout
        while True:
            if proc.poll() is not None:
                raise RuntimeError(f"{' '.join(program)} exited during start-up: {proc.stdout.read()[-2000:]}")
            try:
                urllib.request.urlopen(url, timeout=2)
                break
            except OSError:
                if time.time() > deadline:
                    raise RuntimeError(f"{' '.join(program)} did not answer within {timeout} s") from None
                time.sleep(0.2)
        yield url, proc
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
