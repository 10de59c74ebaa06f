"""Import a land-use survey snapshot (三调 / 年度国土变更调查 DLTB 地类图斑) for one year.

One snapshot per year: importing a year again replaces its snapshot in one transaction
(audited, with the counts before and after); the density of year *Y* uses the latest
snapshot at or before *Y* (:mod:`gis_service.store.land`).  The code system is recognised
from the file (a DLTB's field names mean 三调工作分类; letters mean GB 50137) or declared; a
code and a class name (DLMC) that disagree are refused.  A snapshot is a partition: patches
overlapping by more than 1 m² are reported, and refused with ``strict``.
"""

from __future__ import annotations

import bisect
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import shapely
from sqlalchemy import Connection, Engine

from gis_service.errors import InputError
from gis_service.ingest.land.codes import SYSTEM_LABELS_ZH, CodeSystemChoice, classify
from gis_service.ingest.land.stream import choose_code_system
from gis_service.ingest.land.fields import resolve_fields
from gis_service.ingest.land.files import LandChunk, LandFile, LandFileOptions, open_land_file, read_chunks
from gis_service.ingest.land.overlaps import OVERLAP_TOLERANCE_M2, Overlaps, PartitionCheck, partition_overlaps
from gis_service.ingest.land.report import LandImportReport
from gis_service.ingest.land.write import BinaryRows, ImportHeader, ewkb, write_land_import
from gis_service.metrics.land_layers import SURVEY

#: the names survey files give their fields (DLTB first)
SURVEY_FIELDS: dict[str, tuple[str, ...]] = {
    "code": ("DLBM", "地类编码", "YDDM", "用地代码", "用地编码", "YDBM", "land_use_code", "code"),
    "name": ("DLMC", "地类名称", "YDMC", "用地名称", "land_use_name"),
    "id": ("BSM", "TBBH", "图斑编号", "TBYBH", "OBJECTID", "id"),
}
#: the years a snapshot may describe
SURVEY_YEARS = range(2000, 2101)
#: how many overlapping pairs the report lists (the count is always complete)
OVERLAPS_LISTED = 20
#: geometries read back per batch when the partition check needs every patch
_READ_BACK_BATCH = 100_000
#: rows per slice of a chunk: checked and classified per chunk, then encoded and written slice by slice
_SLICE = 25_000

Progress = Callable[[int, int], None]


class OverlappingPatchesError(InputError):
    """Patches of one snapshot overlap (refused with ``strict``); the message names them."""


@dataclass(frozen=True)
class SurveyOptions:
    """How to read one survey snapshot (see :func:`import_landuse`)."""

    year: int
    source_document: str
    code_system: str | None = None
    fields: Mapping[str, str] = field(default_factory=dict)
    strict: bool = False
    is_synthetic: bool = False
    file: LandFileOptions = field(default_factory=LandFileOptions)


def import_landuse(
    engine: Engine, path: str | Path, options: SurveyOptions, *, actor: str, progress: Progress | None = None
) -> LandImportReport:
    """Check and write the snapshot of ``options.year`` from ``path`` (replacing that year's)."""
    started = time.perf_counter()
    _check_options(options)
    with open_land_file(path, options.file) as land:
        fields = resolve_fields(land.fields, SURVEY_FIELDS, options.fields, required=["code"], label=_label(land))
        state = _SurveyState(land, fields, options, progress)
        header = ImportHeader(
            kind=SURVEY, source_document=options.source_document, file_name=Path(path).name, layer_name=land.layer,
            driver=land.driver, crs=land.crs, encoding=land.encoding, code_system=None, year=options.year,
            is_synthetic=options.is_synthetic, imported_by=actor,
        )
        outcome = write_land_import(engine, header, state.rows(), actor=actor, final_check=state.final_check)
    return LandImportReport(
        kind=SURVEY, import_id=outcome.import_id, file=land.label, layer=land.layer, driver=land.driver,
        source_document=options.source_document, year=options.year,
        code_system=state.choice.system if state.choice else None,
        code_system_evidence=state.choice.evidence if state.choice else None,
        crs=land.crs, crs_evidence=land.crs_evidence, encoding=land.encoding, encoding_evidence=land.encoding_evidence,
        features=outcome.features, features_before=outcome.features_before, features_after=outcome.features_after,
        area_by_class_km2=outcome.area_by_class_km2, repaired=state.repaired, is_synthetic=options.is_synthetic,
        overlap_pairs=int(outcome.report.get("overlap_pairs", 0)), overlaps=outcome.report.get("overlaps", []),
        seconds=round(time.perf_counter() - started, 2),
    )


def _check_options(options: SurveyOptions) -> None:
    if options.year not in SURVEY_YEARS:
        raise InputError(f"survey year {options.year} is outside {SURVEY_YEARS.start}-{SURVEY_YEARS.stop - 1}")
    if not options.source_document.strip():
        raise InputError("a survey snapshot needs its source (--source): which survey, which office, which date")


def _label(land: LandFile) -> str:
    """The file and layer for messages (the reader's label already names the layer of a container)."""
    return land.label


class _SurveyState:
    """Streams the chunks of one file into COPY rows, remembering what the final checks need.

    The partition check runs chunk by chunk (:class:`PartitionCheck`); the geometries are not
    kept: when the check cannot prove the patches a partition, :meth:`final_check` reads them
    back from the rows just written (same transaction, same order) for the pairwise test.
    """

    def __init__(self, land: LandFile, fields: dict[str, str | None], options: SurveyOptions, progress: Progress | None):
        self.land, self.fields, self.options, self.progress = land, fields, options, progress
        self.choice: CodeSystemChoice | None = None
        self.repaired = 0
        self._partition = PartitionCheck()
        self._ids = _Ids()
        self._count = 0
        self._system_code: str | None = None

    def rows(self) -> Iterator[Iterator[BinaryRows]]:
        done = 0
        for chunk in read_chunks(self.land, self.options.file):
            statement = self._rows_of(chunk)
            done += len(chunk.frame)
            del chunk  # (not kept while the next one is read)
            yield statement
            if self.progress:
                self.progress(done, self.land.feature_count)

    def _rows_of(self, chunk: LandChunk) -> Iterator[BinaryRows]:
        """Check and classify a chunk; its COPY rows come in slices, each encoded when due."""
        frame = chunk.frame
        codes = frame[self.fields["code"]].to_numpy()
        names = frame[self.fields["name"]].to_numpy() if self.fields["name"] else None
        ids = self._ids_of(chunk)
        if self.choice is None:
            self.choice = choose_code_system(self.land, codes, declared=self.options.code_system, names=names)
        classes = classify(codes, self.choice.system, names=names, where=lambda i: self._where(chunk.start + i, ids[i]))
        geoms = np.asarray(frame.geometry.array)
        id_text = self._ids.add(ids)
        self._count += len(frame)
        self.repaired += int(np.count_nonzero(chunk.repaired))
        constants = {
            "layer": SURVEY, "code_system": self.choice.system, "is_supplied": False, "supply_year": None,
            "is_synthetic": self.options.is_synthetic, "source_document": self.options.source_document,
        }
        columns = {
            "external_id": id_text, "land_use_code": classes.code,
            "land_use_name": names if names is not None else classes.name_zh,
            "land_use_class": classes.land_use_class, "is_built": classes.is_built_up,
        }
        return self._slices(geoms, constants, columns)

    def _slices(self, geoms: np.ndarray, constants: dict[str, Any], columns: dict[str, Any]) -> Iterator[BinaryRows]:
        for start in range(0, len(geoms), _SLICE):
            part = geoms[start:start + _SLICE]
            wkb = ewkb(part)
            self._partition.add(part, wkb)
            yield BinaryRows(
                count=len(part),
                columns={**constants, "geom": wkb,
                         **{name: values[start:start + _SLICE] for name, values in columns.items()}},
            )

    def _ids_of(self, chunk: LandChunk) -> np.ndarray:
        column = self.fields["id"] or self.land.id_field
        if column and column in chunk.frame.columns:
            return chunk.frame[column].astype(str).to_numpy()
        return np.arange(chunk.start, chunk.start + len(chunk.frame)).astype(str)

    def _where(self, position: int, fid: object) -> str:
        id_field = self.fields["id"] or self.land.id_field
        named = f" ({id_field} {fid})" if id_field else ""
        return f"{_label(self.land)} feature {position}{named}"

    def final_check(self, conn: Connection, import_id: int) -> dict[str, Any]:
        """The partition check over every patch (after the last chunk); records the code system."""
        from sqlalchemy import text

        if self.choice is None:
            raise InputError(f"{_label(self.land)}: the layer has no features")
        conn.execute(text("UPDATE land_import SET code_system = :s WHERE id = :id"), {"s": self.choice.system, "id": import_id})
        found = Overlaps.none() if self._partition.proven() else partition_overlaps(self._written(conn, import_id))
        ids = self._ids
        listed = [
            {"feature_a": int(a), "id_a": ids.text(a), "feature_b": int(b), "id_b": ids.text(b), "area_m2": round(float(m2), 2)}
            for a, b, m2 in zip(found.first[:OVERLAPS_LISTED], found.second[:OVERLAPS_LISTED], found.area_m2[:OVERLAPS_LISTED])
        ]
        if len(found) and self.options.strict:
            first = listed[0]
            raise OverlappingPatchesError(
                f"{_label(self.land)}: {len(found)} pairs of patches overlap by more than {OVERLAP_TOLERANCE_M2:g} m² "
                f"(a snapshot is a partition); e.g. feature {first['feature_a']} ({first['id_a']}) and feature "
                f"{first['feature_b']} ({first['id_b']}) share {first['area_m2']} m²; nothing was imported"
            )
        return {
            "code_system": self.choice.system,
            "code_system_label": SYSTEM_LABELS_ZH[self.choice.system],
            "code_system_evidence": self.choice.evidence,
            "overlap_pairs": len(found),
            "overlaps": listed,
            "repaired": self.repaired,
        }

    def _written(self, conn: Connection, import_id: int) -> np.ndarray:
        """The geometries of this import as written, in file order (ids follow the COPY order)."""
        from sqlalchemy import text

        query = text("SELECT ST_AsBinary(geom) FROM land_parcel WHERE import_id = :id ORDER BY id")
        result = conn.execute(query.execution_options(stream_results=True, yield_per=_READ_BACK_BATCH), {"id": import_id})
        parts = [shapely.from_wkb([bytes(row[0]) for row in batch]) for batch in result.partitions()]
        geoms = np.concatenate(parts) if parts else np.zeros(0, dtype=object)
        if len(geoms) != self._count:
            raise RuntimeError(f"read back {len(geoms)} patches of import {import_id}, wrote {self._count}")
        return geoms


class _Ids:
    """The id of every patch in file order, kept compactly (Arrow text) to name overlapping pairs.

    :meth:`text` gives ``str()`` of the value the chunk's id array held (NaN, for a missing
    id, gives ``"nan"``), as the report names it.
    """

    def __init__(self) -> None:
        self._chunks: list[tuple[pa.Array | np.ndarray, str | None]] = []
        self._starts: list[int] = []
        self._count = 0

    def add(self, ids: np.ndarray) -> pa.Array | np.ndarray:
        """Keep ``ids`` (the next chunk's); returns them as text for COPY."""
        try:
            text = pa.array(ids, type=pa.large_string(), from_pandas=True)
        except (pa.ArrowTypeError, pa.ArrowInvalid):
            text = None
        missing: set[str] = set()
        if text is not None and text.null_count:  # None, NaN: how str() spells them
            missing = {str(v) for v in ids[~np.asarray(text.is_valid())]}
        self._starts.append(self._count)
        self._count += len(ids)
        if text is None or len(missing) > 1:
            self._chunks.append((ids, None))
            return ids
        self._chunks.append((text, missing.pop() if missing else None))
        return text

    def text(self, position: int) -> str:
        k = bisect.bisect_right(self._starts, int(position)) - 1
        values, missing = self._chunks[k]
        value = values[int(position) - self._starts[k]]
        if isinstance(value, pa.Scalar):
            return str(value.as_py()) if value.is_valid else str(missing)
        return str(value)
