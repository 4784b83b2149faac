"""A load generator light enough to leave the cores to the app: asyncio, one kept-alive connection per
visitor, each from its own loopback address, raw HTTP/1.1 to the pad's `read`, every answer checked.
httpx in threads spends more CPU per request than the app does, so it measured itself, not the app."""

from __future__ import annotations

import asyncio
import itertools
import json
import time
from urllib.parse import urlparse


def request(url: str, payload: dict, page: str) -> bytes:
    """The bytes of one pad `read` call, as the page sends it (demo.serving.routes)."""
    u = urlparse(url)
    body = json.dumps({**payload, "page": page}).encode()
    head = (
        f"POST /gradio_api/pad/read HTTP/1.1\r\nHost: {u.netloc}\r\nContent-Type: application/json\r\n"
        f"Content-Length: {len(body)}\r\nConnection: keep-alive\r\n\r\n"
    )
    return head.encode() + body


async def exchange(reader, writer, raw: bytes) -> bytes | None:
    """One request on a kept-alive connection: the answer's body, or None if the server had closed the
    connection before answering (nginx closes one after `keepalive_requests`, as browsers expect)."""
    writer.write(raw)
    try:
        await writer.drain()
        head = await reader.readuntil(b"\r\n\r\n")
    except (asyncio.IncompleteReadError, ConnectionError) as e:
        if isinstance(e, asyncio.IncompleteReadError) and e.partial:
            raise
        return None
    lines = head.lower().split(b"\r\n")
    length = next(int(line.split(b":")[1]) for line in lines if line.startswith(b"content-length"))
    return await reader.readexactly(length)


async def visit(url, address, calls, stop, out):
    """One visitor: a connection from `address` (a new one when the server closes it), a pen lift as soon
    as the last was answered."""
    u = urlparse(url)
    connection = None
    try:
        for raw, label in itertools.cycle(calls):
            if time.monotonic() > stop:
                return
            t = time.perf_counter()
            body = None
            for _ in range(2):  # the request again on a new connection if the old one was closed
                connection = connection or await asyncio.open_connection(u.hostname, u.port, local_addr=(address, 0))
                body = await exchange(*connection, raw)
                if body is not None:
                    break
                connection[1].close()
                connection = None
            answer = json.loads(body) if body is not None else {}
            ok = answer.get("number") == label
            ms = (time.perf_counter() - t) * 1000
            out.append((ok, ms, "" if ok else answer.get("message") or answer.get("number") or "no answer"))
    finally:
        if connection:
            connection[1].close()


def run(url, cases, addresses, seconds):
    """[(right, ms, what a wrong one got instead, or "")] of every reading `addresses` visitors made in
    `seconds`."""
    out: list = []

    async def main():
        stop = time.monotonic() + seconds
        await asyncio.gather(
            *(
                visit(url, a, [(request(url, p, f"v{k}"), label) for p, label in cases], stop, out)
                for k, a in enumerate(addresses)
            )
        )

    asyncio.run(main())
    return out
