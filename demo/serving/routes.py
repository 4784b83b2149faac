"""The pad's calls as plain HTTP: `POST {api}/pad/read` (or `why`, `correct`) with the pad's JSON, answered
with JSON, outside Gradio's routing.

Gradio's route for a component's server functions (`/component_server`) costs the app several times the
CPU that a reading's HTTP needs (BENCHMARKS.md, "Crowd"), and a pen lift is the app's most frequent request.
`PadRoutes` is ASGI middleware the app is launched with: it answers these three paths itself and passes
everything else on. What it skips is routing and validation; what it keeps: the body limit (`BodyLimit`,
outside it, and its own), Gradio's CORS rule (Gradio's middleware is outside it), the visitor as
`identity.visitor` says, and the reading's turn in the `FairQueue`.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable

from starlette.requests import Request

from demo.serving.identity import visitor

NAMES = ("read", "why", "correct")
PREFIX = "/gradio_api/pad"  # Gradio's api_prefix, so a front that forwards Gradio's API forwards these too
MALFORMED = "The pad sent something that is not a drawing; reload the page and draw again."

# (name, payload, visitor) -> the answer: demo.pad.PadServer.answer
Answerer = Callable[[str, object, str], Awaitable[dict]]


def too_big(limit: int) -> str:
    """The one sentence for a drawing over the pad's bound, whichever layer finds it."""
    return f"That drawing is larger than the pad sends ({limit // 1024} KB at most); clear it and draw again."


def route(path: str) -> str | None:
    """The call a path names ("read", "why", "correct"), or None if it is not one of the pad's."""
    head, _, name = path.rpartition("/")
    return name if name in NAMES and head.endswith(PREFIX) else None


async def body_of(receive, limit: int) -> bytes | None:
    """The request's body, or None once it passes `limit` bytes (the rest is never read)."""
    chunks, size = [], 0
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            return None
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > limit:
            return None
        chunks.append(chunk)
        if not message.get("more_body"):
            return b"".join(chunks)


async def respond(send, status: int, answer: dict) -> None:
    body = json.dumps(answer).encode()
    headers = [
        (b"content-type", b"application/json"),
        (b"content-length", str(len(body)).encode()),
        (b"cache-control", b"no-store"),
    ]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


class PadRoutes:
    """ASGI middleware: the pad's three calls answered by `answer`, at most `limit` bytes of body each."""

    def __init__(self, app, answer: Answerer, limit: int, space: bool | None = None):
        self.app, self.answer, self.limit, self.space = app, answer, limit, space

    async def __call__(self, scope, receive, send):
        name = route(scope["path"]) if scope["type"] == "http" else None
        if name is None:
            return await self.app(scope, receive, send)
        if scope["method"] != "POST":
            return await respond(send, 405, {"message": "The pad's calls are POST requests."})
        raw = await body_of(receive, self.limit)
        if raw is None:
            return await respond(send, 413, {"message": too_big(self.limit)})
        try:
            payload = json.loads(raw)
        except ValueError:
            return await respond(send, 400, {"message": MALFORMED})
        who = visitor(Request(scope), self.space)
        await respond(send, 200, await self.answer(name, payload, who))
