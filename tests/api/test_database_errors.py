"""Database errors: whose fault they are decides the status.

- the database goes away during an import (connection refused, or terminated by the
  administrator while the import writes): 503 with ``Retry-After``, like reads, never a 422;
  the import can simply be sent again once the database is back;
- the database refuses a value of the file (a constraint, a value it cannot store): 422
  naming the file and the row;
- an SQL error of the service's own query (a table or column that is not there): a 500 whose
  body names only a reference; the log has the traceback under that reference.

Everything runs on the suite's real PostGIS.  The outage is made deterministic with an
SQLAlchemy ``before_cursor_execute`` hook: before the import's first write, another
connection terminates the import's backend (``pg_terminate_backend`` waits until it is gone),
so the write meets a connection closed by an administrator shutdown.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import psycopg
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, create_engine, event, make_url, text
from sqlalchemy import exc as sa_exc

from gis_service.api.app import create_app
from gis_service.api.config import ApiSettings
from gis_service.errors import DatabaseUnavailableError, InputError
from gis_service.ingest import import_boundaries, import_indicators, import_layer, load_layer
from gis_service.ingest.database_errors import database_errors
from gis_service.settings import Settings
from gis_service.testing import free_port
from tests.api.writes_support import auth, make_keys, table_fingerprint

WEST_2021 = "园区,年份,指标,数值,单位,来源\ntest-west,2021,output,1200000,万元,园区报表2021.xlsx\n"


def _square(x0: float, y0: float, d: float = 0.01) -> list[list[list[float]]]:
    return [[[x0, y0], [x0 + d, y0], [x0 + d, y0 + d], [x0, y0 + d], [x0, y0]]]


def _geojson(properties: dict[str, object], geometry: dict[str, object]) -> bytes:
    feature = {"type": "Feature", "properties": properties, "geometry": geometry}
    return json.dumps({"type": "FeatureCollection", "features": [feature]}, ensure_ascii=False).encode()


BOUNDARY = _geojson({"code": "test-west"}, {"type": "Polygon", "coordinates": _square(121.10, 31.00, 0.03)})
ROAD = _geojson({"name": "新建路", "kind": "road", "geometry_quality": "approximate", "source_document": "测绘2024"},
                {"type": "LineString", "coordinates": [[121.15, 31.0], [121.16, 31.01]]})

#: import -> (request, first statement that writes)
IMPORTS = {
    "indicators": (lambda c, h: c.post("/imports/indicators", params={"filename": "west.csv"},
                                       content=WEST_2021.encode(), headers=h), "INSERT INTO indicator"),
    "boundaries": (lambda c, h: c.post("/imports/boundaries", content=BOUNDARY, headers=h, params={
        "filename": "west.geojson", "valid_from": "2024-01-01", "source_document": "批复2024.pdf",
        "source_crs": "EPSG:4326"}), "UPDATE park_boundary"),
    "layer": (lambda c, h: c.post("/imports/layers/roads", params={"filename": "roads.geojson", "source_crs": "EPSG:4326"},
                                  content=ROAD, headers=h), "INSERT INTO road"),
}


@pytest.fixture
def keys(engine: Engine, sample: dict[str, int]) -> dict[str, str | None]:
    return make_keys(engine)


@pytest.fixture
def writer(db_url: str, sample: dict[str, int], keys: dict[str, str | None]) -> Iterator[TestClient]:
    app = create_app(Settings(database_url=db_url), ApiSettings(_env_file=None))  # type: ignore[call-arg]
    with TestClient(app, raise_server_exceptions=False) as c:
        yield c


@contextmanager
def backend_terminated_before(engine: Engine, db_url: str, statement: str) -> Iterator[threading.Event]:
    """Terminate the backend of the first connection of ``engine`` about to run ``statement``.

    The returned event is set once that happened; the statement then runs on a connection
    the server has closed (SQLSTATE 57P01, admin shutdown).
    """
    fired = threading.Event()
    admin_dsn = make_url(db_url).set(drivername="postgresql").render_as_string(hide_password=False)

    def before(conn, cursor, sql, parameters, context, executemany):  # type: ignore[no-untyped-def]
        if fired.is_set() or not sql.lstrip().startswith(statement):
            return
        pid = conn.connection.dbapi_connection.info.backend_pid
        with psycopg.connect(admin_dsn, autocommit=True) as admin:
            # with a timeout, pg_terminate_backend returns only once the backend has exited
            assert admin.execute("SELECT pg_terminate_backend(%s, 60000)", (pid,)).fetchone() == (True,)
        fired.set()

    event.listen(engine, "before_cursor_execute", before)
    try:
        yield fired
    finally:
        event.remove(engine, "before_cursor_execute", before)


# ----------------------------------------------------------------------------- outage: 503
@pytest.mark.parametrize("name", IMPORTS)
def test_database_shutdown_during_an_import_is_503_and_the_import_can_be_sent_again(
    writer: TestClient, engine: Engine, db_url: str, keys: dict[str, str | None], name: str
) -> None:
    send, statement = IMPORTS[name]
    admin = auth(keys["admin"])
    before = table_fingerprint(engine)
    with backend_terminated_before(writer.app.state.engine, db_url, statement) as fired:  # type: ignore[attr-defined]
        r = send(writer, admin)
    assert fired.is_set()
    assert r.status_code == 503, r.text
    assert r.headers["retry-after"] == "5"
    body = r.json()
    assert body["code"] == "ServiceUnavailable" and body["status"] == 503
    assert "rejected" not in r.text and "terminat" not in r.text and "postgresql" not in r.text
    assert table_fingerprint(engine) == before  # nothing half-written
    # the database is back (it never left: only the connection was cut); the pool reconnects by itself
    r = send(writer, admin)
    assert r.status_code == 200, r.text
    assert table_fingerprint(engine) != before


def test_import_on_an_unreachable_database_is_database_unavailable_not_input_error(sample_files: dict[str, Path]) -> None:
    refused = create_engine(f"postgresql+psycopg://gis:x@127.0.0.1:{free_port()}/gis", connect_args={"connect_timeout": 5})
    try:
        calls = {
            "indicators": lambda: import_indicators(refused, sample_files["indicators"], actor="t"),
            "boundaries": lambda: import_boundaries(refused, sample_files["boundaries"], valid_from=dt.date(2024, 1, 1),
                                                    source_document="x", actor="t", source_crs="EPSG:4326"),
            "layer": lambda: import_layer(refused, "roads", sample_files["roads"], actor="t", source_crs="EPSG:4326"),
        }
        for name, call in calls.items():
            with pytest.raises(DatabaseUnavailableError) as caught:
                call()
            assert not isinstance(caught.value, InputError), name
            assert sample_files[name].name in str(caught.value) and "retry later" in str(caught.value)
    finally:
        refused.dispose()


@pytest.fixture
def sample_files(tmp_path: Path) -> dict[str, Path]:
    files = {"indicators": tmp_path / "west.csv", "boundaries": tmp_path / "west.geojson", "roads": tmp_path / "roads.geojson"}
    files["indicators"].write_text(WEST_2021, encoding="utf-8")
    files["boundaries"].write_bytes(BOUNDARY)
    files["roads"].write_bytes(ROAD)
    files["layer"] = files["roads"]
    return files


# ----------------------------------------------------------------------------- the file's values: 422
def test_a_value_the_database_cannot_store_is_422_naming_the_row(writer: TestClient, engine: Engine,
                                                                 keys: dict[str, str | None]) -> None:
    before = table_fingerprint(engine)
    csv = "园区,年份,指标,数值,单位\ntest-west,2021,output,120,亿元\n"
    r = writer.post("/imports/indicators", params={"filename": "nul.csv", "source_document": "报表\x00"},
                    content=csv.encode(), headers=auth(keys["admin"]))
    assert r.status_code == 422, r.text
    assert r.json()["description"].startswith("nul.csv: line 2: rejected by the database: ")
    long_code = "t" * 65  # target.code is varchar(64)
    targets = ("code,scope,name,metric_code,basis,year,value,unit,source_document\n"
               "ok,songjiang,产值,output,supplied_industrial_land,2025,85,亿元/km²,x\n"
               f"{long_code},songjiang,产值,output,supplied_industrial_land,2025,85,亿元/km²,x\n")
    r = writer.post("/imports/layers/targets", params={"filename": "targets.csv"}, content=targets.encode(),
                    headers=auth(keys["admin"]))
    assert r.status_code == 422, r.text
    assert r.json()["description"].startswith("targets.csv: line 3: rejected by the database: value too long")
    assert table_fingerprint(engine) == before


def test_a_constraint_violation_is_an_input_error_naming_the_feature(engine: Engine, sample: dict[str, int],
                                                                    tmp_path: Path) -> None:
    path = tmp_path / "blocks.geojson"
    path.write_bytes(_geojson({"code": "test-west", "geometry_quality": "approximate", "source_document": "x",
                               "valid_from": "2024-01-01", "valid_to": "2023-01-01"},
                              {"type": "Polygon", "coordinates": _square(121.10, 31.00)}))
    with pytest.raises(InputError, match=r"^blocks\.geojson: feature 0 \(test-west\): rejected by the database: .*"
                                         r"boundary_validity_order"):
        load_layer(engine, "park_boundaries", path)


@pytest.mark.parametrize(("sqlstate", "outcome"), [
    ("08006", DatabaseUnavailableError),  # connection failure
    ("57P01", DatabaseUnavailableError),  # admin shutdown
    ("57014", DatabaseUnavailableError),  # statement timeout
    ("40001", DatabaseUnavailableError),  # serialization failure: retry
    ("23505", InputError),                # unique violation
    ("23514", InputError),                # check violation
    ("22001", InputError),                # value too long
    ("54000", InputError),                # program limit exceeded (an OperationalError caused by the input)
    ("42P01", sa_exc.ProgrammingError),   # undefined table: the service's fault, unchanged
    ("42703", sa_exc.ProgrammingError),   # undefined column
    ("XX000", sa_exc.InternalError),      # internal error
])
def test_classification_by_sqlstate(sqlstate: str, outcome: type[Exception]) -> None:
    orig = psycopg.errors.lookup(sqlstate)("message")
    with pytest.raises(outcome) as caught, database_errors("f.csv: line 2"):
        raise sa_exc.DBAPIError.instance("SELECT 1", {}, orig, psycopg.Error)
    if outcome is InputError:
        assert str(caught.value) == "f.csv: line 2: rejected by the database: message"
    elif outcome is DatabaseUnavailableError:
        assert str(caught.value).startswith("f.csv: line 2: the database became unavailable")


# ----------------------------------------------------------------------------- the service's SQL: 500
def _server_error(r, caplog: pytest.LogCaptureFixture, error: type[Exception]) -> None:  # type: ignore[no-untyped-def]
    assert r.status_code == 500, r.text
    body = r.json()
    assert set(body) == {"code", "description", "status", "reference"}
    assert body["code"] == "ServerError" and body["reference"] in body["description"]
    for internal in ("SELECT", "INSERT", "relation", "column", "note", "indicator", "psycopg", "sqlalchemy",
                     "Traceback", "postgresql"):
        assert internal not in r.text, internal
    logged = [rec for rec in caplog.records if body["reference"] in rec.getMessage()]
    assert len(logged) == 1 and logged[0].levelno == logging.ERROR
    assert logged[0].exc_info is not None and isinstance(logged[0].exc_info[1], error)  # the traceback is in the log


def test_sql_error_of_a_read_is_500_with_a_logged_reference(writer: TestClient, engine: Engine, sample: dict[str, int],
                                                            caplog: pytest.LogCaptureFixture) -> None:
    with engine.begin() as conn:
        conn.execute(text("DROP TABLE indicator CASCADE"))
    with caplog.at_level(logging.ERROR, logger="gis_service.api.errors"):
        r = writer.get(f"/parks/{sample['west']}/indicators")
    _server_error(r, caplog, sa_exc.ProgrammingError)


def test_sql_error_of_an_import_is_500_not_422(writer: TestClient, engine: Engine, keys: dict[str, str | None],
                                               caplog: pytest.LogCaptureFixture) -> None:
    with engine.begin() as conn:
        conn.execute(text("ALTER TABLE indicator DROP COLUMN note CASCADE"))
        conn.execute(text("ALTER TABLE road DROP COLUMN note CASCADE"))
    send_indicators, _ = IMPORTS["indicators"]
    send_roads, _ = IMPORTS["layer"]
    with caplog.at_level(logging.ERROR, logger="gis_service.api.errors"):
        r = send_indicators(writer, auth(keys["admin"]))
    _server_error(r, caplog, sa_exc.ProgrammingError)
    caplog.clear()
    with caplog.at_level(logging.ERROR, logger="gis_service.api.errors"):
        r = send_roads(writer, auth(keys["admin"]))
    _server_error(r, caplog, sa_exc.ProgrammingError)
