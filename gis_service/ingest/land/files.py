"""Opening land files as offices really have them, and streaming them in checked chunks.

Land data (三调 DLTB patches, supply records, parcel registers) reaches the platform as
zipped Shapefiles with GBK attributes and no ``.cpg``, zipped File Geodatabases holding
several layers, GeoPackages, GeoJSON or KML, in CGCS2000 lon/lat (EPSG:4490) or in
CGCS2000 3-degree Gauss-Kruger metres with (EPSG:4528) or without (EPSG:4549) the zone
prefix.  :func:`open_land_file` resolves the container, picks the layer, the attribute
encoding and the CRS, and says why (``encoding_evidence``, ``crs_evidence``);
:func:`read_chunks` then streams the features (a survey layer has ~10^6 of them) as
GeoDataFrames in EPSG:4326 with MultiPolygon geometries, checked vectorised.

Rules
-----
Containers
    ``.shp`` (with its ``.shx``/``.dbf``), ``.gpkg``, ``.geojson``/``.json``, ``.kml``, a
    ``.gdb`` directory, or a ``.zip`` holding any of them (typically one or more
    Shapefiles or one ``*.gdb/`` folder).  A zip is checked and extracted with
    :func:`~gis_service.ingest.archive.extract_zip` under the land limits
    (``ImportLimits.max_land_*``) into a temporary directory that lives as long as the
    ``with`` block.
Layer
    ``options.layer``; else the only layer; else the only polygon layer; else the layer
    named DLTB (any case); else refused, listing the layers with their geometry types.
    The Shapefiles of one zip are the layers of that zip (named after their files).
Drivers and network
    As every GDAL read of the package, through :mod:`gis_service.ingest.gdal_safety`:
    each file type is read by the one GDAL driver it implies, GeoJSON ``crs`` links are
    refused before GDAL sees the file, and GDAL makes no network request.
Encoding (Shapefile only; the other drivers store UTF-8)
    ``options.encoding``; else the ``.cpg`` (GBK/936/CP936/GB2312/GB18030 are read as
    GB18030, their superset; UTF-8/65001 as UTF-8); else UTF-8 when every string byte of
    the ``.dbf`` (field names and character fields) is valid UTF-8 (pure ASCII is),
    otherwise GB18030.  The ``.dbf`` is scanned in record-aligned blocks, never loaded
    whole, and the scan stops at the first byte that is not UTF-8.
CRS
    From the file (``.prj``, layer SRS, GeoJSON ``crs`` member; KML is WGS 84 by
    definition).  Accepted: EPSG:4490, EPSG:4549, EPSG:4528, EPSG:4326 (and OGC:CRS84),
    recognised from ESRI-style WKT too.  ``options.crs`` declares the CRS of a file
    without one, or ``"gcj02"`` for Amap/Tencent lon/lat (the only way GCJ-02 is
    accepted); a given CRS that differs from the file's is refused.  EPSG:4490 is treated
    as EPSG:4326 (centimetres apart, see DOMAIN.md); the projected CRSs go through
    :mod:`gis_service.coords.crs`, GCJ-02 through :mod:`gis_service.coords.gcj02`.
Checks (per chunk, vectorised with shapely 2)
    Geometry present and not empty; Polygon or MultiPolygon; every coordinate a finite
    number (a NaN is named as such, not as outside or invalid); every geometry's bounds
    inside ``ImportLimits.land_extent`` (Songjiang with a margin) after the transform --
    the refusal names the CRS the coordinates probably are (lon/lat, swapped axes,
    EPSG:4549, EPSG:4528); valid (:func:`shapely.make_valid` with ``repair``, keeping
    the polygonal parts).  Only the first failing feature's message is built.

Every refusal is an :class:`~gis_service.errors.InputError` whose message starts with the
file's label (and layer) and names the feature (0-based index in the layer, and its id
field's value: ``feature 12 (BSM 3101170000012)``).  A refusal can come after earlier
chunks were yielded: importers write in one transaction, or discard what they wrote.
"""

from __future__ import annotations

import codecs
import tempfile
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyogrio
import shapely
from pyproj import CRS
from pyproj.exceptions import CRSError

from gis_service.coords.crs import STORED_CRS, transform_geometries, transformer
from gis_service.coords.gcj02 import gcj02_to_wgs84_arrays
from gis_service.errors import InputError, PayloadTooLargeError
from gis_service.ingest.archive import check_upload_size, extract_zip
from gis_service.ingest.gdal_safety import check_driver, check_geojson_crs, gdal_source
from gis_service.ingest.errors import (
    CrsError,
    GeometryTypeError,
    InvalidGeometryError,
    OutsideExtentError,
    SwappedAxesError,
    UnknownReferenceError,
    UnreadableFileError,
)
from gis_service.ingest.limits import ImportLimits
from gis_service.ingest.vector import not_a_number

GCJ02 = "GCJ-02"
#: CRSs a land file may be in, with the name used in messages.
LAND_CRS: dict[str, str] = {
    "EPSG:4490": "CGCS2000 longitude/latitude",
    "EPSG:4549": "CGCS2000 3-degree GK CM 120E, no zone prefix",
    "EPSG:4528": "CGCS2000 3-degree GK zone 40, with the zone prefix",
    "EPSG:4326": "WGS 84 longitude/latitude",
}
_LONLAT = frozenset({"EPSG:4490", "EPSG:4326", GCJ02})
#: Fields that name a feature in messages, in order of preference (matched in any case).
DEFAULT_ID_FIELDS = ("BSM", "电子监管号", "DZJGH", "ZDDM", "BDCDYH", "TBBH", "OBJECTID", "FID")
_FILE_SUFFIXES = (".shp", ".gpkg", ".geojson", ".json", ".kml")
#: .cpg contents (upper case, spaces removed) and the encoding they mean.
_CPG: dict[str, str] = {
    **dict.fromkeys(("UTF-8", "UTF8", "65001"), "UTF-8"),
    **dict.fromkeys(("GBK", "936", "CP936", "ANSI936", "GB2312", "GB18030", "54936", "20936"), "GB18030"),
}
_SCAN_BLOCK = 8 * 1024**2


# ----------------------------------------------------------------------------- public types
@dataclass(frozen=True)
class LandFileOptions:
    """How to open and read one land file.

    Parameters
    ----------
    layer
        Layer to read (``"DLTB"`` in a File Geodatabase or GeoPackage; a Shapefile's name
        without ``.shp`` in a zip of several).
    encoding
        Encoding of a Shapefile's ``.dbf`` (``"GBK"``...), overriding the ``.cpg`` and the
        detection.
    crs
        CRS of a file that declares none (``"EPSG:4549"``...), or ``"gcj02"`` for
        Amap/Tencent lon/lat (the only way GCJ-02 is accepted).
    repair
        Repair invalid polygons with :func:`shapely.make_valid` instead of refusing them.
    id_field
        Field that names a feature in messages; default: the first present of
        :data:`DEFAULT_ID_FIELDS`, else none.
    chunk_size
        Features per chunk of :func:`read_chunks`.
    limits
        Size limits (``max_land_*``) and the accepted extent (``land_extent``).
    """

    layer: str | None = None
    encoding: str | None = None
    crs: str | None = None
    repair: bool = False
    id_field: str | None = None
    chunk_size: int = 100_000
    limits: ImportLimits = field(default_factory=ImportLimits)


@dataclass(frozen=True)
class LandFile:
    """An opened land file: what will be read and why.

    Attributes
    ----------
    path
        What the user gave.
    label
        Name of the file (and layer) in messages: ``"dltb.zip!DLTB.shp"``,
        ``"survey.gdb.zip!DLTB.gdb layer DLTB"``.
    layer, driver
        The layer read and the GDAL driver reading it.
    fields
        Attribute field names as in the file.
    feature_count
        Features in the layer.
    encoding, encoding_evidence
        Encoding of the attributes (``"UTF-8"``, ``"GB18030"``...) and why.
    crs, crs_evidence
        CRS of the coordinates (``"EPSG:4528"``, ``"GCJ-02"``...) and why.
    id_field
        Field naming a feature in messages, or ``None``.
    """

    path: Path
    label: str
    layer: str
    driver: str
    fields: tuple[str, ...]
    feature_count: int
    encoding: str | None
    encoding_evidence: str
    crs: str
    crs_evidence: str
    id_field: str | None
    _dataset: Path = field(default=Path(), repr=False, compare=False)
    _gdal: str = field(default="", repr=False, compare=False)
    _fid_id: bool = field(default=False, repr=False, compare=False)


@dataclass
class LandChunk:
    """Consecutive features of a layer, checked, in EPSG:4326.

    Attributes
    ----------
    start
        Index of the chunk's first feature in the layer (0-based); the frame's index runs
        from ``start``.
    frame
        The attributes as read (strings decoded) and the geometry as MultiPolygon in
        EPSG:4326.
    repaired
        Per row: the geometry was invalid and has been repaired (only with ``repair``).
    """

    start: int
    frame: gpd.GeoDataFrame
    repaired: np.ndarray


@dataclass(frozen=True)
class _Layer:
    """One candidate layer: the dataset GDAL opens, the layer name, its declared type."""

    dataset: Path
    name: str
    geometry_type: str | None
    source: str  # label of the dataset: "dltb.zip!DLTB.shp"
    gdal: str  # what GDAL opens (gis_service.ingest.gdal_safety.gdal_source)
    crs_member: bool = False  # a GeoJSON with a 'crs' member

    @property
    def suffix(self) -> str:
        return self.dataset.suffix.lower()


# ----------------------------------------------------------------------------- opening
@contextmanager
def open_land_file(path: str | Path, options: LandFileOptions | None = None) -> Iterator[LandFile]:
    """Open a land file: resolve the container, pick layer, encoding and CRS.

    Parameters
    ----------
    path
        ``.shp``, ``.gpkg``, ``.geojson``/``.json``, ``.kml``, a ``.gdb`` directory or a
        ``.zip`` holding a Shapefile or a File Geodatabase.
    options
        Layer, encoding, CRS, id field and limits (default: :class:`LandFileOptions`
        built at the call, so the limits are read from the environment then).

    Yields
    ------
    LandFile
        Valid for :func:`read_chunks` inside the ``with`` block (a zip's extraction is
        removed when it ends).

    Raises
    ------
    UnreadableFileError, CrsError, GeometryTypeError, UnknownReferenceError,
    PayloadTooLargeError, UnsafeArchiveError
    """
    path = Path(path)
    options = options or LandFileOptions()
    limits = land_limits(options.limits)
    with ExitStack() as stack:
        datasets = _datasets(path, limits, stack)
        layer = _pick_layer(path.name, _layers(datasets), options.layer)
        yield _describe(path, layer, options, limits)


def land_limits(limits: ImportLimits) -> ImportLimits:
    """``limits`` with the land bounds in place of the upload bounds (for :mod:`archive`)."""
    return limits.model_copy(
        update={
            "max_upload_bytes": limits.max_land_upload_bytes,
            "max_uncompressed_bytes": limits.max_land_uncompressed_bytes,
            "max_zip_entries": limits.max_land_zip_entries,
        }
    )


def _datasets(path: Path, limits: ImportLimits, stack: ExitStack) -> list[tuple[Path, str]]:
    """The datasets (file or .gdb directory, label) the user's path stands for."""
    suffix = path.suffix.lower()
    if not path.exists():
        raise UnreadableFileError(f"{path.name}: file not found")
    if path.is_dir():
        if suffix != ".gdb":
            raise UnreadableFileError(f"{path.name}: a directory; give a .gdb directory, a file or a .zip")
        _check_total_size(path.name, [f for f in path.rglob("*") if f.is_file()], limits)
        return [(path, path.name)]
    if suffix == ".zip":
        tmp = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="gis-land-"))).resolve()
        return _datasets_in_zip(path.name, tmp, extract_zip(path, tmp, limits))
    if suffix not in _FILE_SUFFIXES:
        raise UnreadableFileError(
            f"{path.name}: unsupported file type {suffix or '(none)'}; expected a zipped Shapefile or File "
            "Geodatabase, .shp, .gdb, .gpkg, .geojson or .kml"
        )
    if suffix == ".shp":
        _check_total_size(path.name, _shapefile_parts(path, path.name), limits)
    else:
        check_upload_size(path, limits)
    return [(path, path.name)]


def _check_total_size(label: str, files: list[Path], limits: ImportLimits) -> None:
    total = sum(f.stat().st_size for f in files)
    if total > limits.max_upload_bytes:
        raise PayloadTooLargeError(
            f"{label}: {total:,} bytes exceeds the limit of {limits.max_upload_bytes:,} bytes for land files"
        )


def _shapefile_parts(shp: Path, label: str) -> list[Path]:
    """The .shp and its sidecars; refuses a Shapefile without .shx or .dbf."""
    if not shp.is_file():
        raise UnreadableFileError(f"{label}: file not found")
    parts = [f for f in shp.parent.iterdir() if f.is_file() and f.stem == shp.stem]
    for needed in (".shx", ".dbf"):
        if _sidecar(shp, needed) is None:
            raise UnreadableFileError(
                f"{label}: the Shapefile has no {needed} file (a Shapefile is .shp + .shx + .dbf, "
                ".prj gives its CRS and .cpg its encoding)"
            )
    return parts


def _sidecar(shp: Path, suffix: str) -> Path | None:
    """``shp``'s sidecar with ``suffix`` (any case), or ``None``."""
    for candidate in shp.parent.iterdir():
        if candidate.stem == shp.stem and candidate.suffix.lower() == suffix and candidate.is_file():
            return candidate
    return None


def _datasets_in_zip(name: str, root: Path, files: list[Path]) -> list[tuple[Path, str]]:
    files = [f for f in files if "__MACOSX" not in f.relative_to(root).parts and not f.name.startswith("._")]
    gdbs = sorted({gdb for f in files if (gdb := _gdb_of(f, root)) is not None})
    inner = sorted(f for f in files if f.suffix.lower() in _FILE_SUFFIXES and _gdb_of(f, root) is None)
    found = gdbs + inner
    if not found:
        listed = ", ".join(f.relative_to(root).as_posix() for f in files[:10]) or "nothing"
        raise UnreadableFileError(
            f"{name}: no Shapefile, File Geodatabase (.gdb folder), GeoPackage, GeoJSON or KML in the archive "
            f"(it holds {listed})"
        )
    for shp in (f for f in inner if f.suffix.lower() == ".shp"):
        _shapefile_parts(shp, f"{name}!{shp.relative_to(root).as_posix()}")
    return [(f, f"{name}!{f.relative_to(root).as_posix()}") for f in found]


def _gdb_of(file: Path, root: Path) -> Path | None:
    """The outermost ``*.gdb`` folder holding ``file`` inside ``root``, or ``None``."""
    for parent in reversed(file.relative_to(root).parents):
        if parent.suffix.lower() == ".gdb":
            return root / parent
    return None


# ----------------------------------------------------------------------------- layers
def _layers(datasets: list[tuple[Path, str]]) -> list[_Layer]:
    layers: list[_Layer] = []
    for dataset, label in datasets:
        source = gdal_source(dataset, label)
        try:
            listed = pyogrio.list_layers(source.text)
        except Exception as exc:  # pyogrio/GDAL raise several types for unreadable files
            raise UnreadableFileError(f"{label}: cannot be read ({exc})") from exc
        layers.extend(
            _Layer(dataset, str(name), None if kind is None else str(kind), label, source.text, source.crs_member)
            for name, kind in listed
        )
    return layers


def _is_polygonal(geometry_type: str | None) -> bool:
    kind = (geometry_type or "").lower()
    return "polygon" in kind or "surface" in kind


def _is_other_type(geometry_type: str | None) -> bool:
    """A declared type that can hold no polygon (unknown/collection types can)."""
    kind = (geometry_type or "").lower()
    return geometry_type is None or not (_is_polygonal(geometry_type) or "unknown" in kind or "geometry" in kind)


def _listing(layers: list[_Layer]) -> str:
    return ", ".join(f"{layer.name} ({layer.geometry_type or 'no geometry'})" for layer in layers)


def _pick_layer(name: str, layers: list[_Layer], wanted: str | None) -> _Layer:
    """The layer to read (see the module's rules)."""
    if not layers:
        raise UnreadableFileError(f"{name}: no layer in the file")
    if wanted is not None:
        return _named_layer(name, layers, wanted)
    if len(layers) == 1:
        return layers[0]
    polygonal = [layer for layer in layers if _is_polygonal(layer.geometry_type)]
    if len(polygonal) == 1:
        return polygonal[0]
    dltb = [layer for layer in layers if layer.name.lower() == "dltb"]
    if len(dltb) == 1:
        return dltb[0]
    raise UnreadableFileError(
        f"{name}: {len(layers)} layers ({len(polygonal)} of polygons) and none named DLTB: {_listing(layers)}; "
        "say which layer to read"
    )


def _named_layer(name: str, layers: list[_Layer], wanted: str) -> _Layer:
    matches = [layer for layer in layers if layer.name == wanted] or [
        layer for layer in layers if layer.name.lower() == wanted.lower()
    ]
    if len(matches) == 1:
        return matches[0]
    what = "several layers are" if matches else "no layer is"
    raise UnreadableFileError(f"{name}: {what} named {wanted!r}; layers: {_listing(matches or layers)}")


def _label(layer: _Layer) -> str:
    """``source`` for single-layer formats, ``source layer NAME`` for containers of layers."""
    return layer.source if layer.suffix in (".shp", ".geojson", ".json") else f"{layer.source} layer {layer.name}"


# ----------------------------------------------------------------------------- describing
def _describe(path: Path, layer: _Layer, options: LandFileOptions, limits: ImportLimits) -> LandFile:
    label = _label(layer)
    if _is_other_type(layer.geometry_type):
        raise GeometryTypeError(
            f"{label}: the layer holds {layer.geometry_type or 'no geometry'}; land data must be polygons"
        )
    encoding, encoding_evidence = _encoding(layer, options.encoding, label)
    info = _read_info(layer, encoding if layer.suffix == ".shp" else None, label)
    count = int(info["features"])
    if count > limits.max_land_features:
        raise PayloadTooLargeError(
            f"{label}: {count:,} features, the limit for land files is {limits.max_land_features:,}"
        )
    crs, crs_evidence = _crs(layer, info.get("crs"), options.crs, label)
    fields = tuple(str(name) for name in info["fields"])
    id_field, fid_id = _id_field(fields, str(info.get("fid_column") or ""), options.id_field, label)
    return LandFile(
        path=path,
        label=label,
        layer=layer.name,
        driver=str(info["driver"]),
        fields=fields,
        feature_count=count,
        encoding=encoding,
        encoding_evidence=encoding_evidence,
        crs=crs,
        crs_evidence=crs_evidence,
        id_field=id_field,
        _dataset=layer.dataset,
        _gdal=layer.gdal,
        _fid_id=fid_id,
    )


def _read_info(layer: _Layer, encoding: str | None, label: str) -> dict[str, Any]:
    try:
        info = pyogrio.read_info(layer.gdal, layer=layer.name, encoding=encoding, force_feature_count=True)
    except Exception as exc:  # pyogrio/GDAL raise several types for unreadable files
        raise UnreadableFileError(f"{label}: cannot be read ({exc})") from exc
    check_driver(layer.suffix, str(info["driver"]), label)
    return info


def _id_field(fields: tuple[str, ...], fid_column: str, wanted: str | None, label: str) -> tuple[str | None, bool]:
    """The id field and whether it is the layer's FID column (OBJECTID of a File Geodatabase)."""
    for name in (wanted,) if wanted else DEFAULT_ID_FIELDS:
        found = [f for f in fields if f == name] or [f for f in fields if f.lower() == name.lower()]
        if found:
            return found[0], False
        if fid_column and fid_column.lower() == name.lower():
            return fid_column, True
    if wanted:
        raise UnknownReferenceError(f"{label}: no field {wanted!r} to name features by; fields: {', '.join(fields)}")
    return None, False


# ----------------------------------------------------------------------------- encoding
def _encoding(layer: _Layer, given: str | None, label: str) -> tuple[str, str]:
    """Encoding of the attributes and the evidence for it."""
    if layer.suffix != ".shp":
        note = f"; --encoding {given} ignored" if given else ""
        return "UTF-8", f"not a DBF (driver stores UTF-8){note}"
    if given:
        _check_codec(given, label)
        return given, f"--encoding {given}"
    dbf = _sidecar(layer.dataset, ".dbf")
    assert dbf is not None  # checked with the sidecars
    cpg = _sidecar(layer.dataset, ".cpg")
    stated = cpg.read_bytes()[:64].decode("ascii", "replace").strip() if cpg else ""
    mapped = _cpg_encoding(stated) if stated else None
    if mapped == "UTF-8":
        bad = first_non_utf8_record(dbf)
        if bad is not None:
            raise UnreadableFileError(
                f"{label}: the .cpg says {stated} but {_record_text(bad)} of the .dbf is not valid UTF-8; "
                "fix the .cpg or give the encoding (e.g. --encoding GBK)"
            )
    if mapped:
        return mapped, f".cpg says {stated}"
    prefix = f".cpg says {stated!r} (not an encoding name): " if stated else ""
    if first_non_utf8_record(dbf) is None:
        return "UTF-8", f"{prefix}valid UTF-8"
    return "GB18030", f"{prefix}not valid UTF-8: read as GB18030"


def _check_codec(name: str, label: str) -> None:
    try:
        codecs.lookup(name)
    except LookupError as exc:
        raise UnreadableFileError(f"{label}: unknown encoding {name!r}") from exc


def _cpg_encoding(stated: str) -> str | None:
    """The encoding a .cpg's text means, ``None`` when it names none (``SYSTEM``, ``OEM``...)."""
    key = stated.upper().replace(" ", "").replace("_", "")
    if key in _CPG:
        return _CPG[key]
    if key.isdigit():
        key = f"CP{key}"
    elif key.startswith("8859"):
        key = "ISO-8859-" + key[4:].lstrip("-")
    try:
        return codecs.lookup(key).name.upper()
    except LookupError:
        return None


def _record_text(index: int) -> str:
    return "the field names" if index < 0 else f"record {index}"


def first_non_utf8_record(dbf: Path) -> int | None:
    """Index of the first ``.dbf`` record whose character fields are not valid UTF-8.

    ``-1`` when the field names are not, ``None`` when everything is (pure ASCII is).
    Streams the records in blocks of whole records; character columns that are pure
    ASCII in a block are skipped without decoding.
    """
    with dbf.open("rb") as handle:
        head = handle.read(32)
        if len(head) < 32:
            raise UnreadableFileError(f"{dbf.name}: not a dBase file (too short)")
        records = int.from_bytes(head[4:8], "little")
        header_size = int.from_bytes(head[8:10], "little")
        record_size = int.from_bytes(head[10:12], "little")
        names, columns = _dbf_fields(handle.read(max(header_size - 32, 0)))
        if not _is_utf8(names):
            return -1
        handle.seek(header_size)
        return _first_bad_record(handle, records, max(record_size, 1), columns)


def _dbf_fields(descriptors: bytes) -> tuple[bytes, list[tuple[int, int]]]:
    """The field names (joined) and the (offset, width) of the character fields."""
    names, columns, offset = bytearray(), [], 1  # byte 0 of a record is the deletion flag
    for start in range(0, len(descriptors) - 31, 32):
        desc = descriptors[start : start + 32]
        if desc[0] == 0x0D:
            break
        names += desc[:11].split(b"\0", 1)[0] + b" "
        kind = chr(desc[11])
        width = desc[16] if kind in "NF" else desc[16] + 256 * desc[17]  # as shapelib reads it
        if kind == "C":
            columns.append((offset, width))
        offset += width
    return bytes(names), columns


def _first_bad_record(handle: Any, records: int, record_size: int, columns: list[tuple[int, int]]) -> int | None:
    per_block = max(1, _SCAN_BLOCK // record_size)
    index = 0
    while index < records and columns:
        block = handle.read(min(per_block, records - index) * record_size)
        count = len(block) // record_size
        if count == 0:
            break
        rows = np.frombuffer(block, np.uint8, count * record_size).reshape(count, record_size)
        for offset, width in columns:
            column = rows[:, offset : offset + width]
            if column.size and column.max() >= 0x80:
                try:
                    column.tobytes().decode("utf-8")
                except UnicodeDecodeError as exc:
                    return index + exc.start // max(width, 1)
        index += count
    return None


def _is_utf8(data: bytes) -> bool:
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


# ----------------------------------------------------------------------------- CRS
def _crs(layer: _Layer, file_crs: str | None, given: str | None, label: str) -> tuple[str, str]:
    """The CRS of the coordinates and the evidence for it (see the module's rules)."""
    declared, source, implied = _declared_crs(layer, file_crs, label)
    if given is None:
        if declared is None:
            raise CrsError(
                f"{label}: the file declares no CRS ({source}); declare it (EPSG:4490, EPSG:4549, EPSG:4528, "
                "EPSG:4326, or gcj02 for Amap/Tencent lon/lat)"
            )
        return declared, source
    wanted = parse_land_crs(given, label)
    if wanted == GCJ02:
        if declared is not None and declared not in _LONLAT:
            raise CrsError(
                f"{label}: GCJ-02 data must be longitude/latitude, but the file declares {declared} ({source})"
            )
        return GCJ02, "given with --crs gcj02" + (f"; the file declares {declared}" if declared and not implied else "")
    if declared is None or implied:
        return wanted, "given with --crs" + (" (the GeoJSON has no 'crs' member)" if implied else "")
    if wanted != declared:
        raise CrsError(
            f"{label}: the file declares {declared} ({source}) but {wanted} was given with --crs; "
            "fix the file's CRS or give the one it declares"
        )
    return declared, source


def _declared_crs(layer: _Layer, file_crs: str | None, label: str) -> tuple[str | None, str, bool]:
    """(accepted CRS the file declares or ``None``, where it comes from, whether it is only a default)."""
    if layer.suffix == ".kml":
        return "EPSG:4326", "KML is WGS 84 by definition", False
    if layer.suffix in (".geojson", ".json") and not layer.crs_member:
        return ("EPSG:4326" if file_crs else None), "GeoJSON default (RFC 7946: no 'crs' member)", True
    source = {
        ".shp": "declared by the file (.prj)",
        ".geojson": "declared by the file ('crs' member)",
        ".json": "declared by the file ('crs' member)",
    }.get(layer.suffix, "declared by the file (layer SRS)")
    if not file_crs:
        return None, "no .prj" if layer.suffix == ".shp" else "no layer SRS", False
    try:
        crs = CRS.from_user_input(file_crs)
    except CRSError as exc:
        raise CrsError(f"{label}: the file's CRS cannot be read ({exc})") from exc
    return _accepted(crs, label, "the file declares"), source, False


def parse_land_crs(value: str, label: str) -> str:
    """A given CRS (``"EPSG:4549"``, ``"4490"``, WKT, ``"gcj02"``...) as an accepted label.

    Raises
    ------
    CrsError
        Unknown or not accepted.
    """
    if value.strip().lower().replace("-", "").replace("_", "") == "gcj02":
        return GCJ02
    try:
        crs = CRS.from_user_input(int(value) if value.strip().isdigit() else value)
    except CRSError as exc:
        raise CrsError(f"{label}: unknown CRS {value!r} given with --crs") from exc
    return _accepted(crs, label, "--crs gives")


def _accepted(crs: CRS, label: str, who: str) -> str:
    """``"EPSG:n"`` of an accepted CRS; :class:`CrsError` naming any other."""
    authority = crs.to_authority(min_confidence=70)
    code = "EPSG:4326" if authority == ("OGC", "CRS84") else (":".join(authority) if authority else None)
    if code in LAND_CRS:
        return code
    accepted = ", ".join(f"{key} ({name})" for key, name in LAND_CRS.items())
    if code is None:
        advice = (
            "it has no EPSG code; Shanghai's local 上海2000 plane system is not in the EPSG registry: such data "
            "must be converted to CGCS2000 by the surveying authority first"
        )
    else:
        advice = "convert it to CGCS2000 first (with the surveying authority's parameters where the datum differs)"
    raise CrsError(
        f"{label}: {who} {code or 'a CRS'} ({crs.name}), which is not accepted for land data; accepted: "
        f"{accepted}, or GCJ-02 declared with --crs gcj02; {advice}"
    )


# ----------------------------------------------------------------------------- reading
def read_chunks(land: LandFile, options: LandFileOptions | None = None) -> Iterator[LandChunk]:
    """Stream the layer's features in checked chunks of ``options.chunk_size``.

    The layer, encoding, CRS and id field are ``land``'s; ``options`` gives the chunk
    size, ``repair`` and the limits (``land_extent``, ``max_land_features``).

    Yields
    ------
    LandChunk
        Attributes as read and MultiPolygon geometries in EPSG:4326.

    Raises
    ------
    InvalidGeometryError, GeometryTypeError, OutsideExtentError, SwappedAxesError,
    UnreadableFileError, PayloadTooLargeError
    """
    options = options or LandFileOptions()
    if options.chunk_size < 1:
        raise ValueError("chunk_size must be positive")
    if not land._dataset.exists():
        raise UnreadableFileError(f"{land.label}: the file is closed; read it inside `with open_land_file(...)`")
    yield from _stream(land, options)


def _stream(land: LandFile, options: LandFileOptions) -> Iterator[LandChunk]:
    start = 0
    for geometry, table in _tables(land, options.chunk_size):
        if start + table.num_rows > options.limits.max_land_features:
            raise PayloadTooLargeError(
                f"{land.label}: more than {options.limits.max_land_features:,} features, the limit for land files"
            )
        yield _chunk(land, options, table, geometry, start)
        start += table.num_rows


def _tables(land: LandFile, size: int) -> Iterator[tuple[str, pa.Table]]:
    """(geometry column, table of ``size`` features) read with pyogrio's Arrow stream.

    Arrow batches cost about a tenth of the checks (1M squares: 0.2 s from a GeoPackage);
    ``skip_features``/``max_features`` re-open the layer per chunk and cost more.
    """
    read = 0
    try:
        with pyogrio.open_arrow(
            land._gdal,
            layer=land.layer,
            batch_size=size,
            use_pyarrow=True,
            encoding=land.encoding if land.driver == "ESRI Shapefile" else None,
            return_fids=land._fid_id,
        ) as (meta, reader):
            geometry = meta["geometry_name"] or "wkb_geometry"
            for table in _rebatch(reader, size):
                yield geometry, table
                read += table.num_rows
    except Exception as exc:  # pyogrio/GDAL/pyarrow raise several types for unreadable data
        raise UnreadableFileError(f"{land.label}: cannot be read at feature {read} or after ({exc})") from exc


def _rebatch(reader: pa.RecordBatchReader, size: int) -> Iterator[pa.Table]:
    """Tables of exactly ``size`` rows (the last one shorter) from a stream of batches."""
    pending: list[pa.RecordBatch] = []
    count = 0
    for batch in reader:
        pending.append(batch)
        count += batch.num_rows
        while count >= size:
            table = pa.Table.from_batches(pending, schema=reader.schema)
            yield table.slice(0, size)
            pending, count = table.slice(size).to_batches(), count - size
    if count:
        yield pa.Table.from_batches(pending, schema=reader.schema)


# ----------------------------------------------------------------------------- checking
@dataclass(frozen=True)
class _Context:
    """What the checks of one chunk need: the CRS, the extent, and how to name features."""

    label: str
    start: int
    crs: str
    extent: tuple[float, float, float, float]
    driver: str
    id_field: str | None = None
    ids: np.ndarray | None = None

    def feature(self, row: int) -> str:
        """``feature 12 (BSM 3101170000012)`` for row 12 - start of the chunk."""
        name = f"feature {self.start + row}"
        if self.id_field is None or self.ids is None:
            return name
        value = self.ids[row]
        shown = "empty" if value is None or (isinstance(value, float) and np.isnan(value)) or value == "" else value
        return f"{name} ({self.id_field} {shown})"

    def message(self, row: int, reason: str) -> str:
        return f"{self.label}: {self.feature(row)}: {reason}"


def _chunk(land: LandFile, options: LandFileOptions, table: pa.Table, geometry: str, start: int) -> LandChunk:
    """Decode, transform, check and wrap one table of features."""
    fid = land.id_field if land._fid_id else None
    attributes = table.drop_columns([geometry] + ([fid] if fid else [])).to_pandas()
    attributes.index = pd.RangeIndex(start, start + table.num_rows)
    ids = table.column(land.id_field).to_numpy(zero_copy_only=False) if land.id_field else None
    context = _Context(land.label, start, land.crs, options.limits.land_extent, land.driver, land.id_field, ids)
    raw = _decode_wkb(table.column(geometry), context)
    geoms, repaired = _check_geometries(raw, options.repair, context)
    frame = gpd.GeoDataFrame(attributes, geometry=gpd.GeoSeries(geoms, index=attributes.index, crs=STORED_CRS))
    return LandChunk(start=start, frame=frame, repaired=repaired)


_POLYGON_WKB = b"\x01\x03\x00\x00\x00"  # little-endian 2D Polygon
_MULTI_OF_ONE_WKB = b"\x01\x06\x00\x00\x00\x01\x00\x00\x00"  # little-endian MultiPolygon of 1 part


def _as_multipolygon_wkb(column: pa.Array) -> pa.Array:
    """Polygon WKB wrapped as one-part MultiPolygon WKB, the others unchanged.

    Costs a few milliseconds per 100,000 features where :func:`shapely.multipolygons`
    costs ~90 (it copies every geometry); other Polygon encodings (big-endian, Z) are
    converted after decoding.
    """
    kind = column.type
    polygon = pc.fill_null(pc.equal(pc.binary_slice(column, 0, 5), pa.scalar(_POLYGON_WKB, kind)), False)
    wrapped = pc.binary_join_element_wise(pa.scalar(_MULTI_OF_ONE_WKB, kind), column, pa.scalar(b"", kind))
    return pc.if_else(polygon, wrapped, column)


def _decode_wkb(column: pa.ChunkedArray, context: _Context) -> np.ndarray:
    """Shapely geometries of a WKB column (Polygons already as MultiPolygons)."""
    chunks = [c.storage if isinstance(c, pa.ExtensionArray) else c for c in column.chunks]
    binary = pa.concat_arrays(chunks) if chunks else pa.array([], pa.binary())
    wkb = _as_multipolygon_wkb(binary).to_numpy(zero_copy_only=False)
    try:
        return shapely.from_wkb(wkb)
    except Exception:  # locate the feature (failure path only)
        for row, item in enumerate(wkb):
            try:
                shapely.from_wkb(item)
            except Exception as exc:
                reason = (
                    f"geometry cannot be decoded ({exc}); curved geometries must be converted to polygons first "
                    "(ogr2ogr -nlt CONVERT_TO_LINEAR)"
                )
                raise UnreadableFileError(context.message(row, reason)) from exc
        raise


def to_wgs84(geoms: np.ndarray, crs: str) -> np.ndarray:
    """``geoms`` (2D, in ``crs``: an accepted ``"EPSG:n"`` or ``"GCJ-02"``) in EPSG:4326.

    EPSG:4490 is taken as EPSG:4326 (centimetres apart); projected CRSs go through
    :func:`gis_service.coords.crs.transform_geometries`, GCJ-02 through the project's
    converter; all vectorised over the coordinates.
    """
    if crs == GCJ02:
        return shapely.transform(geoms, _gcj02_to_wgs84_xy)
    if crs in _LONLAT:
        return geoms.copy()
    with np.errstate(all="ignore"):
        return np.asarray(transform_geometries(geoms, crs, STORED_CRS))


def _gcj02_to_wgs84_xy(coords: np.ndarray) -> np.ndarray:
    lon, lat = gcj02_to_wgs84_arrays(coords[:, 0], coords[:, 1])
    return np.column_stack([lon, lat])


def _check_geometries(raw: np.ndarray, repair: bool, context: _Context) -> tuple[np.ndarray, np.ndarray]:
    """Check geometries in ``context.crs``; return them in EPSG:4326 as MultiPolygons, and the repaired flags.

    In order, per feature: present and not empty, Polygon/MultiPolygon, inside the
    extent after the transform, valid (repaired with ``repair``).  The first failing
    feature (in layer order) is refused.
    """
    type_id = shapely.get_type_id(raw)
    missing = (type_id < 0) | shapely.is_empty(raw)
    wrong = ~missing & (type_id != 3) & (type_id != 6)
    if shapely.has_z(raw).any():
        raw = shapely.force_2d(raw)
    geoms = to_wgs84(raw, context.crs)
    outside = ~missing & ~wrong & ~_inside(geoms, context.extent)
    valid = shapely.is_valid(geoms)
    nan = _not_finite(raw, ~missing & ~wrong & (outside | ~valid))  # NaN hides in bounds, shows as invalid
    outside &= ~nan
    invalid = ~missing & ~wrong & ~nan & ~outside & ~valid
    checks = {"missing": missing, "type": wrong, "nan": nan, "outside": outside, "invalid": invalid & (not repair)}
    failing = np.logical_or.reduce(list(checks.values()))
    if failing.any():
        row = int(np.argmax(failing))
        check = next(name for name, mask in checks.items() if mask[row])
        raise _refusal(check, row, raw[row], geoms[row], context)
    if invalid.any():
        geoms[invalid] = _repair(geoms[invalid], np.flatnonzero(invalid), context)
    return _to_multi(geoms), invalid


def _not_finite(geoms: np.ndarray, candidates: np.ndarray) -> np.ndarray:
    """Per geometry: a coordinate is NaN or infinite (only ``candidates`` are looked at: the failing ones)."""
    out = np.zeros(len(geoms), dtype=bool)
    rows = np.flatnonzero(candidates)
    if rows.size:
        coords, index = shapely.get_coordinates(geoms[rows], return_index=True)
        out[rows[np.unique(index[~np.isfinite(coords).all(axis=1)])]] = True
    return out


def _inside(geoms: np.ndarray, extent: tuple[float, float, float, float]) -> np.ndarray:
    """Per geometry: its bounds are finite and inside ``extent``."""
    bounds = shapely.bounds(geoms)
    lon_min, lat_min, lon_max, lat_max = extent
    with np.errstate(invalid="ignore"):
        return (
            np.isfinite(bounds).all(axis=1)
            & (bounds[:, 0] >= lon_min)
            & (bounds[:, 2] <= lon_max)
            & (bounds[:, 1] >= lat_min)
            & (bounds[:, 3] <= lat_max)
        )


def _refusal(check: str, row: int, raw: shapely.Geometry, geom: shapely.Geometry, context: _Context) -> InputError:
    """The error of the first failing feature (``raw`` in the file's CRS, ``geom`` in EPSG:4326)."""
    if check == "missing":
        return InvalidGeometryError(context.message(row, "geometry is " + ("missing" if raw is None else "empty")))
    if check == "type":
        reason = f"geometry type {raw.geom_type}; land data must be Polygon or MultiPolygon"
        return GeometryTypeError(context.message(row, reason))
    if check == "nan":
        return InvalidGeometryError(context.message(row, not_a_number(raw) or "coordinates are not finite numbers"))
    if check == "outside":
        return _outside_error(raw, row, context)
    reason = f"geometry is not valid ({shapely.is_valid_reason(geom)}); fix it or read with repair"
    return InvalidGeometryError(context.message(row, reason))


def _repair(geoms: np.ndarray, rows: np.ndarray, context: _Context) -> np.ndarray:
    """Valid polygonal versions of invalid polygons (their polygonal parts)."""
    fixed = shapely.make_valid(geoms, method="structure", keep_collapsed=False)
    type_id = shapely.get_type_id(fixed)
    for k in np.flatnonzero((type_id != 3) & (type_id != 6)):  # rare: keep the polygons of a collection
        parts = [p for part in shapely.get_parts(fixed[k]) for p in shapely.get_parts(part) if p.geom_type == "Polygon"]
        fixed[k] = shapely.MultiPolygon(parts) if parts else shapely.Polygon()
    broken = shapely.is_empty(fixed) | ~shapely.is_valid(fixed)
    if broken.any():
        k = int(np.argmax(broken))
        reason = f"geometry is not valid ({shapely.is_valid_reason(geoms[k])}) and cannot be repaired into a polygon"
        raise InvalidGeometryError(context.message(int(rows[k]), reason))
    return fixed


def _to_multi(geoms: np.ndarray) -> np.ndarray:
    """Polygons (left after the WKB wrapping: big-endian, Z, repaired) as MultiPolygons, in place."""
    single = shapely.get_type_id(geoms) == 3
    if single.any():
        geoms[single] = shapely.multipolygons(geoms[single], indices=np.arange(int(single.sum())))
    return geoms


# ----------------------------------------------------------------------------- wrong CRS
@dataclass(frozen=True)
class _Candidate:
    """A CRS the coordinates of a feature outside Songjiang may really be in."""

    crs: str
    swapped: bool
    text: str


_CANDIDATES = (
    _Candidate("EPSG:4490", False, "longitude/latitude (EPSG:4490/EPSG:4326)"),
    _Candidate("EPSG:4490", True, "longitude/latitude with swapped axes (x holds the latitude)"),
    _Candidate("EPSG:4549", False, f"EPSG:4549 ({LAND_CRS['EPSG:4549']})"),
    _Candidate("EPSG:4528", False, f"EPSG:4528 ({LAND_CRS['EPSG:4528']})"),
    _Candidate("EPSG:4549", True, "EPSG:4549 with swapped axes (x holds the northing)"),
    _Candidate("EPSG:4528", True, "EPSG:4528 with swapped axes (x holds the northing)"),
)


def _family(crs: str) -> str:
    return "lonlat" if crs in _LONLAT else crs


def _outside_error(raw: shapely.Geometry, row: int, context: _Context) -> InputError:
    """The refusal of a feature outside the extent, naming the CRS its coordinates fit."""
    coords = shapely.get_coordinates(raw)
    if not np.isfinite(coords).all():
        return InvalidGeometryError(context.message(row, "coordinates are not finite numbers"))
    bbox = ", ".join(_number(v) for v in raw.bounds)
    head = f"coordinates (bbox {bbox}) are outside Songjiang in {context.crs}"
    for candidate in _CANDIDATES:
        if _family(candidate.crs) == _family(context.crs) and not candidate.swapped:
            continue
        if _fits(coords, candidate, context.extent):
            return _fit_error(head, candidate, row, context)
    lon_min, lat_min, lon_max, lat_max = context.extent
    hint = ""
    if 360 < float(np.abs(coords).max()) < 200_000:
        hint = (
            "; values within 200 km of zero look like a local plane system such as Shanghai's 上海2000, which is "
            "not in the EPSG registry: have the surveying authority convert the data to CGCS2000 first"
        )
    reason = (
        f"{head} (lon {lon_min}-{lon_max}, lat {lat_min}-{lat_max}) and do not fall in Songjiang as lon/lat, "
        f"swapped axes, EPSG:4549 or EPSG:4528 either{hint}"
    )
    return OutsideExtentError(context.message(row, reason))


def _fit_error(head: str, candidate: _Candidate, row: int, context: _Context) -> InputError:
    if candidate.swapped and _family(candidate.crs) == _family(context.crs):
        reason = (
            f"{head}; they fall in Songjiang as {candidate.text}: the axes are swapped, x must be the "
            "longitude/easting and y the latitude/northing"
        )
        return SwappedAxesError(context.message(row, reason))
    gcj = " (or GCJ-02 if digitised on Amap/Tencent maps: --crs gcj02)" if candidate.crs == "EPSG:4490" else ""
    fix = "declare or fix the .prj" if context.driver == "ESRI Shapefile" else "declare or fix the file's CRS"
    return OutsideExtentError(context.message(row, f"{head}; they fall in Songjiang as {candidate.text}{gcj}: {fix}"))


def _fits(coords: np.ndarray, candidate: _Candidate, extent: tuple[float, float, float, float]) -> bool:
    """All ``coords`` land inside ``extent`` when read as ``candidate``."""
    xy = coords[:, ::-1] if candidate.swapped else coords
    if candidate.crs not in _LONLAT:
        project = transformer(candidate.crs, STORED_CRS)
        assert project is not None
        with np.errstate(all="ignore"):
            xy = np.column_stack(project.transform(xy[:, 0], xy[:, 1]))
    lon_min, lat_min, lon_max, lat_max = extent
    with np.errstate(invalid="ignore"):
        return bool(
            np.isfinite(xy).all()
            and (xy[:, 0] >= lon_min).all()
            and (xy[:, 0] <= lon_max).all()
            and (xy[:, 1] >= lat_min).all()
            and (xy[:, 1] <= lat_max).all()
        )


def _number(value: float) -> str:
    return f"{value:.0f}" if abs(value) >= 10_000 else f"{value:.6g}"


__all__ = [
    "DEFAULT_ID_FIELDS",
    "GCJ02",
    "LAND_CRS",
    "LandChunk",
    "LandFile",
    "LandFileOptions",
    "check_geojson_crs",
    "first_non_utf8_record",
    "land_limits",
    "open_land_file",
    "parse_land_crs",
    "read_chunks",
    "to_wgs84",
]
