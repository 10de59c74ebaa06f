"""The map tests use the web tests' fixtures (sample data on a fresh PostGIS, an app on it)."""

from tests.api.conftest import client, sample  # noqa: F401  (pytest fixtures)
