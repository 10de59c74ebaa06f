"""Relative classification in the style of 亩均论英雄 ("judging heroes by output per mu").

The 亩均论英雄 evaluations (Zhejiang, Jiangsu) score each enterprise or park by

    score = Σ weight_i × (indicator_i / benchmark_i)

and sort them into classes by percentile (e.g. A top 20 %, B 20-60 %, C 60-95 %, D bottom 5 %).
A Jiangsu example weights 亩均税收 (tax per mu) 45 %, 亩均销售收入 (sales revenue per mu) 35 %
and 单位能耗税收 (tax per unit of energy) 20 %, with benchmarks about twice the previous
year's mean (:func:`benchmark_from_mean`).  Everything here is configurable.

Missing indicators are not zeros: by default a unit missing any indicator gets no score and
the class 无数据; ``missing="reweight"`` scores it on the indicators it has (weights
renormalised) and lists what was missing.  Tied scores share a class (the better one).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from gis_service.errors import InputError
from gis_service.metrics.bases import require_columns
from gis_service.metrics.errors import NegativeValueError
from gis_service.metrics.targets import NO_DATA


@dataclass(frozen=True)
class ScoreIndicator:
    """One scored indicator: the frame column holding it, its weight and benchmark (same unit)."""

    column: str
    weight: float
    benchmark: float
    label_zh: str = ""
    unit: str = ""

    def __post_init__(self) -> None:
        if not self.weight > 0:
            raise InputError(f"weight of {self.column!r} must be > 0, got {self.weight}")
        if not (np.isfinite(self.benchmark) and self.benchmark > 0):
            raise InputError(f"benchmark of {self.column!r} must be > 0, got {self.benchmark}")


@dataclass(frozen=True)
class ClassBand:
    """A class and the upper bound of its band, as a share of units counted from the top."""

    label: str
    upper_share: float


#: A top 20 %, B 20-60 %, C 60-95 %, D bottom 5 %
DEFAULT_BANDS: tuple[ClassBand, ...] = (
    ClassBand("A", 0.20),
    ClassBand("B", 0.60),
    ClassBand("C", 0.95),
    ClassBand("D", 1.00),
)


def benchmark_from_mean(values: Sequence[float] | pd.Series, *, factor: float = 2.0) -> float:
    """A benchmark as ``factor`` × the mean of the non-missing ``values`` (e.g. last year's)."""
    arr = pd.to_numeric(pd.Series(values), errors="coerce").dropna().to_numpy(dtype=float)
    if arr.size == 0:
        raise InputError("cannot derive a benchmark: no non-missing value")
    return float(factor * arr.mean())


def mu_jun_classes(
    frame: pd.DataFrame,
    indicators: Sequence[ScoreIndicator],
    *,
    bands: Sequence[ClassBand] = DEFAULT_BANDS,
    missing: str = "no_score",
    id_column: str = "unit_id",
) -> pd.DataFrame:
    """Score and class every unit of a wide frame (one row per unit, one column per indicator).

    Parameters
    ----------
    frame
        Wide frame with ``id_column`` and the indicator columns (units as in the benchmark).
    indicators
        Scored indicators; weights are normalised to sum to 1.
    bands
        Class bands from the top, with increasing ``upper_share`` ending at 1.
    missing
        ``"no_score"``: a unit with any missing indicator is not scored (class 无数据);
        ``"reweight"``: scored on its present indicators with renormalised weights.

    Returns
    -------
    pandas.DataFrame
        With ``id_column``, ``ratio_<column>`` (indicator / benchmark) per indicator,
        ``score``, ``rank`` (1 = best; ties share the best rank), ``share_above`` (share of
        scored units strictly ahead), ``class``, ``indicators_missing``, ``partial``.
    """
    if not indicators:
        raise InputError("no indicator to score")
    require_columns(frame, [id_column, *(i.column for i in indicators)], "classification frame")
    _check_bands(bands)
    if missing not in ("no_score", "reweight"):
        raise InputError(f"missing must be 'no_score' or 'reweight', got {missing!r}")
    weights = np.array([i.weight for i in indicators], dtype=float)
    weights = weights / weights.sum()
    values = np.column_stack([pd.to_numeric(frame[i.column], errors="coerce").to_numpy(float) for i in indicators])
    negative = np.argwhere(values < 0)
    if negative.size:
        r, c = negative[0]
        raise NegativeValueError(
            f"negative {indicators[c].column} ({values[r, c]}) for {frame[id_column].iloc[r]!r}"
        )
    ratios = values / np.array([i.benchmark for i in indicators])
    present = ~np.isnan(ratios)
    weighted = np.where(present, ratios, 0.0) @ weights
    present_weight = present.astype(float) @ weights
    if missing == "no_score":
        score = np.where(present.all(axis=1), weighted, np.nan)
    else:
        with np.errstate(invalid="ignore", divide="ignore"):
            score = np.where(present_weight > 0, weighted / present_weight, np.nan)
    out = pd.DataFrame({id_column: frame[id_column].to_numpy()})
    for k, ind in enumerate(indicators):
        out[f"ratio_{ind.column}"] = ratios[:, k]
    out["score"] = score
    scored = ~np.isnan(score)
    rank = pd.Series(score).rank(method="min", ascending=False)
    out["rank"] = rank.astype("Int64")
    n = int(scored.sum())
    share_above = (rank.to_numpy() - 1) / n if n else np.full(len(out), np.nan)
    out["share_above"] = np.where(scored, share_above, np.nan)
    out["class"] = _band_labels(out["share_above"].to_numpy(), bands)
    out["indicators_missing"] = [
        ", ".join(ind.column for ind, ok in zip(indicators, row) if not ok) for row in present
    ]
    out["partial"] = scored & ~present.all(axis=1)
    return out


def _band_labels(share_above: np.ndarray, bands: Sequence[ClassBand]) -> np.ndarray:
    labels = np.full(len(share_above), NO_DATA, dtype=object)
    assigned = np.isnan(share_above)
    for band in bands:
        hit = ~assigned & (share_above < band.upper_share)
        labels[hit] = band.label
        assigned |= hit
    return labels


def _check_bands(bands: Sequence[ClassBand]) -> None:
    uppers = [b.upper_share for b in bands]
    if not bands or any(b <= a for a, b in zip(uppers, uppers[1:])) or uppers[-1] != 1.0 or uppers[0] <= 0:
        raise InputError(f"class bands must have increasing upper shares ending at 1.0, got {uppers}")


def mu_jun_frame(density: pd.DataFrame, *, basis: str, numerators: Sequence[str]) -> pd.DataFrame:
    """Pivot a density table to a wide frame of 亩均 figures in 万元/亩 for classification.

    Columns are ``mu_jun_<numerator>_wan_per_mu`` (e.g. ``mu_jun_tax_wan_per_mu``, 亩均税收).
    """
    rows = density[(density["basis"] == basis) & density["numerator"].isin(numerators)]
    wide = rows.set_index(["unit_id", "numerator"])["mu_jun_wan_per_mu"].unstack("numerator")
    wide = wide.reindex(columns=list(numerators))
    wide.columns = [f"mu_jun_{c}_wan_per_mu" for c in wide.columns]
    return wide.reset_index()
