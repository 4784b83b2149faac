"""A TCP proxy on loopback that delays every byte by half a round trip each way, so a browser on this
machine meets a shared link's network: `with delayed(url, 0.1) as slow_url: ...`."""

from __future__ import annotations

import asyncio
import contextlib
import threading
import time
from urllib.parse import urlsplit


async def _pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, delay: float) -> None:
    queue: asyncio.Queue = asyncio.Queue()

    async def later():
        while True:
            due, data = await queue.get()
            await asyncio.sleep(max(0.0, due - time.monotonic()))
            if not data:
                break
            writer.write(data)
            await writer.drain()
        writer.close()

    sender = asyncio.create_task(later())
    try:
        while data := await reader.read(65536):
            queue.put_nowait((time.monotonic() + delay, data))
    except ConnectionError:
        pass
    queue.put_nowait((time.monotonic() + delay, b""))
    with contextlib.suppress(ConnectionError):
        await sender


@contextlib.contextmanager
def delayed(url: str, round_trip: float):
    """Yields the URL of a proxy in front of `url` (loopback) that adds `round_trip` seconds per round trip."""
    target = urlsplit(url)
    loop = asyncio.new_event_loop()
    ready = threading.Event()
    box: dict = {}

    async def client(reader, writer):
        up_reader, up_writer = await asyncio.open_connection(target.hostname, target.port)
        await asyncio.gather(_pipe(reader, up_writer, round_trip / 2), _pipe(up_reader, writer, round_trip / 2))

    async def start():
        box["server"] = await asyncio.start_server(client, "127.0.0.1", 0)
        box["port"] = box["server"].sockets[0].getsockname()[1]
        ready.set()

    thread = threading.Thread(target=lambda: (loop.run_until_complete(start()), loop.run_forever()), daemon=True)
    thread.start()
    ready.wait(10)
    try:
        yield f"http://127.0.0.1:{box['port']}{target.path or '/'}"
    finally:

        async def shutdown():
            box["server"].close()
            tasks = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
            for t in tasks:
                t.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)

        asyncio.run_coroutine_threadsafe(shutdown(), loop).result(10)
        loop.call_soon_threadsafe(loop.stop)
        thread.join(5)
