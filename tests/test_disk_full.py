"""A full disk: uploads get a sentence (HTTP 507), and drawing on the page goes on, since it never
writes to disk. The app's upload folder is a 4 MB tmpfs filled by the test."""

import os
import subprocess

import httpx
import pytest

from bench.serve import running_app
from bench.target import Target, pad_drawing
from demo.server import DISK_FULL

pytestmark = pytest.mark.server


@pytest.fixture
def small_disk(tmp_path):
    mount = tmp_path / "gradio"
    mount.mkdir()
    sudo = [] if os.geteuid() == 0 else ["sudo", "-n"]
    subprocess.run([*sudo, "mount", "-t", "tmpfs", "-o", "size=4m,mode=1777", "tmpfs", str(mount)], check=True)
    yield mount
    subprocess.run([*sudo, "umount", "-l", str(mount)], check=True)


def fill(folder):
    with open(folder / "filler", "wb") as f:
        try:
            while True:
                f.write(b"\0" * 2**16)
                f.flush()
        except OSError:
            pass


def test_full_disk_gives_a_sentence_and_the_page_still_reads_drawings(small_disk, tmp_path):
    with running_app(env={"GRADIO_TEMP_DIR": str(small_disk)}) as (url, proc), httpx.Client(timeout=60) as http:
        target = Target(url, proc.pid, http, tmp_path)
        assert pad_drawing(target) == "3"
        fill(small_disk)
        response = http.post(url + "gradio_api/upload", files={"files": ("seven.png", b"\x89PNG" + b"\0" * 200_000)})
        assert response.status_code == 507 and DISK_FULL in response.text, response.text[:300]
        assert pad_drawing(target) == "3"
        (small_disk / "filler").unlink()
        assert http.post(url + "gradio_api/upload", files={"files": ("ok.png", b"\x89PNG")}).status_code == 200
