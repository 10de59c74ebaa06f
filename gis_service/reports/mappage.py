"""A printable map page (A4 landscape, PNG or PDF) drawn with matplotlib.

The page carries what a printed briefing needs: title, data year and date, the target, a
legend, a north arrow, a scale bar, the key figures, and the note that the boundaries are
approximate.  The map is drawn in EPSG:4549 (CGCS2000 / 3-degree Gauss-Kruger CM 120E),
a projected CRS in metres, so the scale bar is true; approximate boundaries are dashed.
Colours are the web maps' own (:mod:`gis_service.maps.styles`).
"""

from __future__ import annotations

import math
import textwrap
from functools import lru_cache
from pathlib import Path

import geopandas as gpd
import matplotlib as mpl
import shapely
from matplotlib import font_manager
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Patch, Rectangle
from sqlalchemy import Engine

from gis_service.coords.crs import AREA_CRS, to_area_crs
from gis_service.errors import MissingSystemPackageError
from gis_service.maps import styles
from gis_service.metrics.bases import BASIS_LABELS_ZH
from gis_service.reports.tables import ReportData
from gis_service.store.readers import read_district, read_roads, read_towns

PAGE_SIZE_IN = (11.69, 8.27)  # A4 landscape
DPI = 150
_CJK_FAMILIES = ("Noto Sans CJK SC", "Noto Sans SC", "Source Han Sans SC", "WenQuanYi Zen Hei", "Noto Sans CJK JP")
_NICE_KM = (0.1, 0.2, 0.25, 0.5, 1, 2, 2.5, 5, 10, 20, 50)


@lru_cache(maxsize=1)
def cjk_font_family() -> str:
    """A font family with Chinese glyphs, registering system CJK fonts matplotlib has not seen.

    Raises :class:`MissingSystemPackageError` (install ``fonts-noto-cjk``) when there is none:
    a briefing with empty boxes instead of characters must not be produced silently.
    """
    known = {f.name for f in font_manager.fontManager.ttflist}
    if not any(name in known for name in _CJK_FAMILIES):
        # matplotlib's font cache predates fonts installed later; add them explicitly
        for path in font_manager.findSystemFonts():
            if any(key in Path(path).name for key in ("CJK", "SourceHanSans", "wqy")):
                font_manager.fontManager.addfont(path)
        known = {f.name for f in font_manager.fontManager.ttflist}
    for family in _CJK_FAMILIES:
        if family in known:
            return family
    raise MissingSystemPackageError("a font with Chinese glyphs", "fonts-noto-cjk", "apt-get install fonts-noto-cjk")


def render_map_page(engine: Engine, data: ReportData, paths: list[Path]) -> list[Path]:
    """Draw the report's map page and save it to each of ``paths`` (``.png`` / ``.pdf``)."""
    # a bare Figure (not pyplot): no GUI backend, no global figure registry, so this runs
    # the same on a server, in a test and inside a notebook without touching its plots
    with mpl.rc_context(chinese_rc()):
        fig = _draw(engine, data)
        for path in paths:
            path.parent.mkdir(parents=True, exist_ok=True)
            fig.savefig(path, dpi=DPI)
    return paths


def chinese_rc() -> dict[str, object]:
    """matplotlib settings that draw Chinese labels (use with ``matplotlib.rc_context`` or
    ``matplotlib.rcParams.update``); PDF fonts are embedded as TrueType.  Text is drawn as
    written: ``$…$`` in a stored name is not mathtext (which would reshape it, or fail the page)."""
    return {"font.family": "sans-serif", "font.sans-serif": [cjk_font_family(), "DejaVu Sans"],
            "axes.unicode_minus": False, "pdf.fonttype": 42, "text.parse_math": False}


def _draw(engine: Engine, data: ReportData) -> Figure:
    fig = Figure(figsize=PAGE_SIZE_IN, dpi=DPI)
    ax = fig.add_axes((0.03, 0.10, 0.62, 0.78))
    panel = fig.add_axes((0.67, 0.10, 0.31, 0.78))
    panel.axis("off")
    parks = to_area_crs(data.parks)
    parks = parks[parks.geometry.notna() & ~parks.geometry.is_empty]
    district_scope = data.scope == "district"
    if district_scope:
        _draw_context(engine, ax)
        extent = to_area_crs(read_district(engine)).total_bounds if not read_district(engine).empty else parks.total_bounds
        shown = parks[parks["kind"] == "block"] if (parks["kind"] == "block").any() else parks
    else:
        extent = parks.total_bounds
        pad = max(extent[2] - extent[0], extent[3] - extent[1]) * 0.25 + 300
        extent = (extent[0] - pad, extent[1] - pad, extent[2] + pad, extent[3] + pad)
        _draw_roads(engine, ax, extent)
        shown = parks
    for _, park in shown.iterrows():
        colour = styles.attainment_colour(park["attainment_pct"])
        gpd.GeoSeries([park.geometry], crs=AREA_CRS).plot(
            ax=ax, facecolor=colour, edgecolor="#252525", linewidth=1.2, alpha=0.85,
            linestyle="-" if park["geometry_quality"] == "surveyed" else (0, (4, 2)),
        )
        point = park.geometry.representative_point()
        ax.annotate(_short(str(park["unit_name"])), (point.x, point.y), fontsize=7 if district_scope else 10,
                    ha="center", va="center", color="#111111",
                    bbox={"boxstyle": "round,pad=0.15", "fc": "white", "ec": "none", "alpha": 0.7})
    _set_extent(ax, extent)
    ax.set_xticks([])
    ax.set_yticks([])
    ax.set_xlabel("")
    ax.set_ylabel("")
    for spine in ax.spines.values():
        spine.set_edgecolor("#555555")
    _north_arrow(ax)
    _scale_bar(ax)
    _legend(ax, district_scope)
    _header(fig, data)
    _panel(panel, data)
    fig.text(0.03, 0.035, "\n".join(data.notes), fontsize=7.5, color="#b00000", va="bottom", wrap=True)
    fig.text(0.98, 0.012, f"坐标系:CGCS2000 / 3度带 高斯-克吕格 中央经线120°E ({AREA_CRS})    制图:gis_service",
             fontsize=6.5, color="#555555", ha="right")
    return fig


def _draw_context(engine: Engine, ax: Axes) -> None:
    towns = read_towns(engine)
    if not towns.empty:
        to_area_crs(towns).boundary.plot(ax=ax, color="#9e9e9e", linewidth=0.5, linestyle=(0, (3, 2)))
    district = read_district(engine)
    if not district.empty:
        to_area_crs(district).boundary.plot(ax=ax, color="#252525", linewidth=1.6)


def _draw_roads(engine: Engine, ax: Axes, extent: tuple[float, ...]) -> None:
    roads = read_roads(engine)
    if roads.empty:
        return
    roads = to_area_crs(roads).cx[extent[0] : extent[2], extent[1] : extent[3]]
    for _, road in roads.iterrows():
        colour = next((c for k, c in styles.ROAD_COLOURS.items() if k in str(road["kind"] or "")), styles.ROAD_DEFAULT_COLOUR)
        gpd.GeoSeries([road.geometry], crs=AREA_CRS).plot(ax=ax, color=colour, linewidth=1.0, linestyle=(0, (5, 2)))
        clipped = road.geometry.intersection(shapely.box(*extent))
        if not clipped.is_empty and clipped.length > 0:
            mid = clipped.interpolate(0.5, normalized=True)
            ax.annotate(str(road["name"]), (mid.x, mid.y), fontsize=6.5, color=colour, ha="center",
                        bbox={"boxstyle": "round,pad=0.1", "fc": "white", "ec": "none", "alpha": 0.6})


def _set_extent(ax: Axes, extent: tuple[float, ...]) -> None:
    """Fit ``extent`` into the axes keeping 1:1 metres (so the scale bar is true)."""
    minx, miny, maxx, maxy = extent
    cx, cy = (minx + maxx) / 2, (miny + maxy) / 2
    box = ax.get_position(original=True)  # the laid-out box, not one already shrunk to an aspect
    box_w, box_h = box.width * PAGE_SIZE_IN[0], box.height * PAGE_SIZE_IN[1]
    half_w, half_h = (maxx - minx) / 2 * 1.04, (maxy - miny) / 2 * 1.04
    if half_w / half_h > box_w / box_h:
        half_h = half_w * box_h / box_w
    else:
        half_w = half_h * box_w / box_h
    ax.set_xlim(cx - half_w, cx + half_w)
    ax.set_ylim(cy - half_h, cy + half_h)
    ax.set_aspect("equal", adjustable="box")


def _north_arrow(ax: Axes) -> None:
    # the map is in a transverse Mercator with north up (grid convergence < 1° here)
    ax.annotate("", xy=(0.95, 0.96), xytext=(0.95, 0.86), xycoords="axes fraction",
                arrowprops={"facecolor": "black", "width": 5, "headwidth": 14, "headlength": 14})
    ax.text(0.95, 0.975, "北 N", transform=ax.transAxes, ha="center", va="bottom", fontsize=10, fontweight="bold")


def scale_bar_km(map_width_m: float) -> float:
    """A round scale-bar length (km) of about a fifth of the map width (metres)."""
    wanted = map_width_m / 5 / 1000
    return max((k for k in _NICE_KM if k <= wanted), default=_NICE_KM[0])


def _scale_bar(ax: Axes) -> None:
    x0, x1 = ax.get_xlim()
    y0, y1 = ax.get_ylim()
    km = scale_bar_km(x1 - x0)
    length = km * 1000
    left, bottom, height = x0 + (x1 - x0) * 0.04, y0 + (y1 - y0) * 0.04, (y1 - y0) * 0.012
    for i in range(2):
        ax.add_patch(Rectangle((left + i * length / 2, bottom), length / 2, height,
                               facecolor="black" if i == 0 else "white", edgecolor="black", linewidth=0.8, zorder=5))
    label = f"{km:g} 千米" if km >= 1 else f"{km * 1000:g} 米"
    for x, text in ((left, "0"), (left + length, label)):
        ax.text(x, bottom + height * 1.6, text, ha="center", va="bottom", fontsize=8, zorder=5)
    ax.text(left, bottom - height * 0.8, "比例尺", ha="left", va="top", fontsize=7)


def _legend(ax: Axes, district_scope: bool) -> None:
    handles: list[object] = [
        Patch(facecolor=colour, edgecolor="#252525", label=f"达标率 {label}") for _, colour, label in styles.ATTAINMENT_CLASSES
    ]
    handles.append(Patch(facecolor=styles.NO_DATA_COLOUR, edgecolor="#252525", label="无数据"))
    handles.append(Line2D([], [], color="#252525", linestyle=(0, (4, 2)), label="园区边界(近似,虚线)"))
    if district_scope:
        handles.append(Line2D([], [], color="#252525", linewidth=1.6, label="松江区界"))
        handles.append(Line2D([], [], color="#9e9e9e", linewidth=0.6, linestyle=(0, (3, 2)), label="街道、镇界(近似)"))
    else:
        handles.append(Line2D([], [], color=styles.ROAD_DEFAULT_COLOUR, linestyle=(0, (5, 2)), label="道路(近似中心线)"))
        handles.append(Line2D([], [], color=styles.ROAD_COLOURS["river"], linestyle=(0, (5, 2)), label="河道(近似)"))
    ax.legend(handles=handles, loc="lower right", fontsize=7, title="图例", title_fontsize=8, framealpha=0.9)


def _header(fig: Figure, data: ReportData) -> None:
    target = data.target
    fig.text(0.03, 0.955, data.title, fontsize=17, fontweight="bold", va="center")
    fig.text(
        0.03, 0.912,
        f"数据年份:{data.year}年    制图日期:{data.generated.isoformat()}    "
        f"目标:{target.name} {target.value:g} {target.unit}({target.year}年,{target.nature or ''})    "
        f"着色口径:{BASIS_LABELS_ZH[data.map_basis]}" + ("" if data.comparable else "(与目标口径不同,仅供参考)"),
        fontsize=8.5, va="center", color="#333333",
    )


def _panel(panel: Axes, data: ReportData) -> None:
    gaps = data.tables["差距"]
    rows = gaps[gaps["口径"] == BASIS_LABELS_ZH[data.map_basis]] if data.scope == "district" else gaps
    lines = ["主要数据" + (f"(按{BASIS_LABELS_ZH[data.map_basis]})" if data.scope == "district" else ""), ""]
    for _, r in rows.iterrows():
        density = r["地均产值(亿元/km²)"]
        pct = r["达标率(%)"]
        name = _short(str(r["园区"])) if data.scope == "district" else str(r["口径"])
        if math.isnan(density):
            lines.append(f"{name}:无数据({r['缺失原因'] or ''})")
        else:
            lines.append(f"{name}:{density:.1f} 亿元/km²,达标率 {pct:.0f}%,{r['状态']}")
    lines += ["", f"目标来源:{data.target.source}"]
    if data.sizhi_text:
        lines += ["", "四至(原文):", *textwrap.wrap(data.sizhi_text, width=30)]
    panel.text(0.0, 1.0, "\n".join(lines), fontsize=8, va="top", ha="left", wrap=True, linespacing=1.5)


def _short(name: str) -> str:
    """Block names without the parenthesised alias, for labels."""
    return name.split("(")[0]
