"""A crowd on one link, the app run as a Hugging Face Space runs it: behind a forwarding front on 127.0.0.2
that appends X-Forwarded-For (bench.front), every visitor a client bound to a loopback address of its own.
A script with made-up headers and pages does not cost a person a single reading, a classroom behind one
address is read whole, and no route reads a body past its limit."""

import itertools
import threading

import httpx
import pytest

from bench.client import client_from, pad_call
from bench.crowd import writer
from bench.front import SPACE_ENV, running_front
from bench.load import drawings
from bench.serve import rss_mb, running_app
from demo.pad import png_payload

pytestmark = pytest.mark.server


@pytest.fixture(scope="module")
def space():
    with running_app(env=SPACE_ENV, nofile=4096) as (app, proc), running_front(app) as url:
        yield url, app, proc


@pytest.fixture(scope="module")
def cases():
    return [(png_payload(rgba), label) for rgba, label in drawings(8)]


def test_a_script_with_made_up_headers_costs_a_person_nothing(space, cases):
    url = space[0]
    stop, sent = threading.Event(), []

    def script(t):
        with client_from("127.0.0.66") as http:
            for k in itertools.count():
                if stop.is_set():
                    return
                http.headers["X-Forwarded-For"] = f"198.51.100.{k % 250}, 10.1.2.{k % 250}"  # made up, each call
                sent.append(pad_call(http, url, "read", {**cases[0][0], "page": f"s{t}-{k}"}))

    threads = [threading.Thread(target=script, args=(t,)) for t in range(4)]
    for t in threads:
        t.start()
    person: list = []
    try:
        writer(url, "127.0.0.10", cases, 24, 0.0, "person", person)
    finally:
        stop.set()
        for t in threads:
            t.join()
    assert [ok for ok, _, _ in person] == [True] * 24, (
        person
    )  # every pen lift read right: not one "slow down" or "busy"
    assert len(sent) > 24 and all("number" in s or "message" in s or s.get("dropped") for s in sent)


def test_a_classroom_behind_one_address_is_read_whole(space, cases):
    url, outs = space[0], [[] for _ in range(20)]
    pupils = [
        threading.Thread(target=writer, args=(url, "127.0.0.77", cases, 4, 0.0, f"pupil{k}", outs[k]))
        for k in range(20)
    ]
    for t in pupils:
        t.start()
    for t in pupils:
        t.join()
    assert [ok for out in outs for ok, _, _ in out] == [True] * 80, outs


def test_every_route_refuses_a_body_past_its_limit_before_reading_it(space):
    _, app, proc = space
    before, big = rss_mb(proc.pid), b"x" * (40 * 2**20)
    with httpx.Client(timeout=60) as http:
        assert http.post(app + "gradio_api/call/predict_image", content=big).status_code == 413
        assert http.post(app + "gradio_api/queue/join", content=big).status_code == 413
        assert http.post(app + "gradio_api/upload", files={"files": ("a.png", big)}).status_code == 413
        chunked = http.post(app + "gradio_api/component_server/", content=iter([big[: 2**20]] * 40))
        assert chunked.status_code == 413 and "at most" in chunked.json()["detail"]
        chunked = http.post(app + "gradio_api/pad/read", content=iter([big[: 2**20]] * 40))
        assert chunked.status_code == 413 and "at most" in chunked.json()["detail"]
    assert rss_mb(proc.pid) - before < 50
