"""What the land-intensity answer says when an input is absent: missing with a Chinese reason, never 0."""

from __future__ import annotations

import re
from pathlib import Path

import pandas as pd
import pytest
from sqlalchemy import Engine, text

from gis_service.db.models import ZoneKind
from gis_service.metrics.intensity import measure_intensity
from gis_service.testing import insert_zone
from tests.metrics.helpers import rect, to_4326
from tests.metrics.intensity_fixture import YEAR, load_fixture


@pytest.fixture
def loaded(engine: Engine, tmp_path: Path) -> int:
    return load_fixture(engine, tmp_path)


def test_without_any_idle_review_or_finding_the_idle_rates_are_missing_not_zero(engine: Engine, loaded: int) -> None:
    with engine.begin() as conn:
        conn.execute(text("UPDATE land_parcel SET idle_status = NULL, idle_year = NULL"))
    result = measure_intensity(engine, year=YEAR)
    row = result.rows.set_index("unit_id").loc[loaded]
    details = result.details.set_index("indicator")
    assert row["idle_land_rate_pct"] is None and row["idle_land_disposal_rate_pct"] is None
    reason = details.loc["idle_land_rate_pct", "missing_reason"]
    assert "未录入闲置土地调查认定" in reason and "gis-service import idle-review" in reason
    assert row["land_built_rate_pct"] is not None  # the other supply indicators stay


def test_findings_made_after_the_year_do_not_count_as_recorded(engine: Engine, loaded: int) -> None:
    with engine.begin() as conn:  # every finding dated after the year asked
        conn.execute(text("UPDATE land_parcel SET idle_year = :y WHERE idle_status IS NOT NULL"), {"y": YEAR + 1})
    assert measure_intensity(engine, year=YEAR).rows.set_index("unit_id").loc[loaded, "idle_land_rate_pct"] is None


def test_every_missing_reason_is_written_in_chinese(engine: Engine, loaded: int) -> None:
    with engine.begin() as conn:
        conn.execute(text("DELETE FROM indicator"))
        conn.execute(text("DELETE FROM building_import"))
    details = measure_intensity(engine, year=YEAR).details
    reasons = details["missing_reason"].dropna()
    assert len(reasons) >= 8
    for reason in reasons:
        # identifiers (metric codes, commands) may appear; the sentence itself is Chinese
        assert re.search(r"[\u4e00-\u9fff]", reason) and not re.search(r"\b(missing|no|is|for|the)\b", reason), reason


def test_overlapping_zones_of_one_kind_leave_their_figures_missing_not_the_whole_level(engine: Engine, loaded: int) -> None:
    insert_zone(engine, "A1", "甲区", to_4326([rect(-500, -500, 800, 2000)])[0], ZoneKind.corridor_area)
    insert_zone(engine, "A2", "乙区", to_4326([rect(0, -500, 800, 2000)])[0], ZoneKind.corridor_area)  # overlaps 甲区
    insert_zone(engine, "W", "西片", to_4326([rect(-500, -500, 1000, 2000)])[0], ZoneKind.pian)
    result = measure_intensity(engine, year=YEAR, level="zone")
    rows = result.rows.set_index("unit_name")
    assert rows.loc["甲区", "floor_area_ratio"] is not None  # land and buildings still measured
    assert rows.loc["甲区", "investment_intensity_wan_per_ha"] is None
    assert rows.loc["西片", "investment_intensity_wan_per_ha"] is not None  # another kind still apportioned
    details = result.details.merge(result.rows[["unit_id", "unit_name"]], on="unit_id").set_index(["unit_name", "indicator"])
    assert "边界重叠" in details.loc[("乙区", "investment_intensity_wan_per_ha"), "missing_reason"]


def test_a_share_above_100_percent_is_shown_as_computed_with_a_check(engine: Engine, loaded: int) -> None:
    with engine.begin() as conn:  # keep only the industrial supply record: built-up land now exceeds supplied land
        conn.execute(text("DELETE FROM land_parcel WHERE layer = 'supply' AND land_use_class <> 'industrial'"))
    details = measure_intensity(engine, year=YEAR).details.set_index("indicator")
    built = details.loc["land_built_rate_pct"]
    assert built["value"] > 100  # never capped
    assert "已建成城镇建设用地面积大于已供应国有建设用地面积" in built["check_zh"]
    assert pd.isna(details.loc["floor_area_ratio", "check_zh"])  # not a share: no check


def test_industrial_land_is_the_procedures_gongkuang_cangchu_industry_mining_and_warehouses(engine: Engine, loaded: int) -> None:
    before = measure_intensity(engine, year=YEAR).rows.set_index("unit_id").loc[loaded, "industrial_land_share_pct"]
    with engine.begin() as conn:  # the 10 ha commercial patch becomes 物流仓储用地 (三调 0508)
        conn.execute(text("UPDATE land_parcel SET land_use_class = 'logistics_warehouse'"
                          " WHERE layer = 'survey' AND land_use_class = 'commercial'"))
    result = measure_intensity(engine, year=YEAR)
    after = result.rows.set_index("unit_id").loc[loaded, "industrial_land_share_pct"]
    assert before == pytest.approx(50 / 70 * 100, rel=1e-6) and after == pytest.approx(60 / 70 * 100, rel=1e-6)
    details = result.details.set_index("indicator")
    assert details.loc["industrial_land_share_pct", "numerator_label"] == "已建成工矿仓储用地面积"
    assert details.loc["industrial_land_share_pct", "confirmed"] and details.loc["industrial_floor_area_ratio", "confirmed"]
    assert not details.loc["industrial_building_coverage_pct", "confirmed"]  # 构筑物 and 露天堆场 are not held
