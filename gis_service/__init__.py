"""gis_service: spatial planning platform for the industrial parks of Songjiang, Shanghai.

Data flow: ingest -> store (PostGIS) -> metrics (GeoPandas) -> serve (API, maps, notebooks).
"""

from __future__ import annotations

__version__ = "0.1.0"
