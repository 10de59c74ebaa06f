import numpy as np
import pytest

from gis_service.errors import InputError
from gis_service.parcels import generate_parcels, synthetic_boundaries


def test_generator_is_seeded_and_flagged():
    a = generate_parcels(2000, seed=7)
    b = generate_parcels(2000, seed=7)
    c = generate_parcels(2000, seed=8)
    assert len(a) == 2000
    assert a.geometry.equals(b.geometry) and (a["land_use_code"] == b["land_use_code"]).all()
    assert not (a["land_use_code"] == c["land_use_code"]).all()
    assert a["is_synthetic"].all() and a["source_document"].str.contains("seed=7").all()
    share = (a["land_use_class"] == "industrial").mean()
    assert 0.40 < share < 0.50
    # parcels never overlap: total area of the union equals the sum of areas
    projected = a.to_crs(4549)
    assert projected.union_all().area == pytest.approx(projected.area.sum(), rel=1e-9)
    assert a.loc[~a["is_supplied"], "supply_year"].isna().all()
    assert set(a.loc[a["land_use_class"] == "industrial", "land_use_code"]) <= {"M1", "M2", "M3", "100101", "100102", "1001"}


def test_synthetic_boundaries_do_not_overlap():
    parks = synthetic_boundaries(7, seed=1)
    projected = parks.to_crs(4549)
    assert parks.is_valid.all() and (parks["geometry_quality"] == "synthetic").all()
    assert projected.union_all().area == pytest.approx(projected.area.sum(), rel=1e-9)
    assert np.all(projected.area / 1e6 > 1.0)
