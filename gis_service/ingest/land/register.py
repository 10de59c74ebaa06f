"""Import a parcel register an office keeps itself: a land-use code and a supply flag per parcel.

The register replaces the stored register as a whole (an office exports its register
whole; importing it twice leaves the land unchanged), the sample's synthetic register
included.  Codes follow the same code-system rules as survey snapshots
(:mod:`gis_service.ingest.land.codes`).  Flags read 已供应/未供应, 是/否, yes/no, true/false,
1/0; a supply year after the answer's year means "not yet supplied" then.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
from sqlalchemy import Engine

from gis_service.errors import InputError
from gis_service.ingest.land.codes import CodeSystemChoice, classify
from gis_service.ingest.land.fields import resolve_fields
from gis_service.ingest.land.files import (
    LandChunk,
    LandFile,
    LandFileOptions,
    open_land_file,
)
from gis_service.ingest.land.report import LandImportReport
from gis_service.ingest.land.stream import (
    Progress,
    choose_code_system,
    field_values,
    stream_rows,
)
from gis_service.ingest.land.write import ImportHeader, ewkb_hex, write_land_import
from gis_service.metrics.land_layers import REGISTER

REGISTER_FIELDS: dict[str, tuple[str, ...]] = {
    "code": ("YDDM", "用地代码", "用地编码", "DLBM", "地类编码", "land_use_code", "code"),
    "name": ("YDMC", "用地名称", "DLMC", "地类名称", "land_use_name"),
    "supplied": ("GYZT", "供应状态", "是否供应", "is_supplied", "supplied"),
    "supply_year": ("GYNF", "供应年份", "supply_year"),
    "built": ("JSZT", "建设状态", "是否建成", "is_built", "built"),
    "id": ("DKBH", "地块编号", "BSM", "id"),
}

_TRUE = {"1", "true", "t", "yes", "y", "是", "已供应", "已供", "supplied", "已建", "建成", "built"}
_FALSE = {"0", "false", "f", "no", "n", "否", "未供应", "未供", "unsupplied", "未建", "not built"}


@dataclass(frozen=True)
class RegisterOptions:
    source_document: str
    code_system: str | None = None
    fields: Mapping[str, str] = field(default_factory=dict)
    is_synthetic: bool = False
    file: LandFileOptions = field(default_factory=LandFileOptions)


def parse_flags(values: np.ndarray, *, what: str, where: Callable[[int], str], required: bool) -> np.ndarray:
    """Yes/no values (已供应/未供应, 是/否, true/false, 1/0) → a nullable boolean array."""
    series = pd.Series(values, dtype=object)
    text = series.where(series.notna(), "").astype(str).str.strip().str.lower()
    text = text.str.replace(r"\.0$", "", regex=True)  # 1.0 from a numeric DBF field
    out = pd.array([pd.NA] * len(text), dtype="boolean")
    out[text.isin(_TRUE).to_numpy()] = True
    out[text.isin(_FALSE).to_numpy()] = False
    unknown = np.flatnonzero(~text.isin(_TRUE | _FALSE | {""}).to_numpy())
    if len(unknown):
        i = int(unknown[0])
        raise InputError(f"{where(i)}: cannot read {what} {values[i]!r}; expected 已供应/未供应, 是/否, yes/no, true/false or 1/0")
    blank = np.flatnonzero((text == "").to_numpy())
    if required and len(blank):
        raise InputError(f"{where(int(blank[0]))}: {what} is missing")
    return out


def import_register(
    engine: Engine, path: str | Path, options: RegisterOptions, *, actor: str, progress: Progress | None = None
) -> LandImportReport:
    """Check and write a parcel register, replacing the stored one, in one transaction."""
    started = time.perf_counter()
    if not options.source_document.strip():
        raise InputError("a parcel register needs its source (--source)")
    with open_land_file(path, options.file) as land:
        label = land.label
        fields = resolve_fields(land.fields, REGISTER_FIELDS, options.fields, required=["code", "supplied"], label=label)
        state = _RegisterState(land, label, fields, options, progress)
        header = ImportHeader(
            kind=REGISTER, source_document=options.source_document, file_name=Path(path).name, layer_name=land.layer,
            driver=land.driver, crs=land.crs, encoding=land.encoding, is_synthetic=options.is_synthetic, imported_by=actor,
        )
        outcome = write_land_import(engine, header, state.rows(), actor=actor, final_check=state.final_check)
    return LandImportReport(
        kind=REGISTER, import_id=outcome.import_id, file=land.label, layer=land.layer, driver=land.driver,
        source_document=options.source_document, year=None,
        code_system=state.choice.system if state.choice else None,
        code_system_evidence=state.choice.evidence if state.choice else None,
        crs=land.crs, crs_evidence=land.crs_evidence, encoding=land.encoding, encoding_evidence=land.encoding_evidence,
        features=outcome.features, features_before=outcome.features_before, features_after=outcome.features_after,
        area_by_class_km2=outcome.area_by_class_km2, repaired=state.repaired, is_synthetic=options.is_synthetic,
        seconds=round(time.perf_counter() - started, 2),
    )


class _RegisterState:
    def __init__(self, land: LandFile, label: str, fields: dict[str, str | None], options: RegisterOptions,
                 progress: Progress | None):
        self.land, self.label, self.fields, self.options, self.progress = land, label, fields, options, progress
        self.choice: CodeSystemChoice | None = None
        self.repaired = 0

    def rows(self) -> Iterator[pd.DataFrame]:
        return stream_rows(self.land, self.options.file, self._rows_of, self.progress)

    def final_check(self, conn: object, import_id: int) -> dict[str, object]:
        from sqlalchemy import text

        if self.choice is None:
            raise InputError(f"{self.label}: the layer has no features")
        conn.execute(text("UPDATE land_import SET code_system = :s WHERE id = :id"),  # type: ignore[attr-defined]
                     {"s": self.choice.system, "id": import_id})
        return {"code_system": self.choice.system, "code_system_evidence": self.choice.evidence, "repaired": self.repaired}

    def _column(self, frame: pd.DataFrame, key: str) -> np.ndarray | None:
        return field_values(frame, self.fields, key)

    def _rows_of(self, chunk: LandChunk) -> pd.DataFrame:
        frame, start = chunk.frame, chunk.start
        ids_raw = self._column(frame, "id")
        ids = (pd.Series(ids_raw, dtype=object).astype(str).to_numpy() if ids_raw is not None
               else np.arange(start, start + len(frame)).astype(str))
        id_name = self.fields["id"]
        where = lambda i: f"{self.label} feature {start + i}" + (f" ({id_name} {ids[i]})" if id_name else "")
        codes = self._column(frame, "code")
        names = self._column(frame, "name")
        if self.choice is None:
            self.choice = choose_code_system(self.land, codes, declared=self.options.code_system, names=names)
        classes = classify(codes, self.choice.system, names=names, where=where)
        supplied = parse_flags(self._column(frame, "supplied"), what="supply status", where=where, required=True)
        built_raw = self._column(frame, "built")
        built = (parse_flags(built_raw, what="built-up flag", where=where, required=False) if built_raw is not None
                 else pd.array([pd.NA] * len(frame), dtype="boolean"))
        year_raw = self._column(frame, "supply_year")
        years = (pd.to_numeric(pd.Series(year_raw), errors="coerce").astype("Int64").array if year_raw is not None
                 else pd.array([pd.NA] * len(frame), dtype="Int64"))
        self.repaired += int(np.count_nonzero(chunk.repaired))
        return pd.DataFrame(
            {
                "layer": REGISTER,
                "external_id": ids,
                "geom": ewkb_hex(np.asarray(frame.geometry.array)),
                "land_use_code": classes.code,
                "code_system": self.choice.system,
                "land_use_name": names if names is not None else classes.name_zh,
                "land_use_class": classes.land_use_class,
                "is_supplied": supplied,
                "supply_year": years,
                "is_built": built,
                "is_synthetic": self.options.is_synthetic,
                "source_document": self.options.source_document,
            }
        )
