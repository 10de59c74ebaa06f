"""Backup and restore with PostgreSQL's own pg_dump / pg_restore (custom format)."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

from sqlalchemy.engine import make_url

from gis_service.db.cluster import find_pg_bindir
from gis_service.errors import DatabaseError, MissingSystemPackageError


def _libpq_env(url: str) -> tuple[list[str], dict[str, str]]:
    """Connection arguments for the libpq tools; the password goes in the environment."""
    u = make_url(url)
    args = ["-h", u.host or "127.0.0.1", "-p", str(u.port or 5432), "-U", u.username or "postgres"]
    env = {k: v for k, v in os.environ.items() if not k.startswith("PG")}
    if u.password:
        env["PGPASSWORD"] = str(u.password)
    return args + ["-d", u.database or "postgres"], env


def _tool(name: str, bindir: Path | None) -> str:
    path = find_pg_bindir(bindir) / name
    if not path.is_file():
        raise MissingSystemPackageError(name, "postgresql-client", "sudo apt-get install -y postgresql-client")
    return str(path)


def backup(url: str, out: Path, *, bindir: Path | None = None) -> Path:
    """Dump the whole database to ``out`` (pg_dump custom format); returns the file."""
    args, env = _libpq_env(url)
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    result = subprocess.run(
        [_tool("pg_dump", bindir), *args, "-Fc", "--no-owner", "-f", str(out)],
        capture_output=True, text=True, env=env, check=False,
    )
    if result.returncode != 0:
        out.unlink(missing_ok=True)
        raise DatabaseError(f"pg_dump failed: {result.stderr.strip()}")
    return out


def restore(url: str, dump: Path, *, bindir: Path | None = None) -> None:
    """Restore ``dump`` into the database at ``url``, replacing what is there.

    Runs as one transaction (``--single-transaction``): on any error the target is left
    as it was.
    """
    if not Path(dump).is_file():
        raise DatabaseError(f"backup file not found: {dump}")
    args, env = _libpq_env(url)
    result = subprocess.run(
        [
            _tool("pg_restore", bindir), *args, "--clean", "--if-exists", "--no-owner",
            "--single-transaction", "--exit-on-error", str(dump),
        ],
        capture_output=True, text=True, env=env, check=False,
    )
    if result.returncode != 0:
        raise DatabaseError(f"pg_restore failed: {result.stderr.strip()}")
