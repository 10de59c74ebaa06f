"""The intensity answer's statements run on several connections but read one state of the data,
and their numbers come back packed as they were stored."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from sqlalchemy import Engine, create_engine, text

from gis_service.ingest.idle_reviews import record_idle_review
from gis_service.metrics import intensity
from gis_service.metrics.intensity import measure_intensity
from gis_service.metrics.snapshot_reads import fetch_packed, in_snapshot
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
        assert in_snapshot(engine, snapshot, _count) == before
    with engine.connect() as fresh:
        assert _count(fresh) == before + 1


def test_a_snapshot_id_that_is_not_one_is_refused_before_it_reaches_sql(engine: Engine) -> None:
    with pytest.raises(ValueError, match="snapshot id"):
        in_snapshot(engine, "x'; DROP TABLE park; --", _count)


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


_PACKED = text(
    "SELECT string_agg(float8send(x) || float8send(y), ''::bytea ORDER BY x)"
    " FROM (VALUES (1.5::float8, -2.0::float8), (3.0, 'NaN'), (1e300, 5e-324)) AS t(x, y) WHERE x < :below"
)


def test_packed_numbers_come_back_as_the_rows_they_were(engine: Engine) -> None:
    with engine.connect() as conn:
        got = fetch_packed(conn, _PACKED, {"below": 1e301}, 2)
    np.testing.assert_array_equal(got, np.array([[1.5, -2.0], [3.0, np.nan], [1e300, 5e-324]]))
    assert got.dtype == np.float64 and got.dtype.byteorder in ("=", "<")


def test_no_row_packs_to_an_empty_array_of_the_width(engine: Engine) -> None:
    with engine.connect() as conn:
        got = fetch_packed(conn, _PACKED, {"below": 0.0}, 2)
    assert got.shape == (0, 2)


def test_a_write_committed_while_the_answer_measures_is_in_none_of_its_parts(
    engine: Engine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The unit names and the idle reviews are read after the land; a rename and a review
    committed once the measurement has begun must not show (all reads share one snapshot)."""
    park_id = load_fixture(engine, tmp_path)
    units = intensity._units

    def units_then_a_write(conn, params):  # type: ignore[no-untyped-def]
        with engine.begin() as other:
            other.execute(text("UPDATE park SET name = '改名后的园区' WHERE id = :id"), {"id": park_id})
        record_idle_review(engine, year=YEAR, park_code=None, source_document="测量中途登记的认定", actor="test")
        return units(conn, params)

    monkeypatch.setattr(intensity, "_units", units_then_a_write)
    result = measure_intensity(engine, year=YEAR, level="park")
    row = result.rows.set_index("unit_id").loc[park_id]
    assert row["unit_name"] != "改名后的园区"
    details = result.details.set_index(["unit_id", "indicator"]).loc[(park_id, "idle_land_rate_pct")]
    assert "测量中途登记的认定" not in str(details["numerator_source"]) + str(details["missing_reason"])
    monkeypatch.undo()
    later = measure_intensity(engine, year=YEAR, level="park")  # the next answer sees both
    assert later.rows.set_index("unit_id").loc[park_id, "unit_name"] == "改名后的园区"
