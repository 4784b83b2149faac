"""deploy/nginx.conf started for real in front of a running app, on loopback ports, for tests and
benchmarks. Only the machine-specific lines change: ports, the pid, the logs and the user."""
import contextlib
import os
import shutil
import socket
import subprocess
import time
from pathlib import Path

from bench.serve import ROOT, free_port

CONF = ROOT / "deploy" / "nginx.conf"
NGINX = shutil.which("nginx") or "/usr/sbin/nginx"


def local_conf(app_port: int, port: int, folder: Path) -> str:
    text = CONF.read_text()
    for old, new in (("server 127.0.0.1:7860;", f"server 127.0.0.1:{app_port};"),
                     ("listen 80;", f"listen 127.0.0.1:{port};"),
                     ("pid /run/nginx-digits.pid;", f"pid {folder}/nginx.pid;"),
                     ("error_log /var/log/nginx/digits.error.log warn;", f"error_log {folder}/error.log warn;"),
                     ("access_log /var/log/nginx/digits.access.log;", "access_log off;"),
                     ("user www-data;", "user root;" if os.geteuid() == 0 else "")):
        if text.count(old) != 1:
            raise ValueError(f"deploy/nginx.conf should have the line {old!r} once")
        text = text.replace(old, new)
    temps = "".join(f"    {name}_temp_path {folder}/{name};\n" for name in
                    ("client_body", "proxy", "fastcgi", "uwsgi", "scgi"))
    return text.replace("http {\n", "http {\n" + temps, 1)


@contextlib.contextmanager
def running_nginx(app_url: str, folder: Path, timeout: float = 20):
    """Yields nginx's URL once it accepts connections; stops it (by its PID) afterwards."""
    if not Path(NGINX).exists():
        raise RuntimeError("nginx is not installed: `apt-get install nginx` (.ci/run does it).")
    port = free_port()
    conf = folder / "nginx.conf"
    conf.write_text(local_conf(int(app_url.rstrip("/").rsplit(":", 1)[1]), port, folder))
    proc = subprocess.Popen([NGINX, "-c", str(conf), "-g", "daemon off;"], stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True)
    try:
        deadline = time.time() + timeout
        while True:
            if proc.poll() is not None:
                raise RuntimeError(f"nginx exited: {proc.stdout.read()[-2000:]}")
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                if time.time() > deadline:
                    raise RuntimeError(f"nginx did not listen within {timeout} s") from None
                time.sleep(0.1)
        yield f"http://127.0.0.1:{port}/"
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
