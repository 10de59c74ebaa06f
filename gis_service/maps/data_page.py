"""The data page (数据): which land data is loaded — every survey snapshot, supply import and register.

Draws :func:`gis_service.store.land.read_land_imports`; stored text enters the page only
through :func:`gis_service.maps.build.page_text`, the one escaping place.
"""

from __future__ import annotations

from typing import Any

from gis_service.ingest.land.codes import CLASS_LABELS_ZH, SYSTEM_LABELS_ZH
from gis_service.maps.build import page_text

_KIND_ZH = {"survey": "土地利用现状调查", "supply": "供地记录", "register": "地块登记"}
_STYLE = """<style>body{font:14px/1.5 sans-serif;margin:16px;color:#222}table{border-collapse:collapse;width:100%}
th,td{border:1px solid #ccc;padding:4px 6px;text-align:left;vertical-align:top}th{background:#f3f3f3}
.demo{color:#b2182b;font-weight:bold}.small{font-size:12px;color:#555}@media(max-width:700px){td,th{font-size:12px}}</style>"""


def build_land_page(imports: list[dict[str, Any]]) -> str:
    """HTML (Chinese) listing each land import with its year, source, features and area by class."""
    rows = "".join(_row(i) for i in imports) or '<tr><td colspan="8">尚未导入土地数据(gis-service import landuse|supply|parcels)</td></tr>'
    demo = any(i["is_synthetic"] for i in imports)
    warning = '<p class="demo">含演示数据(合成):标注“演示数据”的导入不是真实调查或供地记录。</p>' if demo else ""
    return (
        '<!doctype html><html lang="zh-CN"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width,initial-scale=1"><title>土地数据 · 松江产业园区</title>'
        f"{_STYLE}</head><body><h1>土地数据</h1>{warning}"
        "<p class=small>工业用地、建设用地取数据年份当年或之前最近一期土地利用现状调查;已供应工业用地取供地记录"
        "(合同签订日期不晚于当年年底且未收回);均无时取地块登记。</p>"
        "<table><thead><tr><th>类型</th><th>年份</th><th>文件/图层</th><th>要素数</th><th>分类体系</th>"
        "<th>坐标系/编码</th><th>各类面积(km²)</th><th>来源/导入</th></tr></thead>"
        f"<tbody>{rows}</tbody></table><p><a href=\"/\">返回总览地图</a></p></body></html>"
    )


def _row(i: dict[str, Any]) -> str:
    areas = ";".join(f"{page_text(CLASS_LABELS_ZH.get(c, c))} {v:.3f}" for c, v in (i["area_by_class"] or {}).items())
    system = SYSTEM_LABELS_ZH.get(i["code_system"] or "", "—")
    demo = '<div class="demo">演示数据</div>' if i["is_synthetic"] else ""
    return (
        f"<tr><td>{_KIND_ZH.get(i['kind'], page_text(i['kind']))}{demo}</td><td>{i['year'] or '—'}</td>"
        f"<td>{page_text(i['file_name'])}<div class=small>{page_text(i['layer_name'] or '')} · {page_text(i['driver'] or '')}</div></td>"
        f"<td>{int(i['features_stored']):,}</td><td>{page_text(system)}</td>"
        f"<td>{page_text(i['crs'] or '—')}<div class=small>{page_text(i['encoding'] or '—')}</div></td>"
        f"<td>{areas or '—'}</td>"
        f"<td>{page_text(i['source_document'])}<div class=small>{page_text(i['imported_by'] or '')} "
        f"{page_text(i['imported_at'][:19])}</div></td></tr>"
    )
