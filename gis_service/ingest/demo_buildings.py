"""``gis-service demo buildings``: synthetic building footprints on the demo land, imported for real.

Nothing here is real.  The footprints stand on the built cells of the demo survey
(:func:`gis_service.ingest.land.demo.demo_patches`: 工业用地, 物流仓储, 商业服务业 and 住宅 cells
inside the parks), one or two per 100 m cell, covering 35-60 % of it.  They are written the
way a surveying office delivers them — a zipped Shapefile with GBK attributes and no .cpg,
in CGCS2000 Gauss-Krüger with the zone prefix (EPSG:4528) — where about a quarter of the
buildings carry only 层数 (floors), so that the importer estimates their floor area and flags
it.  They go through :func:`gis_service.ingest.buildings.import_buildings` flagged synthetic,
so every intensity figure computed from them says so.  Run ``gis-service demo land`` first:
without the demo survey the buildings stand on no land and the industrial indicators are empty.
"""

from __future__ import annotations

import tempfile
from dataclasses import dataclass
from pathlib import Path

import geopandas as gpd
import numpy as np
import shapely
from sqlalchemy import Engine

from gis_service.coords.crs import AREA_CRS
from gis_service.ingest.buildings import BuildingImportResult, import_buildings
from gis_service.ingest.land.demo import DEMO_SEED, demo_patches, write_dltb_zip

DEMO_BUILDINGS_SOURCE = "演示数据(合成):gis-service demo buildings 生成,非真实建筑物普查"
#: survey codes a demo building stands on, with the floors drawn for it (low, high inclusive)
_FLOORS = {"0601": (1, 4), "0508": (1, 2), "05H1": (2, 8), "0701": (6, 18)}


@dataclass(frozen=True)
class DemoBuildings:
    file: Path
    result: BuildingImportResult


def demo_buildings(engine: Engine, directory: str | Path | None = None, *, year: int = 2020,
                   actor: str = "demo") -> DemoBuildings:
    """Write the demo buildings file (into ``directory``, else a temporary one) and import it."""
    if directory is None:
        with tempfile.TemporaryDirectory(prefix="gis-demo-buildings-") as tmp:
            return demo_buildings(engine, tmp, year=year, actor=actor)
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    path = write_dltb_zip(demo_footprints(demo_patches(engine)), directory / "demo_jzw_gbk_4528.zip", layer="JZW")
    result = import_buildings(engine, path, year=year, source=DEMO_BUILDINGS_SOURCE, actor=actor, is_synthetic=True)
    return DemoBuildings(path, result)


def demo_footprints(patches: gpd.GeoDataFrame, *, seed: int = DEMO_SEED) -> gpd.GeoDataFrame:
    """Footprints (EPSG:4549) on the built demo cells inside the parks, with 层数 and mostly 建筑面积."""
    rng = np.random.default_rng(seed + 2)
    built = patches[patches["in_park"] & patches["DLBM"].isin(list(_FLOORS))]
    cells = np.asarray(built.geometry.array)
    n = len(cells)
    twin = rng.random(n) < 0.3  # a third of the cells hold two buildings side by side
    x0, y0, x1, y1 = shapely.bounds(cells).T
    cover = rng.uniform(0.35, 0.6, n)
    side = np.sqrt(cover) * (x1 - x0)
    cx, cy = (x0 + x1) / 2, (y0 + y1) / 2
    one = shapely.box(cx - side / 2, cy - side / 2, cx + side / 2, cy + side / 2)
    left = shapely.box(cx - side / 2, cy - side / 2, cx - 2, cy + side / 2)
    right = shapely.box(cx + 2, cy - side / 2, cx + side / 2, cy + side / 2)
    geoms = np.concatenate([np.where(twin, left, one), right[twin]])
    codes = np.concatenate([built["DLBM"].to_numpy(), built["DLBM"].to_numpy()[twin]])
    low = np.array([_FLOORS[c][0] for c in codes])
    high = np.array([_FLOORS[c][1] for c in codes])
    floors = rng.integers(low, high + 1)
    floor_area = np.round(shapely.area(geoms) * floors * rng.uniform(0.97, 1.03, len(geoms)), 1)
    only_floors = rng.random(len(geoms)) < 0.25  # delivered without 建筑面积: the importer estimates it
    return gpd.GeoDataFrame(
        {
            "BSM": [f"JZW{i:08d}" for i in range(len(geoms))],
            "JZMC": [f"演示建筑{i + 1}" for i in range(len(geoms))],
            "建筑面积": np.where(only_floors, np.nan, floor_area),
            "层数": floors,
        },
        geometry=geoms,
        crs=AREA_CRS,
    )


__all__ = ["DEMO_BUILDINGS_SOURCE", "DemoBuildings", "demo_buildings", "demo_footprints"]
