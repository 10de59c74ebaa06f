"""Reading the dates of land records (合同签订日期, 收回日期) as offices write them."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

import numpy as np
import pandas as pd

from gis_service.errors import InputError

#: the earliest date a land record may carry (the land market reform) and the latest
EARLIEST = pd.Timestamp(1980, 1, 1)


def parse_dates(values: np.ndarray, *, what: str, where: Callable[[int], str], required: bool) -> np.ndarray:
    """Dates (``datetime64[D]``; NaT where missing and allowed) from dates, datetimes or text.

    Text may be ``2021-05-12``, ``2021/5/12``, ``2021.5.12``, ``20210512`` or
    ``2021年5月12日``.  Raises :class:`InputError` naming the feature for a missing date
    (when ``required``), a text that is not a date, or a date out of range.
    """
    series = pd.Series(values, dtype=object)
    blank = series.isna() | series.astype(str).str.strip().isin(["", "nan", "NaT", "None"])
    text = (
        series.astype(str).str.strip()
        .str.replace(r"[年月./]", "-", regex=True).str.replace("日", "", regex=False)
        .str.replace(r"^(\d{4})(\d{2})(\d{2})$", r"\1-\2-\3", regex=True)
    )
    direct = series.map(lambda v: pd.Timestamp(v) if isinstance(v, (dt.date, pd.Timestamp, np.datetime64)) else pd.NaT)
    parsed = pd.to_datetime(text.where(direct.isna()), format="mixed", errors="coerce").fillna(direct)
    parsed = parsed.dt.tz_localize(None) if getattr(parsed.dt, "tz", None) is not None else parsed
    _fail_first(blank & required, lambda i: f"{where(i)}: {what} is missing")
    _fail_first(~blank & parsed.isna(), lambda i: f"{where(i)}: {what} {values[i]!r} is not a date")
    latest = pd.Timestamp(dt.date.today()) + pd.Timedelta(days=366)
    _fail_first(~blank & ((parsed < EARLIEST) | (parsed > latest)),
                lambda i: f"{where(i)}: {what} {parsed.iloc[i].date()} is outside {EARLIEST.year}–{latest.year}")
    return parsed.to_numpy(dtype="datetime64[D]")


def _fail_first(bad: pd.Series, message: Callable[[int], str]) -> None:
    flags = bad.to_numpy(dtype=bool)
    if flags.any():
        raise InputError(message(int(np.flatnonzero(flags)[0])))
