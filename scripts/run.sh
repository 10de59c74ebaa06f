#!/usr/bin/env bash
# The main job: install, start the local PostGIS (unless GIS_DATABASE_URL points to one),
# migrate, load the sample data, and serve on http://${GIS_HOST:-127.0.0.1}:${GIS_PORT:-8000}.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/bootstrap.sh
gis=.venv/bin/gis-service
if [ -z "${GIS_DATABASE_URL:-}" ]; then $gis db start; fi
$gis db migrate
if $gis --help | grep -q "load-sample"; then $gis load-sample; fi
exec $gis serve
