"""Routes serving the Folium maps and their offline assets.

``/`` is the district overview, ``/maps/parks/{id|code}`` one park.  Every error of these
HTML routes (a bad parameter, an unknown park, a year without data) is a Chinese HTML page
listing the valid choices (:class:`HtmlPageRoute`, the one place), not the API's JSON.  Query parameters
choose the year, numerator, basis and target and the basemap variant (``amap`` gives
the 高德 basemap with overlays converted to GCJ-02).  Pages are cached per data version.
"""

from __future__ import annotations

import inspect
import json
import time
from collections.abc import Callable, Coroutine
from typing import Annotated, Any, Literal

from fastapi import APIRouter, FastAPI, Path, Query, Request
from fastapi.responses import HTMLResponse, Response
from fastapi.routing import APIRoute
from fastapi.staticfiles import StaticFiles

from gis_service.answers import DensityQuestion
from gis_service.api.dependencies import api_settings
from gis_service.api.headers import NONCE_SLOT
from gis_service.maps import MapOptions, RenderCache, build_overview, build_park_map
from gis_service.maps.assets import STATIC_DIR, STATIC_URL
from gis_service.maps.error_page import error_page
from gis_service.store.versions import data_version


class HtmlPageRoute(APIRoute):
    """A route answering a page: any error (validation, domain, database) becomes the Chinese
    error page with the status the API would give (:func:`gis_service.maps.error_page.error_page`)."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def page_handler(request: Request) -> Response:
            try:
                return await handler(request)
            except Exception as exc:  # noqa: BLE001 - every error becomes a page, as the app's handlers would answer
                return await _error_page(request, exc)

        return page_handler


async def _error_page(request: Request, exc: Exception) -> Response:
    """The app's own answer to ``exc`` (status, description, headers) as a Chinese page."""
    handlers = request.app.exception_handlers
    handler = next((handlers[cls] for cls in type(exc).__mro__ if cls in handlers), None)
    if handler is None:
        raise exc
    answer = await handler(request, exc) if _is_async(handler) else handler(request, exc)
    body = json.loads(bytes(answer.body))
    page = error_page(request.app.state.engine, status=answer.status_code, description=str(body.get("description", "")),
                      problems=body.get("errors") or [], path=request.url.path,
                      query=dict(request.query_params))
    headers = {k: v for k, v in answer.headers.items() if k.lower() in ("retry-after", "www-authenticate")}
    return HTMLResponse(page, status_code=answer.status_code, headers=headers)


def _is_async(fn: object) -> bool:
    return inspect.iscoroutinefunction(fn)


#: what a page route answers on an error: the Chinese page, never JSON (documented so)
_HTML_ERROR = {"content": {"text/html": {"schema": {"type": "string"}}}}
router = APIRouter(tags=["maps"], route_class=HtmlPageRoute, responses={
    status: {**_HTML_ERROR, "description": text} for status, text in (
        (401, "需要 API 密钥(中文错误页)"), (404, "未找到(中文错误页,列出可选项)"),
        (422, "参数有误(中文错误页,列出可选的年份、口径、园区)"), (503, "数据库暂不可用(中文错误页)"))})

YearQuery = Annotated[int | None, Query(ge=1949, le=2100, description="数据年份 (default: latest with data)")]
NumeratorQuery = Annotated[str, Query(description="numerator metric code, e.g. output, revenue, tax")]
BasisQuery = Annotated[str | None, Query(description="basis, e.g. supplied_industrial_land, published_area")]
TargetQuery = Annotated[str | None, Query(description="target code (default 001 表1 #9)")]
BasemapQuery = Annotated[Literal["default", "amap"], Query(description="default (WGS84 basemaps) or amap (GCJ-02)")]


def mount_static(app: FastAPI) -> None:
    """Serve the vendored Leaflet/plugin assets under ``/static/maps`` (used in offline mode)."""
    app.mount(STATIC_URL, StaticFiles(directory=STATIC_DIR), name="map-static")


def _cache(request: Request) -> RenderCache:
    state = request.app.state
    if getattr(state, "map_cache", None) is None:
        state.map_cache = RenderCache(directory=api_settings(request).cache_dir)
    return state.map_cache  # type: ignore[no-any-return]


def _options(request: Request, basemap: str) -> MapOptions:
    s = api_settings(request)
    return MapOptions(variant=basemap, offline=s.offline, local_assets=s.local_assets, tianditu_key=s.tianditu_key, local_tile_url=s.local_tile_url,
                      local_tile_attribution=s.local_tile_attribution, overview_tolerance_m=s.overview_tolerance_m,
                      park_tolerance_m=s.park_tolerance_m, script_nonce=NONCE_SLOT)


def _question(year: int | None, numerator: str, basis: str | None, target: str | None) -> DensityQuestion:
    return DensityQuestion(year=year, numerator=numerator, basis=basis, target=target)


def _page(request: Request, kind: str, build, *key: object) -> HTMLResponse:  # type: ignore[no-untyped-def]
    started = time.perf_counter()
    cache_key = RenderCache.key(kind, data_version(request.app.state.engine), *key)
    page, cached = _cache(request).get_or_build(cache_key, build)
    elapsed_ms = (time.perf_counter() - started) * 1000
    return HTMLResponse(page, headers={"X-Map-Cache": "hit" if cached else "miss", "X-Render-Ms": f"{elapsed_ms:.0f}"})


@router.get("/", response_class=HTMLResponse, summary="区级总览地图")
def overview(request: Request, year: YearQuery = None, numerator: NumeratorQuery = "output", basis: BasisQuery = None,
             target: TargetQuery = None, basemap: BasemapQuery = "default") -> HTMLResponse:
    question = _question(year, numerator, basis, target)
    options = _options(request, basemap)
    return _page(request, "overview", lambda: build_overview(request.app.state.engine, question, options), question, options)


@router.get("/maps/parks/{park_id}", response_class=HTMLResponse, summary="单个园区地图")
def park_map(request: Request, park_id: Annotated[str, Path(max_length=100, description="园区 id 或代码(如 sj_west)")], year: YearQuery = None, numerator: NumeratorQuery = "output",
             basis: BasisQuery = None, target: TargetQuery = None, basemap: BasemapQuery = "default") -> HTMLResponse:
    question = _question(year, numerator, basis, target)
    options = _options(request, basemap)
    return _page(request, "park", lambda: build_park_map(request.app.state.engine, park_id, question, options),
                 park_id, question, options)


@router.get("/maps/intensity", response_class=HTMLResponse, summary="开发区土地集约利用评价地图")
def intensity_map(
    request: Request,
    year: Annotated[int, Query(ge=1949, le=2100, description="数据年份")],
    indicator: Annotated[str, Query(max_length=64, description="indicator key (floor_area_ratio…) or intensity_score")] = "floor_area_ratio",
    level: Annotated[str, Query(max_length=8, description="评价单元:park(园区,含区块)或 zone(片区、功能区)")] = "park",
    basemap: BasemapQuery = "default",
) -> HTMLResponse:
    from gis_service.maps.intensity_view import build_intensity_map, check_indicator
    from gis_service.metrics.intensity import check_level

    check_indicator(indicator)
    check_level(level)
    options = _options(request, basemap)
    return _page(request, "intensity", lambda: build_intensity_map(request.app.state.engine, year, indicator, options, level),
                 year, indicator, level, options)


@router.get("/data/land", response_class=HTMLResponse, summary="土地数据(已导入的现状调查、供地记录、地块登记)")
def land_data_page(request: Request) -> HTMLResponse:
    from gis_service.maps.data_page import build_land_page
    from gis_service.store.land import read_land_imports

    return HTMLResponse(build_land_page(read_land_imports(request.app.state.engine)))
