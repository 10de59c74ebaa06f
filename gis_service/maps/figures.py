"""Per-park figures for maps and the API: densities on every basis and attainment of a target.

A thin composition of the shared loaders (:mod:`gis_service.store`) and the metrics
engine (:mod:`gis_service.metrics`): nothing is computed here that those do not
compute.  Missing figures stay missing (NaN / None), with the reason.
"""

from __future__ import annotations

from dataclasses import dataclass

import geopandas as gpd
import pandas as pd
from sqlalchemy import Engine

from gis_service.errors import InputError, NotFoundError
from gis_service.metrics.bases import (
    ALL_BASES,
    BASIS_LABELS_ZH,
    MEASURED_AREA,
    PARCEL_BASES,
    PUBLISHED_AREA,
    PUBLISHED_AREA_METRICS,
    SUPPLIED_INDUSTRIAL_LAND,
    check_basis,
)
from gis_service.metrics.area_bases import measured_area_base, published_area_base
from gis_service.maps.cache import DataMemo
from gis_service.metrics.answer import indicators_for_parks, leaf_parks, units_from_parks, with_boundary_fallback
from gis_service.metrics.apportion import aggregate_to_zones
from gis_service.metrics.postgis import parcel_bases_sql, zone_piece_bases_sql
from gis_service.metrics.density import NUMERATORS, density_table
from gis_service.metrics.targets import DEFAULT_TARGET, NO_DATA, TargetSpec, compare_with_target
from gis_service.store import (
    read_indicators,
    read_parks,
    read_sizhi,
    read_targets,
    read_towns,
    read_zones,
)


@dataclass(frozen=True)
class FigureChoice:
    """What a map or table shows: data ``year``, ``numerator`` over ``basis``, against ``target``.

    ``target`` is the target as defined (its own basis and metric).  ``comparable`` is
    False when the chosen basis is not the target's own basis (e.g. a density on 管辖面积
    against the 80 亿元/km² target defined on supplied industrial land): the comparison is
    then shown but labelled 口径不同 (:func:`~gis_service.metrics.targets.compare_with_target`).
    """

    year: int
    numerator: str
    basis: str
    target: TargetSpec

    @property
    def target_basis(self) -> str:
        return self.target.basis

    @property
    def comparable(self) -> bool:
        return self.basis == self.target.basis and self.numerator == self.target.metric

    def compare(self, table: pd.DataFrame) -> pd.DataFrame:
        """The rows of ``table`` for this choice against the target."""
        return compare_with_target(table, self.target, numerator=self.numerator, basis=self.basis)


def resolve_target(engine: Engine, code: str | None) -> TargetSpec:
    """The target named ``code`` in the ``target`` table; the 001 表1 #9 target when ``None``.

    Raises NotFoundError for an unknown code and InputError for a target that is not a
    numeric density (e.g. published only as text).
    """
    targets = read_targets(engine)
    wanted = code or DEFAULT_TARGET.code
    rows = targets[targets["code"] == wanted]
    if rows.empty:
        if code is None:
            return DEFAULT_TARGET
        known = ", ".join(targets["code"].astype(str)) or "none loaded"
        raise NotFoundError(f"unknown target {code!r}; targets: {known}")
    row = rows.iloc[0].to_dict()
    metric = row["metric_code"] if row["metric_code"] in NUMERATORS else "output"
    return TargetSpec.from_row(row, metric=metric)


def choose(engine: Engine, *, year: int | None, numerator: str = "output", basis: str | None = None,
           target: str | None = None) -> FigureChoice:
    """Validate a choice of year/numerator/basis/target (InputError/NotFoundError naming the culprit).

    ``year=None`` takes the latest year with park figures of ``numerator``.
    """
    if numerator not in NUMERATORS:
        raise InputError(f"numerator: unknown metric {numerator!r}; known: {', '.join(NUMERATORS)}")
    chosen_basis = check_basis(basis) if basis else None
    spec = resolve_target(engine, target)
    chosen_basis = chosen_basis or spec.basis
    year = year if year is not None else latest_year(engine, numerator)
    return FigureChoice(year=year, numerator=numerator, basis=chosen_basis, target=spec)


def park_units(engine: Engine, year: int | None) -> gpd.GeoDataFrame:
    """Parks with the boundary valid in ``year``, as metric *units* (``unit_id`` = park id)."""
    return units_from_parks(read_parks(engine, year=year))


#: units a density table can be made for: parks, towns, and zones (all, or one kind)
ZONE_LEVELS = ("zone", "pian", "corridor_area", "corridor")
LEVELS = ("park", "town", *ZONE_LEVELS)


def level_units(engine: Engine, level: str, year: int | None) -> gpd.GeoDataFrame:
    """Units of a ``level`` with ``unit_id``, ``unit_name`` and boundaries.

    ``level`` is ``park``, ``town``, ``zone`` (every zone) or a zone kind (``pian`` = 片 of
    三片, ``corridor_area`` = area of 一廊九区, ``corridor``).
    """
    if level == "park":
        return park_units(engine, year)
    if level == "town":
        return read_towns(engine).rename(columns={"town_id": "unit_id", "name": "unit_name"})
    if level in ZONE_LEVELS:
        zones = read_zones(engine, None if level == "zone" else level)
        return zones.rename(columns={"zone_id": "unit_id", "name": "unit_name"})
    raise InputError(f"level: unknown level {level!r}; levels: {', '.join(LEVELS)}")


def _park_indicators(engine: Engine) -> pd.DataFrame:
    return indicators_for_parks(read_indicators(engine))


def park_bases(engine: Engine, units: gpd.GeoDataFrame, indicators: pd.DataFrame, *, year: int) -> pd.DataFrame:
    """Every basis of the park ``units``: published and measured areas (few boundaries, in
    GeoPandas) and the parcel-made land (in PostGIS, where the parcels are)."""
    with_geom = units[units.geometry.notna() & ~units.geometry.is_empty]
    frames = [published_area_base(indicators, year=year, metric_codes=PUBLISHED_AREA_METRICS)]
    if not with_geom.empty:
        frames.append(measured_area_base(with_geom))
        frames.append(parcel_bases_sql(engine, year=year, bases=PARCEL_BASES))
    non_empty = [f for f in frames if not f.empty]
    return pd.concat(non_empty, ignore_index=True) if non_empty else pd.DataFrame(columns=["unit_id", "basis", "area_km2"])


#: figures computed from the stored data, recomputed only when the data changes
_MEMO = DataMemo()


def level_density(engine: Engine, units: gpd.GeoDataFrame, *, level: str, year: int, numerators: list[str]) -> pd.DataFrame:
    """The metrics engine's density table of ``units`` (from :func:`level_units`) over every basis.

    Parks use their own figures.  Towns and zones have no figures of their own: the figures
    of the parks in them (blocks, not the parent park that is their union) are apportioned
    by the parks' share in each unit — of their supplied industrial land where parcels
    give it (zone kinds), else of their boundary area — summed, and the densities
    recomputed from the sums (:func:`gis_service.metrics.aggregate_to_zones`).
    """
    key = ("level_density", level, year, tuple(numerators), tuple(units["unit_id"]))
    return _MEMO.get_or_compute(engine, key, lambda: _level_density(engine, units, level=level, year=year,
                                                                    numerators=numerators))


def _level_density(engine: Engine, units: gpd.GeoDataFrame, *, level: str, year: int, numerators: list[str]) -> pd.DataFrame:
    parks = park_units(engine, year)
    indicators = _park_indicators(engine)
    park_table = density_table(parks, indicators, park_bases(engine, parks, indicators, year=year),
                               year=year, numerators=numerators, basis=list(ALL_BASES))
    if level == "park":
        return park_table[park_table["unit_id"].isin(units["unit_id"])].reset_index(drop=True)
    zones = units.rename(columns={"unit_id": "zone_id"})
    zones = zones[zones.geometry.notna() & ~zones.geometry.is_empty]
    land_shares = None
    if level in ZONE_LEVELS and level != "zone":
        _, land_shares = zone_piece_bases_sql(engine, year=year, zone_kind=level, bases=[SUPPLIED_INDUSTRIAL_LAND])
    shares = with_boundary_fallback(land_shares, leaf_parks(parks), zones)
    names = dict(zip(zones["zone_id"], zones["unit_name"]))
    return aggregate_to_zones(park_table, shares, zone_names=names)


def park_density(engine: Engine, units: gpd.GeoDataFrame, *, year: int, numerators: list[str]) -> pd.DataFrame:
    return level_density(engine, units, level="park", year=year, numerators=numerators)


def park_figures(engine: Engine, choice: FigureChoice) -> gpd.GeoDataFrame:
    """One row per park with everything a popup shows.

    Columns: the park columns of :func:`read_parks` (as units), ``sizhi_text``,
    ``sizhi_sides`` (dict side -> text), ``published_area_km2``, ``measured_area_km2``,
    ``value_yi_yuan`` (the numerator, 亿元), ``numerator_source``,
    ``density_<basis>`` for each basis (亿元/km², NaN when missing), and for the chosen basis
    ``density``, ``attainment_pct``, ``gap_yi_per_km2``, ``status``, ``missing_reason``.
    """
    return _MEMO.get_or_compute(engine, ("park_figures", choice), lambda: _park_figures(engine, choice))


def _park_figures(engine: Engine, choice: FigureChoice) -> gpd.GeoDataFrame:
    units = park_units(engine, choice.year)
    table = park_density(engine, units, year=choice.year, numerators=[choice.numerator])
    out = units.copy()
    for basis in ALL_BASES:
        rows = table[table["basis"] == basis].set_index("unit_id")
        out[f"density_{basis}"] = out["unit_id"].map(rows["density_yi_per_km2"])
        out[f"area_{basis}_km2"] = out["unit_id"].map(rows["area_km2"])
    out["published_area_km2"] = out[f"area_{PUBLISHED_AREA}_km2"]
    out["measured_area_km2"] = out[f"area_{MEASURED_AREA}_km2"]
    any_row = table.drop_duplicates("unit_id").set_index("unit_id")
    out["value_yi_yuan"] = out["unit_id"].map(any_row["value_yi_yuan"])
    out["numerator_source"] = out["unit_id"].map(any_row["numerator_source"])
    compared = choice.compare(table).set_index("unit_id")
    out["density"] = out["unit_id"].map(compared["density_yi_per_km2"])
    out["attainment_pct"] = out["unit_id"].map(compared["attainment_pct"])
    out["gap_yi_per_km2"] = out["unit_id"].map(compared["gap_yi_per_km2"])
    out["status"] = out["unit_id"].map(compared["status"]).fillna(NO_DATA)
    out["missing_reason"] = out["unit_id"].map(compared["missing_reason"])
    out["basis_source"] = out["unit_id"].map(compared["basis_source"])
    return _with_sizhi(engine, out)


def _with_sizhi(engine: Engine, frame: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    sizhi = read_sizhi(engine).set_index("park_id")
    frame["sizhi_text"] = frame["unit_id"].map(sizhi["raw_text"]) if not sizhi.empty else None
    frame["sizhi_sides"] = frame["unit_id"].map(lambda pid: sizhi_sides(sizhi["parsed"].get(pid)) if not sizhi.empty else {})
    return frame


#: side keys of the parsed 四至 -> Chinese label
SIDE_LABELS = {"east": "东至", "south": "南至", "west": "西至", "north": "北至"}


def sizhi_sides(parsed: object) -> dict[str, str]:
    """Per-side text of a stored parsed 四至 (``{"东至": "人民北路", ...}``).

    ``parsed`` is the JSON of :meth:`gis_service.sizhi.Sizhi.to_dict`
    (``{"parts": [{"label": ..., "east": [{"name": ..., "as_written": ...}, ...]}]}``);
    each feature is shown as written in the source.  An area made of several parts gets
    the part label before each side's text.  Anything unreadable gives {}.
    """
    if not isinstance(parsed, dict) or not isinstance(parsed.get("parts"), list):
        return {}
    out: dict[str, list[str]] = {}
    for part in parsed["parts"]:
        if not isinstance(part, dict):
            continue
        for side, label in SIDE_LABELS.items():
            segments = [seg for seg in part.get(side) or [] if isinstance(seg, dict)]
            if segments:
                text = "—".join(str(seg.get("as_written") or seg.get("name", "")) for seg in segments)
                out.setdefault(label, []).append(f"{part['label']}:{text}" if part.get("label") else text)
    return {label: ";".join(texts) for label, texts in out.items()}


def basis_label(basis: str) -> str:
    """Chinese label of a basis (已供应工业用地, 管辖面积(公布), ...)."""
    return BASIS_LABELS_ZH.get(basis, basis)


def latest_year(engine: Engine, numerator: str = "output") -> int:
    """The latest year with a (non-projected) park figure of ``numerator``."""
    ind = _park_indicators(engine)
    ind = ind[(ind["metric_code"] == numerator) & ~ind["is_projection"].astype(bool)]
    if ind.empty:
        raise NotFoundError(f"no park has a figure of {numerator!r}; load data first (`gis-service load-sample`)")
    return int(ind["year"].max())
