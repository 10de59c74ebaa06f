"""Unit conversions for money and area, with the units spelled out.

Canonical units used throughout the engine:

- money: 亿元 (yi yuan, 10^8 yuan); 1 亿元 = 10,000 万元 (wan yuan, 10^4 yuan) = 10^8 元.
- area: km²; 1 km² = 100 公顷 (gongqing, hectares) = 1,500 亩 (mu) = 10^6 m².
- output density: 亿元/km²; 亩均 ("per mu") figures such as 亩均税收 (tax per mu) in 万元/亩.

Any other unit string raises :class:`~gis_service.metrics.errors.UnknownUnitError`.
"""

from __future__ import annotations

import re

import numpy as np
import numpy.typing as npt

from gis_service.metrics.errors import UnitMismatchError, UnknownUnitError

YUAN_PER_YI = 1e8
WAN_PER_YI = 1e4
M2_PER_KM2 = 1e6
HA_PER_KM2 = 100.0
MU_PER_KM2 = 1500.0

#: factor that turns a value in the key unit into 亿元
_MONEY_TO_YI: dict[str, float] = {
    "亿元": 1.0,
    "亿": 1.0,
    "yi_yuan": 1.0,
    "万元": 1.0 / WAN_PER_YI,
    "万": 1.0 / WAN_PER_YI,
    "wan_yuan": 1.0 / WAN_PER_YI,
    "元": 1.0 / YUAN_PER_YI,
    "yuan": 1.0 / YUAN_PER_YI,
    "cny": 1.0 / YUAN_PER_YI,
}

#: factor that turns a value in the key unit into km²
_AREA_TO_KM2: dict[str, float] = {
    "km2": 1.0,
    "km²": 1.0,
    "km^2": 1.0,
    "平方公里": 1.0,
    "平方千米": 1.0,
    "公顷": 1.0 / HA_PER_KM2,
    "ha": 1.0 / HA_PER_KM2,
    "hectare": 1.0 / HA_PER_KM2,
    "亩": 1.0 / MU_PER_KM2,
    "mu": 1.0 / MU_PER_KM2,
    "m2": 1.0 / M2_PER_KM2,
    "m²": 1.0 / M2_PER_KM2,
    "m^2": 1.0 / M2_PER_KM2,
    "平方米": 1.0 / M2_PER_KM2,
}

#: count units (persons, enterprises) -> factor to single items; 万人 = 10,000 persons
_COUNT_TO_ONE = {
    "人": 1.0, "persons": 1.0, "person": 1.0, "家": 1.0, "个": 1.0, "户": 1.0,
    "enterprises": 1.0, "count": 1.0, "万人": 1e4, "万家": 1e4, "万户": 1e4,
}

_SPACES = re.compile(r"\s+")


def _norm(unit: str) -> str:
    return _SPACES.sub("", str(unit)).lower()


def money_factor_to_yi(unit: str, *, where: str = "") -> float:
    """Factor turning a money value in ``unit`` (亿元, 万元, 元) into 亿元."""
    key = _norm(unit)
    if key not in _MONEY_TO_YI:
        raise UnknownUnitError(f"unknown money unit {unit!r}{_at(where)}; expected 亿元, 万元 or 元")
    return _MONEY_TO_YI[key]


def area_factor_to_km2(unit: str, *, where: str = "") -> float:
    """Factor turning an area in ``unit`` (km², 公顷, 亩, m²) into km²."""
    key = _norm(unit)
    if key not in _AREA_TO_KM2:
        raise UnknownUnitError(f"unknown area unit {unit!r}{_at(where)}; expected km², 公顷, 亩 or m²")
    return _AREA_TO_KM2[key]


def count_factor(unit: str, *, where: str = "") -> float:
    """Factor turning a count in ``unit`` into single items (``万人`` -> 10,000)."""
    key = _norm(unit)
    if key not in _COUNT_TO_ONE:
        raise UnknownUnitError(f"unknown count unit {unit!r}{_at(where)}; expected 人, 万人, 家 or 个")
    return _COUNT_TO_ONE[key]


def to_yi_yuan(value: float | npt.ArrayLike, unit: str, *, where: str = "") -> float | np.ndarray:
    """Convert money from ``unit`` to 亿元 (e.g. ``to_yi_yuan(3600, "万元") == 0.36``)."""
    return _scale(value, money_factor_to_yi(unit, where=where))


def to_km2(value: float | npt.ArrayLike, unit: str, *, where: str = "") -> float | np.ndarray:
    """Convert an area from ``unit`` to km² (e.g. ``to_km2(178, "公顷") == 1.78``)."""
    return _scale(value, area_factor_to_km2(unit, where=where))


def _scale(value: float | npt.ArrayLike, factor: float) -> float | np.ndarray:
    if np.isscalar(value):
        return float(value) * factor  # type: ignore[arg-type]
    return np.asarray(value, dtype=float) * factor


def km2_to_mu(area_km2: float | np.ndarray) -> float | np.ndarray:
    """km² → 亩 (1 km² = 1,500 亩)."""
    return area_km2 * MU_PER_KM2


def yi_per_km2_to_wan_per_mu(density: float | np.ndarray) -> float | np.ndarray:
    """Density 亿元/km² → 亩均 figure in 万元/亩 (1 亿元/km² = 10,000 万元 / 1,500 亩 ≈ 6.667 万元/亩)."""
    return density * WAN_PER_YI / MU_PER_KM2


def wan_per_mu_to_yi_per_km2(per_mu: float | np.ndarray) -> float | np.ndarray:
    """亩均 figure in 万元/亩 → density in 亿元/km² (inverse of :func:`yi_per_km2_to_wan_per_mu`)."""
    return per_mu * MU_PER_KM2 / WAN_PER_YI


def density_factor_to_yi_per_km2(unit: str, *, where: str = "") -> float:
    """Factor turning a density in ``unit`` ("亿元/km²", "亿元/ km^2", "万元/亩", ...) into 亿元/km².

    The unit must be ``<money>/<area>``; both parts are looked up in the tables above.
    """
    text = _norm(unit)
    if "/" not in text:
        raise UnknownUnitError(f"unknown density unit {unit!r}{_at(where)}; expected <money>/<area>")
    money, area = text.split("/", 1)
    try:
        return money_factor_to_yi(money) / area_factor_to_km2(area)
    except UnknownUnitError as exc:
        raise UnknownUnitError(f"unknown density unit {unit!r}{_at(where)}: {exc}") from None


def _at(where: str) -> str:
    return f" ({where})" if where else ""


# ----------------------------------------------------------------------------- conversion between units
#: units of foreign-currency money -> factor to 亿美元 (no exchange rate is ever applied)
_USD_TO_YI_USD = {"亿美元": 1.0, "万美元": 1.0 / WAN_PER_YI, "美元": 1.0 / YUAN_PER_YI}
_PERCENT = frozenset({"%", "％", "百分比", "percent", "pct"})
#: counted things: base unit -> what it counts; "万<base>" is 10,000 of them
_COUNT_BASES = {"人": "persons", "家": "enterprises", "个": "items", "件": "items (patents)", "位": "persons",
                "户": "households", "项": "items"}


def unit_kind(unit: str) -> str | None:
    """The kind of a unit: ``money``, ``money_usd``, ``area``, ``density``, ``percent``,
    ``count:<base>`` (e.g. ``count:人`` for 人 and 万人), or ``None`` when unknown."""
    key = _norm(unit)
    if key in _MONEY_TO_YI:
        return "money"
    if key in _USD_TO_YI_USD:
        return "money_usd"
    if key in _AREA_TO_KM2:
        return "area"
    if key in _PERCENT:
        return "percent"
    base = key[1:] if key.startswith("万") and len(key) > 1 else key
    if base in _COUNT_BASES:
        return f"count:{base}"
    if "/" in key:
        try:
            density_factor_to_yi_per_km2(key)
        except UnknownUnitError:
            return None
        return "density"
    return None


def _factor(unit: str, kind: str) -> float:
    """Factor turning a value in ``unit`` into the reference unit of its kind."""
    key = _norm(unit)
    if kind == "money":
        return money_factor_to_yi(key)
    if kind == "money_usd":
        return _USD_TO_YI_USD[key]
    if kind == "area":
        return area_factor_to_km2(key)
    if kind == "density":
        return density_factor_to_yi_per_km2(key)
    if kind == "percent":
        return 1.0
    return WAN_PER_YI if key.startswith("万") and len(key) > 1 else 1.0  # counts


def conversion_factor(from_unit: str, to_unit: str, *, where: str = "") -> float:
    """Factor turning a value in ``from_unit`` into ``to_unit`` (``万元`` -> ``亿元``: 1e-4).

    Both units must be of the same kind (money 亿元/万元/元, area km²/公顷/亩/m², density
    <money>/<area>, counts such as 人/万人 or 家, %); identical unit strings always convert
    with factor 1.

    Raises
    ------
    UnitMismatchError
        The units are of different kinds (e.g. 公顷 for a metric in 亿元).
    UnknownUnitError
        ``from_unit`` is not a unit this module knows.
    """
    if _norm(from_unit) == _norm(to_unit):
        return 1.0
    source, target = unit_kind(from_unit), unit_kind(to_unit)
    if source is None:
        raise UnknownUnitError(f"unknown unit {from_unit!r}{_at(where)}")
    if source != target:
        raise UnitMismatchError(
            f"unit {from_unit!r} does not match {to_unit!r}{_at(where)}: "
            f"{source.replace('count:', 'count of ')} vs {(target or 'unknown').replace('count:', 'count of ')}"
        )
    return _factor(from_unit, source) / _factor(to_unit, target)
