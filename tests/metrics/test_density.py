"""Bases and densities on hand-computed cases, and 004 表1 reproduced."""

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest

from gis_service.errors import InputError, NotFoundError
from gis_service.metrics.area_bases import bases_from_areas, measured_area_base, published_area_base
from gis_service.metrics.density import density_table
from gis_service.metrics.errors import (
    DuplicateUnitError,
    NegativeValueError,
    NoDataForYearError,
    UnknownBasisError,
    UnknownUnitError,
)
from gis_service.metrics.parcel_land import parcel_bases
from tests.metrics.helpers import rect, to_4326

SRC_004 = "004_a9d02975ccfca6ed.txt"


def test_reproduces_004_table1_densities():
    """004 表1: 1274.61 亿元 / 22.98 km² = 55.47, 67.09 / 22.98 = 2.92 亿元/km²."""
    units = pd.DataFrame({"unit_id": ["songjiang_yuan"], "unit_name": ["张江高新区松江园"]})
    indicators = pd.DataFrame(
        {
            "unit_id": ["songjiang_yuan"] * 3,
            "year": [2020] * 3,
            "metric_code": ["revenue", "tax", "jurisdiction_area"],
            "value": [1274.61, 67.09, 22.98],
            "unit": ["亿元", "亿元", "平方公里"],
            "source_document": [SRC_004] * 3,
            "source_section": ["三(二) 表1 #4", "三(二) 表1 #5", "二(一) 总面积约22.98平方公里"],
        }
    )
    bases = published_area_base(indicators, year=2020)
    table = density_table(units, indicators, bases, year=2020, numerators=["revenue", "tax"])
    got = table.set_index("numerator")["density_yi_per_km2"]
    assert round(got["revenue"], 2) == 55.47
    assert round(got["tax"], 2) == 2.92
    row = table.set_index("numerator").loc["revenue"]
    assert row["basis"] == "published_area"
    assert row["numerator_source"] == f"{SRC_004} 三(二) 表1 #4"
    assert "22.98" in row["basis_source"]
    assert row["area_mu"] == pytest.approx(34_470)
    assert row["mu_jun_wan_per_mu"] == pytest.approx(1274.61 * 1e4 / 34_470)


def _square_case():
    """Unit: 1000 m × 1000 m square (1 km²).  Parcels (EPSG:4549, metres):

    a: 200×100 inside, industrial, supplied   -> 20,000 m²
    b: 200×100 straddling the east edge by half, industrial, supplied -> 10,000 m²
    c: 100×100 inside, industrial, NOT supplied -> 10,000 m² (industrial only)
    d: 300×100 inside, residential, built     -> 30,000 m² (built-up only)
    e: 100×100 outside, industrial, supplied  -> 0
    f: 100×100 inside, industrial, supplied in 2022 -> counted as supplied only from 2022
    """
    unit = gpd.GeoDataFrame(
        {"unit_id": ["P1"], "boundary_version": [7], "geometry_quality": ["synthetic"]},
        geometry=to_4326([rect(0, 0, 1000, 1000)]),
        crs=4326,
    )
    geoms = [rect(100, 100, 200, 100), rect(900, 500, 200, 100), rect(400, 400, 100, 100), rect(100, 700, 300, 100),
             rect(1500, 0, 100, 100), rect(600, 100, 100, 100)]
    parcels = gpd.GeoDataFrame(
        {
            "land_use_class": ["industrial", "industrial", "industrial", "residential", "industrial", "industrial"],
            "is_supplied": [True, True, False, True, True, True],
            "supply_year": pd.array([2001, None, None, 2005, 2003, 2022], dtype="Int64"),
            "is_built": [True, False, False, True, True, False],
            "is_synthetic": True,
            "source_document": "hand-made test parcels",
        },
        geometry=to_4326(geoms),
        crs=4326,
    )
    return unit, parcels


# The intersection is taken in the stored CRS (EPSG:4326).  The test shapes are densified every
# 5 m before projection (helpers.to_4326), so their edges are straight in both CRSs to sub-mm.
EDGE_REL = 1e-6


def test_parcel_bases_hand_computed():
    unit, parcels = _square_case()
    b = parcel_bases(unit, parcels, bases=["supplied_industrial_land", "industrial_land", "built_up_land"], year=2020)
    got = b.set_index("basis")
    assert got.loc["supplied_industrial_land", "area_km2"] == pytest.approx(0.030, rel=EDGE_REL)  # a + b/2
    assert got.loc["supplied_industrial_land", "n_parcels"] == 2
    assert got.loc["industrial_land", "area_km2"] == pytest.approx(0.050, rel=EDGE_REL)  # a + b/2 + c + f
    assert got.loc["built_up_land", "area_km2"] == pytest.approx(0.050, rel=1e-6)  # a + d
    assert bool(got.loc["supplied_industrial_land", "is_synthetic"])
    assert got.loc["supplied_industrial_land", "boundary_version"] == 7
    later = parcel_bases(unit, parcels, bases=["supplied_industrial_land"], year=2023)
    assert later["area_km2"].iloc[0] == pytest.approx(0.040, rel=EDGE_REL)  # f supplied in 2022


def test_measured_area_projected_and_geodesic():
    unit, _ = _square_case()
    projected = measured_area_base(unit)
    assert projected["area_km2"].iloc[0] == pytest.approx(1.0, rel=1e-9)
    geodesic = measured_area_base(unit, method="geodesic")
    # the Gauss-Kruger scale factor near the central meridian is ~1: within 0.1 %
    assert geodesic["area_km2"].iloc[0] == pytest.approx(1.0, rel=1e-3)
    assert bool(projected["is_approximate"].iloc[0])


def test_density_over_each_basis_and_missing_figures():
    unit, parcels = _square_case()
    unit["unit_name"] = "测试园区"
    bases = pd.concat([parcel_bases(unit, parcels, bases=["supplied_industrial_land"], year=2020), measured_area_base(unit)])
    indicators = pd.DataFrame(
        {"unit_id": ["P1", "P1"], "year": [2020, 2020], "metric_code": ["output", "employees"],
         "value": [24_000.0, 3000], "unit": ["万元", "人"], "source_document": ["test", "test"], "source_section": ["a", "b"]}
    )
    t = density_table(unit, indicators, bases, year=2020, numerators=["output", "tax", "employees"]).set_index(["numerator", "basis"])
    assert t.loc[("output", "supplied_industrial_land"), "density_yi_per_km2"] == pytest.approx(2.4 / 0.03, rel=EDGE_REL)
    assert t.loc[("output", "measured_area"), "density_yi_per_km2"] == pytest.approx(2.4, rel=1e-6)
    assert t.loc[("output", "measured_area"), "mu_jun_wan_per_mu"] == pytest.approx(24_000 / 1500, rel=1e-6)
    assert t.loc[("employees", "measured_area"), "count_per_km2"] == pytest.approx(3000, rel=1e-6)
    assert np.isnan(t.loc[("employees", "measured_area"), "density_yi_per_km2"])
    # tax is missing: stays missing, never 0
    assert np.isnan(t.loc[("tax", "measured_area"), "density_yi_per_km2"])
    assert t.loc[("tax", "measured_area"), "missing_reason"] == "no tax figure"
    assert t["uses_synthetic_data"].loc[("output", "supplied_industrial_land")]
    # the measured area uses no parcel, but the boundary itself is synthetic: flagged too
    assert t["uses_synthetic_data"].loc[("output", "measured_area")]
    assert t["is_approximate"].all()


def test_zero_area_gives_missing_density_not_infinity():
    units = pd.DataFrame({"unit_id": ["A"]})
    ind = pd.DataFrame({"unit_id": ["A"], "year": [2020], "metric_code": ["output"], "value": [5.0], "unit": ["亿元"]})
    bases = bases_from_areas([{"unit_id": "A", "basis": "supplied_industrial_land", "area_km2": 0.0}])
    row = density_table(units, ind, bases, year=2020, numerators=["output"]).iloc[0]
    assert np.isnan(row["density_yi_per_km2"])
    assert row["missing_reason"] == "supplied_industrial_land area is 0"


def _one(metric="output", value=5.0, unit="亿元", year=2020):
    return pd.DataFrame({"unit_id": ["A"], "year": [year], "metric_code": [metric], "value": [value], "unit": [unit]})


def test_negative_output_is_rejected_with_row():
    units = pd.DataFrame({"unit_id": ["A"]})
    bases = bases_from_areas([{"unit_id": "A", "basis": "measured_area", "area_km2": 1.0}])
    with pytest.raises(NegativeValueError, match=r"negative output -5.0 亿元 for unit 'A' in 2020"):
        density_table(units, _one(value=-5.0), bases, year=2020, numerators=["output"])
    assert issubclass(NegativeValueError, InputError)


def test_unknown_unit_and_unknown_basis():
    units = pd.DataFrame({"unit_id": ["A"]})
    bases = bases_from_areas([{"unit_id": "A", "basis": "measured_area", "area_km2": 1.0}])
    with pytest.raises(UnknownUnitError, match="亿美元"):
        density_table(units, _one(unit="亿美元"), bases, year=2020, numerators=["output"])
    with pytest.raises(UnknownBasisError, match="land_area"):
        bases_from_areas([{"unit_id": "A", "basis": "land_area", "area_km2": 1.0}])
    with pytest.raises(NegativeValueError):
        bases_from_areas([{"unit_id": "A", "basis": "measured_area", "area_km2": -1.0}])


def test_year_without_data_is_not_found():
    units = pd.DataFrame({"unit_id": ["A"]})
    bases = bases_from_areas([{"unit_id": "A", "basis": "measured_area", "area_km2": 1.0}])
    with pytest.raises(NoDataForYearError, match=r"at or before 2019; years with data: \[2020\]"):
        density_table(units, _one(), bases, year=2019, numerators=["output"])
    assert issubclass(NoDataForYearError, NotFoundError)


def test_two_areas_for_one_unit_and_basis_are_refused():
    units = pd.DataFrame({"unit_id": ["a"], "unit_name": ["甲"]})
    indicators = pd.DataFrame(
        {"unit_id": ["a"], "year": [2020], "metric_code": ["output"], "value": [10.0], "unit": ["亿元"]}
    )
    bases = bases_from_areas(
        [{"unit_id": "a", "basis": "measured_area", "area_km2": 1.0}, {"unit_id": "a", "basis": "measured_area", "area_km2": 2.0}]
    )
    with pytest.raises(DuplicateUnitError, match=r"two measured_area areas for unit 'a' \(rows 0 and 1\)"):
        density_table(units, indicators, bases, year=2020, numerators=["output"])
    # an area on another basis than the one shown is not a conflict
    other = bases_from_areas([{"unit_id": "a", "basis": "published_area", "area_km2": 2.0}])
    table = density_table(units, indicators, pd.concat([bases.iloc[:1], other]), year=2020, numerators=["output"], basis="measured_area")
    assert table["density_yi_per_km2"].tolist() == [pytest.approx(10.0)]
