"""The serving layer in-process: who a visitor is per deployment, and the fair queue's turns (the least
served visitor next, pages in turn, the newest reading per page, costs measured, backstops)."""

import threading
import time
from types import SimpleNamespace

from demo.serving.fair import BUSY, DROPPED, FairQueue
from demo.serving.identity import appended_by_front, visitor


def request(peer, forwarded=None):
    return SimpleNamespace(
        client=SimpleNamespace(host=peer), headers={"x-forwarded-for": forwarded} if forwarded else {}
    )


def test_a_visitor_is_the_address_the_front_vouches_for():
    # served directly, or behind nginx or the share tunnel (uvicorn has already put the front's entry in the peer)
    assert visitor(request("203.0.113.9", "1.2.3.4"), space=False) == "203.0.113.9"
    # on a Space the peer is HF's proxy: the last entry outside its private networks is the one it appended
    assert visitor(request("10.16.3.80", "203.0.113.9"), space=True) == "203.0.113.9"
    assert visitor(request("10.16.3.80", "1.2.3.4, 6.6.6.6, 203.0.113.9"), space=True) == "203.0.113.9"
    assert visitor(request("10.16.3.80", "203.0.113.9, 10.0.0.7, 172.20.1.1"), space=True) == "203.0.113.9"
    assert visitor(request("10.16.3.80"), space=True) == "10.16.3.80"  # nothing forwarded: the peer
    assert appended_by_front("x" * 500) == "x" * 64  # a key never grows with what a header holds


def blocked(queue):
    """Fill the queue's one worker until the returned event is set."""
    go, running = threading.Event(), threading.Event()
    queue.submit("blocker", "p", lambda: (running.set(), go.wait(10), {})[-1], lambda answer: None)
    running.wait(5)
    return go


def collect(queue, jobs):
    """Submit (visitor, page, work) jobs; returns (the order answers came in, a wait-for-all function)."""
    order, done = [], threading.Semaphore(0)
    for who, page, work in jobs:
        queue.submit(
            who, page, work, lambda answer, who=who, page=page: (order.append((who, page, answer)), done.release())
        )
    return order, lambda: [done.acquire(timeout=10) for _ in jobs]


def busy(seconds):
    end = time.thread_time() + seconds
    while time.thread_time() < end:
        pass
    return {"read": True}


def test_a_person_is_served_next_however_many_pages_a_script_has_waiting():
    queue = FairQueue(workers=1)
    go = blocked(queue)
    jobs = [("script", f"s{k}", lambda: busy(0.002)) for k in range(30)] + [("person", "p", lambda: busy(0.002))]
    order, wait = collect(queue, jobs)
    go.set()
    wait()
    assert [who for who, _, _ in order].index("person") <= 1, order


def test_a_page_keeps_only_its_newest_waiting_reading():
    queue = FairQueue(workers=1)
    go = blocked(queue)
    order, wait = collect(queue, [("a", "page", lambda k=k: {"pen lift": k}) for k in range(3)])
    go.set()
    wait()
    assert [answer for _, _, answer in order] == [DROPPED, DROPPED, {"pen lift": 2}]


def test_an_expensive_visitor_is_charged_its_cpu_time_not_its_count():
    queue = FairQueue(workers=1)
    go = blocked(queue)
    jobs = [("heavy", f"h{k}", lambda: busy(0.03)) for k in range(4)] + [
        ("light", f"l{k}", lambda: busy(0.003)) for k in range(20)
    ]
    order, wait = collect(queue, jobs)
    go.set()
    wait()
    first = [who for who, _, _ in order[:12]]
    assert first.count("light") >= 9, first  # one heavy reading buys about ten light ones' time, not one


def test_pages_of_one_address_take_turns():
    queue = FairQueue(workers=1)
    go = blocked(queue)
    order, wait = collect(queue, [("school", f"pupil{k}", lambda: {}) for k in range(20)])
    go.set()
    wait()
    assert [page for _, page, _ in order] == [f"pupil{k}" for k in range(20)]


def test_backstops_say_busy_at_once_or_after_the_wait():
    queue = FairQueue(workers=1, wait=0.2, per_visitor=3)
    go = blocked(queue)
    order, wait = collect(queue, [("script", f"s{k}", lambda: {"read": True}) for k in range(4)])
    assert order == [("script", "s3", {"message": BUSY})]  # its fourth waiting page: refused at once
    time.sleep(0.3)
    go.set()
    wait()
    assert [answer for _, _, answer in order[1:]] == [{"message": BUSY}] * 3  # waited past `wait`


def test_two_workers_read_at_once_while_work_waits():
    queue, both = FairQueue(workers=2), threading.Barrier(2, timeout=5)
    order, wait = collect(queue, [(f"v{k}", "p", lambda: (both.wait(), {"ok": True})[1]) for k in range(2)])
    wait()
    assert [answer for _, _, answer in order] == [{"ok": True}] * 2


def test_a_visitor_with_long_readings_never_holds_every_worker():
    """A "Why?" flood costs a reading at a time on one core: the other stays free for a person's pen lift."""
    queue, lock, running, most = FairQueue(workers=2), threading.Lock(), [0], [0]

    def long():
        with lock:
            running[0] += 1
            most[0] = max(most[0], running[0])
        busy(0.06)
        with lock:
            running[0] -= 1
        return {"why": True}

    _, wait = collect(queue, [("why", "w0", long)])
    wait()  # its first reading teaches the queue what its readings cost
    most[0] = 0
    _, wait = collect(queue, [("why", f"w{k}", long) for k in range(1, 7)] + [("person", "p", lambda: busy(0.002))])
    wait()
    assert most[0] == 1
