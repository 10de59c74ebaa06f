"""Land-intensity indicators (开发区土地集约利用评价) on a hand-computed fixture."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import Engine

from gis_service.errors import InputError
from gis_service.ingest.buildings import import_buildings
from gis_service.metrics.intensity import INDICATOR_KEYS, measure_intensity
from tests.metrics.intensity_fixture import load_fixture, EXPECTED, YEAR, load_land


@pytest.fixture
def loaded(engine: Engine, tmp_path: Path) -> int:
    return load_fixture(engine, tmp_path)


def test_every_indicator_matches_the_hand_computation(engine: Engine, loaded: int) -> None:
    result = measure_intensity(engine, year=YEAR)
    row = result.rows.set_index("unit_id").loc[loaded]
    assert set(EXPECTED) == set(INDICATOR_KEYS)
    for key, value in EXPECTED.items():
        assert row[key] == pytest.approx(value, rel=1e-3), key
    assert row["n_split"] == 1 and row["n_estimated"] == 1


def test_each_value_carries_numerator_denominator_units_and_sources(engine: Engine, loaded: int) -> None:
    details = measure_intensity(engine, year=YEAR).details.set_index("indicator")
    far = details.loc["floor_area_ratio"]
    assert far["numerator_value"] == pytest.approx(55_000, rel=1e-3) and far["numerator_unit"] == "m²"
    assert far["denominator_value"] == pytest.approx(70, rel=1e-3) and far["denominator_unit"] == "公顷"
    assert "跨界建筑按基底面积占比计入" in far["numerator_source"]
    assert "2023年度国土变更调查" in far["denominator_source"]
    assert details.loc["investment_intensity_wan_per_ha", "unit"] == "万元/公顷"
    assert details.loc["population_density_per_km2", "unit"] == "万人/km²"
    assert details.loc["idle_land_rate_pct", "unit"] == "%"
    assert "test fixture" in details.loc["tax_per_ha_wan", "numerator_source"]


def test_a_building_across_the_boundary_counts_by_its_footprint_share(engine: Engine, loaded: int) -> None:
    details = measure_intensity(engine, year=YEAR).details.set_index("indicator")
    # B2: 10 000 m² footprint, a quarter inside; 4 floors → 40 000 m² estimated, 10 000 inside
    assert details.loc["building_density_pct", "numerator_value"] == pytest.approx(10_000 + 2_500 + 5_000, rel=1e-3)


def test_missing_buildings_make_floor_area_indicators_missing_with_a_reason(engine: Engine) -> None:
    park_id = load_land(engine)
    result = measure_intensity(engine, year=YEAR)
    row = result.rows.set_index("unit_id").loc[park_id]
    details = result.details.set_index("indicator")
    for key in ("floor_area_ratio", "building_density_pct", "industrial_floor_area_ratio", "industrial_building_coverage_pct"):
        assert row[key] is None
        assert "未导入建筑物" in details.loc[key, "missing_reason"]
    assert row["land_built_rate_pct"] == pytest.approx(100.0)  # land indicators still there
    assert row["investment_intensity_wan_per_ha"] is None  # no figures: missing, never 0
    assert "industrial_fixed_assets_cumulative" in details.loc["investment_intensity_wan_per_ha", "missing_reason"]


def test_a_building_without_floor_area_or_floors_is_refused_by_name(engine: Engine, tmp_path: Path) -> None:
    import geopandas as gpd

    from tests.metrics.helpers import rect, to_4326

    path = tmp_path / "bad.geojson"
    gpd.GeoDataFrame({"编号": ["X1"], "层数": [None], "建筑面积": [None]}, geometry=to_4326([rect(0, 0, 10, 10)]),
                     crs="EPSG:4326").to_file(path, driver="GeoJSON")
    with pytest.raises(InputError, match=r"bad.geojson.*feature #1.*建筑面积"):
        import_buildings(engine, path, year=YEAR, source="x", actor="test")
