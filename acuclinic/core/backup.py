"""Back up and restore the database and the uploaded media (`manage.py backup_database`, `restore_database`).

SQLite: `sqlite3.Connection.backup()` copies the live database in one step inside a read transaction, so the copy
is consistent while the site keeps writing (WAL mode: readers never block the writer). The copy is switched to a
rollback journal, so a backup is one self-contained file, and checked with `PRAGMA quick_check`. Restore runs
`backup()` the other way, from the backup file into the live database: SQLite writes every page in one write
transaction, so other connections see the old database or the restored one, never a mixture. Renaming a new file
over the database instead would be unsafe: a running process keeps its WAL and shared-memory files, and SQLite would
replay the old database's WAL into the new file.

PostgreSQL: `pg_dump --format=custom` (one snapshot: consistent while the site runs) and `pg_restore --clean
--if-exists --no-owner --single-transaction` (all or nothing). Connection settings come from settings.DATABASES
and reach the tools through the PG* environment variables: the password never appears on a command line.

Every file is written with mode 0600 (backups hold health data) into a temporary name next to its final path,
fsync'ed and renamed into place, so a crash never leaves a half-written file under the backup's name.
Media (MEDIA_ROOT, when the default storage is the file system) goes into ``<backup>.media.tar.gz``, written after
the database so that every file the database refers to is in it. Restoring media adds and overwrites files and
never deletes one.

The audit log's append-only triggers do not stand in the way: SQLite's restore copies pages (no UPDATE is run),
and pg_restore --clean drops the table with its trigger and creates both again.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import sqlite3
import subprocess
import tarfile
import tempfile
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from django.conf import settings
from django.db import connections

MEDIA_SUFFIX = ".media.tar.gz"
FILESYSTEM_STORAGE = "django.core.files.storage.FileSystemStorage"
PRIVATE = 0o600


class BackupError(Exception):
    """A backup or restore that could not be done; nothing was changed unless the message says so."""


@dataclass
class BackupResult:
    database: Path
    size: int
    media: Path | None = None
    media_size: int = 0
    notes: list[str] = field(default_factory=list)


@dataclass
class RestoreResult:
    database: str
    media_files: int | None = None
    safety_backup: Path | None = None
    notes: list[str] = field(default_factory=list)


# --- public ----------------------------------------------------------------------------------------------------
def vendor(using: str = "default") -> str:
    return connections[using].vendor


def default_backup_path(using: str = "default", *, prefix: str = "acuclinic", precise: bool = False) -> Path:
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S.%fZ" if precise else "%Y%m%dT%H%M%SZ")
    extension = "sqlite3" if vendor(using) == "sqlite" else "dump"
    return Path(settings.VAR_DIR) / "backups" / f"{prefix}-{stamp}.{extension}"


def media_archive_path(database_backup: Path) -> Path:
    return Path(f"{database_backup}{MEDIA_SUFFIX}")


def backup(
    output: Path, *, media: bool = True, overwrite: bool = False, using: str = "default"
) -> BackupResult:
    """Write a consistent copy of the database to `output` (and the media next to it) while the site runs."""
    output = Path(output).absolute()
    targets = [output, media_archive_path(output)] if media else [output]
    if not overwrite:
        for target in targets:
            if target.exists():
                raise BackupError(f"{target} exists; choose another name or pass --overwrite")
    _private_dir(output.parent)
    kind = vendor(using)
    if kind == "sqlite":
        _write_atomically(output, lambda tmp: _sqlite_backup(_sqlite_path(using), tmp), overwrite)
    elif kind == "postgresql":
        _write_atomically(output, lambda tmp: _pg_dump(using, tmp), overwrite)
    else:
        raise BackupError(f"no backup method for the {kind} database backend")
    result = BackupResult(database=output, size=output.stat().st_size)
    if media:
        root = _media_root()
        if root is None:
            result.notes.append(
                "Media not included: the default storage is not the file system (back it up there)."
            )
        else:
            archive = media_archive_path(output)
            _write_atomically(archive, lambda tmp: _tar_media(root, tmp), overwrite)
            result.media, result.media_size = archive, archive.stat().st_size
    return result


def check_backup(path: Path, using: str = "default") -> None:
    """Refuse a file that is not a readable backup for this database backend, before anything is changed."""
    path = Path(path)
    if not path.is_file():
        raise BackupError(f"{path} is not a file")
    kind = vendor(using)
    if kind == "sqlite":
        _check_sqlite_backup(path)
    elif kind == "postgresql":
        result = _run(["pg_restore", "--list", str(path)], env=_pg_env(using), capture=True)
        if result.returncode != 0:
            raise BackupError(f"{path} is not a pg_dump custom-format archive: {result.stderr.strip()}")
    else:
        raise BackupError(f"no restore method for the {kind} database backend")


def restore(
    path: Path, *, media: bool = True, safety_backup: bool = True, using: str = "default"
) -> RestoreResult:
    """Replace the database's content with the backup at `path` (and restore the media archive next to it)."""
    path = Path(path).absolute()
    check_backup(path, using)
    archive = media_archive_path(path)
    if media and archive.exists():
        _check_media_archive(archive)
    kind = vendor(using)
    result = RestoreResult(database=describe(using))
    if safety_backup and _database_exists(using):
        # The state being replaced, in case the wrong file was chosen. Media needs none: restoring only adds files.
        target = default_backup_path(using, prefix="before-restore", precise=True)
        try:
            backup(target, media=False, using=using)
        except BackupError as exc:
            raise BackupError(
                f"Could not save the current database before restoring ({exc}); nothing was changed. "
                "Pass --no-safety-backup to restore anyway."
            ) from exc
        result.safety_backup = target
    connections[using].close()  # no transaction or open cursor of ours may stand in the way
    if kind == "sqlite":
        _sqlite_restore(path, _sqlite_path(using))
    else:
        _pg_restore(path, using)
    connections[using].close()
    if media:
        root = _media_root()
        if not archive.exists():
            result.notes.append(f"No media archive at {archive}: media left as it is.")
        elif root is None:
            result.notes.append("Media not restored: the default storage is not the file system.")
        else:
            result.media_files = _untar_media(archive, root)
    result.notes.extend(_migration_notes(using))
    return result


# --- files -----------------------------------------------------------------------------------------------------
def _private_dir(directory: Path) -> None:
    if not directory.exists():
        directory.mkdir(parents=True, mode=0o700)


def _write_atomically(target: Path, write, overwrite: bool) -> None:
    """Call write(tmp) on a fresh 0600 file next to target, fsync it, then rename it to target."""
    fd, name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".part", dir=target.parent)
    os.close(fd)
    tmp = Path(name)
    try:
        os.chmod(tmp, PRIVATE)
        write(tmp)
        os.chmod(tmp, PRIVATE)  # in case the writer replaced the file
        with open(tmp, "rb") as handle:
            os.fsync(handle.fileno())
        if overwrite:
            os.replace(tmp, target)
        else:
            try:
                os.link(tmp, target)  # atomic and never replaces a file that appeared meanwhile
                tmp.unlink()
            except FileExistsError:
                raise BackupError(f"{target} exists; choose another name or pass --overwrite") from None
            except OSError:  # a file system without hard links
                if target.exists():
                    raise BackupError(f"{target} exists; choose another name or pass --overwrite") from None
                os.replace(tmp, target)
        _fsync_dir(target.parent)
    finally:
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()
        for sidecar in ("-journal", "-wal", "-shm"):
            with contextlib.suppress(FileNotFoundError):
                Path(f"{tmp}{sidecar}").unlink()


def _fsync_dir(directory: Path) -> None:
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def describe(using: str) -> str:
    conf = connections[using].settings_dict
    if vendor(using) == "sqlite":
        return str(conf["NAME"])
    host = conf.get("HOST") or "local socket"
    return f"PostgreSQL database {conf['NAME']} on {host}"


def _database_exists(using: str) -> bool:
    if vendor(using) == "sqlite":
        path = Path(_sqlite_path(using))
        return path.exists() and path.stat().st_size > 0
    return True


# --- SQLite ----------------------------------------------------------------------------------------------------
def _sqlite_path(using: str) -> str:
    name = str(connections[using].settings_dict["NAME"])
    if name == ":memory:" or name.startswith("file:") or "mode=memory" in name:
        raise BackupError("an in-memory SQLite database cannot be backed up or restored")
    return name


def _sqlite_backup(database: str, tmp: Path) -> None:
    if not Path(database).exists():
        raise BackupError(f"the database file {database} does not exist")
    source = sqlite3.connect(database, timeout=60)
    target = sqlite3.connect(tmp)
    try:
        # pages=-1: everything in one step, inside one read transaction: a consistent snapshot.
        source.backup(target)
        target.execute("PRAGMA journal_mode=DELETE")  # one self-contained file, no -wal beside it
        _require_ok(target, tmp)
    except sqlite3.Error as exc:
        raise BackupError(f"SQLite backup failed: {exc}") from exc
    finally:
        target.close()
        source.close()


def _require_ok(conn: sqlite3.Connection, path) -> None:
    rows = [row[0] for row in conn.execute("PRAGMA quick_check").fetchall()]
    if rows != ["ok"]:
        raise BackupError(f"{path} failed SQLite's quick_check: {'; '.join(map(str, rows[:5]))}")


def _check_sqlite_backup(path: Path) -> None:
    with open(path, "rb") as handle:
        if handle.read(16) != b"SQLite format 3\x00":
            raise BackupError(f"{path} is not a SQLite database")
    try:
        conn = sqlite3.connect(f"{path.as_uri()}?mode=ro", uri=True)
        try:
            _require_ok(conn, path)
            found = conn.execute(
                "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = 'django_migrations'"
            ).fetchone()[0]
        finally:
            conn.close()
    except sqlite3.Error as exc:
        raise BackupError(f"{path} cannot be read as a SQLite database: {exc}") from exc
    if not found:
        raise BackupError(
            f"{path} is a SQLite database but not one of this site (no django_migrations table)"
        )


def _sqlite_restore(backup_file: Path, database: str) -> None:
    database_path = Path(database)
    if not database_path.exists():
        database_path.parent.mkdir(parents=True, exist_ok=True)
        os.close(os.open(database_path, os.O_CREAT | os.O_WRONLY, PRIVATE))
    source = sqlite3.connect(f"{backup_file.as_uri()}?mode=ro", uri=True)
    target = sqlite3.connect(database, timeout=60)
    try:
        # One step, one write transaction on the live database (waits up to 60 s for a running writer).
        source.backup(target)
        _require_ok(target, database)
    except sqlite3.Error as exc:
        raise BackupError(f"SQLite restore failed, the database was left as it was: {exc}") from exc
    finally:
        target.close()
        source.close()


# --- PostgreSQL ------------------------------------------------------------------------------------------------
_PG_OPTION_ENV = {
    "sslmode": "PGSSLMODE",
    "sslrootcert": "PGSSLROOTCERT",
    "sslcert": "PGSSLCERT",
    "sslkey": "PGSSLKEY",
    "sslpassword": "PGSSLPASSWORD",  # noqa: S105 - the name of a variable, not a password
    "passfile": "PGPASSFILE",
    "service": "PGSERVICE",
    "options": "PGOPTIONS",
    "connect_timeout": "PGCONNECT_TIMEOUT",
    "target_session_attrs": "PGTARGETSESSIONATTRS",
}


def _pg_env(using: str) -> dict[str, str]:
    conf = connections[using].settings_dict
    env = dict(os.environ)  # libpq's own variables (PGSSLMODE …) apply as they do to the site's connection
    values = {
        "PGDATABASE": conf.get("NAME"),
        "PGUSER": conf.get("USER"),
        "PGPASSWORD": conf.get("PASSWORD"),
        "PGHOST": conf.get("HOST"),
        "PGPORT": conf.get("PORT"),
    }
    for option, variable in _PG_OPTION_ENV.items():
        values[variable] = (conf.get("OPTIONS") or {}).get(option)
    values["PGAPPNAME"] = "acuclinic-backup"
    env.update({key: str(value) for key, value in values.items() if value not in (None, "")})
    return env


def _pg_tool(name: str) -> str:
    path = shutil.which(name)
    if not path:
        raise BackupError(f"{name} is not installed (Debian: apt-get install postgresql-client)")
    return path


def _run(args: list[str], *, env: dict[str, str], capture: bool = True, stdout=None):
    args = [_pg_tool(args[0]), *args[1:]]
    return subprocess.run(  # noqa: S603 - fixed programs, no shell, no password in the arguments
        args,
        env=env,
        stdout=stdout if stdout is not None else (subprocess.PIPE if capture else None),
        stderr=subprocess.PIPE,
        text=stdout is None,
        check=False,
    )


def _pg_dump(using: str, tmp: Path) -> None:
    env = _pg_env(using)
    with open(tmp, "wb") as out:
        result = _run(["pg_dump", "--format=custom", "--no-password"], env=env, stdout=out)
    if result.returncode != 0:
        message = result.stderr.decode(errors="replace").strip()
        raise BackupError(f"pg_dump failed (exit {result.returncode}): {message}")
    listing = _run(["pg_restore", "--list", str(tmp)], env=env)
    if listing.returncode != 0:
        raise BackupError(f"the archive pg_dump wrote cannot be read back: {listing.stderr.strip()}")


def _pg_restore(path: Path, using: str) -> None:
    env = _pg_env(using)
    result = _run(
        [
            "pg_restore",
            "--clean",
            "--if-exists",
            "--no-owner",
            "--single-transaction",
            "--exit-on-error",
            "--no-password",
            f"--dbname={env['PGDATABASE']}",
            str(path),
        ],
        env=env,
    )
    if result.returncode != 0:
        raise BackupError(
            f"pg_restore failed (exit {result.returncode}); it ran in one transaction, so the database was left "
            f"as it was: {result.stderr.strip()}"
        )


# --- media -----------------------------------------------------------------------------------------------------
def _media_root() -> Path | None:
    backend = settings.STORAGES.get("default", {}).get("BACKEND", "")
    if backend != FILESYSTEM_STORAGE or not settings.MEDIA_ROOT:
        return None
    return Path(settings.MEDIA_ROOT)


def _tar_media(root: Path, tmp: Path) -> None:
    with tarfile.open(tmp, "w:gz") as tar:
        if root.is_dir():
            for entry in sorted(root.iterdir()):
                tar.add(entry, arcname=entry.name)


def _check_media_archive(archive: Path) -> None:
    try:
        with tarfile.open(archive, "r:gz") as tar:
            tar.getmembers()
    except (tarfile.TarError, OSError, EOFError) as exc:
        raise BackupError(f"{archive} is not a readable media archive: {exc}") from exc


def _untar_media(archive: Path, root: Path) -> int:
    root.mkdir(parents=True, exist_ok=True)
    with tarfile.open(archive, "r:gz") as tar:
        members = tar.getmembers()
        # The "data" filter refuses absolute paths, "..", links out of the directory and device files.
        tar.extractall(root, filter="data")
    return sum(1 for member in members if member.isfile())


# --- after a restore -------------------------------------------------------------------------------------------
def _migration_notes(using: str) -> list[str]:
    from django.db.migrations.executor import MigrationExecutor

    try:
        executor = MigrationExecutor(connections[using])
        unapplied = executor.migration_plan(executor.loader.graph.leaf_nodes())
        known = set(executor.loader.graph.nodes)
        for key, migration in executor.loader.disk_migrations.items():
            known.add(key)
            known.update(migration.replaces or ())  # a squashed migration stands for the ones it replaces
        unknown = set(executor.loader.applied_migrations) - known
    finally:
        connections[using].close()
    notes = []
    if unapplied:
        notes.append(
            f"The backup predates {len(unapplied)} migration(s) of this code: run `manage.py migrate` now."
        )
    if unknown:
        names = ", ".join(f"{app}.{name}" for app, name in sorted(unknown)[:5])
        notes.append(
            f"The backup was made by newer code (migrations unknown here: {names}); deploy that code."
        )
    return notes
