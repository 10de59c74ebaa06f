#!/usr/bin/env bash
# Install what the project needs on a fresh Debian/Ubuntu machine, idempotently:
#   system packages (PostgreSQL + PostGIS, python3-venv; Chromium with --browser; PyQGIS with the test extras),
#   a virtualenv in .venv and the package with the requested extras.
# Usage: scripts/bootstrap.sh [--extras test,notebook] [--browser]
#   extras (pyproject.toml): test (the suite), notebook (JupyterLab for `gis-service notebook`)
set -euo pipefail
cd "$(dirname "$0")/.."

extras=""
browser=0
while [ $# -gt 0 ]; do
  case "$1" in
    --extras) extras="$2"; shift 2 ;;
    --browser) browser=1; shift ;;
    *) echo "bootstrap: unknown option $1" >&2; exit 2 ;;
  esac
done

SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi

need_pkgs=()
have_cmd() { command -v "$1" >/dev/null 2>&1; }
pg_bindir() { ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1; }

bindir="$(pg_bindir || true)"
if [ -z "$bindir" ] || [ ! -x "$bindir/initdb" ]; then need_pkgs+=(postgresql postgresql-contrib); fi
if ! ls /usr/share/postgresql/*/extension/postgis.control >/dev/null 2>&1; then need_pkgs+=(postgresql-postgis); fi
if ! python3 -c 'import venv, ensurepip' >/dev/null 2>&1; then need_pkgs+=(python3-venv); fi
# Chinese labels in report PNG/PDF pages and in screenshots
if ! dpkg -s fonts-noto-cjk >/dev/null 2>&1; then need_pkgs+=(fonts-noto-cjk); fi
if [ "$browser" -eq 1 ] && ! have_cmd chromium; then need_pkgs+=(chromium); fi
# PyQGIS (Debian's QGIS, run by /usr/bin/python3) for the QGIS client test, with the test extras
if [[ ",$extras," == *",test,"* ]] && ! dpkg -s python3-qgis qgis-providers >/dev/null 2>&1; then
  need_pkgs+=(python3-qgis qgis-providers)
fi

if [ ${#need_pkgs[@]} -gt 0 ]; then
  echo "bootstrap: installing system packages: ${need_pkgs[*]}"
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get update -qq
  $SUDO apt-get install -y -qq --no-install-recommends "${need_pkgs[@]}" >/dev/null
fi

if [ ! -x .venv/bin/python ]; then
  python3 -m venv .venv
  .venv/bin/pip install -q --upgrade pip
fi

# Reinstall only when the dependency list changed (keeps repeated runs fast).
spec="."
[ -n "$extras" ] && spec=".[$extras]"
stamp=".venv/.gis-installed-$(echo "$extras" | tr ',' '-')"
digest="$(sha256sum pyproject.toml | cut -d' ' -f1)"
if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$digest" ]; then
  echo "bootstrap: pip install -e '$spec'"
  .venv/bin/pip install -q --disable-pip-version-check -e "$spec"
  echo "$digest" > "$stamp"
fi
