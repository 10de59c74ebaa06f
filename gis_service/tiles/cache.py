"""Rendered tiles kept in memory, bounded in bytes, keyed by the data version they come from.

A tile's key holds its ETag, which is derived from the per-table change counters bumped by
statement triggers on every write (``data_change``, migration 0003): the same notion of "data
version" as the map pages (:class:`~gis_service.maps.cache.RenderCache`).  A tile is put under
the versions read in the same statement as its content, so an entry's key never names other
data than its bytes.  A committed write gives new keys; entries of older versions are never
served again and age out of the LRU.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Hashable
from dataclasses import dataclass


@dataclass(frozen=True)
class RenderedTile:
    """The bytes of a tile and how it was made (``generalisation``: empty at full detail)."""

    data: bytes
    generalisation: str = ""


class TileCache:
    """A thread-safe LRU of rendered tiles holding at most ``max_bytes`` of tile data.

    ``max_bytes=0`` keeps nothing (every request renders: what the benchmark's cold runs use).
    Two requests missing the same key at once both render it; the result is the same.
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

    def get(self, key: Hashable) -> RenderedTile | None:
        """The tile of ``key`` when kept (counted as a hit), else ``None`` (a miss)."""
        with self._lock:
            tile = self._items.get(key)
            if tile is None:
                self.misses += 1
                return None
            self._items.move_to_end(key)
            self.hits += 1
            return tile

    def put(self, key: Hashable, tile: RenderedTile) -> None:
        """Keep ``tile`` under ``key`` (nothing when it alone exceeds the budget), dropping the
        least recently used tiles beyond ``max_bytes``."""
        if not self.max_bytes or len(tile.data) > self.max_bytes:
            return
        with self._lock:
            old = self._items.pop(key, None)
            self._bytes -= len(old.data) if old is not None else 0
            self._items[key] = tile
            self._bytes += len(tile.data)
            while self._bytes > self.max_bytes:
                _, dropped = self._items.popitem(last=False)
                self._bytes -= len(dropped.data)
