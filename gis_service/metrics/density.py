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

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from gis_service.metrics.bases import check_basis, require_columns
from gis_service.metrics.errors import DuplicateUnitError, NegativeValueError, NoDataForYearError, UnknownUnitError
from gis_service.metrics.vintage import latest_at_or_before
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
    "figure_year",
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
    pandas.DataFrame
        With :data:`DENSITY_COLUMNS`.

    Notes
    -----
    The two halves, :func:`unit_figures` and :func:`divide_by_bases`, can be called
    apart: the figures do not depend on the areas, so a caller waiting for the areas (a
    PostGIS query) can prepare them meanwhile.
    """
    require_columns(bases, ["unit_id", "basis", "area_km2"], "bases")
    figures = unit_figures(units, indicators, year=year, numerators=numerators)
    return divide_by_bases(figures, bases, basis=_chosen_bases(bases, basis))


def unit_figures(
    units: pd.DataFrame, indicators: pd.DataFrame, *, year: int, numerators: Sequence[str] = DEFAULT_NUMERATORS
) -> pd.DataFrame:
    """One row per unit × numerator: the figure that counts for ``year`` in canonical units,
    its source and ``figure_year``, the year it comes from.

    The figure that counts is the latest at or before ``year``
    (:func:`~gis_service.metrics.vintage.latest_at_or_before`, the one rule).  Every unit
    gets rows, with or without a figure (``value_canonical`` NaN).  Validates as
    :func:`density_table` says (unknown numerator or unit, negative figure, no figure at or
    before the year, two figures for one unit in one year).
    """
    require_columns(units, ["unit_id"], "units")
    for code in numerators:
        if code not in NUMERATORS:
            raise UnknownUnitError(f"unknown numerator {code!r}; known: {', '.join(NUMERATORS)}")
    values = normalise_indicators(indicators, numerators=numerators)
    in_year = latest_at_or_before(values, year, keys=["unit_id", "metric_code"])
    if in_year.empty:
        years = sorted(values["year"].unique().tolist())
        raise NoDataForYearError(
            f"no figure of {', '.join(numerators)} at or before {year}; years with data: {years or 'none'}"
        )
    refuse_two_figures(in_year)
    fig = pd.DataFrame(
        {
            "unit_id": in_year["unit_id"].to_numpy(),
            "numerator": in_year["metric_code"].to_numpy(),
            "value_canonical": in_year["value_canonical"].to_numpy(),
            "figure_year": in_year["year"].astype("Int64").to_numpy(),
            "numerator_source": _sources(in_year),
            "fig_synthetic": _flag(in_year, "is_synthetic"),
        }
    )
    table = _grid(units, numerators).merge(fig, on=["unit_id", "numerator"], how="left")
    table["year"] = year
    return table


def refuse_two_figures(in_year: pd.DataFrame, *, unit_word: str = "unit", names: Mapping[Any, str] | None = None) -> None:
    """Raise :class:`DuplicateUnitError` when two of the figures that count for a year
    (:func:`~gis_service.metrics.vintage.latest_at_or_before` keeps both) share a unit and a
    metric: which one is right is the data owner's call, never picked silently.

    The one check for every answer made of yearly figures (densities, land intensity); the
    message names the metric, the unit (``unit_word`` and, when given, its name from
    ``names``) and the year.  ``in_year`` has ``unit_id``, ``metric_code`` and ``year``.
    """
    dup = in_year.duplicated(["unit_id", "metric_code"])
    if not dup.any():
        return
    r = in_year[dup].iloc[0]
    unit = r["unit_id"].item() if hasattr(r["unit_id"], "item") else r["unit_id"]  # 1, not np.int64(1)
    name = f" ({names[unit]})" if names and unit in names else ""
    raise DuplicateUnitError(f"two {r['metric_code']} figures for {unit_word} {unit!r}{name} in {r['year']}")


def divide_by_bases(figures: pd.DataFrame, bases: pd.DataFrame, *, basis: Sequence[str] | str) -> pd.DataFrame:
    """:func:`unit_figures` rows × the chosen bases: areas attached, densities computed.

    Returns a frame with :data:`DENSITY_COLUMNS` (one row per unit × numerator × basis; a
    unit without an area on a basis keeps its row, density missing with the reason).
    Raises :class:`DuplicateUnitError` when ``bases`` has two areas for one unit and basis.
    """
    require_columns(bases, ["unit_id", "basis", "area_km2"], "bases")
    chosen = [check_basis(b) for b in ([basis] if isinstance(basis, str) else basis)]
    # figure-major order: each figure row once per chosen basis
    fig_rows = np.repeat(np.arange(len(figures)), len(chosen))
    basis_col = np.tile(np.asarray(chosen, dtype=object), len(figures))
    unit_ids = figures["unit_id"].to_numpy()[fig_rows]
    take = _BaseLookup(bases, chosen, unit_ids, basis_col)
    numerator = figures["numerator"].to_numpy()[fig_rows]
    money = _is_money(numerator)
    value = figures["value_canonical"].to_numpy(dtype=float, na_value=np.nan)[fig_rows]
    value_yi, value_count = np.where(money, value, np.nan), np.where(money, np.nan, value)
    area = take("area_km2", np.nan).astype(float)
    base_version = take("boundary_version", None)
    unit_version = figures["boundary_version"].to_numpy()[fig_rows]
    columns: dict[str, object] = {
        "unit_id": unit_ids,
        "unit_name": figures["unit_name"].to_numpy()[fig_rows],
        "year": figures["year"].to_numpy()[fig_rows],
        "figure_year": figures["figure_year"].to_numpy()[fig_rows],
        "numerator": numerator,
        "numerator_label": [NUMERATORS[c].label_zh for c in numerator],
        "value_yi_yuan": value_yi,
        "value_count": value_count,
        "numerator_source": figures["numerator_source"].fillna("").to_numpy()[fig_rows],
        "basis": basis_col,
        "area_km2": area,
        "basis_source": take("basis_source", ""),
        "boundary_version": np.where(pd.isna(base_version), unit_version, base_version),
        "uses_synthetic_data": take("is_synthetic", False).astype(bool) | _flag(figures, "fig_synthetic")[fig_rows],
        "is_approximate": take("is_approximate", False).astype(bool),
        **density_columns(numerator, basis_col, value_yi, value_count, area),
    }
    return pd.DataFrame(columns)[DENSITY_COLUMNS]


class _BaseLookup:
    """Values of ``bases`` columns for given (unit, basis) rows; a default where a unit has
    no area on a basis.  A dictionary join: the frames are per unit, so small."""

    def __init__(self, bases: pd.DataFrame, chosen: Sequence[str], unit_ids: np.ndarray, basis_col: np.ndarray) -> None:
        row_of: dict[tuple[object, object], int] = {}
        for pos, key in enumerate(zip(bases["unit_id"], bases["basis"])):
            if key[1] in chosen and key in row_of:
                raise DuplicateUnitError(f"bases: two {key[1]} areas for unit {key[0]!r} (rows {row_of[key]} and {pos})")
            row_of[key] = pos
        self._bases = bases
        self._rows = np.array([row_of.get(key, -1) for key in zip(unit_ids, basis_col)], dtype=int)
        self._found = self._rows >= 0

    def __call__(self, column: str, missing: object) -> np.ndarray:
        if column not in self._bases.columns or not self._found.any():
            return np.full(len(self._rows), missing, dtype=object if not isinstance(missing, float) else float)
        values = self._bases[column].to_numpy()[np.where(self._found, self._rows, 0)]
        values = values.astype(object) if values.dtype.kind not in "fb" else values
        return np.where(self._found, values, missing)


def recompute_densities(table: pd.DataFrame) -> pd.DataFrame:
    """Recompute the density columns of a density table from its numerators and areas.

    Used after summing extensive figures (zones) or changing them (what-if): densities are
    always recomputed from sums, never summed or averaged.
    """
    densities = pd.DataFrame(
        density_columns(
            table["numerator"].to_numpy(),
            table["basis"].to_numpy(),
            table["value_yi_yuan"].to_numpy(dtype=float, na_value=np.nan),
            table["value_count"].to_numpy(dtype=float, na_value=np.nan),
            table["area_km2"].to_numpy(dtype=float, na_value=np.nan),
        ),
        index=table.index,
    )
    out = pd.concat([table.drop(columns=table.columns.intersection(densities.columns)), densities], axis=1)
    return out[[*table.columns, *densities.columns.difference(table.columns, sort=False)]]


def density_columns(
    numerator: np.ndarray, basis: np.ndarray, value_yi: np.ndarray, value_count: np.ndarray, area: np.ndarray
) -> dict[str, object]:
    """``area_mu``, the three densities and ``missing_reason`` as arrays, from the numerator
    codes, basis names, values (亿元 for money, items for counts) and areas (km²).

    The one place where a density is computed: every table (units, zones, what-if) gets
    its density columns here, from sums, never by summing or averaging densities.
    """
    money = _is_money(numerator)
    value = np.where(money, value_yi, value_count)
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = np.where(area > 0, value / np.where(area > 0, area, 1.0), np.nan)
    density = np.where(money, ratio, np.nan)
    return {
        "area_mu": area * MU_PER_KM2,
        "density_yi_per_km2": density,
        "mu_jun_wan_per_mu": yi_per_km2_to_wan_per_mu(density),
        "count_per_km2": np.where(money, np.nan, ratio),
        "missing_reason": _missing_reason(numerator, basis, value, area),
    }


def _is_money(numerator: Iterable[str]) -> np.ndarray:
    return np.array([NUMERATORS[c].kind == "money" for c in numerator], dtype=bool)


# --------------------------------------------------------------------------- internals
def _chosen_bases(bases: pd.DataFrame, basis: Sequence[str] | str | None) -> list[str]:
    if basis is None:
        return list(dict.fromkeys(bases["basis"]))
    chosen = [basis] if isinstance(basis, str) else list(basis)
    return [check_basis(b) for b in chosen]


def _grid(units: pd.DataFrame, numerators: Sequence[str]) -> pd.DataFrame:
    n = len(units)
    ids = units["unit_id"].to_numpy()
    names = units["unit_name"].to_numpy() if "unit_name" in units.columns else units["unit_id"].astype(str).to_numpy()
    versions = units["boundary_version"].to_numpy() if "boundary_version" in units.columns else np.full(n, pd.NA)
    k = len(numerators)
    return pd.DataFrame(
        {
            "unit_id": np.repeat(ids, k),
            "unit_name": np.repeat(names, k),
            "boundary_version": np.repeat(versions, k),
            "numerator": np.tile(np.asarray(list(numerators), dtype=object), n),
        }
    )


def _missing_reason(numerators: Iterable[str], bases: Iterable[str], value: np.ndarray, area: np.ndarray) -> list[str | None]:
    reasons: list[str | None] = []
    for numerator, basis, v, a in zip(numerators, bases, value, area):
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
