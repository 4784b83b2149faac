"""Whose reading runs next: a fair share of the cores for every visitor, charged by the CPU time each used.

Readings wait in one `FairQueue` and `workers` threads (one per core) take them, never idle while one waits.
The next is the waiting visitor who has been served the least CPU time (a Virtual Token Counter, OSDI '24:
fair queueing with the cost measured after the work); a visitor who starts waiting again is lifted to the
least counter among those waiting, so time spent idle is not saved up to jump the queue later. Within a
visitor, pages take turns (oldest waiting first), and a page keeps only its newest reading: a newer pen lift
carries all the ink, so the older one is answered `DROPPED` and never run. Costs are measured, not
declared: "Why?" on eight digits is charged its real CPU time, and so is a drawing made to be expensive;
a visitor whose readings are long (over LONG each) never holds every worker at once, so a newcomer's
quick reading never waits behind a wall of slow ones.
A reading whose work returns a `Pending` shares one model call with the other quick readings a worker
takes while they wait (`model`, up to `batch` of them), which costs less per digit than a call each.
Backstops only: a visitor's waiting pages, all waiting readings, and how long one may wait (`BUSY`).
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from demo.contract import Pending

log = logging.getLogger(__name__)
BUSY = "The app is busy reading other drawings; lift the pen again in a moment."
DROPPED = {"dropped": True}  # a newer reading from the same page took this one's place; the page shows nothing
LONG = 0.05  # s of CPU: a visitor whose readings cost more than this never holds every worker at once
GUESS = 0.01  # s of CPU charged at the start of a visitor's first reading, until its real cost is known
SMOOTH = 0.3  # weight of the latest cost in a visitor's running estimate

Answer = dict


@dataclass
class Job:
    page: str
    work: Callable[[], Answer]
    done: Callable[[Answer], None]
    since: float = field(default_factory=time.monotonic)


@dataclass
class Visitor:
    used: float = 0.0  # CPU seconds served (the virtual counter), estimates of running readings included
    estimate: float = GUESS  # CPU seconds a reading of theirs costs, smoothed
    running: int = 0  # readings of theirs on a worker now
    readings: int = 0  # readings of theirs done: the first one's cost replaces the guess
    pages: OrderedDict[str, Job] = field(default_factory=OrderedDict)  # waiting, oldest page first


class FairQueue:
    """Readings from many visitors onto `workers` threads, in fair turns (see the module's docstring)."""

    def __init__(
        self,
        workers: int = 2,
        model: Callable[[np.ndarray], np.ndarray] | None = None,
        batch: int = 16,
        wait: float = 2.0,
        per_visitor: int = 64,
        waiting: int = 1024,
        keys: int = 4096,
    ):
        self.model, self.batch = model, batch
        self.wait, self.per_visitor, self.max_waiting, self.keys = wait, per_visitor, waiting, keys
        self._visitors: OrderedDict[str, Visitor] = OrderedDict()  # the least recently seen first
        self._backlogged: set[str] = set()
        self._waiting = 0
        self._last = 0.0  # the counter of the visitor served last: where a newcomer starts when none wait
        self._cond = threading.Condition()
        self.workers = max(1, workers)
        self.served = 0
        for k in range(max(1, workers)):
            threading.Thread(target=self._worker, name=f"reader-{k}", daemon=True).start()

    def submit(self, visitor: str, page: str, work: Callable[[], Answer], done: Callable[[Answer], None]) -> None:
        """Queue `work` for `visitor`'s `page`; `done` gets its answer (or BUSY, or DROPPED) from a worker
        thread, or at once when a backstop refuses it."""
        with self._cond:
            v = self._visitors.pop(visitor, None) or Visitor()
            self._visitors[visitor] = v  # most recently seen last
            old = v.pages.get(page)
            if old is None and (len(v.pages) >= self.per_visitor or self._waiting >= self.max_waiting):
                refused = True
            else:
                refused = False
                if visitor not in self._backlogged:
                    floor = min((self._visitors[o].used for o in self._backlogged), default=self._last)
                    v.used = max(v.used, floor)
                    self._backlogged.add(visitor)
                if old is None:
                    self._waiting += 1
                v.pages[page] = Job(page, work, done)  # an old one keeps its page's place in the turn
                self._forget()
                self._cond.notify()
        if refused:
            done({"message": BUSY})
        elif old is not None:
            old.done(DROPPED)

    def run(self, visitor: str, page: str, work: Callable[[], Answer]) -> Answer:
        """`submit`, waiting in this thread for the answer (the API's queued events)."""
        box: list[Answer] = []
        ready = threading.Event()
        self.submit(visitor, page, work, lambda answer: (box.append(answer), ready.set()))
        ready.wait()
        return box[0]

    async def arun(self, visitor: str, page: str, work: Callable[[], Answer]) -> Answer:
        """`submit`, awaiting the answer on the event loop (the pad's calls, demo.serving.routes): no thread waits."""
        loop = asyncio.get_running_loop()
        future = loop.create_future()

        def done(answer: Answer) -> None:
            loop.call_soon_threadsafe(lambda: future.done() or future.set_result(answer))

        self.submit(visitor, page, work, done)
        return await future

    def waiting(self) -> int:
        with self._cond:
            return self._waiting

    def _forget(self) -> None:
        """Past `keys` visitors, the least recently seen with nothing waiting are forgotten."""
        while len(self._visitors) > self.keys:
            oldest = next((k for k in self._visitors if k not in self._backlogged), None)
            if oldest is None:
                return
            del self._visitors[oldest]

    def _may_start(self, v: Visitor) -> bool:
        return self.workers == 1 or v.estimate <= LONG or v.running < self.workers - 1

    def _next(self, block: bool = True) -> tuple[Visitor, Job] | None:
        """The least-served waiting visitor's oldest waiting page; None at once if `block` is False and no
        quick reader waits. Called with the lock held."""
        while True:
            ready = [k for k in self._backlogged if self._may_start(self._visitors[k])]
            if not block:
                ready = [k for k in ready if self._visitors[k].estimate <= LONG]
            if ready or not block:
                break
            self._cond.wait()
        if not ready:
            return None
        key = min(ready, key=lambda k: self._visitors[k].used)
        v = self._visitors[key]
        _, job = v.pages.popitem(last=False)
        self._waiting -= 1
        if not v.pages:
            self._backlogged.discard(key)
        return v, job

    def _take(self) -> list[tuple[Visitor, Job, float]]:
        """The next reading and, while quick readers wait, more in fair order to share its model call:
        (visitor, job, the CPU seconds charged in advance). Late ones are answered BUSY here."""
        taken, now = [], time.monotonic()
        with self._cond:
            picked = self._next()
            while picked is not None:
                v, job = picked
                if now - job.since > self.wait:
                    self._attempt(lambda job=job: job.done({"message": BUSY}))
                else:
                    v.running += 1
                    v.used += v.estimate  # charged now, so the other core does not serve the same visitor blindly
                    self._last = v.used
                    taken.append((v, job, v.estimate))
                if len(taken) >= self.batch or self.model is None or (taken and v.estimate > LONG):
                    break
                picked = self._next(block=not taken)
        return taken

    def _worker(self) -> None:
        while True:
            taken = self._take()
            answers, costs = self._run([job for _, job, _ in taken])
            with self._cond:
                for (v, _, charged), cost in zip(taken, costs):
                    v.used += cost - charged
                    v.estimate = cost if not v.readings else v.estimate + SMOOTH * (cost - v.estimate)
                    v.readings += 1
                    v.running -= 1
                    self.served += 1
                self._cond.notify_all()  # a long reader's waiting reading may start now
            for (_, job, _), answer in zip(taken, answers):
                self._attempt(lambda job=job, answer=answer: job.done(answer))  # a page gone away stops nothing

    def _run(self, jobs: list[Job]) -> tuple[list[Answer], list[float]]:
        """Each job's answer and its CPU seconds; the Pendings among them share one model call."""
        answers, costs = [], []
        for job in jobs:
            start = time.thread_time()
            answers.append(self._attempt(job.work))
            costs.append(time.thread_time() - start)
        waiting = [i for i, a in enumerate(answers) if isinstance(a, Pending)]
        if not waiting:
            return answers, costs
        start = time.thread_time()
        probs = self._attempt(lambda: self.model(np.concatenate([answers[i].inputs for i in waiting])))
        rows = [len(answers[i].inputs) for i in waiting]
        share = (time.thread_time() - start) / sum(rows)  # the model's time, split by digits
        if not isinstance(probs, np.ndarray):  # the call failed: each of its readings gets the sentence
            probs = [probs] * len(waiting)
        else:
            probs = np.split(probs, np.cumsum(rows)[:-1])
        for i, n, out in zip(waiting, rows, probs):
            start = time.thread_time()
            answers[i] = out if isinstance(out, dict) else self._attempt(lambda p=answers[i], o=out: p.finish(o))
            costs[i] += share * n + time.thread_time() - start
        return answers, costs

    @staticmethod
    def _attempt(work: Callable[[], Any]) -> Any:
        try:
            return work()
        except Exception as e:  # a bug answers this reading with a sentence; the worker carries on
            log.exception("a reading failed")
            return {"message": f"Could not read that drawing ({type(e).__name__}); draw again."}
