"""Hypothesis on the importers: whatever the file holds, the result is success or a typed InputError."""

from __future__ import annotations

import datetime as dt
import json
import math
import tempfile
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import Engine

from gis_service.errors import InputError
from gis_service.ingest import import_boundaries, import_indicators
from gis_service.ingest.sources import read_features

HEADERS = ["园区", "年份", "产值(亿元)", "产值(万元)", "面积(公顷)", "税收(元)", "员工(万人)", "注册企业数(家)", "指标", "数值",
           "单位", "来源", "备注", "scope_type", "scope_code", "is_projection", "产值", "面积(斤)", "x", "", "年份"]
CELLS = st.one_of(
    st.sampled_from(["sj_west", "松江工业区西区", "环大学城科创园", "2021", "2030", "2015", "165", "-3", "1e308", "nan",
                     "inf", "1,234.5", "亿元", "万元", "公顷", "亩", "人", "家", "output", "产值", "—", "", "true", "park",
                     "zone", "district", "NULL", "'; DROP TABLE indicator; --"]),
    st.text(max_size=12),
    st.integers(-10**12, 10**12).map(str),
    st.floats(allow_nan=True, allow_infinity=True).map(repr),
)
FUZZ = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                       HealthCheck.too_slow])


def _csv_text(header: list[str], rows: list[list[str]]) -> str:
    def quote(cell: str) -> str:
        return '"' + cell.replace('"', '""') + '"' if any(c in cell for c in ',"\n\r') else cell

    return "\n".join(",".join(quote(c) for c in line) for line in [header, *rows]) + "\n"


@FUZZ
@given(header=st.lists(st.sampled_from(HEADERS), min_size=1, max_size=7),
       rows=st.lists(st.lists(CELLS, max_size=8), max_size=5))
def test_csv_importer_only_raises_typed_errors(loaded: Engine, header: list[str], rows: list[list[str]]) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "fuzz.csv"
        path.write_text(_csv_text(header, rows), encoding="utf-8")
        try:
            result = import_indicators(loaded, path, actor="fuzz", source_document="fuzz")
        except InputError as exc:
            assert str(exc)  # a message for the user, never empty
        else:
            assert result.changed + result.unchanged == len(result.records)


METRIC_HEADERS = ["产值(亿元)", "产值(万元)", "面积(公顷)", "面积(亩)", "税收(元)", "员工(万人)", "注册企业数(家)",
                  "利润总额(亿元)", "单位面积工业用地工业营业收入(万元/亩)", "企业R&D经费占生产总值比例(%)"]


@FUZZ
@given(metrics=st.lists(st.sampled_from(METRIC_HEADERS), min_size=1, max_size=4, unique=True),
       rows=st.lists(st.tuples(st.sampled_from(["sj_west", "环大学城科创园", "sj_north", "nope"]),
                               st.integers(2010, 2035).map(str), st.lists(CELLS, min_size=4, max_size=4)), max_size=4))
def test_csv_importer_with_a_valid_header_reaches_the_database(
    loaded: Engine, metrics: list[str], rows: list[tuple[str, str, list[str]]]
) -> None:
    header = ["园区", "年份", *metrics, "来源"]
    lines = [[park, year, *cells[: len(metrics)], "fuzz"] for park, year, cells in rows]
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "fuzz.csv"
        path.write_text(_csv_text(header, lines), encoding="utf-8")
        try:
            result = import_indicators(loaded, path, actor="fuzz")
        except InputError as exc:
            assert str(exc)
        else:
            for record in result.records:  # whatever got in is in the catalogue unit and within bounds
                assert record.unit in ("亿元", "km²", "人", "家", "亿元/km²", "%")
                assert record.value >= 0 or record.metric_code == "profit"


@FUZZ
@given(data=st.binary(max_size=400))
def test_csv_importer_on_arbitrary_bytes(engine: Engine, data: bytes) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "bytes.csv"
        path.write_bytes(data)
        with pytest.raises(InputError):
            import_indicators(engine, path, actor="fuzz", source_document="fuzz")  # empty database: no park exists


JSON_VALUES = st.recursive(
    st.one_of(st.none(), st.booleans(), st.integers(-10**20, 10**20), st.floats(allow_nan=False), st.text(max_size=10)),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner, max_size=3),
    max_leaves=6,
)
COORD = st.one_of(st.floats(allow_nan=False, allow_infinity=False, width=32), st.floats(120.8, 122.3), st.floats(30.6, 31.95))
RING = st.lists(st.tuples(COORD, COORD).map(list), min_size=0, max_size=6)


@st.composite
def geometries(draw: Any) -> dict[str, Any] | None:
    kind = draw(st.sampled_from(["Polygon", "MultiPolygon", "LineString", "Point", None, "closed"]))
    if kind is None:
        return None
    ring = draw(RING)
    if kind == "closed" and ring:
        return {"type": "Polygon", "coordinates": [ring + [ring[0]]]}
    if kind == "Point":
        return {"type": "Point", "coordinates": ring[0] if ring else []}
    if kind == "LineString":
        return {"type": "LineString", "coordinates": ring}
    if kind == "MultiPolygon":
        return {"type": "MultiPolygon", "coordinates": [[ring]]}
    return {"type": "Polygon", "coordinates": [ring]}


@FUZZ
@given(
    features=st.lists(
        st.tuples(st.dictionaries(st.sampled_from(["code", "name", "x", "园区", "valid_from"]), JSON_VALUES, max_size=4),
                  geometries()),
        max_size=4,
    ),
    repair=st.booleans(),
    gcj02=st.booleans(),
)
def test_geojson_boundary_import_only_raises_typed_errors(
    loaded: Engine, features: list[tuple[dict[str, Any], Any]], repair: bool, gcj02: bool
) -> None:
    doc = {"type": "FeatureCollection",
           "features": [{"type": "Feature", "properties": p, "geometry": g} for p, g in features]}
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "fuzz.geojson"
        path.write_text(json.dumps(doc, ensure_ascii=False), encoding="utf-8")
        try:
            result = import_boundaries(loaded, path, park_field="code", valid_from=dt.date(2024, 1, 1),
                                       source_document="fuzz", actor="fuzz", repair=repair, gcj02=gcj02)
        except InputError as exc:
            assert str(exc)
        else:
            assert result.inserted + result.unchanged == len(features)


@FUZZ
@given(coords=st.lists(st.tuples(st.floats(allow_nan=True, allow_infinity=True), st.floats()), min_size=4, max_size=6))
def test_geojson_reader_on_any_coordinates(coords: list[tuple[float, float]]) -> None:
    ring = [list(c) for c in coords] + [list(coords[0])]
    doc = {"type": "FeatureCollection", "features": [
        {"type": "Feature", "properties": {"code": "a"}, "geometry": {"type": "Polygon", "coordinates": [ring]}}]}
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "coords.geojson"
        path.write_text(json.dumps(doc), encoding="utf-8")  # NaN/Infinity become non-standard JSON tokens
        try:
            (feat,) = read_features(path, geometry_types=("Polygon", "MultiPolygon"), required=("code",))
        except InputError:
            return
        bounds = feat.geometry.bounds
        assert all(math.isfinite(v) for v in bounds) and 120.8 <= bounds[0] <= bounds[2] <= 122.3
