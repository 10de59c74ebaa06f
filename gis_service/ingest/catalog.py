"""The metric catalogue: every ``metric_code`` an indicator or target may use.

The catalogue is data (``data/layers/metrics.csv``: code, name_zh, unit,
description) so that it is documented in one place and a planning office can read
it; the loader refuses figures whose metric code it does not list.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from gis_service.errors import InputError
from gis_service.ingest.sources import read_rows

#: The sample data shipped with the repository (``data/`` at the project root).
SAMPLE_DATA_DIR = Path(__file__).resolve().parents[2] / "data"
METRICS_FILE = Path("layers") / "metrics.csv"


@dataclass(frozen=True)
class Metric:
    code: str
    name_zh: str
    unit: str
    description: str | None


def read_metric_catalogue(path: Path | None = None) -> dict[str, Metric]:
    """The metric catalogue keyed by code (default: the sample data's metrics.csv)."""
    path = path or SAMPLE_DATA_DIR / METRICS_FILE
    catalogue: dict[str, Metric] = {}
    for row in read_rows(path, required=("code", "name_zh", "unit")):
        code = row.values["code"]
        if code in catalogue:
            raise InputError(f"{path.name}: line {row.line}: metric code {code!r} listed twice")
        catalogue[code] = Metric(code, row.values["name_zh"], row.values["unit"], row.values.get("description"))
    return catalogue
