"""Rendered tiles kept in memory, bounded in bytes, keyed by the data version they come from.

A tile's key holds its ETag, which is derived from
:func:`~gis_service.store.versions.data_version` (the per-table change counters bumped by
statement triggers on every write, migration 0003): the same notion of "data version" as the
map pages (:class:`~gis_service.maps.cache.RenderCache`).  A committed write therefore gives new
keys; entries of older versions are never served again and age out of the LRU.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable
from dataclasses import dataclass


@dataclass(frozen=True)
class RenderedTile:
    """The bytes of a tile and how it was made (``generalisation``: empty at full detail)."""

    data: bytes
    generalisation: str = ""


class TileCache:
    """A thread-safe LRU of rendered tiles holding at most ``max_bytes`` of tile data.

    ``max_bytes=0`` keeps nothing (every request renders: what the benchmark's cold runs use).
    Two threads missing the same key at once both render it; the result is the same.
    """

    def __init__(self, max_bytes: int) -> None:
        self.max_bytes = max_bytes
        self._items: OrderedDict[Hashable, RenderedTile] = OrderedDict()
        self._bytes = 0
        self._lock = threading.Lock()
        self.hits = 0
        self.misses = 0

    @property
    def size_bytes(self) -> int:
        return self._bytes

    def get_or_render(self, key: Hashable, render: Callable[[], RenderedTile]) -> tuple[RenderedTile, bool]:
        """The tile of ``key`` and whether it came from the cache."""
        with self._lock:
            tile = self._items.get(key)
            if tile is not None:
                self._items.move_to_end(key)
                self.hits += 1
                return tile, True
            self.misses += 1
        tile = render()
        if self.max_bytes and len(tile.data) <= self.max_bytes:
            with self._lock:
                old = self._items.pop(key, None)
                self._bytes -= len(old.data) if old is not None else 0
                self._items[key] = tile
                self._bytes += len(tile.data)
                while self._bytes > self.max_bytes:
                    _, dropped = self._items.popitem(last=False)
                    self._bytes -= len(dropped.data)
        return tile, False
