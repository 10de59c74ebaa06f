"""Pausing Python's cyclic garbage collector while a measurement builds its arrays.

Why: a measurement at 1M land records makes ~10^5 container objects in a second (shapely
geometries, rows).  Every 700 of them start a collection of the young objects, and as they
survive, full collections that walk every object of the process: at 1M, two to three of those
per land-intensity answer, ~80 ms each with the GIL held (0.14–0.18 s of a ~1 s answer,
measured with ``gc.callbacks``).  A measurement makes no reference cycle that must be freed
before it ends, so collecting is postponed until it does.

Reference counting still frees everything as usual; only the cycle detector waits.  The
pause is process-wide (the collector has one switch): :func:`gc_paused` counts the
measurements in progress, in any thread, and switches the collector back on when the last
one ends, and only if it was on before the first began.
"""

from __future__ import annotations

import gc
import threading
from collections.abc import Iterator
from contextlib import contextmanager

_lock = threading.Lock()
_in_progress = 0
_was_enabled = False


@contextmanager
def gc_paused() -> Iterator[None]:
    """Run the block with automatic cyclic collection off (nested and concurrent blocks share
    one pause; the collector's state before the first is restored after the last)."""
    global _in_progress, _was_enabled
    with _lock:
        if _in_progress == 0:
            _was_enabled = gc.isenabled()
            gc.disable()
        _in_progress += 1
    try:
        yield
    finally:
        with _lock:
            _in_progress -= 1
            if _in_progress == 0 and _was_enabled:
                gc.enable()
