"""The Chinese error page of the HTML routes: what went wrong and the valid choices.

The status and the description are the API's (the app's exception handlers decide them);
the page says them in Chinese, keeps the technical text folded away, and lists the years
with data and the parks' codes, each a link.  No script, no external resource.
"""

from __future__ import annotations

import logging
from typing import Any

from sqlalchemy import Engine

from gis_service.maps.build import page_text
from gis_service.metrics.bases import ALL_BASES, BASIS_LABELS_ZH

log = logging.getLogger(__name__)

STATUS_ZH = {
    401: "需要有效的访问密钥",
    403: "此密钥无权查看该页面",
    404: "未找到所请求的内容",
    413: "请求过大",
    414: "请求地址过长",
    422: "请求参数有误",
    503: "数据库暂不可用,请稍后重试",
}
PARAMETERS_ZH = {"year": "数据年份(year)", "numerator": "指标(numerator)", "basis": "口径(basis)",
                 "target": "目标(target)", "basemap": "底图(basemap)", "park_id": "园区(id 或代码)"}


def error_page(engine: Engine, *, status: int, description: str, problems: list[dict[str, Any]], path: str,
               query: dict[str, str] | None = None) -> str:
    """The page for an error answer (``status``, ``description`` and validation ``problems``)
    to a request of ``path`` with ``query``."""
    title = STATUS_ZH.get(status, "服务器内部错误,请联系管理员" if status >= 500 else "无法显示此页面")
    params = [str(p.get("parameter", "")).rsplit(".", 1)[-1] for p in problems]
    named = "、".join(PARAMETERS_ZH.get(p, p) for p in params if p)
    said = f"<p>有误的参数:{page_text(named)}。</p>" if named else _what_is_missing(status, path, query or {})
    return (
        '<!DOCTYPE html>\n<html lang="zh-CN"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{page_text(title)} · 松江区产业园区地图</title>"
        "<style>body{font:15px/1.6 'Noto Sans CJK SC','Microsoft YaHei',sans-serif;margin:2em auto;max-width:760px;padding:0 1em;}"
        "h1{font-size:20px;color:#b2182b;} li{margin:2px 0;} details{color:#555;margin-top:1.5em;}</style></head><body>"
        f"<h1>{page_text(title)}(HTTP {status})</h1>{said}{_choices(engine, status)}"
        '<p><a href="/">返回总览地图</a></p>'
        f"<details data-technical><summary>技术信息(供管理员排查)</summary><code>{page_text(path)}:{page_text(description)}</code></details>"
        "</body></html>\n"
    )


def _what_is_missing(status: int, path: str, query: dict[str, str]) -> str:
    """For a 404: the park or the year asked for, in words."""
    if status != 404:
        return ""
    if path.startswith("/maps/parks/"):
        return f"<p>没有编号或代码为“{page_text(path.rsplit('/', 1)[-1])}”的园区(或该园区在所选年份没有边界)。</p>"
    if "year" in query:
        return f"<p>{page_text(query['year'])} 年及以前没有所选指标的数据。</p>"
    return ""


def _choices(engine: Engine, status: int) -> str:
    """The valid years, bases and parks, read from the database (nothing when it is down)."""
    if status >= 500 or status in (401, 403):
        return ""
    try:
        years, parks = _years_and_parks(engine)
    except Exception:
        log.warning("error page: the valid choices could not be read", exc_info=True)
        return ""
    year_links = " ".join(f'<a href="/?year={y}">{y}</a>' for y in years) or "暂无(请先导入数据)"
    basis_links = " ".join(f'<a href="/?basis={b}">{page_text(BASIS_LABELS_ZH[b])}({b})</a>' for b in ALL_BASES)
    park_items = "".join(f'<li><a href="/maps/parks/{page_text(code)}">{page_text(code)}</a> {page_text(name)}</li>'
                         for code, name in parks)
    return (f"<h2>可选的数据年份</h2><p>{year_links}</p><h2>可选的口径</h2><p>{basis_links}</p>"
            f"<h2>可选的园区代码</h2><ul>{park_items or '<li>暂无园区</li>'}</ul>")


def _years_and_parks(engine: Engine) -> tuple[list[int], list[tuple[str, str]]]:
    from gis_service.answers.inputs import read_park_figures
    from gis_service.store.parks import read_park_refs

    figures = read_park_figures(engine)
    years = sorted({int(y) for y in figures["year"]})
    refs = read_park_refs(engine)
    code = "code" if "code" in refs.columns else "unit_code"
    name = "name" if "name" in refs.columns else "unit_name"
    parks = [(str(c), str(n)) for c, n in zip(refs[code], refs[name]) if isinstance(c, str) and c]
    return years, parks
