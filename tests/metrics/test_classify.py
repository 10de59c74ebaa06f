"""亩均论英雄-style classification: weights, benchmarks, ties, missing data."""

import numpy as np
import pandas as pd
import pytest

from gis_service.errors import InputError
from gis_service.metrics.classify import ClassBand, ScoreIndicator, benchmark_from_mean, mu_jun_classes

JIANGSU = [
    ScoreIndicator("tax_per_mu", 45, 20.0, "亩均税收", "万元/亩"),
    ScoreIndicator("sales_per_mu", 35, 400.0, "亩均销售收入", "万元/亩"),
    ScoreIndicator("tax_per_energy", 20, 2.0, "单位能耗税收", "万元/吨标煤"),
]


def _frame():
    return pd.DataFrame(
        {
            "unit_id": list("ABCDEFGHIJ"),
            "tax_per_mu": [40, 20, 20, 10, 30, 5, 15, 25, np.nan, 12],
            "sales_per_mu": [800, 400, 400, 200, 600, 100, 300, 500, 300, 240],
            "tax_per_energy": [4, 2, 2, 1, 3, 0.5, 1.5, 2.5, 1, 1.2],
        }
    )


def test_scores_hand_computed():
    out = mu_jun_classes(_frame(), JIANGSU).set_index("unit_id")
    # A: 0.45*2 + 0.35*2 + 0.20*2 = 2.0; D: everything at half the benchmark → 0.5
    assert out.loc["A", "score"] == pytest.approx(2.0)
    assert out.loc["D", "score"] == pytest.approx(0.5)
    assert out.loc["G", "score"] == pytest.approx(0.75)


def test_classes_with_ties_and_missing():
    out = mu_jun_classes(_frame(), JIANGSU).set_index("unit_id")
    # I misses 亩均税收: no score, class 无数据 (not scored as 0)
    assert np.isnan(out.loc["I", "score"]) and out.loc["I", "class"] == "无数据"
    assert out.loc["I", "indicators_missing"] == "tax_per_mu"
    # 9 scored: A 2.0, E 1.5, H 1.25, B=C 1.0 (tie), G .75, J .6, D .5, F .25
    assert out.loc["B", "rank"] == out.loc["C", "rank"] == 4
    assert out.loc["B", "class"] == out.loc["C", "class"] == "B"
    # shares ahead: A 0 → A; E 1/9=.11 → A; H 2/9=.22 → B; B,C 3/9 → B; G 5/9=.56 → B; J 6/9 → C; D 7/9 → C; F 8/9=.89 → C
    assert dict(out["class"]) == {"A": "A", "B": "B", "C": "B", "D": "C", "E": "A", "F": "C", "G": "B", "H": "B",
                                  "I": "无数据", "J": "C"}


def test_reweight_scores_partial_units_and_flags_them():
    out = mu_jun_classes(_frame(), JIANGSU, missing="reweight").set_index("unit_id")
    # I: sales 300/400 = .75, energy 1/2 = .5 → (0.35*.75 + 0.20*.5) / 0.55
    assert out.loc["I", "score"] == pytest.approx((0.35 * 0.75 + 0.2 * 0.5) / 0.55)
    assert bool(out.loc["I", "partial"]) and not bool(out.loc["A", "partial"])


def test_bottom_band_d():
    frame = pd.DataFrame({"unit_id": range(20), "x": np.arange(20, 0, -1, dtype=float)})
    out = mu_jun_classes(frame, [ScoreIndicator("x", 1, 10)])
    assert list(out["class"].value_counts().sort_index().items()) == [("A", 4), ("B", 8), ("C", 7), ("D", 1)]


def test_benchmark_and_bad_configuration():
    assert benchmark_from_mean([10, 20, np.nan]) == pytest.approx(30.0)  # 2 × mean(10, 20)
    with pytest.raises(InputError):
        ScoreIndicator("x", 1, 0.0)
    with pytest.raises(InputError):
        mu_jun_classes(_frame(), JIANGSU, bands=[ClassBand("A", 0.5), ClassBand("B", 0.4)])
    with pytest.raises(InputError, match="negative tax_per_mu"):
        mu_jun_classes(_frame().assign(tax_per_mu=-1.0), JIANGSU)
