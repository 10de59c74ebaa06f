"""Tile data versions pushed by the database (LISTEN/NOTIFY): cache hits and 304s touch no
connection, a cold tile is one statement, the ETag always names the data the tile was read from,
and without the listener the route queries the versions itself."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from fastapi.testclient import TestClient
from sqlalchemy import Engine, create_engine, event, text

from gis_service.store.version_watch import VersionWatch
from gis_service.testing import mvt_layers, tile_of
from tests.api.test_tiles import TILE_POINT, insert_grid


def wait_until(predicate: Callable[[], bool], what: str, timeout: float = 20.0) -> None:
    """Wait for a condition (not a timing assertion: only a bound on a hang)."""
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, f"still waiting for {what}"
        time.sleep(0.01)


@dataclass
class Usage:
    statements: list[str]
    checkouts: int = 0


@contextmanager
def database_use(client: TestClient) -> Iterator[Usage]:
    """Statements executed and connections checked out by the app (both of its engines)."""
    usage = Usage([])
    engines: list[Engine] = [client.app.state.engine, client.app.state.tile_engine]  # type: ignore[attr-defined]

    def on_statement(conn, cursor, statement, parameters, context, executemany) -> None:  # type: ignore[no-untyped-def]
        usage.statements.append(statement)

    def on_checkout(dbapi_conn, record, proxy) -> None:  # type: ignore[no-untyped-def]
        usage.checkouts += 1

    for engine in engines:
        event.listen(engine, "before_cursor_execute", on_statement)
        event.listen(engine, "checkout", on_checkout)
    try:
        yield usage
    finally:
        for engine in engines:
            event.remove(engine, "before_cursor_execute", on_statement)
            event.remove(engine, "checkout", on_checkout)


def watch_of(client: TestClient) -> VersionWatch:
    watch: VersionWatch = client.app.state.version_watch  # type: ignore[attr-defined]
    assert watch.wait_live(20), "the version watch did not connect"
    return watch


def parcel_version(engine: Engine) -> int:
    with engine.connect() as conn:
        return int(conn.execute(text("SELECT version FROM data_change WHERE table_name = 'land_parcel'")).scalar_one())


def tile_url(z: int) -> str:
    x, y = tile_of(*TILE_POINT, z)
    return f"/tiles/parcels/{z}/{x}/{y}.mvt"


def test_another_connections_write_changes_the_etag_without_the_route_querying(client, engine) -> None:  # type: ignore[no-untyped-def]
    """A hit and a 304 use no connection; a cold tile is exactly one statement (no version query);
    a write through another connection (as the CLI makes) gives the next request its new ETag."""
    watch = watch_of(client)
    first = client.get(tile_url(14))
    assert first.status_code == 200 and first.headers["X-Tile-Cache"] == "miss"
    with database_use(client) as usage:
        hit = client.get(tile_url(14))
        not_modified = client.get(tile_url(14), headers={"If-None-Match": first.headers["ETag"]})
    assert hit.headers["X-Tile-Cache"] == "hit" and hit.content == first.content
    assert not_modified.status_code == 304
    assert usage.statements == [] and usage.checkouts == 0
    with database_use(client) as usage:
        cold = client.get(tile_url(15))
    assert cold.headers["X-Tile-Cache"] == "miss" and cold.headers["ETag"] == first.headers["ETag"]
    assert len(usage.statements) == 1 and "data_change" in usage.statements[0]  # read with the tile

    version = parcel_version(engine)
    insert_grid(engine, 14, *tile_of(*TILE_POINT, 14), 3, size=0.3)  # committed by another connection
    wait_until(lambda: watch.current(["land_parcel"]) == {"land_parcel": version + 1}, "the notification")
    with database_use(client) as usage:
        after = client.get(tile_url(14), headers={"If-None-Match": first.headers["ETag"]})
    assert after.status_code == 200 and after.headers["ETag"] != first.headers["ETag"]
    assert after.headers["X-Tile-Cache"] == "miss"
    assert mvt_layers(after.content)["parcels"] == mvt_layers(first.content)["parcels"] + 9
    assert len(usage.statements) == 1


def test_listener_down_falls_back_to_querying_then_recovers(client, engine, db_url) -> None:  # type: ignore[no-untyped-def]
    """With the listener's backend terminated (and kept from reconnecting) the route reads the
    versions itself and stays correct; once connections are allowed again it listens again."""
    watch = watch_of(client)
    first = client.get(tile_url(14))
    database = engine.url.database
    admin = create_engine(engine.url.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with engine.connect(), engine.connect():
        pass  # two connections pooled: no new one can be opened below
    try:
        with admin.connect() as conn:
            conn.execute(text(f'ALTER DATABASE "{database}" ALLOW_CONNECTIONS false'))
            conn.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": watch.backend_pid})
        wait_until(lambda: not watch.live, "the watch to notice its connection is gone")
        insert_grid(engine, 14, *tile_of(*TILE_POINT, 14), 3, size=0.3)  # a pooled connection
        with database_use(client) as usage:
            after = client.get(tile_url(14), headers={"If-None-Match": first.headers["ETag"]})
            again = client.get(tile_url(14))
        assert after.status_code == 200 and after.headers["X-Tile-Cache"] == "miss"
        assert after.headers["ETag"] != first.headers["ETag"]
        assert mvt_layers(after.content)["parcels"] == mvt_layers(first.content)["parcels"] + 9
        assert again.headers["X-Tile-Cache"] == "hit" and again.headers["ETag"] == after.headers["ETag"]
        assert sum("data_change" in s for s in usage.statements) == 3  # two version reads, one with the tile
        assert not watch.live
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'ALTER DATABASE "{database}" ALLOW_CONNECTIONS true'))
        admin.dispose()
    assert watch.wait_live(20), "the watch did not reconnect"
    with database_use(client) as usage:
        hit = client.get(tile_url(14))
    assert hit.headers["X-Tile-Cache"] == "hit" and hit.headers["ETag"] == after.headers["ETag"]
    assert usage.statements == []


def test_tile_engine_connections_killed_are_replaced(client, engine) -> None:  # type: ignore[no-untyped-def]
    """Every backend of the app killed (as by a database restart): the next tile is served,
    the tile engine having no pre-ping reads once more on a fresh connection."""
    first = client.get(tile_url(14))
    with engine.connect() as conn:
        killed = conn.execute(text("SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                                   "WHERE datname = current_database() AND pid <> pg_backend_pid()")).scalar_one()
    assert killed >= 1
    again = client.get(tile_url(15))
    assert again.status_code == 200 and again.headers["ETag"] == first.headers["ETag"]


def test_tile_rendered_while_the_version_changes_is_not_cached_under_the_old_etag(client, engine) -> None:  # type: ignore[no-untyped-def]
    """A write commits while its notification is held back: a tile rendered then carries the
    new data and the new ETag (read in the same statement), and is not kept under the old one."""
    watch = watch_of(client)
    old = client.get(tile_url(14)).headers["ETag"]  # the layer's ETag at the old version
    with watch.held():
        insert_grid(engine, 15, *tile_of(*TILE_POINT, 15), 3, size=0.3)
        assert watch.current(["land_parcel"]) != {"land_parcel": parcel_version(engine)}  # the copy lags
        rendered = client.get(tile_url(15))
        assert rendered.headers["X-Tile-Cache"] == "miss"
        assert rendered.headers["ETag"] != old
        assert mvt_layers(rendered.content)["parcels"] >= 9
        again = client.get(tile_url(15))  # the copy still says old: not a hit of the new content
        assert again.headers["X-Tile-Cache"] == "miss" and again.headers["ETag"] == rendered.headers["ETag"]
    wait_until(lambda: watch.current(["land_parcel"]) == {"land_parcel": parcel_version(engine)}, "the notification")
    caught_up = client.get(tile_url(15))
    assert caught_up.headers["X-Tile-Cache"] == "hit" and caught_up.headers["ETag"] == rendered.headers["ETag"]
    assert caught_up.content == rendered.content
