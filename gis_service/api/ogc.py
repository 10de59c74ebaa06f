"""OGC API - Features Part 1 (Core, GeoJSON, OpenAPI 3.0) under ``/ogc``.

Landing page, conformance, collections (parks, zones, towns, roads, parcels), items
with bbox, limit/offset, next/prev links, numberMatched (exact or omitted, see
:mod:`gis_service.api.features`) and numberReturned, single features and equality
filters on the queryable properties.  Loads in QGIS and GDAL's OAPIF driver.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Query, Request
from fastapi.responses import JSONResponse, RedirectResponse, Response

from gis_service.api.catalog import COLLECTIONS, Collection
from gis_service.api.dependencies import CRS84, CRS84_ALIASES, ApiInputError, BBoxDep, PagingDep, api_settings
from gis_service.api.features import collection_extent, property_filters, read_feature, read_items
from gis_service.api.headers import public_base_url
from gis_service.answers import DensityQuestion, answer_density
from gis_service.errors import NotFoundError

router = APIRouter(prefix="/ogc", tags=["OGC API Features"])

GEOJSON = "application/geo+json"
CONFORMANCE = [
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/core",
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/geojson",
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/oas30",
]
#: parameters of the items endpoint that are not property filters
_ITEM_PARAMS = {"limit", "offset", "bbox", "bbox-crs", "f", "datetime", "crs"}
FormatQuery = Annotated[str | None, Query(description="json (the only format served)")]


def _url(request: Request, path: str, **query: object) -> str:
    base = public_base_url(request)
    params = {k: v for k, v in query.items() if v is not None}
    return f"{base}{path}" + (f"?{urlencode(params)}" if params else "")


def _check_format(f: str | None) -> None:
    if f is not None and f.lower() not in {"json", "geojson", "application/json", "application/geo+json"}:
        raise ApiInputError("f", f"unsupported format {f!r}; this service serves json")


CrsQuery = Annotated[str | None, Query(description=f"output CRS: only {CRS84} (GDAL sends it)")]
DATETIME_FORMS = ("an RFC 3339 date-time (2020-01-01T00:00:00Z) or date (2020-01-01), or an interval of two "
                  "of them separated by '/', either end open as '..' or empty (2020-01-01/.., ../2020-12-31)")
DatetimeQuery = Annotated[str | None, Query(description=f"{DATETIME_FORMS}; checked, then ignored: no collection "
                                                        "is temporal")]
_INSTANT = re.compile(r"\d{4}-\d{2}-\d{2}([Tt]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2}))?")


def _instant(text: str) -> dt.date | None:
    """The date or date-time ``text`` (RFC 3339), or ``None`` when it is not one."""
    if not _INSTANT.fullmatch(text):
        return None
    try:
        return dt.date.fromisoformat(text) if len(text) == 10 else dt.datetime.fromisoformat(text.upper())
    except ValueError:  # 2020-13-45, 25:00:00
        return None


def _check_datetime(value: str | None) -> None:
    """400 naming ``datetime`` unless it is an instant or an interval (OGC API Features 7.15.4)."""
    if value is None:
        return
    ends = value.split("/")
    open_end = {"", ".."}
    valid = (len(ends) == 1 and _instant(value) is not None) or (
        len(ends) == 2 and not set(ends) <= open_end and all(e in open_end or _instant(e) is not None for e in ends))
    if not valid:
        raise ApiInputError("datetime", f"{value!r} is not {DATETIME_FORMS}")


def _check_crs(crs: str | None) -> None:
    if crs is not None and crs not in CRS84_ALIASES:
        raise ApiInputError("crs", f"only {CRS84} is served, got {crs!r}")


def _collection(collection_id: str) -> Collection:
    try:
        return COLLECTIONS[collection_id]
    except KeyError:
        raise NotFoundError(f"no collection '{collection_id}' (collections: {', '.join(COLLECTIONS)})") from None


@router.get("", summary="Landing page")
def landing(request: Request, f: FormatQuery = None) -> dict[str, Any]:
    _check_format(f)
    return {
        "title": "松江区产业园区空间规划平台 OGC API Features",
        "description": "Parks, planning zones, towns, roads and land parcels of Songjiang District.",
        "links": [
            {"href": _url(request, "/ogc"), "rel": "self", "type": "application/json", "title": "本页"},
            {"href": _url(request, "/openapi.json"), "rel": "service-desc",
             "type": "application/vnd.oai.openapi+json;version=3.0", "title": "OpenAPI 3.0"},
            {"href": _url(request, "/docs"), "rel": "service-doc", "type": "text/html", "title": "API 文档"},
            {"href": _url(request, "/ogc/conformance"), "rel": "conformance", "type": "application/json"},
            {"href": _url(request, "/ogc/collections"), "rel": "data", "type": "application/json"},
        ],
    }


@router.get("/api", include_in_schema=False)
def api_definition() -> RedirectResponse:
    return RedirectResponse("/openapi.json")


@router.get("/conformance", summary="Conformance classes")
def conformance(f: FormatQuery = None) -> dict[str, list[str]]:
    _check_format(f)
    return {"conformsTo": CONFORMANCE}


def _collection_doc(request: Request, collection: Collection) -> dict[str, Any]:
    extent = collection_extent(request.app.state.engine, collection)
    base = f"/ogc/collections/{collection.id}"
    doc: dict[str, Any] = {
        "id": collection.id,
        "title": collection.title,
        "description": collection.description,
        "itemType": "feature",
        "crs": [CRS84],
        "storageCrs": CRS84,
        "links": [
            {"href": _url(request, base), "rel": "self", "type": "application/json"},
            {"href": _url(request, f"{base}/items"), "rel": "items", "type": GEOJSON, "title": "要素"},
            {"href": _url(request, f"{base}/queryables"), "rel": "http://www.opengis.net/def/rel/ogc/1.0/queryables",
             "type": "application/schema+json"},
        ],
    }
    if extent is not None:
        doc["extent"] = {"spatial": {"bbox": [list(extent)], "crs": CRS84}}
    return doc


@router.get("/collections", summary="Feature collections")
def collections(request: Request, f: FormatQuery = None) -> dict[str, Any]:
    _check_format(f)
    return {
        "links": [{"href": _url(request, "/ogc/collections"), "rel": "self", "type": "application/json"}],
        "collections": [_collection_doc(request, c) for c in COLLECTIONS.values()],
    }


@router.get("/collections/{collection_id}", summary="One feature collection")
def collection(request: Request, collection_id: str, f: FormatQuery = None) -> dict[str, Any]:
    _check_format(f)
    return _collection_doc(request, _collection(collection_id))


@router.get("/collections/{collection_id}/queryables", summary="Queryable properties (JSON Schema)")
def queryables(request: Request, collection_id: str) -> JSONResponse:
    coll = _collection(collection_id)
    props = {p.name: {"title": p.title, "type": p.type} for p in coll.properties if p.queryable}
    body = {
        "$schema": "https://json-schema.org/draft/2019-09/schema",
        "$id": _url(request, f"/ogc/collections/{coll.id}/queryables"),
        "type": "object",
        "title": coll.title,
        "properties": props,
    }
    return JSONResponse(body, media_type="application/schema+json")


@router.get(
    "/collections/{collection_id}/items",
    summary="Features of a collection",
    response_class=Response,
    responses={200: {"content": {GEOJSON: {}}}},
)
def items(
    request: Request,
    collection_id: str,
    paging: PagingDep,
    bbox: BBoxDep,
    f: FormatQuery = None,
    datetime: DatetimeQuery = None,
    crs: CrsQuery = None,
) -> Response:
    """Features ordered by id.  Other query parameters are equality filters on queryables."""
    _check_format(f)
    _check_crs(crs)
    _check_datetime(datetime)
    coll = _collection(collection_id)
    filters = property_filters(coll, {k: v for k, v in request.query_params.items() if k not in _ITEM_PARAMS})
    settings = api_settings(request)
    page = read_items(
        request.app.state.engine, coll, bbox=bbox, filters=filters,
        limit=paging.limit, offset=paging.offset, count_limit=settings.count_limit,
    )
    links = _page_links(request, coll, paging.limit, paging.offset, page.returned, page.matched)
    tail: dict[str, Any] = {"numberReturned": page.returned}
    if page.matched is not None:
        tail["numberMatched"] = page.matched
    tail["timeStamp"] = dt.datetime.now(dt.UTC).isoformat(timespec="seconds").replace("+00:00", "Z")
    tail["links"] = links
    features = _with_answers(request, coll, page.features)
    body = '{"type":"FeatureCollection","features":[' + features + "]," + json.dumps(tail, ensure_ascii=False)[1:]
    return Response(body.encode(), media_type=GEOJSON)


#: answer keys added to each park item: the row /metrics/density gives for the default question
PARK_ANSWER_PROPERTIES = (
    "year", "figure_year", "numerator", "basis", "value_yi_yuan", "area_km2", "density_yi_per_km2",
    "target_yi_per_km2", "attainment_pct", "gap_yi_per_km2", "status", "comparable_with_target",
    "numerator_source", "basis_source", "missing_reason",
)


def _with_answers(request: Request, coll: Collection, features: str) -> str:
    """Park items carry their density answer (the default question: latest year, the target's
    basis), from :func:`gis_service.answers.answer_density` like every other face."""
    if coll.id != "parks" or not features:
        return features
    try:
        answer = answer_density(request.app.state.engine, DensityQuestion())
    except NotFoundError:  # no figure or no target loaded yet: the items have no answer to carry
        return features
    by_park = {r["unit_id"]: r for r in answer.records()}
    parsed = json.loads("[" + features + "]")
    for feature in parsed:
        row = by_park.get(feature.get("id"))
        if row is not None:
            feature["properties"].update({f"answer_{k}": row[k] for k in PARK_ANSWER_PROPERTIES})
    return ",".join(json.dumps(f, ensure_ascii=False) for f in parsed)


def _page_links(
    request: Request, coll: Collection, limit: int, offset: int, returned: int, matched: int | None
) -> list[dict[str, str]]:
    path = f"/ogc/collections/{coll.id}/items"
    query = {k: v for k, v in request.query_params.items() if k not in {"limit", "offset"}}
    links = [
        {"href": _url(request, path, **query, limit=limit, offset=offset), "rel": "self", "type": GEOJSON},
        {"href": _url(request, f"/ogc/collections/{coll.id}"), "rel": "collection", "type": "application/json"},
    ]
    has_more = returned == limit and (matched is None or offset + returned < matched)
    if has_more:
        links.append({"href": _url(request, path, **query, limit=limit, offset=offset + limit), "rel": "next",
                      "type": GEOJSON, "title": "下一页"})
    if offset > 0:
        links.append({"href": _url(request, path, **query, limit=limit, offset=max(0, offset - limit)),
                      "rel": "prev", "type": GEOJSON, "title": "上一页"})
    return links


@router.get(
    "/collections/{collection_id}/items/{feature_id}",
    summary="One feature",
    response_class=Response,
    responses={200: {"content": {GEOJSON: {}}}},
)
def item(request: Request, collection_id: str, feature_id: str, f: FormatQuery = None, crs: CrsQuery = None) -> Response:
    _check_format(f)
    _check_crs(crs)
    coll = _collection(collection_id)
    try:
        fid = int(feature_id)
    except ValueError:
        raise NotFoundError(f"no feature '{feature_id}' in '{coll.id}' (ids are integers)") from None
    if not -(2**63) <= fid < 2**63:
        raise NotFoundError(f"no feature '{feature_id}' in '{coll.id}'")
    feature = read_feature(request.app.state.engine, coll, fid)
    if feature is None:
        raise NotFoundError(f"no feature {fid} in '{coll.id}'")
    links = [
        {"href": _url(request, f"/ogc/collections/{coll.id}/items/{fid}"), "rel": "self", "type": GEOJSON},
        {"href": _url(request, f"/ogc/collections/{coll.id}"), "rel": "collection", "type": "application/json"},
    ]
    feature = _with_answers(request, coll, feature)
    body = feature[:-1] + ',"links":' + json.dumps(links) + "}"
    return Response(body.encode(), media_type=GEOJSON)
