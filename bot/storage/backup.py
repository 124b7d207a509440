"""``tongban db backup`` and ``tongban db restore``: a consistent copy of the database, while
the bot runs, and the way back from it.

SQLite: the online backup API (``sqlite3.Connection.backup``) copies the database in one
step under a read transaction, so the copy is one consistent moment, including what is
still in the write-ahead log (a plain copy of ``tongban.db`` would miss it), and the bot
keeps writing meanwhile (WAL: a reader never blocks the writer). PostgreSQL: ``pg_dump``'s
custom format (one consistent snapshot too) and ``pg_restore``, which must be installed
(Debian: ``apt-get install postgresql-client``, of the server's major version or newer).

Free text stays encrypted in a backup: keep ``TONGBAN_ENCRYPTION_KEYS`` with it, somewhere
else; without the keys the texts cannot be read back.
"""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
from pathlib import Path

from sqlalchemy.engine import URL, make_url


class BackupError(Exception):
    """The backup or restore cannot be done; the message says why and what to do."""


def backup(database_url: str, path: Path) -> str:
    """Write a backup of the database to ``path`` (which must not exist); says what it did."""
    if path.exists():
        raise BackupError(f"{path} already exists; choose a new file name")
    url = make_url(database_url)
    if url.get_backend_name() == "sqlite":
        return _sqlite_backup(_sqlite_file(url), path)
    _run_postgres(
        "pg_dump",
        ["--format=custom", "--no-owner", "--no-privileges", f"--file={path}"],
        url,
    )
    return f"backed up PostgreSQL database {url.database} to {path} (pg_dump custom format)"


def restore(database_url: str, path: Path, *, replace: bool) -> str:
    """Restore the backup at ``path`` into the configured database. A database that holds
    people already is replaced only with ``replace``; stop the bot first."""
    if not path.is_file():
        raise BackupError(f"{path} is not a file")
    url = make_url(database_url)
    if url.get_backend_name() == "sqlite":
        return _sqlite_restore(path, _sqlite_file(url), replace)
    if not replace and _postgres_has_people(url):
        raise BackupError(_NOT_EMPTY)
    _run_postgres(
        "pg_restore",
        ["--clean", "--if-exists", "--no-owner", "--no-privileges", "--single-transaction"],
        url,
        str(path),
    )
    return f"restored {path} into PostgreSQL database {url.database}"


_NOT_EMPTY = (
    "the database already holds people; stop the bot and add --replace to overwrite it with "
    "the backup"
)


# -- SQLite ----------------------------------------------------------------------------------


def _sqlite_file(url: URL) -> Path:
    if not url.database or url.database == ":memory:":
        raise BackupError("an in-memory SQLite database cannot be backed up")
    return Path(url.database)


def _sqlite_backup(source: Path, path: Path) -> str:
    if not source.is_file():
        raise BackupError(f"there is no database at {source}")
    partial = path.with_name(path.name + ".partial")
    partial.unlink(missing_ok=True)
    src = sqlite3.connect(f"file:{source}?mode=ro", uri=True, timeout=30)
    try:
        dst = sqlite3.connect(partial)
        try:
            src.backup(dst)  # all pages in one step: one consistent moment
            dst.execute("PRAGMA journal_mode=DELETE")  # a backup is one self-contained file
            _check(dst)
        finally:
            dst.close()
    finally:
        src.close()
    partial.replace(path)
    return f"backed up {source} to {path} ({path.stat().st_size:,} bytes)"


def _sqlite_restore(path: Path, target: Path, replace: bool) -> str:
    src = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        _check(src)
        if target.exists() and not replace and _sqlite_has_people(target):
            raise BackupError(_NOT_EMPTY)
        target.parent.mkdir(parents=True, exist_ok=True)
        dst = sqlite3.connect(target, timeout=30)
        try:
            src.backup(dst)
        finally:
            dst.close()
    finally:
        src.close()
    return f"restored {path} into {target}"


def _check(connection: sqlite3.Connection) -> None:
    result = connection.execute("PRAGMA quick_check").fetchone()
    if result is None or result[0] != "ok":
        raise BackupError("the SQLite file is damaged (PRAGMA quick_check failed)")


def _sqlite_has_people(target: Path) -> bool:
    connection = sqlite3.connect(f"file:{target}?mode=ro", uri=True)
    try:
        return connection.execute("SELECT 1 FROM people LIMIT 1").fetchone() is not None
    except sqlite3.Error:
        return False  # no schema yet
    finally:
        connection.close()


# -- PostgreSQL ------------------------------------------------------------------------------


def _libpq(url: URL) -> tuple[str, dict[str, str]]:
    """A libpq connection URI without the password, and the environment carrying it (so it
    never shows in the process list)."""
    env = dict(os.environ)
    if url.password:
        env["PGPASSWORD"] = str(url.password)
    plain = url.set(drivername="postgresql", password=None)
    return plain.render_as_string(hide_password=False), env


def _run_postgres(program: str, options: list[str], url: URL, *after: str) -> None:
    executable = shutil.which(program)
    if executable is None:
        raise BackupError(
            f"{program} is not installed: install the PostgreSQL client tools "
            "(Debian: apt-get install postgresql-client) of the server's version or newer"
        )
    uri, env = _libpq(url)
    result = subprocess.run(
        [executable, *options, f"--dbname={uri}", *after],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    if result.returncode != 0:
        raise BackupError(f"{program} failed: {result.stderr.strip()[-800:]}")


def _postgres_has_people(url: URL) -> bool:
    executable = shutil.which("psql")
    if executable is None:
        return True  # cannot tell: ask for --replace
    uri, env = _libpq(url)
    result = subprocess.run(
        [executable, "-XAtq", f"--dbname={uri}", "-c", "SELECT 1 FROM people LIMIT 1"],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    return result.returncode == 0 and result.stdout.strip() == "1"
