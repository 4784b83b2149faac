"""Files: atomic writes (a reader never sees a half-written file, whatever kills the writer) and hashes."""

import contextlib
import hashlib
import json
import os
import tempfile
from pathlib import Path


def _umask():
    mask = os.umask(0)
    os.umask(mask)
    return mask


@contextlib.contextmanager
def atomic_path(dest, suffix=""):
    """Yield a temp path beside `dest`; rename it over `dest` only if the block succeeds.
    `suffix` keeps an extension that a writer insists on (Keras wants '.keras')."""
    dest = Path(dest)
    dest.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=dest.parent, prefix=f".{dest.name}.", suffix=".tmp" + suffix)
    os.close(fd)
    try:
        yield Path(tmp)
        os.chmod(tmp, 0o666 & ~_umask())  # mkstemp makes 0600; give the file the usual mode
        os.replace(tmp, dest)
    finally:
        if os.path.exists(tmp):
            os.remove(tmp)


def write_text(dest, text):
    with atomic_path(dest) as tmp:
        tmp.write_text(text)


def write_json(dest, obj):
    write_text(dest, json.dumps(obj, indent=2) + "\n")


def file_sha256(path) -> str:
    """A file's SHA-256, read in 1 MiB blocks so a big model never sits in memory twice."""
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()
