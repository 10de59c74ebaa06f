"""Stored text on every HTML page, in real Chromium: shown literally, never run, never markup.

A payload corpus goes into every stored text a page draws (names, notes, sources, 四至 texts
and part labels, layer properties, land imports); then each page — the
overview, each park, the land data page, the API docs — is opened and hovered, its popups,
tooltips and search opened.  No dialog may open, no element the payloads would create may
exist, the browser may report no error, and the payload text is on the page as written.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path

import playwright.sync_api as playwright_api
import pytest
from sqlalchemy import Engine, text

from gis_service.testing import running_service
from tests.api.sample_data import load_web_sample

CHROMIUM = "/usr/bin/chromium"
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
    "\\u{0}\\x\\",  # a backslash sequence invalid in a JavaScript string or template
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
        ("UPDATE road SET name = CASE WHEN name = '远路' THEN :a ELSE name END, note = :b, source_document = :c", {}),
        ("UPDATE land_parcel SET land_use_name = :a, supervision_no = :b, external_id = :c, project_name = :d,"
         " source_document = :a", {}),
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


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    with playwright_api.sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox", "--disable-gpu"], headless=True)
        yield b
        b.close()


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
        # the search box finds the park by a prefix of its name and lists it as written
        w.page.locator(".leaflet-control-search input").press_sequentially("甲30")  # type: ignore[attr-defined]
        w.page.wait_for_selector(".search-tip", timeout=5000)  # type: ignore[attr-defined]
        assert park_name in w.text(".search-tooltip")
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
            w.assert_inert()
        w = Watch(browser, f"{base}/data/land")
        page_text = w.text("body")
        assert _p(901) in page_text and _p(900) in page_text and "<img class=pwn src=x onerror=mark(9)>" in page_text
        w.assert_inert()
