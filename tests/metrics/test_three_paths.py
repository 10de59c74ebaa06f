"""GeoPandas, PostGIS and dask-geopandas give the same parcel bases (1e-6 relative)."""

import datetime as dt

import geopandas as gpd
import numpy as np
import pytest
from distributed import Client, LocalCluster
from shapely.geometry import box

from gis_service.db.models import ZoneKind
from gis_service.answers import DensityQuestion, answer_density
from gis_service.metrics.apportion import zone_shares
from gis_service.metrics.parcel_land import parcel_bases
from gis_service.metrics.dask_path import parcel_bases_dask
from gis_service.metrics.postgis import parcel_bases_sql, zone_piece_bases_sql
from gis_service.parcels import generate_parcels, synthetic_boundaries, write_parcels
from gis_service.store.readers import read_parcels
from gis_service.testing import insert_indicator, insert_park, insert_target_from_sample, insert_zone

BASES = ["supplied_industrial_land", "industrial_land", "built_up_land"]
BBOX = (121.20, 31.00, 121.26, 31.04)


@pytest.fixture
def synthetic_db(engine):
    parks = synthetic_boundaries(4, seed=3, bbox=BBOX, radius_deg=0.007)
    ids = {}
    for row in parks.itertuples():
        ids[row.unit_id] = insert_park(engine, row.unit_id, row.unit_name, row.geometry)
    # a later boundary version of park 1 must not be used for 2020
    insert_park(engine, "OLD", "旧边界园区", parks.geometry.iloc[0], valid_from=dt.date(2000, 1, 1), valid_to=dt.date(2015, 1, 1))
    parcels = generate_parcels(4000, seed=11, bbox=BBOX)
    write_parcels(engine, parcels)
    units = parks.assign(park_id=[ids[u][0] for u in parks["unit_id"]], boundary_version=[ids[u][1] for u in parks["unit_id"]])
    units = units.assign(unit_id=units["park_id"])
    return engine, units, parcels


def _by(frame):
    return frame.set_index(["unit_id", "basis"]).sort_index()


def test_geopandas_postgis_dask_agree(synthetic_db):
    engine, units, parcels = synthetic_db
    gp = _by(parcel_bases(units, parcels, bases=BASES, year=2020))
    pg = _by(parcel_bases_sql(engine, year=2020, bases=BASES))
    pg = pg[pg.index.get_level_values(0).isin(units["unit_id"])]  # the OLD park has no boundary in 2020
    assert len(pg) == len(gp) == 12
    assert (gp["area_km2"] > 0.05).all()  # a real test: every park has land of each basis
    np.testing.assert_allclose(pg["area_km2"].to_numpy(float), gp["area_km2"].to_numpy(float), rtol=1e-6)
    np.testing.assert_array_equal(pg["n_parcels"].to_numpy(int), gp["n_parcels"].to_numpy(int))
    assert pg["is_synthetic"].all() and gp["is_synthetic"].all()
    with LocalCluster(n_workers=2, processes=False, threads_per_worker=1, dashboard_address=None) as cluster, Client(cluster):
        dk = _by(parcel_bases_dask(units, parcels, bases=BASES, year=2020, npartitions=5))
    np.testing.assert_allclose(dk["area_km2"].to_numpy(float), gp["area_km2"].to_numpy(float), rtol=1e-6)
    np.testing.assert_array_equal(dk["n_parcels"].to_numpy(int), gp["n_parcels"].to_numpy(int))
    # the parcels read back from the database give the same numbers too
    stored = read_parcels(engine)
    again = _by(parcel_bases(units, stored, bases=BASES, year=2020))
    np.testing.assert_allclose(again["area_km2"].to_numpy(float), gp["area_km2"].to_numpy(float), rtol=1e-9)


def test_zone_pieces_agree_and_end_to_end_answer(synthetic_db):
    engine, units, parcels = synthetic_db
    z_w = insert_zone(engine, "W", "西片", box(121.19, 30.99, 121.215, 31.05), ZoneKind.pian)
    z_e = insert_zone(engine, "E", "东片", box(121.215, 30.99, 121.27, 31.05), ZoneKind.pian)
    zones = gpd.GeoDataFrame({"zone_id": [z_w, z_e]}, geometry=[box(121.19, 30.99, 121.215, 31.05), box(121.215, 30.99, 121.27, 31.05)], crs=4326)
    bases_pg, shares_pg = zone_piece_bases_sql(engine, year=2020, zone_kind="pian")
    shares_gp = zone_shares(units, zones, parcels=parcels, parcel_basis="supplied_industrial_land", year=2020)
    a = shares_pg.set_index(["unit_id", "zone_id"])["share"].sort_index()
    b = shares_gp.set_index(["unit_id", "zone_id"])["share"].sort_index()
    a = a[a.index.get_level_values(0).isin(units["unit_id"])]
    assert 0 < a.min() and a.max() <= 1
    np.testing.assert_allclose(a.groupby(level=0).sum().to_numpy(), 1.0, rtol=1e-9)  # zones cover every park
    assert (a < 0.999).any()  # some park straddles the two zones
    np.testing.assert_allclose(a.to_numpy(), b.loc[a.index].to_numpy(), rtol=1e-6)

    for pid in units["park_id"]:
        insert_indicator(engine, int(pid), 2020, "output", 50.0, "亿元")
    insert_target_from_sample(engine)
    parks = answer_density(engine, DensityQuestion(year=2020)).rows.set_index("unit_id")
    land = _by(parcel_bases(units, parcels, bases=["supplied_industrial_land"], year=2020))["area_km2"]
    for pid in units["park_id"]:
        assert parks.loc[pid, "density_yi_per_km2"] == pytest.approx(50.0 / land[(pid, "supplied_industrial_land")], rel=1e-6)
    assert parks.loc[parks["unit_name"] == "旧边界园区", "status"].iloc[0] == "无数据"
    assert set(parks["status"]) <= {"达标", "接近", "未达标", "无数据"}
    assert parks["uses_synthetic_data"].loc[units["park_id"]].all()
    zones_out = answer_density(engine, DensityQuestion(year=2020, level="pian")).rows.set_index("unit_id")
    expected_west = sum(50.0 * a.get((pid, z_w), 0.0) for pid in units["park_id"])
    assert zones_out.loc[z_w, "value_yi_yuan"] == pytest.approx(expected_west, rel=1e-9)
    assert zones_out.loc[z_w, "unit_name"] == "西片"


def test_park_outside_the_parcel_data_is_missing_not_zero_on_all_paths(engine):
    """A park no parcel of any use touches has unknown land (NaN), while a park whose parcels
    are all non-industrial has a true 0 — on the GeoPandas, PostGIS and dask paths alike."""
    covered_box = box(121.20, 31.00, 121.21, 31.01)
    far_box = box(121.30, 31.10, 121.31, 31.11)  # outside every parcel
    ids = {code: insert_park(engine, code, name, geom)
           for code, name, geom in (("IN", "有地块园区", covered_box), ("OUT", "无地块园区", far_box))}
    parcels = generate_parcels(400, seed=5, bbox=(121.199, 30.999, 121.211, 31.011))
    parcels["land_use_class"] = "residential"  # no industrial land anywhere: a true zero where covered
    write_parcels(engine, parcels)
    units = gpd.GeoDataFrame(
        {"unit_id": [ids["IN"][0], ids["OUT"][0]], "boundary_version": [ids["IN"][1], ids["OUT"][1]]},
        geometry=[covered_box, far_box], crs="EPSG:4326",
    )
    base = ["supplied_industrial_land"]
    gp = parcel_bases(units, parcels, bases=base, year=2020).set_index("unit_id")
    pg = parcel_bases_sql(engine, year=2020, bases=base).set_index("unit_id")
    with LocalCluster(n_workers=1, processes=False, threads_per_worker=1, dashboard_address=None) as cluster, Client(cluster):
        dk = parcel_bases_dask(units, parcels, bases=base, year=2020, npartitions=3).set_index("unit_id")
    for frame in (gp, pg, dk):
        assert frame.loc[ids["IN"][0], "area_km2"] == 0.0
        assert np.isnan(frame.loc[ids["OUT"][0], "area_km2"])
        assert "does not cover" in frame.loc[ids["OUT"][0], "basis_source"]
