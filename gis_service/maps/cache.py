"""Rendered-map cache, invalidated when the data changes.

The key of a page includes :func:`~gis_service.store.versions.data_version`, a hash of the
per-table change counters of the ``data_change`` table (migration 0003): a statement trigger
on every stored layer and figure table bumps its counter on each INSERT, UPDATE, DELETE or
TRUNCATE, inside the writing transaction.  Any committed change therefore gives a new key and
the page is rebuilt (a rolled-back write bumps nothing); stale entries simply age out of the LRU.
"""

from __future__ import annotations

import hashlib
import threading
from collections import OrderedDict
from collections.abc import Callable
from pathlib import Path


class RenderCache:
    """A small thread-safe LRU of rendered pages, optionally mirrored to ``directory``."""

    def __init__(self, max_entries: int = 64, directory: Path | None = None) -> None:
        self.max_entries = max_entries
        self.directory = directory
        self._items: OrderedDict[str, str] = OrderedDict()
        self._lock = threading.Lock()
        self.hits = 0
        self.misses = 0
        if directory is not None:
            directory.mkdir(parents=True, exist_ok=True)

    @staticmethod
    def key(*parts: object) -> str:
        return hashlib.sha1(repr(parts).encode()).hexdigest()

    def get_or_build(self, key: str, build: Callable[[], str]) -> tuple[str, bool]:
        """The page for ``key`` and whether it came from the cache."""
        with self._lock:
            if key in self._items:
                self._items.move_to_end(key)
                self.hits += 1
                return self._items[key], True
        path = self.directory / f"{key}.html" if self.directory is not None else None
        if path is not None and path.exists():
            page = path.read_text(encoding="utf-8")
            cached = True
        else:
            page = build()
            cached = False
            if path is not None:
                path.write_text(page, encoding="utf-8")
        with self._lock:
            self.hits += cached
            self.misses += not cached
            self._items[key] = page
            while len(self._items) > self.max_entries:
                self._items.popitem(last=False)
        return page, cached
