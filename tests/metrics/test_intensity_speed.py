"""The stored parts the fast land-intensity query rests on: building anchors, the partial index
of industrial parcels, and the industrial-land test by anchor (bench/intensity.py times it)."""

from __future__ import annotations

from pathlib import Path

import pytest
import shapely
from sqlalchemy import Engine, text

from gis_service.metrics import intensity
from gis_service.metrics.bases import (
    BUILT_UP_LAND,
    INDUSTRIAL_LAND,
    SUPPLIED_INDUSTRIAL_LAND,
)
from gis_service.metrics.intensity import measure_intensity
from gis_service.store.land import land_in_force
from tests.metrics.helpers import rect
from tests.metrics.intensity_fixture import (
    YEAR,
    industrial_patch_and_building,
    load_fixture,
)


def test_the_buildings_importer_stores_each_buildings_anchor_on_its_surface(engine: Engine, tmp_path: Path) -> None:
    load_fixture(engine, tmp_path)
    with engine.connect() as conn:
        counts = conn.execute(text(
            "SELECT count(*), count(*) FILTER (WHERE ST_Equals(anchor, ST_PointOnSurface(geom)) AND ST_Within(anchor, geom))"
            " FROM building")).one()
    assert counts[0] == 3 and counts[1] == 3


def test_a_building_across_the_boundary_with_its_anchor_on_industrial_land_outside_the_park_is_industrial(
    engine: Engine, tmp_path: Path
) -> None:
    # an industrial patch east of the park, not touching it; a building 400 × 100 m from x 900: a
    # quarter inside, its anchor (x ≈ 1100) outside
    park_id = industrial_patch_and_building(engine, tmp_path, rect(1010, 0, 500, 1000), rect(900, 100, 400, 100), 40_000.0)
    details = measure_intensity(engine, year=YEAR).details
    details = details[details["unit_id"] == park_id].set_index("indicator")
    assert details.loc["industrial_floor_area_ratio", "numerator_value"] == pytest.approx(10_000, rel=1e-6)
    assert details.loc["industrial_building_coverage_pct", "numerator_value"] == pytest.approx(10_000, rel=1e-6)
    assert details.loc["industrial_floor_area_ratio", "denominator_value"] == pytest.approx(50, rel=1e-6)  # ha, inside only


@pytest.mark.parametrize("statement", ["_INDUSTRIAL_IN_CELLS_SQL", "_INDUSTRIAL_AROUND_SQL"])
def test_the_industrial_parcels_are_found_through_their_partial_index(engine: Engine, tmp_path: Path, statement: str) -> None:
    # the index predicate (the 工矿仓储 classes) must stay implied by the queries' filter
    load_fixture(engine, tmp_path)
    cell = shapely.box(121.0, 30.9, 121.4, 31.2)
    params = {**land_in_force(engine, YEAR).sql_params([INDUSTRIAL_LAND, BUILT_UP_LAND, SUPPLIED_INDUSTRIAL_LAND]),
              "year": YEAR, "xmin": [0.0], "ymin": [0.0], "xmax": [180.0], "ymax": [90.0],
              "cell_ids": [1], "cell_wkb": [shapely.to_wkb(cell)]}
    with engine.begin() as conn:
        conn.execute(text("SET LOCAL enable_seqscan = off"))
        plan = "\n".join(r[0] for r in conn.execute(text("EXPLAIN " + getattr(intensity, statement).text), params))
    assert "ix_land_parcel_geom_industrial" in plan
