"""A private PostgreSQL + PostGIS cluster under the project's data directory.

Used when ``GIS_DATABASE_URL`` is unset, so a user on a fresh Linux machine needs no
database administration, and by the test suite for its throwaway database.

PostgreSQL refuses to run as root; when this process is root the cluster's files are
owned by, and its processes run as, an unprivileged system account (``GIS_PG_OS_USER``,
default ``postgres``, created when missing).  The cluster listens on TCP loopback only
(no Unix socket, so long paths do not matter) and authenticates with a generated
password kept in ``<cluster>/password`` (mode 0600).
"""

from __future__ import annotations

import os
import pwd
import secrets
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Sequence
from urllib.parse import quote

import psycopg
from psycopg import sql

from gis_service.errors import ClusterError, MissingSystemPackageError

if TYPE_CHECKING:
    from gis_service.settings import Settings

POSTGIS_PACKAGE_HINT = "postgresql-{major}-postgis-3"
_EXTENSIONS = ("postgis", "btree_gist")


@dataclass(frozen=True)
class ClusterStatus:
    """What ``db status`` reports."""

    initialised: bool
    running: bool
    data_dir: Path
    host: str
    port: int
    database: str
    pid: int | None


def find_pg_bindir(explicit: Path | None = None) -> Path:
    """Locate the directory holding ``initdb``, ``pg_ctl`` and ``postgres``.

    Order: the explicit setting, ``pg_config --bindir``, the newest
    ``/usr/lib/postgresql/<major>/bin`` (Debian/Ubuntu layout), then ``PATH``.

    Raises
    ------
    MissingSystemPackageError
        naming the Debian package and its install command.
    """
    candidates: list[Path] = []
    if explicit is not None:
        candidates.append(Path(explicit))
    else:
        pg_config = shutil.which("pg_config")
        if pg_config:
            out = subprocess.run([pg_config, "--bindir"], capture_output=True, text=True, check=False)
            if out.returncode == 0 and out.stdout.strip():
                candidates.append(Path(out.stdout.strip()))
        debian = sorted(Path("/usr/lib/postgresql").glob("*/bin"), key=_major_of, reverse=True)
        candidates.extend(debian)
        initdb = shutil.which("initdb")
        if initdb:
            candidates.append(Path(initdb).resolve().parent)
    for cand in candidates:
        if all((cand / exe).is_file() for exe in ("initdb", "pg_ctl", "postgres")):
            return cand
    where = f" in {explicit}" if explicit is not None else ""
    raise MissingSystemPackageError(
        f"PostgreSQL server binaries (initdb, pg_ctl, postgres){where}",
        "postgresql",
        "sudo apt-get install -y postgresql postgresql-postgis",
    )


def _major_of(bindir: Path) -> int:
    try:
        return int(bindir.parent.name)
    except ValueError:
        return 0


def _sharedir(bindir: Path) -> Path:
    """PostgreSQL's share directory for the given binaries (where extension files live)."""
    pg_config = bindir / "pg_config"
    if pg_config.is_file():
        out = subprocess.run([str(pg_config), "--sharedir"], capture_output=True, text=True, check=False)
        if out.returncode == 0 and out.stdout.strip():
            return Path(out.stdout.strip())
    major = _major_of(bindir)
    return Path(f"/usr/share/postgresql/{major}")


def _server_major(bindir: Path) -> str:
    out = subprocess.run([str(bindir / "postgres"), "--version"], capture_output=True, text=True, check=False)
    # "postgres (PostgreSQL) 15.18 (Debian ...)"
    for token in out.stdout.split():
        if token[:1].isdigit():
            return token.split(".")[0]
    return "15"


def require_postgis(bindir: Path) -> None:
    """Raise a clear error when the PostGIS extension is not installed for these binaries."""
    if not (_sharedir(bindir) / "extension" / "postgis.control").is_file():
        package = POSTGIS_PACKAGE_HINT.format(major=_server_major(bindir))
        raise MissingSystemPackageError(
            f"The PostGIS extension for PostgreSQL in {bindir}", package, f"sudo apt-get install -y {package}"
        )


class LocalCluster:
    """A PostgreSQL cluster in ``root`` that this process creates, starts and stops.

    Parameters
    ----------
    root
        Directory of the cluster: ``root/data`` (PGDATA), ``root/password``, ``root/server.log``.
    host, port
        TCP address the server listens on (loopback by default).
    database, user
        Database created with PostGIS, and the superuser role the service connects as.
    os_user
        Unprivileged account used when running as root.
    bindir
        PostgreSQL binaries; found automatically when ``None``.
    """

    def __init__(
        self,
        root: Path,
        *,
        host: str = "127.0.0.1",
        port: int = 54329,
        database: str = "songjiang",
        user: str = "gis",
        os_user: str = "postgres",
        bindir: Path | None = None,
    ) -> None:
        self.root = Path(root).absolute()
        self.host, self.port, self.database, self.user = host, port, database, user
        self.os_user = os_user
        self._bindir_setting = bindir

    # -- paths -------------------------------------------------------------------------
    @property
    def pgdata(self) -> Path:
        return self.root / "data"

    @property
    def password_file(self) -> Path:
        return self.root / "password"

    @property
    def log_file(self) -> Path:
        return self.root / "server.log"

    @property
    def bindir(self) -> Path:
        return find_pg_bindir(self._bindir_setting)

    # -- public operations -----------------------------------------------------------
    @property
    def initialised(self) -> bool:
        return (self.pgdata / "PG_VERSION").is_file()

    def url(self, database: str | None = None) -> str:
        """SQLAlchemy URL (psycopg 3 driver) of the cluster's database."""
        password = quote(self._read_password(), safe="")
        return (
            f"postgresql+psycopg://{self.user}:{password}@{self.host}:{self.port}/"
            f"{database or self.database}"
        )

    def public_url(self) -> str:
        """libpq URL of the database without the password (psql, QGIS, ``gs.connect``); the
        password is in :attr:`password_file`."""
        return f"postgresql://{quote(self.user, safe='')}@{self.host}:{self.port}/{self.database}"

    def start(self) -> bool:
        """Create the cluster once, start it, and make sure the database has PostGIS.

        Returns ``True`` when the server was started, ``False`` when it was already
        running (starting twice is harmless).
        """
        bindir = self.bindir
        require_postgis(bindir)
        if not self.initialised:
            self._initdb(bindir)
        started = False
        if not self.is_running():
            self._pg_ctl(
                bindir,
                "start",
                "-w",
                "-t",
                "60",
                "-l",
                str(self.log_file),
                "-o",
                f"-p {self.port} -h {self.host} -k ''",
            )
            started = True
        self._ensure_database()
        return started

    def stop(self) -> bool:
        """Stop the server (fast shutdown). Returns ``False`` when it was not running."""
        if not self.is_running():
            return False
        self._pg_ctl(self.bindir, "stop", "-w", "-m", "fast")
        return True

    def is_running(self) -> bool:
        if not self.initialised:
            return False
        result = self._run([str(self.bindir / "pg_ctl"), "-D", str(self.pgdata), "status"], check=False)
        return result.returncode == 0

    def status(self) -> ClusterStatus:
        running = self.is_running()
        return ClusterStatus(
            initialised=self.initialised,
            running=running,
            data_dir=self.pgdata,
            host=self.host,
            port=self.port,
            database=self.database,
            pid=self._pid() if running else None,
        )

    def destroy(self) -> None:
        """Stop the server and delete the cluster directory (used by the test suite)."""
        if self.initialised:
            self.stop()
        shutil.rmtree(self.root, ignore_errors=True)

    # -- internals -------------------------------------------------------------------
    def _initdb(self, bindir: Path) -> None:
        self.root.mkdir(parents=True, exist_ok=True)
        password = secrets.token_urlsafe(24)
        self.password_file.write_text(password)
        self.password_file.chmod(0o600)
        self._hand_over(self.root)
        self._check_reachable()
        # initdb reads the password from a file; it is the same file the service reads.
        self._run(
            [
                str(bindir / "initdb"),
                "-D",
                str(self.pgdata),
                "-U",
                self.user,
                "--pwfile",
                str(self.password_file),
                "--auth=scram-sha-256",
                "-E",
                "UTF8",
                "--locale=C.UTF-8",
            ]
        )

    def _ensure_database(self) -> None:
        with psycopg.connect(self._dsn("postgres"), autocommit=True) as conn:
            exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (self.database,)).fetchone()
            if not exists:
                conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(self.database)))
        with psycopg.connect(self._dsn(self.database), autocommit=True) as conn:
            for ext in _EXTENSIONS:
                conn.execute(sql.SQL("CREATE EXTENSION IF NOT EXISTS {}").format(sql.Identifier(ext)))

    def _dsn(self, database: str) -> str:
        return psycopg.conninfo.make_conninfo(
            host=self.host, port=self.port, dbname=database, user=self.user, password=self._read_password()
        )

    def _read_password(self) -> str:
        try:
            return self.password_file.read_text().strip()
        except FileNotFoundError as exc:
            raise ClusterError(f"cluster in {self.root} is not initialised: run 'gis-service db start'") from exc

    def _pid(self) -> int | None:
        try:
            return int((self.pgdata / "postmaster.pid").read_text().split()[0])
        except (FileNotFoundError, ValueError, IndexError):
            return None

    def _pg_ctl(self, bindir: Path, *args: str) -> None:
        self._run([str(bindir / "pg_ctl"), "-D", str(self.pgdata), *args])

    # Running as root: PostgreSQL's own safety check refuses uid 0.
    def _as_root(self) -> bool:
        return os.geteuid() == 0

    def _account(self) -> pwd.struct_passwd:
        try:
            return pwd.getpwnam(self.os_user)
        except KeyError:
            subprocess.run(
                ["useradd", "--system", "--no-create-home", "--shell", "/usr/sbin/nologin", self.os_user],
                check=True,
                capture_output=True,
            )
            return pwd.getpwnam(self.os_user)

    def _hand_over(self, path: Path) -> None:
        """Give the cluster directory to the unprivileged account when running as root."""
        if not self._as_root():
            return
        account = self._account()
        for dirpath, _dirs, files in os.walk(path):
            os.chown(dirpath, account.pw_uid, account.pw_gid)
            for name in files:
                os.chown(os.path.join(dirpath, name), account.pw_uid, account.pw_gid)
        path.chmod(0o700)

    def _check_reachable(self) -> None:
        if not self._as_root():
            return
        probe = self._run(["test", "-w", str(self.root)], check=False)
        if probe.returncode != 0:
            raise ClusterError(
                f"the system account '{self.os_user}' cannot reach {self.root} (a parent directory is "
                f"not searchable by it): set GIS_DATA_DIR to a directory it can reach, e.g. /var/lib/gis-service"
            )

    def _run(self, cmd: Sequence[str], *, check: bool = True) -> subprocess.CompletedProcess[str]:
        kwargs: dict[str, object] = {}
        env = {k: v for k, v in os.environ.items() if not k.startswith("PG")}
        env["LC_ALL"] = "C.UTF-8"
        if self._as_root():
            account = self._account()
            kwargs.update(user=account.pw_uid, group=account.pw_gid, extra_groups=[])
            env["HOME"] = str(self.root)
        result = subprocess.run(
            list(cmd), capture_output=True, text=True, check=False, env=env, cwd=str(self.root), **kwargs
        )
        if check and result.returncode != 0:
            detail = (result.stderr or result.stdout).strip()
            log_tail = self._log_tail()
            raise ClusterError(
                f"{Path(cmd[0]).name} {' '.join(cmd[1:3])} failed (exit {result.returncode}): {detail}"
                + (f"\nserver log:\n{log_tail}" if log_tail else "")
            )
        return result

    def _log_tail(self, lines: int = 15) -> str:
        try:
            return "\n".join(self.log_file.read_text(errors="replace").splitlines()[-lines:])
        except (FileNotFoundError, PermissionError):
            return ""


def cluster_from_settings(settings: Settings) -> LocalCluster:
    """The managed cluster described by the settings."""
    return LocalCluster(
        settings.cluster_dir,
        host=settings.pg_host,
        port=settings.pg_port,
        database=settings.pg_database,
        user=settings.pg_user,
        os_user=settings.pg_os_user,
        bindir=settings.pg_bindir,
    )

