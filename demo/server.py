"""The process around the app on a public link: memory, file descriptors, the port, a full disk."""

from __future__ import annotations

import errno
import logging
import resource
import socket

import gradio as gr
from fastapi import Request
from fastapi.responses import JSONResponse
from gradio import processing_utils
from gradio.exceptions import InvalidPathError

log = logging.getLogger(__name__)

DISK_FULL = "The server's disk is full, so nothing can be uploaded right now; try again in a few minutes."


def quiet_foreign_file_records(sentence: str) -> None:
    """An API call whose file record names a file the app never received (`/etc/passwd`, say) is
    refused by Gradio before our code runs, as a ValueError its queue prints a traceback for, once per
    request: a log anyone can flood. Turn that one refusal into a quiet `gr.Error` with `sentence`.
    Gradio is pinned (requirements.txt) and tests/test_attacks.py checks the log stays clean."""
    check = processing_utils._check_allowed
    if getattr(check, "quiet", False):
        return

    def checked(path, check_in_upload_folder: bool):
        try:
            return check(path, check_in_upload_folder)
        except InvalidPathError:
            if not check_in_upload_folder:
                raise
            raise gr.Error(sentence, print_exception=False) from None

    checked.quiet = True
    processing_utils._check_allowed = checked


def raise_fd_limit(want: int = 65536) -> int:
    """Idle connections each hold a descriptor; at 1,024 a few hundred slow clients lock everyone
    out. Raise the soft limit as far as the hard one allows and return it."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    target = want if hard == resource.RLIM_INFINITY else min(want, hard)
    if target > soft:
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
            return target
        except (ValueError, OSError):
            pass
    return soft


def port_in_use(host: str, port: int) -> bool:
    """True when something already listens there (a second copy of the app, say)."""
    with socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET) as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind((host, port))
        except OSError as e:
            return e.errno == errno.EADDRINUSE
    return False


async def os_error_handler(request: Request, exc: OSError) -> JSONResponse:
    """Uploads are written to disk: a full one gets a sentence and 507, not a bare 500."""
    if exc.errno in (errno.ENOSPC, errno.EDQUOT):
        log.warning("disk full while serving %s", request.url.path)
        return JSONResponse({"error": DISK_FULL, "detail": DISK_FULL}, status_code=507)
    log.error("%s while serving %s", type(exc).__name__, request.url.path)
    return JSONResponse(
        {
            "error": "The server could not finish that request; try again.",
            "detail": "The server could not finish that request; try again.",
        },
        status_code=500,
    )
