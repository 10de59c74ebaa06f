"""The 集约度 score exists only when every weighted indicator is present; a partial mean is never ranked."""

from __future__ import annotations

import pandas as pd
import pytest

from gis_service.metrics.intensity import ScoreConfig, score_rows

CONFIG = ScoreConfig(
    source="test", label="test", is_example=True,
    type_rule={"industrial_share_above_pct": 30, "residential_share_at_least_pct": 25},
    weights={"工业主导型": {"floor_area_ratio": {"weight": 0.5, "ideal": 1.0},
                          "industrial_tax_per_ha_wan": {"weight": 0.5, "ideal": 100}}},
)


def _rows() -> pd.DataFrame:
    base = {"industrial_land_share_pct": 70.0, "residential_land_share_pct": 5.0}
    return pd.DataFrame([
        {**base, "unit_id": 1, "floor_area_ratio": 0.5, "industrial_tax_per_ha_wan": 100.0},  # 50 and 100 → 75
        {**base, "unit_id": 2, "floor_area_ratio": 1.0, "industrial_tax_per_ha_wan": None},  # tax missing
    ])


def test_a_park_missing_a_weighted_indicator_has_no_score_and_no_rank() -> None:
    out = score_rows(_rows(), CONFIG).set_index("unit_id")
    assert out.loc[1, "intensity_score"] == pytest.approx(75.0) and out.loc[1, "rank"] == 1
    # the mean over what is present would be 100 and rank the incomplete park first
    assert pd.isna(out.loc[2, "intensity_score"]) and pd.isna(out.loc[2, "rank"])
    assert out.loc[2, "partial_score"] == pytest.approx(100.0) and out.loc[2, "weight_covered_pct"] == pytest.approx(50.0)
    assert out.loc[2, "score_missing"] == ["industrial_tax_per_ha_wan"]
    assert out.loc[1, "weight_covered_pct"] == pytest.approx(100.0)
