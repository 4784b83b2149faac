"""A Space's front, stood in for on loopback: nginx on 127.0.0.2 forwarding to the app from 127.0.0.2 (so
uvicorn, which trusts only 127.0.0.1 and ::1, leaves the peer alone) and appending the visitor's address
to X-Forwarded-For, as HF's proxy and most forwarding proxies do. Visitors are clients bound to other
127.x addresses (bench.client.client_from)."""

import contextlib
import os
import subprocess
import tempfile
from pathlib import Path

from bench.nginx import NGINX, accepts
from bench.serve import free_port, stop, wait_until

FRONT = "127.0.0.2"
SPACE_ENV = {"SYSTEM": "spaces", "SPACE_ID": "local/digits"}  # what HF sets on a Space; the app reads SYSTEM

CONF = """worker_processes 1;
pid {folder}/front.pid;
error_log {folder}/front.error.log warn;
{user}
events {{ worker_connections 4096; }}
http {{
    access_log off;
{temps}
    upstream app {{ server 127.0.0.1:{app_port}; keepalive 64; }}
    server {{
        listen {front}:{port};
        client_max_body_size 100m;  # the app's own limits are what is measured behind it
        proxy_http_version 1.1;
        proxy_bind {front};
        proxy_buffering off;
        proxy_request_buffering off;
        proxy_set_header Host $host;
        proxy_set_header Connection "";
        proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
        proxy_read_timeout 120s;
        location / {{ proxy_pass http://app; }}
    }}
}}
"""


@contextlib.contextmanager
def running_front(app_url: str, folder: Path | None = None, timeout: float = 20):
    """Yields the front's URL (http://127.0.0.2:port/) once it accepts connections; stops it afterwards."""
    if not NGINX.exists():
        raise RuntimeError("nginx is not installed: `apt-get install nginx` (.ci/run does it).")
    with contextlib.ExitStack() as stack:
        folder = folder or Path(stack.enter_context(tempfile.TemporaryDirectory()))
        port = free_port()
        temps = "".join(
            f"    {n}_temp_path {folder}/{n};\n" for n in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")
        )
        user = "user root;" if os.geteuid() == 0 else ""
        app_port = int(app_url.rstrip("/").rsplit(":", 1)[1])
        conf = folder / "front.conf"
        conf.write_text(CONF.format(folder=folder, user=user, temps=temps, app_port=app_port, front=FRONT, port=port))
        log = stack.enter_context(tempfile.TemporaryFile("w+"))
        proc = subprocess.Popen(
            [str(NGINX), "-c", str(conf), "-g", "daemon off;"], stdout=log, stderr=subprocess.STDOUT
        )
        try:
            url = f"http://{FRONT}:{port}/"
            wait_until(proc, lambda: accepts(port, FRONT), timeout, "the front's nginx", log)
            yield url
        finally:
            stop(proc)
