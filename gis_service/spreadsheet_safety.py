"""Spreadsheet cells that cannot become formulas: every CSV and XLSX writer goes through here.

A park manager may set a name or a source; text that starts with ``=``, ``+``, ``-``, ``@``
(or a tab / carriage return, or their full-width forms ＝＋－＠ which some spreadsheet
programs treat alike) is run as a formula when the file is opened (CSV injection, OWASP).
As OWASP recommends, such text is prefixed with a single quote, so it is shown as typed and
never evaluated.  Only text is touched: numbers (a negative number too), dates, booleans and
missing values stay what they are.

The writers: :func:`gis_service.export.write_csv` / :func:`~gis_service.export.write_xlsx`,
the ``/downloads/metrics.*`` routes (:func:`csv_bytes`, :func:`xlsx_bytes`) and
:func:`gis_service.reports.xlsx.write_report_xlsx` (:func:`safe_cell`).
"""

from __future__ import annotations

import io
from collections.abc import Mapping
from pathlib import Path
from typing import IO

import pandas as pd

#: first characters that make a spreadsheet evaluate a cell (OWASP CSV injection)
FORMULA_TRIGGERS = frozenset("=+-@\t\r\n＝＋－＠")


def safe_cell(value: object) -> object:
    """``value`` with a leading ``'`` when it is text a spreadsheet would evaluate."""
    if isinstance(value, str) and value and value[0] in FORMULA_TRIGGERS:
        return "'" + value
    return value


def safe_frame(frame: pd.DataFrame) -> pd.DataFrame:
    """A copy of ``frame`` whose text cells (and header) are :func:`safe_cell`; other columns untouched."""
    out = frame.copy()
    for column in out.columns:
        if out[column].dtype == object or pd.api.types.is_string_dtype(out[column].dtype):
            out[column] = out[column].map(safe_cell)
    out.columns = [safe_cell(c) for c in out.columns]
    return out


def write_csv_to(frame: pd.DataFrame, target: str | Path | IO[str]) -> None:
    """``frame`` as CSV (UTF-8 with a byte-order mark when a path, so Excel shows Chinese)."""
    safe_frame(frame).to_csv(target, index=False, encoding="utf-8-sig")


def csv_bytes(frame: pd.DataFrame) -> bytes:
    """``frame`` as CSV bytes, UTF-8 with a byte-order mark."""
    buffer = io.StringIO()
    write_csv_to(frame, buffer)
    return buffer.getvalue().encode("utf-8-sig")


def write_xlsx_to(sheets: Mapping[str, pd.DataFrame], target: str | Path | IO[bytes]) -> None:
    """One unformatted sheet per frame (sheet names ≤ 31 characters, Excel's limit)."""
    with pd.ExcelWriter(target, engine="openpyxl") as writer:
        for name, frame in sheets.items():
            safe_frame(frame).to_excel(writer, sheet_name=name, index=False)


def xlsx_bytes(sheets: Mapping[str, pd.DataFrame]) -> bytes:
    buffer = io.BytesIO()
    write_xlsx_to(sheets, buffer)
    return buffer.getvalue()
