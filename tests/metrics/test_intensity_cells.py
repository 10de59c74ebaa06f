"""Both levels of the land-intensity answer measured in one pass over the cells of the units'
arrangement: a zone cutting a park, a second park overlapping the first, a building cut by
the zone's edge.  Every figure below is computed by hand from the fixture's rectangles
(tests/metrics/intensity_fixture.py: park A = x 0–1000 m, industrial built x 0–500,
residential built x 500–600, B1 on industrial land, B2 a quarter inside A's east edge,
B3 = x 550–600 on residential land)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import shapely
from sqlalchemy import Engine

from gis_service.db.models import ZoneKind
from gis_service.metrics.cells import unit_cells
from gis_service.metrics.intensity import measure_intensity
from gis_service.testing import insert_park, insert_zone
from tests.metrics.helpers import rect, to_4326
from tests.metrics.intensity_fixture import EXPECTED, YEAR, load_fixture

#: the zone's east edge cuts park A (and building B3, and the residential patch) at x = 575 m
CUT = 575.0


@pytest.fixture
def cut(engine: Engine, tmp_path: Path) -> dict[str, int]:
    park_a = load_fixture(engine, tmp_path)
    park_w, _ = insert_park(engine, "W", "西半园", to_4326([rect(0, 0, 500, 1000)])[0])  # overlaps A
    west = insert_zone(engine, "ZW", "西片", to_4326([rect(-500, -500, 500 + CUT, 2000)])[0])
    corridor = insert_zone(engine, "ZC", "走廊", to_4326([rect(-500, -500, 3000, 3000)])[0], kind=ZoneKind.corridor_area)
    return {"A": park_a, "W": park_w, "west": west, "corridor": corridor}


def _row(engine: Engine, level: str, unit: int) -> pd.Series:
    return measure_intensity(engine, year=YEAR, level=level).rows.set_index("unit_id").loc[unit]


def test_a_park_cut_by_a_zone_still_measures_whole(engine: Engine, cut: dict[str, int]) -> None:
    row = _row(engine, "park", cut["A"])
    for key in ("industrial_land_share_pct", "floor_area_ratio", "building_density_pct", "industrial_floor_area_ratio",
                "land_built_rate_pct", "idle_land_rate_pct"):
        assert row[key] == pytest.approx(EXPECTED[key], rel=1e-6), key
    # B3 lies in two cells of park A (the zone edge cuts it): one building, not split for A
    assert row["n_buildings"] == 3 and row["n_split"] == 1


def test_the_zone_counts_the_part_of_the_park_inside_it(engine: Engine, cut: dict[str, int]) -> None:
    row = _row(engine, "zone", cut["west"])
    inside_m2 = CUT * 1000  # the zone ∩ the parks: x 0–575 of park A
    built_m2 = 500_000 + (CUT - 500) * 1000  # industrial x 0–500 + residential x 500–575
    b3_share = (CUT - 550) / 50  # B3: x 550–600, cut at x = 575
    floor = 30_000 + 15_000 * b3_share
    footprint = 10_000 + 5_000 * b3_share
    assert row["industrial_land_share_pct"] == pytest.approx(500_000 / built_m2 * 100, rel=1e-6)
    assert row["residential_land_share_pct"] == pytest.approx((CUT - 500) * 1000 / built_m2 * 100, rel=1e-6)
    assert row["floor_area_ratio"] == pytest.approx(floor / built_m2, rel=1e-6)
    assert row["building_density_pct"] == pytest.approx(footprint / built_m2 * 100, rel=1e-6)
    assert row["industrial_floor_area_ratio"] == pytest.approx(30_000 / 500_000, rel=1e-6)
    assert row["n_buildings"] == 2 and row["n_split"] == 1
    details = measure_intensity(engine, year=YEAR, level="zone").details
    area = details[(details["unit_id"] == cut["west"]) & (details["indicator"] == "land_development_rate_pct")]
    assert area["denominator_value"].iloc[0] == pytest.approx(inside_m2 / 1e4, rel=1e-6)


def test_overlapping_units_each_count_what_lies_in_them(engine: Engine, cut: dict[str, int]) -> None:
    west_park = _row(engine, "park", cut["W"])  # x 0–500: the industrial patch and B1 only
    assert west_park["industrial_land_share_pct"] == pytest.approx(100.0, rel=1e-6)
    assert west_park["floor_area_ratio"] == pytest.approx(30_000 / 500_000, rel=1e-6)
    assert west_park["n_buildings"] == 1
    # the corridor covers both parks: the overlap of A and W counts once, as in park A
    corridor = _row(engine, "zone", cut["corridor"])
    park_a = _row(engine, "park", cut["A"])
    for key in ("industrial_land_share_pct", "floor_area_ratio", "building_density_pct", "land_built_rate_pct"):
        assert corridor[key] == pytest.approx(park_a[key], rel=1e-9), key
    assert corridor["n_buildings"] == park_a["n_buildings"] == 3


def test_cells_partition_every_unit() -> None:
    parks = [shapely.box(0, 0, 10, 10), shapely.box(0, 0, 5, 10), shapely.box(20, 0, 30, 10)]
    zones = [shapely.box(-5, -5, 7, 20), shapely.box(-5, -5, 40, 3)]
    units = pd.DataFrame({
        "level": ["park"] * 3 + ["zone"] * 2, "unit_id": [1, 2, 3, 11, 12],
        "geometry": parks + zones,
    })
    cells = unit_cells(units, within="park")
    assert shapely.area(cells.geoms).sum() == pytest.approx(shapely.union_all(parks).area)  # no overlap, no gap
    for level, uid, geom in units.itertuples(index=False):
        mine = cells.membership[(cells.membership["level"] == level) & (cells.membership["unit_id"] == uid)]
        union = shapely.union_all(cells.geoms[mine["cell_id"].to_numpy()])
        expected = geom if level == "park" else geom.intersection(shapely.union_all(parks))
        assert union.symmetric_difference(expected).area == pytest.approx(0, abs=1e-9), (level, uid)
    assert np.array_equal(cells.cell_ids, np.arange(len(cells.geoms)))


def test_asking_for_one_level_then_the_other_measures_once(engine: Engine, cut: dict[str, int]) -> None:
    from sqlalchemy import event

    from gis_service.answers.intensity import _MEMO, IntensityQuestion, answer_intensity

    _MEMO.clear()
    seen: list[str] = []

    def count(conn, cursor, statement, *args) -> None:  # type: ignore[no-untyped-def]
        if "cell_doc" in statement:
            seen.append(statement)

    event.listen(engine, "before_cursor_execute", count)
    try:
        park = answer_intensity(engine, IntensityQuestion(year=YEAR))
        zone = answer_intensity(engine, IntensityQuestion(year=YEAR, level="zone"))
    finally:
        event.remove(engine, "before_cursor_execute", count)
    assert len(seen) == 1
    assert {r["unit_id"] for r in park.records()} == {cut["A"], cut["W"]}
    assert {r["unit_id"] for r in zone.records()} == {cut["west"], cut["corridor"]}


def test_an_anchor_outside_every_cell_is_tested_against_the_parcels_around_it(engine: Engine, tmp_path: Path) -> None:
    from tests.metrics.intensity_fixture import industrial_patch_and_building

    # an industrial patch 100 m east of the park (outside the park's box) and a building 600 × 100 m
    # from x 950: 50 m inside, its anchor (x ≈ 1250) on that patch
    park_id = industrial_patch_and_building(engine, tmp_path, rect(1100, 0, 500, 1000), rect(950, 100, 600, 100), 60_000.0)
    details = measure_intensity(engine, year=YEAR).details
    details = details[details["unit_id"] == park_id].set_index("indicator")
    assert details.loc["industrial_floor_area_ratio", "numerator_value"] == pytest.approx(5_000, rel=1e-6)
    assert details.loc["industrial_building_coverage_pct", "numerator_value"] == pytest.approx(5_000, rel=1e-6)
