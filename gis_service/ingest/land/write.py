"""The one writer of land records: one transaction per import, COPY, audited.

Every land import (survey snapshot, supply records, parcel register) goes through
:func:`write_land_import`: it replaces what the import supersedes, records the import in
``land_import``, streams the checked rows into ``land_parcel`` with COPY, runs the checks
that need every row (a survey's overlaps), and writes one audit row with the counts before
and after.  An error anywhere rolls everything back: nothing is half written.

The rows are prepared on a worker thread (reading, checks, encoding) while this thread
streams the previous chunk into COPY, so PostgreSQL and Python work at the same time; all
SQL still runs on this thread, in the one transaction, in the same order.  Importers yield
either frames (written as CSV) or :class:`BinaryRows` (written with ``FORMAT binary``:
PostgreSQL reads binary EWKB and text about a third faster than hex EWKB in CSV).
"""

from __future__ import annotations

import io
import json
import math
import queue
import struct
import threading
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
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
_COPY_BINARY_SQL = f"COPY land_parcel ({', '.join(COPY_COLUMNS)}) FROM STDIN WITH (FORMAT binary)"
#: slices prepared ahead of the one being written (each holds its encoded rows in memory)
_PREPARED_AHEAD = 2


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


_MULTIPOLYGON_WKB = b"\x01\x06\x00\x00\x00"  # little-endian 2D MultiPolygon
_MULTIPOLYGON_EWKB = b"\x01" + struct.pack("<II", 6 | 0x20000000, STORED_SRID)  # the same with SRID 4326


def ewkb(geoms: np.ndarray) -> pa.Array:
    """EWKB (SRID 4326) of geometries, the bytes :func:`ewkb_hex` spells in hex.

    The SRID is spliced into the WKB header of 2D little-endian MultiPolygons (what the land
    readers yield) instead of copying every geometry to set it.
    """
    wkb = pa.array(shapely.to_wkb(geoms, hex=False, include_srid=False), type=pa.large_binary())
    if len(wkb) and pc.all(pc.equal(pc.binary_slice(wkb, 0, 5), pa.scalar(_MULTIPOLYGON_WKB, pa.large_binary()))).as_py():
        longest = pc.max(pc.binary_length(wkb)).as_py()  # (binary_slice without a stop fails in pyarrow 26)
        return pc.binary_join_element_wise(pa.scalar(_MULTIPOLYGON_EWKB, pa.large_binary()),
                                           pc.binary_slice(wkb, 5, longest), _EMPTY)
    return pa.array(shapely.to_wkb(shapely.set_srid(geoms, STORED_SRID), include_srid=True), type=pa.large_binary())


@dataclass(frozen=True)
class BinaryRows:
    """One chunk of rows for ``COPY land_parcel ... (FORMAT binary)``.

    ``columns`` maps each of :data:`COPY_COLUMNS` but ``import_id`` (set by the writer) to
    ``None`` (NULL in every row), a ``str`` or ``bool`` constant, or an array of ``count``
    values: text (``str``, None), booleans, or ``geom`` as EWKB (:func:`ewkb`).  Text columns
    and constants are text/varchar in ``land_parcel``; as in the CSV path, an empty string
    is written as NULL.  A column left out is NULL.
    """

    count: int
    columns: Mapping[str, Any]


def write_land_import(
    engine: Engine,
    header: ImportHeader,
    rows: Iterable[pd.DataFrame],
    *,
    actor: str,
    final_check: Callable[[Connection, int], dict[str, Any]] | None = None,
) -> WriteOutcome:
    """Write one land import in one transaction.

    ``rows`` yields, for each COPY statement, a frame with :data:`COPY_COLUMNS` (``import_id``
    is set here; ``geom`` as hex EWKB), a :class:`BinaryRows`, or an iterable of
    :class:`BinaryRows` (one statement written in slices, each prepared while the previous one
    is written), already checked by the importer; they are streamed, never all in memory.
    ``final_check(conn, import_id)`` runs after the last row is written (it may raise to
    roll back) and returns what goes into the import's report.
    """
    with engine.begin() as conn, _Prepared(rows, supply=header.kind == SUPPLY) as prepared:
        before = _count(conn, header)
        _replace_superseded(conn, header)
        import_id = _insert_header(conn, header)
        prepared.start_encoding(import_id)
        written, replaced = 0, 0
        dbapi = conn.connection.driver_connection
        for statement in prepared:
            if statement.supervision_numbers is not None:  # a re-imported 电子监管号 replaces its record
                replaced += _delete_supply_records(conn, statement.supervision_numbers)
            with dbapi.cursor() as cur, cur.copy(_COPY_BINARY_SQL if statement.binary else _COPY_SQL) as copy:
                if statement.binary:
                    copy.write(_BINARY_HEADER)
                for count, parts in statement:
                    for part in parts:
                        copy.write(part)
                    written += count
                if statement.binary:
                    copy.write(_BINARY_TRAILER)
        report = final_check(conn, import_id) if final_check else {}
        areas, rows_of_import = _area_by_class(conn, import_id)
        conn.execute(
            text("UPDATE land_import SET feature_count = :n, area_by_class = CAST(:areas AS jsonb), "
                 "report = CAST(:report AS jsonb) WHERE id = :id"),
            {"n": written, "areas": json.dumps(areas), "report": json.dumps(report, ensure_ascii=False, default=str),
             "id": import_id},
        )
        # after the replace, a survey year's rows and the register's are exactly this import's
        after = rows_of_import if header.kind in (SURVEY, REGISTER) else _count(conn, header)
        audit.record(
            conn, actor=actor, action="import", table_name="land_parcel", row_id=import_id,
            before={"kind": header.kind, "year": header.year, "features": before},
            after={"kind": header.kind, "year": header.year, "features": after, "file": header.file_name,
                   "source_document": header.source_document, "replaced_records": replaced},
        )
    return WriteOutcome(import_id, written, before, after, replaced, areas, report)


# ----------------------------------------------------------------------------- preparing chunks
class _Statement:
    """One COPY statement coming from the worker: its format, then its slices as they come."""

    def __init__(self, prepared: _Prepared, binary: bool, supervision_numbers: list[str] | None) -> None:
        self._prepared, self.binary, self.supervision_numbers = prepared, binary, supervision_numbers

    def __iter__(self) -> Iterator[tuple[int, list[Any]]]:
        """(rows, buffers) per slice, until the statement ends."""
        while True:
            kind, value = self._prepared.next_item()
            if kind == "end":
                return
            yield value


class _Prepared:
    """Iterates the importer's rows on a worker thread, encoded for COPY, one slice ahead.

    The worker starts reading at once (the first chunk is read while the old rows are
    deleted); it encodes rows only once :meth:`start_encoding` gave the import's id.  An
    error of the worker (a refused feature...) is raised here, in the writer's thread, where
    its rows would have been written, so the transaction rolls back as before.  Leaving the
    ``with`` block stops the worker and waits for it (it never outlives the import or its file).
    """

    def __init__(self, rows: Iterable[Any], *, supply: bool) -> None:
        self._rows, self._supply = rows, supply
        self._queue: queue.Queue[tuple[str, Any]] = queue.Queue(maxsize=_PREPARED_AHEAD)
        self._stop = threading.Event()
        self._import_id: int | None = None
        self._encoding = threading.Event()
        self._thread = threading.Thread(target=self._work, name="land-import-rows", daemon=True)

    def __enter__(self) -> _Prepared:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._encoding.set()
        while self._thread.is_alive():
            try:
                self._queue.get(timeout=0.05)  # unblock a worker waiting to hand over
            except queue.Empty:
                pass
        self._thread.join()

    def start_encoding(self, import_id: int) -> None:
        self._import_id = import_id
        self._encoding.set()

    def __iter__(self) -> Iterator[_Statement]:
        while True:
            kind, value = self.next_item()
            if kind == "done":
                return
            yield _Statement(self, *value)

    def next_item(self) -> tuple[str, Any]:
        kind, value = self._queue.get()
        if kind == "error":
            raise value
        return kind, value

    def _work(self) -> None:
        rows = iter(self._rows)
        try:
            for item in rows:
                self._encoding.wait()
                if self._stop.is_set():
                    return
                if not self._statement(item):
                    return
                del item
            self._hand_over(("done", None))
        except BaseException as exc:  # noqa: BLE001 (raised again in the writer's thread)
            self._hand_over(("error", exc))
        finally:
            close = getattr(rows, "close", None)
            if close is not None:
                close()

    def _statement(self, item: Any) -> bool:
        """Hand over one statement's start, slices and end; False when stopped."""
        assert self._import_id is not None
        if isinstance(item, pd.DataFrame):
            frame = item.assign(import_id=self._import_id)[COPY_COLUMNS]
            numbers = frame["supervision_no"].tolist() if self._supply else None
            buf = io.StringIO()
            frame.to_csv(buf, header=False, index=False)
            return (self._hand_over(("start", (False, numbers))) and self._hand_over(("slice", (len(frame), [buf.getvalue()])))
                    and self._hand_over(("end", None)))
        if not self._hand_over(("start", (True, None))):
            return False
        slices = [item] if isinstance(item, BinaryRows) else item
        for rows in slices:
            parts = _binary_copy_parts(rows, self._import_id)
            count = rows.count
            del rows
            if not self._hand_over(("slice", (count, parts))):
                return False
        return self._hand_over(("end", None))

    def _hand_over(self, item: tuple[str, Any]) -> bool:
        while not self._stop.is_set():
            try:
                self._queue.put(item, timeout=0.05)
                return True
            except queue.Full:
                continue
        return False


_BINARY_HEADER = b"PGCOPY\n\xff\r\n\x00" + struct.pack(">ii", 0, 0)
_BINARY_TRAILER = struct.pack(">h", -1)
_NULL = pa.scalar(struct.pack(">i", -1), pa.large_binary())
_EMPTY = pa.scalar(b"", pa.large_binary())


def _field(value: bytes) -> pa.Scalar:
    return pa.scalar(struct.pack(">i", len(value)) + value, pa.large_binary())


_TRUE_FIELD, _FALSE_FIELD = _field(b"\x01"), _field(b"\x00")


def _binary_copy_parts(rows: BinaryRows, import_id: int) -> list[Any]:
    """The tuples of ``rows`` in COPY binary (one buffer; the header and trailer are separate)."""
    unknown = set(rows.columns) - set(COPY_COLUMNS)
    if unknown:
        raise ValueError(f"not columns of land_parcel: {sorted(unknown)}")
    args: list[Any] = [pa.scalar(struct.pack(">h", len(COPY_COLUMNS)), pa.large_binary())]
    for column in COPY_COLUMNS:
        value = struct.pack(">i", import_id) if column == "import_id" else rows.columns.get(column)
        if isinstance(value, bytes):  # import_id: int4
            args.append(_field(value))
        else:
            args.extend(_encode_column(column, value, rows.count))
    if not rows.count:
        return []
    if not any(isinstance(a, (pa.Array, pa.ChunkedArray)) for a in args):
        args.append(pa.array([b""] * rows.count, pa.large_binary()))  # every column constant
    tuples = pc.binary_join_element_wise(*args, _EMPTY)
    if isinstance(tuples, pa.ChunkedArray):
        tuples = tuples.combine_chunks()
    _, offsets, data = tuples.buffers()
    ends = np.frombuffer(offsets, dtype=np.int64, count=len(tuples) + 1 + tuples.offset)[tuples.offset:]
    return [memoryview(data)[int(ends[0]):int(ends[-1])]]


def _encode_column(column: str, value: Any, count: int) -> list[Any]:
    """The field(s) of one column in COPY binary: length-prefixed values, -1 for NULL."""
    if value is None:
        return [_NULL]
    if isinstance(value, (bool, np.bool_)):
        return [_TRUE_FIELD if value else _FALSE_FIELD]
    if isinstance(value, str):
        return [_field(value.encode()) if value else _NULL]
    if column == "geom":
        payload = value if isinstance(value, (pa.Array, pa.ChunkedArray)) else pa.array(value, pa.large_binary())
        if len(payload) != count or payload.null_count:
            raise ValueError("geom needs one EWKB value per row")
        lengths = pc.binary_length(payload).to_numpy(zero_copy_only=False)
        return [_prefixes(lengths), payload.cast(pa.large_binary())]
    if isinstance(value, np.ndarray) and value.dtype == bool:
        if len(value) != count:
            raise ValueError(f"{column}: {len(value)} values for {count} rows")
        return [pc.if_else(pa.array(value), _TRUE_FIELD, _FALSE_FIELD)]
    payload = _text_array(value)
    if len(payload) != count:
        raise ValueError(f"{column}: {len(payload)} values for {count} rows")
    if pa.types.is_boolean(payload.type):
        return [pc.fill_null(pc.if_else(payload, _TRUE_FIELD, _FALSE_FIELD), _NULL)]
    payload = payload.cast(pa.large_binary())
    lengths = np.array(pc.fill_null(pc.binary_length(payload), 0))
    lengths[lengths == 0] = -1  # NULL, and "" as in CSV
    return [_prefixes(lengths), pc.fill_null(payload, _EMPTY)]


def _text_array(values: Any) -> pa.Array:
    """Text values as Arrow (None and NaN are NULL); other objects as their ``str`` (as in CSV)."""
    if isinstance(values, (pa.Array, pa.ChunkedArray)):
        return values
    try:
        return pa.array(values, type=pa.large_string(), from_pandas=True)
    except (pa.ArrowTypeError, pa.ArrowInvalid):
        return pa.array([None if v is None or (isinstance(v, float) and math.isnan(v)) else str(v) for v in values],
                        type=pa.large_string())


def _prefixes(lengths: np.ndarray) -> pa.Array:
    """The 4-byte big-endian length words of ``lengths`` (-1: NULL) as an Arrow binary array."""
    words = np.ascontiguousarray(lengths, dtype=">i4")
    fixed = pa.FixedSizeBinaryArray.from_buffers(pa.binary(4), len(words), [None, pa.py_buffer(words)])
    return fixed.cast(pa.large_binary())


# ----------------------------------------------------------------------------- SQL
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


def _area_by_class(conn: Connection, import_id: int) -> tuple[dict[str, float], int]:
    """km² per land-use class of the import, from the areas PostGIS measured (EPSG:4549); and its row count."""
    rows = conn.execute(
        text("SELECT land_use_class, SUM(area_m2) / 1e6, count(*) FROM land_parcel WHERE import_id = :id "
             "GROUP BY 1 ORDER BY 1"),
        {"id": import_id},
    ).all()
    return {str(cls): round(float(km2), 6) for cls, km2, _ in rows}, sum(int(n) for _, _, n in rows)
