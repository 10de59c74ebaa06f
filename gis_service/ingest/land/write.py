"""The one writer of land records: one transaction per import, COPY, audited.

Every land import (survey snapshot, supply records, parcel register) goes through
:func:`write_land_import`: it replaces what the import supersedes, records the import in
``land_import``, streams the checked rows into ``land_parcel`` with COPY, runs the checks
that need every row (a survey's overlaps), and writes one audit row with the counts before
and after.  An error anywhere rolls everything back: nothing is half written.
"""

from __future__ import annotations

import io
import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
import shapely
from sqlalchemy import Connection, Engine, text

from gis_service import audit
from gis_service.coords.crs import STORED_SRID
from gis_service.metrics.land_layers import REGISTER, SUPPLY, SURVEY

#: the ``land_parcel`` columns an import writes (the table computes ``area_m2``)
COPY_COLUMNS: list[str] = [
    "layer", "import_id", "external_id", "geom", "land_use_code", "code_system", "land_use_name",
    "land_use_class", "is_supplied", "supply_year", "is_built", "supervision_no", "project_name",
    "supply_method", "contract_date", "recovery_date", "stated_area_ha", "is_synthetic", "source_document",
]
_COPY_SQL = f"COPY land_parcel ({', '.join(COPY_COLUMNS)}) FROM STDIN WITH (FORMAT csv)"


@dataclass(frozen=True)
class ImportHeader:
    """The ``land_import`` row of an import (its counts are filled in at the end)."""

    kind: str
    source_document: str
    file_name: str
    layer_name: str
    driver: str
    crs: str
    encoding: str | None
    code_system: str | None = None
    year: int | None = None
    is_synthetic: bool = False
    imported_by: str | None = None


@dataclass(frozen=True)
class WriteOutcome:
    import_id: int
    features: int
    features_before: int
    features_after: int
    replaced_records: int
    area_by_class_km2: dict[str, float]
    report: dict[str, Any]


def ewkb_hex(geoms: np.ndarray) -> np.ndarray:
    """Hex EWKB (SRID 4326) of MultiPolygons, as COPY takes them."""
    return shapely.to_wkb(shapely.set_srid(geoms, STORED_SRID), hex=True, include_srid=True)


def write_land_import(
    engine: Engine,
    header: ImportHeader,
    rows: Iterable[pd.DataFrame],
    *,
    actor: str,
    final_check: Callable[[Connection, int], dict[str, Any]] | None = None,
) -> WriteOutcome:
    """Write one land import in one transaction.

    ``rows`` yields frames with :data:`COPY_COLUMNS` (``import_id`` is set here; ``geom`` as
    hex EWKB), already checked by the importer; they are streamed, never all in memory.
    ``final_check(conn, import_id)`` runs after the last row is written (it may raise to
    roll back) and returns what goes into the import's report.
    """
    with engine.begin() as conn:
        before = _count(conn, header)
        _replace_superseded(conn, header)
        import_id = _insert_header(conn, header)
        written, replaced = 0, 0
        dbapi = conn.connection.driver_connection
        for frame in rows:
            frame = frame.assign(import_id=import_id)[COPY_COLUMNS]
            if header.kind == SUPPLY:  # a re-imported 电子监管号 replaces its record
                replaced += _delete_supply_records(conn, frame["supervision_no"].tolist())
            buf = io.StringIO()
            frame.to_csv(buf, header=False, index=False)
            with dbapi.cursor() as cur, cur.copy(_COPY_SQL) as copy:
                copy.write(buf.getvalue())
            written += len(frame)
        report = final_check(conn, import_id) if final_check else {}
        areas = _area_by_class(conn, import_id)
        conn.execute(
            text("UPDATE land_import SET feature_count = :n, area_by_class = CAST(:areas AS jsonb), "
                 "report = CAST(:report AS jsonb) WHERE id = :id"),
            {"n": written, "areas": json.dumps(areas), "report": json.dumps(report, ensure_ascii=False, default=str),
             "id": import_id},
        )
        after = _count(conn, header)
        audit.record(
            conn, actor=actor, action="import", table_name="land_parcel", row_id=import_id,
            before={"kind": header.kind, "year": header.year, "features": before},
            after={"kind": header.kind, "year": header.year, "features": after, "file": header.file_name,
                   "source_document": header.source_document, "replaced_records": replaced},
        )
    return WriteOutcome(import_id, written, before, after, replaced, areas, report)


def _scope_sql(header: ImportHeader) -> tuple[str, dict[str, object]]:
    """The rows an import of this kind (and year) stands for."""
    if header.kind == SURVEY:
        return ("layer = 'survey' AND import_id IN (SELECT id FROM land_import WHERE kind = 'survey' AND year = :year)",
                {"year": header.year})
    return "layer = :layer", {"layer": header.kind}


def _count(conn: Connection, header: ImportHeader) -> int:
    where, params = _scope_sql(header)
    return int(conn.execute(text(f"SELECT count(*) FROM land_parcel WHERE {where}"), params).scalar_one())


def _replace_superseded(conn: Connection, header: ImportHeader) -> None:
    """A survey year replaces its snapshot; a register replaces the register (real or sample)."""
    if header.kind == SURVEY:
        conn.execute(text("DELETE FROM land_import WHERE kind = 'survey' AND year = :year"), {"year": header.year})
    elif header.kind == REGISTER:
        conn.execute(text("DELETE FROM land_parcel WHERE layer = 'register'"))
        conn.execute(text("DELETE FROM land_import WHERE kind = 'register'"))


def _delete_supply_records(conn: Connection, numbers: list[str]) -> int:
    result = conn.execute(
        text("DELETE FROM land_parcel WHERE layer = 'supply' AND supervision_no = ANY(:nos)"), {"nos": numbers}
    )
    return int(result.rowcount or 0)


def _insert_header(conn: Connection, header: ImportHeader) -> int:
    return int(
        conn.execute(
            text(
                "INSERT INTO land_import (kind, year, source_document, file_name, layer_name, driver, code_system, crs, "
                "encoding, feature_count, is_synthetic, imported_by) VALUES (:kind, :year, :source_document, :file_name, "
                ":layer_name, :driver, :code_system, :crs, :encoding, 0, :is_synthetic, :imported_by) RETURNING id"
            ),
            {**header.__dict__},
        ).scalar_one()
    )


def _area_by_class(conn: Connection, import_id: int) -> dict[str, float]:
    """km² per land-use class of the import, from the areas PostGIS measured (EPSG:4549)."""
    rows = conn.execute(
        text("SELECT land_use_class, SUM(area_m2) / 1e6 FROM land_parcel WHERE import_id = :id GROUP BY 1 ORDER BY 1"),
        {"id": import_id},
    ).all()
    return {str(cls): round(float(km2), 6) for cls, km2 in rows}
