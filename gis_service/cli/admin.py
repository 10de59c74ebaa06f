"""``gis-service keys …``, ``backup``, ``restore`` and ``audit``: administration."""

from __future__ import annotations

import getpass
import json
from pathlib import Path

import typer
from rich.table import Table

from gis_service.audit import read_audit_log
from gis_service.cli._common import console, echo_json, load_settings
from gis_service.db import backup as backups
from gis_service.db.engine import check_database, database_url, engine_for
from gis_service.db.models import Role
from gis_service.security import create_key, list_keys, revoke_key

keys_app = typer.Typer(help="API keys (stored hashed; shown once at creation).", no_args_is_help=True)


def _engine():  # type: ignore[no-untyped-def]
    return engine_for(database_url(load_settings()))


def _reachable_url() -> str:
    """The database URL, once a connection to it worked: pg_dump/pg_restore report a database
    that is down in their own words, so it is checked first and said like every command's."""
    url = database_url(load_settings())
    check_database(engine_for(url))
    return url


def _actor() -> str:
    return f"cli:{getpass.getuser()}"


@keys_app.command("create")
def keys_create(
    name: str = typer.Argument(..., help="Who or what the key is for."),
    role: Role = typer.Option(..., "--role", help="viewer | park_manager | analyst | admin"),
    park: list[str] = typer.Option([], "--park", help="Park code or name (park_manager; repeatable)."),
) -> None:
    """Create an API key and print it once."""
    info, plaintext = create_key(_engine(), name=name, role=role, parks=park, actor=_actor())
    console.print(f"key {info.key_id} ({info.role.value}) created for {info.name}; store it now, it is not shown again:")
    console.print(plaintext, highlight=False, soft_wrap=True)


@keys_app.command("revoke")
def keys_revoke(key_id: int = typer.Argument(..., help="Key id (see 'keys list').")) -> None:
    """Revoke a key; it stops working at once."""
    revoke_key(_engine(), key_id, actor=_actor())
    console.print(f"key {key_id} revoked")


@keys_app.command("list")
def keys_list() -> None:
    """List keys (never their secret)."""
    table = Table("id", "name", "role", "parks", "created", "revoked")
    for k in list_keys(_engine()):
        table.add_row(str(k.key_id), k.name, k.role.value, ",".join(map(str, k.park_ids)),
                      f"{k.created_at:%Y-%m-%d %H:%M}", f"{k.revoked_at:%Y-%m-%d %H:%M}" if k.revoked_at else "")
    console.print(table)


def register(app: typer.Typer) -> None:
    app.add_typer(keys_app, name="keys")

    @app.command()
    def backup(out: Path = typer.Argument(..., help="Backup file to write (pg_dump custom format).")) -> None:
        """Back up the whole database with pg_dump."""
        settings = load_settings()
        url = _reachable_url()
        path = backups.backup(url, out, bindir=settings.pg_bindir)
        console.print(f"backup written: {path} ({path.stat().st_size:,} bytes)")

    @app.command()
    def restore(
        dump: Path = typer.Argument(..., help="Backup file made by 'gis-service backup'."),
        yes: bool = typer.Option(False, "--yes", help="Confirm replacing the current database."),
    ) -> None:
        """Restore a backup, replacing the database's contents (one transaction)."""
        if not yes:
            raise typer.BadParameter("restore replaces the database's contents: add --yes to confirm")
        settings = load_settings()
        backups.restore(_reachable_url(), dump, bindir=settings.pg_bindir)
        console.print(f"restored from {dump}")

    @app.command()
    def audit(
        table: str = typer.Option(None, "--table", help="Only this table."),
        limit: int = typer.Option(50, "--limit", min=1, max=10000),
        as_json: bool = typer.Option(False, "--json"),
    ) -> None:
        """Show the audit log, newest first."""
        frame = read_audit_log(_engine(), table_name=table, limit=limit)
        if as_json:
            echo_json(frame)
            return
        out = Table("id", "at", "actor", "action", "table", "row", "before", "after")
        for r in frame.itertuples():
            out.add_row(str(r.id), f"{r.at:%Y-%m-%d %H:%M:%S}", r.actor, r.action, r.table_name, r.row_id or "",
                        json.dumps(r.before, ensure_ascii=False) if r.before else "",
                        json.dumps(r.after, ensure_ascii=False) if r.after else "")
        console.print(out)
