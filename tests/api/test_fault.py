"""Fault: the database stops in the middle of a stream of requests and comes back.

A dedicated PostgreSQL cluster (not the session's: it is stopped here) serves a real uvicorn
process.  One client thread alternates reads and If-Match writes without pause while the
cluster is stopped and restarted under it.  Expected: only 2xx and 503 (with Retry-After),
no answer slower than the connect timeout allows, the service healthy again without a
restart, and every write that was answered 2xx present in the table and the audit log.
"""

from __future__ import annotations

import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import httpx
from sqlalchemy import create_engine, text

from gis_service.db import migrate
from gis_service.db.cluster import LocalCluster
from gis_service.testing import free_port, running_service
from tests.api.sample_data import load_web_sample
from tests.api.writes_support import auth, indicator_id, make_keys

#: the slowest answer accepted while the database is away (connect_timeout is 3 s)
MAX_LATENCY_S = 8.0


@dataclass
class Outcome:
    at: float
    kind: str  # read | etag | write
    status: int
    latency_s: float
    retry_after: str | None
    value: float | None = None
    version: int | None = None


def _stream(base: str, key: str, ind: int, stop: threading.Event, out: list[Outcome]) -> None:
    n = 0
    with httpx.Client(base_url=base, timeout=30) as c:
        while not stop.is_set():
            n += 1
            for kind in ("read", "etag"):
                t0 = time.monotonic()
                r = c.get(f"/parks/{1}/indicators" if kind == "read" else f"/indicators/{ind}")
                out.append(Outcome(t0, kind, r.status_code, time.monotonic() - t0, r.headers.get("retry-after")))
            if r.status_code != 200:
                time.sleep(0.05)
                continue
            value = 100.0 + n  # unique per write: each accepted write can be found again
            t0 = time.monotonic()
            w = c.put(f"/indicators/{ind}", headers=auth(key, **{"If-Match": r.headers["etag"]}),
                      json={"value": value, "unit": "亿元", "source_document": f"fault stream {n}"})
            out.append(Outcome(t0, "write", w.status_code, time.monotonic() - t0, w.headers.get("retry-after"), value,
                               w.json().get("version") if w.status_code == 200 else None))


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
        outcomes: list[Outcome] = []
        stop = threading.Event()
        with running_service(url) as base:
            worker = threading.Thread(target=_stream, args=(base, keys["admin"], ind, stop, outcomes))
            worker.start()
            try:
                time.sleep(2.0)
                down_from = time.monotonic()
                cluster.stop()
                time.sleep(3.0)
                cluster.start()
                up_at = time.monotonic()
                deadline = up_at + 30
                while httpx.get(f"{base}/health", timeout=10).status_code != 200:
                    assert time.monotonic() < deadline, "service did not recover by itself"
                    time.sleep(0.2)
                recovered_s = time.monotonic() - up_at
                time.sleep(2.0)
            finally:
                stop.set()
                worker.join(timeout=60)
            assert not worker.is_alive()
        statuses = sorted({o.status for o in outcomes})
        during = [o for o in outcomes if down_from <= o.at < up_at]
        after = [o for o in outcomes if o.at >= up_at + recovered_s]
        writes_ok = [o for o in outcomes if o.kind == "write" and o.status == 200]
        print(f"\nfault: {len(outcomes)} requests, statuses {statuses}, "
              f"{sum(o.status == 503 for o in outcomes)} x 503, {len(writes_ok)} writes accepted, "
              f"max latency {max(o.latency_s for o in outcomes):.2f} s, healthy {recovered_s:.2f} s after restart")
        assert set(statuses) <= {200, 503}
        assert all(o.retry_after == "5" for o in outcomes if o.status == 503)
        assert any(o.status == 503 for o in during)            # the outage was seen ...
        assert after and all(o.status == 200 for o in after)   # ... and is over
        assert max(o.latency_s for o in outcomes) < MAX_LATENCY_S
        assert any(o.at < down_from for o in writes_ok) and any(o.at > up_at for o in writes_ok)
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
