"""A small, hand-checkable data set for the web tests (all geometry synthetic, flagged so).

Two towns split a 0.4° x 0.3° test district; three parks:

- 测试西园 (approximate boundary 121.10-121.12 E, 31.00-31.02 N): 2020 产值 100 亿元,
  管辖面积 2.0 km² -> 50 亿元/km² on the published area; one supplied industrial
  parcel 121.100-121.110 x 31.000-31.010 and one residential parcel.
- 测试东园 (surveyed, 121.30-121.31 x 31.05-31.06): 产值 120 亿元, 管辖面积 0.5 km²
  -> 240 亿元/km²; one supplied industrial parcel covering it.
- 测试无数据园 (approximate): no published output (missing, never 0).
"""

from __future__ import annotations

import datetime as dt

from geoalchemy2.shape import from_shape
from shapely.geometry import LineString, MultiLineString, MultiPolygon, box
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from gis_service.db.models import (
    District,
    GeometryQuality,
    Indicator,
    LandParcel,
    Park,
    ParkBoundary,
    ParkKind,
    Road,
    Sizhi,
    Target,
    TargetNature,
    Town,
    Zone,
    ZoneKind,
    ZoneTown,
)

SRC = "test_sample.py"
APPROX = GeometryQuality.approximate
WEST_BOX = (121.10, 31.00, 121.12, 31.02)
EAST_BOX = (121.30, 31.05, 121.31, 31.06)
NODATA_BOX = (121.20, 31.10, 121.21, 31.11)
WEST_PARCEL = (121.100, 31.000, 121.110, 31.010)
WEST_SIZHI = "东至甲路,南至乙路,西至丙河,北至丁路"
#: the shape gis_service.sizhi.parse(...).to_dict() stores
WEST_SIZHI_PARSED = {"parts": [{"label": None,
                                "east": [{"name": "甲路", "kind": "road", "offset": None}],
                                "south": [{"name": "乙路", "kind": "road", "offset": None}],
                                "west": [{"name": "丙河", "kind": "river", "offset": None}],
                                "north": [{"name": "丁路", "kind": "road", "offset": None}]}]}


def mp(bounds: tuple[float, float, float, float]) -> object:
    return from_shape(MultiPolygon([box(*bounds)]), 4326)


def ml(*coords: tuple[float, float]) -> object:
    return from_shape(MultiLineString([LineString(coords)]), 4326)


def load_web_sample(engine: Engine) -> dict[str, int]:
    """Insert the sample; returns the ids of the parks by short key (west, east, nodata)."""
    with Session(engine) as s, s.begin():
        d = District(adcode="310117", name="松江区(测试)", geom=mp((121.0, 30.9, 121.4, 31.2)),
                     geometry_quality=APPROX, source_document=SRC, source_section="district")
        s.add(d)
        s.flush()
        west = Town(district_id=d.id, name="甲镇", kind="镇", geom=mp((121.0, 30.9, 121.2, 31.2)),
                    geometry_quality=APPROX, source_document=SRC)
        east = Town(district_id=d.id, name="乙街道", kind="街道", geom=mp((121.2, 30.9, 121.4, 31.2)),
                    geometry_quality=APPROX, source_document=SRC)
        s.add_all([west, east])
        s.flush()
        pian = Zone(code="pian-test", name="产城融合示范片区", kind=ZoneKind.pian, geom=mp((121.2, 30.9, 121.4, 31.2)),
                    geometry_quality=APPROX, source_document=SRC)
        corridor = Zone(code="g60", name="G60科创走廊", kind=ZoneKind.corridor, geom=mp((121.0, 31.0, 121.4, 31.05)),
                        geometry_quality=APPROX, source_document=SRC)
        area = Zone(code="g60-a1", name="临港松江科技城(测试)", kind=ZoneKind.corridor_area,
                    geom=mp((121.28, 31.03, 121.33, 31.07)), geometry_quality=APPROX, source_document=SRC)
        s.add_all([pian, corridor, area])
        s.flush()
        s.add(ZoneTown(zone_id=pian.id, town_id=east.id, source_document=SRC))
        ids: dict[str, int] = {}
        for key, name, bounds, quality in (
            ("west", "测试西园", WEST_BOX, APPROX),
            ("east", "测试东园", EAST_BOX, GeometryQuality.surveyed),
            ("nodata", "测试无数据园", NODATA_BOX, APPROX),
        ):
            park = Park(code=f"test-{key}", name=name, kind=ParkKind.block)
            s.add(park)
            s.flush()
            ids[key] = park.id
            s.add(ParkBoundary(park_id=park.id, geom=mp(bounds), valid_from=dt.date(2015, 1, 1),
                               geometry_quality=quality, method="test boxes", source_document=SRC,
                               source_section=key))
        s.add(Sizhi(park_id=ids["west"], raw_text=WEST_SIZHI, parsed=WEST_SIZHI_PARSED,
                    source_document="004_a9d02975ccfca6ed.txt", source_section="附件"))
        for key, metric, value, unit in (("west", "output", 100, "亿元"), ("west", "jurisdiction_area", 2.0, "km²"),
                                         ("east", "output", 120, "亿元"), ("east", "jurisdiction_area", 50, "公顷"),
                                         ("nodata", "jurisdiction_area", 1.1, "km²")):
            s.add(Indicator(park_id=ids[key], year=2020, metric_code=metric, value=value, unit=unit,
                            source_document="004_a9d02975ccfca6ed.txt", source_section="附件"))
        s.add(Target(code="t001_09", scope="songjiang", category="产业", name="工业园区单位土地产值",
                     metric_code="output", basis="supplied_industrial_land", year=2025, value=80, unit="亿元/km²",
                     nature=TargetNature.expected, source_document="001_13d6efb69ed95403.txt", source_section="表1 #9"))
        s.add_all([
            LandParcel(external_id="w1", geom=mp(WEST_PARCEL), land_use_code="M1", land_use_class="industrial",
                       is_supplied=True, supply_year=2012, is_built=True, is_synthetic=True, source_document=SRC),
            LandParcel(external_id="w2", geom=mp((121.110, 31.010, 121.120, 31.020)), land_use_code="R2",
                       land_use_class="residential", is_supplied=True, is_built=True, is_synthetic=True,
                       source_document=SRC),
            LandParcel(external_id="e1", geom=mp(EAST_BOX), land_use_code="M1", land_use_class="industrial",
                       is_supplied=True, supply_year=2010, is_built=True, is_synthetic=True, source_document=SRC),
        ])
        s.add_all([
            Road(name="甲路", kind="road", geom=ml((121.12, 30.99), (121.12, 31.03)), geometry_quality=APPROX,
                 source_document=SRC),
            Road(name="乙路", kind="road", geom=ml((121.09, 31.00), (121.13, 31.00)), geometry_quality=APPROX,
                 source_document=SRC),
            Road(name="远路", kind="road", geom=ml((121.35, 31.15), (121.36, 31.16)), geometry_quality=APPROX,
                 source_document=SRC),
        ])
    return ids
