"""The density answer: every unit of a level against a target, for one year, numerator and basis.

This is the one place a density question is answered.  The CLI (``gis-service density``,
``whatif``), the REST API (``/metrics/density``, ``/metrics/whatif``, park properties), the
OGC park items, the maps, the downloads, the reports and the notebooks all call
:func:`answer_density` (or :func:`answer_whatif`) and only translate its
:class:`DensityAnswer` into JSON, a table, a map or a sheet.

How a question is answered:

1. the target is the stored target row (:func:`~gis_service.answers.targets.resolve_target`);
   the basis defaults to the target's; the year to the latest with park figures;
2. the inputs are read once (:func:`~gis_service.answers.inputs.read_inputs`): parks with the
   boundary in force at the end of the year, every park figure, the zones or towns of the
   level, and the parcel land of the one parcel basis needed, measured in PostGIS;
3. the figure that counts for the year is the latest at or before it
   (:mod:`gis_service.metrics.vintage`), shown on each row as ``figure_year``;
4. what-if changes, if any, change the parks' figures or areas before anything is divided;
5. densities are computed per park (:mod:`gis_service.metrics.density`); towns and zones get
   the parks' figures apportioned by the parks' supplied-industrial-land share in them
   (boundary-area share for a park without parcel land) and densities recomputed from the
   sums (:mod:`gis_service.metrics.apportion`); a zone's measured area is the geometric
   overlap of the parks' boundaries with it;
6. every row is compared with the target (:func:`~gis_service.metrics.targets.compare_with_target`).

Answers are kept until the stored data changes (:class:`~gis_service.store.versions.DataMemo`).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from sqlalchemy import Engine

from gis_service.answers.changes import ChangeRequest, check_changes
from gis_service.answers.inputs import Inputs, ParcelStep, leaf_parks, read_inputs, read_park_figures
from gis_service.answers.records import records
from gis_service.answers.targets import resolve_target
from gis_service.answers.vocabulary import LEVEL_LABELS_ZH, PARK, ROW_COLUMNS, check_level, check_numerator
from gis_service.errors import InputError, NotFoundError
from gis_service.metrics.apportion import aggregate_to_zones, overlap_areas_km2, park_zone_shares
from gis_service.metrics.bases import (
    BASES_COLUMNS,
    BASIS_LABELS_ZH,
    MEASURED_AREA,
    PARCEL_BASES,
    PUBLISHED_AREA,
    check_basis,
)
from gis_service.metrics.density import NUMERATORS, density_columns, divide_by_bases, recompute_densities, unit_figures
from gis_service.metrics.postgis import park_bases_from_pieces
from gis_service.metrics.targets import TargetSpec, compare_with_target, comparability_note_zh
from gis_service.metrics.vintage import FIGURE_YEAR_RULE, FIGURE_YEAR_RULE_ZH
from gis_service.metrics.whatif import Change, apply_changes, describe_changes
from gis_service.store.boundaries import boundary_date
from gis_service.store.parks import find_park
from gis_service.store.versions import DataMemo


@dataclass(frozen=True)
class DensityQuestion:
    """What a user asks: ``numerator`` over ``basis`` per unit of ``level`` in ``year``,
    against the stored target ``target``, optionally with what-if ``changes``.

    ``None`` means the default: the latest year with park figures of the numerator, the
    target's own basis, the target ``t001_09`` (001 表1 #9, 80 亿元/km²).
    """

    year: int | None = None
    numerator: str = "output"
    basis: str | None = None
    level: str = PARK
    target: str | None = None
    changes: tuple[ChangeRequest, ...] = field(default_factory=tuple)


@dataclass(frozen=True)
class DensityAnswer:
    """The rows (one per unit, :data:`~gis_service.answers.vocabulary.ROW_COLUMNS`) and what
    they rest on (``meta``: the question as answered, the target with its source,
    comparability, the rule for figures by year, the data vintage and every source)."""

    question: DensityQuestion  # with the defaults filled in
    target: TargetSpec
    rows: pd.DataFrame
    meta: dict[str, Any]

    @property
    def comparable(self) -> bool:
        return bool(self.meta["comparable_with_target"])

    def records(self) -> list[dict[str, Any]]:
        """The rows as JSON-ready dicts (missing is ``None``, never NaN)."""
        return records(self.rows)

    def to_dict(self) -> dict[str, Any]:
        """``{"meta": …, "rows": […]}``: what ``--json`` prints and the API returns."""
        return {"meta": self.meta, "rows": self.records()}

    def copy(self) -> DensityAnswer:
        return dataclasses.replace(self, rows=self.rows.copy())


@dataclass(frozen=True)
class WhatIfAnswer:
    """The same question answered on the stored data (``baseline``) and with the changes."""

    baseline: DensityAnswer
    scenario: DensityAnswer

    def to_dict(self) -> dict[str, Any]:
        return {"baseline": self.baseline.to_dict(), "scenario": self.scenario.to_dict()}

    def copy(self) -> WhatIfAnswer:
        return WhatIfAnswer(self.baseline.copy(), self.scenario.copy())


#: answers computed from the stored data, kept until that data changes
_MEMO = DataMemo(max_entries=64)


def answer_density(
    engine: Engine, question: DensityQuestion = DensityQuestion(), *,
    parcel_engine: str = "postgis", scheduler: str | None = None, parquet: str | Path | None = None,
) -> DensityAnswer:
    """The answer to ``question`` on the stored data (with its what-if changes, if any).

    ``parcel_engine`` says where the parcel step (parcel land inside each park and zone) runs:
    ``postgis`` (default, in the database), ``geopandas`` (in this process) or ``dask`` (on the
    Dask cluster at ``scheduler``, e.g. ``tcp://host:8786``; a local 2-worker cluster when
    ``None``); the last two read the parcels from the GeoParquet export at ``parquet``
    (:func:`gis_service.export.export_parquet`).  The numbers are the same on every engine.

    Raises InputError/NotFoundError naming the culprit: an unknown level, numerator, basis,
    target, park or engine, a year with no figure at or before it, an unusable target.
    """
    step = ParcelStep(parcel_engine, scheduler, str(parquet) if parquet is not None else None)
    return _MEMO.get_or_compute(engine, ("density", question, step), lambda: compute_density(engine, question, step=step))


def compute_density(
    engine: Engine, question: DensityQuestion = DensityQuestion(), *, step: ParcelStep | None = None
) -> DensityAnswer:
    """:func:`answer_density` without the cache: always asks the database (benchmarks time this)."""
    answer = _answer(engine, question, with_baseline=False, step=step)
    assert isinstance(answer, DensityAnswer)
    return answer


def answer_whatif(engine: Engine, question: DensityQuestion) -> WhatIfAnswer:
    """``question`` answered without and with its ``changes`` (nothing is stored)."""
    if not question.changes:
        raise InputError("changes: a what-if needs at least one change")
    return _MEMO.get_or_compute(engine, ("whatif", question), lambda: _answer(engine, question, with_baseline=True))


def latest_year(engine: Engine, numerator: str = "output") -> int:
    """The latest year with a (non-projected) park figure of ``numerator``."""
    return _latest_year(read_park_figures(engine), numerator)


def _latest_year(figures: pd.DataFrame, numerator: str) -> int:
    years = figures.loc[figures["metric_code"] == numerator, "year"]
    if years.empty:
        raise NotFoundError(f"no park has a figure of {numerator!r}; load data first (`gis-service load-sample`)")
    return int(years.max())


# --------------------------------------------------------------------------- internals
@dataclass(frozen=True)
class _Resolved:
    year: int
    numerator: str
    basis: str
    level: str
    target: TargetSpec


def _resolve(engine: Engine, question: DensityQuestion, figures: pd.DataFrame) -> _Resolved:
    numerator = check_numerator(question.numerator)
    level = check_level(question.level)
    try:
        basis = check_basis(question.basis) if question.basis else None
    except InputError as exc:
        raise type(exc)(f"basis: {exc}") from None
    target = resolve_target(engine, question.target)
    year = question.year if question.year is not None else _latest_year(figures, numerator)
    return _Resolved(year=year, numerator=numerator, basis=basis or target.basis, level=level, target=target)


def _answer(
    engine: Engine, question: DensityQuestion, *, with_baseline: bool, step: ParcelStep | None = None
) -> DensityAnswer | WhatIfAnswer:
    figures = read_park_figures(engine)  # read once: the default year and the figures come from it
    r = _resolve(engine, question, figures)
    inputs = read_inputs(engine, year=r.year, level=r.level, basis=r.basis, figures=figures, step=step)
    # while the parcel query runs: the figures that count for the year, the changes
    unit_rows = unit_figures(inputs.units, inputs.indicators, year=r.year, numerators=[r.numerator])
    changes = _resolve_changes(inputs, check_changes(question.changes), basis=r.basis, numerator=r.numerator)
    answered = dataclasses.replace(
        question, year=r.year, basis=r.basis, target=r.target.code, numerator=r.numerator, level=r.level
    )
    scenario = _build(engine, inputs, unit_rows, r, changes, answered)
    if not with_baseline:
        return scenario
    baseline = _build(engine, inputs, unit_rows, r, [], dataclasses.replace(answered, changes=()))
    return WhatIfAnswer(baseline=baseline, scenario=scenario)


def _build(engine: Engine, inputs: Inputs, figures: pd.DataFrame, r: _Resolved, changes: list[Change],
           answered: DensityQuestion) -> DensityAnswer:
    rows = _rows(engine, inputs, figures, r, changes)
    return DensityAnswer(question=answered, target=r.target, rows=rows, meta=_meta(inputs, r, rows, answered))


def _rows(engine: Engine, inputs: Inputs, figures: pd.DataFrame, r: _Resolved, changes: Sequence[Change]) -> pd.DataFrame:
    bases = _park_bases(engine, inputs, r)
    if changes:
        figures, bases = apply_changes(figures, bases, changes)
    table = divide_by_bases(figures, bases, basis=r.basis)
    if changes:
        table["scenario_changes"] = describe_changes(table, changes)
    if r.level == PARK:
        rows = _with_reference_areas(table, inputs, r)
    else:
        rows = _area_rows(table, inputs, r)
    compared = compare_with_target(rows, r.target, numerator=r.numerator, basis=r.basis)
    return _in_vocabulary(compared, r)


def _park_bases(engine: Engine, inputs: Inputs, r: _Resolved) -> pd.DataFrame:
    """The parks' areas on the basis shown (published, measured or parcel land)."""
    if r.basis == PUBLISHED_AREA:
        return inputs.published
    if r.basis == MEASURED_AREA:
        return inputs.measured
    if r.basis in PARCEL_BASES and not inputs.pieces().empty:
        where = "PostGIS" if inputs.step is None or inputs.step.engine == "postgis" else inputs.step.engine
        return park_bases_from_pieces(engine, inputs.pieces(), bases=[r.basis], year=r.year, land=inputs.land,
                                      covered=inputs.covered, measured_by=where)
    return pd.DataFrame(columns=BASES_COLUMNS)


def _with_reference_areas(table: pd.DataFrame, inputs: Inputs, r: _Resolved) -> pd.DataFrame:
    """Park rows with their code and, for reference, the published and measured areas and the
    densities on them (cheap: read already), so a reader sees how the boundary compares with
    the 管辖面积 and what the density is on each while the shown basis has no data."""
    units, published, measured = inputs.units, inputs.published, inputs.measured
    out = table.assign(
        unit_code=table["unit_id"].map(dict(zip(units["unit_id"], units["unit_code"]))),
        published_area_km2=table["unit_id"].map(dict(zip(published["unit_id"], published["area_km2"]))),
        measured_area_km2=table["unit_id"].map(dict(zip(measured["unit_id"], measured["area_km2"]))),
    )
    for basis in (PUBLISHED_AREA, MEASURED_AREA):
        out[f"density_on_{basis}_yi_per_km2"] = density_columns(
            out["numerator"].to_numpy(), np.full(len(out), basis, dtype=object),
            out["value_yi_yuan"].to_numpy(dtype=float, na_value=np.nan),
            out["value_count"].to_numpy(dtype=float, na_value=np.nan),
            out[f"{basis}_km2"].to_numpy(dtype=float, na_value=np.nan),
        )["density_yi_per_km2"]
    return out


def _area_rows(table: pd.DataFrame, inputs: Inputs, r: _Resolved) -> pd.DataFrame:
    """Park rows apportioned to the towns or zones of the level, densities from the sums."""
    areas = inputs.areas
    assert areas is not None  # an area level always reads its areas
    areas = areas[areas.geometry.notna() & ~areas.geometry.is_empty]
    leaves = leaf_parks(inputs.units)
    shares = park_zone_shares(inputs.pieces(), basis=inputs.pieces_basis, parks=leaves, zones=areas)
    names = dict(zip(areas["zone_id"], areas["zone_name"]))
    rows = aggregate_to_zones(table, shares, zone_names=names)
    if r.basis == MEASURED_AREA and not rows.empty:
        # the zone's measured area is the parks' boundaries inside it, not an apportioned sum
        overlap = overlap_areas_km2(leaves, areas)
        rows["area_km2"] = rows["unit_id"].map(overlap).astype(float)
        rows["basis_source"] = "园区边界与该区域的几何重叠面积(EPSG:4549)"
        rows = recompute_densities(rows)
    rows = _with_empty_areas(rows, areas, table)
    rows["unit_code"] = rows["unit_id"].map(dict(zip(areas["zone_id"], areas["zone_code"])))
    return rows


def _with_empty_areas(rows: pd.DataFrame, areas: pd.DataFrame, table: pd.DataFrame) -> pd.DataFrame:
    """Add a row, figures missing, for every area no park lies in: it stays visible."""
    empty = areas[~areas["zone_id"].isin(rows["unit_id"])]
    if empty.empty or table.empty:
        return rows
    first = table.iloc[0]
    added = pd.DataFrame({
        "unit_id": empty["zone_id"].to_numpy(),
        "unit_name": empty["zone_name"].to_numpy(),
        "year": first["year"],
        "numerator": first["numerator"],
        "numerator_label": first["numerator_label"],
        "basis": first["basis"],
        "value_yi_yuan": np.nan,
        "value_count": np.nan,
        "area_km2": np.nan,
        "uses_synthetic_data": False,
        "is_approximate": False,
    })
    added = recompute_densities(added)
    added["missing_reason"] = "no park lies in this area"
    return pd.concat([rows, added], ignore_index=True)


def _in_vocabulary(rows: pd.DataFrame, r: _Resolved) -> pd.DataFrame:
    """The rows with every key of ROW_COLUMNS, in order (absent keys are missing)."""
    out = rows.assign(
        level=r.level,
        basis_label=rows["basis"].map(BASIS_LABELS_ZH),
        year=r.year,
    )
    for column in ROW_COLUMNS:
        if column not in out.columns:
            out[column] = None
    return out[ROW_COLUMNS].reset_index(drop=True)


def _resolve_changes(
    inputs: Inputs, requests: Sequence[ChangeRequest], *, basis: str, numerator: str
) -> list[Change]:
    """What-if requests made engine changes: parks found by id, code or name; each change must
    act on the answer asked (the numerator shown or the basis shown)."""
    changes = []
    for position, request in enumerate(requests, start=1):
        where = f"changes[{position}]"
        if request.field not in (numerator, basis):
            raise InputError(
                f"{where}: a change of {request.field!r} does not alter {numerator} over {basis}; "
                f"change {numerator!r} or {basis!r}"
            )
        unit_id = _park_id(inputs, request.unit, where)
        try:
            changes.append(Change(unit_id, request.field, float(request.value), request.unit_of_value, request.mode))  # type: ignore[arg-type]
        except InputError as exc:
            raise InputError(f"{where}: {exc}") from None
    return changes


def _park_id(inputs: Inputs, ref: int | str, where: str) -> int:
    try:
        return int(find_park(inputs.units, ref)["unit_id"])
    except NotFoundError as exc:
        raise NotFoundError(f"{where}: {exc}") from None


def _meta(inputs: Inputs, r: _Resolved, rows: pd.DataFrame, answered: DensityQuestion) -> dict[str, Any]:
    t = r.target
    note = comparability_note_zh(r.numerator, r.basis, t)
    figure_years = sorted({int(y) for y in rows["figure_year"] if not pd.isna(y)})
    sources = sorted({s for col in ("numerator_source", "basis_source") for s in rows[col] if isinstance(s, str) and s})
    return {
        "question": {
            "year": r.year,
            "numerator": r.numerator,
            "numerator_label": NUMERATORS[r.numerator].label_zh,
            "basis": r.basis,
            "basis_label": BASIS_LABELS_ZH[r.basis],
            "level": r.level,
            "parcel_engine": inputs.step.engine if inputs.step is not None else "postgis",
            "level_label": LEVEL_LABELS_ZH[r.level],
            "target": t.code,
            "changes": [dataclasses.asdict(c) for c in answered.changes],
        },
        "target": {
            "code": t.code,
            "name": t.name,
            "value": t.value,
            "unit": t.unit,
            "value_yi_per_km2": t.value_yi_per_km2,
            "year": t.year,
            "metric": t.metric,
            "basis": t.basis,
            "basis_label": BASIS_LABELS_ZH[t.basis],
            "nature": t.nature,
            "source": t.source,
        },
        "warnings": list(t.warnings),
        "comparable_with_target": not note,
        "comparability_note_zh": note or None,
        "figure_year_rule": FIGURE_YEAR_RULE,
        "figure_year_rule_zh": FIGURE_YEAR_RULE_ZH,
        "vintage": {
            "figure_years": figure_years,
            "boundaries_on": boundary_date(r.year).isoformat(),
            "boundary_versions": sorted(int(v) for v in inputs.units["boundary_version"].dropna()),
            "parcel_basis_measured": inputs.pieces_basis,
            "land": {b: inputs.land.describe(b) for b in PARCEL_BASES},
        },
        "sources": {"target": t.source, "figures_and_areas": sources},
        "uses_synthetic_data": bool(np.asarray(rows["uses_synthetic_data"], dtype=bool).any()),
        "has_approximate_geometry": bool(np.asarray(rows["is_approximate"], dtype=bool).any()),
    }
