"""The maps on the project's reference data (gis-service load-sample): weight budgets and honesty."""

from __future__ import annotations

import pytest

from gis_service.ingest import load_sample
from tests.api.conftest import make_client


@pytest.fixture
def reference(engine) -> None:  # type: ignore[no-untyped-def]
    load_sample(engine)


def test_reference_overview_and_park_pages_fit_their_budgets(db_url, reference) -> None:  # type: ignore[no-untyped-def]
    with make_client(db_url) as c:
        overview = c.get("/")
        assert overview.status_code == 200, overview.text[:500]
        assert len(overview.content) <= 1_500_000
        parks = c.get("/ogc/collections/parks/items?limit=100").json()["features"]
        drawn = [f for f in parks if f["geometry"] is not None]
        assert drawn, "the reference data has park boundaries"
        for f in drawn:
            page = c.get(f"/maps/parks/{f['id']}")
            assert page.status_code == 200, (f["id"], page.text[:300])
            assert len(page.content) <= 500_000, (f["properties"]["name"], len(page.content))
        # approximate boundaries are flagged as such in the data the map draws
        assert all(f["properties"]["geometry_quality"] in ("approximate", "synthetic", "surveyed") for f in drawn)
        if any(f["properties"]["geometry_quality"] != "surveyed" for f in drawn):
            assert "虚线边界" in overview.text
