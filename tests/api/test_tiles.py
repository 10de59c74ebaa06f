"""Vector tiles from ST_AsMVT: content, addressing errors, and no silent truncation."""

from __future__ import annotations

from sqlalchemy import text

from gis_service.testing import mvt_layers, tile_bounds, tile_of
from tests.api.conftest import make_client

TILE_POINT = (121.305, 31.055)  # in the sample's 测试东园


def insert_grid(engine, z: int, x: int, y: int, n: int, *, size: float = 0.6, pad: float = 0.0,  # type: ignore[no-untyped-def]
                land_use_class: str = "industrial") -> None:
    """n x n rectangular parcels over tile z/x/y (``pad`` cells beyond each edge), ``size`` of a cell."""
    west, south, east, north = tile_bounds(z, x, y)
    cells = n - 2 * pad
    dx, dy = (east - west) / cells, (north - south) / cells
    with engine.begin() as conn:
        conn.execute(text("""
            INSERT INTO land_parcel (geom, land_use_class, is_supplied, is_synthetic, source_document)
            SELECT ST_Multi(ST_MakeEnvelope(:w + (i - :pad) * :dx, :s + (j - :pad) * :dy,
                                            :w + (i - :pad + :size) * :dx, :s + (j - :pad + :size) * :dy, 4326)),
                   :cls, (i + j) % 3 = 0, true, 'test'
            FROM generate_series(0, :n - 1) i, generate_series(0, :n - 1) j
        """), {"w": west, "s": south, "dx": dx, "dy": dy, "n": n, "pad": pad, "size": size, "cls": land_use_class})


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
    assert client.get("/tiles/parks/3/8/0.mvt").status_code == 422
    assert client.get("/tiles/parks/30/0/0.mvt").status_code == 422
    assert client.get("/tiles/parks.json").json()["minzoom"] == 0
    assert client.get("/tiles/parcels.json").json()["minzoom"] == 0  # every zoom: generalised below 14


def test_parcel_minzoom_setting_refuses_lower_tiles(db_url, sample) -> None:  # type: ignore[no-untyped-def]
    with make_client(db_url, parcel_tile_minzoom=10) as client:
        r = client.get("/tiles/parcels/5/1/1.mvt")
        assert r.status_code == 422 and "start at zoom 10" in r.json()["description"]
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


def test_tile_etag_round_trip(client) -> None:  # type: ignore[no-untyped-def]
    """A repeated tile comes from the cache; the ETag sent back gets a 304 with no body."""
    x, y = tile_of(*TILE_POINT, 14)
    first = client.get(f"/tiles/parcels/14/{x}/{y}.mvt")
    assert first.status_code == 200 and first.headers["X-Tile-Cache"] == "miss"
    etag = first.headers["ETag"]
    again = client.get(f"/tiles/parcels/14/{x}/{y}.mvt")
    assert again.headers["X-Tile-Cache"] == "hit" and again.content == first.content and again.headers["ETag"] == etag
    not_modified = client.get(f"/tiles/parcels/14/{x}/{y}.mvt", headers={"If-None-Match": etag})
    assert not_modified.status_code == 304 and not_modified.content == b"" and not_modified.headers["ETag"] == etag
    weak_list = client.get(f"/tiles/parcels/14/{x}/{y}.mvt", headers={"If-None-Match": f'"other", W/{etag}'})
    assert weak_list.status_code == 304
    assert client.get(f"/tiles/parcels/14/{x}/{y}.mvt", headers={"If-None-Match": '"other"'}).status_code == 200


def test_data_change_changes_the_etag(client, engine) -> None:  # type: ignore[no-untyped-def]
    """A committed write to the parcels gives a new ETag and the new content, never the cached tile."""
    x, y = tile_of(*TILE_POINT, 14)
    before = client.get(f"/tiles/parcels/14/{x}/{y}.mvt")
    parks_before = client.get(f"/tiles/parks/14/{x}/{y}.mvt").headers["ETag"]
    insert_grid(engine, 14, x, y, 3, size=0.3)
    after = client.get(f"/tiles/parcels/14/{x}/{y}.mvt", headers={"If-None-Match": before.headers["ETag"]})
    assert after.status_code == 200 and after.headers["ETag"] != before.headers["ETag"]
    assert after.headers["X-Tile-Cache"] == "miss"
    assert mvt_layers(after.content)["parcels"] == mvt_layers(before.content)["parcels"] + 9
    # the parks' tiles depend on the parks' tables only
    assert client.get(f"/tiles/parks/14/{x}/{y}.mvt").headers["ETag"] == parks_before


def test_detail_tile_keeps_every_parcel_to_its_buffer(client, engine) -> None:  # type: ignore[no-untyped-def]
    """At z14 every parcel meeting the tile is in it, and the buffer holds exactly what PostGIS's
    exact rendering (ST_Transform + ST_AsMVTGeom) keeps: the chord projection loses or adds nothing."""
    x, y = tile_of(*TILE_POINT, 14)
    insert_grid(engine, 14, x, y, 90, size=0.7, pad=3.3)
    with engine.connect() as conn:
        in_tile, exact = conn.execute(text("""
            SELECT count(*) FILTER (WHERE ST_Intersects(ST_Transform(geom, 3857), ST_TileEnvelope(14, :x, :y))),
                   count(ST_AsMVTGeom(ST_Transform(geom, 3857), ST_TileEnvelope(14, :x, :y), 4096, 64, true))
            FROM land_parcel"""), {"x": x, "y": y}).one()
    r = client.get(f"/tiles/parcels/14/{x}/{y}.mvt")
    assert r.status_code == 200 and "X-Tile-Generalisation" not in r.headers
    assert mvt_layers(r.content) == {"parcels": exact}
    assert exact >= in_tile >= 84 * 84
    assert b"generalised" not in r.content


def test_low_zoom_tile_is_generalised_bounded_and_labelled(client, engine) -> None:  # type: ignore[no-untyped-def]
    """50,625 small parcels in one z12 tile: the tile stays under the byte bound, small parcels
    are merged into cells, a large parcel is kept as itself, and the tile says it is generalised."""
    x, y = tile_of(*TILE_POINT, 12)
    insert_grid(engine, 12, x, y, 225, size=0.5)  # each about 0.6 px²: merged
    insert_grid(engine, 12, x, y, 2, size=0.2, land_use_class="residential")  # 51 px wide: kept
    r = client.get(f"/tiles/parcels/12/{x}/{y}.mvt")
    assert r.status_code == 200
    assert len(r.content) <= 500_000
    layers = mvt_layers(r.content)
    assert 0 < layers["parcel_cells"] <= 3 * 64 * 64
    assert 4 <= layers["parcels"] < 100  # the 4 large ones and the sample's, not the 50,625 small ones
    assert r.headers["X-Tile-Generalisation"].startswith("parcels >= 4 sq px")
    assert b"generalised" in r.content and b"coverage" in r.content
    tilejson = client.get("/tiles/parcels.json").json()
    assert tilejson["generalisation"]["full_detail_from_zoom"] == 14
    assert [layer["id"] for layer in tilejson["vector_layers"]] == ["parcels", "parcel_cells"]
    for z in range(13):  # every lower zoom is bounded too
        zx, zy = tile_of(*TILE_POINT, z)
        low = client.get(f"/tiles/parcels/{z}/{zx}/{zy}.mvt")
        assert low.status_code == 200 and len(low.content) <= 500_000, z
        assert sum(mvt_layers(low.content).values()) <= 3 * 64 * 64 + 256 * 256 // 4


def test_generalised_tile_falls_back_to_coarser_levels(db_url, sample, engine) -> None:  # type: ignore[no-untyped-def]
    """When the first level does not fit the byte bound the next coarser one is used."""
    x, y = tile_of(*TILE_POINT, 12)
    insert_grid(engine, 12, x, y, 110, size=0.9)  # each about 5 px²: kept at the first level
    with make_client(db_url, parcel_tile_max_bytes=50_000) as client:
        r = client.get(f"/tiles/parcels/12/{x}/{y}.mvt")
        assert r.status_code == 200 and len(r.content) <= 50_000
        assert r.headers["X-Tile-Generalisation"] != "parcels >= 4 sq px kept; smaller merged into 4 px cells"
    with make_client(db_url) as client:  # the default bound keeps them
        assert mvt_layers(client.get(f"/tiles/parcels/12/{x}/{y}.mvt").content)["parcels"] >= 110 * 110


def test_tiles_at_the_grid_edge(client, engine) -> None:  # type: ignore[no-untyped-def]
    """A tile on the east edge of the grid (z1 1/0): its buffer crosses the antimeridian, and the
    search box must not turn inside out (it did: ST_Transform of the widened ST_TileEnvelope)."""
    with engine.begin() as conn:
        conn.execute(text("""
            INSERT INTO land_parcel (geom, land_use_class, is_supplied, is_synthetic, source_document)
            VALUES (ST_Multi(ST_MakeEnvelope(120, 30, 122, 32, 4326)), 'industrial', true, true, 'test')"""))
    for z in range(3):
        x, y = tile_of(121.0, 31.0, z)
        assert sum(mvt_layers(client.get(f"/tiles/parcels/{z}/{x}/{y}.mvt").content).values()) >= 1, z
