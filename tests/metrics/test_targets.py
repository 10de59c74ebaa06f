"""Target projection math on hand-computed numbers."""

import csv

import numpy as np
import pandas as pd
import pytest

from gis_service.errors import InputError
from gis_service.ingest import SAMPLE_DATA_DIR
from gis_service.metrics.area_bases import bases_from_areas
from gis_service.metrics.density import density_table
from gis_service.metrics.errors import UnknownUnitError
from gis_service.metrics.targets import DEFAULT_TARGET, TargetSpec, Thresholds, against_target
from gis_service.metrics.units import density_factor_to_yi_per_km2
from tests.source_excerpts import SRC_001, nfkc, table1_001


def _table(outputs: dict[str, float | None], area_km2: float = 2.0) -> pd.DataFrame:
    units = pd.DataFrame({"unit_id": list(outputs)})
    known = {k: v for k, v in outputs.items() if v is not None}
    ind = pd.DataFrame({"unit_id": list(known), "year": 2020, "metric_code": "output", "value": list(known.values()),
                        "unit": "亿元", "source_document": "test", "source_section": "s"})
    bases = bases_from_areas([{"unit_id": u, "basis": "supplied_industrial_land", "area_km2": area_km2} for u in outputs])
    return density_table(units, ind, bases, year=2020, numerators=["output"])


def test_projection_math_below_target():
    # density 50 亿元/km² on 2 km² in 2020, target 80 in 2025
    row = against_target(_table({"A": 100.0})).iloc[0]
    assert row["attainment_pct"] == pytest.approx(62.5)
    assert row["gap_yi_per_km2"] == pytest.approx(30.0)
    assert row["extra_output_yi_yuan"] == pytest.approx(60.0)
    assert row["land_to_release_km2"] == pytest.approx(2.0 - 100.0 / 80.0)
    assert row["cagr_needed_pct"] == pytest.approx(((80 / 50) ** (1 / 5) - 1) * 100)  # 9.856 %
    assert row["cagr_needed_pct"] == pytest.approx(9.856, abs=1e-3)
    assert row["status"] == "未达标"
    assert row["target_source"] == "001_13d6efb69ed95403.txt 表1 #9"


def test_status_classes_and_thresholds():
    # densities 37.5 (75 on 2), 75 (150), 80 (160), 85 (170), missing
    t = against_target(_table({"A": 75.0, "B": 150.0, "C": 160.0, "D": 170.0, "E": None}))
    status = dict(zip(t["unit_id"], t["status"]))
    assert status == {"A": "未达标", "B": "接近", "C": "达标", "D": "达标", "E": "无数据"}
    d = t.set_index("unit_id")
    assert d.loc["D", "gap_yi_per_km2"] == 0 and d.loc["D", "cagr_needed_pct"] == 0
    assert d.loc["D", "land_to_release_km2"] == 0
    assert np.isnan(d.loc["E", "attainment_pct"]) and np.isnan(d.loc["E", "extra_output_yi_yuan"])
    strict = against_target(_table({"B": 150.0}), thresholds=Thresholds(near=0.95))
    assert strict["status"].iloc[0] == "未达标"  # 93.75 % < 95 %


def test_target_from_row_in_wan_per_mu():
    row = {"code": "T1", "name": "亩均产值", "metric_code": "output", "basis": "supplied_industrial_land",
           "year": 2023, "value": 600.0, "unit": "万元/亩", "source_document": "doc.txt", "source_section": "表2"}
    spec = TargetSpec.from_row(row)
    assert spec.value_yi_per_km2 == pytest.approx(90.0)  # 600 万元/亩 × 1500 亩 / 10,000
    out = against_target(_table({"A": 90.0}), spec).iloc[0]  # 45 亿元/km²
    assert out["attainment_pct"] == pytest.approx(50.0)
    assert out["cagr_needed_pct"] == pytest.approx((2 ** (1 / 3) - 1) * 100)
    assert out["target_source"] == "doc.txt 表2"


def test_target_in_the_past_has_no_growth_rate():
    spec = TargetSpec(value=80, unit="亿元/km²", year=2020, basis="supplied_industrial_land", metric="output", source="x")
    assert np.isnan(against_target(_table({"A": 100.0}), spec)["cagr_needed_pct"].iloc[0])


def test_bad_targets():
    with pytest.raises(UnknownUnitError):
        TargetSpec(value=80, unit="亿美元/km²", year=2025, basis="supplied_industrial_land", metric="output", source="x")
    with pytest.raises(InputError, match="no numeric value"):
        TargetSpec.from_row({"code": "T9", "value": None, "value_text": "基本稳定", "unit": "%", "year": 2025,
                             "basis": "x", "metric_code": "output"})
    measured = TargetSpec(value=80, unit="亿元/km²", year=2025, basis="measured_area", metric="output", source="x")
    with pytest.raises(InputError, match="no output over measured_area"):
        against_target(_table({"A": 1.0}), measured)


def test_default_target_is_row_9_of_001_table1_and_of_targets_csv():
    """The built-in target is not a second opinion: it is 001 表1 #9 as printed (shipped excerpt) and
    the row of data/layers/targets.csv that load-sample stores."""
    row = table1_001()[9]
    assert DEFAULT_TARGET.value == row.value and DEFAULT_TARGET.nature == row.nature
    assert DEFAULT_TARGET.year == 2025  # the table's only target column: "2025 年目标值"
    assert DEFAULT_TARGET.value_yi_per_km2 == pytest.approx(row.value * density_factor_to_yi_per_km2(row.unit))
    assert nfkc(DEFAULT_TARGET.name) == nfkc(row.name)
    assert "已供应工业用地" in row.name and DEFAULT_TARGET.basis == "supplied_industrial_land"
    assert DEFAULT_TARGET.source == f"{SRC_001} 表1 #9"
    with (SAMPLE_DATA_DIR / "layers" / "targets.csv").open(encoding="utf-8") as fh:
        [stored] = [r for r in csv.DictReader(fh) if r["code"] == DEFAULT_TARGET.code]
    assert (float(stored["value"]), int(stored["year"]), stored["basis"], stored["nature"]) == (
        DEFAULT_TARGET.value, DEFAULT_TARGET.year, DEFAULT_TARGET.basis, DEFAULT_TARGET.nature)
    assert density_factor_to_yi_per_km2(stored["unit"]) == density_factor_to_yi_per_km2(DEFAULT_TARGET.unit)
