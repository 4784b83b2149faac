"""deploy/nginx.conf in front of the real app: 1,000 slow-header connections do not delay a drawing,
oversized bodies stop at nginx, and the page and API work through it."""

import time

import httpx
import pytest

from bench.attacks import slow_connections
from bench.nginx import NGINX, running_nginx
from bench.target import Target, normal_drawing
from demo.server import raise_fd_limit

pytestmark = pytest.mark.server


@pytest.fixture(scope="module")
def proxied(app, tmp_path_factory):
    url, proc = app
    if not NGINX.exists():
        pytest.fail(
            f"No nginx at {NGINX}: install Debian's (`sudo apt-get install nginx`, as `bash .ci/run` does).",
            pytrace=False,
        )
    raise_fd_limit()  # this test's own 1,000 sockets
    with running_nginx(url, tmp_path_factory.mktemp("nginx")) as proxy:
        yield proxy, proc


def test_page_and_api_through_nginx(proxied, tmp_path):
    proxy, proc = proxied
    with httpx.Client(timeout=30) as http:
        assert "Handwritten digit recognition" in http.get(proxy).text
        assert normal_drawing(Target(proxy, proc.pid, http, tmp_path))[0]
        big = http.post(proxy + "gradio_api/upload", files={"files": ("big.png", b"\0" * (12 * 2**20))})
        assert big.status_code == 413


def test_slow_header_connections_do_not_delay_drawing(proxied, tmp_path):
    """Held connections would make a new visitor wait for a free worker, every time; measured against the same
    drawing through the same nginx just before, so a busy machine does not fail it, and one pause of a
    2-core machine running other tests beside it (one drawing in twenty) is not taken for a blocked proxy."""
    proxy, proc = proxied

    def drawing_seconds():
        with httpx.Client(timeout=30) as http:  # a new visitor, a new connection
            right, seconds = normal_drawing(Target(proxy, proc.pid, http, tmp_path))
        assert right
        return seconds

    usual = sorted(drawing_seconds() for _ in range(5))[2]
    with slow_connections(proxy, 1000) as held:
        assert len(held) == 1000
        times = []
        deadline = time.time() + 10
        while time.time() < deadline:
            times.append(drawing_seconds())
            time.sleep(0.2)
    slow = [t for t in times if t > 10 * usual + 0.3]
    assert len(times) >= 10 and len(slow) <= len(times) // 20, (usual, times)
    assert sorted(times)[len(times) // 2] < 2 * usual + 0.1, (usual, times)
