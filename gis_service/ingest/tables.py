"""Reading uploaded tables (CSV, XLSX) into header + text cells, within the import limits.

CSV is read as UTF-8 (with or without BOM) and, failing that, as GB18030 (what Excel on a
Chinese Windows writes).  XLSX is a zip archive: it is inspected like any other archive
(entry count, uncompressed size, compression ratio) before openpyxl opens it, and only the
first sheet (or the one named) is read, values not formulas.  Cells come back as stripped
text, empty cells as ``None``; each row keeps the number a user sees (CSV line, sheet row).
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import unicodedata
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from gis_service.errors import GisServiceError, PayloadTooLargeError
from gis_service.ingest.archive import check_upload_size, inspect_zip
from gis_service.ingest.errors import UnreadableFileError
from gis_service.ingest.limits import ImportLimits

TABLE_SUFFIXES = (".csv", ".xlsx")


@dataclass(frozen=True)
class TableRow:
    """One data row: where it is (``"line 4"``, ``"sheet 表1 row 4"``) and its cells, aligned with the header."""

    where: str
    cells: tuple[str | None, ...]


@dataclass(frozen=True)
class Table:
    label: str
    header: tuple[str, ...]
    rows: tuple[TableRow, ...]


def normalise_header(text: str) -> str:
    """NFKC (full-width brackets and ％ become ASCII), inner spaces removed."""
    return "".join(unicodedata.normalize("NFKC", text).split())


def read_table(path: Path, limits: ImportLimits, *, sheet: str | None = None) -> Table:
    """Read a CSV or XLSX upload.

    Raises
    ------
    PayloadTooLargeError
        File, archive or row count above the limits.
    UnreadableFileError
        Unsupported type, undecodable text, malformed CSV/XLSX, no header, a row longer
        than the header, a duplicate or missing column name.
    """
    path = Path(path)
    check_upload_size(path, limits)
    suffix = path.suffix.lower()
    if suffix == ".csv":
        label, raw_rows = path.name, _csv_rows(path, limits)
        where = "line"
    elif suffix == ".xlsx":
        label, raw_rows = _xlsx_rows(path, limits, sheet)
        where = f"sheet {label.split('!', 1)[1]} row" if "!" in label else "row"
    else:
        raise UnreadableFileError(f"{path.name}: unsupported file type {suffix or '(none)'}; expected .csv or .xlsx")
    return _to_table(label, raw_rows, where, limits)


def _csv_rows(path: Path, limits: ImportLimits) -> list[tuple[int, list[Any]]]:
    data = path.read_bytes()
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            text = data.decode(encoding)
            break
        except UnicodeDecodeError:
            continue
    else:  # pragma: no cover - gb18030 decodes almost any byte string
        raise UnreadableFileError(f"{path.name}: not UTF-8 or GB18030 text")
    if "\x00" in text:
        raise UnreadableFileError(f"{path.name}: contains NUL characters; not a CSV text file")
    reader = csv.reader(io.StringIO(text, newline=""))
    rows: list[tuple[int, list[Any]]] = []
    try:
        for record in reader:
            rows.append((reader.line_num, record))
            if len(rows) > limits.max_rows + 1:
                raise PayloadTooLargeError(f"{path.name}: more than {limits.max_rows:,} rows")
    except csv.Error as exc:
        raise UnreadableFileError(f"{path.name}: line {reader.line_num}: malformed CSV ({exc})") from exc
    return rows


def _xlsx_rows(path: Path, limits: ImportLimits, sheet: str | None) -> tuple[str, list[tuple[int, list[Any]]]]:
    inspect_zip(path, limits)
    from openpyxl import load_workbook

    try:
        book = load_workbook(path, read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many types for broken workbooks
        raise UnreadableFileError(f"{path.name}: not a readable XLSX workbook ({exc.__class__.__name__}: {exc})") from exc
    try:
        if sheet is not None and sheet not in book.sheetnames:
            raise UnreadableFileError(f"{path.name}: no sheet {sheet!r}; sheets are {', '.join(book.sheetnames)}")
        worksheet = book[sheet] if sheet is not None else book.worksheets[0]
        rows: list[tuple[int, list[Any]]] = []
        for number, values in enumerate(worksheet.iter_rows(values_only=True), start=1):
            rows.append((number, list(values)))
            if len(rows) > limits.max_rows + 1:
                raise PayloadTooLargeError(f"{path.name}: more than {limits.max_rows:,} rows")
        return f"{path.name}!{worksheet.title}", rows
    except GisServiceError:
        raise
    except Exception as exc:
        raise UnreadableFileError(f"{path.name}: cannot read the workbook ({exc.__class__.__name__}: {exc})") from exc
    finally:
        book.close()


def _cell_text(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return repr(value)
    if isinstance(value, (dt.datetime, dt.date)):
        return value.isoformat()
    text = str(value).strip()
    return text or None


def _to_table(label: str, raw_rows: list[tuple[int, list[Any]]], where: str, limits: ImportLimits) -> Table:
    cells = [(number, [_cell_text(v) for v in values]) for number, values in raw_rows]
    cells = [(number, values) for number, values in cells if any(v is not None for v in values)]
    if not cells:
        raise UnreadableFileError(f"{label}: no header row")
    header_number, header_cells = cells[0]
    while header_cells and header_cells[-1] is None:
        header_cells.pop()
    header: list[str] = []
    for position, name in enumerate(header_cells, start=1):
        if name is None:
            raise UnreadableFileError(f"{label}: {where} {header_number}: column {position} has no name")
        key = normalise_header(name)
        if key in header:
            raise UnreadableFileError(f"{label}: {where} {header_number}: column {name!r} appears twice")
        header.append(key)
    rows: list[TableRow] = []
    for number, values in cells[1:]:
        while len(values) > len(header) and values[-1] is None:
            values.pop()
        if len(values) > len(header):
            raise UnreadableFileError(
                f"{label}: {where} {number}: {len(values)} cells but the header has {len(header)} columns"
            )
        rows.append(TableRow(f"{where} {number}", tuple(values + [None] * (len(header) - len(values)))))
    if len(rows) > limits.max_rows:
        raise PayloadTooLargeError(f"{label}: {len(rows):,} rows, the limit is {limits.max_rows:,}")
    return Table(label, tuple(header), tuple(rows))
