"""Upload size checks and safe zip extraction (zipped Shapefiles; XLSX is a zip too).

Every archive is inspected before anything is extracted: the number of entries, the
declared uncompressed size (total and per-entry compression ratio, which is what gives a
zip bomb away), and each entry's name (``../``, absolute paths, drive letters and symbolic
links are refused).  Extraction then counts the bytes actually written, because an entry's
header can lie about its size.
"""

from __future__ import annotations

import re
import stat
import zipfile
from pathlib import Path, PurePosixPath

from gis_service.errors import PayloadTooLargeError, UnsafeArchiveError
from gis_service.ingest.errors import UnreadableFileError
from gis_service.ingest.limits import ImportLimits

_DRIVE = re.compile(r"^[A-Za-z]:")
_CHUNK = 64 * 1024


def check_upload_size(path: Path, limits: ImportLimits) -> int:
    """The file's size in bytes; :class:`PayloadTooLargeError` above ``max_upload_bytes``."""
    if not path.is_file():
        raise UnreadableFileError(f"{path}: file not found")
    size = path.stat().st_size
    if size > limits.max_upload_bytes:
        raise PayloadTooLargeError(
            f"{path.name}: {size:,} bytes exceeds the upload limit of {limits.max_upload_bytes:,} bytes"
        )
    return size


def _check_name(archive: str, info: zipfile.ZipInfo) -> None:
    name = info.filename.replace("\\", "/")
    if name.startswith("/") or _DRIVE.match(name):
        raise UnsafeArchiveError(f"{archive}: entry {info.filename!r} has an absolute path")
    if ".." in PurePosixPath(name).parts:
        raise UnsafeArchiveError(f"{archive}: entry {info.filename!r} points outside the archive (..)")
    if stat.S_ISLNK(info.external_attr >> 16):
        raise UnsafeArchiveError(f"{archive}: entry {info.filename!r} is a symbolic link")


def inspect_zip(path: Path, limits: ImportLimits) -> list[zipfile.ZipInfo]:
    """Check a zip's entries against the limits without extracting anything.

    Raises
    ------
    PayloadTooLargeError
        Too many entries, too large uncompressed, or an entry compressed beyond
        ``max_compression_ratio`` (zip bomb).
    UnsafeArchiveError
        An entry with ``..``, an absolute path or a symbolic link.
    UnreadableFileError
        Not a zip archive.
    """
    check_upload_size(path, limits)
    try:
        with zipfile.ZipFile(path) as archive:
            infos = archive.infolist()
    except (zipfile.BadZipFile, OSError, ValueError) as exc:
        raise UnreadableFileError(f"{path.name}: not a readable zip archive ({exc})") from exc
    if len(infos) > limits.max_zip_entries:
        raise PayloadTooLargeError(
            f"{path.name}: {len(infos)} entries in the archive, the limit is {limits.max_zip_entries}"
        )
    total = 0
    for info in infos:
        _check_name(path.name, info)
        total += info.file_size
        ratio = info.file_size / max(info.compress_size, 1)
        if info.file_size > _CHUNK and ratio > limits.max_compression_ratio:
            raise PayloadTooLargeError(
                f"{path.name}: entry {info.filename!r} expands {ratio:,.0f}-fold "
                f"({info.compress_size:,} -> {info.file_size:,} bytes; limit {limits.max_compression_ratio:g}-fold): "
                "refused as a zip bomb"
            )
    if total > limits.max_uncompressed_bytes:
        raise PayloadTooLargeError(
            f"{path.name}: {total:,} bytes uncompressed exceeds the limit of {limits.max_uncompressed_bytes:,} bytes"
        )
    return infos


def extract_zip(path: Path, destination: Path, limits: ImportLimits) -> list[Path]:
    """Extract a checked zip into ``destination``; returns the files written.

    The bytes written are counted while streaming, so a header that understates an entry's
    size cannot get past ``max_uncompressed_bytes``.
    """
    infos = inspect_zip(path, limits)
    root = destination.resolve()
    written: list[Path] = []
    budget = limits.max_uncompressed_bytes
    try:
        with zipfile.ZipFile(path) as archive:
            for info in infos:
                target = (root / info.filename.replace("\\", "/")).resolve()
                if not target.is_relative_to(root):  # defence in depth after _check_name
                    raise UnsafeArchiveError(f"{path.name}: entry {info.filename!r} points outside the archive")
                if info.is_dir():
                    target.mkdir(parents=True, exist_ok=True)
                    continue
                target.parent.mkdir(parents=True, exist_ok=True)
                with archive.open(info) as source, target.open("wb") as sink:
                    while chunk := source.read(_CHUNK):
                        budget -= len(chunk)
                        if budget < 0:
                            raise PayloadTooLargeError(
                                f"{path.name}: more than {limits.max_uncompressed_bytes:,} bytes uncompressed "
                                f"(entry {info.filename!r} is larger than its header says): refused as a zip bomb"
                            )
                        sink.write(chunk)
                written.append(target)
    except (zipfile.BadZipFile, OSError, EOFError, NotImplementedError, RuntimeError) as exc:
        raise UnreadableFileError(f"{path.name}: cannot extract the archive ({exc})") from exc
    return written
