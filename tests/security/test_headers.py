"""Security headers, a strict Content-Security-Policy the pages really run under (Chromium),
offline API docs, links that never reflect a forged Host, /health versions for admins only,
and the OGC ``datetime`` parameter checked."""

from __future__ import annotations

import re
from pathlib import Path
from urllib.parse import urlparse

import httpx
import pytest
from branca.element import Figure

from gis_service.api.openapi import DOCS_STATIC_DIR
from gis_service.maps import build
from gis_service.testing import SERVE_CLI, running_service
from tests.api.conftest import make_client
from tests.security.conftest import CHROMIUM

needs_chromium = pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="Debian chromium not installed")


def _policy(header: str) -> dict[str, list[str]]:
    return {d.split()[0]: d.split()[1:] for d in header.split(";") if d.strip()}


# -- headers --------------------------------------------------------------------------------------
def test_every_answer_has_the_security_headers_and_pages_a_nonce_policy(client) -> None:  # type: ignore[no-untyped-def]
    answers = {u: client.get(u) for u in ("/?year=2020", "/data/land", "/docs", "/redoc", "/ogc", "/openapi.json",
                                          "/static/maps/leaflet/leaflet.js", "/no/such/page", "/parks/999999")}
    for url, r in answers.items():
        assert r.headers["x-content-type-options"] == "nosniff", url
        assert r.headers["x-frame-options"] == "DENY", url
        assert "server" not in r.headers, url
        policy = _policy(r.headers["content-security-policy"])
        assert policy["frame-ancestors"] == ["'none'"], url
        if r.headers["content-type"].startswith("text/html"):
            scripts = policy["script-src"]
            assert scripts[0] == "'self'" and len(scripts) == 2 and scripts[1].startswith("'nonce-"), (url, scripts)
            assert policy["object-src"] == ["'none'"] and policy["base-uri"] == ["'none'"]
            nonce = scripts[1][len("'nonce-"):-1]
            inline = re.findall(r"<script(?![^>]*\bsrc=)([^>]*)>", r.text)
            assert all(f'nonce="{nonce}"' in attrs for attrs in inline), (url, inline)
        else:
            assert policy["default-src"] == ["'none'"], url
    first = _policy(answers["/?year=2020"].headers["content-security-policy"])["script-src"][1]
    again = _policy(client.get("/?year=2020").headers["content-security-policy"])["script-src"][1]
    assert first != again, "a fresh nonce per answer (also for a cached page)"


def test_the_deployed_command_sends_no_server_banner(db_url, sample) -> None:  # type: ignore[no-untyped-def]
    with running_service(db_url, cmd=SERVE_CLI, quiet=True) as base:
        r = httpx.get(f"{base}/ogc")
    assert r.status_code == 200 and "server" not in r.headers


def test_the_page_figure_template_is_brancas() -> None:
    """_finish renders the page with a copy of branca's Figure template (to put the nonce in its
    script, and the page's language): a branca upgrade that changes it must be noticed."""
    from jinja2 import Template

    figure = Figure()
    ours = Figure()
    ours._template = Template(build._FIGURE_TEMPLATE)
    assert ours.render() == figure.render().replace("<html>", '<html lang="zh-CN">', 1)


# -- offline docs ---------------------------------------------------------------------------------
def test_docs_load_only_packaged_assets(client) -> None:  # type: ignore[no-untyped-def]
    for page in ("/docs", "/redoc"):
        html = client.get(page).text
        urls = re.findall(r'(?:src|href)="([^"]+)"', html)
        assert urls and all(u.startswith("/static/docs/") for u in urls), urls
        for url in urls:
            assert client.get(url).status_code == 200, url
    assert not re.search(r"https?://[^\"' ]*(jsdelivr|unpkg|redoc\.ly|googleapis)",
                         (DOCS_STATIC_DIR / "redoc" / "redoc.standalone.js").read_text(encoding="utf-8"))


# -- pages in Chromium under the policy -----------------------------------------------------------
def _open(browser: object, url: str) -> tuple[object, list[str]]:
    """``url`` with every console error, policy violation and request leaving the machine recorded."""
    problems: list[str] = []
    page = browser.new_page(viewport={"width": 1400, "height": 900})  # type: ignore[attr-defined]
    page.add_init_script("window.__violations = []; document.addEventListener('securitypolicyviolation',"
                         " e => window.__violations.push(e.violatedDirective + ' ' + e.blockedURI));")
    page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda exc: problems.append(str(exc)))

    def route(r: object) -> None:
        if urlparse(r.request.url).hostname == "127.0.0.1":  # type: ignore[attr-defined]
            r.continue_()  # type: ignore[attr-defined]
        else:
            problems.append(f"left the machine: {r.request.url}")  # type: ignore[attr-defined]
            r.abort()  # type: ignore[attr-defined]

    page.route("**/*", route)
    page.goto(url, wait_until="networkidle")
    return page, problems


def _clean(page: object, problems: list[str]) -> None:
    assert problems + page.evaluate("window.__violations") == []  # type: ignore[attr-defined]


_MAP = "Object.keys(window).filter(k => k.startsWith('map_')).map(k => window[k]).find(v => v && v.eachLayer)"


@needs_chromium
def test_pages_run_under_the_policy_in_chromium(db_url, sample, browser) -> None:  # type: ignore[no-untyped-def]
    with running_service(db_url, offline=True) as base:
        for url in ("/?year=2020", f"/maps/parks/{sample['west']}?year=2020"):
            page, problems = _open(browser, base + url)
            # the map works: layers drawn, a popup opens, the measuring tool (precompiled templates) opens
            opened = page.evaluate(f"""() => {{ const map = {_MAP}; let text = '';
                map.eachLayer(l => {{ if (!text && l.getPopup && l.getPopup() && l.getBounds) {{
                    l.openPopup(l.getBounds().getCenter());
                    text = document.querySelector('.leaflet-popup-content').innerText; }} }});
                return text; }}""")  # type: ignore[attr-defined]
            assert "测试" in opened and "地均产值" in opened, opened
            page.locator(".leaflet-control-measure").hover()  # type: ignore[attr-defined]
            page.locator(".leaflet-control-measure .js-start").click()  # type: ignore[attr-defined]
            assert page.locator(".leaflet-control-measure .js-cancel").is_visible()  # type: ignore[attr-defined]
            _clean(page, problems)
            page.close()  # type: ignore[attr-defined]
        page, problems = _open(browser, f"{base}/data/land")
        assert "土地数据" in page.inner_text("h1")  # type: ignore[attr-defined]
        _clean(page, problems)
        page, problems = _open(browser, f"{base}/docs")
        page.wait_for_selector(".opblock", timeout=15000)  # type: ignore[attr-defined]
        assert page.locator(".opblock").count() > 30  # type: ignore[attr-defined]
        _clean(page, problems)
        page, problems = _open(browser, f"{base}/redoc")
        page.wait_for_selector("h1", timeout=15000)  # type: ignore[attr-defined]
        assert "松江区产业园区空间规划平台" in page.inner_text("h1")  # type: ignore[attr-defined]
        _clean(page, problems)


# -- links never reflect a forged Host ------------------------------------------------------------
def _links(body: dict) -> list[str]:  # type: ignore[type-arg]
    return [link["href"] for link in body["links"]]


def test_a_forged_host_is_refused_not_reflected(client) -> None:  # type: ignore[no-untyped-def]
    for url in ("/ogc", "/ogc/collections/parks/items?limit=1", "/tiles/parks.json"):
        r = client.get(url, headers={"Host": "evil.example"})
        assert r.status_code == 422 and "Host" in r.json()["description"], (url, r.text)
        assert "evil.example" not in r.headers.get("location", "")
    assert all(h.startswith("http://testserver/") for h in _links(client.get("/ogc").json()))


def test_links_use_the_public_base_url_whatever_the_host(db_url, sample) -> None:  # type: ignore[no-untyped-def]
    from fastapi.testclient import TestClient

    from gis_service.api.app import create_app
    from gis_service.api.config import ApiSettings
    from gis_service.settings import Settings

    app = create_app(Settings(database_url=db_url, public_base_url="https://gis.example.cn/songjiang/"),
                     ApiSettings(_env_file=None))  # type: ignore[call-arg]
    with TestClient(app) as c:
        landing = c.get("/ogc", headers={"Host": "evil.example"}).json()
        items = c.get("/ogc/collections/parks/items?limit=1", headers={"Host": "evil.example"}).json()
        tilejson = c.get("/tiles/parks.json", headers={"Host": "evil.example"}).json()
    hrefs = _links(landing) + _links(items) + tilejson["tiles"]
    assert all(h.startswith("https://gis.example.cn/songjiang/") for h in hrefs), hrefs


def test_a_bad_public_base_url_is_refused_at_start() -> None:
    from pydantic import ValidationError

    from gis_service.settings import Settings

    with pytest.raises(ValidationError, match="GIS_PUBLIC_BASE_URL"):
        Settings(public_base_url="gis.example.cn?x=1")


# -- OGC datetime ---------------------------------------------------------------------------------
@pytest.mark.parametrize("value", ["garbage", "2020-13-01", "2020-01-01T25:00:00Z", "2020", "..", "../..",
                                   "2020-01-01/2021-01-01/2022-01-01", "2020-01-01T00:00:00"])
def test_ogc_datetime_garbage_is_refused_naming_the_parameter(client, value) -> None:  # type: ignore[no-untyped-def]
    r = client.get("/ogc/collections/parks/items", params={"datetime": value})
    body = r.json()
    assert r.status_code == 422 and body["code"] == "InvalidParameterValue", r.text
    assert body["description"].startswith("datetime: ") and "RFC 3339" in body["description"] and "'..'" in body["description"]


@pytest.mark.parametrize("value", ["2020-01-01", "2020-01-01T00:00:00Z", "2020-01-01T08:00:00.5+08:00",
                                   "2020-01-01/..", "../2020-12-31T00:00:00Z", "/2020-12-31", "2019-01-01/2020-12-31"])
def test_ogc_datetime_instants_and_intervals_are_accepted(client, value) -> None:  # type: ignore[no-untyped-def]
    r = client.get("/ogc/collections/parks/items", params={"datetime": value})
    assert r.status_code == 200 and r.json()["numberReturned"] == 3, r.text


# -- /health --------------------------------------------------------------------------------------
def test_health_versions_only_for_an_admin(db_url, engine, sample) -> None:  # type: ignore[no-untyped-def]
    from tests.api.writes_support import make_keys

    keys = make_keys(engine)
    with make_client(db_url) as c:
        bodies = {who: c.get("/health", headers={"X-API-Key": keys[who]} if keys[who] else {}).json()
                  for who in ("none", "viewer", "analyst", "admin")}
    assert bodies["none"] == bodies["viewer"] == bodies["analyst"] == {"status": "ok"}
    assert bodies["admin"]["postgresql"] and bodies["admin"]["postgis"] and bodies["admin"]["version"]
