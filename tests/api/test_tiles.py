"""Vector tiles from ST_AsMVT: content, addressing errors, and no silent truncation."""

from __future__ import annotations

from sqlalchemy import text

from gis_service.testing import mvt_layers, tile_bounds, tile_of


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
