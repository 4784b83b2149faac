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


_PAD: dict[str, int] = {}


def pad_id(http: httpx.Client, url: str) -> int:
    """The pad component's id, from the app's config."""
    if url not in _PAD:
        config = http.get(url + "config").json()
        _PAD[url] = next(c["id"] for c in config["components"] if c.get("props", {}).get("elem_id") == "pad")
    return _PAD[url]


def visitor(k: int) -> str:
    """The k-th simulated visitor's own loopback address (never 127.0.0.1, nor the front's 127.0.0.2)."""
    return f"127.0.{1 + k // 250}.{k % 250 + 1}"


def client_from(address: str, timeout: float = 60, **kw) -> httpx.Client:
    """An HTTP client whose connections come from `address` (any 127.x): one simulated visitor, who is
    that address to the app served directly, behind nginx and behind a Space's front alike."""
    return httpx.Client(transport=httpx.HTTPTransport(local_address=address), timeout=timeout, **kw)


def pad_call(http: httpx.Client, url: str, fn: str, payload, session: str = "bench") -> dict:
    """One call of the pad's server function `fn` ("read", "why", "correct"), as the page's client makes
    it; its JSON answer, or {"status": code} when the HTTP request itself is refused."""
    body = {"data": payload, "component_id": pad_id(http, url), "fn_name": fn, "session_hash": session}
    try:
        response = http.post(url + "gradio_api/component_server/", json=body)
    except httpx.TransportError:  # the server may close the connection on an oversized body
        return {"status": 413}
    return response.json() if response.status_code == 200 else {"status": response.status_code}
