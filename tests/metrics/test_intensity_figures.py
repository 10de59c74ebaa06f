"""The yearly figures of the land-intensity answer (investment, taxes, population, land ready for
supply): one figure per park, metric and year, refused otherwise on every face; at zone level
apportioned from the parks exactly as the density answer apportions them."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import Engine, text

import gis_service as gs
from gis_service.cli import main
from gis_service.db.models import ZoneKind
from gis_service.metrics.errors import DuplicateUnitError
from gis_service.metrics.intensity import measure_intensity
from gis_service.testing import insert_indicator, insert_park, insert_target_from_sample, insert_zone
from tests.api.conftest import make_client
from tests.metrics.helpers import rect, to_4326
from tests.metrics.intensity_fixture import YEAR, load_fixture

DUPLICATE = r"two industrial_tax figures for park \d+ \(A 园区A\) in 2023"


@pytest.fixture
def loaded(engine: Engine, tmp_path: Path) -> int:
    return load_fixture(engine, tmp_path)


def _second_tax_figure(engine: Engine, park_id: int) -> None:
    """A second 2023 industrial_tax figure of park A.  The unique index of migration 0001 keeps
    imports from storing one, so it is dropped here: a database restored without it (or a
    figure written around it) must still be refused, never picked silently."""
    with engine.begin() as conn:
        conn.execute(text("DROP INDEX uq_indicator_scope_year_metric"))
    insert_indicator(engine, park_id, YEAR, "industrial_tax", 4, "亿元", source="第二份报表")


def test_two_figures_of_one_metric_in_one_year_are_refused_in_python(engine: Engine, loaded: int) -> None:
    _second_tax_figure(engine, loaded)
    with pytest.raises(DuplicateUnitError, match=DUPLICATE):
        measure_intensity(engine, year=YEAR)
    with pytest.raises(DuplicateUnitError, match=DUPLICATE):
        gs.answer_intensity(engine, gs.IntensityQuestion(year=YEAR))


def test_two_figures_are_refused_over_the_api_as_the_density_answer_refuses_them(
    engine: Engine, db_url: str, loaded: int
) -> None:
    _second_tax_figure(engine, loaded)
    insert_target_from_sample(engine)
    with make_client(db_url) as client:
        intensity = client.get("/metrics/intensity", params={"year": YEAR, "level": "park"})
    assert intensity.status_code == 422, intensity.text
    assert intensity.json()["code"] == "InvalidParameterValue"
    assert "two industrial_tax figures for park" in intensity.json()["description"]
    assert "园区A" in intensity.json()["description"] and "2023" in intensity.json()["description"]
    # the density answer refuses its own duplicates with the same status
    insert_indicator(engine, loaded, YEAR, "tax", 9, "亿元")
    with make_client(db_url) as client:
        density = client.get("/metrics/density", params={"year": YEAR, "numerator": "tax"})
    assert density.status_code == intensity.status_code, density.text


def test_two_figures_are_refused_by_the_cli_with_exit_status_2(
    engine: Engine, db_url: str, loaded: int, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    _second_tax_figure(engine, loaded)
    monkeypatch.setenv("GIS_DATABASE_URL", db_url)
    with pytest.raises(SystemExit) as info:
        main(["intensity", "--year", str(YEAR), "--json"])
    assert info.value.code == 2
    err = capsys.readouterr().err
    assert "two industrial_tax figures for park" in err and "园区A" in err and "2023" in err


# --------------------------------------------------------------------------- zones
@pytest.fixture
def two_parks(engine: Engine, loaded: int) -> dict[str, int]:
    """Park A (the hand-computed fixture, x 0–1000) and park B east of it (x 1000–2000, no land
    records: apportioned by boundary area), a 片 W over A's west half and a 片 E over the rest.

    A's supplied industrial land is 50 ha: 40 ha in W (x 0–400), 10 ha in E (x 800–1000), so
    A's shares are 0.8 (W) and 0.2 (E); B lies wholly in E (share 1, boundary area)."""
    park_b, _ = insert_park(engine, "B", "园区B", to_4326([rect(1000, 0, 1000, 1000)])[0])
    insert_indicator(engine, park_b, YEAR, "tax", 1, "亿元", source="B 报表")
    insert_indicator(engine, park_b, YEAR, "industrial_tax", 5000, "万元", source="B 报表")
    insert_indicator(engine, park_b, YEAR, "land_ready_for_supply", 60, "公顷", source="B 报表")
    insert_indicator(engine, park_b, YEAR, "resident_population", 0.3, "万人", source="B 报表")
    # no industrial_fixed_assets_cumulative for B: E's investment must be missing, naming B
    west = insert_zone(engine, "W", "西片", to_4326([rect(-500, -500, 1000, 2000)])[0], ZoneKind.pian)
    east = insert_zone(engine, "E", "东片", to_4326([rect(500, -500, 1500, 2000)])[0], ZoneKind.pian)
    insert_target_from_sample(engine)
    return {"A": loaded, "B": park_b, "W": west, "E": east}


def _zone_details(engine: Engine) -> dict[tuple[int, str], dict]:  # type: ignore[type-arg]
    details = gs.answer_intensity(engine, gs.IntensityQuestion(year=YEAR, level="zone")).to_dict()["details"]
    return {(int(d["unit_id"]), d["indicator"]): d for d in details}


def test_a_zone_tax_is_the_share_weighted_sum_the_density_answer_uses(engine: Engine, two_parks: dict[str, int]) -> None:
    density = gs.answer_density(engine, gs.DensityQuestion(year=YEAR, numerator="tax", level="pian", basis="measured_area"))
    density_tax = {int(r["unit_id"]): r["value_yi_yuan"] for r in density.records()}
    details = _zone_details(engine)
    for zone in ("W", "E"):
        tax = details[(two_parks[zone], "tax_per_ha_wan")]
        assert tax["numerator_value"] == pytest.approx(density_tax[two_parks[zone]] * 1e4, rel=1e-6), zone
    # by hand: W = 0.8 × 2 亿元; E = 0.2 × 2 亿元 + 1.0 × 1 亿元
    assert details[(two_parks["W"], "tax_per_ha_wan")]["numerator_value"] == pytest.approx(16_000, rel=1e-6)
    assert details[(two_parks["E"], "tax_per_ha_wan")]["numerator_value"] == pytest.approx(14_000, rel=1e-6)
    # the indicator is recomputed from the apportioned sum: W's industrial land is A's 50 ha (x 0–500)
    w_ind = details[(two_parks["W"], "industrial_tax_per_ha_wan")]
    assert w_ind["value"] == pytest.approx(0.8 * 30_000 / 50, rel=1e-6)
    source = details[(two_parks["E"], "tax_per_ha_wan")]["numerator_source"]
    assert "园区A" in source and "园区B" in source and "share 0.200" in source and "share 1.000" in source
    assert "supplied_industrial_land share" in source and "boundary area share" in source


def test_a_zone_where_a_park_lacks_the_figure_is_missing_naming_the_park(engine: Engine, two_parks: dict[str, int]) -> None:
    details = _zone_details(engine)
    east = details[(two_parks["E"], "investment_intensity_wan_per_ha")]
    assert east["value"] is None and east["numerator_value"] is None
    assert "园区B" in east["missing_reason"] and "industrial_fixed_assets_cumulative" in east["missing_reason"]
    west = details[(two_parks["W"], "investment_intensity_wan_per_ha")]  # only A lies in W: apportioned
    assert west["value"] == pytest.approx(0.8 * 500_000 / 50, rel=1e-6)


# --------------------------------------------------------------------------- definitions
def test_each_definition_says_where_it_was_confirmed_and_the_meta_lists_the_rest(engine: Engine, loaded: int) -> None:
    meta = gs.answer_intensity(engine, gs.IntensityQuestion(year=YEAR)).meta
    by_key = {i["key"]: i for i in meta["indicators"]}
    assert len(by_key) == 14
    # read, and the code computes exactly that (工矿仓储用地 for the two industrial ones)
    for key in ("floor_area_ratio", "building_density_pct", "industrial_land_share_pct", "industrial_floor_area_ratio"):
        assert by_key[key]["confirmed"] is True and "a document quoting the procedure" in by_key[key]["confirmed_by"]
        assert by_key[key]["differs_zh"] is None and key not in meta["unconfirmed_definitions"]
    # read, but the platform holds no 构筑物 or 露天堆场: recorded, not confirmed
    coverage = by_key["industrial_building_coverage_pct"]
    assert coverage["confirmed_by"] and "露天堆场" in coverage["differs_zh"]
    assert coverage["confirmed"] is False and "industrial_building_coverage_pct" in meta["unconfirmed_definitions"]
    unread = [k for k, i in by_key.items() if not i["confirmed_by"]]
    assert "land_supply_rate_pct" in unread and "idle_land_rate_pct" in unread
    assert set(meta["unconfirmed_definitions"]) == {k for k, i in by_key.items() if not i["confirmed"]} | {"zone_type_rule"}
    assert not any("procedure text" in (i["confirmed_by"] or "") for i in by_key.values())  # never read: never claimed
