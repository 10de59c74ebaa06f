"""Writing the tabular (CSV) layers: zone-town links, parks with their 四至, and targets.

The indicators layer is written by the one validated path of figures,
:func:`gis_service.ingest.indicators.write_indicator_file` (units, plausibility, audit).

Each ``load_<layer>`` reads its file with :func:`~gis_service.ingest.sources.read_rows`
(required columns, numbers, choices), resolves the references it needs (zone, town,
scope, metric catalogue) and upserts every row by its natural key, counting in a
:class:`~gis_service.ingest.upserts.LayerResult`.  Transactions are the caller's
(:mod:`gis_service.ingest.loader`).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, text

from gis_service.errors import InputError
from gis_service.ingest.catalog import Metric
from gis_service.ingest.database_errors import database_errors
from gis_service.ingest.sources import (
    PARK_KINDS,
    check_choice,
    parse_int,
    parse_number,
    read_rows,
)
from gis_service.ingest.target_values import check_target
from gis_service.ingest.upserts import LayerResult, count_upsert, delete_missing


def load_zone_town(conn: Connection, path: Path, result: LayerResult, *, replace: bool) -> None:
    rows = read_rows(path, required=("zone_code", "town_name", "source_document"))
    keep: list[str] = []
    for row in rows:
        v, where = row.values, f"{path.name}: line {row.line}"
        with database_errors(where):
            zone_id = conn.execute(text("SELECT id FROM zone WHERE code = :c"), {"c": v["zone_code"]}).scalar()
            if zone_id is None:
                raise InputError(f"{where}: unknown zone_code {v['zone_code']!r}")
            town_id = conn.execute(text("SELECT id FROM town WHERE name = :n"), {"n": v["town_name"]}).scalar()
            if town_id is None:
                raise InputError(f"{where}: unknown town_name {v['town_name']!r}")
            keep.append(f"{zone_id}:{town_id}")
            count_upsert(result, conn.execute(text("""
                INSERT INTO zone_town (zone_id, town_id, source_document, source_section) VALUES (:z, :t, :doc, :sec)
                ON CONFLICT (zone_id, town_id) DO UPDATE SET source_document = EXCLUDED.source_document,
                    source_section = EXCLUDED.source_section
                WHERE (zone_town.source_document, zone_town.source_section)
                      IS DISTINCT FROM (EXCLUDED.source_document, EXCLUDED.source_section)
                RETURNING (xmax = 0) AS inserted
            """), {"z": zone_id, "t": town_id, "doc": v["source_document"], "sec": v.get("source_section")}))
    if replace:
        delete_missing(conn, result, "zone_town", "(zone_id::text || ':' || town_id::text)", keep)


def load_parks(conn: Connection, path: Path, result: LayerResult, *, replace: bool) -> None:
    rows = read_rows(path, required=("code", "name", "kind", "source_document"))
    codes = {r.values["code"] for r in rows}
    unchanged: set[str] = set()
    for row in rows:
        v, where = row.values, f"{path.name}: line {row.line}"
        with database_errors(where):
            check_choice(v["kind"], PARK_KINDS, where=where, column="kind")
            before = result.unchanged
            count_upsert(result, conn.execute(text("""
                INSERT INTO park (code, name, kind, note) VALUES (:code, :name, CAST(:kind AS park_kind), :note)
                ON CONFLICT (code) DO UPDATE SET name = EXCLUDED.name, kind = EXCLUDED.kind, note = EXCLUDED.note
                WHERE (park.name, park.kind, park.note) IS DISTINCT FROM (EXCLUDED.name, EXCLUDED.kind, EXCLUDED.note)
                RETURNING (xmax = 0) AS inserted
            """), {"code": v["code"], "name": v["name"], "kind": v["kind"], "note": v.get("note")}))
            if result.unchanged > before:
                unchanged.add(v["code"])
    for row in rows:
        v, where = row.values, f"{path.name}: line {row.line}"
        with database_errors(where):
            parent = v.get("parent_code")
            if parent and parent not in codes and conn.execute(
                text("SELECT 1 FROM park WHERE code = :c"), {"c": parent}
            ).scalar() is None:
                raise InputError(f"{where}: parent_code {parent!r} is not a park")
            changed = conn.execute(text("""
                UPDATE park SET parent_id = (SELECT id FROM park WHERE code = :parent)
                WHERE code = :code AND parent_id IS DISTINCT FROM (SELECT id FROM park WHERE code = :parent)
            """), {"parent": parent, "code": v["code"]}).rowcount
            if v.get("sizhi_text"):
                changed += _upsert_sizhi(conn, v, where)
            if changed and v["code"] in unchanged:  # its parent or 四至 changed: the park is updated
                unchanged.discard(v["code"])
                result.unchanged -= 1
                result.updated += 1


def _parse_sizhi(raw: str) -> dict[str, Any] | None:
    """The parsed 四至 as JSON, or ``None`` when the parser cannot read it (kept verbatim)."""
    try:
        from gis_service.sizhi import parse
    except ImportError:  # the parser is an optional part of the platform here
        return None
    try:
        return parse(raw).to_dict()
    except InputError:
        return None


def _upsert_sizhi(conn: Connection, v: dict[str, Any], where: str) -> int:
    """Insert or update a park's 四至; returns 1 when it changed, 0 when it was the same."""
    parsed = _parse_sizhi(v["sizhi_text"])
    return conn.execute(text("""
        INSERT INTO sizhi (park_id, raw_text, parsed, source_document, source_section)
        VALUES ((SELECT id FROM park WHERE code = :code), :raw, CAST(:parsed AS jsonb), :doc, :sec)
        ON CONFLICT (park_id) DO UPDATE SET raw_text = EXCLUDED.raw_text, parsed = EXCLUDED.parsed,
            source_document = EXCLUDED.source_document, source_section = EXCLUDED.source_section
        WHERE (sizhi.raw_text, sizhi.parsed, sizhi.source_document, sizhi.source_section)
              IS DISTINCT FROM (EXCLUDED.raw_text, EXCLUDED.parsed, EXCLUDED.source_document, EXCLUDED.source_section)
    """), {"code": v["code"], "raw": v["sizhi_text"], "parsed": None if parsed is None else json.dumps(parsed, ensure_ascii=False),
           "doc": v["source_document"], "sec": v.get("source_section")}).rowcount


def load_targets(conn: Connection, path: Path, result: LayerResult, *, replace: bool,
                 metrics: Mapping[str, Metric]) -> None:
    rows = read_rows(path, required=("code", "scope", "name", "metric_code", "year", "unit", "source_document"))
    for row in rows:
        v, where = row.values, f"{path.name}: line {row.line}"
        with database_errors(where):
            value = parse_number(v.get("value"), where=where, column="value")
            base_value = parse_number(v.get("base_value"), where=where, column="base_value")
            check_target(v | {"value": value, "base_value": base_value}, where=f"{where}: target {v['code']!r}",
                         catalogue=metrics)
            count_upsert(result, conn.execute(text("""
                INSERT INTO target (code, scope, category, name, metric_code, basis, base_year, base_value, year, value,
                                    value_text, unit, nature, note, source_document, source_section)
                VALUES (:code, :scope, :category, :name, :metric, :basis, :base_year, :base_value, :year, :value,
                        :value_text, :unit, CAST(:nature AS target_nature), :note, :doc, :sec)
                ON CONFLICT (code) DO UPDATE SET scope = EXCLUDED.scope, category = EXCLUDED.category, name = EXCLUDED.name,
                    metric_code = EXCLUDED.metric_code, basis = EXCLUDED.basis, base_year = EXCLUDED.base_year,
                    base_value = EXCLUDED.base_value, year = EXCLUDED.year, value = EXCLUDED.value,
                    value_text = EXCLUDED.value_text, unit = EXCLUDED.unit, nature = EXCLUDED.nature, note = EXCLUDED.note,
                    source_document = EXCLUDED.source_document, source_section = EXCLUDED.source_section
                WHERE (target.scope, target.category, target.name, target.metric_code, target.basis, target.base_year,
                       target.base_value, target.year, target.value, target.value_text, target.unit, target.nature,
                       target.note, target.source_document, target.source_section)
                      IS DISTINCT FROM (EXCLUDED.scope, EXCLUDED.category, EXCLUDED.name, EXCLUDED.metric_code,
                       EXCLUDED.basis, EXCLUDED.base_year, EXCLUDED.base_value, EXCLUDED.year, EXCLUDED.value,
                       EXCLUDED.value_text, EXCLUDED.unit, EXCLUDED.nature, EXCLUDED.note, EXCLUDED.source_document,
                       EXCLUDED.source_section)
                RETURNING (xmax = 0) AS inserted
            """), {"code": v["code"], "scope": v["scope"], "category": v.get("category"), "name": v["name"],
                   "metric": v["metric_code"], "basis": v.get("basis"),
                   "base_year": parse_int(v.get("base_year"), where=where, column="base_year"),
                   "base_value": base_value,
                   "year": parse_int(v["year"], where=where, column="year"), "value": value,
                   "value_text": v.get("value_text"), "unit": v["unit"], "nature": v.get("nature"), "note": v.get("note"),
                   "doc": v["source_document"], "sec": v.get("source_section")}))
    if replace:
        delete_missing(conn, result, "target", "code", [r.values["code"] for r in rows])
