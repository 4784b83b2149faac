"""What one visitor may cost the app outside Gradio's queue: who they are, how often, how many at once.

The pad's server functions are plain HTTP calls that Gradio's queue never sees, so the bounds the
queue gave the Sketchpad are kept here: a client is its network address (never a session id, which a
script picks afresh per call), a token bucket per address, and one `Gate` on the readings worked on at
once that the page's pad and the API's drawings share.
"""

from __future__ import annotations

import ipaddress
import threading
import time
from collections import OrderedDict

LOOPBACK_PROXY_HEADER = "x-real-ip"  # set by deploy/nginx.conf from the connection's own address


def client_address(request, behind_proxy: bool = False) -> str:
    """The address a limit counts: the connection's peer, or, only when the app was told it sits behind
    nginx on this machine and the request came from loopback, the address nginx saw."""
    peer = getattr(getattr(request, "client", None), "host", None) or ""
    if behind_proxy and _is_loopback(peer):
        forwarded = (getattr(request, "headers", None) or {}).get(LOOPBACK_PROXY_HEADER, "").strip()
        if forwarded:
            return forwarded[:64]
    return peer or "?"


def _is_loopback(host: str) -> bool:
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


class TokenBucket:
    """`rate` events a second for each key, up to `burst` at once; keys forgotten oldest first past
    `keys`, so a flood of addresses cannot grow it."""

    def __init__(self, rate: float, burst: float, keys: int = 4096):
        self.rate, self.burst, self.keys = rate, burst, keys
        self._buckets: OrderedDict[str, tuple[float, float]] = OrderedDict()  # key -> (tokens, when)
        self._lock = threading.Lock()

    def allow(self, key: str, cost: float = 1.0, now: float | None = None) -> bool:
        now = time.monotonic() if now is None else now
        with self._lock:
            tokens, when = self._buckets.pop(key, (self.burst, now))
            tokens = min(self.burst, tokens + (now - when) * self.rate)
            ok = tokens >= cost
            self._buckets[key] = (tokens - cost if ok else tokens, now)
            while len(self._buckets) > self.keys:
                self._buckets.popitem(last=False)
            return ok


class Gate:
    """At most `slots` readings at once; at most `queue` more may wait for one, the rest are told at once."""

    def __init__(self, slots: int, queue: int = 16):
        self.slots, self.queue = max(1, slots), queue
        self.busy = self.waiting = 0
        self._cond = threading.Condition()

    def enter(self, timeout: float) -> bool:
        """Take a slot within `timeout` seconds; False if none came or too many already wait."""
        deadline = time.monotonic() + timeout
        with self._cond:
            if self.busy >= self.slots and self.waiting >= self.queue:
                return False
            self.waiting += 1
            try:
                while self.busy >= self.slots:
                    left = deadline - time.monotonic()
                    if left <= 0 or not self._cond.wait(left):
                        if self.busy >= self.slots:
                            return False
                self.busy += 1
                return True
            finally:
                self.waiting -= 1

    def leave(self) -> None:
        with self._cond:
            self.busy -= 1
            self._cond.notify()

    def run(self, fn, timeout: float, busy):
        """fn() in a slot, or busy() if none comes in time."""
        if not self.enter(timeout):
            return busy()
        try:
            return fn()
        finally:
            self.leave()
