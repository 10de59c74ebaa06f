"""Densities: numerators (output, revenue, tax, employees...) over bases (areas), per unit and year.

Each result row says what was divided by what: ``numerator``, ``basis``, ``year``,
``boundary_version``, the source of the figure (``numerator_source``) and of the area
(``basis_source``), and whether synthetic or approximate data went into it.

Units are explicit in column names:

- ``value_yi_yuan`` money numerators in 亿元; ``value_count`` employees/enterprises;
- ``area_km2`` and ``area_mu`` (1 km² = 1,500 亩);
- ``density_yi_per_km2`` (亿元/km²) and ``mu_jun_wan_per_mu`` (亩均, 万元/亩) for money;
- ``count_per_km2`` for employees and enterprises.

A missing figure or a zero area gives a missing density with ``missing_reason`` set,
never a zero or an infinity.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from gis_service.metrics.bases import BASES_COLUMNS, check_basis, require_columns
from gis_service.metrics.errors import DuplicateUnitError, NegativeValueError, NoDataForYearError, UnknownUnitError
from gis_service.metrics.units import MU_PER_KM2, count_factor, money_factor_to_yi, yi_per_km2_to_wan_per_mu


@dataclass(frozen=True)
class Numerator:
    """A numerator: its metric code, Chinese label and whether it is money (亿元) or a count."""

    code: str
    label_zh: str
    kind: str  # "money" | "count"


NUMERATORS: dict[str, Numerator] = {
    n.code: n
    for n in (
        Numerator("output", "产值(工业总产值)", "money"),
        Numerator("revenue", "营业收入", "money"),
        Numerator("value_added", "增加值", "money"),
        Numerator("tax", "税收", "money"),
        Numerator("employees", "员工人数", "count"),
        Numerator("enterprises", "企业数", "count"),
    )
}

DEFAULT_NUMERATORS: tuple[str, ...] = tuple(NUMERATORS)

DENSITY_COLUMNS: list[str] = [
    "unit_id",
    "unit_name",
    "year",
    "numerator",
    "numerator_label",
    "value_yi_yuan",
    "value_count",
    "numerator_source",
    "basis",
    "area_km2",
    "area_mu",
    "basis_source",
    "boundary_version",
    "density_yi_per_km2",
    "mu_jun_wan_per_mu",
    "count_per_km2",
    "uses_synthetic_data",
    "is_approximate",
    "missing_reason",
]


def register_numerator(code: str, label_zh: str, kind: str) -> Numerator:
    """Add a numerator (e.g. a project-specific revenue metric); ``kind`` is money or count."""
    if kind not in ("money", "count"):
        raise UnknownUnitError(f"numerator kind must be 'money' or 'count', got {kind!r}")
    NUMERATORS[code] = Numerator(code, label_zh, kind)
    return NUMERATORS[code]


def normalise_indicators(indicators: pd.DataFrame, *, numerators: Sequence[str]) -> pd.DataFrame:
    """Indicator rows of the given numerators converted to canonical units, validated.

    Money goes to 亿元 (``value_canonical``); counts to single items (万人 -> persons).  Raises
    :class:`UnknownUnitError` for a unit that does not fit the numerator and
    :class:`NegativeValueError` for a negative figure, naming the row.
    """
    require_columns(indicators, ["unit_id", "year", "metric_code", "value", "unit"], "indicators")
    rows = indicators[indicators["metric_code"].isin(numerators)].copy()
    factors = np.empty(len(rows))
    for pos, (idx, metric, unit, unit_id, year) in enumerate(
        zip(rows.index, rows["metric_code"], rows["unit"], rows["unit_id"], rows["year"])
    ):
        where = f"indicator row {idx}: unit {unit_id!r}, {metric}, {year}"
        if NUMERATORS[metric].kind == "money":
            factors[pos] = money_factor_to_yi(unit, where=where)
        else:
            factors[pos] = count_factor(unit, where=where)
    rows["value_canonical"] = rows["value"].astype(float).to_numpy() * factors
    negative = rows[rows["value_canonical"] < 0]
    if not negative.empty:
        r = negative.iloc[0]
        raise NegativeValueError(
            f"negative {r['metric_code']} {r['value']} {r['unit']} for unit {r['unit_id']!r} in {r['year']} "
            f"(indicator row {negative.index[0]})"
        )
    return rows


def density_table(
    units: pd.DataFrame,
    indicators: pd.DataFrame,
    bases: pd.DataFrame,
    *,
    year: int,
    numerators: Sequence[str] = DEFAULT_NUMERATORS,
    basis: Sequence[str] | str | None = None,
) -> pd.DataFrame:
    """One row per unit × numerator × basis for ``year``: the figure, the area and their ratio.

    Parameters
    ----------
    units
        (Geo)DataFrame with ``unit_id`` and optionally ``unit_name``, ``boundary_version``.
        Every unit gets rows, with or without data (missing stays visible).
    indicators
        Long frame ``unit_id, year, metric_code, value, unit`` (+ ``source_document``,
        ``source_section``, ``is_synthetic``); ``metric_code`` names the numerator.
    bases
        Bases frame (see :mod:`gis_service.metrics.bases`), areas in km².
    year
        Year of the figures.  Raises :class:`NoDataForYearError` when no numerator has a
        figure for that year.
    numerators
        Numerator codes (see :data:`NUMERATORS`).
    basis
        Restrict to these bases (default: all bases present in ``bases``).

    Returns
    -------
    DataFrame with :data:`DENSITY_COLUMNS`.
    """
    require_columns(units, ["unit_id"], "units")
    require_columns(bases, ["unit_id", "basis", "area_km2"], "bases")
    for code in numerators:
        if code not in NUMERATORS:
            raise UnknownUnitError(f"unknown numerator {code!r}; known: {', '.join(NUMERATORS)}")
    chosen_bases = _chosen_bases(bases, basis)
    values = normalise_indicators(indicators, numerators=numerators)
    in_year = values[values["year"] == year]
    if in_year.empty:
        years = sorted(values["year"].unique().tolist())
        raise NoDataForYearError(
            f"no figure of {', '.join(numerators)} for {year}; years with data: {years or 'none'}"
        )
    dup = in_year.duplicated(["unit_id", "metric_code"])
    if dup.any():
        r = in_year[dup].iloc[0]
        raise DuplicateUnitError(
            f"two {r['metric_code']} figures for unit {r['unit_id']!r} in {year}"
        )
    grid = _grid(units, numerators, chosen_bases)
    fig = in_year.assign(
        numerator=in_year["metric_code"],
        numerator_source=_sources(in_year),
        fig_synthetic=_flag(in_year, "is_synthetic"),
    )[["unit_id", "numerator", "value_canonical", "numerator_source", "fig_synthetic"]]
    table = grid.merge(fig, on=["unit_id", "numerator"], how="left")
    base_cols = bases[[c for c in BASES_COLUMNS if c in bases.columns]].drop(columns=["year"], errors="ignore")
    base_cols = base_cols.rename(columns={"boundary_version": "base_boundary_version"})
    table = table.merge(base_cols, on=["unit_id", "basis"], how="left")
    return _finish(table, year)


def recompute_densities(table: pd.DataFrame) -> pd.DataFrame:
    """Recompute the density columns of a density table from its numerators and areas.

    Used after summing extensive figures (zones) or changing them (what-if): densities are
    always recomputed from sums, never summed or averaged.
    """
    out = table.copy()
    money = out["numerator"].map(lambda c: NUMERATORS[c].kind == "money").to_numpy(dtype=bool)
    area = out["area_km2"].astype(float).to_numpy()
    value = np.where(money, out["value_yi_yuan"].astype(float), out["value_count"].astype(float))
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = np.where(area > 0, value / np.where(area > 0, area, 1.0), np.nan)
    out["area_mu"] = area * MU_PER_KM2
    out["density_yi_per_km2"] = np.where(money, ratio, np.nan)
    out["mu_jun_wan_per_mu"] = yi_per_km2_to_wan_per_mu(out["density_yi_per_km2"])
    out["count_per_km2"] = np.where(money, np.nan, ratio)
    out["missing_reason"] = _missing_reason(out, value, area)
    return out


# --------------------------------------------------------------------------- internals
def _chosen_bases(bases: pd.DataFrame, basis: Sequence[str] | str | None) -> list[str]:
    if basis is None:
        return list(dict.fromkeys(bases["basis"]))
    chosen = [basis] if isinstance(basis, str) else list(basis)
    return [check_basis(b) for b in chosen]


def _grid(units: pd.DataFrame, numerators: Sequence[str], bases: Sequence[str]) -> pd.DataFrame:
    frame = pd.DataFrame(
        {
            "unit_id": units["unit_id"].to_numpy(),
            "unit_name": units["unit_name"].to_numpy() if "unit_name" in units.columns else units["unit_id"].astype(str).to_numpy(),
            "boundary_version": units["boundary_version"].to_numpy() if "boundary_version" in units.columns else pd.NA,
        }
    )
    keys = pd.MultiIndex.from_product([list(numerators), list(bases)], names=["numerator", "basis"]).to_frame(index=False)
    return frame.merge(keys, how="cross")


def _finish(table: pd.DataFrame, year: int) -> pd.DataFrame:
    money = table["numerator"].map(lambda c: NUMERATORS[c].kind == "money").to_numpy(dtype=bool)
    table["year"] = year
    table["numerator_label"] = table["numerator"].map(lambda c: NUMERATORS[c].label_zh)
    table["value_yi_yuan"] = np.where(money, table["value_canonical"], np.nan)
    table["value_count"] = np.where(money, np.nan, table["value_canonical"])
    table["boundary_version"] = table["base_boundary_version"].where(
        table["base_boundary_version"].notna(), table["boundary_version"]
    )
    table["uses_synthetic_data"] = (
        table["is_synthetic"].fillna(False).astype(bool) | table["fig_synthetic"].fillna(False).astype(bool)
    )
    table["is_approximate"] = table["is_approximate"].fillna(False).astype(bool)
    table["numerator_source"] = table["numerator_source"].fillna("")
    table["basis_source"] = table["basis_source"].fillna("")
    out = recompute_densities(table)
    return out[DENSITY_COLUMNS].reset_index(drop=True)


def _missing_reason(table: pd.DataFrame, value: np.ndarray, area: np.ndarray) -> list[str | None]:
    reasons: list[str | None] = []
    for numerator, basis, v, a in zip(table["numerator"], table["basis"], value, area):
        if np.isnan(v) and np.isnan(a):
            reasons.append(f"no {numerator} figure and no {basis} area")
        elif np.isnan(v):
            reasons.append(f"no {numerator} figure")
        elif np.isnan(a):
            reasons.append(f"no {basis} area")
        elif a == 0:
            reasons.append(f"{basis} area is 0")
        else:
            reasons.append(None)
    return reasons


def _sources(rows: pd.DataFrame) -> list[str]:
    docs = rows["source_document"].fillna("").astype(str) if "source_document" in rows else pd.Series([""] * len(rows), index=rows.index)
    secs = rows["source_section"].fillna("").astype(str) if "source_section" in rows else pd.Series([""] * len(rows), index=rows.index)
    return [f"{d} {s}".strip() or "unsourced" for d, s in zip(docs, secs)]


def _flag(rows: pd.DataFrame, column: str) -> np.ndarray:
    if column not in rows.columns:
        return np.zeros(len(rows), dtype=bool)
    return rows[column].fillna(False).astype(bool).to_numpy()
