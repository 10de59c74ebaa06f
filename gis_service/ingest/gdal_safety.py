"""GDAL reads of untrusted files: no network, and only the driver the file's type implies.

Every GDAL read in the package (vector uploads, land files, the 四至 CLI) hands GDAL the
string :func:`gdal_source` returns, never the path itself.

Network
    GDAL fetches URLs that a file names: a GeoJSON ``crs`` of type ``link``, a GML
    ``schemaLocation`` (WFS DescribeFeatureType), xlinks, KML styles, ``/vsicurl/`` sources
    of a VRT...  An unanswered URL held a request thread for 30 s, and the request comes
    from inside the network (SSRF).  :data:`OFFLINE_OPTIONS` are set process-wide when this
    module is imported (it is imported by every reading module): HTTP goes to a closed
    local proxy with one-second timeouts and no retries, ``/vsicurl/`` allows no file, and
    the GML/KML drivers neither download schemas nor resolve links.  libcurl still honours
    a ``NO_PROXY`` environment variable, which is why the checks below keep links from
    reaching GDAL in the first place.
Drivers
    GDAL picks a driver by content, not by name: a GML document named ``.geojson`` was read
    as GML.  Each type is opened by its driver only: ``GeoJSON:``/``GPKG:`` prefixes force
    the driver; for the others the content is checked first (Shapefile magic number, a
    KML root element without another XML driver's markers, a ``.gdb`` directory) and the
    driver GDAL recognised is checked before any layer is read.  Paths GDAL would treat as
    virtual or remote (``/vsicurl/``, ``http://``, ``WFS:``...) are refused.
GeoJSON ``crs``
    Every ``crs`` member (GDAL matches member names in any case, anywhere in the file) must
    be an EPSG/OGC name; ``link``/``url`` and anything else are refused before GDAL opens
    the file.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

import pyogrio

from gis_service.ingest.errors import CrsError, UnreadableFileError

#: Set at import, process-wide: GDAL makes no network request while reading.
OFFLINE_OPTIONS: Mapping[str, str] = {
    "GDAL_HTTP_PROXY": "127.0.0.1:9",  # discard port: nothing listens, the connection is refused
    "GDAL_HTTPS_PROXY": "127.0.0.1:9",
    "GDAL_HTTP_CONNECTTIMEOUT": "1",
    "GDAL_HTTP_TIMEOUT": "1",
    "GDAL_HTTP_MAX_RETRY": "0",
    "GDAL_HTTP_RETRY_DELAY": "0",
    "GDAL_HTTP_NETRC": "NO",
    "CPL_VSIL_CURL_ALLOWED_EXTENSIONS": ".gis-service-no-network",
    "CPL_VSIL_CURL_ALLOWED_FILENAME": "/vsicurl/gis-service-no-network",
    "GML_DOWNLOAD_SCHEMA": "NO",
    "GML_SKIP_RESOLVE_ELEMS": "ALL",
    "GML_USE_SCHEMA_IMPORT": "NO",
    "LIBKML_RESOLVE_STYLE": "NO",
    "LIBKML_EXTERNAL_STYLE": "NO",
    "GDAL_VRT_ENABLE_PYTHON": "NO",
}
pyogrio.set_gdal_config_options(dict(OFFLINE_OPTIONS))

#: The GDAL driver(s) each file type must be read with (KML: LIBKML when GDAL has it, else KML).
DRIVERS: Mapping[str, tuple[str, ...]] = {
    ".shp": ("ESRI Shapefile",),
    ".gpkg": ("GPKG",),
    ".geojson": ("GeoJSON",),
    ".json": ("GeoJSON",),
    ".kml": ("LIBKML", "KML"),
    ".gdb": ("OpenFileGDB",),
}
_PREFIXES = {".geojson": "GeoJSON:", ".json": "GeoJSON:", ".gpkg": "GPKG:"}
#: Strings GDAL reads as something other than a local file.
_VIRTUAL = re.compile(r"^(?:/vsi|\\\\|[A-Za-z][A-Za-z0-9_+.-]+:)|://", re.IGNORECASE)  # a drive letter "C:" passes
_SNIFF_BYTES = 64 * 1024
_SCAN_BLOCK = 8 * 1024**2
_JSON_WINDOW = 64 * 1024
_SHP_MAGIC = b"\x00\x00\x27\x0a"  # file code 9994, big-endian
_SQLITE_MAGIC = b"SQLite format 3\x00"
_KML_ROOT = re.compile(rb"^\s*(?:<\?xml[^>]*\?>\s*)?(?:<!--.*?-->\s*)*<(?:[\w.-]+:)?kml[\s>/]", re.DOTALL)
#: What other GDAL XML/JSON drivers recognise a file by: a .kml holding one is refused.
_FOREIGN_MARKS = (
    b"opengis.net/gml", b"opengis.net/wfs", b"<ogrvrtdatasource", b"<ogrwfsdatasource", b"<vrtdataset",
    b"<gdal_wms", b"<gpx", b"<rss", b"<feed", b"<rdf:rdf", b"<jcsdatafile", b"<osm", b"<mapml",
    b"<office:document", b"gdal_streamed_alg",
)


@dataclass(frozen=True)
class GdalSource:
    """A checked local file: the string to give GDAL, and whether a GeoJSON has a ``crs`` member."""

    text: str
    crs_member: bool = False


def gdal_source(path: Path, label: str) -> GdalSource:
    """Check ``path`` is a local file of the type its suffix says, and how GDAL must open it.

    Raises
    ------
    UnreadableFileError
        Not a local file, an unsupported type, content of another format, or GDAL
        recognising it as another format.
    CrsError
        A GeoJSON ``crs`` member that is a link or not an EPSG/OGC name.
    """
    text = str(path)
    if _VIRTUAL.search(text):
        raise UnreadableFileError(f"{label}: {text!r} is not a local file; give the path of a file on this machine")
    suffix = path.suffix.lower()
    if suffix not in DRIVERS:
        raise UnreadableFileError(f"{label}: unsupported file type {suffix or '(none)'}")
    if not path.exists():
        raise UnreadableFileError(f"{label}: file not found")
    crs_member = _check_content(path, suffix, label)
    if suffix in _PREFIXES:
        return GdalSource(_PREFIXES[suffix] + text, crs_member)
    try:  # no prefix forces these drivers: see which one GDAL takes before any layer is read
        driver = str(pyogrio.read_info(text)["driver"])
    except Exception as exc:  # pyogrio/GDAL raise several types for unreadable files
        raise UnreadableFileError(f"{label}: cannot be read ({exc})") from exc
    check_driver(suffix, driver, label)
    return GdalSource(text, crs_member)


def check_driver(suffix: str, driver: str, label: str) -> None:
    """Refuse a file GDAL recognised as another format than its type (``suffix``) implies."""
    expected = DRIVERS[suffix]
    if driver not in expected:
        raise UnreadableFileError(
            f"{label}: a {suffix} file must be read by GDAL's {' or '.join(expected)} driver, "
            f"but GDAL recognised it as {driver}"
        )


# ----------------------------------------------------------------------------- content
def _check_content(path: Path, suffix: str, label: str) -> bool:
    """Refuse content of another format; returns whether a GeoJSON has a ``crs`` member."""
    if suffix == ".gdb":
        if not path.is_dir():
            raise UnreadableFileError(f"{label}: a File Geodatabase is a .gdb directory, not a file")
        return False
    if not path.is_file():
        raise UnreadableFileError(f"{label}: a directory, not a {suffix} file")
    with path.open("rb") as handle:
        head = handle.read(_SNIFF_BYTES)
    if suffix in (".geojson", ".json"):
        start = head.removeprefix(b"\xef\xbb\xbf").lstrip()[:1]
        if start != b"{":
            raise UnreadableFileError(f"{label}: not GeoJSON ({_starts_with(start)}); a {suffix} file must hold a JSON object")
        return check_geojson_crs(path, label)
    if suffix == ".gpkg" and not head.startswith(_SQLITE_MAGIC):
        raise UnreadableFileError(f"{label}: not a GeoPackage (no SQLite header)")
    if suffix == ".shp" and not head.startswith(_SHP_MAGIC):
        raise UnreadableFileError(f"{label}: not a Shapefile (the .shp does not start with the Shapefile file code)")
    if suffix == ".kml":
        _check_kml(head, label)
    return False


def _starts_with(start: bytes) -> str:
    if not start:
        return "the file is empty"
    if start == b"<":
        return "it starts with '<': XML such as GML or KML"
    return f"it starts with {start.decode('latin-1')!r}"


def _check_kml(head: bytes, label: str) -> None:
    body = head.removeprefix(b"\xef\xbb\xbf")
    if not _KML_ROOT.match(body):
        raise UnreadableFileError(f"{label}: not KML (the document's root element is not <kml>)")
    lowered = body.lower()
    found = next((mark for mark in _FOREIGN_MARKS if mark in lowered), None)
    if found is not None:
        raise UnreadableFileError(
            f"{label}: a KML document containing {found.decode()!r}, which makes GDAL read it as another format; "
            "remove it or export the layer as plain KML"
        )


# ----------------------------------------------------------------------------- GeoJSON crs
_CRS_KEY = re.compile(rb'"(?:c|\\u00[46]3)(?:r|\\u00[57]2)(?:s|\\u00[57]3)"\s*:\s*', re.IGNORECASE)
_CRS_URN = re.compile(r"urn:ogc:def:crs:(?:EPSG|OGC):[0-9.]*:[A-Za-z0-9]+|EPSG:[0-9]+", re.IGNORECASE)
_CRS_ADVICE = '{"type": "name", "properties": {"name": "urn:ogc:def:crs:EPSG::4490"}} or declare the CRS with --crs'


def check_geojson_crs(path: Path, label: str) -> bool:
    """Refuse a GeoJSON whose ``crs`` members GDAL would fetch or could not read offline.

    Every ``crs`` member in the file (GDAL matches member names in any case) is read
    without network: ``{"type": "name"}`` with an EPSG/OGC URN (or ``EPSG:n``) and
    ``{"type": "EPSG", "properties": {"code": n}}`` are accepted, ``link``/``url`` and
    anything else refused.  Returns whether the file has a ``crs`` member.

    Raises
    ------
    CrsError
    """
    found = False
    for offset, value in _crs_members(path):
        if isinstance(value, dict):
            _check_crs_member(value, offset, label)
            found = True
    return found


def _crs_members(path: Path) -> Iterator[tuple[int, object]]:
    """(byte offset, parsed value) of each ``"crs":`` member, streaming the file."""
    with path.open("rb") as handle:
        data, base, eof = b"", 0, False
        while not eof:
            block = handle.read(_SCAN_BLOCK)
            eof = not block
            data += block
            limit = len(data) if eof else len(data) - _JSON_WINDOW
            for match in _CRS_KEY.finditer(data):
                if match.start() >= limit:
                    break
                yield base + match.start(), _json_value(data[match.end() : match.end() + _JSON_WINDOW])
            keep = max(limit, 0)
            data, base = data[keep:], base + keep


def _json_value(text: bytes) -> object:
    try:
        return json.JSONDecoder().raw_decode(text.decode("utf-8", "replace"))[0]
    except ValueError:
        return _Unparsed()


class _Unparsed(dict):  # type: ignore[type-arg]
    """A ``crs`` value that could not be parsed within the window (refused)."""


def _member(obj: object, name: str) -> object:
    """``obj[name]`` matched in any case, as GDAL does; ``None`` when absent."""
    if isinstance(obj, dict):
        for key, value in obj.items():
            if str(key).lower() == name:
                return value
    return None


def _check_crs_member(value: dict, offset: int, label: str) -> None:  # type: ignore[type-arg]
    where = f"{label}: the 'crs' member at byte {offset:,}"
    if isinstance(value, _Unparsed):
        raise CrsError(f'{where} cannot be parsed; declare the CRS with {{"type": "name"}} and an EPSG URN')
    kind = str(_member(value, "type") or "")
    props = _member(value, "properties")
    if kind.lower().startswith(("link", "url")):
        href = _member(props, "href") or _member(props, "url")
        raise CrsError(f"{where} is a link ({href!r}): linked CRS definitions are not fetched; use {_CRS_ADVICE}")
    if kind.lower() == "name" and _CRS_URN.fullmatch(str(_member(props, "name") or "")):
        return
    if kind.lower() == "ogc" and _CRS_URN.fullmatch(str(_member(props, "urn") or "")):
        return
    if kind.lower() == "epsg" and str(_member(props, "code") or "").isdigit():
        return
    raise CrsError(
        f"{where} ({json.dumps(value, ensure_ascii=False)[:200]}) is not an EPSG/OGC URN; use {_CRS_ADVICE}"
    )


__all__ = ["DRIVERS", "OFFLINE_OPTIONS", "GdalSource", "check_driver", "check_geojson_crs", "gdal_source"]
