"""Shared CLI helpers: consoles, settings loading and strict JSON output."""

from __future__ import annotations

import dataclasses
import datetime as dt
import enum
import json
import math
from collections.abc import Mapping
from decimal import Decimal
from pathlib import PurePath

import numpy as np
import pandas as pd
import typer
from rich.console import Console

from gis_service.settings import Settings, get_settings

console = Console()
err_console = Console(stderr=True)


def load_settings() -> Settings:
    return get_settings()


def jsonable(value: object) -> object:
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
        return jsonable(value.value)
    if isinstance(value, np.datetime64):  # .item() of a nanosecond datetime64 is an int
        return jsonable(pd.Timestamp(value))
    if isinstance(value, np.generic):  # numpy scalars: int64, float32, bool_, datetime64...
        return jsonable(value.item())
    if isinstance(value, Decimal):
        return jsonable(float(value))
    if value is pd.NA or value is pd.NaT:
        return None
    if isinstance(value, dt.date | dt.time):  # datetime and pd.Timestamp are dates
        return value.isoformat()
    if isinstance(value, dt.timedelta):
        return value.total_seconds()
    if isinstance(value, PurePath):
        return str(value)
    if isinstance(value, pd.DataFrame):
        return jsonable(value.to_dict("records"))
    if isinstance(value, pd.Series | np.ndarray):
        return jsonable(value.tolist())
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return jsonable(dataclasses.asdict(value))
    if isinstance(value, Mapping):
        return {str(k) if not isinstance(k, str | int | float | bool) else k: jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [jsonable(v) for v in value]
    return value


def echo_json(obj: object) -> None:
    """Print ``obj`` as strict JSON (UTF-8, indented): missing values are ``null``, never
    ``NaN`` or ``Infinity``, which jq and strict parsers refuse.  Every ``--json`` prints
    through here."""
    typer.echo(json.dumps(jsonable(obj), ensure_ascii=False, allow_nan=False, indent=2))
