"""Answers as plain, strict-JSON records: missing is ``None`` (JSON ``null``), never NaN.

One conversion for every face that writes rows out (CLI ``--json``, API bodies, CSV/XLSX
cells), so that the same row reads the same everywhere.
"""

from __future__ import annotations

import datetime as dt
import json
import math
from typing import Any

import numpy as np
import pandas as pd

from gis_service.answers.vocabulary import FLAG_COLUMNS, INTEGER_COLUMNS


def plain(value: Any) -> Any:
    """A JSON-safe scalar: NaN/NA/NaT → None, numpy → Python, dates → ISO text."""
    if isinstance(value, dict):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple | np.ndarray):
        return [plain(v) for v in value]
    if value is None or value is pd.NA or value is pd.NaT:
        return None
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dt.date | dt.datetime | pd.Timestamp):
        return value.isoformat()
    return value


def records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    """The rows of ``frame`` as dicts of plain values; integer and yes/no keys typed as such."""
    out = []
    for row in frame.to_dict("records"):
        record = {}
        for key, value in row.items():
            v = plain(value)
            if v is not None and key in INTEGER_COLUMNS:
                v = int(v)
            elif v is not None and key in FLAG_COLUMNS:
                v = bool(v)
            record[key] = v
        out.append(record)
    return out


def strict_json(obj: Any, *, indent: int | None = 2) -> str:
    """``obj`` as JSON that every strict parser reads (NaN and Infinity become ``null``)."""
    return json.dumps(plain(obj), ensure_ascii=False, allow_nan=False, indent=indent)
