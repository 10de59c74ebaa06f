"""``gis-service density | whatif | classify``: the answers of :mod:`gis_service.answers` on the
command line, for park managers (园区管委会) and officers.

Thin: options become a question, the answer becomes a table (Chinese headers) or, with
``--json``, exactly the JSON the REST API returns for the same question.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import pandas as pd
import typer
from rich.table import Table

from gis_service.answers import (
    DensityAnswer,
    DensityQuestion,
    answer_classes,
    answer_density,
    answer_whatif,
    parse_change,
)
from gis_service.answers.classes import ClassesAnswer, scheme_from
from gis_service.answers.vocabulary import LEVELS
from gis_service.cli._common import console, echo_json, load_settings
from gis_service.db.engine import database_url, engine_for
from gis_service.metrics.bases import ALL_BASES
from gis_service.metrics.density import NUMERATORS

_STATUS_STYLE = {"达标": "green", "接近": "yellow", "未达标": "red", "无数据": "dim"}

YEAR_HELP = "Data year (default: the latest with park figures); figures are the latest at or before it."
BASIS_HELP = f"Denominator: {', '.join(ALL_BASES)} (default: the target's basis)."
LEVEL_HELP = f"Units: {', '.join(LEVELS)}."
TARGET_HELP = "Target code in the target table (default t001_09: 001 表1 #9, 80 亿元/km²)."

#: the options of a density question, shared by density and whatif (and year/level by classify)
YEAR_OPTION = typer.Option(None, "--year", help=YEAR_HELP)
NUMERATOR_OPTION = typer.Option("output", "--numerator", help=f"Numerator: {', '.join(NUMERATORS)}.")
BASIS_OPTION = typer.Option(None, "--basis", help=BASIS_HELP)
LEVEL_OPTION = typer.Option("park", "--level", help=LEVEL_HELP)
TARGET_OPTION = typer.Option(None, "--target", help=TARGET_HELP)


def _fmt(value: Any, digits: int = 2, suffix: str = "") -> str:
    if value is None or value is pd.NA or (isinstance(value, float) and math.isnan(value)):
        return "—"
    return f"{float(value):,.{digits}f}{suffix}"


def render_answer(answer: DensityAnswer, title_prefix: str = "") -> Table:
    """A rich table with Chinese headers (名称, 产值 亿元, 面积 km², 地均产值 亿元/km², 目标…)."""
    q, t = answer.meta["question"], answer.meta["target"]
    label = NUMERATORS[q["numerator"]].label_zh.split("(")[0]
    money = NUMERATORS[q["numerator"]].kind == "money"
    title = (f"{title_prefix}{label}密度 {q['year']} · {q['level_label']} · 基数 {q['basis_label']} · "
             f"目标 {t['name'] or t['code']} {t['value']:g} {t['unit']} ({t['year']}, {t['source']})")
    table = Table(title=title, show_lines=True)
    for header in ("名称", f"{label} 亿元" if money else f"{label} 人/家", "面积 km²",
                   f"地均{label} 亿元/km²" if money else f"{label}/km²", "目标", "达标率", "差距", "状态",
                   "数据年份", "来源"):
        table.add_column(header)
    for r in answer.records():
        flags = (" [合成数据]" if r["uses_synthetic_data"] else "") + (" [近似边界]" if r["is_approximate"] else "")
        changed = f" [情景: {r['scenario_changes']}]" if r.get("scenario_changes") else ""
        style = _STATUS_STYLE.get(r["status"], "")
        table.add_row(
            f"{r['unit_name']}{flags}{changed}",
            _fmt(r["value_yi_yuan"] if money else r["value_count"], 2 if money else 0),
            _fmt(r["area_km2"], 3),
            _fmt(r["density_yi_per_km2"] if money else r["count_per_km2"], 2),
            _fmt(r["target_yi_per_km2"], 2),
            _fmt(r["attainment_pct"], 1, "%"),
            _fmt(r["gap_yi_per_km2"], 2),
            f"[{style}]{r['status']}[/]" if style else str(r["status"]),
            "—" if r["figure_year"] is None else str(r["figure_year"]),
            f"{label}: {r['numerator_source'] or '—'}; 面积: {r['basis_source'] or r['missing_reason'] or '—'}",
        )
    return table


def _print_notes(answer: DensityAnswer) -> None:
    if answer.meta["comparability_note_zh"]:
        console.print(f"[cyan]{answer.meta['comparability_note_zh']}[/]")
    console.print(f"[dim]数据年份规则:{answer.meta['figure_year_rule_zh']}[/]")


def _engine() -> Any:
    return engine_for(database_url(load_settings()))


def register(app: typer.Typer) -> None:
    @app.command("density")
    def density_command(
        year: int = YEAR_OPTION,
        numerator: str = NUMERATOR_OPTION,
        basis: str = BASIS_OPTION,
        level: str = LEVEL_OPTION,
        target: str = TARGET_OPTION,
        as_json: bool = typer.Option(False, "--json", help="Print the API's JSON ({meta, rows}) instead of a table."),
        engine: str = typer.Option("postgis", "--engine", help="Where the parcel step runs: postgis, geopandas, dask."),
        scheduler: str | None = typer.Option(None, "--scheduler", help="Dask scheduler (tcp://host:8786); default: a local cluster."),
        parquet: Path | None = typer.Option(None, "--parquet", file_okay=False, help="GeoParquet export (`export parquet`) the geopandas/dask engines read."),
    ) -> None:
        """Density of each park, town or zone against a target: 达标率, 差距, 状态, with sources."""
        question = DensityQuestion(year=year, numerator=numerator, basis=basis, level=level, target=target)
        answer = answer_density(_engine(), question, parcel_engine=engine, scheduler=scheduler, parquet=parquet)
        if as_json:
            echo_json(answer.to_dict())
            return
        console.print(render_answer(answer))
        _print_notes(answer)

    @app.command("whatif")
    def whatif_command(
        change: list[str] = typer.Option(..., "--change", help="PARK:FIELD=VALUE[UNIT], repeatable: "
                                         "sj_west:output=+10%, sj_west:supplied_industrial_land=-0.3km², "
                                         "sj_west:output=200亿元."),
        year: int = YEAR_OPTION,
        numerator: str = NUMERATOR_OPTION,
        basis: str = BASIS_OPTION,
        level: str = LEVEL_OPTION,
        target: str = TARGET_OPTION,
        as_json: bool = typer.Option(False, "--json", help="Print {baseline, scenario} as the API does."),
    ) -> None:
        """What if a park's output or land changed? The answer recomputed (nothing is stored)."""
        question = DensityQuestion(year=year, numerator=numerator, basis=basis, level=level, target=target,
                                   changes=tuple(parse_change(c) for c in change))
        answer = answer_whatif(_engine(), question)
        if as_json:
            echo_json(answer.to_dict())
            return
        console.print(render_answer(answer.baseline, "现状 · "))
        console.print(render_answer(answer.scenario, "情景 · "))
        _print_notes(answer.scenario)

    @app.command("classify")
    def classify_command(
        year: int = YEAR_OPTION,
        level: str = LEVEL_OPTION,
        indicator: list[str] = typer.Option(None, "--indicator", help="NUMERATOR:WEIGHT[:BENCHMARK 万元/亩], "
                                            "repeatable (default output:0.6 and tax:0.4, benchmarks = the mean)."),
        basis: str = typer.Option(None, "--basis", help="Basis of the 亩均 figures (default published_area)."),
        bands: str = typer.Option(None, "--bands", help="Classes from the top, e.g. A:0.2,B:0.6,C:0.95,D:1."),
        benchmark_factor: float = typer.Option(None, "--benchmark-factor", help="Benchmark = factor × mean (default 1)."),
        missing: str = typer.Option(None, "--missing", help="no_score (default) or reweight."),
        as_json: bool = typer.Option(False, "--json", help="Print {meta, scheme, rows} as the API does."),
    ) -> None:
        """亩均论英雄-style A–D classes of the parks (or zones) on a scheme of weights and benchmarks."""
        scheme = scheme_from(indicator or (), basis=basis, bands=bands, benchmark_factor=benchmark_factor,
                             missing=missing)
        answer = answer_classes(_engine(), year=year, level=level, scheme=scheme)
        if as_json:
            echo_json(answer.to_dict())
            return
        console.print(render_classes(answer))


def render_classes(answer: ClassesAnswer) -> Table:
    scheme = answer.scheme
    table = Table(title=f"亩均分类 {answer.meta['year']} · 基数 {scheme.to_dict()['basis_label']}", show_lines=True)
    for header in ("名称", *(f"{i.label_zh} 万元/亩 (权重 {i.weight:g})" for i in scheme.indicators), "得分", "排名", "等级", "缺项"):
        table.add_column(header)
    for r in answer.to_dict()["rows"]:
        table.add_row(
            str(r["unit_name"]),
            *(_fmt(r[i.column], 2) for i in scheme.indicators),
            _fmt(r["score"], 3),
            "—" if r["rank"] is None else str(r["rank"]),
            str(r["class"]),
            r["indicators_missing"] or "",
        )
    return table


def render_intensity(answer: Any) -> Table:
    """The 集约利用 table laid out like the 监测统计 tables: indicators down, one column per unit;
    then the type, the 集约度 score and the rank."""
    from gis_service.metrics.intensity import INDICATORS

    q = answer.meta["question"]
    example = " · 评分为示例配置(非官方)" if answer.meta["scores"]["is_example"] else ""
    synthetic = " · 含演示数据(合成),非真实" if answer.meta["uses_synthetic_data"] else ""
    table = Table(title=f"开发区土地集约利用评价 {q['year']} · {q['level_label']}{example}{synthetic}", show_lines=True)
    rows = answer.records()
    for header in ("指标类别", "指标", "单位", *(str(r["unit_name"]) + (" [合成数据]" if r["uses_synthetic_data"] else "")
                                             for r in rows)):
        table.add_column(header)
    for ind in INDICATORS:
        table.add_row(ind.family_zh, ind.label_zh, ind.unit or "—", *(_fmt(r[ind.key], 2) for r in rows))
    table.add_row("评价", "开发区类型", "", *(r["zone_type"] or "未定" for r in rows))
    table.add_row("评价", "集约度", "分", *(_fmt(r["intensity_score"], 1) for r in rows))
    table.add_row("评价", "排名", "", *("—" if r["rank"] is None else str(r["rank"]) for r in rows))
    table.add_row("评价", "部分指标得分(不排名)", "分 (权重覆盖)",
                  *("—" if r["partial_score"] is None or r["intensity_score"] is not None
                    else f"{r['partial_score']:.1f} ({r['weight_covered_pct']:g}%)" for r in rows))
    return table


def missing_lines(answer: Any) -> list[str]:
    """One line per indicator and reason a value is missing (or to be checked), naming the units."""
    names = {r["unit_id"]: str(r["unit_name"]) for r in answer.records()}
    groups: dict[tuple[str, str, str], list[str]] = {}
    for d in answer.to_dict()["details"]:
        for word, text in (("缺失", d["missing_reason"]), ("需核对", d.get("check_zh"))):
            if text:
                groups.setdefault((d["label_zh"], word, text), []).append(names.get(d["unit_id"], str(d["unit_id"])))
    return [f"{label} {word}({'全部' if len(units) == len(names) else '、'.join(units)}):{text}"
            for (label, word, text), units in groups.items()]


def register_intensity(app: typer.Typer) -> None:
    @app.command("intensity")
    def intensity_command(
        year: int = typer.Option(..., "--year", help="Data year: land in force at its end, buildings of the latest import at or before it."),
        level: str = typer.Option("park", "--level", help="park (parks and blocks) or zone (zones ∩ parks)."),
        scores: Path | None = typer.Option(None, "--scores", exists=True, dir_okay=False,
                                           help="Score configuration (JSON); default: the shipped EXAMPLE (示例, 非官方)."),
        as_json: bool = typer.Option(False, "--json", help="Print the API's JSON ({meta, rows, details})."),
    ) -> None:
        """开发区土地集约利用评价 (TD/T 1029): every indicator per park or zone, with sources, type, score and rank."""
        from gis_service.answers.intensity import IntensityQuestion, answer_intensity

        answer = answer_intensity(_engine(), IntensityQuestion(year=year, level=level, scores=str(scores) if scores else None))
        if as_json:
            echo_json(answer.to_dict())
            return
        console.print(render_intensity(answer))
        for line in missing_lines(answer):
            console.print(line, style="dim", markup=False)
        console.print(f"[cyan]{answer.meta['scores']['label']}[/]")
