"""Typed query parameters shared by the routers.

Each parser raises :class:`ApiInputError` (an :class:`InputError`, hence a 422)
naming the parameter and what is wrong with it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Query, Request

from gis_service.api.config import ApiSettings
from gis_service.errors import InputError

CRS84 = "http://www.opengis.net/def/crs/OGC/1.3/CRS84"
#: CRS URIs accepted as the same lon/lat order WGS84 as the stored EPSG:4326 data
CRS84_ALIASES = {CRS84, "http://www.opengis.net/def/crs/OGC/1.3/CRS84h", "urn:ogc:def:crs:OGC:1.3:CRS84"}


class ApiInputError(InputError):
    """A query parameter is invalid; ``parameter`` names it."""

    def __init__(self, parameter: str, message: str) -> None:
        self.parameter = parameter
        super().__init__(f"{parameter}: {message}")


BBox = tuple[float, float, float, float]


def parse_bbox(raw: str | None, crs: str | None = None) -> BBox | None:
    """Parse ``minx,miny,maxx,maxy`` (lon/lat, CRS84) or the 6-number 3D form.

    Raises
    ------
    ApiInputError
        For anything but 4 or 6 finite numbers, reversed corners, out-of-range
        coordinates, or a ``bbox-crs`` other than CRS84.
    """
    if raw is None:
        return None
    if crs is not None and crs not in CRS84_ALIASES:
        raise ApiInputError("bbox-crs", f"only {CRS84} is supported, got {crs!r}")
    parts = raw.split(",")
    try:
        values = [float(p) for p in parts]
    except ValueError:
        raise ApiInputError("bbox", f"expected 4 comma-separated numbers, got {raw!r}") from None
    if len(values) == 6:
        values = [values[0], values[1], values[3], values[4]]
    if len(values) != 4 or not all(math.isfinite(v) for v in values):
        raise ApiInputError("bbox", f"expected 4 (or 6) finite numbers, got {raw!r}")
    minx, miny, maxx, maxy = values
    if not (-180 <= minx <= 180 and -180 <= maxx <= 180 and -90 <= miny <= 90 and -90 <= maxy <= 90):
        raise ApiInputError("bbox", f"coordinates must be lon in [-180, 180] and lat in [-90, 90], got {raw!r}")
    if minx > maxx or miny > maxy:
        raise ApiInputError("bbox", f"lower-left corner must come first (minx<=maxx, miny<=maxy), got {raw!r}")
    return minx, miny, maxx, maxy


def api_settings(request: Request) -> ApiSettings:
    return request.app.state.api_settings  # type: ignore[no-any-return]


#: the largest ``offset`` accepted: far beyond the largest collection (a land-use survey has about
#: 10^6 patches), and small enough that a huge number is refused here, naming the parameter,
#: rather than by PostgreSQL (bigint out of range)
MAX_OFFSET = 100_000_000


@dataclass(frozen=True)
class Paging:
    limit: int
    offset: int


def paging(
    request: Request,
    limit: Annotated[int | None, Query(ge=1, description="Features per page (at most the server maximum)")] = None,
    offset: Annotated[int, Query(ge=0, description=f"Features to skip (0..{MAX_OFFSET})")] = 0,
) -> Paging:
    """``limit``/``offset`` with the server maximum enforced (a 422 above it, never clamped silently)."""
    settings = api_settings(request)
    if limit is None:
        limit = settings.default_limit
    if limit > settings.max_limit:
        raise ApiInputError("limit", f"{limit} is over the maximum {settings.max_limit}")
    if offset > MAX_OFFSET:
        raise ApiInputError("offset", f"{offset} is outside the allowed range 0..{MAX_OFFSET}")
    return Paging(limit=limit, offset=offset)


PagingDep = Annotated[Paging, Depends(paging)]


def bbox_param(
    bbox: Annotated[str | None, Query(description="minx,miny,maxx,maxy in CRS84 (lon/lat)")] = None,
    bbox_crs: Annotated[str | None, Query(alias="bbox-crs")] = None,
) -> BBox | None:
    return parse_bbox(bbox, bbox_crs)


BBoxDep = Annotated[BBox | None, Depends(bbox_param)]


def check_tile(z: int, x: int, y: int) -> None:
    """Raise for a tile address outside the Web Mercator quadtree."""
    if not 0 <= z <= 24:
        raise ApiInputError("z", f"zoom must be within 0..24, got {z}")
    n = 1 << z
    if not (0 <= x < n and 0 <= y < n):
        raise ApiInputError("x/y", f"tile {z}/{x}/{y} is outside the grid (0..{n - 1} at zoom {z})")
