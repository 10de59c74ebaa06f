"""A formatted XLSX workbook of a report: one sheet per table, headed by title, year and notes.

Each sheet starts with the report title (row 1), the data year, generation date and
target (row 2) and the notes (row 3); the table's header is on :data:`HEADER_ROW`, bold
on a shaded fill, frozen so that it stays visible; numbers get a fixed number of
decimals; columns are sized to their content.  Missing figures are empty cells.  Every
cell goes through :func:`~gis_service.spreadsheet_safety.safe_cell`: text is never a formula.
"""

from __future__ import annotations

import math
from pathlib import Path

import pandas as pd
from openpyxl import Workbook
from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet

from gis_service.reports.tables import ReportData
from gis_service.spreadsheet_safety import safe_cell

HEADER_ROW = 5
_HEADER_FILL = PatternFill("solid", fgColor="DDEBF7")
_HIGHLIGHT_FILL = PatternFill("solid", fgColor="FFF2CC")
_THIN = Side(style="thin", color="A6A6A6")
_BORDER = Border(left=_THIN, right=_THIN, top=_THIN, bottom=_THIN)
#: number formats by a fragment of the column header (first match wins)
_FORMATS: tuple[tuple[str, str], ...] = (
    ("(%)", "0.0"),
    ("(人)", "#,##0"),
    ("(家)", "#,##0"),
    ("排名", "0"),
    ("权重", "0%"),
    ("得分", "0.000"),
    ("km²", "0.00"),
    ("亿元", "0.00"),
    ("万元/亩", "0.00"),
)


def write_report_xlsx(data: ReportData, path: str | Path) -> Path:
    """Write ``data.tables`` to ``path`` (one formatted sheet each) and return the path."""
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    book = Workbook()
    book.remove(book.active)
    for name, frame in data.tables.items():
        _write_sheet(book.create_sheet(name), frame, data, name)
    book.properties.title = data.title
    book.properties.creator = "gis_service"
    book.save(target)
    return target


def _write_sheet(sheet: Worksheet, frame: pd.DataFrame, data: ReportData, name: str) -> None:
    target = data.target
    sheet["A1"] = safe_cell(f"{data.title} — {name}")
    sheet["A1"].font = Font(bold=True, size=14)
    sheet["A2"] = safe_cell(
        f"数据年份:{data.year}年    生成日期:{data.generated.isoformat()}    "
        f"目标:{target.name} {target.value:g} {target.unit}({target.year}年,{target.nature or ''},{target.source})"
    )
    sheet["A3"] = safe_cell(" ".join(data.notes))
    sheet["A3"].alignment = Alignment(wrap_text=False)
    sheet["A3"].font = Font(color="C00000")
    highlight = frame.get("本报告园区")
    columns = [c for c in frame.columns if c != "本报告园区"]
    for col, header in enumerate(columns, start=1):
        cell = sheet.cell(row=HEADER_ROW, column=col, value=safe_cell(str(header)))
        cell.font = Font(bold=True)
        cell.fill = _HEADER_FILL
        cell.border = _BORDER
        cell.alignment = Alignment(horizontal="center", vertical="center", wrap_text=True)
    for offset, (_, row) in enumerate(frame.iterrows(), start=1):
        marked = highlight is not None and bool(highlight.iloc[offset - 1])
        for col, header in enumerate(columns, start=1):
            cell = sheet.cell(row=HEADER_ROW + offset, column=col, value=_cell_value(row[header]))
            cell.border = _BORDER
            fmt = _number_format(str(header))
            if fmt and isinstance(cell.value, int | float) and not isinstance(cell.value, bool):
                cell.number_format = fmt
            if marked:
                cell.fill = _HIGHLIGHT_FILL
    sheet.freeze_panes = sheet.cell(row=HEADER_ROW + 1, column=2)
    for col, header in enumerate(columns, start=1):
        values = [str(header)] + [str(v) for v in frame[header].head(200) if _cell_value(v) is not None]
        width = max(_display_width(v) for v in values)
        sheet.column_dimensions[get_column_letter(col)].width = min(max(8, width + 2), 60)
    sheet.row_dimensions[HEADER_ROW].height = 32


def _cell_value(value: object) -> object:
    """Excel-storable value: missing (None/NaN/NA) -> empty cell, numpy scalars -> Python."""
    if value is None or value is pd.NA or value is pd.NaT:
        return None
    if isinstance(value, float) and math.isnan(value):
        return None
    if hasattr(value, "item") and not isinstance(value, str):
        value = value.item()  # numpy scalar
        if isinstance(value, float) and math.isnan(value):
            return None
    if isinstance(value, bool):
        return "是" if value else "否"
    return safe_cell(value)


def _number_format(header: str) -> str | None:
    return next((fmt for fragment, fmt in _FORMATS if fragment in header), None)


def _display_width(text: str) -> int:
    """Width in Excel character units: CJK characters take two."""
    return sum(2 if ord(ch) > 0x2E80 else 1 for ch in text)
