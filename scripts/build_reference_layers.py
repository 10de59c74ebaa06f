"""Regenerate the approximate reference layers: roads, towns, 三片 and 一廊九区.

Nothing here is survey data.  No surveyed road, town or zone geometry is available
offline, so these layers are *approximate digitisations* written from general
knowledge of Songjiang's layout, and every feature says so (``geometry_quality =
approximate`` and a ``note``).  A planning office replaces any of them with its own
file through ``gis_service.ingest.load_layer``.

Layers written (all EPSG:4326):

- ``data/layers/roads.geojson``: centrelines of every feature named in the seven 四至
  texts of 004 附件, and of the G60, G15 and G1501 expressways across the district.
  The lines are placed so that the features named on the four sides of each park
  block enclose an area close to its published 管辖面积 (jurisdiction area); the
  coordinates below are metres east/north of a local origin (121.20 E, 31.05 N) in
  EPSG:4549.  Local streets are drawn only over the stretch a 四至 refers to.
- ``data/boundaries/towns.geojson``: the 17 towns (镇) and sub-districts (街道) as a
  Voronoi partition of approximate town-seat points, clipped to the district.
- ``data/boundaries/zones.geojson`` and ``data/layers/zone_town.csv``: the 三片
  (three sub-areas, unions of towns per 001 四(二)3), the G60 corridor (line and
  area) and its nine function areas (schematic discs).

Run: ``.venv/bin/python scripts/build_reference_layers.py``
"""

from __future__ import annotations

import csv
from pathlib import Path

import geopandas as gpd
import numpy as np
import shapely
from pyproj import Transformer
from shapely.geometry import LineString, MultiLineString, MultiPolygon, Point, Polygon
from shapely.ops import unary_union

ROOT = Path(__file__).resolve().parents[1]
DISTRICT = ROOT / "data" / "boundaries" / "songjiang_district.geojson"
ROADS_OUT = ROOT / "data" / "layers" / "roads.geojson"
TOWNS_OUT = ROOT / "data" / "boundaries" / "towns.geojson"
ZONES_OUT = ROOT / "data" / "boundaries" / "zones.geojson"
ZONE_TOWN_OUT = ROOT / "data" / "layers" / "zone_town.csv"

METRIC_CRS = 4549  # CGCS2000 / 3-degree Gauss-Kruger CM 120E: covers Songjiang
ORIGIN_LONLAT = (121.20, 31.05)

ROAD_SOURCE = (
    "approximate digitisation from general knowledge of the street layout, not survey "
    "(scripts/build_reference_layers.py)"
)
SIZHI_SOURCE = "004_a9d02975ccfca6ed.txt"

# --------------------------------------------------------------------------- roads
# name -> (kind, [polyline, ...]); polylines in metres east/north of ORIGIN_LONLAT.
# Which 四至 names each feature is given in the comment: "B1" = 松江工业区西区,
# "B2" = 环大学城科创园, "B3" = 松江工业区北区(中山工业园), "B4" = 临港松江科技城,
# "B5" = 洞泾智能机器人产业基地, "B6" = G60电子信息国际创新创业园, "B7" = 莘莘学子创业园.
Polyline = list[tuple[float, float]]
ROADS: dict[str, tuple[str, list[Polyline]]] = {
    # Expressways across the whole district.
    "G60高速公路": ("expressway", [[
        (-17170, -12750), (-14310, -11650), (-11450, -10870), (-9000, -9500), (-8600, -7000),
        (-8000, -3800), (-6150, -2950), (-4000, -2900), (-2200, -2870), (0, -2600),
        (2500, -1800), (5200, -1100), (6200, -800), (9000, 600), (12500, 2600), (15300, 5300),
    ]]),  # B1 south, B3 south, B4 south (along its 开发边界)
    "G1501高速公路": ("expressway", [[
        (-5800, 6500), (-6100, 2500), (-6150, -3000), (-6500, -8000), (-5500, -16000),
    ]]),  # B1 west
    "G15沈海高速": ("expressway", [[
        (5300, 9500), (5810, 5600), (5830, 5000), (7500, 0), (8600, -5000), (9000, -7000),
        (9300, -10000), (9500, -15500),
    ]]),  # B5 east (泗泾部分), B7 east
    # B1 松江工业区西区
    "广富林路": ("road", [[(-4400, 1450), (6000, 1450)]]),  # B1 north, B2 north
    "鼎松路": ("road", [[(-4200, 1200), (-4200, 2500)]]),
    "花辰公路": ("road", [[(-6900, 2300), (-3800, 2300)]]),
    "鼎兴路": ("road", [[(-2200, 1700), (-2200, -3100)]]),
    "文翔路北第二条规划路": ("planned_road", [[(-2500, -350), (-1800, -350)]]),
    "文翔路": ("road", [[(-2600, -800), (1750, -800)]]),
    "文吉路": ("road", [[(-2800, -1800), (-1000, -1800)]]),
    # B2 环大学城科创园
    "人民北路": ("road", [[(1750, -4500), (1750, 5000)]]),
    "文汇路": ("road", [[(-1500, 0), (4000, 0)]]),
    "环大学城科创园西侧河道": ("river", [[(0, -300), (0, 400)]]),
    "龙源路": ("road", [[(150, -300), (150, 1700)]]),
    # B3 松江工业区北区(中山工业园)
    "文翔东路": ("road", [[(6000, -800), (7400, -800)]]),
    "中凯路": ("road", [[(5200, -1600), (5200, 1000)]]),
    "张泾河": ("river", [[(7000, -1500), (7000, 1200)]]),
    "牛张港": ("river", [[(4900, 700), (6000, 700), (6300, 400)]]),
    "夏家浜路": ("road", [[(5800, 600), (7150, 600)]]),
    # B4 临港松江科技城
    "中心路": ("road", [[(12200, 2000), (12200, 3700)]]),
    "G60高速开发边界": ("development_boundary", [[(10400, 1500), (12600, 2757)]]),
    "长陆泾": ("river", [[(10800, 1400), (10800, 3300)]]),
    "莘松路": ("road", [[(8000, 1500), (11300, 3400)]]),
    "九新公路": ("road", [[(11000, 2900), (11000, 3900)]]),
    "姚北公路": ("road", [[(10400, 3420), (12600, 3420)]]),
    # B5 洞泾智能机器人产业基地 (洞泾部分 north of the 开发边界, 泗泾部分 south of it)
    "泗砖公路": ("road", [[(4480, 4800), (4480, 6400)]]),
    "高技路": ("road", [[(5340, 4900), (5340, 6300)]]),
    "陈泾路": ("road", [[(4200, 6050), (5600, 6050)]]),
    "洞泾泗泾两部之间开发边界": ("development_boundary", [[(4300, 5600), (6000, 5600)]]),
    "长浜路": ("road", [[(4800, 5150), (5300, 5150), (5380, 5300), (6100, 5300)]]),
    "长施南路": ("road", [[(4950, 4900), (4950, 5350)]]),
    "莘砖公路": ("road", [[(4200, 5050), (5100, 5050)]]),
    # B6 G60电子信息国际创新创业园
    "茸华路": ("road", [[(5800, -4200), (5800, -6200)]]),
    "俞塘河": ("river", [[(4900, -4450), (6100, -4450)]]),
    "茸江路": ("road", [[(5000, -4300), (5000, -4800)]]),
    "南乐路": ("road", [[(5300, -4650), (4300, -4650), (4300, -6200)]]),
    "华哲路": ("road", [[(4100, -5650), (4900, -5650)]]),
    "华恒路": ("road", [[(4800, -5500), (4800, -5850)], [(5450, -5800), (6000, -5800)]]),
    "加委路": ("road", [[(4700, -5750), (5300, -5750)]]),
    "华扩路": ("road", [[(5200, -5650), (5200, -6000)]]),
    "北沪泾河": ("river", [[(5000, -5900), (5550, -5900), (5550, -5700)]]),
    # B7 莘莘学子创业园
    "北松公路": ("road", [[(7700, -7900), (7700, -6650), (9200, -6650)]]),
    "盐铁塘": ("river", [[(7400, -7500), (9400, -7500)]]),
    "盐铁塘开发边界": ("development_boundary", [[(7500, -7480), (9300, -7480)]]),
}

ROAD_NOTES: dict[str, str] = {
    "G60高速公路": "G60 沪昆高速 (named 'G60高速公路' as in 004 附件); approximate centreline across the district.",
    "G1501高速公路": "G1501 上海绕城高速; approximate centreline across the district.",
    "G15沈海高速": "G15 沈海高速 (also written '沈海(G15)高速公路' in 004 附件); approximate centreline.",
    "环大学城科创园西侧河道": (
        "The unnamed watercourse ('河道') of the west side of 环大学城科创园's 四至, given a descriptive "
        "name here so that it can be found; position approximate."
    ),
    "洞泾泗泾两部之间开发边界": (
        "The unnamed '开发边界' of 洞泾智能机器人产业基地's 四至 (south of the 洞泾 part, north of the 泗泾 "
        "part), given a descriptive name here; schematic line."
    ),
    "G60高速开发边界": "Development boundary along the G60 at 临港松江科技城; schematic line 100 m north of the G60.",
    "盐铁塘开发边界": "Development boundary along 盐铁塘 at 莘莘学子创业园; schematic line.",
    "文翔路北第二条规划路": "Planned road ('second planned road north of 文翔路'); schematic position.",
    "华恒路": "Drawn as two stretches, as the 四至 of G60电子信息国际创新创业园 names it twice.",
}

# ------------------------------------------------------------------------ towns
# Approximate town-seat (镇政府/街道办事处) positions, WGS84 lon/lat, from general
# knowledge; they seed a Voronoi partition and are not survey points.
TOWN_SEATS: dict[str, tuple[str, float, float]] = {
    "岳阳街道": ("街道", 121.235, 31.005),
    "永丰街道": ("街道", 121.200, 31.010),
    "方松街道": ("街道", 121.215, 31.033),
    "中山街道": ("街道", 121.255, 31.015),
    "广富林街道": ("街道", 121.195, 31.060),
    "九里亭街道": ("街道", 121.330, 31.135),
    "泗泾镇": ("镇", 121.265, 31.118),
    "佘山镇": ("镇", 121.195, 31.100),
    "车墩镇": ("镇", 121.285, 30.975),
    "新桥镇": ("镇", 121.315, 31.060),
    "洞泾镇": ("镇", 121.230, 31.090),
    "九亭镇": ("镇", 121.320, 31.110),
    "泖港镇": ("镇", 121.170, 30.945),
    "石湖荡镇": ("镇", 121.110, 30.975),
    "新浜镇": ("镇", 121.055, 30.945),
    "叶榭镇": ("镇", 121.300, 30.935),
    "小昆山镇": ("镇", 121.125, 31.045),
}

# ------------------------------------------------------------------------- 三片
PIAN_SOURCE_DOCUMENT = "001_13d6efb69ed95403.txt"
PIAN_SOURCE_SECTION = "四、(二)重点区域布局 3.(对接全区空间布局战略,促进“三片”区域产业协调发展)"
# 001 writes 佘山 as "余山" (an OCR/typesetting artefact); the town is 佘山镇.
PIAN: dict[str, tuple[str, list[str]]] = {
    "pian_chancheng": ("产城融合示范片区", ["新桥镇", "九亭镇", "九里亭街道", "泗泾镇", "洞泾镇"]),
    "pian_wenlv": ("文旅融合先行片区", ["佘山镇", "小昆山镇", "广富林街道"]),
    "pian_chengxiang": ("城乡融合绿色发展实践片区", ["叶榭镇", "泖港镇", "新浜镇", "石湖荡镇"]),
}

# ------------------------------------------------------------------------ 一廊九区
CORRIDOR_HALF_WIDTH_M = 4200.0
CORRIDOR_SOURCE_SECTION = "一、脚注3(“一廊九区”)"
# code -> (name, centre lon, lat, radius m, naming note)
NINE_AREAS: dict[str, tuple[str, float, float, float, str]] = {
    "area_lingang_kejicheng": ("临港松江科技城", 121.321, 31.074, 1200, "east start of the corridor"),
    "area_xincheng_shangwu": ("松江新城国际生态商务区", 121.225, 31.030, 1500, "around 松江新城"),
    "area_xincheng_zongbu": ("松江新城总部研发功能区", 121.263, 31.047, 1500, "around 松江新城; includes 松江工业区北区(中山工业园) per 004 附件"),
    "area_daxuecheng": ("松江大学城双创集聚区", 121.205, 31.058, 1500, "around 松江新城; 环大学城科创园 per 004 前言"),
    "area_jingkaiqu": ("国家级松江经济技术开发区", 121.285, 31.035, 2500, "manufacturing belt"),
    "area_dongjing_robot": ("洞泾智能机器人产业基地", 121.253, 31.100, 1200, "manufacturing belt"),
    "area_xibu_keji": ("松江西部科技园区", 121.157, 31.045, 2500, "manufacturing belt"),
    "area_zongbao_trade": ("松江综合保税区国际贸易功能区", 121.253, 31.003, 1200, "former 出口加工区, now 综合保税区"),
    "area_dianshang_wuliu": ("电子商务与现代物流功能区", 121.300, 30.990, 2000, "the e-commerce and modern-logistics wings, grouped as one area here"),
}
NINE_AREAS_NOTE = (
    "Schematic extent: a disc of approximate centre and radius, clipped to the district; "
    "the name follows the 2016 G60 科创走廊 announcement as summarised in shared/DOMAIN.md "
    "(001 footnote 3 defines 一廊九区 but lists no names); {extra}. Not a planning boundary."
)


def _to_metric() -> tuple[Transformer, Transformer, tuple[float, float]]:
    fwd = Transformer.from_crs(4326, METRIC_CRS, always_xy=True)
    inv = Transformer.from_crs(METRIC_CRS, 4326, always_xy=True)
    ox, oy = fwd.transform(*ORIGIN_LONLAT)
    return fwd, inv, (ox, oy)


def local_to_metric(points: Polyline) -> list[tuple[float, float]]:
    """Local metres (east, north of ORIGIN_LONLAT) to EPSG:4549 coordinates."""
    _, _, (ox, oy) = _to_metric()
    return [(ox + x, oy + y) for x, y in points]


def read_district_metric() -> Polygon | MultiPolygon:
    """The district boundary (committed file) in EPSG:4549."""
    return gpd.read_file(DISTRICT).to_crs(METRIC_CRS).geometry.iloc[0]


def build_roads(district_m: Polygon | MultiPolygon) -> gpd.GeoDataFrame:
    """The roads layer, clipped 30 m inside the district boundary, in EPSG:4326."""
    inner = district_m.buffer(-30)
    rows, geoms = [], []
    for name, (kind, lines) in ROADS.items():
        geom = MultiLineString([local_to_metric(line) for line in lines]).intersection(inner)
        if geom.is_empty:
            raise RuntimeError(f"road {name} lies outside the district")
        parts = [g for g in getattr(geom, "geoms", [geom]) if g.geom_type == "LineString"]
        geoms.append(MultiLineString(parts))
        rows.append(
            {
                "name": name,
                "kind": kind,
                "geometry_quality": "approximate",
                "source_document": ROAD_SOURCE,
                "note": ROAD_NOTES.get(
                    name,
                    "Approximate centreline; local streets drawn only over the stretch a 四至 in "
                    f"{SIZHI_SOURCE} 附件 refers to.",
                ),
            }
        )
    return gpd.GeoDataFrame(rows, geometry=geoms, crs=METRIC_CRS).to_crs(4326)


def build_towns(district_m: Polygon | MultiPolygon) -> gpd.GeoDataFrame:
    """Voronoi partition of the town seats clipped to the district (EPSG:4326)."""
    fwd, _, _ = _to_metric()
    names = list(TOWN_SEATS)
    xs, ys = fwd.transform([TOWN_SEATS[n][1] for n in names], [TOWN_SEATS[n][2] for n in names])
    seeds = shapely.MultiPoint(list(zip(xs, ys)))
    cells = shapely.voronoi_polygons(seeds, extend_to=district_m.buffer(5000))
    rows, geoms = [], []
    for name, x, y in zip(names, xs, ys):
        cell = next(c for c in cells.geoms if c.contains(Point(x, y)))
        part = cell.intersection(district_m)
        part = MultiPolygon([p for p in getattr(part, "geoms", [part]) if p.geom_type == "Polygon"])
        geoms.append(part)
        rows.append(
            {
                "name": name,
                "kind": TOWN_SEATS[name][0],
                "geometry_quality": "approximate",
                "source_document": "approximate partition (scripts/build_reference_layers.py)",
                "source_section": "Voronoi cells of approximate town-seat points, clipped to the district",
                "note": (
                    "Approximate: a Voronoi partition of approximate town-seat positions clipped to the "
                    "高德 district boundary, NOT the official town boundaries; area only indicative."
                ),
            }
        )
    return gpd.GeoDataFrame(rows, geometry=geoms, crs=METRIC_CRS).to_crs(4326)


def build_zones(
    towns: gpd.GeoDataFrame, roads: gpd.GeoDataFrame, district_m: Polygon | MultiPolygon
) -> tuple[gpd.GeoDataFrame, list[dict[str, str]]]:
    """三片 (union of their towns), the G60 corridor and the nine areas; plus zone_town rows."""
    towns_m = towns.to_crs(METRIC_CRS).set_index("name")
    rows, geoms, lines, memberships = [], [], [], []
    for code, (name, members) in PIAN.items():
        union = unary_union([towns_m.geometry[m] for m in members])
        geoms.append(_as_multipolygon(union))
        lines.append(None)
        rows.append(
            {
                "code": code,
                "name": name,
                "kind": "pian",
                "parent_code": None,
                "geometry_quality": "approximate",
                "source_document": PIAN_SOURCE_DOCUMENT,
                "source_section": PIAN_SOURCE_SECTION,
                "note": (
                    "Membership exactly as listed in 001 四(二)3 (佘山 written '余山' there); geometry is the "
                    "union of the approximate town polygons, so approximate. 岳阳, 永丰, 方松, 中山 and 车墩 are "
                    "not assigned to any 片 by the text and stay unassigned."
                ),
            }
        )
        memberships += [
            {
                "zone_code": code,
                "town_name": m,
                "source_document": PIAN_SOURCE_DOCUMENT,
                "source_section": PIAN_SOURCE_SECTION,
            }
            for m in members
        ]

    g60 = roads.to_crs(METRIC_CRS).set_index("name").geometry["G60高速公路"]
    corridor = g60.buffer(CORRIDOR_HALF_WIDTH_M).intersection(district_m)
    geoms.append(_as_multipolygon(corridor))
    lines.append(g60)
    rows.append(
        {
            "code": "g60_corridor",
            "name": "G60科创走廊(松江段)",
            "kind": "corridor",
            "parent_code": None,
            "geometry_quality": "approximate",
            "source_document": PIAN_SOURCE_DOCUMENT,
            "source_section": CORRIDOR_SOURCE_SECTION,
            "note": (
                "一廊 of 一廊九区. Centreline = the approximate G60 centreline of the roads layer; area = "
                f"a {CORRIDOR_HALF_WIDTH_M / 1000:g} km buffer each side clipped to the district, a schematic "
                "stand-in for the ~283 km² corridor of the 2016 announcement (shared/DOMAIN.md). Approximate."
            ),
        }
    )
    fwd, _, _ = _to_metric()
    for code, (name, lon, lat, radius, extra) in NINE_AREAS.items():
        x, y = fwd.transform(lon, lat)
        geoms.append(_as_multipolygon(Point(x, y).buffer(radius).intersection(district_m)))
        lines.append(None)
        rows.append(
            {
                "code": code,
                "name": name,
                "kind": "corridor_area",
                "parent_code": "g60_corridor",
                "geometry_quality": "approximate",
                "source_document": PIAN_SOURCE_DOCUMENT,
                "source_section": CORRIDOR_SOURCE_SECTION,
                "note": NINE_AREAS_NOTE.format(extra=extra),
            }
        )
    zones = gpd.GeoDataFrame(rows, geometry=geoms, crs=METRIC_CRS)
    zones["centerline_wkt"] = [
        None if ln is None else shapely.to_wkt(_line_to_4326(ln), rounding_precision=7) for ln in lines
    ]
    return zones.to_crs(4326), memberships


def _line_to_4326(line: shapely.Geometry) -> shapely.Geometry:
    _, inv, _ = _to_metric()
    return shapely.transform(line, lambda c: np.column_stack(inv.transform(c[:, 0], c[:, 1])))


def _as_multipolygon(geom: shapely.Geometry) -> MultiPolygon:
    polys = [g for g in getattr(geom, "geoms", [geom]) if g.geom_type == "Polygon" and g.area > 1.0]
    return MultiPolygon(polys)


def main() -> None:
    district_m = read_district_metric()
    roads = build_roads(district_m)
    towns = build_towns(district_m)
    zones, memberships = build_zones(towns, roads, district_m)
    for path in (ROADS_OUT, TOWNS_OUT, ZONES_OUT):
        path.parent.mkdir(parents=True, exist_ok=True)
    roads.to_file(ROADS_OUT, driver="GeoJSON", COORDINATE_PRECISION=7)
    towns.to_file(TOWNS_OUT, driver="GeoJSON", COORDINATE_PRECISION=7)
    zones.to_file(ZONES_OUT, driver="GeoJSON", COORDINATE_PRECISION=7)
    with ZONE_TOWN_OUT.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.DictWriter(fh, fieldnames=["zone_code", "town_name", "source_document", "source_section"])
        writer.writeheader()
        writer.writerows(memberships)
    town_area = towns.to_crs(METRIC_CRS).area / 1e6
    print(f"roads: {len(roads)} features; towns: {len(towns)} (sum {town_area.sum():.2f} km²)")
    for name, a in zip(towns["name"], town_area):
        print(f"  {name}: {a:.1f} km²")
    for _, z in zones.to_crs(METRIC_CRS).iterrows():
        print(f"  zone {z['code']} {z['name']}: {z.geometry.area / 1e6:.1f} km²")


if __name__ == "__main__":
    main()
