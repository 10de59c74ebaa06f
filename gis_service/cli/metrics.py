"""``gis-service density``: where each park (or zone) stands against a density target.

A thin face over :func:`gis_service.metrics.answer.park_zone_answer` for park managers
(园区管委会): one row per park or zone with the figure, the area, the density, the target,
the attainment (达成率), the gap (差距) and the status, each with its data year and sources.
"""

from __future__ import annotations

import json
import math
from typing import Any

import pandas as pd
import typer
from rich.table import Table

from gis_service.cli._common import console, load_settings
from gis_service.db.engine import database_url, engine_for
from gis_service.db.models import ZoneKind
from gis_service.errors import InputError, NotFoundError
from gis_service.metrics.answer import park_zone_answer
from gis_service.metrics.bases import ALL_BASES, BASIS_LABELS_ZH, PUBLISHED_AREA
from gis_service.metrics.density import NUMERATORS
from gis_service.metrics.targets import DEFAULT_TARGET, TargetSpec
from gis_service.store.readers import read_targets

#: names a park manager may use for a basis, mapped to the engine's
BASIS_ALIASES: dict[str, str] = {"jurisdiction_area": PUBLISHED_AREA}
#: ``--level`` values: parks, or the zones of one kind (三片 = pian, 一廊九区 areas = corridor_area)
LEVELS: tuple[str, ...] = ("park", *(k.value for k in ZoneKind))

_STATUS_STYLE = {"达标": "green", "接近": "yellow", "未达标": "red", "无数据": "dim"}


def resolve_target(engine: Any, code: str | None) -> TargetSpec:
    """The target row ``code`` of the ``target`` table, or 001 表1 #9 (80 亿元/km² on
    supplied industrial land) when ``code`` is ``None``."""
    if code is None:
        return DEFAULT_TARGET
    targets = read_targets(engine)
    rows = targets[targets["code"] == code]
    if rows.empty:
        known = ", ".join(targets.loc[targets["basis"].notna(), "code"].astype(str)) or "none"
        raise NotFoundError(f"--target: no target with code {code!r}; targets with a basis: {known}")
    row = rows.iloc[0].to_dict()
    return TargetSpec.from_row(row, metric=target_numerator(str(row["metric_code"]), code))


def target_numerator(metric_code: str, code: str) -> str:
    """The numerator a target's metric code is about: ``output_density_supplied_industrial`` → ``output``."""
    if metric_code in NUMERATORS:
        return metric_code
    for candidate in sorted(NUMERATORS, key=len, reverse=True):
        if metric_code.startswith(candidate + "_"):
            return candidate
    raise InputError(f"--target {code!r}: its metric {metric_code!r} is not a density of {', '.join(NUMERATORS)}")


def answer_rows(
    engine: Any, *, year: int, numerator: str, basis: str | None, level: str, target_code: str | None
) -> tuple[pd.DataFrame, TargetSpec, str]:
    """The rows to print (parks or zones), the target and the basis used."""
    if numerator not in NUMERATORS:
        raise InputError(f"--numerator: unknown {numerator!r}; known: {', '.join(NUMERATORS)}")
    if level not in LEVELS:
        raise InputError(f"--level: unknown {level!r}; levels: {', '.join(LEVELS)}")
    chosen_basis = BASIS_ALIASES.get(basis, basis) if basis else None
    if chosen_basis is not None and chosen_basis not in ALL_BASES:
        raise InputError(f"--basis: unknown {basis!r}; bases: jurisdiction_area, {', '.join(ALL_BASES)}")
    target = resolve_target(engine, target_code)
    answer = park_zone_answer(
        engine,
        year=year,
        target=target,
        zone_kind=None if level == "park" else level,
        numerators=[numerator],
        basis=chosen_basis,
    )
    rows = answer.parks if level == "park" else answer.zones
    return rows, target, chosen_basis or target.basis


def _num(value: Any) -> float | None:
    if value is None or (isinstance(value, float) and math.isnan(value)) or value is pd.NA:
        return None
    return float(value)


def _fmt(value: Any, digits: int = 2, suffix: str = "") -> str:
    v = _num(value)
    return "—" if v is None else f"{v:,.{digits}f}{suffix}"


def to_records(rows: pd.DataFrame, numerator: str) -> list[dict[str, Any]]:
    """Rows as plain dicts (units in the keys) for ``--json``; missing values are ``null``."""
    money = NUMERATORS[numerator].kind == "money"
    records = []
    for r in rows.to_dict("records"):
        records.append(
            {
                "name": r["unit_name"],
                "unit_id": int(r["unit_id"]) if _num(r["unit_id"]) is not None else None,
                "year": int(r["year"]),
                "numerator": r["numerator"],
                "basis": r["basis"],
                "value_yi_yuan" if money else "value_count": _num(r["value_yi_yuan" if money else "value_count"]),
                "area_km2": _num(r["area_km2"]),
                "density_yi_per_km2" if money else "count_per_km2": _num(r["density_yi_per_km2" if money else "count_per_km2"]),
                "target_yi_per_km2": _num(r["target_yi_per_km2"]),
                "target_year": int(r["target_year"]),
                "attainment_pct": _num(r["attainment_pct"]),
                "gap_yi_per_km2": _num(r["gap_yi_per_km2"]),
                "extra_output_yi_yuan": _num(r["extra_output_yi_yuan"]),
                "land_to_release_km2": _num(r["land_to_release_km2"]),
                "cagr_needed_pct": _num(r["cagr_needed_pct"]),
                "status": r["status"],
                "comparable_with_target": bool(r["comparable_with_target"]),
                "numerator_source": r["numerator_source"],
                "basis_source": r["basis_source"],
                "target_source": r["target_source"],
                "uses_synthetic_data": bool(r["uses_synthetic_data"]),
                "is_approximate": bool(r["is_approximate"]),
                "missing_reason": r["missing_reason"],
            }
        )
    return records


def render_table(rows: pd.DataFrame, target: TargetSpec, numerator: str, basis: str, year: int) -> Table:
    """A rich table with Chinese headers (名称, 产值 亿元, 面积 km², 地均产值 亿元/km², 目标, ...)."""
    spec = NUMERATORS[numerator]
    label = spec.label_zh.split("(")[0]
    money = spec.kind == "money"
    title = (
        f"{label}密度 {year} · 基数 {BASIS_LABELS_ZH[basis]} · 目标 {target.name or target.code} "
        f"{target.value:g} {target.unit} ({target.year}, {target.source})"
    )
    table = Table(title=title, show_lines=True)
    for header in (
        "名称",
        f"{label} 亿元" if money else f"{label} 人/家",
        "面积 km²",
        f"地均{label} 亿元/km²" if money else f"{label}/km²",
        "目标",
        "达成率",
        "差距",
        "状态",
        "数据年份",
        "来源",
    ):
        table.add_column(header)
    for r in rows.to_dict("records"):
        flags = (" [合成数据]" if r["uses_synthetic_data"] else "") + (" [近似边界]" if r["is_approximate"] else "")
        style = _STATUS_STYLE.get(r["status"], "")
        table.add_row(
            f"{r['unit_name']}{flags}",
            _fmt(r["value_yi_yuan"] if money else r["value_count"], 2 if money else 0),
            _fmt(r["area_km2"], 3),
            _fmt(r["density_yi_per_km2"] if money else r["count_per_km2"], 2),
            _fmt(r["target_yi_per_km2"], 2),
            _fmt(r["attainment_pct"], 1, "%"),
            _fmt(r["gap_yi_per_km2"], 2),
            f"[{style}]{r['status']}[/]" if style else str(r["status"]),
            str(r["year"]),
            f"{label}: {r['numerator_source'] or '—'}; 面积: {r['basis_source'] or r['missing_reason'] or '—'}",
        )
    return table


def register(app: typer.Typer) -> None:
    @app.command("density")
    def density_command(
        year: int = typer.Option(2020, "--year", help="Data year of the figures."),
        numerator: str = typer.Option("output", "--numerator", help=f"Numerator: {', '.join(NUMERATORS)}."),
        basis: str = typer.Option(
            None,
            "--basis",
            help="Denominator: supplied_industrial_land, jurisdiction_area (published 管辖面积), measured_area, "
            "built_up_land, industrial_land (default: the target's basis).",
        ),
        level: str = typer.Option("park", "--level", help=f"Units: {', '.join(LEVELS)}."),
        target: str = typer.Option(None, "--target", help="Target code in the target table (default 001 表1 #9, 80 亿元/km²)."),
        as_json: bool = typer.Option(False, "--json", help="Print JSON instead of a table."),
    ) -> None:
        """Density of each park or zone against a target: 达成率, 差距, 状态, with sources."""
        engine = engine_for(database_url(load_settings()))
        try:
            rows, spec, chosen_basis = answer_rows(
                engine, year=year, numerator=numerator, basis=basis, level=level, target_code=target
            )
        finally:
            engine.dispose()
        if as_json:
            typer.echo(json.dumps(to_records(rows, numerator), ensure_ascii=False, indent=2))
            return
        console.print(render_table(rows, spec, numerator, chosen_basis, year))
        if chosen_basis != spec.basis or numerator != spec.metric:
            console.print(
                f"[cyan]口径不同[/]: 目标以「{BASIS_LABELS_ZH[spec.basis]}」为基数、以 {spec.metric} 为分子,"
                f"此处为「{BASIS_LABELS_ZH[chosen_basis]}」上的 {numerator};达成率仅供参考"
                f"(该基数包含已供应工业用地,所得地均值与达成率为下限)。"
            )
