"""Town and zone figures are the parks' figures apportioned by share, densities recomputed;
a zone's measured area is the geometric overlap of the blocks with it.

Checked on the real sample data against an independent computation with shapely."""

from __future__ import annotations

import geopandas as gpd
import pytest
import shapely
from sqlalchemy import Engine

from gis_service.answers import DensityQuestion, answer_density
from gis_service.ingest import load_sample
from gis_service.store import read_indicators, read_parks, read_zones


@pytest.fixture
def sample_engine(engine: Engine) -> Engine:
    load_sample(engine)
    return engine


def _area_m2(geom: shapely.Geometry) -> float:
    return float(gpd.GeoSeries([geom], crs=4326).to_crs(4549).area.iloc[0])


def test_pian_output_is_apportioned_block_output(sample_engine: Engine) -> None:
    year = 2020
    table = answer_density(sample_engine, DensityQuestion(year=year, level="pian", basis="measured_area")).rows
    parks = read_parks(sample_engine, year=year)
    blocks = parks[parks["kind"] == "block"]  # the parent park is the union of its blocks
    output = read_indicators(sample_engine, year=year, metric_codes=["output"]).set_index("park_id")["value"]
    zones = read_zones(sample_engine, "pian")
    assert len(zones) == 3
    checked = 0
    for zone in zones.itertuples():
        contributions, complete, overlap_m2 = 0.0, True, 0.0
        for block in blocks.itertuples():
            piece = shapely.intersection(block.geometry, zone.geometry)
            if piece.is_empty or _area_m2(piece) < 1.0:
                continue
            share = _area_m2(piece) / _area_m2(block.geometry)
            overlap_m2 += _area_m2(piece)
            if block.park_id not in output.index:
                complete = False  # e.g. 莘莘学子创业园 has no published output
                continue
            contributions += output[block.park_id] * share
        row = table[(table["unit_id"] == zone.zone_id) & (table["basis"] == "measured_area")]
        if row.empty:
            continue
        value = row.iloc[0]["value_yi_yuan"]
        if overlap_m2 == 0:  # no block lies in it: missing, with the reason, never 0
            assert row.iloc[0]["area_km2"] != row.iloc[0]["area_km2"] and "no park" in row.iloc[0]["missing_reason"]
            continue
        # a zone's measured area is the blocks' boundaries inside it (the geometric overlap)
        assert row.iloc[0]["area_km2"] == pytest.approx(overlap_m2 / 1e6, rel=1e-6)
        if complete:
            assert value == pytest.approx(contributions, rel=1e-6)
            area = row.iloc[0]["area_km2"]
            assert row.iloc[0]["density_yi_per_km2"] == pytest.approx(value / area, rel=1e-9)
            checked += 1
        else:
            assert value != value, "an incomplete sum is not presented as a total"
    assert checked >= 1


def test_unknown_level_is_an_input_error(sample_engine: Engine) -> None:
    from gis_service.errors import InputError

    with pytest.raises(InputError, match="level: unknown level 'province'"):
        answer_density(sample_engine, DensityQuestion(year=2020, level="province"))
