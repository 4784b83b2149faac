"""The pad's own HTTP routes (demo.serving.routes) in front of the real app's pad: a real digit read through
them, who the visitor is, and what they refuse (wrong method, past the limit, not JSON) before any work."""

import asyncio
import json

import numpy as np
import pytest

from bench.drawing import FIXTURE
from bench.target import pad_rgba
from demo.correct import Corrector
from demo.handlers import Reader
from demo.pad import PadServer, png_payload
from demo.serving.fair import FairQueue
from demo.serving.routes import PadRoutes, route


@pytest.fixture(scope="module")
def pad(classifier):
    return PadServer(Reader(classifier), Corrector(classifier, None), FairQueue(1, model=classifier.predict_batch))


def call(app, path, body=b"", method="POST", client=("203.0.113.9", 5000), headers=(), chunks=None):
    """One HTTP request through the ASGI app, as uvicorn hands it over: (status, JSON answer)."""
    parts = chunks or [body]
    scope = {"type": "http", "method": method, "path": path, "headers": list(headers), "client": client}
    asked = iter([{"type": "http.request", "body": c, "more_body": k < len(parts) - 1} for k, c in enumerate(parts)])
    sent = []

    async def receive():
        return next(asked, {"type": "http.disconnect"})

    async def send(message):
        sent.append(message)

    asyncio.run(app(scope, receive, send))
    return sent[0]["status"], json.loads(sent[1]["body"])


async def gradio(scope, receive, send):  # whatever the app behind would have answered
    await send({"type": "http.response.start", "status": 299, "headers": []})
    await send({"type": "http.response.body", "body": b'{"gradio": true}'})


def test_the_pad_routes_are_the_three_calls_under_gradios_api():
    assert [route(p) for p in ("/gradio_api/pad/read", "/x/gradio_api/pad/why", "/gradio_api/pad/correct")] == [
        "read",
        "why",
        "correct",
    ]
    assert [route(p) for p in ("/gradio_api/pad/open", "/pad/read", "/gradio_api/component_server/")] == [None] * 3


def test_a_real_digit_is_read_through_them_and_everything_else_passes_on(pad):
    with np.load(FIXTURE) as f:
        x, y = f["x_test"][:4], f["y_test"][:4]
    seen = []

    async def answer(name, payload, who):
        seen.append(who)
        return await pad.answer(name, payload, who)

    app = PadRoutes(gradio, answer, limit=300_000)
    for digit, label in zip(x, y):
        body = json.dumps(png_payload(pad_rgba(digit), "page")).encode()
        status, out = call(app, "/gradio_api/pad/read", body)
        assert status == 200 and out["number"] == str(label)
    assert seen == ["203.0.113.9"] * 4  # the peer uvicorn reports, as identity.visitor says
    assert call(app, "/gradio_api/queue/join", b"{}") == (299, {"gradio": True})


def test_on_a_space_the_visitor_is_the_address_the_front_appended(pad):
    seen = []

    async def answer(name, payload, who):
        seen.append(who)
        return {}

    app = PadRoutes(gradio, answer, limit=1000, space=True)
    forwarded = [(b"x-forwarded-for", b"6.6.6.6, 198.51.100.7")]  # a made-up entry first, the front's last
    assert call(app, "/gradio_api/pad/read", b"{}", client=("10.1.2.3", 1), headers=forwarded)[0] == 200
    assert seen == ["198.51.100.7"]


def test_what_they_refuse_before_any_work():
    async def answer(name, payload, who):
        raise AssertionError("no work for a refused request")

    app = PadRoutes(gradio, answer, limit=1000)
    assert call(app, "/gradio_api/pad/read", method="GET")[0] == 405
    status, out = call(app, "/gradio_api/pad/read", chunks=[b"x" * 600, b"x" * 600, b"never read"])
    assert status == 413 and "larger than the pad sends" in out["message"]
    status, out = call(app, "/gradio_api/pad/read", b"{not json")
    assert status == 400 and "not a drawing" in out["message"]
