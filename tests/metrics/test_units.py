import numpy as np
import pytest

from gis_service.errors import InputError
from gis_service.metrics.errors import UnknownUnitError
from gis_service.metrics.units import (
    density_factor_to_yi_per_km2,
    km2_to_mu,
    to_km2,
    to_yi_yuan,
    wan_per_mu_to_yi_per_km2,
    yi_per_km2_to_wan_per_mu,
)


def test_money_units():
    assert to_yi_yuan(3600, "万元") == pytest.approx(0.36)
    assert to_yi_yuan(2.5e8, "元") == pytest.approx(2.5)
    assert to_yi_yuan(165, "亿元") == 165.0
    np.testing.assert_allclose(to_yi_yuan([10_000, 5_000], "万元"), [1.0, 0.5])


def test_area_units():
    assert to_km2(178, "公顷") == pytest.approx(1.78)  # 临港松江科技城, 004 附件
    assert to_km2(1500, "亩") == pytest.approx(1.0)
    assert to_km2(2_500_000, "m²") == pytest.approx(2.5)
    assert to_km2(3, "平方公里") == 3.0
    assert km2_to_mu(22.98) == pytest.approx(34_470.0)


def test_density_units():
    # 1 亿元/km² = 10,000 万元 / 1,500 亩
    assert yi_per_km2_to_wan_per_mu(80.0) == pytest.approx(533.3333333)
    assert wan_per_mu_to_yi_per_km2(533.3333333) == pytest.approx(80.0)
    assert density_factor_to_yi_per_km2("亿元/ km^2") == 1.0  # as printed in 001 表1
    assert density_factor_to_yi_per_km2("万元/亩") == pytest.approx(0.15)


@pytest.mark.parametrize("unit", ["美元", "亿美元", "km", ""])
def test_unknown_money_unit_is_typed_error(unit):
    with pytest.raises(UnknownUnitError, match="unknown money unit"):
        to_yi_yuan(1, unit, where="row 3")
    assert issubclass(UnknownUnitError, InputError)


def test_unknown_density_unit_names_unit():
    with pytest.raises(UnknownUnitError, match="亿元/人"):
        density_factor_to_yi_per_km2("亿元/人")


def test_count_units_scale_wan_ren_to_persons():
    from gis_service.metrics.units import count_factor

    assert count_factor("人") == 1.0
    assert count_factor("万人") == 10_000.0  # 004 表1 gives 松江园 employees in 万人
    with pytest.raises(UnknownUnitError, match="打"):
        count_factor("打")


def test_employee_density_from_wan_ren():
    import pandas as pd

    from gis_service.metrics import bases_from_areas, density_table

    units = pd.DataFrame({"unit_id": ["p"], "name": ["园"]})
    indicators = pd.DataFrame(
        {"unit_id": ["p"], "year": [2020], "metric_code": ["employees"], "value": [7.6], "unit": ["万人"],
         "source": ["004 表1"]}
    )
    bases = bases_from_areas([{"unit_id": "p", "basis": "published_area", "area_km2": 22.98, "year": 2020}])
    table = density_table(units, indicators, bases, year=2020, numerators=["employees"], basis="published_area")
    assert table.iloc[0]["value_count"] == pytest.approx(76_000)
    assert table.iloc[0]["count_per_km2"] == pytest.approx(76_000 / 22.98)
