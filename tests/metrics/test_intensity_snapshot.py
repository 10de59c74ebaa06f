"""The intensity answer's statements run on two connections but read one state of the data."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from sqlalchemy import Engine, create_engine, text

from gis_service.metrics.intensity import _in_snapshot, measure_intensity
from gis_service.testing import insert_park
from tests.metrics.helpers import rect, to_4326
from tests.metrics.intensity_fixture import YEAR, load_fixture


def _count(conn) -> int:  # type: ignore[no-untyped-def]
    return int(conn.execute(text("SELECT count(*) FROM park")).scalar_one())


def test_a_second_connection_sees_the_exported_snapshot_not_later_commits(engine: Engine) -> None:
    with engine.connect().execution_options(isolation_level="REPEATABLE READ") as conn, conn.begin():
        snapshot = conn.exec_driver_sql("SELECT pg_export_snapshot()").scalar_one()
        before = _count(conn)
        insert_park(engine, "late", "迟到的园区", to_4326([rect(0, 0, 100, 100)])[0])  # committed after the snapshot was taken
        assert _in_snapshot(engine, snapshot, _count) == before
    with engine.connect() as fresh:
        assert _count(fresh) == before + 1


def test_a_snapshot_id_that_is_not_one_is_refused_before_it_reaches_sql(engine: Engine) -> None:
    with pytest.raises(ValueError, match="snapshot id"):
        _in_snapshot(engine, "x'; DROP TABLE park; --", _count)


def test_a_pool_with_no_connection_to_spare_runs_the_statements_one_after_the_other(
    engine: Engine, db_url: str, tmp_path: Path
) -> None:
    """Side by side, an answer holds one connection and asks for another: with none to spare it
    must not wait for itself (which would end in the pool timeout), and the figures are the same."""
    load_fixture(engine, tmp_path)
    tight = create_engine(db_url, pool_size=1, max_overflow=0, pool_timeout=3)
    try:
        alone = measure_intensity(tight, year=YEAR, level="park").rows
    finally:
        tight.dispose()
    roomy = measure_intensity(engine, year=YEAR, level="park").rows
    pd.testing.assert_frame_equal(alone, roomy)
