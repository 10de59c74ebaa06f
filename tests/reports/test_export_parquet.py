"""GeoParquet export: every layer, parcels per land layer and Hilbert-sorted, read back."""

from __future__ import annotations

import json
from pathlib import Path

import geopandas as gpd
import pyarrow.parquet as pq
import pytest
from sqlalchemy import Engine

import gis_service as gs
import gis_service.export as export_module
from gis_service.errors import InputError
from gis_service.export import HILBERT_LEVEL, LAYERS, export_parquet, read_parquet
from gis_service.parcels import generate_parcels, write_parcels
from gis_service.store import read_parks
from gis_service.store.readers import read_parcels


@pytest.fixture(scope="module")
def with_parcels(sample_engine: Engine) -> Engine:
    write_parcels(sample_engine, generate_parcels(3000, seed=4))
    return sample_engine


@pytest.mark.parametrize("centre_chunk", [500_000, 700])
def test_parquet_export_round_trip(with_parcels: Engine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                   centre_chunk: int) -> None:
    # 700: the parcels' centres and extent are read in several chunks (the export is streamed)
    # and the order must be the one of all parcels at once
    monkeypatch.setattr(export_module, "_CENTRE_CHUNK", centre_chunk)
    out = tmp_path / "pq"
    counts = export_parquet(with_parcels, out, year=2020, rows_per_file=1000)
    assert list(counts) == list(LAYERS) and counts["parcels"] == 3000 and counts["parks"] == 8
    manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    files = manifest["layers"]["parcels"]["files"]
    assert len(files) == 3 and all(f.startswith("parcels/part-register-") for f in files)
    assert "近似" in manifest["layers"]["parks"]["description_zh"]
    geo = json.loads(pq.read_schema(out / files[0]).metadata[b"geo"])
    assert geo["version"].startswith("1.") and geo["primary_column"] == "geometry"
    assert "bbox" in geo["columns"]["geometry"]["covering"]
    # spatially sorted: the Hilbert key of the parcel centres (EPSG:4549) never decreases
    parcels = read_parquet(out)
    projected = parcels.geometry.to_crs(4549)
    key = gpd.GeoSeries(projected.centroid, crs=4549).hilbert_distance(total_bounds=projected.total_bounds, level=HILBERT_LEVEL)
    assert key.is_monotonic_increasing
    stored = read_parcels(with_parcels).set_index("parcel_id").sort_index()
    back = parcels.set_index("parcel_id").sort_index()
    assert back.crs.to_epsg() == 4326 and list(back.index) == list(stored.index)
    for column in ("source_document", "is_synthetic", "land_use_class", "area_m2"):  # provenance kept
        assert list(back[column]) == list(stored[column]), column
    assert back.geometry.geom_equals_exact(stored.geometry, tolerance=1e-12).all()
    parks = gs.read_parquet(out, "parks")
    assert list(parks["name"]) == list(read_parks(with_parcels, year=2020)["name"])
    assert "source_section" in parks and "geometry_quality" in parks
    assert len(gs.read_parquet(out, "indicators")) == counts["indicators"]


def test_parquet_errors_name_the_directory_and_layer(with_parcels: Engine, tmp_path: Path) -> None:
    with pytest.raises(InputError, match="is not a parquet export"):
        read_parquet(tmp_path)
    export_parquet(with_parcels, tmp_path / "pq")
    with pytest.raises(InputError, match="layer 'lakes' is not in"):
        read_parquet(tmp_path / "pq", "lakes")
