"""A real PostgreSQL server for tests and benchmarks: Debian's `postgresql` (installed by .ci/run), its own
data directory in a temporary folder, run as the unprivileged `postgres` user when we are root, on a free
loopback port; it can be stopped and started again on the same data (a restart in the middle of a run)."""

from __future__ import annotations

import contextlib
import glob
import os
import pwd
import shutil
import signal
import subprocess
import tempfile
import time
from pathlib import Path

from bench.serve import free_port


def binaries() -> Path:
    """Debian's versioned folder (/usr/lib/postgresql/N/bin), else wherever `initdb` is on the PATH."""
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
    initdb = found[-1] if found else shutil.which("initdb")
    if not initdb:
        raise RuntimeError("PostgreSQL is not installed: `apt-get install postgresql` (.ci/run does it).")
    return Path(initdb).parent


def _demote():
    """As root, become `postgres` (the server refuses to run as root)."""
    if os.geteuid() == 0:
        user = pwd.getpwnam("postgres")
        os.setgid(user.pw_gid)
        os.setuid(user.pw_uid)


class Postgres:
    """initdb in `folder`, then start() / stop() as often as a test likes."""

    def __init__(self, folder: Path):
        self.data, self.port, self.bin = Path(folder) / "pgdata", free_port(), binaries()
        self.log = Path(folder) / "postgres.log"
        self.data.mkdir(parents=True)
        if os.geteuid() == 0:
            user = pwd.getpwnam("postgres")
            for path in (Path(folder), self.data):
                os.chown(path, user.pw_uid, user.pw_gid)
        subprocess.run(
            [self.bin / "initdb", "-D", self.data, "-A", "trust", "-U", "postgres", "--no-sync"],
            check=True,
            capture_output=True,
            preexec_fn=_demote,
        )
        self.url = f"postgresql://postgres@127.0.0.1:{self.port}/postgres"
        self.proc: subprocess.Popen | None = None

    def start(self, timeout: float = 30) -> None:
        with open(self.log, "a") as log:
            self.proc = subprocess.Popen(
                [self.bin / "postgres", "-D", self.data, "-p", str(self.port), "-k", self.data,
                 "-c", "listen_addresses=127.0.0.1", "-c", "fsync=off"],
                stdout=log, stderr=subprocess.STDOUT, preexec_fn=_demote,
            )  # fmt: skip
        deadline = time.time() + timeout
        while not self.ready():
            if self.proc.poll() is not None or time.time() > deadline:
                raise RuntimeError(f"PostgreSQL did not start: {self.log.read_text()[-2000:]}")
            time.sleep(0.2)

    def ready(self) -> bool:
        import psycopg

        try:
            psycopg.connect(self.url, connect_timeout=2).close()
            return True
        except psycopg.Error:
            return False

    def stop(self) -> None:
        """A fast shutdown (SIGINT: open transactions roll back), by the PID we started."""
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGINT)
            self.proc.wait(timeout=30)
        self.proc = None


@contextlib.contextmanager
def running_postgres():
    """Yields a started `Postgres` in a temporary folder; stops it afterwards."""
    with tempfile.TemporaryDirectory() as folder:
        os.chmod(folder, 0o755)
        server = Postgres(Path(folder))
        server.start()
        try:
            yield server
        finally:
            server.stop()
