"""Loading the reference layers and figures into PostGIS.

:func:`load_sample` loads the whole sample dataset (``data/``) in ONE transaction;
:func:`load_layer` loads one layer file, so that a planning office can replace any
sample layer with its own (surveyed) file through the same validation.

Both are idempotent: rows are upserted by their natural key (district adcode, town
name, zone code, road name, park code, (park, valid_from) for boundaries, (scope,
year, metric, projection) for indicators, target code), an unchanged row is not
touched, and ids stay the same.  Any error rolls the whole transaction back and is
raised as :class:`~gis_service.errors.InputError` naming file, feature/line and reason.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, text
from sqlalchemy.exc import DBAPIError

from gis_service.errors import InputError
from gis_service.ingest.archive import check_upload_size
from gis_service.ingest.catalog import METRICS_FILE, SAMPLE_DATA_DIR, read_metric_catalogue
from gis_service.ingest.sources import (
    GEOMETRY_QUALITIES,
    PARK_KINDS,
    ROAD_KINDS,
    SCOPE_TYPES,
    TARGET_NATURES,
    TOWN_KINDS,
    ZONE_KINDS,
    check_choice,
    parse_bool,
    parse_int,
    parse_number,
    read_features,
    read_rows,
)
from gis_service.ingest.vector import ReadOptions

POLYGONS = ("Polygon", "MultiPolygon")
LINES = ("LineString", "MultiLineString")
DEFAULT_VALID_FROM = dt.date(2020, 1, 1)


@dataclass
class LayerResult:
    """What loading one layer file did."""

    layer: str
    file: str
    inserted: int = 0
    updated: int = 0
    unchanged: int = 0
    deleted: int = 0

    @property
    def changed(self) -> int:
        return self.inserted + self.updated + self.deleted


@dataclass
class LoadReport:
    """The result of :func:`load_sample`: one entry per layer, in load order."""

    layers: list[LayerResult] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)

    @property
    def changed(self) -> int:
        return sum(r.changed for r in self.layers)

    def to_dict(self) -> dict[str, Any]:
        return {
            "layers": [
                {"layer": r.layer, "file": r.file, "inserted": r.inserted, "updated": r.updated,
                 "unchanged": r.unchanged, "deleted": r.deleted}
                for r in self.layers
            ],
            "skipped": list(self.skipped),
        }


#: layer name -> file of the sample dataset (relative to the data directory), in load order.
SAMPLE_FILES: dict[str, Path] = {
    "district": Path("boundaries/songjiang_district.geojson"),
    "towns": Path("boundaries/towns.geojson"),
    "zones": Path("boundaries/zones.geojson"),
    "zone_town": Path("layers/zone_town.csv"),
    "roads": Path("layers/roads.geojson"),
    "parks": Path("layers/parks.csv"),
    "park_boundaries": Path("boundaries/park_blocks.geojson"),
    "indicators": Path("layers/indicators.csv"),
    "targets": Path("layers/targets.csv"),
}
#: Layers that may be absent from a data directory (the park polygons are built later).
OPTIONAL_LAYERS = frozenset({"park_boundaries"})


def load_sample(engine: Engine, data_dir: Path | None = None) -> LoadReport:
    """Load every layer of a data directory in one transaction.

    Parameters
    ----------
    engine
        Engine on a migrated database.
    data_dir
        Directory laid out like ``data/`` (default: the repository's sample data).

    Raises
    ------
    InputError
        A file is missing or broken; nothing is written.
    """
    data_dir = Path(data_dir) if data_dir is not None else SAMPLE_DATA_DIR
    catalogue_path = data_dir / METRICS_FILE
    report = LoadReport()
    with engine.begin() as conn:
        for layer, rel in SAMPLE_FILES.items():
            path = data_dir / rel
            if layer in OPTIONAL_LAYERS and not path.exists():
                report.skipped.append(f"{layer}: {rel} not found")
                continue
            report.layers.append(_load(conn, layer, path, metrics_file=catalogue_path))
    return report


def load_layer(
    engine: Engine | Connection,
    layer: str,
    path: Path,
    *,
    source_crs: str | None = None,
    replace: bool = False,
    metrics_file: Path | None = None,
    options: ReadOptions | None = None,
) -> LayerResult:
    """Load one layer file (a planning office's own data, or a sample file).

    Parameters
    ----------
    layer
        One of :data:`SAMPLE_FILES` (``district``, ``towns``, ``zones``, ``zone_town``,
        ``roads``, ``parks``, ``park_boundaries``, ``indicators``, ``targets``).
    path
        The file; same properties/columns as the sample file of that layer.
    source_crs
        ``"gcj02"`` when the geometries come from Amap (GCJ-02); otherwise the
        file's declared CRS (transformed to EPSG:4326).
    replace
        Also delete the rows of this layer whose natural key is not in the file
        (towns/zones/roads/zone_town/indicators/targets only).
    metrics_file
        Metric catalogue for indicators/targets (default: the sample catalogue).
    options
        Vector reading options (GCJ-02 flag, repair flag, limits; see
        :class:`~gis_service.ingest.vector.ReadOptions`); ``source_crs`` overrides its own.

    Raises
    ------
    InputError
        The file is broken (file, feature/line and reason); nothing is written.
    """
    kwargs: dict[str, Any] = {"source_crs": source_crs, "replace": replace, "metrics_file": metrics_file, "options": options}
    if isinstance(engine, Connection):
        return _load(engine, layer, Path(path), **kwargs)
    with engine.begin() as conn:
        return _load(conn, layer, Path(path), **kwargs)


def _load(
    conn: Connection,
    layer: str,
    path: Path,
    *,
    source_crs: str | None = None,
    replace: bool = False,
    metrics_file: Path | None = None,
    options: ReadOptions | None = None,
) -> LayerResult:
    loaders: dict[str, Callable[..., LayerResult]] = {
        "district": _load_district,
        "towns": _load_towns,
        "zones": _load_zones,
        "zone_town": _load_zone_town,
        "roads": _load_roads,
        "parks": _load_parks,
        "park_boundaries": _load_park_boundaries,
        "indicators": _load_indicators,
        "targets": _load_targets,
    }
    if layer not in loaders:
        raise InputError(f"unknown layer {layer!r}; expected one of {', '.join(loaders)}")
    result = LayerResult(layer=layer, file=path.name)
    options = options or ReadOptions()
    if source_crs is not None:
        options = dataclasses.replace(options, source_crs=source_crs)
    if path.is_file():
        check_upload_size(path, options.limits)
    kwargs: dict[str, Any] = {"options": options} if layer in _GEO_LAYERS else {}
    if layer in ("indicators", "targets"):
        kwargs["metrics"] = set(read_metric_catalogue(metrics_file if metrics_file and metrics_file.exists() else None))
    with conn.begin_nested():  # a savepoint, so a failing layer never half-applies
        try:
            loaders[layer](conn, path, result, replace=replace, **kwargs)
        except DBAPIError as exc:
            # A constraint the file validation did not catch: report it without internals.
            reason = str(getattr(exc.orig, "diag", None) and exc.orig.diag.message_primary or exc.orig)
            raise InputError(f"{path.name}: rejected by the database: {reason}") from exc
    return result


_GEO_LAYERS = frozenset({"district", "towns", "zones", "roads", "park_boundaries"})


# ----------------------------------------------------------------------------- helpers
def _count(result: LayerResult, returned: Any) -> None:
    """Tally an ``INSERT ... ON CONFLICT DO UPDATE ... WHERE changed RETURNING inserted``."""
    row = returned.first()
    if row is None:
        result.unchanged += 1
    elif row.inserted:
        result.inserted += 1
    else:
        result.updated += 1


def _quality(props: dict[str, Any], label: str) -> str:
    return check_choice(props.get("geometry_quality"), GEOMETRY_QUALITIES, where=label, column="geometry_quality")


def _wkt(geom: Any) -> str:
    return geom.wkt


def _delete_missing(conn: Connection, result: LayerResult, table: str, key: str, keep: list[Any]) -> None:
    deleted = conn.execute(
        text(f"DELETE FROM {table} WHERE NOT ({key} = ANY(:keep))"), {"keep": keep}
    ).rowcount
    result.deleted += deleted


# ----------------------------------------------------------------------------- layers
def _load_district(conn: Connection, path: Path, result: LayerResult, *, replace: bool, options: ReadOptions) -> None:
    feats = read_features(path, geometry_types=POLYGONS, required=("adcode", "name", "geometry_quality", "source_document"), options=options)
    for f in feats:
        p = f.properties
        label = f"{path.name}: feature {f.index} ({p['name']})"
        _count(result, conn.execute(text("""
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


def _load_towns(conn: Connection, path: Path, result: LayerResult, *, replace: bool, options: ReadOptions) -> None:
    feats = read_features(path, geometry_types=POLYGONS, required=("name", "kind", "geometry_quality", "source_document"), options=options)
    for f in feats:
        p = f.properties
        label = f"{path.name}: feature {f.index} ({p['name']})"
        check_choice(p["kind"], TOWN_KINDS, where=label, column="kind")
        _count(result, conn.execute(text("""
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
        _delete_missing(conn, result, "town", "name", [f.properties["name"] for f in feats])


def _load_zones(conn: Connection, path: Path, result: LayerResult, *, replace: bool, options: ReadOptions) -> None:
    feats = read_features(path, geometry_types=POLYGONS, required=("code", "name", "kind", "geometry_quality", "source_document"), options=options)
    codes = {f.properties["code"] for f in feats}
    for f in feats:
        p = f.properties
        label = f"{path.name}: feature {f.index} ({p['code']})"
        check_choice(p["kind"], ZONE_KINDS, where=label, column="kind")
        centerline = p.get("centerline_wkt")
        if centerline:
            _check_wkt_line(conn, centerline, label)
        _count(result, conn.execute(text("""
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
        if parent and parent not in codes and conn.execute(
            text("SELECT 1 FROM zone WHERE code = :c"), {"c": parent}
        ).scalar() is None:
            raise InputError(f"{label}: parent_code {parent!r} is not a zone")
        conn.execute(text("""
            UPDATE zone SET parent_id = (SELECT id FROM zone WHERE code = :parent)
            WHERE code = :code AND parent_id IS DISTINCT FROM (SELECT id FROM zone WHERE code = :parent)
        """), {"parent": parent, "code": f.properties["code"]})
    if replace:
        _delete_missing(conn, result, "zone", "code", sorted(codes))


def _check_wkt_line(conn: Connection, wkt: str, label: str) -> None:
    from shapely import wkt as shapely_wkt
    from shapely.errors import ShapelyError

    try:
        geom = shapely_wkt.loads(wkt)
    except ShapelyError as exc:
        raise InputError(f"{label}: centerline_wkt is not valid WKT ({exc})") from exc
    if geom.geom_type not in LINES:
        raise InputError(f"{label}: centerline_wkt is a {geom.geom_type}, expected a line")


def _load_zone_town(conn: Connection, path: Path, result: LayerResult, *, replace: bool) -> None:
    rows = read_rows(path, required=("zone_code", "town_name", "source_document"))
    keep: list[str] = []
    for row in rows:
        v, where = row.values, f"{path.name}: line {row.line}"
        zone_id = conn.execute(text("SELECT id FROM zone WHERE code = :c"), {"c": v["zone_code"]}).scalar()
        if zone_id is None:
            raise InputError(f"{where}: unknown zone_code {v['zone_code']!r}")
        town_id = conn.execute(text("SELECT id FROM town WHERE name = :n"), {"n": v["town_name"]}).scalar()
        if town_id is None:
            raise InputError(f"{where}: unknown town_name {v['town_name']!r}")
        keep.append(f"{zone_id}:{town_id}")
        _count(result, conn.execute(text("""
            INSERT INTO zone_town (zone_id, town_id, source_document, source_section) VALUES (:z, :t, :doc, :sec)
            ON CONFLICT (zone_id, town_id) DO UPDATE SET source_document = EXCLUDED.source_document,
                source_section = EXCLUDED.source_section
            WHERE (zone_town.source_document, zone_town.source_section)
                  IS DISTINCT FROM (EXCLUDED.source_document, EXCLUDED.source_section)
            RETURNING (xmax = 0) AS inserted
        """), {"z": zone_id, "t": town_id, "doc": v["source_document"], "sec": v.get("source_section")}))
    if replace:
        _delete_missing(conn, result, "zone_town", "(zone_id::text || ':' || town_id::text)", keep)


def _load_roads(conn: Connection, path: Path, result: LayerResult, *, replace: bool, options: ReadOptions) -> None:
    feats = read_features(path, geometry_types=LINES, required=("name", "kind", "geometry_quality", "source_document"), options=options)
    seen: set[str] = set()
    for f in feats:
        p = f.properties
        label = f"{path.name}: feature {f.index} ({p['name']})"
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
        _delete_missing(conn, result, "road", "name", sorted(seen))


def _load_parks(conn: Connection, path: Path, result: LayerResult, *, replace: bool) -> None:
    rows = read_rows(path, required=("code", "name", "kind", "source_document"))
    codes = {r.values["code"] for r in rows}
    for row in rows:
        v, where = row.values, f"{path.name}: line {row.line}"
        check_choice(v["kind"], PARK_KINDS, where=where, column="kind")
        _count(result, conn.execute(text("""
            INSERT INTO park (code, name, kind, note) VALUES (:code, :name, CAST(:kind AS park_kind), :note)
            ON CONFLICT (code) DO UPDATE SET name = EXCLUDED.name, kind = EXCLUDED.kind, note = EXCLUDED.note
            WHERE (park.name, park.kind, park.note) IS DISTINCT FROM (EXCLUDED.name, EXCLUDED.kind, EXCLUDED.note)
            RETURNING (xmax = 0) AS inserted
        """), {"code": v["code"], "name": v["name"], "kind": v["kind"], "note": v.get("note")}))
    for row in rows:
        v, where = row.values, f"{path.name}: line {row.line}"
        parent = v.get("parent_code")
        if parent and parent not in codes and conn.execute(
            text("SELECT 1 FROM park WHERE code = :c"), {"c": parent}
        ).scalar() is None:
            raise InputError(f"{where}: parent_code {parent!r} is not a park")
        conn.execute(text("""
            UPDATE park SET parent_id = (SELECT id FROM park WHERE code = :parent)
            WHERE code = :code AND parent_id IS DISTINCT FROM (SELECT id FROM park WHERE code = :parent)
        """), {"parent": parent, "code": v["code"]})
        if v.get("sizhi_text"):
            _upsert_sizhi(conn, v, where)


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


def _upsert_sizhi(conn: Connection, v: dict[str, Any], where: str) -> None:
    parsed = _parse_sizhi(v["sizhi_text"])
    conn.execute(text("""
        INSERT INTO sizhi (park_id, raw_text, parsed, source_document, source_section)
        VALUES ((SELECT id FROM park WHERE code = :code), :raw, CAST(:parsed AS jsonb), :doc, :sec)
        ON CONFLICT (park_id) DO UPDATE SET raw_text = EXCLUDED.raw_text, parsed = EXCLUDED.parsed,
            source_document = EXCLUDED.source_document, source_section = EXCLUDED.source_section
        WHERE (sizhi.raw_text, sizhi.parsed, sizhi.source_document, sizhi.source_section)
              IS DISTINCT FROM (EXCLUDED.raw_text, EXCLUDED.parsed, EXCLUDED.source_document, EXCLUDED.source_section)
    """), {"code": v["code"], "raw": v["sizhi_text"], "parsed": None if parsed is None else json.dumps(parsed, ensure_ascii=False),
           "doc": v["source_document"], "sec": v.get("source_section")})


def _load_park_boundaries(conn: Connection, path: Path, result: LayerResult, *, replace: bool, options: ReadOptions) -> None:
    feats = read_features(path, geometry_types=POLYGONS, required=("code", "geometry_quality", "source_document"), options=options)
    for f in feats:
        p = f.properties
        label = f"{path.name}: feature {f.index} ({p['code']})"
        park_id = conn.execute(text("SELECT id FROM park WHERE code = :c"), {"c": p["code"]}).scalar()
        if park_id is None:
            raise InputError(f"{label}: unknown park code {p['code']!r} (load parks.csv first)")
        valid_from = _date(p.get("valid_from"), label, "valid_from") or DEFAULT_VALID_FROM
        valid_to = _date(p.get("valid_to"), label, "valid_to")
        params = {"park": park_id, "wkt": _wkt(f.geometry), "vf": valid_from, "vt": valid_to, "q": _quality(p, label),
                  "method": p.get("method"), "doc": p["source_document"], "sec": p.get("source_section")}
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


def _date(value: Any, label: str, column: str) -> dt.date | None:
    if value in (None, ""):
        return None
    if isinstance(value, dt.date):
        return value
    try:
        return dt.date.fromisoformat(str(value)[:10])
    except ValueError as exc:
        raise InputError(f"{label}: {column} {value!r} is not a date (YYYY-MM-DD)") from exc


_SCOPE_LOOKUP = {
    "district": "SELECT id FROM district WHERE adcode = :c",
    "town": "SELECT id FROM town WHERE name = :c",
    "zone": "SELECT id FROM zone WHERE code = :c",
    "park": "SELECT id FROM park WHERE code = :c",
}


#: Upsert of one indicator by its natural key (scope, year, metric, projection): an unchanged
#: row is not touched; a changed one gets ``version + 1`` (optimistic concurrency).
UPSERT_INDICATOR_SQL = """
            INSERT INTO indicator (district_id, town_id, zone_id, park_id, year, metric_code, value, unit,
                                   is_projection, note, source_document, source_section)
            VALUES (:district_id, :town_id, :zone_id, :park_id, :year, :metric, :value, :unit, :proj, :note, :doc, :sec)
            ON CONFLICT (COALESCE(district_id, 0), COALESCE(town_id, 0), COALESCE(zone_id, 0), COALESCE(park_id, 0),
                         year, metric_code, is_projection)
            DO UPDATE SET value = EXCLUDED.value, unit = EXCLUDED.unit, note = EXCLUDED.note,
                source_document = EXCLUDED.source_document, source_section = EXCLUDED.source_section,
                version = indicator.version + 1, updated_at = now()
            WHERE (indicator.value, indicator.unit, indicator.note, indicator.source_document, indicator.source_section)
                  IS DISTINCT FROM (EXCLUDED.value, EXCLUDED.unit, EXCLUDED.note, EXCLUDED.source_document,
                  EXCLUDED.source_section)
            RETURNING id, (xmax = 0) AS inserted, version
"""


def _load_indicators(conn: Connection, path: Path, result: LayerResult, *, replace: bool, metrics: set[str]) -> None:
    rows = read_rows(path, required=("scope_type", "scope_code", "year", "metric_code", "value", "unit", "source_document"))
    keep: list[int] = []
    for row in rows:
        v, where = row.values, f"{path.name}: line {row.line}"
        scope = check_choice(v["scope_type"], SCOPE_TYPES, where=where, column="scope_type")
        scope_id = conn.execute(text(_SCOPE_LOOKUP[scope]), {"c": v["scope_code"]}).scalar()
        if scope_id is None:
            raise InputError(f"{where}: unknown {scope} {v['scope_code']!r}")
        if v["metric_code"] not in metrics:
            raise InputError(f"{where}: metric_code {v['metric_code']!r} is not in the metric catalogue (metrics.csv)")
        ids = {f"{s}_id": (scope_id if s == scope else None) for s in SCOPE_TYPES}
        returned = conn.execute(text(UPSERT_INDICATOR_SQL), {**ids, "year": parse_int(v["year"], where=where, column="year"),
               "metric": v["metric_code"], "value": parse_number(v["value"], where=where, column="value"),
               "unit": v["unit"], "proj": parse_bool(v.get("is_projection"), where=where, column="is_projection"),
               "note": v.get("note"), "doc": v["source_document"], "sec": v.get("source_section")})
        _count(result, returned)
        keep.append(int(conn.execute(text("""
            SELECT id FROM indicator WHERE COALESCE(district_id,0) = COALESCE(:district_id,0)
              AND COALESCE(town_id,0) = COALESCE(:town_id,0) AND COALESCE(zone_id,0) = COALESCE(:zone_id,0)
              AND COALESCE(park_id,0) = COALESCE(:park_id,0) AND year = :year AND metric_code = :metric
              AND is_projection = :proj
        """), {**ids, "year": parse_int(v["year"], where=where, column="year"), "metric": v["metric_code"],
               "proj": parse_bool(v.get("is_projection"), where=where, column="is_projection")}).scalar_one()))
    if replace:
        _delete_missing(conn, result, "indicator", "id", keep)


def _load_targets(conn: Connection, path: Path, result: LayerResult, *, replace: bool, metrics: set[str]) -> None:
    rows = read_rows(path, required=("code", "scope", "name", "metric_code", "year", "unit", "source_document"))
    for row in rows:
        v, where = row.values, f"{path.name}: line {row.line}"
        if v["metric_code"] not in metrics:
            raise InputError(f"{where}: metric_code {v['metric_code']!r} is not in the metric catalogue (metrics.csv)")
        value = parse_number(v.get("value"), where=where, column="value")
        if value is None and v.get("value_text") is None:
            raise InputError(f"{where}: target {v['code']!r} has neither value nor value_text")
        nature = v.get("nature")
        if nature is not None:
            check_choice(nature, TARGET_NATURES, where=where, column="nature")
        _count(result, conn.execute(text("""
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
               "base_value": parse_number(v.get("base_value"), where=where, column="base_value"),
               "year": parse_int(v["year"], where=where, column="year"), "value": value,
               "value_text": v.get("value_text"), "unit": v["unit"], "nature": nature, "note": v.get("note"),
               "doc": v["source_document"], "sec": v.get("source_section")}))
    if replace:
        _delete_missing(conn, result, "target", "code", [r.values["code"] for r in rows])
