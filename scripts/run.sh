#!/usr/bin/env bash
# The main job: install, start the local PostGIS (unless GIS_DATABASE_URL points to one),
# migrate, load the sample data, then
#   scripts/run.sh                 serve on http://${GIS_HOST:-127.0.0.1}:${GIS_PORT:-8000};
#   scripts/run.sh notebook [...]  open JupyterLab on notebooks/ instead (installs the notebook
#                                  extra first; further arguments go to `gis-service notebook`).
set -euo pipefail
cd "$(dirname "$0")/.."
mode="${1:-serve}"
case "$mode" in
  serve) scripts/bootstrap.sh ;;
  notebook) shift; scripts/bootstrap.sh --extras notebook ;;
  *) echo "run: unknown mode '$mode' (serve or notebook)" >&2; exit 2 ;;
esac
gis=.venv/bin/gis-service
if [ -z "${GIS_DATABASE_URL:-}" ]; then $gis db start; fi
$gis db migrate
if $gis --help | grep -q "load-sample"; then $gis load-sample; fi
if [ "$mode" = notebook ]; then exec $gis notebook "$@"; fi
exec $gis serve
