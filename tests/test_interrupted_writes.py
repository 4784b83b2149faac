"""Writers killed mid-write (SIGKILL: no cleanup runs) leave the file they were replacing as it was."""

import http.server
import os
import shutil
import signal
import subprocess
import sys
import threading
import time

import pytest

from demo.classifier import Classifier, ModelError
from demo.contract import to_model_input
from demo.fileio import file_sha256
from tests.conftest import FIXTURE, ROOT, SHIPPED
from train import data


def kill_when_temp_appears(args, folder, pattern, timeout=120):
    """Run `python args...` and SIGKILL it as soon as a non-empty temp file matching `pattern` shows up."""
    proc = subprocess.Popen([sys.executable, *args], cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    deadline = time.time() + timeout
    try:
        while time.time() < deadline and proc.poll() is None:
            if any(p.stat().st_size > 0 for p in folder.glob(pattern)):
                proc.send_signal(signal.SIGKILL)
                break
            time.sleep(0.002)
        proc.wait(timeout=30)
    finally:
        proc.kill()
    assert proc.returncode == -signal.SIGKILL, f"the writer was not caught mid-write: {proc.stdout.read()[-2000:]}"


@pytest.fixture
def slow_server():
    """Serves 3 MB at ~3 MB/s, like a slow link: the downloader writes its first 1 MB block, then waits
    for the next, so it can be killed half-way (it never gets to the hash check)."""
    body = FIXTURE.read_bytes() * 20

    class Slow(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            self.send_response(200)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            for i in range(0, len(body), 1 << 16):
                self.wfile.write(body[i : i + (1 << 16)])
                self.wfile.flush()
                time.sleep(0.02)

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Slow)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_port}/mnist.npz"
    server.shutdown()


def test_a_download_killed_half_way_is_never_taken_for_the_data_set(tmp_path, slow_server):
    dest = tmp_path / "cache" / "mnist.npz"
    digest = file_sha256(FIXTURE)
    code = f"from train.data import download; download({slow_server!r}, {str(dest)!r}, {digest!r})"
    kill_when_temp_appears(["-c", code], dest.parent, ".mnist.npz.*.tmp")
    assert not dest.exists()
    with pytest.raises(data.DataError, match="does not exist"):
        data.load(dest)
    leftovers = list(dest.parent.glob(".mnist.npz.*.tmp"))
    assert leftovers and all(0 < p.stat().st_size < len(FIXTURE.read_bytes()) * 20 for p in leftovers)
    an_hour_ago = time.time() - 3600
    for p in leftovers:
        os.utime(p, (an_hour_ago, an_hour_ago))
    live = dest.parent / ".mnist.npz.another-download.tmp"  # written seconds ago: maybe still in progress
    live.write_bytes(b"x")
    # the next run downloads again, gets the verified file and removes the killed run's leftover
    assert data.download(FIXTURE.as_uri(), dest, expected_sha256=digest) == dest
    assert data.load(dest)[1][0].shape[1:] == (28, 28)
    assert list(dest.parent.glob(".mnist.npz.*.tmp")) == [live]


def test_an_export_killed_mid_write_leaves_the_model_it_was_replacing(tmp_path, sample):
    """`export.graph` writes through the same `save` as `python -m export`: temp file, check, load, rename."""
    dest = tmp_path / "model.onnx"
    shutil.copy(SHIPPED.with_suffix(".int8.onnx"), dest)
    before = dest.read_bytes()
    kill_when_temp_appears(["-m", "export.graph", str(SHIPPED), str(dest)], tmp_path, ".model.onnx.*.tmp.onnx")
    assert dest.read_bytes() == before
    probs = Classifier(dest).predict_batch(to_model_input(sample["x_test"][:100]))  # still a good model
    assert (probs.argmax(1) == sample["y_test"][:100]).mean() >= 0.97

    # a half-written ONNX file taken for a model is refused with a sentence, not loaded
    half = tmp_path / "half.onnx"
    half.write_bytes(SHIPPED.read_bytes()[:1_000_000])
    with pytest.raises(ModelError, match="half.onnx"):
        Classifier(half)
