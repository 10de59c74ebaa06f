"""Stored text on every HTML page, in real Chromium: shown literally, never run, never markup.

A payload corpus goes into every stored text a page draws (names, notes, sources, 四至 texts
and part labels, layer properties, land imports); then each page — the
overview, each park, the land data page, the API docs — is opened and hovered, its popups,
tooltips and search opened.  No dialog may open, no element the payloads would create may
exist, the browser may report no error, and the payload text is on the page as written.
"""

from __future__ import annotations

import ast
import json
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine, text

from gis_service.testing import running_service
from tests.api.sample_data import load_web_sample
from tests.security.conftest import CHROMIUM

pytestmark = pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="Debian chromium not installed")

#: every payload calls mark(N) or creates an element with class "pwn" when it runs
PAYLOADS = [
    "${mark(1)}",
    "</script><script>mark(2)</script>",
    '<img class="pwn" src=x onerror="mark(3)">',
    "`;mark(4);`",
    "\"'><svg class=\"pwn\" onload=\"mark(5)\">",
    "javascript:mark(6)",
    "{{ 7*7 }}{% if 1 %}jinja{% endif %}",
    ("\\u{0}\\x\\"),  # a backslash sequence invalid in a JavaScript string or template
    "<b class=\"pwn\">粗</b>&amp;",
]
CORPUS = "".join(PAYLOADS)


def _p(i: int) -> str:
    """A distinct stored text carrying the whole corpus (names are unique in some tables)."""
    return f"甲{i}{CORPUS}"


@pytest.fixture
def payload_sample(engine: Engine) -> dict[str, int]:
    """The web sample with the corpus in every stored text the pages draw."""
    ids = load_web_sample(engine)
    label = "${mark(7)}<img class=pwn src=x onerror=mark(8)>`"
    parsed = {"parts": [{"label": label, **{side: [{"name": "甲路", "kind": "road", "offset": None,
                                                    "as_written": _p(100 + i)}]
                                            for i, side in enumerate(("east", "south", "west", "north"))}}]}
    updates = [
        ("UPDATE district SET name = :a, note = :b, source_document = :c", {}),
        ("UPDATE town SET name = :a || id, note = :b, source_document = :c", {}),
        ("UPDATE zone SET name = :a || id, note = :b, source_document = :c, source_section = :d", {}),
        ("UPDATE park SET name = :a || id, note = :b", {}),
        ("UPDATE park_boundary SET source_document = :a, source_section = :b, method = :c", {}),
        ("UPDATE sizhi SET raw_text = :a, parsed = CAST(:parsed AS jsonb), source_document = :b, source_section = :c",
         {"parsed": json.dumps(parsed)}),
        ("UPDATE indicator SET source_document = :a, source_section = :b, note = :c", {}),
        ("UPDATE target SET source_document = :a, source_section = :b, note = :c", {}),
        ("UPDATE road SET name = :a || id, note = :b, source_document = :c", {}),
        (("UPDATE land_parcel SET land_use_name = :a, supervision_no = :b, external_id = :c, project_name = :d, "
         "source_document = :a"), {}),
    ]
    with engine.begin() as conn:
        for n, (sql, extra) in enumerate(updates):
            conn.execute(text(sql), {"a": _p(n * 10), "b": _p(n * 10 + 1), "c": _p(n * 10 + 2), "d": _p(n * 10 + 3),
                                     **extra})
        conn.execute(text(
            "INSERT INTO land_import (kind, year, source_document, file_name, layer_name, driver, crs, encoding,"
            " feature_count, area_by_class, imported_by) VALUES ('survey', 2020, :a, :b, :c, :d, :a, :b, 1,"
            " CAST(:areas AS jsonb), :c)"),
            {"a": _p(900), "b": _p(901), "c": _p(902), "d": _p(903), "areas": '{"<img class=pwn src=x onerror=mark(9)>": 1.5}'})
    return ids



class Watch:
    """A page with everything the payloads could set off recorded."""

    def __init__(self, browser: object, url: str) -> None:
        self.dialogs: list[str] = []
        self.errors: list[str] = []
        page = browser.new_page(viewport={"width": 1400, "height": 900})  # type: ignore[attr-defined]
        page.add_init_script("window.__marks = []; window.mark = n => window.__marks.push(n);"
                             "document.addEventListener('securitypolicyviolation',"
                             " e => window.__marks.push('csp:' + e.violatedDirective + ' ' + e.blockedURI));")
        page.on("dialog", lambda d: (self.dialogs.append(d.message), d.dismiss()))
        page.on("console", lambda m: self.errors.append(m.text) if m.type == "error" else None)
        page.on("pageerror", lambda exc: self.errors.append(str(exc)))
        page.route(re.compile(r"^https?://(?!127\.0\.0\.1)"), lambda r: r.fulfill(status=204, body=b""))
        page.goto(url, wait_until="networkidle")
        self.page = page

    def assert_inert(self) -> None:
        marks = self.page.evaluate("window.__marks")  # type: ignore[attr-defined]
        injected = self.page.evaluate("document.querySelectorAll('.pwn, script:not([src]) ~ img[src=x]').length")  # type: ignore[attr-defined]
        assert (self.dialogs, marks, injected, self.errors) == ([], [], 0, []), self.page.url  # type: ignore[attr-defined]

    def text(self, selector: str) -> str:
        return " ".join(self.page.locator(selector).all_inner_texts())  # type: ignore[attr-defined]


_MAP = "Object.keys(window).filter(k => k.startsWith('map_')).map(k => window[k]).find(v => v && v.eachLayer)"
#: open every tooltip and popup of every feature layer, one after the other, and collect their text
_OPEN_ALL = f"""() => {{
  const map = {_MAP}; const out = [];
  map.eachLayer(l => {{
    if (l.getTooltip && l.getTooltip()) {{
      const at = l.getBounds ? l.getBounds().getCenter() : l.getLatLng(); l.openTooltip(at);
      out.push(l.getTooltip().getElement() ? l.getTooltip().getElement().innerText : ''); l.closeTooltip(); }}
    if (l.getPopup && l.getPopup() && l.getBounds) {{
      l.openPopup(l.getBounds().getCenter()); const el = document.querySelector('.leaflet-popup-content');
      out.push(el ? el.innerText : ''); map.closePopup(); }}
  }});
  return out.join('\\n');
}}"""


def _map_page(browser: object, url: str) -> tuple[Watch, str]:
    w = Watch(browser, url)
    map_ready = w.page.evaluate(f"() => !!({_MAP})")  # type: ignore[attr-defined]
    assert map_ready, f"no map on {url}: {w.errors}"  # the page is loaded (networkidle): a script failed
    shown = w.page.evaluate(_OPEN_ALL)  # type: ignore[attr-defined]
    return w, shown


def test_payloads_are_inert_and_shown_literally_on_every_page(db_url, payload_sample, browser) -> None:  # type: ignore[no-untyped-def]
    ids = payload_sample
    with running_service(db_url, offline=True) as base:
        w, shown = _map_page(browser, f"{base}/?year=2020")
        park_name = _p(30) + str(ids["west"])
        assert park_name in shown, "a park's tooltip and popup show its name as written"
        assert park_name in w.text("#gis-header"), "the header links name each park as written"
        assert _p(0) in shown and _p(10) in shown and _p(20) in shown, "district, towns and zones as written"
        # the search box finds the park by a part of its name and opens its popup, the name as written
        w.page.locator(".leaflet-control-search input").press_sequentially("甲30")  # type: ignore[attr-defined]
        w.page.locator(".leaflet-control-search input").press("Enter")  # type: ignore[attr-defined]
        w.page.wait_for_selector(".leaflet-popup-content", timeout=5000)  # type: ignore[attr-defined]
        assert park_name in w.text(".leaflet-popup-content h4")
        w.assert_inert()
        for key in ("west", "east"):
            w, shown = _map_page(browser, f"{base}/maps/parks/{ids[key]}?year=2020")
            assert _p(30) + str(ids[key]) in w.text("#gis-header h1")
            panel = w.text("#gis-figures")
            assert _p(40) in panel and _p(41) in panel, "boundary source and section as written"
            assert _p(70) in w.text("#gis-legend"), "the target's source as written"
            if key == "west":
                sides = w.text(".gis-side")
                assert "${mark(7)}<img class=pwn src=x onerror=mark(8)>`" in sides and _p(100) in sides
                assert "${mark(7)}" in shown, "the 四至 tooltips show the part label as written"
                assert _p(90) in shown and _p(91) in shown, "parcel name and 电子监管号 as written"
                assert _p(80) in shown, "the bounding roads' names as written"
            w.assert_inert()
        w = Watch(browser, f"{base}/data/land")
        page_text = w.text("body")
        assert _p(901) in page_text and _p(900) in page_text and "<img class=pwn src=x onerror=mark(9)>" in page_text
        w.assert_inert()


# -- source guard: stored text enters a page only through page_text -----------------------------
MAP_MODULES = sorted((Path(__file__).resolve().parents[2] / "gis_service" / "maps").glob("*.py"))
#: calls that make text safe for a page: page_text itself and the helpers that end in it
SAFE_CALLS = {"page_text", "_esc", "_fmt", "_script_json"}
_HTML_PARTS = "built in this module from escaped parts or constants"
_CODE_LABEL = "a label, colour or style of the code (styles, BASIS_LABELS_ZH, NUMERATORS), never stored text"
_NUMBER = "a number (year, id, target value), or a constant"
_CHECKED = "a query value checked by DensityQuestion (year, numerator, basis) or an int path"
#: every other expression interpolated into an HTML f-string of gis_service/maps, with the reason
REVIEWED: dict[tuple[str, str], str] = {
    **{("build.py", e): _HTML_PARTS for e in (
        "_choice_text(answer)", "rows", "_land_note(answer)", "_comparability_note(answer)", "extra", "side_rows",
        "measured", "density_rows", "reason_txt", "empty_note", "_basis_links(answer, base)", "crs_note", "variants",
        "links", "park_popup_html(row, answer)",
        "'<tr><th>演示数据</th><td class=gis-warn>是(合成数据,非真实)</td></tr>' if row.get('uses_synthetic_data') else ''",
        "' class=gis-warn' if approx else ''",
        "'(尚未导入土地利用现状调查、供地记录或地块登记:gis-service import landuse|supply|parcels)' if q.basis in PARCEL_BASES else ''")},
    **{("build.py", e): _CODE_LABEL for e in (
        "styles.NO_DATA_COLOUR", "short", "num_label", "BASIS_LABELS_ZH[q.basis]", "BASIS_LABELS_ZH[t.basis]",
        "BASIS_LABELS_ZH[basis]", "styles.quality_zh(row.get('geometry_quality'))", "colour", "c", "label",
        "styles.LAND_USE_COLOURS.get(c, styles.OTHER_LAND_USE_COLOUR)")},
    ("build.py", "options.script_nonce"): "the nonce slot of the page's own scripts: a per-process secret, url-safe base64",
    ("build.py", "html=label"): "the 四至 label: an f-string of _esc(...) and styles' colours (checked above)",
    **{("build.py", e): _NUMBER for e in ("t.value", "t.year", "q.year", "int(r.unit_id)")},
    **{("build.py", e): _CHECKED for e in ("base", "query", "q.numerator", "basis")},
    **{("build.py", e): "the park sheet's HTML (park_sheet.py, reviewed below)" for e in ("sheet.top", "sheet.sections")},
    **{("park_sheet.py", e): _HTML_PARTS for e in (
        "area_flag_html(row)", "sections", "_CSS", "text", "''.join(rows)", "legend", "cells", "''.join(items)",
        "prefix", "found", "missing", "now[key][1]", "where", "reason",
        "'' if not isinstance(text, str) else _esc(text)")},
    **{("park_sheet.py", e): _CODE_LABEL + "; the 四至 check's own status labels (sizhi.verify)" for e in (
        "report.status", "STATUS_LABELS[report.status]", "s['status']", "s['status_label']", "s['side_label']",
        "STATUS_COLOURS[s['status']]", "c", "STATUS_LABELS[k]", "side", "key", "label", "unit", "basis", "SCRIPT",
        "m.get_name()", "options.static_prefix", "numerator.label_zh.split('(')[0]")},
    **{("intensity_view.py", e): _HTML_PARTS for e in ("cells", "levels", "indicators")},
    ("intensity_view.py", "none_drawn"): "a constant of the code (该年份无…) chosen by the checked level",
    ("intensity_view.py", "example"): "a constant of the code (示例配置 label) or ''",
    ("intensity_view.py", "score"): "_fmt(...) of a number (the 集约度 score)",
    ("intensity_view.py", "synthetic"): "a constant of the code (演示数据) or ''",
    ("build.py", "synthetic"): "a constant of the code (演示数据) or ''",
    ("intensity_view.py", "_selected(row, answer, indicator)"): "HTML of _selected: its stored texts through page_text, "
                                                                 "numbers through _fmt, units constants of the code",
    ("intensity_view.py", "year"): "int(year): the checked query year",
    **{("intensity_view.py", e): _CODE_LABEL for e in ("_NO_DATA", "_RAMP[min(i, len(_RAMP) - 1)]")},
    **{("park_sheet.py", e): _NUMBER for e in (
        "park_id", "q.year", "diff", "AREA_FLAG_PCT", "report.tolerance_m", "answer.target.value", "int(money)",
        "len(items)", "int(r.unit_id)", "coverage", "distance", "'' if value is None else f'{value:g}'",
        "'' if area is None else f'{area:g}'", "'—' if pct is None else f'{pct:.1f}%'")},
    **{("park_sheet.py", e): _CHECKED for e in ("query", "wgs84_page")},
    **{("build.py", e): _HTML_PARTS for e in (
        "head", "_sources_text(answer)", "_attainment_text(row, answer)", "note", "_nav(answer, park_id)", "header",
        "legend", "_fmt(row.get('gap_yi_per_km2'), 2, '亿元/km²') if graded(answer) else '不评级'")},
    ("build.py", "title"): "the page title: the header's <h1> (made with _esc) or a constant of the code",
    ("build.py", "styles.UNGRADED_COLOUR"): _CODE_LABEL,
    ("build.py", "q.basis"): _CHECKED,
    ("build.py", "park_id"): "int(row['unit_id']): a number",
    **{("error_page.py", e): _HTML_PARTS for e in ("said", "_choices(engine, status)", "year_links", "basis_links",
                                                   "park_items or '<li>暂无园区</li>'")},
    **{("error_page.py", e): _NUMBER for e in ("status", "y")},
    ("error_page.py", "b"): "a basis code of ALL_BASES (a constant of the code)",
    **{("overview.py", e): _HTML_PARTS for e in ("how", "heads", "body", "basis",
                                                 "' data-num=1' if i in (1, 2, 3) else ''")},
    ("overview.py", "text"): "a ranking cell: _esc(...) / _fmt(...) of the row, or a constant (see _ranking_row)",
    **{("overview.py", e): _CODE_LABEL for e in ("BASIS_LABELS_ZH[wanted]", "BASIS_LABELS_ZH[basis]",
                                                 "basis_relation_zh(basis, wanted)", "h")},
    **{("overview.py", e): _NUMBER for e in ("y", "i", "int(row['unit_id'])")},
    ("overview.py", "q.numerator"): _CHECKED,
    **{("data_page.py", e): _HTML_PARTS for e in ("_STYLE", "warning", "rows", "demo", "areas or '—'",
                                                  "_KIND_ZH.get(i['kind'], page_text(i['kind']))")},
    **{("data_page.py", e): _NUMBER for e in ("i['year'] or '—'", "int(i['features_stored'])")},
}


def _html_interpolations(path: Path) -> Iterator[tuple[int, str]]:
    """(line, expression) of each value put into an f-string that writes HTML, unless made safe."""
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if not isinstance(node, ast.JoinedStr):
            continue
        literal = "".join(v.value for v in node.values if isinstance(v, ast.Constant))
        if "<" not in literal and ">" not in literal:
            continue
        for value in node.values:
            if isinstance(value, ast.FormattedValue):
                expr = value.value
                if not (isinstance(expr, ast.Call) and isinstance(expr.func, ast.Name) and expr.func.id in SAFE_CALLS):
                    yield node.lineno, ast.unparse(expr)


def test_stored_text_enters_a_page_only_through_page_text() -> None:
    unreviewed, escapes = [], []
    for path in MAP_MODULES:
        source = path.read_text(encoding="utf-8")
        unreviewed += [f"{path.name}:{line}: {expr}" for line, expr in _html_interpolations(path)
                       if (path.name, expr) not in REVIEWED]
        # no second escaping function: html.escape appears once, in page_text
        escapes += [f"{path.name}:{n}" for n, line in enumerate(source.splitlines(), 1)
                    if re.search(r"\bescape\(|markupsafe|Markup\(", line)]
        # folium.Element / Html compile their text as a Jinja template: stored text goes in as _Html
        assert not [n for n in ast.walk(ast.parse(source)) if isinstance(n, ast.Call)
                    and ast.unparse(n.func) in ("Element", "folium.Element", "Html", "folium.Html")], path.name
    assert unreviewed == [], "interpolate page_text(...) (or review the expression here)"
    assert len(escapes) == 1 and escapes[0].startswith("build.py:"), escapes


def _is_safe(expr: ast.expr) -> bool:
    return isinstance(expr, ast.Constant) or (
        isinstance(expr, ast.Call) and getattr(expr.func, "id", getattr(expr.func, "attr", "")) in
        {*SAFE_CALLS, "GeoJsonTooltip", "GeoJsonPopup", "DivIcon"})


def test_folium_text_arguments_are_made_safe() -> None:
    """A tooltip, popup or icon text given to folium goes into a JavaScript template literal as is."""
    unsafe = [f"{path.name}:{node.lineno}: {kw.arg}={ast.unparse(kw.value)}"
              for path in MAP_MODULES for node in ast.walk(ast.parse(path.read_text(encoding="utf-8")))
              if isinstance(node, ast.Call) for kw in node.keywords
              if kw.arg in ("tooltip", "popup", "html") and not _is_safe(kw.value)
              and (path.name, f"{kw.arg}={ast.unparse(kw.value)}") not in REVIEWED]
    assert unsafe == []


def test_report_map_page_draws_stored_text_as_written(tmp_path: Path) -> None:
    """The printed map page (matplotlib) draws a stored name as written: '$…$' is not mathtext,
    which failed the whole report on '$\\x$' and reshaped other names."""
    import matplotlib as mpl
    from matplotlib.figure import Figure

    from gis_service.reports.mappage import chinese_rc

    with mpl.rc_context(chinese_rc()):
        fig = Figure()
        label = fig.text(0.1, 0.5, "园区 $\\x$ 与 $a^2$")
        fig.savefig(tmp_path / "page.png")
    assert label.get_text().startswith("园区 $\\x$ ") and (tmp_path / "page.png").stat().st_size > 1000
