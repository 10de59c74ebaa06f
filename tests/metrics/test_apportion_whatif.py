"""Zone apportioning on a constructed case, and what-if recomputation."""

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest

from gis_service.metrics.apportion import aggregate_to_zones, zone_shares
from gis_service.metrics.area_bases import bases_from_areas, measured_area_base
from gis_service.metrics.density import density_table
from gis_service.metrics.whatif import Change, what_if
from tests.metrics.helpers import rect, to_4326


def _case():
    """Zones W (x < 1000) and E (x ≥ 1000).  Park P1 = [750, 1750] × [0, 1000] (1 km²): 25 % in W,
    75 % in E.  Park P2 = [1200, 1700] × [1200, 1700] (0.25 km²): all in E."""
    zones = gpd.GeoDataFrame({"zone_id": ["W", "E"]}, geometry=to_4326([rect(0, -500, 1000, 3000), rect(1000, -500, 1000, 3000)]), crs=4326)
    units = gpd.GeoDataFrame({"unit_id": ["P1", "P2"], "unit_name": ["一园", "二园"]},
                             geometry=to_4326([rect(750, 0, 1000, 1000), rect(1200, 1200, 500, 500)]), crs=4326)
    indicators = pd.DataFrame({"unit_id": ["P1", "P2", "P1"], "year": 2020, "metric_code": ["output", "output", "tax"],
                               "value": [100.0, 60.0, 4.0], "unit": "亿元", "source_document": "test", "source_section": "s"})
    return zones, units, indicators


def test_boundary_area_shares():
    zones, units, _ = _case()
    s = zone_shares(units, zones).set_index(["unit_id", "zone_id"])["share"]
    assert s[("P1", "W")] == pytest.approx(0.25, rel=1e-5)
    assert s[("P1", "E")] == pytest.approx(0.75, rel=1e-5)
    assert s[("P2", "E")] == pytest.approx(1.0, rel=1e-9)
    assert ("P2", "W") not in s.index


def test_zone_aggregation_sums_extensive_and_recomputes_intensive():
    zones, units, indicators = _case()
    bases = measured_area_base(units)
    table = density_table(units, indicators, bases, year=2020, numerators=["output", "tax"])
    z = aggregate_to_zones(table, zone_shares(units, zones), zone_names={"W": "西片", "E": "东片"}).set_index(["unit_id", "numerator"])
    # W: 25 亿元 on 0.25 km² = 100; E: 75 + 60 = 135 亿元 on 0.75 + 0.25 = 1.0 km² = 135 亿元/km²
    assert z.loc[("W", "output"), "value_yi_yuan"] == pytest.approx(25.0, rel=1e-5)
    assert z.loc[("E", "output"), "value_yi_yuan"] == pytest.approx(135.0, rel=1e-5)
    assert z.loc[("E", "output"), "area_km2"] == pytest.approx(1.0, rel=1e-5)
    assert z.loc[("E", "output"), "density_yi_per_km2"] == pytest.approx(135.0, rel=1e-5)
    # averaging the parks' densities (100 and 240) would give 170: not what we do
    assert z.loc[("E", "output"), "unit_name"] == "东片"
    # P2 has no tax figure: E's tax is missing, W's (from P1 only) is 1 亿元
    assert np.isnan(z.loc[("E", "tax"), "value_yi_yuan"])
    assert z.loc[("E", "tax"), "missing_units"] == "P2"
    assert z.loc[("W", "tax"), "value_yi_yuan"] == pytest.approx(1.0, rel=1e-5)


def test_industrial_land_shares():
    zones, units, _ = _case()
    # one industrial parcel of 100 × 100 in P1's W part, three in its E part
    geoms = [rect(800, 100, 100, 100), rect(1100, 100, 100, 100), rect(1300, 100, 100, 100), rect(1500, 100, 100, 100),
             rect(1300, 1300, 100, 100)]
    parcels = gpd.GeoDataFrame({"land_use_class": ["industrial"] * 5, "is_supplied": [True] * 5}, geometry=to_4326(geoms), crs=4326)
    s = zone_shares(units, zones, parcels=parcels).set_index(["unit_id", "zone_id"])
    assert s.loc[("P1", "W"), "share"] == pytest.approx(0.25, rel=1e-6)
    assert s.loc[("P1", "E"), "share"] == pytest.approx(0.75, rel=1e-6)
    assert "industrial_land share" in s.loc[("P1", "E"), "share_method"]


def test_what_if_recomputes_everything():
    zones, units, indicators = _case()
    bases = bases_from_areas([{"unit_id": "P1", "basis": "supplied_industrial_land", "area_km2": 2.0},
                              {"unit_id": "P2", "basis": "supplied_industrial_land", "area_km2": 1.0}])
    shares = zone_shares(units, zones)
    result = what_if(units, indicators, bases, [Change("P1", "output", 160, "亿元"), Change("P2", "supplied_industrial_land", 1125, "亩")],
                     year=2020, numerators=["output"], shares=shares)
    base = result.baseline.set_index("unit_id")
    scen = result.scenario.set_index("unit_id")
    assert base.loc["P1", "density_yi_per_km2"] == pytest.approx(50.0)
    assert scen.loc["P1", "density_yi_per_km2"] == pytest.approx(80.0) and scen.loc["P1", "status"] == "达标"
    assert scen.loc["P2", "area_km2"] == pytest.approx(0.75)  # 1125 亩
    assert scen.loc["P2", "density_yi_per_km2"] == pytest.approx(80.0)
    assert "what-if" in scen.loc["P1", "numerator_source"] and "what-if" in scen.loc["P2", "basis_source"]
    assert scen.loc["P1", "scenario_changes"] == "output=160 亿元"
    zs = result.scenario_zones.set_index("unit_id")
    # E: 0.75 × 160 + 60 = 180 亿元 over 0.75 × 2 + 0.75 = 2.25 km² = 80
    assert zs.loc["E", "density_yi_per_km2"] == pytest.approx(80.0, rel=1e-5)
    assert result.baseline_zones.set_index("unit_id").loc["E", "value_yi_yuan"] == pytest.approx(135.0, rel=1e-5)
