"""The density answer's parcel step on Dask (and GeoPandas) over a GeoParquet export gives
the same rows as on PostGIS: park and zone levels, synthetic parcels, a park outside the data."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from distributed import LocalCluster
from shapely.geometry import box
from typer.testing import CliRunner

from gis_service.answers import DensityQuestion, answer_density
from gis_service.cli import app
from gis_service.db.models import ZoneKind
from gis_service.errors import InputError
from gis_service.export import export_parquet
from gis_service.parcels import generate_parcels, synthetic_boundaries, write_parcels
from gis_service.testing import insert_indicator, insert_park, insert_target_from_sample, insert_zone

BBOX = (121.20, 31.00, 121.26, 31.04)
COMPARED = ["unit_id", "area_km2", "density_yi_per_km2", "attainment_pct", "status"]


@pytest.fixture
def exported(engine, db_url, tmp_path, monkeypatch):  # type: ignore[no-untyped-def]
    parks = synthetic_boundaries(4, seed=3, bbox=BBOX, radius_deg=0.007)
    for i, row in enumerate(parks.itertuples()):
        park_id, _ = insert_park(engine, row.unit_id, row.unit_name, row.geometry)
        insert_indicator(engine, park_id, 2020, "output", 40.0 + 5 * i, "亿元")
    far, _ = insert_park(engine, "FAR", "无地块园区", box(121.30, 31.10, 121.31, 31.11))  # no parcel: missing, not 0
    insert_indicator(engine, far, 2020, "output", 10.0, "亿元")
    write_parcels(engine, generate_parcels(4000, seed=11, bbox=BBOX))
    insert_zone(engine, "W", "西片", box(121.19, 30.99, 121.215, 31.05), ZoneKind.pian)
    insert_zone(engine, "E", "东片", box(121.215, 30.99, 121.32, 31.12), ZoneKind.pian)
    insert_target_from_sample(engine)
    directory = tmp_path / "pq"
    export_parquet(engine, directory, rows_per_file=700)  # several files: several partitions
    monkeypatch.setenv("GIS_DATABASE_URL", db_url)
    return engine, directory


def _rows(answer) -> pd.DataFrame:  # type: ignore[no-untyped-def]
    present = [c for c in COMPARED if c in answer.rows.columns]
    return answer.rows[present].sort_values("unit_id").reset_index(drop=True)


def _same(a: pd.DataFrame, b: pd.DataFrame) -> None:
    assert list(a["unit_id"]) == list(b["unit_id"]) and list(a["status"]) == list(b["status"])
    for column in ("area_km2", "density_yi_per_km2", "attainment_pct"):
        np.testing.assert_allclose(a[column].to_numpy(float), b[column].to_numpy(float), rtol=1e-6, equal_nan=True)


@pytest.mark.parametrize("level", ["park", "pian"])
def test_dask_and_geopandas_engines_give_the_postgis_rows(exported, level) -> None:  # type: ignore[no-untyped-def]
    engine, directory = exported
    question = DensityQuestion(year=2020, level=level)
    pg = answer_density(engine, question)
    with LocalCluster(n_workers=2, processes=False, threads_per_worker=1, dashboard_address=None) as cluster:
        dk = answer_density(engine, question, parcel_engine="dask", scheduler=cluster.scheduler_address, parquet=directory)
    gp = answer_density(engine, question, parcel_engine="geopandas", parquet=directory)
    expected = _rows(pg)
    assert expected["density_yi_per_km2"].notna().sum() >= (4 if level == "park" else 1)  # a real test: land found
    _same(_rows(dk), expected)
    _same(_rows(gp), expected)
    assert dk.meta["question"]["parcel_engine"] == "dask" and pg.meta["question"]["parcel_engine"] == "postgis"
    if level == "park":
        far = dk.rows.set_index("unit_name").loc["无地块园区"]
        assert np.isnan(far["area_km2"]) and "does not cover" in far["basis_source"]
        assert all("(dask)" in s for s in dk.rows["basis_source"].dropna())


def test_engine_choice_is_checked(exported) -> None:  # type: ignore[no-untyped-def]
    engine, directory = exported
    with pytest.raises(InputError, match="parquet: the dask engine reads"):
        answer_density(engine, DensityQuestion(year=2020), parcel_engine="dask")
    with pytest.raises(InputError, match="engine: 'spark' is not a parcel engine"):
        answer_density(engine, DensityQuestion(year=2020), parcel_engine="spark", parquet=directory)
    with pytest.raises(InputError, match="is not a parquet export"):
        answer_density(engine, DensityQuestion(year=2020), parcel_engine="dask", parquet=directory / "parcels")


def test_cli_density_on_dask(exported) -> None:  # type: ignore[no-untyped-def]
    engine, directory = exported
    with LocalCluster(n_workers=1, processes=False, threads_per_worker=2, dashboard_address=None) as cluster:
        result = CliRunner().invoke(app, ["density", "--year", "2020", "--json", "--engine", "dask",
                                          "--scheduler", cluster.scheduler_address, "--parquet", str(directory)])
    assert result.exit_code == 0, result.output
    rows = pd.DataFrame(json.loads(result.stdout)["rows"])
    _same(rows[COMPARED].sort_values("unit_id").reset_index(drop=True), _rows(answer_density(engine, DensityQuestion(year=2020))))
