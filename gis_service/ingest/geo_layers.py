"""Writing the vector reference layers: district, towns, zones, roads and park boundaries.

Each ``load_<layer>`` reads its file with :func:`~gis_service.ingest.sources.read_features`
(CRS, geometry and property checks), resolves the references it needs (district, park)
and upserts every feature by its natural key into the layer's table, counting in a
:class:`~gis_service.ingest.upserts.LayerResult`.  Transactions are the caller's
(:mod:`gis_service.ingest.loader`).
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, text

from gis_service.errors import InputError
from gis_service.ingest.database_errors import database_errors
from gis_service.ingest.sources import (
    GEOMETRY_QUALITIES,
    LINES,
    POLYGONS,
    ROAD_KINDS,
    TOWN_KINDS,
    ZONE_KINDS,
    check_choice,
    check_line_wkt,
    parse_date,
    read_features,
)
from gis_service.ingest.upserts import LayerResult, count_upsert, delete_missing
from gis_service.ingest.vector import ReadOptions
from gis_service.store.versions import overlapping_boundary_version

DEFAULT_VALID_FROM = dt.date(2020, 1, 1)


def _quality(props: dict[str, Any], label: str) -> str:
    return check_choice(props.get("geometry_quality"), GEOMETRY_QUALITIES, where=label, column="geometry_quality")


def _wkt(geom: Any) -> str:
    return geom.wkt


def load_district(conn: Connection, path: Path, result: LayerResult, *, replace: bool, options: ReadOptions) -> None:
    feats = read_features(path, geometry_types=POLYGONS, required=("adcode", "name", "geometry_quality", "source_document"), options=options)
    for f in feats:
        p = f.properties
        label = f"{path.name}: feature {f.index} ({p['name']})"
        with database_errors(label):
            count_upsert(result, conn.execute(text("""
                INSERT INTO district (adcode, name, geom, geometry_quality, note, source_document, source_section)
                VALUES (:adcode, :name, ST_Multi(ST_GeomFromText(:wkt, 4326)), CAST(:q AS geometry_quality), :note, :doc, :sec)
                ON CONFLICT (adcode) DO UPDATE SET name = EXCLUDED.name, geom = EXCLUDED.geom,
                    geometry_quality = EXCLUDED.geometry_quality, note = EXCLUDED.note,
                    source_document = EXCLUDED.source_document, source_section = EXCLUDED.source_section
                WHERE (district.name, ST_AsBinary(district.geom), district.geometry_quality, district.note,
                       district.source_document, district.source_section)
                      IS DISTINCT FROM (EXCLUDED.name, ST_AsBinary(EXCLUDED.geom), EXCLUDED.geometry_quality,
                       EXCLUDED.note, EXCLUDED.source_document, EXCLUDED.source_section)
                RETURNING (xmax = 0) AS inserted
            """), {"adcode": str(p["adcode"]), "name": p["name"], "wkt": _wkt(f.geometry), "q": _quality(p, label),
                   "note": _note(p), "doc": p["source_document"], "sec": p.get("source_section")}))


def _note(props: dict[str, Any]) -> str | None:
    """The note, with the GCJ-02 conversion record folded in when a file has one."""
    parts = [props.get("note"), props.get("conversion") and f"conversion: {props['conversion']}",
             props.get("licence") and f"licence: {props['licence']}"]
    text_ = "; ".join(str(x) for x in parts if x)
    return text_ or None


def _district_id(conn: Connection, adcode: str | None, label: str) -> int:
    if adcode:
        found = conn.execute(text("SELECT id FROM district WHERE adcode = :a"), {"a": str(adcode)}).scalar()
        if found is None:
            raise InputError(f"{label}: unknown district adcode {adcode!r} (load the district first)")
        return int(found)
    ids = conn.execute(text("SELECT id FROM district")).scalars().all()
    if len(ids) != 1:
        raise InputError(f"{label}: property 'district_adcode' is needed ({len(ids)} districts loaded)")
    return int(ids[0])


def load_towns(conn: Connection, path: Path, result: LayerResult, *, replace: bool, options: ReadOptions) -> None:
    feats = read_features(path, geometry_types=POLYGONS, required=("name", "kind", "geometry_quality", "source_document"), options=options)
    for f in feats:
        p = f.properties
        label = f"{path.name}: feature {f.index} ({p['name']})"
        with database_errors(label):
            check_choice(p["kind"], TOWN_KINDS, where=label, column="kind")
            count_upsert(result, conn.execute(text("""
                INSERT INTO town (district_id, name, kind, geom, geometry_quality, note, source_document, source_section)
                VALUES (:d, :name, :kind, ST_Multi(ST_GeomFromText(:wkt, 4326)), CAST(:q AS geometry_quality), :note, :doc, :sec)
                ON CONFLICT (name) DO UPDATE SET district_id = EXCLUDED.district_id, kind = EXCLUDED.kind,
                    geom = EXCLUDED.geom, geometry_quality = EXCLUDED.geometry_quality, note = EXCLUDED.note,
                    source_document = EXCLUDED.source_document, source_section = EXCLUDED.source_section
                WHERE (town.district_id, town.kind, ST_AsBinary(town.geom), town.geometry_quality, town.note,
                       town.source_document, town.source_section)
                      IS DISTINCT FROM (EXCLUDED.district_id, EXCLUDED.kind, ST_AsBinary(EXCLUDED.geom),
                       EXCLUDED.geometry_quality, EXCLUDED.note, EXCLUDED.source_document, EXCLUDED.source_section)
                RETURNING (xmax = 0) AS inserted
            """), {"d": _district_id(conn, p.get("district_adcode"), label), "name": p["name"], "kind": p["kind"],
                   "wkt": _wkt(f.geometry), "q": _quality(p, label), "note": p.get("note"),
                   "doc": p["source_document"], "sec": p.get("source_section")}))
    if replace:
        delete_missing(conn, result, "town", "name", [f.properties["name"] for f in feats])


def load_zones(conn: Connection, path: Path, result: LayerResult, *, replace: bool, options: ReadOptions) -> None:
    feats = read_features(path, geometry_types=POLYGONS, required=("code", "name", "kind", "geometry_quality", "source_document"), options=options)
    codes = {f.properties["code"] for f in feats}
    for f in feats:
        p = f.properties
        label = f"{path.name}: feature {f.index} ({p['code']})"
        with database_errors(label):
            check_choice(p["kind"], ZONE_KINDS, where=label, column="kind")
            centerline = p.get("centerline_wkt")
            if centerline:
                check_line_wkt(centerline, where=label)
            count_upsert(result, conn.execute(text("""
                INSERT INTO zone (code, name, kind, geom, centerline, geometry_quality, note, source_document, source_section)
                VALUES (:code, :name, CAST(:kind AS zone_kind), ST_Multi(ST_GeomFromText(:wkt, 4326)),
                        ST_Multi(ST_GeomFromText(:cl, 4326)), CAST(:q AS geometry_quality), :note, :doc, :sec)
                ON CONFLICT (code) DO UPDATE SET name = EXCLUDED.name, kind = EXCLUDED.kind, geom = EXCLUDED.geom,
                    centerline = EXCLUDED.centerline, geometry_quality = EXCLUDED.geometry_quality, note = EXCLUDED.note,
                    source_document = EXCLUDED.source_document, source_section = EXCLUDED.source_section
                WHERE (zone.name, zone.kind, ST_AsBinary(zone.geom), ST_AsBinary(zone.centerline), zone.geometry_quality,
                       zone.note, zone.source_document, zone.source_section)
                      IS DISTINCT FROM (EXCLUDED.name, EXCLUDED.kind, ST_AsBinary(EXCLUDED.geom),
                       ST_AsBinary(EXCLUDED.centerline), EXCLUDED.geometry_quality, EXCLUDED.note,
                       EXCLUDED.source_document, EXCLUDED.source_section)
                RETURNING (xmax = 0) AS inserted
            """), {"code": p["code"], "name": p["name"], "kind": p["kind"], "wkt": _wkt(f.geometry),
                   "cl": centerline, "q": _quality(p, label), "note": p.get("note"),
                   "doc": p["source_document"], "sec": p.get("source_section")}))
    for f in feats:  # parents after every zone exists
        parent = f.properties.get("parent_code")
        label = f"{path.name}: feature {f.index} ({f.properties['code']})"
        with database_errors(label):
            if parent and parent not in codes and conn.execute(
                text("SELECT 1 FROM zone WHERE code = :c"), {"c": parent}
            ).scalar() is None:
                raise InputError(f"{label}: parent_code {parent!r} is not a zone")
            conn.execute(text("""
                UPDATE zone SET parent_id = (SELECT id FROM zone WHERE code = :parent)
                WHERE code = :code AND parent_id IS DISTINCT FROM (SELECT id FROM zone WHERE code = :parent)
            """), {"parent": parent, "code": f.properties["code"]})
    if replace:
        delete_missing(conn, result, "zone", "code", sorted(codes))


def load_roads(conn: Connection, path: Path, result: LayerResult, *, replace: bool, options: ReadOptions) -> None:
    feats = read_features(path, geometry_types=LINES, required=("name", "kind", "geometry_quality", "source_document"), options=options)
    seen: set[str] = set()
    for f in feats:
        p = f.properties
        label = f"{path.name}: feature {f.index} ({p['name']})"
        with database_errors(label):
            if p["name"] in seen:
                raise InputError(f"{label}: road name given twice in the file (the name is the road's key)")
            seen.add(p["name"])
            params = {"name": p["name"], "kind": check_choice(p["kind"], ROAD_KINDS, where=label, column="kind"),
                      "wkt": _wkt(f.geometry), "q": _quality(p, label), "doc": p["source_document"], "note": p.get("note")}
            ids = conn.execute(text("SELECT id FROM road WHERE name = :name"), params).scalars().all()
            if len(ids) > 1:
                raise InputError(f"{label}: {len(ids)} roads named {p['name']!r} in the database; cannot tell which to update")
            if not ids:
                conn.execute(text("""
                    INSERT INTO road (name, kind, geom, geometry_quality, source_document, note)
                    VALUES (:name, :kind, ST_Multi(ST_GeomFromText(:wkt, 4326)), CAST(:q AS geometry_quality), :doc, :note)
                """), params)
                result.inserted += 1
                continue
            updated = conn.execute(text("""
                UPDATE road SET kind = :kind, geom = ST_Multi(ST_GeomFromText(:wkt, 4326)),
                    geometry_quality = CAST(:q AS geometry_quality), source_document = :doc, note = :note
                WHERE id = :id AND (kind, ST_AsBinary(geom), geometry_quality, source_document, note)
                    IS DISTINCT FROM (CAST(:kind AS varchar), ST_AsBinary(ST_Multi(ST_GeomFromText(:wkt, 4326))),
                                      CAST(:q AS geometry_quality), CAST(:doc AS text), CAST(:note AS text))
            """), {**params, "id": ids[0]}).rowcount
            if updated:
                result.updated += 1
            else:
                result.unchanged += 1
    if replace:
        delete_missing(conn, result, "road", "name", sorted(seen))


def _kept_by_a_stored_version(conn: Connection, park_id: int, valid_from: dt.date, valid_to: dt.date | None,
                              label: str, result: LayerResult) -> bool:
    """Whether a stored version of the park stays as it is instead of the file's version.

    The file's version would overlap another stored version (boundary_no_overlap).  A newer
    one (an import of ``gis-service import boundaries``, e.g. after the sample was loaded) is
    kept and the file's older version skipped, reported in ``result.skipped``; an older one
    left open is refused: closing versions is the boundary import's business.
    """
    # pyogrio may read a date property as a datetime (pandas Timestamp): compare dates
    valid_from, valid_to = (d.date() if isinstance(d, dt.datetime) else d for d in (valid_from, valid_to))
    stored = overlapping_boundary_version(conn, park_id, valid_from, valid_to)
    if stored is None:
        return False
    stored_from, stored_to = stored
    if stored_from > valid_from:
        result.skipped.append(f"{label}: 已有更新的边界版本({stored_from} 起),文件中 {valid_from} 起的版本未载入 "
                              f"(a newer stored version from {stored_from} is kept; the file's version from "
                              f"{valid_from} is not loaded)")
        return True
    span = f"{stored_from} – {stored_to or '至今 open-ended'}"
    raise InputError(f"{label}: 与已存边界版本({span})重叠 — the file's version from {valid_from} overlaps the "
                     f"stored version {span}; "
                     "load newer boundaries with 'gis-service import boundaries', which closes the previous version")


def load_park_boundaries(conn: Connection, path: Path, result: LayerResult, *, replace: bool, options: ReadOptions) -> None:
    feats = read_features(path, geometry_types=POLYGONS, required=("code", "geometry_quality", "source_document"), options=options)
    for f in feats:
        p = f.properties
        label = f"{path.name}: feature {f.index} ({p['code']})"
        with database_errors(label):
            park_id = conn.execute(text("SELECT id FROM park WHERE code = :c"), {"c": p["code"]}).scalar()
            if park_id is None:
                raise InputError(f"{label}: unknown park code {p['code']!r} (load parks.csv first)")
            valid_from = parse_date(p.get("valid_from"), where=label, column="valid_from") or DEFAULT_VALID_FROM
            valid_to = parse_date(p.get("valid_to"), where=label, column="valid_to")
            params = {"park": park_id, "wkt": _wkt(f.geometry), "vf": valid_from, "vt": valid_to, "q": _quality(p, label),
                      "method": p.get("method"), "doc": p["source_document"], "sec": p.get("source_section")}
            if _kept_by_a_stored_version(conn, park_id, valid_from, valid_to, label, result):
                continue
            existing = conn.execute(
                text("SELECT id FROM park_boundary WHERE park_id = :park AND valid_from = :vf"), params
            ).scalar()
            if existing is None:
                conn.execute(text("""
                    INSERT INTO park_boundary (park_id, geom, valid_from, valid_to, geometry_quality, method, source_document, source_section)
                    VALUES (:park, ST_Multi(ST_GeomFromText(:wkt, 4326)), :vf, :vt, CAST(:q AS geometry_quality), :method, :doc, :sec)
                """), params)
                result.inserted += 1
                continue
            updated = conn.execute(text("""
                UPDATE park_boundary SET geom = ST_Multi(ST_GeomFromText(:wkt, 4326)), valid_to = :vt,
                    geometry_quality = CAST(:q AS geometry_quality), method = :method, source_document = :doc, source_section = :sec
                WHERE id = :id AND (ST_AsBinary(geom), valid_to, geometry_quality, method, source_document, source_section)
                    IS DISTINCT FROM (ST_AsBinary(ST_Multi(ST_GeomFromText(:wkt, 4326))), CAST(:vt AS date),
                                      CAST(:q AS geometry_quality), CAST(:method AS text), CAST(:doc AS text), CAST(:sec AS text))
            """), {**params, "id": existing}).rowcount
            result.updated += int(bool(updated))
            result.unchanged += int(not updated)
