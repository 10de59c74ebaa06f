"""Request bodies and query strings are bounded before anything reads them (issue 15, item 6).

A real uvicorn server and a raw socket: the client declares a body far larger than what it
sends, so a server that read the whole body (or ran authentication first) would wait for the
rest, and the test would end on the socket timeout instead of a 413.
"""

from __future__ import annotations

import json
import socket
from collections.abc import Callable, Iterator

import pytest
from sqlalchemy import create_engine

from gis_service.security import create_key
from gis_service.testing import UVICORN_APP, running_server

#: far below the defaults, so that the chunked tests send little
JSON_LIMIT = 64 * 1024
UPLOAD_LIMIT = 256 * 1024
LAND_LIMIT = 1024 * 1024
QUERY_LIMIT = 2048
SOCKET_TIMEOUT_S = 20


@pytest.fixture(scope="module")
def database(make_database: Callable[[], str]) -> str:
    return make_database()


@pytest.fixture(scope="module")
def admin_key(database: str) -> str:
    engine = create_engine(database)
    try:
        return create_key(engine, name="admin", role="admin", actor="test")[1]
    finally:
        engine.dispose()


@pytest.fixture(scope="module")
def server(database: str) -> Iterator[tuple[str, int]]:
    env = {"GIS_DATABASE_URL": database, "GIS_MAX_BODY_BYTES": str(JSON_LIMIT),
           "GIS_MAX_QUERY_BYTES": str(QUERY_LIMIT), "GIS_IMPORT_MAX_UPLOAD_BYTES": str(UPLOAD_LIMIT),
           "GIS_IMPORT_MAX_LAND_UPLOAD_BYTES": str(LAND_LIMIT)}
    with running_server(UVICORN_APP, env=env, quiet=True) as base:
        host, port = base.removeprefix("http://").split(":")
        yield host, int(port)


def _response(sock: socket.socket) -> tuple[int, dict[str, str], dict[str, object]]:
    """Status, headers and JSON body of the one response on ``sock`` (read until the server closes
    or the declared length has arrived)."""
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(65536)
        assert chunk, f"connection closed before a response: {data!r}"
        data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    headers = {k.strip().lower(): v.strip() for k, _, v in (line.partition(":") for line in lines[1:])}
    length = int(headers.get("content-length", "0"))
    while len(body) < length:
        chunk = sock.recv(65536)
        assert chunk, "connection closed inside the response body"
        body += chunk
    return int(lines[0].split()[1]), headers, json.loads(body[:length] or b"{}")


def _declared(server: tuple[str, int], method: str, path: str, declared: int, sent: bytes = b"{" * 1024,
              content_type: str = "application/json") -> tuple[int, dict[str, str], dict[str, object]]:
    """Send the head of a request declaring ``declared`` body bytes but only ``sent`` of them."""
    with socket.create_connection(server, timeout=SOCKET_TIMEOUT_S) as sock:
        sock.sendall(f"{method} {path} HTTP/1.1\r\nHost: localhost\r\nContent-Type: {content_type}\r\n"
                     f"Content-Length: {declared}\r\n\r\n".encode() + sent)
        return _response(sock)


def _chunked(server: tuple[str, int], method: str, path: str, total: int, chunk: int = 16 * 1024,
             key: str | None = None) -> tuple[int, dict[str, str], dict[str, object]]:
    """Stream ``total`` body bytes without a Content-Length (chunked), without the final chunk."""
    with socket.create_connection(server, timeout=SOCKET_TIMEOUT_S) as sock:
        auth = f"X-API-Key: {key}\r\n" if key else ""
        sock.sendall(f"{method} {path} HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\n{auth}"
                     "Transfer-Encoding: chunked\r\n\r\n".encode())
        sent = 0
        try:
            while sent < total:
                sock.sendall(f"{chunk:x}\r\n".encode() + b" " * chunk + b"\r\n")
                sent += chunk
        except (BrokenPipeError, ConnectionResetError):
            pass  # the server answered and closed while the body was still coming: what is wanted
        return _response(sock)


def test_a_declared_json_body_over_the_limit_is_413_before_auth(server) -> None:  # type: ignore[no-untyped-def]
    status, headers, body = _declared(server, "PUT", "/targets/t1", 100 * 1024**2)  # no key given
    assert status == 413, body
    assert body["code"] == "PayloadTooLarge" and body["status"] == 413
    assert str(JSON_LIMIT) in str(body["description"]) and "GIS_MAX_BODY_BYTES" in str(body["description"])
    assert headers.get("connection") == "close"


def test_a_declared_body_over_the_limit_is_413_on_any_route(server) -> None:  # type: ignore[no-untyped-def]
    for method, path in (("POST", "/metrics/whatif"), ("POST", "/sizhi/verify"), ("POST", "/nowhere"),
                         ("GET", "/towns")):
        status, _, body = _declared(server, method, path, JSON_LIMIT + 1)
        assert status == 413, (method, path, body)


def test_a_chunked_json_body_over_the_limit_is_413_before_auth(server) -> None:  # type: ignore[no-untyped-def]
    status, headers, body = _chunked(server, "PUT", "/targets/t1", JSON_LIMIT + 64 * 1024)
    assert status == 413, body
    assert "GIS_MAX_BODY_BYTES" in str(body["description"]) and headers.get("connection") == "close"


def test_a_chunked_json_body_under_the_limit_reaches_auth(server) -> None:  # type: ignore[no-untyped-def]
    with socket.create_connection(server, timeout=SOCKET_TIMEOUT_S) as sock:
        payload = b'{"scope": "songjiang"}'
        sock.sendall(b"PUT /targets/t1 HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\n"
                     b"Transfer-Encoding: chunked\r\n\r\n" + f"{len(payload):x}\r\n".encode() + payload + b"\r\n0\r\n\r\n")
        status, _, _ = _response(sock)
    assert status in (401, 422)


def test_uploads_have_the_upload_limits(server) -> None:  # type: ignore[no-untyped-def]
    # over the JSON limit but under the upload limit: the route runs (401 without a key) ...
    status, _, _ = _declared(server, "POST", "/imports/indicators?filename=a.csv", UPLOAD_LIMIT, b"",
                             "text/csv")
    assert status == 401
    # ... over the upload limit: 413 before auth, naming the upload setting
    status, _, body = _declared(server, "POST", "/imports/indicators?filename=a.csv", UPLOAD_LIMIT + 1, b"x",
                                "text/csv")
    assert status == 413 and "GIS_IMPORT_MAX_UPLOAD_BYTES" in str(body["description"])
    status, _, _ = _declared(server, "POST", "/imports/layers/roads?filename=a.geojson", UPLOAD_LIMIT + 1, b"")
    assert status == 413
    # land files have their own, larger limit
    land = "/imports/landuse?filename=a.zip&year=2023&source_document=x"
    status, _, _ = _declared(server, "POST", land, UPLOAD_LIMIT + 1, b"", "application/zip")
    assert status == 401
    status, _, body = _declared(server, "POST", land, LAND_LIMIT + 1, b"", "application/zip")
    assert status == 413 and "GIS_IMPORT_MAX_LAND_UPLOAD_BYTES" in str(body["description"])


def test_a_chunked_upload_over_the_limit_is_413(server, admin_key) -> None:  # type: ignore[no-untyped-def]
    # without a key the upload route answers 401 before reading; with one it reads, up to the limit
    path = "/imports/boundaries?filename=a.geojson&valid_from=2024-01-01&source_document=x"
    status, _, body = _chunked(server, "POST", path, UPLOAD_LIMIT + 64 * 1024, key=admin_key)
    assert status == 413 and "GIS_IMPORT_MAX_UPLOAD_BYTES" in str(body["description"])


def test_a_query_string_over_the_limit_is_414(server) -> None:  # type: ignore[no-untyped-def]
    with socket.create_connection(server, timeout=SOCKET_TIMEOUT_S) as sock:
        sock.sendall(f"GET /towns?x={'a' * QUERY_LIMIT} HTTP/1.1\r\nHost: localhost\r\n\r\n".encode())
        status, _, body = _response(sock)
    assert status == 414 and "GIS_MAX_QUERY_BYTES" in str(body["description"]) and str(QUERY_LIMIT) in str(body)


def test_the_service_still_answers_after_refusals(server) -> None:  # type: ignore[no-untyped-def]
    import httpx

    host, port = server
    assert httpx.get(f"http://{host}:{port}/health", timeout=10).status_code == 200
