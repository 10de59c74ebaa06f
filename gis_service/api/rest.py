"""REST endpoints: parks, zones, towns, density metrics, targets, indicators, 四至 parsing.

Responses are pydantic models; geographic ones are GeoJSON (geojson-pydantic) with
EPSG:4326 lon/lat coordinates.  Each figure carries its source and every geometry its
quality, so approximate boundaries stay labelled approximate.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Annotated, Any, Literal

import geopandas as gpd
from fastapi import APIRouter, Body, Query, Request, Response
from geojson_pydantic import Feature, FeatureCollection
from geojson_pydantic.geometries import Geometry
from pydantic import BaseModel, Field, create_model

import shapely
from shapely.geometry import shape as shapely_shape

from gis_service.answers import (
    DensityQuestion,
    answer_classes,
    answer_density,
    answer_whatif,
    plain,
)
from gis_service.answers.changes import MAX_CHANGES, ChangeRequest
from gis_service.answers.classes import MAX_INDICATORS, scheme_from
from gis_service.answers.parks import PARK_COLUMNS as PARK_OWN_COLUMNS
from gis_service.answers.parks import park_features
from gis_service.answers.vocabulary import FLAG_COLUMNS, INTEGER_COLUMNS, LEVELS, ROW_COLUMNS, TEXT_COLUMNS
from gis_service.errors import InputError, NotFoundError
from gis_service.lists import parse_list
from gis_service.sizhi.geometry import check_lonlat
from gis_service.sizhi.stored import verify_stored_park
from gis_service.store.parks import find_park
from gis_service.store import read_indicators, read_roads, read_sizhi, read_targets, read_towns, read_zones
from gis_service.store.versions import DataMemo

router = APIRouter(tags=["REST"])

GeoFeature = Feature[Geometry | None, dict[str, Any]]
GeoCollection = FeatureCollection[GeoFeature]


def frame_to_collection(frame: gpd.GeoDataFrame, id_column: str, columns: list[str]) -> GeoCollection:
    """A validated GeoJSON FeatureCollection of ``frame`` (EPSG:4326) with ``columns`` as properties."""
    features = []
    geoms = frame.geometry
    for (_, row), geom in zip(frame.iterrows(), geoms, strict=True):
        props = {c: plain(row[c]) if not isinstance(row[c], dict | list) else row[c] for c in columns if c in frame.columns}
        geometry = None if geom is None or geom.is_empty else json.loads(gpd.GeoSeries([geom]).to_json())["features"][0]["geometry"]
        features.append({"type": "Feature", "id": plain(row[id_column]), "geometry": geometry, "properties": props})
    return GeoCollection.model_validate({"type": "FeatureCollection", "features": features})


#: properties of a park feature: its own columns, its answer row (the same keys as
#: /metrics/density) and its 四至
PARK_COLUMNS = [*ROW_COLUMNS, *PARK_OWN_COLUMNS, "sizhi_text", "sizhi_sides"]


#: serialized GeoJSON answers of the read routes, kept until the stored data changes
_ANSWERS = DataMemo(max_entries=128)


def _cached_json(request: Request, key: tuple[object, ...], build: Callable[[], BaseModel]) -> Response:
    """The JSON of ``build()``, built once per data version (big polygons make encoding costly)."""
    body = _ANSWERS.get_or_compute(request.app.state.engine, key,
                                   lambda: build().model_dump_json(by_alias=True).encode())
    return Response(body, media_type="application/json")


def _park_features(request: Request, year: int | None) -> gpd.GeoDataFrame:
    return park_features(request.app.state.engine, DensityQuestion(year=year))[0]


@router.get("/parks", response_model=GeoCollection, summary="园区列表(含最新指标)")
def parks(request: Request, year: Annotated[int | None, Query(ge=1949, le=2100)] = None) -> GeoCollection:
    """Every park with its current boundary, 四至 and figures of ``year`` (default: latest with data)."""
    return _cached_json(request, ("parks", year),  # type: ignore[return-value]
                        lambda: frame_to_collection(_park_features(request, year), "unit_id", PARK_COLUMNS))


@router.get("/parks/{park_id}", response_model=GeoFeature, summary="单个园区")
def park(request: Request, park_id: int, year: Annotated[int | None, Query(ge=1949, le=2100)] = None) -> GeoFeature:
    def build() -> GeoFeature:
        figures = _park_features(request, year)
        rows = figures[figures["unit_id"] == park_id]
        if rows.empty:
            raise NotFoundError(f"no park with id {park_id}")
        return frame_to_collection(rows, "unit_id", PARK_COLUMNS).features[0]

    return _cached_json(request, ("park", park_id, year), build)  # type: ignore[return-value]


class IndicatorOut(BaseModel):
    """A published yearly figure of a park, with its source."""

    year: int
    metric_code: str
    value: float
    unit: str
    is_projection: bool
    source_document: str | None
    source_section: str | None
    note: str | None = None


@router.get("/parks/{park_id}/indicators", response_model=list[IndicatorOut], summary="园区的年度指标")
def park_indicators(request: Request, park_id: int) -> list[IndicatorOut]:
    engine = request.app.state.engine
    park_id = int(find_park(engine, park_id)["park_id"])
    ind = read_indicators(engine)
    rows = ind[(ind["scope_kind"] == "park") & (ind["scope_id"] == park_id)]
    return [IndicatorOut(**{k: plain(r[k]) for k in IndicatorOut.model_fields}) for _, r in rows.iterrows()]


@router.get("/zones", response_model=GeoCollection, summary="规划分区(一廊九区、三片)")
def zones(request: Request, kind: Annotated[str | None, Query(pattern="^(corridor|corridor_area|pian)$")] = None) -> GeoCollection:
    columns = ["code", "name", "kind", "parent_id", "geometry_quality", "note", "member_towns", "source_document",
               "source_section"]
    return _cached_json(request, ("zones", kind),  # type: ignore[return-value]
                        lambda: frame_to_collection(read_zones(request.app.state.engine, kind), "zone_id", columns))


@router.get("/towns", response_model=GeoCollection, summary="镇、街道")
def towns(request: Request) -> GeoCollection:
    columns = ["name", "kind", "pian", "geometry_quality", "note", "source_document", "source_section"]
    return _cached_json(request, ("towns",),  # type: ignore[return-value]
                        lambda: frame_to_collection(read_towns(request.app.state.engine), "town_id", columns))


def _row_type(column: str) -> Any:
    if column in INTEGER_COLUMNS:
        return int | None
    if column in FLAG_COLUMNS:
        return bool | None
    return (str | None) if column in TEXT_COLUMNS else (float | None)


#: one answer row: the keys of gis_service.answers.vocabulary.ROW_COLUMNS (units in the names:
#: 亿元, km², 亿元/km², 万元/亩, %); missing values are null
DensityRow = create_model(  # type: ignore[call-overload]
    "DensityRow", **{c: (_row_type(c), None) for c in ROW_COLUMNS}
)


class DensityResponse(BaseModel):
    """The answer: ``meta`` (question as answered, target and its source, comparability, the rule
    for figures by year, data vintage, sources) and one row per unit."""

    meta: dict[str, Any]
    rows: list[DensityRow]  # type: ignore[valid-type]


YearQ = Annotated[int | None, Query(ge=1949, le=2100, description="data year (default: latest with park figures)")]
NameQ = Annotated[str | None, Query(max_length=64)]


@router.get("/metrics/density", response_model=DensityResponse, summary="地均产值等密度指标")
def density(
    request: Request,
    year: YearQ = None,
    numerator: Annotated[str, Query(max_length=64)] = "output",
    basis: NameQ = None,
    level: Annotated[str, Query(max_length=64, description=f"one of {', '.join(LEVELS)}")] = "park",
    target: NameQ = None,
) -> Response:
    """Every unit of ``level`` for ``year``: figure, area, density, target, 达标率, gap and status."""
    question = DensityQuestion(year=year, numerator=numerator, basis=basis, level=level, target=target)
    return _cached_json(request, ("density", question),
                        lambda: DensityResponse.model_validate(answer_density(request.app.state.engine, question).to_dict()))


class IntensityResponse(BaseModel):
    """The land-intensity answer: ``meta`` (procedure, indicator definitions, unconfirmed
    definitions, the EXAMPLE score configuration, data vintage), one row per unit, and the
    details (per unit and indicator: value, numerator, denominator, units, sources, reason)."""

    meta: dict[str, Any]
    rows: list[dict[str, Any]]
    details: list[dict[str, Any]]


@router.get("/metrics/intensity", response_model=IntensityResponse, summary="开发区土地集约利用评价指标")
def intensity(
    request: Request,
    year: Annotated[int, Query(ge=1949, le=2100, description="data year")],
    level: Annotated[str, Query(pattern="^(park|zone)$", description="park (parks and blocks) or zone")] = "park",
) -> Response:
    """Every indicator of TD/T 1029 per park (or zone) for ``year``, with numerator, denominator,
    units and sources; zone type, sub-scores, 集约度 and rank on the EXAMPLE configuration."""
    from gis_service.answers.intensity import IntensityQuestion, answer_intensity

    question = IntensityQuestion(year=year, level=level)
    return _cached_json(request, ("intensity", question),
                        lambda: IntensityResponse.model_validate(answer_intensity(request.app.state.engine, question).to_dict()))


class ChangeIn(BaseModel):
    """One what-if change: ``unit`` is a park id, code or name."""

    unit: int | str = Field(description="park id, code (sj_west) or name")
    field: str = Field(max_length=64, description="a numerator (output, tax…) or the basis shown")
    value: float = Field(description="with mode set: the new value; add: the amount added (< 0 removes); scale: per cent")
    unit_of_value: str = Field(max_length=16, description="亿元, 万元, km², 公顷, 亩, 人, 家 or % (scale)")
    mode: Literal["set", "add", "scale"] = "set"


class WhatIfIn(BaseModel):
    year: int | None = Field(default=None, ge=1949, le=2100)
    numerator: str = Field(default="output", max_length=64)
    basis: str | None = Field(default=None, max_length=64)
    level: str = Field(default="park", max_length=64)
    target: str | None = Field(default=None, max_length=64)
    changes: list[ChangeIn] = Field(min_length=1, max_length=MAX_CHANGES)


class WhatIfResponse(BaseModel):
    baseline: DensityResponse
    scenario: DensityResponse


@router.post("/metrics/whatif", response_model=WhatIfResponse, summary="情景测算(不保存)")
def whatif(request: Request, body: Annotated[WhatIfIn, Body()]) -> WhatIfResponse:
    """The density question answered on the stored data and with ``changes`` (nothing is stored).

    Example: ``{"changes": [{"unit": "sj_west", "field": "output", "value": 10, "unit_of_value": "%",
    "mode": "scale"}]}`` — what if 松江工业区西区's output grew 10 %?
    """
    changes = tuple(ChangeRequest(c.unit, c.field, c.value, c.unit_of_value, c.mode) for c in body.changes)
    question = DensityQuestion(year=body.year, numerator=body.numerator, basis=body.basis, level=body.level,
                               target=body.target, changes=changes)
    return WhatIfResponse.model_validate(answer_whatif(request.app.state.engine, question).to_dict())


class ClassesResponse(BaseModel):
    """亩均 classes: ``scheme`` (weights, benchmarks, bands as data), ``meta`` and ranked rows."""

    meta: dict[str, Any]
    scheme: dict[str, Any]
    rows: list[dict[str, Any]]


@router.get("/metrics/classes", response_model=ClassesResponse, summary="亩均论英雄式分类(A–D)")
def classes(
    request: Request,
    year: YearQ = None,
    level: Annotated[str, Query(max_length=64)] = "park",
    indicator: Annotated[list[str] | None, Query(description=(
        "NUMERATOR:WEIGHT[:BENCHMARK 万元/亩], repeatable; default output:0.6 and tax:0.4 with the mean as benchmark"
        + f"; at most {MAX_INDICATORS} distinct"))] = None,
    basis: NameQ = None,
    bands: Annotated[str | None, Query(max_length=200, description="e.g. A:0.2,B:0.6,C:0.95,D:1")] = None,
    benchmark_factor: Annotated[float | None, Query(gt=0, le=100)] = None,
    missing: Annotated[Literal["no_score", "reweight"] | None, Query()] = None,
) -> ClassesResponse:
    """Scores Σ weight × (亩均 figure / benchmark) and classes by percentile, with the scheme used."""
    indicators = parse_list("indicator", indicator, max_items=MAX_INDICATORS)
    scheme = scheme_from(indicators, basis=basis, bands=bands, benchmark_factor=benchmark_factor, missing=missing)
    answer = answer_classes(request.app.state.engine, year=year, level=level, scheme=scheme)
    return ClassesResponse.model_validate(answer.to_dict())

class TargetOut(BaseModel):
    code: str
    scope: str
    category: str | None
    name: str
    metric_code: str
    basis: str | None
    base_year: int | None
    base_value: float | None
    year: int
    value: float | None
    value_text: str | None
    unit: str
    nature: str | None
    source_document: str | None
    source_section: str | None


@router.get("/targets", response_model=list[TargetOut], summary="规划目标")
def targets(request: Request) -> list[TargetOut]:
    frame = read_targets(request.app.state.engine)
    return [TargetOut(**{k: plain(r[k]) for k in TargetOut.model_fields}) for _, r in frame.iterrows()]


@router.get("/parks/{park_id}/sizhi", summary="园区四至(原文与解析)")
def park_sizhi(request: Request, park_id: int) -> dict[str, Any]:
    frame = read_sizhi(request.app.state.engine)
    rows = frame[frame["park_id"] == park_id]
    if rows.empty:
        raise NotFoundError(f"no 四至 stored for park {park_id}")
    r = rows.iloc[0]
    return {"park_id": park_id, "park_name": r.park_name, "raw_text": r.raw_text, "parsed": r.parsed,
            "source_document": r.source_document, "source_section": r.source_section}


class SizhiText(BaseModel):
    text: str = Field(min_length=1, max_length=5000, description="四至 text, e.g. 东至人民北路,南至文汇路,…")


@router.post("/sizhi/parse", summary="解析四至文本")
def sizhi_parse(body: Annotated[SizhiText, Body()]) -> dict[str, Any]:
    """The structure of a 四至 text (sides, features, offsets); 422 naming the character span on bad text."""
    from gis_service.sizhi import parse

    return parse(body.text).to_dict()  # type: ignore[no-any-return]


class SizhiVerifyRequest(BaseModel):
    """A 四至 text and a boundary (GeoJSON Polygon/MultiPolygon, EPSG:4326) to check against the roads."""

    text: str = Field(min_length=1, max_length=5000)
    geometry: dict[str, Any]
    tolerance_m: float = Field(default=150.0, gt=0, le=5000, description="metres (EPSG:4549)")


def _verify(request: Request, boundary: Any, text_: str, tolerance_m: float) -> dict[str, Any]:
    from gis_service.sizhi import parse, verify

    roads = read_roads(request.app.state.engine)
    return verify(boundary, parse(text_), roads, tolerance_m=tolerance_m).to_dict()  # type: ignore[no-any-return]


@router.post("/sizhi/verify", summary="核对边界与四至")
def sizhi_verify(request: Request, body: Annotated[SizhiVerifyRequest, Body()]) -> dict[str, Any]:
    """Per side: which named features the boundary follows, coverage and distance (m, EPSG:4549)."""
    try:
        boundary = shapely_shape(body.geometry)
    except (KeyError, TypeError, ValueError, AttributeError, shapely.errors.GEOSException) as exc:
        raise InputError(f"geometry: not a GeoJSON geometry ({exc})") from None
    if boundary.geom_type not in ("Polygon", "MultiPolygon") or boundary.is_empty:
        raise InputError(f"geometry: expected a valid Polygon or MultiPolygon, got {boundary.geom_type}")
    check_lonlat(boundary, request.app.state.import_limits.extent, what="geometry")  # before any GEOS work
    if not boundary.is_valid:
        raise InputError(f"geometry: expected a valid Polygon or MultiPolygon, got an invalid {boundary.geom_type}")
    return _verify(request, boundary, body.text, body.tolerance_m)


@router.get("/parks/{park_id}/sizhi/verify", summary="核对园区现行边界与其四至")
def park_sizhi_verify(request: Request, park_id: int,
                      tolerance_m: Annotated[float, Query(gt=0, le=5000)] = 150.0) -> dict[str, Any]:
    _, report = verify_stored_park(request.app.state.engine, park_id, tolerance_m=tolerance_m)
    return {"park_id": park_id, **report.to_dict()}


@router.get("/land/imports", summary="已导入的土地数据(现状调查、供地记录、地块登记)")
def land_imports(request: Request) -> list[dict[str, Any]]:
    """Every land import: kind, year, source, file, code system, CRS, encoding, counts, area by class."""
    from gis_service.store.land import read_land_imports

    return read_land_imports(request.app.state.engine)
