"""Importing park boundaries as new versions, and replacing reference layers, with an audit trail.

A park's boundary is versioned over ``[valid_from, valid_to)`` (``park_boundary``; an
exclusion constraint forbids overlapping versions).  :func:`import_boundaries` never
overwrites history:

- the geometry equals (``ST_Equals``) the version in force at ``valid_from``: nothing changes;
- otherwise the version in force is closed at ``valid_from`` and a new version starts there,
  ending where the closed one ended (or where the next later version starts), so any past
  year's map can be reproduced with ``read_parks(engine, year=...)``;
- a different version that already starts on ``valid_from`` is refused
  (:class:`~gis_service.ingest.errors.BoundaryVersionConflictError`): choose a later date.

Audit: one row per boundary version inserted (``insert``, after = park, validity, area in
km² measured in EPSG:4549, bbox and SHA-256 of the WKB) and per version closed (``close``,
before/after = its validity), plus one ``import`` row per file with the counts.  Layers
replaced with :func:`import_layer` get one row per stored row changed (before and after, the
四至 text included) and one ``import`` row with the counts.  An import that changes nothing
writes no audit row.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from shapely.geometry.base import BaseGeometry
from sqlalchemy import Connection, Engine, text

from gis_service import audit
from gis_service.coords.crs import STORED_CRS, to_area_crs
from gis_service.errors import InputError
from gis_service.ingest.database_errors import database_errors
from gis_service.ingest.errors import BoundaryVersionConflictError, DuplicateIdError, UnknownReferenceError
from gis_service.ingest.limits import ImportLimits
from gis_service.ingest.loader import SAMPLE_FILES, load_layer
from gis_service.ingest.sources import GEOMETRY_QUALITIES, POLYGONS, Feature, check_choice, read_features
from gis_service.ingest.tables import normalise_header
from gis_service.ingest.upserts import LayerResult, park_lookup
from gis_service.ingest.vector import ReadOptions
from gis_service.store.boundaries import in_force_sql

#: layer name -> table it writes (for the audit row)
LAYER_TABLES = {"district": "district", "towns": "town", "zones": "zone", "zone_town": "zone_town", "roads": "road",
                "parks": "park", "indicators": "indicator", "targets": "target"}
#: layer name -> tables whose rows an import of it may change (a deleted town or zone takes its
#: links and figures with it), audited row by row.  Figures are audited by their own write path.
LAYER_AUDITED_TABLES: dict[str, tuple[str, ...]] = {
    "district": ("district",), "towns": ("town", "zone_town", "indicator"), "zones": ("zone", "zone_town", "indicator"),
    "zone_town": ("zone_town",), "roads": ("road",), "parks": ("park", "sizhi"), "indicators": (),
    "targets": ("target",),
}


@dataclass
class BoundaryImportResult:
    """What a boundary import did: versions inserted, closed, unchanged; features repaired."""

    file: str
    crs: str
    inserted: int = 0
    closed: int = 0
    unchanged: int = 0
    repaired: int = 0
    boundary_ids: dict[str, int] = field(default_factory=dict)  # park code -> boundary in force at valid_from

    @property
    def changed(self) -> int:
        return self.inserted + self.closed

    def to_dict(self) -> dict[str, Any]:
        return {"file": self.file, "crs": self.crs, "inserted": self.inserted, "closed": self.closed,
                "unchanged": self.unchanged, "repaired": self.repaired}


def import_boundaries(
    engine: Engine,
    path: Path,
    *,
    park_field: str = "code",
    valid_from: dt.date,
    source_document: str,
    source_section: str | None = None,
    actor: str,
    source_crs: str | None = None,
    gcj02: bool = False,
    repair: bool = False,
    geometry_quality: str = "approximate",
    method: str | None = None,
    layer: str | None = None,
    limits: ImportLimits | None = None,
) -> BoundaryImportResult:
    """Import park boundaries from GeoJSON, zipped Shapefile, GeoPackage or KML as new versions.

    Parameters
    ----------
    engine
        Engine on a migrated database with the parks loaded.
    path
        The file; one (Multi)Polygon feature per park.
    park_field
        Property holding the park's code or name (``park.code`` first, then ``park.name``).
    valid_from
        Date from which the imported boundaries are in force.
    source_document, source_section
        Provenance of the boundaries (e.g. the approval document and its section).
    actor
        Who imports (recorded in the audit log).
    source_crs
        CRS of a file that declares none: EPSG:4326, 4490 or 4549.
    gcj02
        The coordinates are GCJ-02 lon/lat (Amap); converted to WGS84.
    repair
        Repair invalid geometries with ``make_valid`` instead of refusing them (recorded in ``method``).
    geometry_quality
        ``surveyed``, ``approximate`` or ``synthetic``.  The default is ``approximate``:
        a boundary is only presented as survey data when the importer says so.
    method
        How the geometry was made (stored with the version).
    layer
        Layer of a multi-layer GeoPackage/KML.
    limits
        Upload limits and accepted extent (default: :class:`ImportLimits` from the environment).

    Raises
    ------
    InputError
        A subclass from :mod:`gis_service.ingest.errors` (CRS, extent, swapped axes, geometry,
        duplicate or unknown park, version conflict) or a size/archive error; nothing is written.
    DatabaseUnavailableError
        The database became unavailable during the import (HTTP 503): nothing to fix in the
        file, retry later.
    """
    check_choice(geometry_quality, GEOMETRY_QUALITIES, where="import_boundaries", column="geometry_quality")
    options = ReadOptions(source_crs=source_crs, gcj02=gcj02, repair=repair, id_field=park_field, layer=layer,
                          limits=limits or ImportLimits())
    features = read_features(Path(path), geometry_types=POLYGONS, required=(park_field,), options=options)
    crs = features[0].crs if features else "none"
    result = BoundaryImportResult(file=Path(path).name, crs=crs)
    file = Path(path).name
    with database_errors(file), engine.begin() as conn:
        parks = park_lookup(conn)
        resolved = _resolve_parks(features, parks, park_field, file)
        for feature, (code, park_id) in zip(features, resolved, strict=True):
            with database_errors(f"{file}: feature {feature.index} ({code})"):
                _version(conn, feature, code, park_id, result, actor=actor, file=file, valid_from=valid_from,
                         source=(source_document, source_section), quality=geometry_quality, method=method)
        if result.changed:  # an import that changes nothing leaves no trace, not even in the audit log
            audit.record(conn, actor=actor, action="import", table_name="park_boundary", row_id=None, before=None,
                         after={**result.to_dict(), "valid_from": valid_from,
                                "source_document": source_document, "source_section": source_section})
    return result


def _resolve_parks(
    features: list[Feature], parks: dict[str, tuple[str, int]], park_field: str, file: str
) -> list[tuple[str, int]]:
    resolved: list[tuple[str, int]] = []
    first: dict[str, int] = {}
    for f in features:
        given = str(f.properties[park_field]).strip()
        found = parks.get(given) or parks.get(normalise_header(given))
        label = f"{file}: feature {f.index} ({given})"
        if found is None:
            codes = ", ".join(sorted({c for c, _ in parks.values()})) or "none loaded"
            raise UnknownReferenceError(f"{label}: unknown park {given!r} in '{park_field}' (codes: {codes})")
        if found[0] in first:  # a code and a name of the same park
            raise DuplicateIdError(f"{label}: park {found[0]} already given by feature {first[found[0]]}")
        first[found[0]] = f.index
        resolved.append(found)
    return resolved


def _fingerprint(geom: BaseGeometry) -> dict[str, Any]:
    """What the audit log keeps of a geometry: area (EPSG:4549), bbox and a hash of its WKB."""
    area_km2 = to_area_crs(geom, STORED_CRS).area / 1e6
    return {"area_km2_epsg4549": round(area_km2, 6), "bbox": [round(v, 7) for v in geom.bounds],
            "wkb_sha256": hashlib.sha256(geom.wkb).hexdigest()}


def _version(
    conn: Connection,
    feature: Feature,
    code: str,
    park_id: int,
    result: BoundaryImportResult,
    *,
    actor: str,
    file: str,
    valid_from: dt.date,
    source: tuple[str, str | None],
    quality: str,
    method: str | None,
) -> None:
    """Add a version for one park unless the geometry in force at ``valid_from`` is the same."""
    wkb = feature.geometry.wkb_hex
    current = conn.execute(text(f"""
        SELECT id, valid_from, valid_to, ST_Equals(geom, ST_Multi(ST_GeomFromWKB(decode(:wkb, 'hex'), 4326))) AS same
        FROM park_boundary
        WHERE park_id = :park AND {in_force_sql('park_boundary', on=':vf')}
        FOR UPDATE
    """), {"park": park_id, "wkb": wkb, "vf": valid_from}).first()
    if current is not None and current.same:
        result.unchanged += 1
        result.boundary_ids[code] = current.id
        return
    if current is not None and current.valid_from == valid_from:
        raise BoundaryVersionConflictError(
            f"{file}: feature {feature.index} ({code}): a different boundary (id {current.id}) already starts on "
            f"{valid_from.isoformat()}; history is not overwritten: import with a later valid_from"
        )
    if current is not None:
        valid_to = current.valid_to
        conn.execute(text("UPDATE park_boundary SET valid_to = :vf WHERE id = :id"), {"vf": valid_from, "id": current.id})
        audit.record(conn, actor=actor, action="close", table_name="park_boundary", row_id=current.id,
                     before={"park": code, "valid_from": current.valid_from, "valid_to": current.valid_to},
                     after={"park": code, "valid_from": current.valid_from, "valid_to": valid_from})
        result.closed += 1
    else:
        valid_to = conn.execute(text(
            "SELECT min(valid_from) FROM park_boundary WHERE park_id = :park AND valid_from > :vf"
        ), {"park": park_id, "vf": valid_from}).scalar()
    notes = [method, f"repaired with make_valid on import ({feature.crs})" if feature.repaired else None]
    new_id = conn.execute(text("""
        INSERT INTO park_boundary (park_id, geom, valid_from, valid_to, geometry_quality, method,
                                   source_document, source_section)
        VALUES (:park, ST_Multi(ST_GeomFromWKB(decode(:wkb, 'hex'), 4326)), :vf, :vt, CAST(:q AS geometry_quality),
                :method, :doc, :sec)
        RETURNING id
    """), {"park": park_id, "wkb": wkb, "vf": valid_from, "vt": valid_to, "q": quality,
           "method": "; ".join(n for n in notes if n) or None, "doc": source[0], "sec": source[1]}).scalar_one()
    audit.record(conn, actor=actor, action="insert", table_name="park_boundary", row_id=new_id, before=None,
                 after={"park": code, "valid_from": valid_from, "valid_to": valid_to, "geometry_quality": quality,
                        "source_document": source[0], "source_section": source[1], "crs_declared": feature.crs,
                        "repaired": feature.repaired, **_fingerprint(feature.geometry)})
    result.inserted += 1
    result.repaired += int(feature.repaired)
    result.boundary_ids[code] = new_id


def import_layer(
    engine: Engine,
    layer: str,
    path: Path,
    *,
    actor: str,
    source_crs: str | None = None,
    gcj02: bool = False,
    repair: bool = False,
    replace: bool = False,
    limits: ImportLimits | None = None,
    metrics_file: Path | None = None,
) -> LayerResult:
    """Replace or update a reference layer (district, towns, zones, roads...) with an office's file.

    Goes through :func:`~gis_service.ingest.loader.load_layer` (same properties as the sample
    file of the layer, upserts by natural key) with the import validation (limits, CRS, Shanghai
    extent, swapped axes, geometry validity, ``repair`` only on request), in one transaction.
    Audit: one row per stored row it inserts, changes or deletes, in any table it writes
    (:data:`LAYER_AUDITED_TABLES`, cascades included), and an ``import`` row with the counts.
    Figures (``indicators``) go through the one validated path of figures, which audits each
    one; with ``replace`` only the figures of cells the file leaves empty are deleted.
    Park boundaries are versioned: use :func:`import_boundaries`.

    Raises
    ------
    InputError, DatabaseUnavailableError
        As :func:`import_boundaries`; nothing is written.
    """
    if layer == "park_boundaries":
        raise InputError("park boundaries are versioned: import them with import_boundaries (gis-service import boundaries)")
    if layer not in LAYER_TABLES:
        raise InputError(f"unknown layer {layer!r}; expected one of {', '.join(LAYER_TABLES)}")
    options = ReadOptions(gcj02=gcj02, repair=repair, limits=limits or ImportLimits())
    with database_errors(Path(path).name), engine.begin() as conn:
        tables = LAYER_AUDITED_TABLES[layer]
        before = {table: audit.snapshot(conn, table) for table in tables}
        result = load_layer(conn, layer, Path(path), source_crs=source_crs, replace=replace,
                            metrics_file=metrics_file, options=options, actor=actor)
        for table in tables:
            audit.record_changes(conn, before[table], actor=actor, table_name=table)
        if result.changed:
            audit.record(conn, actor=actor, action="import", table_name=LAYER_TABLES[layer], row_id=None,
                         before=None, after={"layer": layer, "file": result.file, "replace": replace,
                                             "inserted": result.inserted, "updated": result.updated,
                                             "unchanged": result.unchanged, "deleted": result.deleted,
                                             "gcj02": gcj02, "source_crs": source_crs, "repair": repair})
    return result


assert set(LAYER_TABLES) | {"park_boundaries"} == set(SAMPLE_FILES) == set(LAYER_AUDITED_TABLES) | {"park_boundaries"}
