"""Fault: the database stops in the middle of a stream of requests and comes back.

A dedicated PostgreSQL cluster (not the session's: it is stopped here) serves a real uvicorn
process.  One client thread alternates reads and If-Match writes without pause while the
cluster is stopped and restarted under it.  Expected: only 2xx and 503 (with Retry-After),
the service healthy again without a restart, and every write that was answered 2xx present in
the table and the audit log.

The test moves from phase to phase on events, not on sleeps or deadlines: the stream has had a
write accepted; ``pg_ctl stop -w`` has returned and /health reports 503; the stream has been
answered 503; ``pg_ctl start -w`` has returned and /health reports 200 (asked a bounded number of
times, waiting between attempts as long as the 503's Retry-After says); the stream has had a
write accepted again.  Each wait is bounded by a number of answers of the stream, not by a clock.
How fast the answers come is a benchmark's business (bench/), not this test's.
"""

from __future__ import annotations

import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import httpx
from sqlalchemy import create_engine, text

from gis_service.db import migrate
from gis_service.db.cluster import LocalCluster
from gis_service.testing import free_port, running_service
from tests.api.sample_data import load_web_sample
from tests.api.writes_support import auth, indicator_id, make_keys

#: phases of the test, in order; every answer records the phase it was sent in and answered in
BEFORE, DOWN, RESTARTING, RECOVERED = "before", "down", "restarting", "recovered"


@dataclass
class Outcome:
    sent_in: str
    answered_in: str
    kind: str  # read | etag | write
    status: int
    retry_after: str | None
    value: float | None = None
    version: int | None = None


class Stream:
    """What the client thread was answered, and the phase the test was in; waiters are woken after every answer."""

    def __init__(self) -> None:
        self.cond = threading.Condition()
        self.phase = BEFORE
        self.outcomes: list[Outcome] = []
        self.stopped = False  # the client thread has ended (asked to, or by an exception)
        self.error: BaseException | None = None

    def enter(self, phase: str) -> None:
        with self.cond:
            self.phase = phase

    def record(self, sent_in: str, kind: str, response: httpx.Response, **extra: object) -> None:
        with self.cond:
            self.outcomes.append(Outcome(sent_in, self.phase, kind, response.status_code,
                                         response.headers.get("retry-after"), **extra))  # type: ignore[arg-type]
            self.cond.notify_all()

    def wait_until(self, what: str, done: Callable[[list[Outcome]], bool], max_answers: int) -> None:
        """Block until ``done(answers sent in the current phase)``; fail if the client thread ends or
        gets ``max_answers`` answers in this phase without it."""
        with self.cond:
            def current() -> list[Outcome]:
                return [o for o in self.outcomes if o.sent_in == self.phase]

            self.cond.wait_for(lambda: self.stopped or done(current()) or len(current()) >= max_answers)
            answers = current()
            assert self.error is None, f"client thread failed: {self.error!r}"
            assert done(answers), f"{what}: not seen in {len(answers)} answers of phase {self.phase!r}: " \
                                  f"{sorted({(o.kind, o.status) for o in answers})}"


def _stream(base: str, key: str, ind: int, stop: threading.Event, stream: Stream) -> None:
    n = 0
    try:
        with httpx.Client(base_url=base, timeout=30) as c:
            while not stop.is_set():
                n += 1
                for kind in ("read", "etag"):
                    sent_in = stream.phase
                    r = c.get(f"/parks/{1}/indicators" if kind == "read" else f"/indicators/{ind}")
                    stream.record(sent_in, kind, r)
                if r.status_code != 200:
                    continue
                value = 100.0 + n  # unique per write: each accepted write can be found again
                sent_in = stream.phase
                w = c.put(f"/indicators/{ind}", headers=auth(key, **{"If-Match": r.headers["etag"]}),
                          json={"value": value, "unit": "亿元", "source_document": f"fault stream {n}"})
                stream.record(sent_in, "write", w, value=value, version=w.json().get("version") if w.status_code == 200 else None)
    except BaseException as exc:  # noqa: BLE001 - handed to the test thread, which fails with it
        stream.error = exc
    finally:
        with stream.cond:
            stream.stopped = True
            stream.cond.notify_all()


def _health_until(base: str, status: int, attempts: int) -> list[int]:
    """Ask /health until it answers ``status``, at most ``attempts`` times.  Before asking again after
    a 503 while waiting for 200, wait as long as its Retry-After says (the server's own advice)."""
    seen: list[int] = []
    with httpx.Client(base_url=base, timeout=30) as c:
        for _ in range(attempts):
            r = c.get("/health")
            seen.append(r.status_code)
            if r.status_code == status:
                return seen
            if status == 200 and r.status_code == 503:
                time.sleep(int(r.headers["retry-after"]))
    raise AssertionError(f"/health did not answer {status} in {attempts} attempts: {seen}")


def _write_accepted(answers: list[Outcome]) -> bool:
    return any(o.kind == "write" and o.status == 200 for o in answers)


def test_database_outage_gives_503_then_recovers_without_losing_writes() -> None:
    root = Path(tempfile.mkdtemp(prefix="gis-fault-pg-"))
    root.chmod(0o755)  # the unprivileged cluster account must be able to enter it
    cluster = LocalCluster(root / "pg", port=free_port(), database="gis_fault")
    cluster.start()
    try:
        url = cluster.url()
        migrate.upgrade(url)
        engine = create_engine(url)
        sample = load_web_sample(engine)
        keys = make_keys(engine)
        ind = indicator_id(engine, sample["west"])
        engine.dispose()
        stream = Stream()
        stop = threading.Event()
        with running_service(url) as base:
            worker = threading.Thread(target=_stream, args=(base, keys["admin"], ind, stop, stream))
            worker.start()
            try:
                stream.wait_until("a write accepted before the outage", _write_accepted, max_answers=300)
                stream.enter(DOWN)
                cluster.stop()  # pg_ctl stop -w: returns once the server is down
                health_down = _health_until(base, 503, attempts=10)
                stream.wait_until("a 503 during the outage",
                                  lambda answers: any(o.status == 503 and o.answered_in == DOWN for o in answers),
                                  max_answers=500)
                stream.enter(RESTARTING)
                cluster.start()  # pg_ctl start -w: returns once the server accepts connections
                health_up = _health_until(base, 200, attempts=6)
                stream.enter(RECOVERED)
                stream.wait_until("a write accepted after recovery, among at least 9 answers",
                                  lambda answers: _write_accepted(answers) and len(answers) >= 9, max_answers=300)
            finally:
                stop.set()
                worker.join()
            assert stream.error is None, f"client thread failed: {stream.error!r}"
        outcomes = stream.outcomes
        statuses = sorted({o.status for o in outcomes})
        writes_ok = [o for o in outcomes if o.kind == "write" and o.status == 200]
        print(f"\nfault: {len(outcomes)} requests, statuses {statuses}, "
              f"{sum(o.status == 503 for o in outcomes)} x 503, {len(writes_ok)} writes accepted; "
              f"/health while down {health_down}, after restart {health_up}")
        assert set(statuses) <= {200, 503}
        assert all(o.retry_after == "5" for o in outcomes if o.status == 503)
        assert any(o.status == 503 for o in outcomes if o.sent_in == o.answered_in == DOWN)  # the outage was seen ...
        after = [o for o in outcomes if o.sent_in == RECOVERED]
        assert after and all(o.status == 200 for o in after)  # ... and is over
        assert any(o.sent_in == BEFORE for o in writes_ok) and any(o.sent_in == RECOVERED for o in writes_ok)
        # every accepted write is there: in the audit log with its value, the last one in the table
        engine = create_engine(url)
        with engine.connect() as conn:
            audited = {r.after["version"]: r.after["value"] for r in conn.execute(text(
                "SELECT after FROM audit_log WHERE table_name = 'indicator' AND row_id = :i"), {"i": str(ind)})}
            stored = conn.execute(text("SELECT value, version FROM indicator WHERE id = :i"), {"i": ind}).one()
        engine.dispose()
        for o in writes_ok:
            assert audited[o.version] == o.value
        last = max(writes_ok, key=lambda o: o.version or 0)
        assert sorted(audited) == list(range(2, int(stored.version) + 1))  # no gap in the version chain
        assert int(stored.version) >= int(last.version or 0)
        if int(stored.version) == last.version:
            assert float(stored.value) == last.value
    finally:
        cluster.destroy()
