"""Upload limits: size, feature/row counts, zip bombs, path traversal; all typed, nothing extracted outside."""

from __future__ import annotations

import datetime as dt
import os
import zipfile
from pathlib import Path

import pytest
from openpyxl import Workbook
from sqlalchemy import Engine

from gis_service.errors import InputError, PayloadTooLargeError, UnsafeArchiveError
from gis_service.ingest import ImportLimits, import_boundaries, import_indicators
from gis_service.ingest.archive import extract_zip
from gis_service.ingest.errors import UnreadableFileError
from tests.ingest.helpers import box, feature, table_snapshot


def _boundaries(engine: Engine, path: Path, limits: ImportLimits | None = None):  # type: ignore[no-untyped-def]
    return import_boundaries(engine, path, park_field="code", valid_from=dt.date(2022, 1, 1), source_document="s",
                             actor="t", limits=limits)


def test_zip_bomb_is_refused_before_extraction(engine: Engine, tmp_path: Path) -> None:
    bomb = tmp_path / "bomb.zip"
    with zipfile.ZipFile(bomb, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("blocks.shp", bytes(50 * 1024**2))  # 50 MB of zeros compress about 1000-fold
    assert bomb.stat().st_size < 200_000
    with pytest.raises(PayloadTooLargeError, match=r"bomb.zip: entry 'blocks.shp' expands [\d,]+-fold .*zip bomb"):
        _boundaries(engine, bomb)  # default limits


def test_total_uncompressed_size_and_entry_count(tmp_path: Path) -> None:
    archive = tmp_path / "big.zip"
    with zipfile.ZipFile(archive, "w") as zf:  # stored, incompressible: the ratio test does not apply
        for i in range(5):
            zf.writestr(f"part{i}.bin", os.urandom(2_000))
    with pytest.raises(PayloadTooLargeError, match=r"big.zip: 10,000 bytes uncompressed exceeds the limit of 5,000"):
        extract_zip(archive, tmp_path / "out", ImportLimits(max_uncompressed_bytes=5_000))
    with pytest.raises(PayloadTooLargeError, match=r"big.zip: 5 entries in the archive, the limit is 4"):
        extract_zip(archive, tmp_path / "out", ImportLimits(max_zip_entries=4))
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize(
    ("entry", "message"),
    [("../evil.shp", r"entry '../evil.shp' points outside the archive"),
     ("blocks/../../evil.shp", r"points outside the archive"),
     ("/tmp/evil.shp", r"entry '/tmp/evil.shp' has an absolute path"),
     ("C:\\evil.shp", r"has an absolute path"),
     ("..\\evil.shp", r"points outside the archive")],
)
def test_path_traversal_is_refused(engine: Engine, tmp_path: Path, entry: str, message: str) -> None:
    archive = tmp_path / "upload" / "trick.zip"
    archive.parent.mkdir()
    with zipfile.ZipFile(archive, "w") as zf:
        zf.writestr("blocks.shp", b"x")
        zf.writestr(zipfile.ZipInfo(entry), b"owned")
    with pytest.raises(UnsafeArchiveError, match=message):
        _boundaries(engine, archive)
    assert not (tmp_path / "evil.shp").exists() and not Path("/tmp/evil.shp").exists()


def test_symlink_entry_is_refused(tmp_path: Path) -> None:
    archive = tmp_path / "link.zip"
    info = zipfile.ZipInfo("blocks.shp")
    info.external_attr = (0o120777 << 16)  # a symbolic link to /etc/passwd
    with zipfile.ZipFile(archive, "w") as zf:
        zf.writestr(info, "/etc/passwd")
    with pytest.raises(UnsafeArchiveError, match=r"entry 'blocks.shp' is a symbolic link"):
        extract_zip(archive, tmp_path / "out", ImportLimits())


def test_upload_size_and_feature_count(loaded: Engine, write_geojson) -> None:  # type: ignore[no-untyped-def]
    path = write_geojson([feature(box(121.2, 31.0, 121.21, 31.01), code=c) for c in ("sj_west", "sj_north", "sj_g60_dianzi")])
    size = path.stat().st_size
    with pytest.raises(PayloadTooLargeError, match=rf"upload.geojson: {size:,} bytes exceeds the upload limit of 100 bytes"):
        _boundaries(loaded, path, ImportLimits(max_upload_bytes=100))
    with pytest.raises(PayloadTooLargeError, match=r"upload.geojson: 3 features, the limit is 2"):
        _boundaries(loaded, path, ImportLimits(max_features=2))
    assert _boundaries(loaded, path, ImportLimits(max_features=3)).inserted == 3


def test_row_count_and_xlsx_bomb(loaded: Engine, tmp_path: Path) -> None:
    csv_path = tmp_path / "rows.csv"
    csv_path.write_text("园区,年份,税收(亿元),来源\n" + "".join(f"sj_west,{y},1,r\n" for y in (2021, 2022, 2023)),
                        encoding="utf-8")
    with pytest.raises(PayloadTooLargeError, match=r"rows.csv: more than 2 rows|rows.csv: 3 rows, the limit is 2"):
        import_indicators(loaded, csv_path, actor="t", limits=ImportLimits(max_rows=2))
    # an XLSX is a zip: a workbook with a 50 MB sheet of zeros is refused before openpyxl opens it
    book = Workbook()
    book.active.append(["园区", "年份", "税收(亿元)", "来源"])
    xlsx = tmp_path / "bomb.xlsx"
    book.save(xlsx)
    with zipfile.ZipFile(xlsx, "a", compression=zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("xl/media/padding.bin", bytes(50 * 1024**2))
    before = table_snapshot(loaded)
    with pytest.raises(PayloadTooLargeError, match=r"bomb.xlsx: entry 'xl/media/padding.bin' expands"):
        import_indicators(loaded, xlsx, actor="t")
    assert table_snapshot(loaded) == before


def test_unreadable_files_are_typed(engine: Engine, tmp_path: Path) -> None:
    junk = tmp_path / "junk.geojson"
    junk.write_text("{not json", encoding="utf-8")
    with pytest.raises(UnreadableFileError, match=r"junk.geojson: cannot be read as a vector file"):
        _boundaries(engine, junk)
    fake = tmp_path / "fake.xlsx"
    fake.write_bytes(b"PK\x03\x04 not really")
    with pytest.raises(InputError, match=r"fake.xlsx"):
        import_indicators(engine, fake, actor="t")
    other = tmp_path / "blocks.dwg"
    other.write_bytes(b"AC1027")
    with pytest.raises(UnreadableFileError, match=r"blocks.dwg: unsupported file type .dwg"):
        _boundaries(engine, other)
