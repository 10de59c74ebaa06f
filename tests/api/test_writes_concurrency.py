"""50 concurrent updates of one indicator through a real uvicorn server: no lost update.

Each scenario starts 50 threads at a barrier, each with its own HTTP connection, all on the
output of 测试西园 (100 亿元 at version 1).  Afterwards the stored value, its version and the
audit log must account for every 2xx answer, and for nothing else.
"""

from __future__ import annotations

import threading
from collections import Counter
from concurrent.futures import ThreadPoolExecutor

import httpx
from sqlalchemy import Engine, text

from gis_service.testing import running_service
from tests.api.writes_support import audit_rows, auth, indicator_id, make_keys

WRITERS = 50


def _stored(engine: Engine, ind: int) -> tuple[float, int]:
    with engine.connect() as conn:
        value, version = conn.execute(text("SELECT value, version FROM indicator WHERE id = :i"), {"i": ind}).one()
    return float(value), int(version)


def _run(n: int, work) -> list:  # type: ignore[no-untyped-def,type-arg]
    barrier = threading.Barrier(n)

    def start(i: int):  # type: ignore[no-untyped-def]
        barrier.wait(timeout=30)
        return work(i)

    with ThreadPoolExecutor(max_workers=n) as pool:
        return list(pool.map(start, range(n)))


def test_fifty_concurrent_increments_with_if_match_lose_nothing(db_url, engine, sample) -> None:  # type: ignore[no-untyped-def]
    """Read-modify-write +1 with If-Match, retrying on 412: the total must be exactly +50."""
    keys = make_keys(engine)
    ind = indicator_id(engine, sample["west"])
    with running_service(db_url) as base:

        def increment(i: int) -> tuple[int, int]:
            key = keys["analyst"] if i % 2 else keys["pm_own"]
            conflicts = 0
            with httpx.Client(base_url=base, timeout=30) as c:
                r = c.get(f"/indicators/{ind}")
                tag, value = r.headers["etag"], r.json()["value"]
                for _ in range(500):
                    put = c.put(f"/indicators/{ind}", headers=auth(key, **{"If-Match": tag}),
                                json={"value": value + 1, "unit": "亿元", "source_document": f"writer {i}"})
                    if put.status_code == 200:
                        return put.json()["version"], conflicts
                    assert put.status_code == 412, put.text
                    conflicts += 1
                    # the 412 carries the current value and its ETag: retry from there, no extra GET
                    tag, value = put.headers["etag"], put.json()["current"]["value"]
            raise AssertionError(f"writer {i} never got through")

        results = _run(WRITERS, increment)
    versions = sorted(v for v, _ in results)
    conflicts = sum(c for _, c in results)
    print(f"\nconcurrency with If-Match: {WRITERS} accepted, {conflicts} answered 412 and retried")
    assert versions == list(range(2, WRITERS + 2))  # every accepted write got its own version
    assert _stored(engine, ind) == (100.0 + WRITERS, 1 + WRITERS)
    rows = [r for r in audit_rows(engine, "indicator") if r["row_id"] == str(ind)]
    assert len(rows) == WRITERS
    # the audit log is one unbroken chain: each write starts from the previous one's result
    chain = sorted(rows, key=lambda r: r["after"]["version"])
    for prev, row in zip([None, *chain], chain, strict=False):
        assert row["after"]["value"] == row["before"]["value"] + 1
        if prev is not None:
            assert row["before"] == prev["after"]
    assert conflicts > 0  # the scenario did produce contention


def test_fifty_writers_on_the_same_etag_only_one_wins(db_url, engine, sample) -> None:  # type: ignore[no-untyped-def]
    keys = make_keys(engine)
    ind = indicator_id(engine, sample["west"])
    with running_service(db_url) as base:

        def put(i: int) -> tuple[int, float]:
            with httpx.Client(base_url=base, timeout=30) as c:
                r = c.put(f"/indicators/{ind}", headers=auth(keys["admin"], **{"If-Match": '"v1"'}),
                          json={"value": 200 + i, "unit": "亿元", "source_document": f"writer {i}"})
            if r.status_code == 412:
                assert r.json()["current"]["version"] == 2
            return r.status_code, 200 + i

        results = _run(WRITERS, put)
    statuses = Counter(s for s, _ in results)
    assert statuses == Counter({200: 1, 412: WRITERS - 1})
    [winner] = [v for s, v in results if s == 200]
    assert _stored(engine, ind) == (winner, 2)
    [row] = audit_rows(engine, "indicator")
    assert (row["before"]["value"], row["after"]["value"]) == (100.0, winner)


def test_fifty_writers_without_if_match_are_all_refused(db_url, engine, sample) -> None:  # type: ignore[no-untyped-def]
    keys = make_keys(engine)
    ind = indicator_id(engine, sample["west"])
    with running_service(db_url) as base:

        def put(i: int) -> int:
            with httpx.Client(base_url=base, timeout=30) as c:
                return c.put(f"/indicators/{ind}", headers=auth(keys["admin"]),
                             json={"value": 300 + i, "unit": "亿元", "source_document": "x"}).status_code

        statuses = Counter(_run(WRITERS, put))
    assert statuses == Counter({428: WRITERS})
    assert _stored(engine, ind) == (100.0, 1)
    assert audit_rows(engine, "indicator") == []
