"""``python -m gis_service`` is the same as the ``gis-service`` command."""

from gis_service.cli import main

main()
