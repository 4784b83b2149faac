"""The app's HTTP API without gradio_client, as curl uses it: upload, call, read the result stream.

gradio_client adds an upload per file and polls its queue every 50 ms, so benchmarks and attack
tests time and poke the app with these instead.
"""

from __future__ import annotations

import contextlib
import json

import httpx

FILE = {"_type": "gradio.FileData"}


def upload(http: httpx.Client, url: str, paths: list[str]) -> list[dict]:
    """Files -> Gradio file records pointing into its upload folder."""
    with contextlib.ExitStack() as stack:
        response = http.post(
            url + "gradio_api/upload", files=[("files", stack.enter_context(open(p, "rb"))) for p in paths]
        )
    response.raise_for_status()
    return [{"path": path, "meta": FILE} for path in response.json()]


def call(http: httpx.Client, url: str, api: str, data: list) -> tuple[str, object]:
    """POST the event, read its stream: ("complete", outputs) or ("error", message) or ("refused", status)."""
    posted = http.post(f"{url}gradio_api/call/{api}", json={"data": data})
    if posted.status_code != 200:
        return "refused", f"{posted.status_code} {posted.text[:200]}"
    event = posted.json()["event_id"]
    kind = None
    with http.stream("GET", f"{url}gradio_api/call/{api}/{event}") as stream:
        for line in stream.iter_lines():
            if line.startswith("event:"):
                kind = line[6:].strip()
            elif line.startswith("data:") and kind in ("complete", "error"):
                payload = line[5:].strip()
                return kind, json.loads(payload) if kind == "complete" else payload
    return "error", "the result stream ended without a result"


def sketch_files(http: httpx.Client, url: str, value: dict) -> dict:
    """A Sketchpad value saved as files (bench.drawing.as_upload) -> its uploaded file records."""
    parts = [value["background"], *value["layers"], value["composite"]]
    files = upload(http, url, [part["path"] for part in parts])
    return {"background": files[0], "layers": files[1:-1], "composite": files[-1]}


def rest_predict(http: httpx.Client, url: str, value: dict) -> dict:
    """One drawing through /predict; the Label value. Raises on anything but a result."""
    kind, out = call(http, url, "predict", [sketch_files(http, url, value)])
    if kind != "complete":
        raise RuntimeError(f"{kind}: {out}")
    return out[0]


def visitor(k: int) -> str:
    """The k-th simulated visitor's own loopback address (never 127.0.0.1, nor the front's 127.0.0.2)."""
    return f"127.0.{1 + k // 250}.{k % 250 + 1}"


def client_from(address: str, timeout: float = 60, **kw) -> httpx.Client:
    """An HTTP client whose connections come from `address` (any 127.x): one simulated visitor, who is
    that address to the app served directly, behind nginx and behind a Space's front alike."""
    return httpx.Client(transport=httpx.HTTPTransport(local_address=address), timeout=timeout, **kw)


def pad_call(http: httpx.Client, url: str, fn: str, payload) -> dict:
    """One of the pad's calls (`fn`: "read", "why", "correct"), as the page makes it (demo.serving.routes);
    its JSON answer, with {"status": code} added when the HTTP request itself is refused."""
    body = json.dumps(payload).encode()  # `null` too: httpx's json=None would send no body at all
    try:
        response = http.post(f"{url}gradio_api/pad/{fn}", content=body, headers={"content-type": "application/json"})
    except httpx.TransportError:  # the server may close the connection on an oversized body
        return {"status": 413}
    if response.status_code == 200:
        return response.json()
    try:
        said = response.json()
    except ValueError:
        said = {}
    return {**(said if isinstance(said, dict) else {}), "status": response.status_code}
