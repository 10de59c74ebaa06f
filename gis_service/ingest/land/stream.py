"""What every land importer does per chunk: convert it to COPY rows and report progress."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping

import numpy as np
import pandas as pd

from gis_service.errors import InputError
from gis_service.ingest.land.codes import CodeSystemChoice, detect_code_system
from gis_service.ingest.land.files import (
    LandChunk,
    LandFile,
    LandFileOptions,
    read_chunks,
)
from gis_service.ingest.land.write import COPY_COLUMNS

#: (features done, features in the layer), for a progress bar
Progress = Callable[[int, int], None]

#: the columns an importer's converter returns (the writer adds ``import_id``)
ROW_COLUMNS = [c for c in COPY_COLUMNS if c != "import_id"]


def stream_rows(
    land: LandFile, options: LandFileOptions, convert: Callable[[LandChunk], pd.DataFrame], progress: Progress | None
) -> Iterator[pd.DataFrame]:
    """The file's chunks converted to COPY rows (:data:`ROW_COLUMNS`), one chunk at a time."""
    done = 0
    for chunk in read_chunks(land, options):
        yield convert(chunk).reindex(columns=ROW_COLUMNS)
        done += len(chunk.frame)
        if progress:
            progress(done, land.feature_count)


def field_values(frame: pd.DataFrame, fields: Mapping[str, str | None], key: str) -> np.ndarray | None:
    """The values of the file's field for logical field ``key``, ``None`` when the file lacks it."""
    name = fields[key]
    return frame[name].to_numpy() if name else None


def choose_code_system(
    land: LandFile, codes: np.ndarray, *, declared: str | None, names: np.ndarray | None
) -> CodeSystemChoice:
    """The code system of the file's codes (:func:`~gis_service.ingest.land.codes.detect_code_system`),
    decided on the first chunk; a refusal names the file and layer."""
    try:
        return detect_code_system(land.fields, codes, declared=declared, names=names)
    except InputError as exc:
        raise type(exc)(f"{land.label}: {exc}") from None
