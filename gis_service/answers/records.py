"""Answers as plain, strict-JSON records: missing is ``None`` (JSON ``null``), never NaN.

One conversion for every face that writes rows out (CLI ``--json``, API bodies, CSV/XLSX
cells), so that the same row reads the same everywhere.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import enum
import json
import math
from collections.abc import Mapping
from decimal import Decimal
from pathlib import PurePath
from typing import Any

import numpy as np
import pandas as pd

from gis_service.answers.vocabulary import FLAG_COLUMNS, INTEGER_COLUMNS


def plain(value: object) -> object:
    """``value`` as plain JSON data: a missing value (NaN, ±Infinity, ``None``, ``pd.NA``,
    ``NaT``) is ``None``; numpy scalars and arrays, Decimals, dates, paths, enums,
    dataclasses, Series and DataFrames (as records) become their JSON counterparts.

    Anything else is returned as it is (``json.dumps`` then refuses it: a new type is
    noticed, not printed as its ``repr``).
    """
    if value is None or isinstance(value, bool | str):
        return value
    if isinstance(value, int):
        return int(value)  # an IntEnum or a bool-like int subclass as a plain int
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, enum.Enum):
        return plain(value.value)
    if isinstance(value, np.datetime64):  # .item() of a nanosecond datetime64 is an int
        return plain(pd.Timestamp(value))
    if isinstance(value, np.generic):  # numpy scalars: int64, float32, bool_, datetime64...
        return plain(value.item())
    if isinstance(value, Decimal):
        return plain(float(value))
    if value is pd.NA or value is pd.NaT:
        return None
    if isinstance(value, dt.date | dt.time):  # datetime and pd.Timestamp are dates
        return value.isoformat()
    if isinstance(value, dt.timedelta):
        return value.total_seconds()
    if isinstance(value, PurePath):
        return str(value)
    if isinstance(value, pd.DataFrame):
        return plain(value.to_dict("records"))
    if isinstance(value, pd.Series | np.ndarray):
        return plain(value.tolist())
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return plain(dataclasses.asdict(value))
    if isinstance(value, Mapping):
        return {str(k) if not isinstance(k, str | int | float | bool) else k: plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [plain(v) for v in value]
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
