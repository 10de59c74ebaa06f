"""Hypothesis on the importers: whatever the file holds, the result is success or a typed InputError.

A success is checked in the database: every figure or boundary the importer reports is read back.
The tests whose inputs can be valid count the imports that stored something and require that
some did (else a fuzz run that only ever produced refusals would pass without testing a write),
and one strategy generates only valid files, every one of which must land.
"""

from __future__ import annotations

import datetime as dt
import json
import math
import tempfile
from collections import Counter
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
import shapely
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from sqlalchemy import Engine, text

from gis_service.errors import InputError
from gis_service.ingest import import_boundaries, import_indicators
from gis_service.ingest.indicators import IndicatorImportResult
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


_SCOPE_COLUMN = {"park": "park_id", "zone": "zone_id", "town": "town_id", "district": "district_id"}


def _assert_stored(engine: Engine, result: IndicatorImportResult) -> None:
    """Every figure the import reports is in the indicator table, with the value and unit reported."""
    with engine.connect() as conn:
        for r in result.records:
            row = conn.execute(text(f"""
                SELECT value, unit FROM indicator WHERE {_SCOPE_COLUMN[r.scope_type]} = :s AND year = :y
                AND metric_code = :m AND is_projection = :p
            """), {"s": r.scope_id, "y": r.year, "m": r.metric_code, "p": r.is_projection}).one()
            assert (row.value, row.unit) == (r.value, r.unit), r



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
            event("refused")
        else:
            assert result.changed + result.unchanged == len(result.records)
            _assert_stored(loaded, result)
            event("stored" if result.records else "nothing to store")


METRIC_HEADERS = ["产值(亿元)", "产值(万元)", "面积(公顷)", "面积(亩)", "税收(元)", "员工(万人)", "注册企业数(家)",
                  "利润总额(亿元)", "单位面积工业用地工业营业收入(万元/亩)", "企业R&D经费占生产总值比例(%)"]


#: rows of a file with a valid header: half of the files ("clean") have plausible figures of known
#: parks in the plan period, the others any cells and years.  One bad cell refuses the whole file,
#: so without the clean half nearly every file would be refused and nothing written.
CLEAN_CELLS = st.one_of(st.integers(0, 100).map(str), st.decimals(0, 100, places=3).map(str))
ROW_PARKS = st.sampled_from(["sj_west", "环大学城科创园", "sj_north"])


def _rows(clean: bool) -> st.SearchStrategy[list[tuple[str, str, list[str]]]]:
    cells = CLEAN_CELLS if clean else st.one_of(CLEAN_CELLS, CELLS)
    years = st.integers(2016, 2030) if clean else st.integers(2010, 2035)
    parks = ROW_PARKS if clean else st.one_of(ROW_PARKS, st.just("nope"))
    rows = st.tuples(parks, years.map(str), st.lists(cells, min_size=4, max_size=4))
    if clean:
        return st.lists(rows, min_size=1, max_size=4, unique_by=lambda r: (r[0], r[1]))  # one row per park and year
    return st.lists(rows, max_size=4)


def test_csv_importer_with_a_valid_header_reaches_the_database(loaded: Engine) -> None:
    outcomes: Counter[str] = Counter()

    @FUZZ
    @given(metrics=st.lists(st.sampled_from(METRIC_HEADERS), min_size=1, max_size=4, unique=True),
           rows=st.booleans().flatmap(_rows))
    def run(metrics: list[str], rows: list[tuple[str, str, list[str]]]) -> None:
        header = ["园区", "年份", *metrics, "来源"]
        lines = [[park, year, *cells[: len(metrics)], "fuzz"] for park, year, cells in rows]
        with tempfile.TemporaryDirectory() as tmp:
            path = Path(tmp) / "fuzz.csv"
            path.write_text(_csv_text(header, lines), encoding="utf-8")
            try:
                result = import_indicators(loaded, path, actor="fuzz")
            except InputError as exc:
                assert str(exc)
                outcomes[f"refused ({type(exc).__name__})"] += 1
                event(f"refused ({type(exc).__name__})")
                return
        for record in result.records:  # whatever got in is in the catalogue unit and within bounds
            assert record.unit in ("亿元", "km²", "人", "家", "亿元/km²", "%")
            assert record.value >= 0 or record.metric_code == "profit"
        _assert_stored(loaded, result)
        outcome = "stored" if result.records else "nothing to store"
        outcomes[outcome] += 1
        event(outcome)

    run()
    print(f"\nCSV fuzz with a valid header: {dict(outcomes)}")
    assert outcomes["stored"] > 0, f"no generated file reached the database: {dict(outcomes)}"


#: (header, value strategy, factor to the catalogue unit, catalogue unit) of figures that are always plausible
VALID_COLUMNS = {
    "产值(亿元)": (st.decimals(0, 500, places=2), Decimal(1), "亿元"),
    "产值(万元)": (st.integers(0, 5_000_000).map(Decimal), Decimal("0.0001"), "亿元"),
    "税收(亿元)": (st.decimals(0, 50, places=4), Decimal(1), "亿元"),
    "税收(元)": (st.integers(0, 5 * 10**9).map(Decimal), Decimal("1e-8"), "亿元"),
    "注册企业数(家)": (st.integers(0, 5000).map(Decimal), Decimal(1), "家"),
    "员工(万人)": (st.decimals(0, 5, places=3), Decimal(10_000), "人"),
}
PARKS = {"sj_west": "sj_west", "松江工业区西区": "sj_west", "环大学城科创园": "sj_daxuecheng", "sj_north": "sj_north",
         "临港松江科技城": "sj_lingang", "sj_dongjing": "sj_dongjing", "sj_xinxin": "sj_xinxin"}


@st.composite
def valid_figure_files(draw: Any) -> tuple[list[str], list[list[str]], dict[tuple[str, int, str], tuple[Decimal, str]]]:
    """A CSV (header, rows) that must import, and the figures it must leave in the database."""
    columns = draw(st.lists(st.sampled_from(sorted(VALID_COLUMNS)), min_size=1, max_size=3,
                            unique_by=lambda h: h.split("(")[0]))  # one column per metric
    keys = draw(st.lists(st.tuples(st.sampled_from(sorted(PARKS)), st.integers(2016, 2030)), min_size=1, max_size=4,
                         unique_by=lambda k: (PARKS[k[0]], k[1])))  # one row per park and year
    rows, expected = [], {}
    for park, year in keys:
        values = [draw(VALID_COLUMNS[c][0]) for c in columns]
        rows.append([park, str(year), *map(str, values), "fuzz"])
        for column, value in zip(columns, values, strict=True):
            _, factor, unit = VALID_COLUMNS[column]
            metric = {"产值": "output", "税收": "tax", "注册企业数": "enterprises", "员工": "employees"}[column.split("(")[0]]
            expected[(PARKS[park], year, metric)] = (value * factor, unit)
    return ["园区", "年份", *columns, "来源"], rows, expected


@FUZZ
@given(valid_figure_files())
def test_valid_generated_csv_lands_in_the_database(
    loaded: Engine, file: tuple[list[str], list[list[str]], dict[tuple[str, int, str], tuple[Decimal, str]]]
) -> None:
    header, rows, expected = file
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "valid.csv"
        path.write_text(_csv_text(header, rows), encoding="utf-8")
        result = import_indicators(loaded, path, actor="fuzz")
    assert len(result.records) == len(expected) and result.changed + result.unchanged == len(expected)
    with loaded.connect() as conn:
        stored = {(r.code, r.year, r.metric_code): (r.value, r.unit) for r in conn.execute(text("""
            SELECT p.code, i.year, i.metric_code, i.value, i.unit FROM indicator i JOIN park p ON p.id = i.park_id
            WHERE NOT i.is_projection AND (p.code, i.year, i.metric_code) IN (SELECT * FROM unnest(
                CAST(:codes AS text[]), CAST(:years AS int[]), CAST(:metrics AS text[])))
        """), {"codes": [k[0] for k in expected], "years": [k[1] for k in expected], "metrics": [k[2] for k in expected]})}
    assert stored == expected


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


#: a valid rectangle in Songjiang: the kind of geometry a real upload has
BOXES = st.builds(lambda x, y, w, h: {"type": "Polygon", "coordinates": [[[x, y], [x + w, y], [x + w, y + h], [x, y + h], [x, y]]]},
                  st.floats(121.05, 121.35), st.floats(30.95, 31.12), st.floats(0.002, 0.03), st.floats(0.002, 0.03))


@st.composite
def geometries(draw: Any) -> dict[str, Any] | None:
    kind = draw(st.sampled_from(["Polygon", "MultiPolygon", "LineString", "Point", None, "closed", "box", "box"]))
    if kind is None:
        return None
    if kind == "box":
        return draw(BOXES)
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


#: feature properties: anything, or the code of a park of the sample data (plus anything)
PROPERTIES = st.one_of(
    st.dictionaries(st.sampled_from(["code", "name", "x", "园区", "valid_from"]), JSON_VALUES, max_size=4),
    st.fixed_dictionaries({"code": st.sampled_from(["sj_west", "sj_north", "sj_lingang", "sj_dongjing", "sj_xinxin", "nope"])},
                          optional={"name": JSON_VALUES, "x": JSON_VALUES}),
)
#: a feature a real upload has: a park's code and a valid rectangle
GOOD_FEATURE = st.tuples(st.fixed_dictionaries({"code": st.sampled_from(["sj_west", "sj_north", "sj_lingang", "sj_xinxin"])}),
                         BOXES)


def _features(clean: bool) -> st.SearchStrategy[list[tuple[dict[str, Any], Any]]]:
    """Half of the files ("clean") hold good features only, one per park; the others anything.
    One bad feature refuses the whole file: without the clean half nothing would be written."""
    if clean:
        return st.lists(GOOD_FEATURE, min_size=1, max_size=3, unique_by=lambda f: f[0]["code"])
    return st.lists(st.one_of(GOOD_FEATURE, st.tuples(PROPERTIES, geometries())), max_size=4)


def _assert_boundaries_stored(engine: Engine, features: list[tuple[dict[str, Any], Any]], result: Any, valid_from: dt.date,
                              gcj02: bool) -> None:
    """Each imported park's boundary in force at ``valid_from`` is the feature's geometry (converted from GCJ-02 if asked)."""
    from gis_service.coords.gcj02 import gcj02_to_wgs84

    assert sorted(result.boundary_ids) == sorted(p["code"] for p, _ in features)
    with engine.connect() as conn:
        for props, geometry in features:
            row = conn.execute(text("""
                SELECT p.code, ST_AsText(b.geom) AS wkt FROM park_boundary b JOIN park p ON p.id = b.park_id
                WHERE b.id = :id AND b.valid_from <= :vf AND (b.valid_to IS NULL OR b.valid_to > :vf)
            """), {"id": result.boundary_ids[props["code"]], "vf": valid_from}).one()
            assert row.code == props["code"]
            given_geom = shapely.geometry.shape(geometry)
            if given_geom.is_valid:  # else make_valid changed it (repair=True)
                expected = gcj02_to_wgs84(given_geom) if gcj02 else given_geom
                assert shapely.symmetric_difference(shapely.from_wkt(row.wkt), expected).area <= 1e-6 * expected.area, props


def test_geojson_boundary_import_only_raises_typed_errors(loaded: Engine) -> None:
    outcomes: Counter[str] = Counter()

    @FUZZ
    @given(features=st.booleans().flatmap(_features),
           repair=st.booleans(), gcj02=st.booleans(), valid_from=st.dates(dt.date(2021, 1, 1), dt.date(2030, 12, 31)))
    def run(features: list[tuple[dict[str, Any], Any]], repair: bool, gcj02: bool, valid_from: dt.date) -> None:
        doc = {"type": "FeatureCollection",
               "features": [{"type": "Feature", "properties": p, "geometry": g} for p, g in features]}
        with tempfile.TemporaryDirectory() as tmp:
            path = Path(tmp) / "fuzz.geojson"
            path.write_text(json.dumps(doc, ensure_ascii=False), encoding="utf-8")
            try:
                result = import_boundaries(loaded, path, park_field="code", valid_from=valid_from,
                                           source_document="fuzz", actor="fuzz", repair=repair, gcj02=gcj02)
            except InputError as exc:
                assert str(exc)
                outcomes[f"refused ({type(exc).__name__})"] += 1
                event(f"refused ({type(exc).__name__})")
                return
        assert result.inserted + result.unchanged == len(features)
        _assert_boundaries_stored(loaded, features, result, valid_from, gcj02)
        outcome = "stored" if features else "nothing to store"
        outcomes[outcome] += 1
        event(outcome)

    run()
    print(f"\nGeoJSON boundary fuzz: {dict(outcomes)}")
    assert outcomes["stored"] > 0, f"no generated file reached the database: {dict(outcomes)}"


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
