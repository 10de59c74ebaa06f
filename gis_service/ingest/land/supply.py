"""Import land supply records (供地结果公告 / 土地市场网 宗地) as polygons.

Fields are recognised by the names the announcements use — 电子监管号, 项目名称, 土地用途,
面积(公顷), 供地方式, 合同签订日期 (and 收回日期 when the file has it) — or named with
options.  A parcel supplied for industrial use (土地用途 工业用地…) with a contract signed by
31 December *Y* and not recovered by then is 已供应工业用地 (supplied industrial land) in
year *Y*.  A 电子监管号 imported again replaces its record.  The stated 面积(公顷) is compared
with the polygon's area measured in EPSG:4549; differences over 5 % are listed in the report.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
from sqlalchemy import Engine

from gis_service.coords.crs import STORED_CRS, projected_areas_m2
from gis_service.errors import InputError
from gis_service.ingest.errors import DuplicateIdError
from gis_service.ingest.land.codes import class_of_name
from gis_service.ingest.land.dates import parse_dates
from gis_service.ingest.land.fields import resolve_fields
from gis_service.ingest.land.files import (
    LandChunk,
    LandFile,
    LandFileOptions,
    open_land_file,
)
from gis_service.ingest.land.report import LandImportReport
from gis_service.ingest.land.stream import Progress, field_values, stream_rows
from gis_service.ingest.land.write import ImportHeader, ewkb_hex, write_land_import
from gis_service.metrics.land_layers import SUPPLY

SUPPLY_FIELDS: dict[str, tuple[str, ...]] = {
    "supervision_no": ("电子监管号", "DZJGH", "JGH", "supervision_no"),
    "project_name": ("项目名称", "XMMC", "project_name"),
    "land_use": ("土地用途", "TDYT", "land_use"),
    "area_ha": ("面积(公顷)", "面积", "供地面积", "GDMJ", "MJ", "area_ha"),
    "supply_method": ("供地方式", "GDFS", "supply_method"),
    "contract_date": ("合同签订日期", "签订日期", "HTQDRQ", "QDRQ", "contract_date"),
    "recovery_date": ("收回日期", "SHRQ", "recovery_date"),
}
REQUIRED = ("supervision_no", "land_use", "contract_date")
#: a stated area this far from the measured one is listed in the report
AREA_MISMATCH = 0.05
#: how many mismatches the report lists (the count is always complete)
MISMATCHES_LISTED = 50
M2_PER_HA = 10_000.0


@dataclass(frozen=True)
class SupplyOptions:
    source_document: str
    fields: Mapping[str, str] = field(default_factory=dict)
    is_synthetic: bool = False
    file: LandFileOptions = field(default_factory=LandFileOptions)


def import_supply(
    engine: Engine, path: str | Path, options: SupplyOptions, *, actor: str, progress: Progress | None = None
) -> LandImportReport:
    """Check and write the supply records of ``path`` in one transaction."""
    started = time.perf_counter()
    if not options.source_document.strip():
        raise InputError("supply records need their source (--source): which announcements, which office")
    with open_land_file(path, options.file) as land:
        label = land.label
        fields = resolve_fields(land.fields, SUPPLY_FIELDS, options.fields, required=REQUIRED, label=label)
        state = _SupplyState(land, label, fields, options, progress)
        header = ImportHeader(
            kind=SUPPLY, source_document=options.source_document, file_name=Path(path).name, layer_name=land.layer,
            driver=land.driver, crs=land.crs, encoding=land.encoding, is_synthetic=options.is_synthetic, imported_by=actor,
        )
        outcome = write_land_import(engine, header, state.rows(), actor=actor, final_check=lambda _c, _i: state.report())
    return LandImportReport(
        kind=SUPPLY, import_id=outcome.import_id, file=land.label, layer=land.layer, driver=land.driver,
        source_document=options.source_document, year=None, code_system=None, code_system_evidence=None,
        crs=land.crs, crs_evidence=land.crs_evidence, encoding=land.encoding, encoding_evidence=land.encoding_evidence,
        features=outcome.features, features_before=outcome.features_before, features_after=outcome.features_after,
        area_by_class_km2=outcome.area_by_class_km2, repaired=state.repaired, is_synthetic=options.is_synthetic,
        area_mismatch_count=len(state.mismatches), area_mismatches=state.mismatches[:MISMATCHES_LISTED], replaced_records=outcome.replaced_records,
        seconds=round(time.perf_counter() - started, 2),
    )


class _SupplyState:
    def __init__(self, land: LandFile, label: str, fields: dict[str, str | None], options: SupplyOptions,
                 progress: Progress | None):
        self.land, self.label, self.fields, self.options, self.progress = land, label, fields, options, progress
        self.seen: dict[str, int] = {}
        self.mismatches: list[dict[str, object]] = []
        self.repaired = 0

    def rows(self) -> Iterator[pd.DataFrame]:
        return stream_rows(self.land, self.options.file, self._rows_of, self.progress)

    def report(self) -> dict[str, object]:
        return {"area_mismatches": len(self.mismatches), "listed": self.mismatches[:MISMATCHES_LISTED],
                "repaired": self.repaired}

    def _column(self, frame: pd.DataFrame, key: str) -> np.ndarray | None:
        return field_values(frame, self.fields, key)

    def _rows_of(self, chunk: LandChunk) -> pd.DataFrame:
        frame, start = chunk.frame, chunk.start
        numbers = self._numbers(frame, start)
        where = lambda i: f"{self.label} feature {start + i} (电子监管号 {numbers[i]})"
        uses = self._column(frame, "land_use")
        classes = self._classes(uses, where)
        contract = parse_dates(self._column(frame, "contract_date"), what="合同签订日期 (contract date)", where=where,
                               required=True)
        recovery_raw = self._column(frame, "recovery_date")
        recovery = (parse_dates(recovery_raw, what="收回日期 (recovery date)", where=where, required=False)
                    if recovery_raw is not None else np.full(len(frame), np.datetime64("NaT"), dtype="datetime64[D]"))
        geoms = np.asarray(frame.geometry.array)
        stated = self._stated_area(frame, where)
        self._compare_areas(geoms, stated, numbers, start)
        self.repaired += int(np.count_nonzero(chunk.repaired))
        return pd.DataFrame(
            {
                "layer": SUPPLY,
                "external_id": numbers,
                "geom": ewkb_hex(geoms),
                "land_use_code": None,
                "code_system": None,
                "land_use_name": uses,
                "land_use_class": classes,
                "is_supplied": True,
                "supply_year": pd.DatetimeIndex(contract).year,
                "is_built": None,
                "supervision_no": numbers,
                "project_name": self._column(frame, "project_name"),
                "supply_method": self._column(frame, "supply_method"),
                "contract_date": pd.DatetimeIndex(contract).strftime("%Y-%m-%d"),
                "recovery_date": pd.Series(pd.DatetimeIndex(recovery).strftime("%Y-%m-%d")).where(~np.isnat(recovery)).to_numpy(),
                "stated_area_ha": stated,
                "is_synthetic": self.options.is_synthetic,
                "source_document": self.options.source_document,
            }
        )

    def _numbers(self, frame: pd.DataFrame, start: int) -> np.ndarray:
        raw = pd.Series(self._column(frame, "supervision_no"), dtype=object)
        text = raw.where(raw.notna(), "").astype(str).str.strip()
        blank = np.flatnonzero(text.isin(["", "nan", "None"]).to_numpy())
        if len(blank):
            raise InputError(f"{self.label} feature {start + int(blank[0])}: 电子监管号 (supervision number) is missing")
        for i, number in enumerate(text):
            if number in self.seen:
                raise DuplicateIdError(
                    f"{self.label} feature {start + i}: 电子监管号 {number} appears twice (also feature {self.seen[number]})"
                )
            self.seen[number] = start + i
        return text.to_numpy()

    @staticmethod
    def _classes(uses: np.ndarray | None, where: Callable[[int], str]) -> np.ndarray:
        assert uses is not None
        series = pd.Series(uses, dtype=object)
        codes, uniques = pd.factorize(series.where(series.notna(), "").astype(str).str.strip())
        mapped = np.array([class_of_name(u) if u else None for u in uniques], dtype=object)
        classes = mapped[codes] if len(uniques) else np.array([], dtype=object)
        missing = np.flatnonzero(pd.isna(classes))
        if len(missing):
            i = int(missing[0])
            raise InputError(
                f"{where(i)}: 土地用途 (land use) {uses[i]!r} is not a land use the platform knows "
                "(e.g. 工业用地, 仓储用地, 商服用地, 住宅用地)"
            )
        return classes

    def _stated_area(self, frame: pd.DataFrame, where: Callable[[int], str]) -> np.ndarray:
        raw = self._column(frame, "area_ha")
        if raw is None:
            return np.full(len(frame), np.nan)
        values = pd.to_numeric(pd.Series(raw), errors="coerce").to_numpy(dtype=float)
        bad = np.flatnonzero(pd.notna(raw) & (np.isnan(values) | (values <= 0)) & (pd.Series(raw).astype(str).str.strip() != "").to_numpy())
        if len(bad):
            i = int(bad[0])
            raise InputError(f"{where(i)}: 面积(公顷) {raw[i]!r} is not a positive number of hectares")
        return values

    def _compare_areas(self, geoms: np.ndarray, stated_ha: np.ndarray, numbers: np.ndarray, start: int) -> None:
        measured_ha = projected_areas_m2(geoms, STORED_CRS) / M2_PER_HA
        with np.errstate(invalid="ignore", divide="ignore"):
            off = np.abs(measured_ha - stated_ha) / stated_ha
        for i in np.flatnonzero(off > AREA_MISMATCH):
            self.mismatches.append({
                "feature": start + int(i), "supervision_no": str(numbers[i]), "stated_ha": float(stated_ha[i]),
                "measured_ha": round(float(measured_ha[i]), 4), "difference_pct": round(float(off[i]) * 100, 1),
            })



