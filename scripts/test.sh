#!/usr/bin/env bash
# The whole test suite, from nothing: installs what it needs, then runs pytest.
# The suite starts and stops its own throwaway PostGIS; no database setup is needed.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/bootstrap.sh --extras test,docs,notebook --browser  # docs: the site is built by a test; notebook: tests start JupyterLab
exec .venv/bin/python -m pytest "$@"
