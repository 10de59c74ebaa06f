"""REST endpoints: parks, zones, towns, density metrics, targets, indicators, 四至 parsing.

Responses are pydantic models; geographic ones are GeoJSON (geojson-pydantic) with
EPSG:4326 lon/lat coordinates.  Each figure carries its source and every geometry its
quality, so approximate boundaries stay labelled approximate.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from typing import Annotated, Any

import geopandas as gpd
import pandas as pd
from fastapi import APIRouter, Body, Query, Request, Response
from geojson_pydantic import Feature, FeatureCollection
from geojson_pydantic.geometries import Geometry
from pydantic import BaseModel, Field

import shapely
from shapely.geometry import shape as shapely_shape

from gis_service.errors import InputError, NotFoundError
from gis_service.maps.cache import DataMemo
from gis_service.maps.figures import LEVELS, choose, level_density, level_units, park_figures
from gis_service.sizhi.stored import verify_stored_park
from gis_service.store import read_indicators, read_roads, read_sizhi, read_targets, read_towns, read_zones

router = APIRouter(tags=["REST"])

GeoFeature = Feature[Geometry | None, dict[str, Any]]
GeoCollection = FeatureCollection[GeoFeature]


def _clean(value: Any) -> Any:
    """JSON-safe scalar: NaN/NA -> None, numpy -> Python, dates -> ISO text."""
    if value is None or value is pd.NA or (isinstance(value, float) and math.isnan(value)):
        return None
    if hasattr(value, "item"):
        return _clean(value.item())
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return value


def frame_to_collection(frame: gpd.GeoDataFrame, id_column: str, columns: list[str]) -> GeoCollection:
    """A validated GeoJSON FeatureCollection of ``frame`` (EPSG:4326) with ``columns`` as properties."""
    features = []
    geoms = frame.geometry
    for (_, row), geom in zip(frame.iterrows(), geoms, strict=True):
        props = {c: _clean(row[c]) if not isinstance(row[c], dict | list) else row[c] for c in columns if c in frame.columns}
        geometry = None if geom is None or geom.is_empty else json.loads(gpd.GeoSeries([geom]).to_json())["features"][0]["geometry"]
        features.append({"type": "Feature", "id": _clean(row[id_column]), "geometry": geometry, "properties": props})
    return GeoCollection.model_validate({"type": "FeatureCollection", "features": features})


PARK_COLUMNS = ["unit_id", "code", "unit_name", "kind", "parent_id", "parent_name", "geometry_quality", "method",
                "source_document", "source_section", "sizhi_text", "sizhi_sides", "published_area_km2",
                "measured_area_km2", "value_yi_yuan", "numerator_source", "density_published_area",
                "density_measured_area", "density_industrial_land", "density_supplied_industrial_land",
                "density_built_up_land", "density", "attainment_pct", "gap_yi_per_km2", "status", "missing_reason",
                "basis_source"]


#: serialized GeoJSON answers of the read routes, kept until the stored data changes
_ANSWERS = DataMemo(max_entries=128)


def _cached_json(request: Request, key: tuple[object, ...], build: Callable[[], BaseModel]) -> Response:
    """The JSON of ``build()``, built once per data version (big polygons make encoding costly)."""
    body = _ANSWERS.get_or_compute(request.app.state.engine, key,
                                   lambda: build().model_dump_json(by_alias=True).encode())
    return Response(body, media_type="application/json")


def _park_figures(request: Request, year: int | None) -> tuple[gpd.GeoDataFrame, dict[str, Any]]:
    engine = request.app.state.engine
    choice = choose(engine, year=year)
    figures = park_figures(engine, choice)
    meta = {"year": choice.year, "numerator": choice.numerator, "basis": choice.basis,
            "target": {"code": choice.target.code, "value": choice.target.value, "unit": choice.target.unit,
                       "year": choice.target.year, "source": choice.target.source}}
    return figures, meta


@router.get("/parks", response_model=GeoCollection, summary="园区列表(含最新指标)")
def parks(request: Request, year: Annotated[int | None, Query(ge=1949, le=2100)] = None) -> GeoCollection:
    """Every park with its current boundary, 四至 and figures of ``year`` (default: latest with data)."""
    return _cached_json(request, ("parks", year),  # type: ignore[return-value]
                        lambda: frame_to_collection(_park_figures(request, year)[0], "unit_id", PARK_COLUMNS))


@router.get("/parks/{park_id}", response_model=GeoFeature, summary="单个园区")
def park(request: Request, park_id: int, year: Annotated[int | None, Query(ge=1949, le=2100)] = None) -> GeoFeature:
    def build() -> GeoFeature:
        figures, _ = _park_figures(request, year)
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
    if park_id not in set(level_units(engine, "park", None)["unit_id"]):
        raise NotFoundError(f"no park with id {park_id}")
    ind = read_indicators(engine)
    rows = ind[(ind["scope_kind"] == "park") & (ind["scope_id"] == park_id)]
    return [IndicatorOut(**{k: _clean(r[k]) for k in IndicatorOut.model_fields}) for _, r in rows.iterrows()]


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


class DensityRow(BaseModel):
    """One unit's density for the chosen year, numerator and basis (亿元/km²), against the target."""

    unit_id: int
    unit_name: str | None
    year: int
    numerator: str
    basis: str
    value_yi_yuan: float | None = Field(description="numerator, 亿元 (money numerators)")
    value_count: float | None = Field(default=None, description="numerator for counts (人, 家)")
    area_km2: float | None
    density_yi_per_km2: float | None
    count_per_km2: float | None = None
    mu_jun_wan_per_mu: float | None = Field(default=None, description="亩均, 万元/亩")
    numerator_source: str | None
    basis_source: str | None
    is_approximate: bool | None
    uses_synthetic_data: bool | None
    missing_reason: str | None
    target_yi_per_km2: float | None = None
    attainment_pct: float | None = None
    gap_yi_per_km2: float | None = None
    status: str | None = None


class DensityResponse(BaseModel):
    level: str
    year: int
    numerator: str
    basis: str
    target_code: str | None
    target_source: str
    comparable_with_target: bool = Field(description="False when the basis is not the target's own basis")
    rows: list[DensityRow]


@router.get("/metrics/density", response_model=DensityResponse, summary="地均产值等密度指标")
def density(
    request: Request,
    year: Annotated[int | None, Query(ge=1949, le=2100)] = None,
    numerator: str = "output",
    basis: str | None = None,
    level: Annotated[str, Query(description=f"one of {', '.join(LEVELS)}")] = "park",
    target: str | None = None,
) -> DensityResponse:
    """Densities of every unit of ``level`` for ``year``, compared with ``target`` where it applies."""
    engine = request.app.state.engine
    choice = choose(engine, year=year, numerator=numerator, basis=basis, target=target)
    units = level_units(engine, level, choice.year)
    table = level_density(engine, units, level=level, year=choice.year, numerators=[numerator])
    table = table[table["basis"] == choice.basis]
    if not table.empty:
        table = choice.compare(table)
    rows = [DensityRow(**{k: _clean(r.get(k)) for k in DensityRow.model_fields}) for _, r in table.iterrows()]
    return DensityResponse(level=level, year=choice.year, numerator=numerator, basis=choice.basis,
                           target_code=choice.target.code, target_source=choice.target.source,
                           comparable_with_target=choice.comparable, rows=rows)


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
    return [TargetOut(**{k: _clean(r[k]) for k in TargetOut.model_fields}) for _, r in frame.iterrows()]


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
    if boundary.geom_type not in ("Polygon", "MultiPolygon") or boundary.is_empty or not boundary.is_valid:
        raise InputError(f"geometry: expected a valid Polygon or MultiPolygon, got {boundary.geom_type}")
    return _verify(request, boundary, body.text, body.tolerance_m)


@router.get("/parks/{park_id}/sizhi/verify", summary="核对园区现行边界与其四至")
def park_sizhi_verify(request: Request, park_id: int,
                      tolerance_m: Annotated[float, Query(gt=0, le=5000)] = 150.0) -> dict[str, Any]:
    _, report = verify_stored_park(request.app.state.engine, park_id, tolerance_m=tolerance_m)
    return {"park_id": park_id, **report.to_dict()}
