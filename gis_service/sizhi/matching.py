"""Find the lines of a roads layer that a 四至 feature names.

One function, :func:`match_features`, used by both verify and build.  A name matches
exactly first; failing that, names match when they share a *key*: the name folded
(full-width → ASCII, traditional → simplified, no spaces or quotes), without its
bracketed alias, the alias itself, its road code ("G15"), its stem without the
expressway/highway words (高速公路, 高速路, 高速, 公路), and the code known for that stem
("沈海" → G15).  So "沈海(G15)高速公路", "G15", "G15沈海高速" and "沈海高速" all match.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from functools import lru_cache

import geopandas as gpd

from gis_service.sizhi import lexicon as lx

#: Expressway codes and the names they are known by around Songjiang.  Old Shanghai
#: A-codes: A8 沪杭高速 is now G60, A30 郊环 is G1501, A9 沪青平高速 is G50.
EXPRESSWAY_ALIASES: dict[str, tuple[str, ...]] = {
    "G15": ("沈海",),
    "G60": ("沪昆", "沪杭", "A8"),
    "G1501": ("上海绕城", "绕城", "郊环", "A30"),
    "G50": ("沪渝", "沪青平", "A9"),
    "S32": ("申嘉湖",),
}
_CODE_OF_ALIAS = {alias: code for code, aliases in EXPRESSWAY_ALIASES.items() for alias in aliases}
_HIGHWAY_WORDS = re.compile(r"(?:高速公路|高速路|高速|公路)+$")
_BRACKETED = re.compile(r"[(\[【〔]([^)\]】〕]*)[)\]】〕]")


@lru_cache(maxsize=4096)
def _fold(name: str) -> str:
    folded = lx.normalise(name)
    return "".join(ch for ch in folded if not ch.isspace() and ch not in lx.QUOTES)


@lru_cache(maxsize=4096)
def name_keys(name: str) -> frozenset[str]:
    """Keys under which ``name`` matches other spellings of the same feature.

    >>> sorted(name_keys("沈海(G15)高速公路"))
    ['G15', '沈海', '沈海(G15)高速公路', '沈海高速公路']
    """
    folded = _fold(name)
    if not folded:
        return frozenset()
    keys = {folded}
    for inner in _BRACKETED.findall(folded):
        keys |= name_keys(inner)
    bare = _BRACKETED.sub("", folded)
    if bare:
        keys.add(bare)
    if bare in _CODE_OF_ALIAS:  # a bare expressway alias ("郊环")
        keys.add(_CODE_OF_ALIAS[bare])
    if lx.classify(bare) not in ("road", "expressway", "planned_road"):
        return frozenset(k for k in keys if k)  # a river or boundary matches by its name only
    codes = [code.upper() for code in lx.ROAD_CODE.findall(bare)]
    for code in codes:
        keys.add(_CODE_OF_ALIAS.get(code, code))
    stem = _HIGHWAY_WORDS.sub("", lx.ROAD_CODE.sub("", bare))
    if stem != bare and len(stem) >= 2:
        keys.add(stem)
    if stem in _CODE_OF_ALIAS:
        keys.add(_CODE_OF_ALIAS[stem])
    return frozenset(k for k in keys if k)


def names_match(a: str, b: str) -> bool:
    """True when two spellings name the same feature (see :func:`name_keys`)."""
    return _fold(a) == _fold(b) or bool(name_keys(a) & name_keys(b))


def match_features(name: str, roads: gpd.GeoDataFrame, aliases: Iterable[str] = ()) -> gpd.GeoDataFrame:
    """Rows of ``roads`` that carry the feature ``name`` (or one of its ``aliases``).

    Parameters
    ----------
    name
        Feature name as parsed ("沈海高速公路").
    roads
        Layer with a ``name`` column (any CRS; geometry is not looked at).
    aliases
        Other names of the feature ("G15").

    Returns
    -------
    geopandas.GeoDataFrame
        Exact matches when there are any, otherwise the rows whose name shares a key.
        Empty when nothing matches.
    """
    wanted = [name, *aliases]
    names = roads["name"].astype("string").fillna("")
    exact = names.map(_fold).isin({_fold(w) for w in wanted})
    if exact.any():
        return roads[exact.to_numpy()]
    keys: set[str] = set()
    for w in wanted:
        keys |= name_keys(w)
    if not keys:
        return roads.iloc[0:0]
    by_key = names.map(lambda n: bool(name_keys(n) & keys))
    return roads[by_key.to_numpy()]
