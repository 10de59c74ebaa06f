"""One park lookup by id, code or name, for frames and the database."""

from __future__ import annotations

import pandas as pd
import pytest
from sqlalchemy.orm import Session

from gis_service.db.models import Park, ParkKind
from gis_service.errors import NotFoundError
from gis_service.store import find_park


def test_find_park_by_id_code_or_name_in_frames_and_the_database(engine) -> None:  # type: ignore[no-untyped-def]
    units = pd.DataFrame({"unit_id": [3, 7], "code": ["sj_a", "sj_b"], "unit_name": ["甲园", "乙园"]})
    assert find_park(units, 7)["code"] == "sj_b"
    assert find_park(units, "7")["code"] == "sj_b"
    assert find_park(units, "sj_a")["unit_id"] == 3
    assert find_park(units, " 乙园 ")["unit_id"] == 7
    with pytest.raises(NotFoundError, match=r"unknown park 'nope'.*known codes: sj_a, sj_b"):
        find_park(units, "nope")
    with Session(engine) as s:
        s.add(Park(code="sj_c", name="丙园", kind=ParkKind.park))
        s.commit()
    row = find_park(engine, "丙园")
    assert row["code"] == "sj_c" and find_park(engine, int(row["park_id"]))["name"] == "丙园"
