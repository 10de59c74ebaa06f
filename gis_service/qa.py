"""Data check (QA) of the stored reference data: surfaces inconsistencies, never hides them.

:func:`run_qa` reads the database and returns a :class:`QaReport`: a list of checks,
each with a status (``ok``, ``info``, ``warning``, ``error``), a Chinese message for
the planning office and the numbers behind it (``data``).  Checks:

- ``block_area_sum``: the blocks' published 管辖面积 (jurisdiction area) summed
  against the parent park's published total (29.22 vs 22.98 km² for 张江高新区松江园).
- ``missing_output``: blocks without a published output (产值) for the year.
- ``measured_vs_published``: each block's boundary area (EPSG:4549) against its
  published area, flagged beyond ±10 % (:data:`AREA_TOLERANCE`, also the park page's flag).
- ``parks_inside_district``: park boundaries in force today that reach outside the district.
- ``towns_partition``: gaps and overlaps of the town partition (EPSG:4549).
- ``geometry_quality``: how many features of every layer are surveyed / approximate /
  synthetic.
- ``figures_without_source``: rows of figures or layers without a source document.
- ``table1_reproduction``: 004 表1's 55.47 and 2.92 亿元/km² recomputed from the stored
  totals (revenue, tax) and the stated total area.
- ``land_imports``: every land-use survey snapshot, supply import and parcel register
  (year, source, features, area by class, code system, CRS, encoding, synthetic or not).
"""

from __future__ import annotations

import re

from dataclasses import asdict, dataclass, field
from typing import Any, Literal

import pandas as pd
from sqlalchemy import Connection, Engine, text

from gis_service.coords.crs import AREA_CRS, AREA_SRID
from gis_service.errors import InputError
from gis_service.metrics.area_bases import published_area_base
from gis_service.metrics.bases import PUBLISHED_AREA
from gis_service.metrics.density import density_table
from gis_service.store.boundaries import boundary_date, in_force_sql
from gis_service.store.readers import read_frame

Status = Literal["ok", "info", "warning", "error"]
#: measured vs published area: flagged beyond ±10 % (the data check and the park page's flag)
AREA_TOLERANCE = 0.10
QA_YEAR = 2020


@dataclass
class QaCheck:
    code: str
    title: str
    status: Status
    message: str
    data: dict[str, Any] = field(default_factory=dict)


@dataclass
class QaReport:
    year: int
    checks: list[QaCheck] = field(default_factory=list)

    def check(self, code: str) -> QaCheck:
        return next(c for c in self.checks if c.code == code)

    @property
    def worst(self) -> Status:
        order: list[Status] = ["ok", "info", "warning", "error"]
        return max((c.status for c in self.checks), key=order.index, default="ok")

    def to_dict(self) -> dict[str, Any]:
        return {
            "year": self.year,
            "worst": self.worst,
            "checks": [asdict(c) for c in self.checks],
        }


def run_qa(engine: Engine, *, year: int = QA_YEAR) -> QaReport:
    """Run every check on the stored data (read only).

    Parameters
    ----------
    engine
        Engine on a loaded database.
    year
        Data year of the figures checked (default 2020, the year of 004 附件).
    """
    report = QaReport(year=year)
    with engine.connect() as conn:
        report.checks += _block_area_sum(conn, year)
        report.checks.append(_missing_output(conn, year))
        report.checks.append(_measured_vs_published(conn, year))
        report.checks.append(_parks_inside_district(conn))
        report.checks.append(_towns_partition(conn))
        report.checks.append(_geometry_quality(conn))
        report.checks.append(_figures_without_source(conn))
        report.checks += _table1_reproduction(conn, year)
        report.checks.append(_other_area_descriptions(conn, year))
        report.checks.append(_land_imports(conn))
        report.checks.append(_unusable_targets(conn))
    return report


def _unusable_targets(conn: Connection) -> QaCheck:
    """Stored targets the writes' rule refuses (left by an older version or a hand edit):
    the pages never fail on them, but they cannot be used; the default one is replaced."""
    from gis_service.answers.targets import DEFAULT_TARGET_CODE
    from gis_service.ingest.catalog import read_metric_catalogue
    from gis_service.ingest.target_values import check_target

    catalogue = read_metric_catalogue()
    problems: dict[str, str] = {}
    for row in conn.execute(text(_TARGET_ROWS)).mappings():
        try:
            check_target(row, where=f"target {row['code']!r}", catalogue=catalogue)
        except InputError as exc:
            problems[str(row["code"])] = str(exc)
    if not problems:
        return QaCheck("unusable_targets", "规划目标", "ok", "所有规划目标均可使用", {"unusable": {}})
    default = ("默认目标不可用,地图、接口与下载改用文件 001 公布的 80 亿元/km²。"
               if DEFAULT_TARGET_CODE in problems else "")
    return QaCheck("unusable_targets", "规划目标", "error" if default else "warning",
                   f"{default}不可用的规划目标 {len(problems)} 条:" + ";".join(problems.values()),
                   {"unusable": problems})


_TARGET_ROWS = """
    SELECT code, scope, name, metric_code, basis, base_year, base_value::float8 AS base_value, year,
           value::float8 AS value, value_text, unit, nature::text AS nature, source_document
    FROM target ORDER BY id
"""


_KIND_ZH = {"survey": "土地利用现状调查", "supply": "供地记录", "register": "地块登记"}


def _land_imports(conn: Connection) -> QaCheck:
    """The land data loaded: one line per import (:func:`gis_service.store.land.read_land_imports`)."""
    from gis_service.store.land import read_land_imports

    imports = read_land_imports(conn)
    if not imports:
        return QaCheck("land_imports", "土地数据", "warning",
                       "未导入土地利用现状调查、供地记录或地块登记:工业用地、已供应工业用地口径无数据。", {"imports": []})
    lines = []
    for i in imports:
        industrial = (i["area_by_class"] or {}).get("industrial")
        lines.append(
            f"{_KIND_ZH[i['kind']]}{' ' + str(i['year']) + ' 年' if i['year'] else ''}"
            f"{'(演示数据)' if i['is_synthetic'] else ''}:{i['file_name']},{i['features_stored']:,} 个要素,"
            f"分类体系 {i['code_system'] or '—'},{i['crs'] or '—'},编码 {i['encoding'] or '—'},"
            f"工业用地 {industrial if industrial is not None else '—'} km²;来源 {i['source_document']}"
        )
    synthetic = any(i["is_synthetic"] for i in imports)
    return QaCheck("land_imports", "土地数据", "info" if synthetic else "ok",
                   ";".join(lines) + ("。含演示(合成)数据,不是真实土地数据。" if synthetic else ""),
                   {"imports": imports})


_AREA_IN_TEXT = re.compile(r"(\d+(?:\.\d+)?)\s*(?:km²|平方公里)")


def _other_area_descriptions(conn: Connection, year: int) -> QaCheck:
    """Published areas whose source note describes the same place with another area.

    E.g. 洞泾: the block in 004 附件 has 0.86 km², while 004 四(一)1 describes a 23.8 km²
    洞泾人工智能产业基地; both are kept, the stored figure is the block's.
    """
    rows = conn.execute(text("""
        SELECT p.name, i.value, i.note, i.source_document, i.source_section
        FROM indicator i JOIN park p ON p.id = i.park_id
        WHERE i.metric_code IN ('jurisdiction_area', 'published_area', 'land_area') AND i.year = :y
          AND i.note IS NOT NULL ORDER BY p.id
    """), {"y": year}).mappings().all()
    found = []
    for r in rows:
        others = [float(m) for m in _AREA_IN_TEXT.findall(r["note"]) if abs(float(m) - float(r["value"])) > 1e-9]
        if others:
            found.append({"park": r["name"], "stored_km2": float(r["value"]), "other_km2": others, "note": r["note"],
                          "source": f"{r['source_document']} {r['source_section'] or ''}".strip()})
    if not found:
        return QaCheck("other_area_descriptions", "同一园区的其他面积表述", "ok", "无其他面积表述", {"parks": []})
    text_ = ";".join(f"{f['park']}:存储 {f['stored_km2']:g} km²,另见 {'、'.join(f'{o:g}' for o in f['other_km2'])} km²"
                     for f in found)
    return QaCheck("other_area_descriptions", "同一园区的其他面积表述", "info", text_, {"parks": found})


def _indicator(conn: Connection, park_id: int, metric: str, year: int) -> float | None:
    value = conn.execute(text("""
        SELECT value FROM indicator WHERE park_id = :p AND metric_code = :m AND year = :y AND NOT is_projection
    """), {"p": park_id, "m": metric, "y": year}).scalar()
    return None if value is None else float(value)


def _block_area_sum(conn: Connection, year: int) -> list[QaCheck]:
    checks = []
    parents = conn.execute(text("SELECT id, name FROM park WHERE kind = 'park' ORDER BY id")).all()
    for parent_id, parent_name in parents:
        stated = _indicator(conn, parent_id, "published_area", year)
        blocks = conn.execute(text("""
            SELECT p.name, i.value FROM park p
            LEFT JOIN indicator i ON i.park_id = p.id AND i.metric_code = 'jurisdiction_area'
                 AND i.year = :y AND NOT i.is_projection
            WHERE p.parent_id = :p ORDER BY p.id
        """), {"p": parent_id, "y": year}).all()
        if not blocks:
            continue
        missing = [n for n, v in blocks if v is None]
        total = round(sum(float(v) for _, v in blocks if v is not None), 4)
        data = {"park": parent_name, "blocks_sum_km2": total, "stated_total_km2": stated,
                "blocks": {n: None if v is None else float(v) for n, v in blocks}, "blocks_without_area": missing}
        if stated is None:
            status: Status = "warning"
            message = f"{parent_name}:未录入总面积,无法与各区块管辖面积之和 {total:g} km² 核对"
        elif abs(total - stated) > 0.005:
            status = "warning"
            message = (f"{parent_name}:{len(blocks)} 个区块管辖面积之和 {total:.2f} km² 与规划所述总面积 "
                       f"{stated:.2f} km² 不一致(相差 {total - stated:+.2f} km²)")
        else:
            status, message = "ok", f"{parent_name}:区块面积之和 {total:.2f} km² 与总面积一致"
        checks.append(QaCheck("block_area_sum", "区块面积之和与园区总面积", status, message, data))
    return checks


def _missing_output(conn: Connection, year: int) -> QaCheck:
    rows = conn.execute(text("""
        SELECT p.name FROM park p
        WHERE p.kind = 'block' AND NOT EXISTS (
            SELECT 1 FROM indicator i WHERE i.park_id = p.id AND i.metric_code = 'output'
              AND i.year = :y AND NOT i.is_projection)
        ORDER BY p.id
    """), {"y": year}).scalars().all()
    if rows:
        return QaCheck("missing_output", "缺少产值", "warning",
                       f"{year} 年未公布产值的区块:{'、'.join(rows)}(缺失即缺失,不以 0 代替)",
                       {"parks": list(rows)})
    return QaCheck("missing_output", "缺少产值", "ok", f"所有区块均有 {year} 年产值", {"parks": []})


def _measured_vs_published(conn: Connection, year: int) -> QaCheck:
    rows = conn.execute(text(f"""
        SELECT p.name, p.code, i.value AS published,
               ST_Area(ST_Transform(b.geom, {AREA_SRID})) / 1e6 AS measured,
               b.geometry_quality::text AS quality
        FROM park p
        LEFT JOIN indicator i ON i.park_id = p.id AND i.metric_code = 'jurisdiction_area'
             AND i.year = :y AND NOT i.is_projection
        LEFT JOIN park_boundary b ON b.park_id = p.id AND {in_force_sql('b')}
        WHERE p.kind = 'block' ORDER BY p.id
    """), {"y": year, "on": boundary_date(year)}).mappings().all()
    blocks, flagged, no_geom = [], [], []
    for r in rows:
        published = None if r["published"] is None else float(r["published"])
        measured = None if r["measured"] is None else round(float(r["measured"]), 3)
        ratio = None if (published is None or measured is None) else round(measured / published, 3)
        entry = {"park": r["name"], "code": r["code"], "published_km2": published, "measured_km2": measured,
                 "ratio": ratio, "geometry_quality": r["quality"],
                 "flag": ratio is not None and abs(ratio - 1) > AREA_TOLERANCE}
        blocks.append(entry)
        if measured is None:
            no_geom.append(r["name"])
        elif entry["flag"]:
            flagged.append(f"{r['name']}(量算 {measured:.2f} / 公布 {published:.2f} km²)")
    parts = []
    if flagged:
        parts.append(f"量算面积与公布面积相差超过 ±{AREA_TOLERANCE:.0%}:{'; '.join(flagged)}")
    if no_geom:
        parts.append(f"无边界:{'、'.join(no_geom)}")
    status: Status = "warning" if (flagged or no_geom) else "ok"
    message = ";".join(parts) if parts else f"所有区块量算面积均在公布面积 ±{AREA_TOLERANCE:.0%} 以内(边界为近似)"
    return QaCheck("measured_vs_published", "量算面积与公布面积", status, message,
                   {"tolerance": AREA_TOLERANCE, "crs": AREA_CRS, "blocks": blocks})


def _parks_inside_district(conn: Connection) -> QaCheck:
    rows = conn.execute(text(f"""
        SELECT p.name,
               ST_Area(ST_Transform(ST_Difference(b.geom, d.geom), {AREA_SRID})) AS outside_m2,
               ST_Area(ST_Transform(b.geom, {AREA_SRID})) AS area_m2
        FROM park_boundary b JOIN park p ON p.id = b.park_id
        CROSS JOIN (SELECT ST_Union(geom) AS geom FROM district) d
        WHERE {in_force_sql('b')} ORDER BY p.id
    """), {"on": boundary_date(None)}).all()
    outside = [{"park": n, "outside_m2": round(float(o), 1), "share": round(float(o) / float(a), 4)}
               for n, o, a in rows if o is not None and float(o) > 1.0]
    if not rows:
        return QaCheck("parks_inside_district", "园区是否在区界内", "info", "尚无园区边界", {"outside": []})
    if outside:
        names = "、".join(f"{x['park']}({x['share']:.1%})" for x in outside)
        return QaCheck("parks_inside_district", "园区是否在区界内", "error",
                       f"超出松江区界的园区边界:{names}", {"outside": outside, "checked": len(rows)})
    return QaCheck("parks_inside_district", "园区是否在区界内", "ok",
                   f"{len(rows)} 个园区边界均在区界内", {"outside": [], "checked": len(rows)})


def _towns_partition(conn: Connection) -> QaCheck:
    row = conn.execute(text(f"""
        WITH d AS (SELECT ST_Transform(ST_Union(geom), {AREA_SRID}) AS g FROM district),
             t AS (SELECT ST_Transform(geom, {AREA_SRID}) AS g FROM town)
        SELECT (SELECT ST_Area(g) FROM d) AS district_m2,
               (SELECT sum(ST_Area(g)) FROM t) AS towns_sum_m2,
               (SELECT ST_Area(ST_Difference(d.g, ST_Union(t.g))) FROM d, t GROUP BY d.g) AS gap_m2,
               (SELECT count(*) FROM town) AS n
    """)).mappings().one()
    if not row["n"] or row["district_m2"] is None:
        return QaCheck("towns_partition", "镇街划分", "info", "尚无镇街或区界", {})
    district, towns, gap = float(row["district_m2"]), float(row["towns_sum_m2"]), float(row["gap_m2"] or 0)
    overlap = towns - (district - gap)
    data = {"district_km2": round(district / 1e6, 3), "towns_sum_km2": round(towns / 1e6, 3),
            "gap_km2": round(gap / 1e6, 4), "overlap_km2": round(overlap / 1e6, 4), "towns": int(row["n"])}
    ok = gap < 1e4 and abs(overlap) < 1e4  # below one hectare
    message = (f"{row['n']} 个镇街覆盖区界:缺口 {gap / 1e6:.3f} km²,重叠 {overlap / 1e6:.3f} km²(镇街边界为近似)"
               if ok else f"镇街划分有缺口 {gap / 1e6:.3f} km² 或重叠 {overlap / 1e6:.3f} km²")
    return QaCheck("towns_partition", "镇街划分", "ok" if ok else "warning", message, data)


_QUALITY_ZH = {"surveyed": "测绘", "approximate": "近似", "synthetic": "合成"}
_GEO_TABLES = {"district": "区界", "town": "镇街", "zone": "功能区/片区", "road": "道路河道", "park_boundary": "园区边界"}


def _geometry_quality(conn: Connection) -> QaCheck:
    data: dict[str, dict[str, int]] = {}
    for table in _GEO_TABLES:
        rows = conn.execute(text(f"SELECT geometry_quality::text, count(*) FROM {table} GROUP BY 1 ORDER BY 1")).all()
        data[table] = {q: int(n) for q, n in rows}
    parts = [f"{_GEO_TABLES[t]}:" + (",".join(f"{_QUALITY_ZH.get(q, q)} {n}" for q, n in d.items()) or "无")
             for t, d in data.items()]
    not_surveyed = any(q != "surveyed" for d in data.values() for q in d)
    return QaCheck("geometry_quality", "几何质量", "info" if not_surveyed else "ok",
                   ";".join(parts) + ("。近似几何不是测绘成果。" if not_surveyed else ""), data)


_SOURCED_TABLES = ("indicator", "target", "zone_town", "district", "town", "zone", "sizhi", "park_boundary", "road")


def _figures_without_source(conn: Connection) -> QaCheck:
    data = {
        table: int(conn.execute(text(
            f"SELECT count(*) FROM {table} WHERE source_document IS NULL OR btrim(source_document) = ''"
        )).scalar_one())
        for table in _SOURCED_TABLES
    }
    unsectioned = int(conn.execute(text(
        "SELECT count(*) FROM indicator WHERE source_section IS NULL OR btrim(source_section) = ''"
    )).scalar_one())
    bad = {t: n for t, n in data.items() if n}
    if bad:
        return QaCheck("figures_without_source", "无来源的数据", "error",
                       "缺少来源文件的记录:" + "、".join(f"{t} {n} 条" for t, n in bad.items()),
                       {"without_source": data, "indicators_without_section": unsectioned})
    status: Status = "warning" if unsectioned else "ok"
    message = "所有记录均注明来源文件" + (f";{unsectioned} 条指标缺少章节" if unsectioned else "")
    return QaCheck("figures_without_source", "无来源的数据", status, message,
                   {"without_source": data, "indicators_without_section": unsectioned})


# (numerator metric, published density metric, label)
_TABLE1 = (
    ("revenue", "revenue_density_industrial_land", "单位面积工业用地工业营业收入"),
    ("tax", "tax_density_built_land", "建成土地单位面积税收"),
)


def _density_via_engine(conn: Connection, park_id: int, name: str, numerator: str, year: int) -> pd.Series:
    """``numerator`` over the published total area of a park, computed by the metrics engine
    (units converted as the engine converts them everywhere else)."""
    indicators = read_frame(conn, """
        SELECT metric_code, year, value::float8 AS value, unit, source_document, source_section
        FROM indicator
        WHERE park_id = :p AND year = :y AND NOT is_projection AND metric_code = ANY(:codes)
    """, {"p": park_id, "y": year, "codes": [numerator, "published_area"]}).assign(unit_id=park_id)
    bases = published_area_base(indicators, year=year, metric_codes=("published_area",))
    units = pd.DataFrame({"unit_id": [park_id], "unit_name": [name]})
    table = density_table(units, indicators, bases, year=year, numerators=[numerator], basis=PUBLISHED_AREA)
    return table.iloc[0]


def _table1_reproduction(conn: Connection, year: int) -> list[QaCheck]:
    checks = []
    parents = conn.execute(text("SELECT id, name FROM park WHERE kind = 'park' ORDER BY id")).all()
    for park_id, name in parents:
        for numerator, density_code, label in _TABLE1:
            published = _indicator(conn, park_id, density_code, year)
            if published is None:
                continue
            row = _density_via_engine(conn, park_id, name, numerator, year)
            total, area, computed = row["value_yi_yuan"], row["area_km2"], row["density_yi_per_km2"]
            if pd.isna(computed):
                checks.append(QaCheck("table1_reproduction", f"表1复算:{label}", "warning",
                                      f"{name}:缺少总量或总面积,无法复算 {label} {published:g}",
                                      {"park": name, "metric": density_code, "published": published}))
                continue
            computed = float(computed)
            match = bool(round(computed, 2) == round(published, 2))
            checks.append(QaCheck(
                "table1_reproduction", f"表1复算:{label}", "ok" if match else "warning",
                f"{name}:{label} = {total:g} / {area:g} km² = {computed:.2f} 亿元/km²,"
                + ("与公布值一致" if match else f"与公布值 {published:g} 不一致"),
                {"park": name, "metric": density_code, "numerator": numerator, "numerator_value": float(total),
                 "area_km2": float(area), "computed": round(computed, 4), "published": published,
                 "matches": match},
            ))
    return checks
