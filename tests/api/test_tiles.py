"""Vector tiles from ST_AsMVT: content, addressing errors, and no silent truncation."""

from __future__ import annotations

import math

from sqlalchemy import text


def tile_of(lon: float, lat: float, z: int) -> tuple[int, int]:
    n = 2**z
    x = int((lon + 180) / 360 * n)
    y = int((1 - math.asinh(math.tan(math.radians(lat))) / math.pi) / 2 * n)
    return x, y


def tile_bounds(z: int, x: int, y: int) -> tuple[float, float, float, float]:
    """(west, south, east, north) of a tile, degrees."""
    n = 2**z

    def lat(row: int) -> float:
        return math.degrees(math.atan(math.sinh(math.pi * (1 - 2 * row / n))))

    return x / n * 360 - 180, lat(y + 1), (x + 1) / n * 360 - 180, lat(y)


def _varint(buf: bytes, i: int) -> tuple[int, int]:
    shift = value = 0
    while True:
        b = buf[i]
        i += 1
        value |= (b & 0x7F) << shift
        shift += 7
        if b < 0x80:
            return value, i


def _fields(buf: bytes) -> list[tuple[int, bytes | int]]:
    """Top-level protobuf fields (number, payload) of a message."""
    out, i = [], 0
    while i < len(buf):
        key, i = _varint(buf, i)
        number, wire = key >> 3, key & 7
        if wire == 0:
            value, i = _varint(buf, i)
            out.append((number, value))
        elif wire == 2:
            size, i = _varint(buf, i)
            out.append((number, buf[i:i + size]))
            i += size
        elif wire == 5:
            out.append((number, buf[i:i + 4]))
            i += 4
        else:
            out.append((number, buf[i:i + 8]))
            i += 8
    return out


def mvt_layers(tile: bytes) -> dict[str, int]:
    """Layer name -> number of features of a Mapbox vector tile."""
    layers = {}
    for number, layer in _fields(tile):
        if number == 3:
            parts = _fields(layer)  # type: ignore[arg-type]
            name = next(v for n, v in parts if n == 1).decode()  # type: ignore[union-attr]
            layers[name] = sum(1 for n, _ in parts if n == 2)
    return layers


def test_park_tile_holds_the_park(client) -> None:  # type: ignore[no-untyped-def]
    x, y = tile_of(121.305, 31.055, 14)
    r = client.get(f"/tiles/parks/14/{x}/{y}.mvt")
    assert r.status_code == 200 and r.headers["content-type"] == "application/vnd.mapbox-vector-tile"
    assert mvt_layers(r.content) == {"parks": 1}
    assert "测试东园".encode() in r.content
    far_x, far_y = tile_of(0.0, 0.0, 14)
    assert client.get(f"/tiles/parks/14/{far_x}/{far_y}.mvt").content == b""


def test_tile_errors(client) -> None:  # type: ignore[no-untyped-def]
    assert client.get("/tiles/lakes/14/1/1.mvt").status_code == 404
    r = client.get("/tiles/parcels/5/1/1.mvt")
    assert r.status_code == 422 and "start at zoom 10" in r.json()["description"]
    assert client.get("/tiles/parks/3/8/0.mvt").status_code == 422
    assert client.get("/tiles/parks/30/0/0.mvt").status_code == 422
    assert client.get("/tiles/parks.json").json()["minzoom"] == 0
    assert client.get("/tiles/parcels.json").json()["minzoom"] == 10


def test_parcel_tile_is_never_truncated(client, engine) -> None:  # type: ignore[no-untyped-def]
    """12,000 parcels in one z14 tile all come back (tipg cuts at 10,000 without saying so)."""
    x, y = tile_of(121.305, 31.055, 14)
    west, south, east, north = tile_bounds(14, x, y)
    dx, dy = (east - west) / 130, (north - south) / 110  # a 120 x 100 grid well inside the tile
    with engine.begin() as conn:
        conn.execute(text("""
            INSERT INTO land_parcel (geom, land_use_class, is_supplied, is_synthetic, source_document)
            SELECT ST_Multi(ST_MakeEnvelope(:w + (i + 5) * :dx, :s + (j + 5) * :dy,
                                            :w + (i + 5.6) * :dx, :s + (j + 5.6) * :dy, 4326)),
                   'industrial', true, true, 'test'
            FROM generate_series(0, 119) i, generate_series(0, 99) j
        """), {"w": west, "s": south, "dx": dx, "dy": dy})
    with engine.connect() as conn:
        in_tile = conn.execute(text("SELECT count(*) FROM land_parcel WHERE geom && ST_MakeEnvelope(:w, :s, :e, :n, 4326)"),
                               {"w": west, "s": south, "e": east, "n": north}).scalar_one()
    assert in_tile == 12_000 + 1  # + the sample parcel e1
    r = client.get(f"/tiles/parcels/14/{x}/{y}.mvt")
    assert r.status_code == 200
    assert mvt_layers(r.content) == {"parcels": in_tile}
