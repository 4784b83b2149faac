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


async def visit(url, address, calls, stop, out):
    """One visitor: a connection from `address`, a pen lift as soon as the last was answered."""
    u = urlparse(url)
    reader, writer = await asyncio.open_connection(u.hostname, u.port, local_addr=(address, 0))
    try:
        for raw, label in itertools.cycle(calls):
            if time.monotonic() > stop:
                return
            t = time.perf_counter()
            writer.write(raw)
            await writer.drain()
            head = await reader.readuntil(b"\r\n\r\n")
            length = next(
                int(line.split(b":")[1]) for line in head.split(b"\r\n") if line.lower().startswith(b"content-length")
            )
            answer = json.loads(await reader.readexactly(length))
            out.append((answer.get("number") == label, (time.perf_counter() - t) * 1000))
    finally:
        writer.close()


def run(url, cases, addresses, seconds):
    """[(right, ms)] of every reading `addresses` visitors made in `seconds`."""
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
