"""Which figure of a unit counts for a year: the one rule, written once.

A yearly figure (output, tax, a published 管辖面积 …) counts for year *Y* when it is the
latest figure of that unit and metric **at or before** *Y*.  A park that published its
jurisdiction area in 2020 and nothing since keeps that area in 2021; a park whose 2021
output is not yet published has its 2020 output shown for 2021 — always with the year it
comes from (``figure_year``) on the row, so a reader sees the figure's vintage.
Projections (e.g. 004 表2's 2025 figures) are never figures of a year.
"""

from __future__ import annotations

from collections.abc import Sequence

import pandas as pd

#: the rule as stated in every answer's meta
FIGURE_YEAR_RULE = "latest figure at or before the requested year; figure_year on each row names the year it comes from"
FIGURE_YEAR_RULE_ZH = "取所查年份当年或之前最近一年的数据,每行的“数据年份”注明实际所用年份"


def latest_at_or_before(rows: pd.DataFrame, year: int, *, keys: Sequence[str]) -> pd.DataFrame:
    """The rows of ``rows`` that count for ``year``: per ``keys`` group, those of the latest
    ``year`` column value at or before ``year``.

    Two rows of one group in that latest year are both kept: the caller decides whether
    that is an error (two output figures of one park in one year is).
    """
    upto = rows[rows["year"].to_numpy() <= year]
    if upto.empty:
        return upto
    latest = upto.groupby(list(keys), sort=False)["year"].transform("max")
    return upto[upto["year"].to_numpy() == latest.to_numpy()]
