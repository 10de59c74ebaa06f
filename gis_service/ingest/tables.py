"""Reading uploaded tables (CSV, XLSX) into header + text cells, within the import limits.

CSV is read as UTF-8 (with or without BOM) and, failing that, as GB18030 (what Excel on a
Chinese Windows writes).  XLSX is a zip archive: it is inspected like any other archive
(entry count, uncompressed size, compression ratio) before openpyxl opens it, and only the
first sheet (or the one named) is read, values not formulas; a formula cell without a saved
value (a workbook written by a program and never opened in Excel) is refused, naming the cell.  Cells come back as stripped
text, empty cells as ``None``; each row keeps the number a user sees (CSV line, sheet row).
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
import unicodedata
from collections.abc import Iterator
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
    rows: list[tuple[int, list[Any]]] = []
    for line, record in csv_records(path.name, text):
        rows.append((line, list(record)))
        if len(rows) > limits.max_rows + 1:
            raise PayloadTooLargeError(f"{path.name}: more than {limits.max_rows:,} rows")
    return rows


def csv_records(name: str, text: str) -> Iterator[tuple[int, list[str]]]:
    """(line number, cells) of each record of the CSV ``text`` (the record's last line, as :mod:`csv` counts).

    The reader is strict: a quoted field that is never closed would otherwise swallow
    the rest of the file into one cell (and the rows after it would vanish silently).

    Raises
    ------
    UnreadableFileError
        Malformed quoting, naming the line where the offending quoted field opens.
    """
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    start = 1
    try:
        for record in reader:
            yield reader.line_num, record
            start = reader.line_num + 1
    except csv.Error as exc:
        raise UnreadableFileError(_quote_error(name, text, start, reader.line_num, exc)) from exc


def _quote_error(name: str, text: str, start: int, end: int, exc: csv.Error) -> str:
    """The message of a malformed record that starts at line ``start`` (the reader stopped at ``end``)."""
    opened = _open_quote_line(re.split(r"\r\n|\r|\n", text), start)
    if "unexpected end of data" in str(exc):
        return (
            f"{name}: line {opened}: a quoted field opens here and is never closed (unterminated \" quote, "
            "the rest of the file would be read into one cell); close or remove the quote"
        )
    return (
        f"{name}: line {opened}: the quoted field opening here is followed by text after its closing quote "
        f"({exc}, at line {end}); a quote inside a cell must be doubled (\"\")"
    )


def _open_quote_line(lines: list[str], start: int) -> int:
    """Line of the quote opening the field where a strict reader fails, scanning from line ``start``."""
    opened, inside, closed = start, False, False
    for number in range(start, len(lines) + 1):
        previous = ","  # a line outside quotes starts a field
        for char in lines[number - 1]:
            if closed:  # right after a closing quote: a doubled quote, a delimiter, or the error
                closed = False
                if char == '"':
                    inside = True
                elif char != ",":
                    return opened
            elif inside:
                inside, closed = char != '"', char == '"'
            elif char == '"' and previous == ",":
                inside, opened = True, number
            previous = char
        closed = False
    return opened


def _xlsx_rows(path: Path, limits: ImportLimits, sheet: str | None) -> tuple[str, list[tuple[int, list[Any]]]]:
    inspect_zip(path, limits)
    from openpyxl import load_workbook

    try:  # values as Excel saved them, and the formulas: a formula saved without its value reads as empty
        book = load_workbook(path, read_only=True, data_only=True)
        formulas = load_workbook(path, read_only=True, data_only=False)
    except Exception as exc:  # openpyxl raises many types for broken workbooks
        raise UnreadableFileError(f"{path.name}: not a readable XLSX workbook ({exc.__class__.__name__}: {exc})") from exc
    try:
        if sheet is not None and sheet not in book.sheetnames:
            raise UnreadableFileError(f"{path.name}: no sheet {sheet!r}; sheets are {', '.join(book.sheetnames)}")
        worksheet = book[sheet] if sheet is not None else book.worksheets[0]
        pairs = zip(worksheet.iter_rows(values_only=True), formulas[worksheet.title].iter_rows(values_only=True))
        rows: list[tuple[int, list[Any]]] = []
        for number, (values, written) in enumerate(pairs, start=1):
            _check_formulas(f"{path.name}: sheet {worksheet.title}", number, values, written)
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
        formulas.close()


def _check_formulas(where: str, number: int, values: tuple[Any, ...], written: tuple[Any, ...]) -> None:
    """Refuse a formula cell without a saved value (written by a program, never recalculated by Excel)."""
    from openpyxl.utils import get_column_letter

    for column, (value, cell) in enumerate(zip(values, written), start=1):
        formula = getattr(cell, "text", cell)  # ArrayFormula keeps its text in .text
        if value is None and isinstance(formula, str) and formula.startswith("="):
            raise UnreadableFileError(
                f"{where} cell {get_column_letter(column)}{number}: formula {formula[:80]} has no saved value "
                "(the workbook was written by a program and never recalculated); open and save it in Excel/WPS, "
                "or paste the values"
            )


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
