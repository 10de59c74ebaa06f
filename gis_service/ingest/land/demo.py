"""``gis-service demo land``: a synthetic DLTB and 供地 list around the parks, imported for real.

Nothing here is real.  The files are written the way offices hold them — the survey as a
zipped Shapefile with GBK attributes, no .cpg, in CGCS2000 3-degree Gauss-Krüger *with* the
zone prefix (EPSG:4528); the supply list as a GeoPackage in CGCS2000 (EPSG:4490) — and go
through the same importers as an office's files, flagged synthetic (演示数据): every answer
computed from them says ``uses_synthetic_data`` and every map and report shows it.  The
demo is never loaded by default.

The patches are a 100 m grid (EPSG:4549) over each park's boundary plus a 300 m margin:
inside a park mostly 0601 工业用地 with roads, green, warehouses and water; outside, farmland,
village land and ponds.  About 85 % of the industrial patches inside the parks are supplied,
with contract dates from 2005 to 2023; a few were recovered (收回) and a few state an area
more than 5 % off the measured one, so the report has something to show.
"""

from __future__ import annotations

import datetime as dt
import tempfile
import zipfile
from dataclasses import dataclass
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from sqlalchemy import Engine

from gis_service.coords.crs import AREA_CRS
from gis_service.errors import NotFoundError
from gis_service.ingest.land.report import LandImportReport
from gis_service.ingest.land.supply import SupplyOptions, import_supply
from gis_service.ingest.land.survey import SurveyOptions, import_landuse
from gis_service.store.readers import read_parks

DEMO_SOURCE = "演示数据(合成):gis-service demo land 生成,非真实调查或供地记录"
DEMO_SEED = 20231231
CELL_M = 100.0
MARGIN_M = 300.0
ZONE_40_FALSE_EASTING_PREFIX = 40_000_000.0  # EPSG:4528 = EPSG:4549 with the zone number before x

#: (三调 code, name, weight) inside and outside the parks
_INSIDE = [("0601", "工业用地", 0.70), ("1004", "城镇村道路用地", 0.10), ("0810", "公园与绿地", 0.06),
           ("0508", "物流仓储用地", 0.05), ("05H1", "商业服务业设施用地", 0.04), ("1101", "河流水面", 0.03),
           ("0701", "城镇住宅用地", 0.02)]
_OUTSIDE = [("0101", "水田", 0.45), ("0702", "农村宅基地", 0.15), ("1006", "农村道路", 0.08), ("1104", "坑塘水面", 0.10),
            ("0301", "乔木林地", 0.07), ("1107", "沟渠", 0.05), ("0601", "工业用地", 0.10)]
_METHODS = np.array(["挂牌出让", "协议出让", "招标出让", "划拨"])


@dataclass(frozen=True)
class DemoLand:
    survey_file: Path
    supply_file: Path
    survey: LandImportReport
    supply: LandImportReport


def demo_land(engine: Engine, directory: str | Path | None = None, *, year: int = 2020, actor: str = "demo") -> DemoLand:
    """Write the demo files (into ``directory``, else a temporary one) and import them."""
    if directory is None:
        with tempfile.TemporaryDirectory(prefix="gis-demo-land-") as tmp:
            return demo_land(engine, tmp, year=year, actor=actor)
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    patches = demo_patches(engine)
    survey_file = write_dltb_zip(patches, directory / "demo_dltb_2020_gbk_4528.zip")
    supply_file = write_supply_gpkg(demo_supply(patches, year=year), directory / "demo_gongdi.gpkg")
    survey = import_landuse(engine, survey_file, SurveyOptions(year=year, source_document=DEMO_SOURCE, is_synthetic=True),
                            actor=actor)
    supply = import_supply(engine, supply_file, SupplyOptions(source_document=DEMO_SOURCE, is_synthetic=True), actor=actor)
    return DemoLand(survey_file, supply_file, survey, supply)


def demo_patches(engine: Engine, *, seed: int = DEMO_SEED) -> gpd.GeoDataFrame:
    """The DLTB-like patches (EPSG:4549): a partition of the parks' surroundings into 100 m cells."""
    parks = read_parks(engine)
    parks = parks[~parks.geometry.is_empty & parks.geometry.notna()]
    if parks.empty:
        raise NotFoundError("no park has a boundary in force: load the sample first (gis-service load-sample)")
    projected = parks.to_crs(AREA_CRS)
    inside = shapely.union_all(np.asarray(projected.geometry.array))
    minx, miny, maxx, maxy = shapely.bounds(inside.buffer(MARGIN_M))
    xs = np.arange(np.floor(minx / CELL_M) * CELL_M, maxx, CELL_M)
    ys = np.arange(np.floor(miny / CELL_M) * CELL_M, maxy, CELL_M)
    gx, gy = (a.ravel() for a in np.meshgrid(xs, ys))
    cells = shapely.box(gx, gy, gx + CELL_M, gy + CELL_M)
    near = shapely.intersects(inside.buffer(MARGIN_M), cells)
    cells, centres = cells[near], shapely.centroid(cells[near])
    in_park = shapely.contains(inside, centres)
    rng = np.random.default_rng(seed)
    codes = np.where(in_park, _draw(rng, _INSIDE, len(cells)), _draw(rng, _OUTSIDE, len(cells)))
    names = {c: n for c, n, _ in _INSIDE + _OUTSIDE}
    frame = gpd.GeoDataFrame(
        {
            "BSM": [f"310117{i:010d}" for i in range(len(cells))],
            "DLBM": codes,
            "DLMC": [names[c] for c in codes],
            "QSDWMC": np.where(in_park, "松江区国有", "松江区集体"),
            "ZLDWMC": "上海市松江区(演示)",
            "TBMJ": np.round(shapely.area(cells), 2),
            "in_park": in_park,
        },
        geometry=cells,
        crs=AREA_CRS,
    )
    return frame


def _draw(rng: np.random.Generator, table: list[tuple[str, str, float]], n: int) -> np.ndarray:
    codes = np.array([c for c, _, _ in table])
    weights = np.array([w for _, _, w in table])
    return codes[rng.choice(len(codes), size=n, p=weights / weights.sum())]


def write_dltb_zip(patches: gpd.GeoDataFrame, path: Path, *, layer: str = "DLTB") -> Path:
    """A zipped Shapefile (``layer``.shp) as offices hold one: GBK attributes without a .cpg,
    EPSG:4528 (x with the zone prefix).  ``patches`` are in EPSG:4549."""
    out = patches.drop(columns=["in_park"], errors="ignore").copy()
    out.geometry = shapely.transform(np.asarray(out.geometry.array), lambda xy: xy + [ZONE_40_FALSE_EASTING_PREFIX, 0.0])
    out = out.set_crs("EPSG:4528", allow_override=True)
    with tempfile.TemporaryDirectory() as tmp:
        shp = Path(tmp) / f"{layer}.shp"
        out.to_file(shp, engine="pyogrio", encoding="GBK")
        shp.with_suffix(".cpg").unlink(missing_ok=True)  # as offices often have it: no .cpg
        with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
            for part in sorted(Path(tmp).iterdir()):
                archive.write(part, part.name)
    return path


def demo_supply(patches: gpd.GeoDataFrame, *, year: int, seed: int = DEMO_SEED) -> gpd.GeoDataFrame:
    """供地 records for about 85 % of the industrial patches inside the parks (EPSG:4490)."""
    rng = np.random.default_rng(seed + 1)
    industrial = patches[(patches["DLBM"] == "0601") & patches["in_park"]]
    chosen = industrial[rng.random(len(industrial)) < 0.85]
    n = len(chosen)
    # no date after the data's horizon: a record cannot be signed or recovered in the future
    horizon = pd.Timestamp(dt.date(min(year + 3, dt.date.today().year), 12, 31))
    days = rng.integers(0, (horizon.date() - dt.date(2005, 1, 1)).days, n)
    contract = pd.to_datetime(dt.date(2005, 1, 1)) + pd.to_timedelta(days, unit="D")
    recovery = pd.Series(contract + pd.to_timedelta(rng.integers(400, 2000, n), unit="D"))
    recovery = recovery.where((rng.random(n) < 0.03) & (recovery <= horizon))
    area_ha = np.round(shapely.area(np.asarray(chosen.geometry.array)) / 10_000 * np.where(rng.random(n) < 0.05, 1.12, 1.0), 4)
    return gpd.GeoDataFrame(
        {
            "电子监管号": [f"310117{d.year}B{i:05d}" for i, d in enumerate(contract)],
            "项目名称": [f"演示项目{i + 1}号地块" for i in range(n)],
            "土地用途": "工业用地",
            "面积(公顷)": area_ha,
            "供地方式": _METHODS[rng.integers(0, len(_METHODS), n)],
            "合同签订日期": [d.strftime("%Y-%m-%d") for d in contract],
            "收回日期": [d.strftime("%Y-%m-%d") if not pd.isna(d) else None for d in recovery],
        },
        geometry=np.asarray(chosen.geometry.array),
        crs=AREA_CRS,
    ).to_crs("EPSG:4490")


def write_supply_gpkg(records: gpd.GeoDataFrame, path: Path) -> Path:
    path.unlink(missing_ok=True)
    records.to_file(path, engine="pyogrio", layer="供地", driver="GPKG")
    return path


__all__ = ["DEMO_SOURCE", "DemoLand", "demo_land", "demo_patches", "demo_supply"]
