"""What any request may send before a byte of it is read: a body limit on every route the app serves.

`BodyLimit` is ASGI middleware outside Gradio: a body whose Content-Length is over its route's limit is
answered 413 at once, unread; a chunked one is counted as it arrives and, past the limit, the app is told
the client left and whatever it would answer is replaced by the same 413. So six 40 MB bodies cost the
app nothing, and a chunked one at most its limit.
"""

from __future__ import annotations

import json
import threading
import time
from collections import OrderedDict, deque

KB = 1024
MB = 1024 * KB


def limit_for(path: str, limits: dict[str, int], default: int) -> int:
    """The limit of the first route in `limits` whose name `path` contains, else `default`."""
    return next((size for route, size in limits.items() if route in path), default)


class BodyLimit:
    """Bodies of at most `limits[route]` bytes on the routes named there, `default` on every other one."""

    def __init__(self, app, limits: dict[str, int], default: int, sentence: str = ""):
        self.app, self.limits, self.default = app, limits, default
        self.sentence = sentence or "That request is larger than this app takes; send a smaller one."

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        limit = limit_for(scope["path"], self.limits, self.default)
        declared = dict(scope.get("headers") or []).get(b"content-length")
        if declared is not None and (not declared.isdigit() or int(declared) > limit):
            return await self._refuse(send, limit)
        seen, over, answered = 0, False, False

        async def counted():
            nonlocal seen, over
            if over:
                return {"type": "http.disconnect"}
            message = await receive()
            seen += len(message.get("body", b""))
            if seen > limit:
                over = True
                return {"type": "http.disconnect"}
            return message

        async def guarded(message):
            nonlocal answered
            if not over:
                answered = answered or message["type"] == "http.response.start"
                return await send(message)

        try:
            await self.app(scope, counted, guarded)
        except Exception:
            if not over:
                raise
        if over and not answered:
            await self._refuse(send, limit)

    async def _refuse(self, send, limit: int):
        size = f"{limit // MB} MB" if limit >= MB else f"{limit // KB} KB"
        body = json.dumps({"detail": f"{self.sentence} (at most {size})", "error": self.sentence}).encode()
        await send(
            {
                "type": "http.response.start",
                "status": 413,
                "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())],
            }
        )
        await send({"type": "http.response.body", "body": body})


class RateLimit:
    """At most `per_key` events per `window` seconds for each key (a visitor), and `total` for everyone;
    keys are forgotten oldest first past `keys`, so memory stays bounded. The one limiter the app keeps in
    memory: a flood guard per process (the corrections' minute), in front of what the store enforces."""

    def __init__(self, per_key: int = 10, total: int = 120, window: float = 60.0, keys: int = 4096):
        self.per_key, self.total, self.window, self.keys = per_key, total, window, keys
        self._seen: OrderedDict[str, deque[float]] = OrderedDict()
        self._all: deque[float] = deque()
        self._lock = threading.Lock()

    def refund(self, key: str) -> None:
        """Give back `key`'s newest event: an attempt that kept nothing spends no budget."""
        with self._lock:
            mine = self._seen.get(key)
            if mine:
                when = mine.pop()
                if when in self._all:
                    self._all.remove(when)

    def allow(self, key: str, now: float | None = None) -> bool:
        now = time.monotonic() if now is None else now
        with self._lock:
            for times in (self._all, self._seen.get(key, ())):
                while times and times[0] <= now - self.window:
                    times.popleft()
            mine = self._seen.pop(key, deque())
            self._seen[key] = mine
            while len(self._seen) > self.keys:
                self._seen.popitem(last=False)
            if len(mine) >= self.per_key or len(self._all) >= self.total:
                return False
            mine.append(now)
            self._all.append(now)
            return True
