"""Computed figures are kept until the stored data changes, and no longer."""

from __future__ import annotations

import pandas as pd
from sqlalchemy import Engine, text

from gis_service.store.versions import DataMemo


def test_memo_recomputes_only_after_a_write(engine: Engine) -> None:
    memo, calls = DataMemo(), []

    def compute() -> pd.DataFrame:
        calls.append(1)
        with engine.connect() as conn:
            return pd.DataFrame({"parks": [conn.execute(text("SELECT count(*) FROM park")).scalar_one()]})

    assert memo.get_or_compute(engine, ("k",), compute)["parks"].iloc[0] == 0
    first = memo.get_or_compute(engine, ("k",), compute)
    assert len(calls) == 1
    first["parks"] = 99  # a caller changing its copy does not change the cached value
    assert memo.get_or_compute(engine, ("k",), compute)["parks"].iloc[0] == 0
    with engine.begin() as conn:
        conn.execute(text("INSERT INTO park (code, name, kind) VALUES ('a', '甲', 'block')"))
    assert memo.get_or_compute(engine, ("k",), compute)["parks"].iloc[0] == 1
    assert len(calls) == 2
