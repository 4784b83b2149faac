"""deploy/nginx.conf started for real in front of a running app, on loopback ports, for tests and
benchmarks. Only the machine-specific lines change: ports, the pid, the logs and the user."""

import contextlib
import os
import shutil
import socket
import subprocess
import tempfile
from pathlib import Path

from bench.serve import ROOT, free_port, stop, wait_until

CONF = ROOT / "deploy" / "nginx.conf"
NGINX = Path(shutil.which("nginx") or "/usr/sbin/nginx")


SERVER = "server 127.0.0.1:7860 max_fails=1 fail_timeout=10s;"


def local_conf(app_ports: list[int], port: int, folder: Path) -> str:
    text = CONF.read_text()
    servers = "\n        ".join(SERVER.replace("7860", str(p)) for p in app_ports)
    for old, new in (
        (SERVER, servers),
        ("listen 80;", f"listen 127.0.0.1:{port};"),
        ("pid /run/nginx-digits.pid;", f"pid {folder}/nginx.pid;"),
        ("error_log /var/log/nginx/digits.error.log warn;", f"error_log {folder}/error.log warn;"),
        ("access_log /var/log/nginx/digits.access.log;", "access_log off;"),
        ("user www-data;", "user root;" if os.geteuid() == 0 else ""),
    ):
        if text.count(old) != 1:
            raise ValueError(f"deploy/nginx.conf should have the line {old!r} once")
        text = text.replace(old, new)
    temps = "".join(
        f"    {name}_temp_path {folder}/{name};\n" for name in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")
    )
    return text.replace("http {\n", "http {\n" + temps, 1)


@contextlib.contextmanager
def running_nginx(app_url: str | list[str], folder: Path, timeout: float = 20):
    """Yields nginx's URL once it accepts connections (in front of one app, or of its replicas); stops it
    (by its PID) afterwards."""
    if not NGINX.exists():
        raise RuntimeError("nginx is not installed: `apt-get install nginx` (.ci/run does it).")
    port = free_port()
    conf = folder / "nginx.conf"
    urls = [app_url] if isinstance(app_url, str) else app_url
    conf.write_text(local_conf([int(u.rstrip("/").rsplit(":", 1)[1]) for u in urls], port, folder))
    with tempfile.TemporaryFile("w+") as log:
        proc = subprocess.Popen(
            [str(NGINX), "-c", str(conf), "-g", "daemon off;"], stdout=log, stderr=subprocess.STDOUT, text=True
        )
        try:
            wait_until(proc, lambda: accepts(port), timeout, "nginx", log)
            yield f"http://127.0.0.1:{port}/"
        finally:
            stop(proc)


def accepts(port, host="127.0.0.1"):
    try:
        socket.create_connection((host, port), timeout=1).close()
        return True
    except OSError:
        return False
