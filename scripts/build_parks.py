"""Rebuild data/boundaries/park_blocks.geojson: the park polygons from their 四至.

For each block of 张江高新区松江园 in ``data/layers/parks.csv`` the 四至 text (verbatim
from 004 附件) is parsed and built over the approximate roads layer
(``data/layers/roads.geojson``) with :func:`gis_service.sizhi.build`.  The result is
approximate by construction: road centrelines that are themselves approximate, and
offsets as stated in the text.  Each feature records the published 管辖面积 next to
the measured area (EPSG:4549).

The parent park 张江高新区松江园 has no 四至 of its own; its polygon is the union of
its blocks, flagged as derived (``method``).

Run: ``.venv/bin/python scripts/build_parks.py``.  Blocks whose 四至 cannot be built
are reported and left out (the loader and the QA report then show them without a
boundary), never replaced by a made-up shape.
"""

from __future__ import annotations

import csv
import dataclasses
import sys
from pathlib import Path

import geopandas as gpd
import shapely
from shapely.geometry import MultiPolygon

from gis_service.errors import GisServiceError
from gis_service.sizhi import Sizhi, build, parse

ROOT = Path(__file__).resolve().parents[1]
PARKS = ROOT / "data" / "layers" / "parks.csv"
INDICATORS = ROOT / "data" / "layers" / "indicators.csv"
ROADS = ROOT / "data" / "layers" / "roads.geojson"
OUT = ROOT / "data" / "boundaries" / "park_blocks.geojson"
METRIC_CRS = 4549
VALID_FROM = "2020-01-01"
METHOD = "built from the 四至 text (004 附件) over approximate road centrelines by gis_service.sizhi.build"
#: Generic features of a 四至 (河道, 开发边界) name no line a roads layer can find.  Where the
#: roads layer digitised the one meant, it carries a descriptive name, and this table says
#: which; the 四至 text itself stays verbatim.  (park code, generic name) -> road name.
GENERIC_FEATURE_LINES: dict[tuple[str, str], str] = {
    ("sj_daxuecheng", "河道"): "环大学城科创园西侧河道",
    ("sj_dongjing", "开发边界"): "洞泾泗泾两部之间开发边界",
}
DERIVED_METHOD = "derived: union of its block polygons (the park has no 四至 of its own)"


def published_areas() -> dict[str, float]:
    """Published 管辖面积 (km²) per park code, from the indicators file."""
    with INDICATORS.open(encoding="utf-8") as fh:
        return {
            r["scope_code"]: float(r["value"])
            for r in csv.DictReader(fh)
            if r["scope_type"] == "park" and r["metric_code"] in ("jurisdiction_area", "published_area")
        }


def main() -> int:
    roads = gpd.read_file(ROADS)
    areas = published_areas()
    with PARKS.open(encoding="utf-8") as fh:
        parks = list(csv.DictReader(fh))
    rows, geoms, failed = [], [], []
    for park in parks:
        if park["kind"] != "block":
            continue
        try:
            sizhi, resolved = resolve_generic(park["code"], parse(park["sizhi_text"]))
            result = build(sizhi, roads)
        except GisServiceError as exc:
            failed.append(f"{park['name']}: {exc}")
            continue
        method = METHOD + "".join(f"; generic '{g}' taken as the line '{r}'" for g, r in resolved)
        rows.append(_props(park, areas.get(park["code"]), result.area_km2, method))
        geoms.append(result.polygon)
    for park in parks:
        if park["kind"] != "park":
            continue
        children = [g for g, r in zip(geoms, rows) if _parent(parks, r["code"]) == park["code"]]
        if children:
            union = shapely.union_all(children)
            union = union if isinstance(union, MultiPolygon) else MultiPolygon([union])
            area = gpd.GeoSeries([union], crs=4326).to_crs(METRIC_CRS).area.iloc[0] / 1e6
            rows.append(_props(park, areas.get(park["code"]), area, DERIVED_METHOD))
            geoms.append(union)
    frame = gpd.GeoDataFrame(rows, geometry=geoms, crs=4326)
    frame.to_file(OUT, driver="GeoJSON", COORDINATE_PRECISION=7)
    for r in rows:
        ratio = "" if r["published_area_km2"] is None else f" ({r['measured_area_km2'] / r['published_area_km2']:.0%})"
        print(f"{r['name']}: measured {r['measured_area_km2']:.2f} km², published {r['published_area_km2']}{ratio}")
    for f in failed:
        print(f"NOT BUILT {f}", file=sys.stderr)
    return 1 if failed else 0


def resolve_generic(code: str, sizhi: Sizhi) -> tuple[Sizhi, list[tuple[str, str]]]:
    """Point the generic features of one park's 四至 at the named lines meant (see table)."""
    used: list[tuple[str, str]] = []

    def fix(segments: tuple) -> tuple:  # type: ignore[type-arg]
        out = []
        for seg in segments:
            target = GENERIC_FEATURE_LINES.get((code, seg.name))
            if target:
                used.append((seg.name, target))
                seg = dataclasses.replace(seg, name=target)
            out.append(seg)
        return tuple(out)

    parts = tuple(
        dataclasses.replace(p, east=fix(p.east), south=fix(p.south), west=fix(p.west), north=fix(p.north))
        for p in sizhi.parts
    )
    return dataclasses.replace(sizhi, parts=parts), list(dict.fromkeys(used))


def _parent(parks: list[dict[str, str]], code: str) -> str | None:
    return next((p["parent_code"] for p in parks if p["code"] == code), None)


def _props(park: dict[str, str], published: float | None, measured: float, method: str) -> dict[str, object]:
    return {
        "code": park["code"],
        "name": park["name"],
        "published_area_km2": published,
        "measured_area_km2": round(measured, 4),
        "geometry_quality": "approximate",
        "method": method,
        "valid_from": VALID_FROM,
        "source_document": park["source_document"],
        "source_section": park["source_section"] or "附件",
        "note": "Approximate boundary, not survey: built from 四至 over approximate road centrelines.",
    }


if __name__ == "__main__":
    raise SystemExit(main())
