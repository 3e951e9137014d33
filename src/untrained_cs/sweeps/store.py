"""The sweep's results: one SQLite database (WAL mode), one row per fit keyed by its hash.

Every spec field is a column (``signal_*``, ``measurement_*``, ``method_*``, ``seed``),
beside the metrics, the task, the status (``done`` / ``failed`` with its error), the
package version and the time. Only the coordinating process writes (it holds the folder's
lock, :mod:`~untrained_cs.sweeps.lock`), one transaction per task, so a crash or a full
disk leaves all of a task's rows or none; readers open the file read-only and read while
it writes. Every opening checks the file (``PRAGMA quick_check``): a damaged store is
refused in one line that says how to recover, and :func:`salvage` reads what is left of
it. The store records its format (``PRAGMA user_version``) and the package version that
last wrote it (table ``meta``); a newer format is refused by an older version. The table
exports as CSV or Parquet with the same columns and rows.
"""

from __future__ import annotations

import csv
import json
import sqlite3
import time
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from ..version import check_format, package_version
from .config import Fit

METRICS = ("psnr", "ssim", "mse", "nmse", "rel_error", "iterations", "converged",
           "stop_reason", "best_iteration", "best_psnr", "seconds", "device")  # fmt: skip
DB_NAME = "results.sqlite"
#: the store's layout (0 in stores written before it was recorded: the same layout)
STORE_FORMAT = 1
#: seconds a connection waits for another's lock (a reader meeting a checkpoint)
BUSY_TIMEOUT = 30.0
#: unreadable rowids :func:`salvage` steps over before it gives up looking further
SALVAGE_GAP = 20_000
#: rows :func:`salvage` reads per query where nothing is damaged
CHUNK = 512


class DamagedStore(ValueError):
    """The results database cannot be read (refused before any work, exit 2)."""


class StoreError(RuntimeError):
    """The store cannot be opened or written (a full disk, an I/O error, a lock that is
    never released): a run-time failure, exit 1. A write that fails keeps none of its rows."""


def damaged_message(path: Path, reason: str) -> str:
    """One line: the store is damaged, and how to recover from it."""
    folder = path.parent
    return (
        f"{path} is damaged ({reason}): save what can be read with `untrained-cs sweep "
        f"export {folder}`, move {path.name} (and its -wal, -shm files) aside, then run the "
        "sweep again (it computes every fit anew)"
    )


def spec_columns(fit: Fit) -> dict[str, Any]:
    """The fit's spec fields, flattened (``signal_p``, ``measurement_m``, ``method_lr``...)."""
    d = fit.problem.to_dict()
    cols: dict[str, Any] = {"seed": d["seed"]}
    for part in ("signal", "measurement"):
        cols.update({f"{part}_{k}": v for k, v in d[part].items()})
    cols.update({f"method_{k}": v for k, v in fit.method.to_dict().items()})
    return cols


class Store:
    """The results database of one sweep folder, checked when opened.

    Args:
        folder: the sweep folder.
        readonly: open the existing file for reading only (status, export, report);
            otherwise create it when missing and record this version as its writer.

    Raises:
        DamagedStore: the file fails the integrity check or is no database.
        NewerFormat: a newer version wrote it in a format this one does not read.
        StoreError: it cannot be opened (no access, a full disk, a lock never released).
    """

    def __init__(self, folder: Path, readonly: bool = False) -> None:
        self.path = Path(folder) / DB_NAME
        self.readonly = readonly
        target = f"file:{self.path}?mode=ro" if readonly else str(self.path)
        self.db = sqlite3.connect(target, uri=readonly, timeout=BUSY_TIMEOUT)
        try:
            self._check()
            if not readonly:
                self._prepare()
            self.columns = {row[1] for row in self.db.execute("PRAGMA table_info(fits)")}
        except sqlite3.Error as exc:
            self.db.close()
            if _is_damage(exc):
                raise DamagedStore(damaged_message(self.path, _reason(exc))) from None
            raise StoreError(f"cannot open {self.path}: {_reason(exc)}") from None
        except BaseException:
            self.db.close()
            raise

    def _check(self) -> None:
        """The integrity check, then the format (and the version that wrote it)."""
        found = [r[0] for r in self.db.execute("PRAGMA quick_check(1)")]
        if found != ["ok"]:
            raise sqlite3.DatabaseError(found[0].splitlines()[-1] if found else "no answer")
        fmt = self.db.execute("PRAGMA user_version").fetchone()[0]
        check_format(self.path, "store", fmt or STORE_FORMAT, STORE_FORMAT, self.meta("version"))

    def _prepare(self) -> None:
        """Create the tables when missing and record this version as the writer."""
        self.db.execute("PRAGMA journal_mode=WAL")
        with self.db:
            self.db.execute(
                "CREATE TABLE IF NOT EXISTS fits (key TEXT PRIMARY KEY, status TEXT NOT NULL, "
                "task INTEGER, problem TEXT, method TEXT, error TEXT, version TEXT, "
                "created REAL)"
            )
            self.db.execute("CREATE TABLE IF NOT EXISTS meta (name TEXT PRIMARY KEY, value TEXT)")
            self.db.execute("INSERT OR REPLACE INTO meta VALUES ('version', ?)",
                            (package_version(),))  # fmt: skip
            self.db.execute(f"PRAGMA user_version = {STORE_FORMAT}")

    def meta(self, name: str) -> str | None:
        """A value of the ``meta`` table (None when it or the table is missing)."""
        try:
            row = self.db.execute("SELECT value FROM meta WHERE name = ?", (name,)).fetchone()
        except sqlite3.OperationalError:  # no such table: a store from before it
            return None
        return None if row is None else str(row[0])

    def close(self) -> None:
        self.db.close()

    def done(self) -> set[str]:
        """Keys of the fits stored as done (a failed fit is tried again on the next run)."""
        if not self.columns:
            return set()
        return {k for (k,) in self.db.execute("SELECT key FROM fits WHERE status = 'done'")}

    def counts(self, keys: set[str] | None = None) -> dict[str, int]:
        """Fits per status, of every stored fit or only of those in ``keys`` (a config's:
        rows of fits a config no longer names are not counted)."""
        if not self.columns:  # a reader meeting a store whose table is not made yet
            return {}
        if keys is None:
            return dict(self.db.execute("SELECT status, COUNT(*) FROM fits GROUP BY status"))
        out: dict[str, int] = {}
        for key, status in self.db.execute("SELECT key, status FROM fits"):
            if key in keys:
                out[status] = out.get(status, 0) + 1
        return out

    def write(self, rows: Iterable[dict[str, Any]]) -> None:
        """Insert (or replace) the rows of one task in one transaction: all or none.

        Raises:
            StoreError: the database refused them (full disk, I/O error); none is kept.
        """
        rows = list(rows)
        try:
            with self.db:  # one transaction: all of the task's rows or none
                self._insert(rows)
        except (sqlite3.Error, OSError) as exc:
            raise StoreError(f"{self.path}: {_reason(exc)}") from None

    def _insert(self, rows: list[dict[str, Any]]) -> None:
        for row in rows:
            for name in row:
                if name not in self.columns:
                    # no declared type: values keep their own (an int stays an int, and a
                    # column first met as None, in a failed row, does not turn later numbers
                    # into text)
                    self.db.execute(f'ALTER TABLE fits ADD COLUMN "{name}"')
                    self.columns.add(name)
            names = ", ".join(f'"{n}"' for n in row)
            marks = ", ".join("?" for _ in row)
            self.db.execute(f"INSERT OR REPLACE INTO fits ({names}) VALUES ({marks})",
                            [_sql(v) for v in row.values()])  # fmt: skip

    def rows(self) -> list[dict[str, Any]]:
        if not self.columns:
            return []
        cur = self.db.execute("SELECT * FROM fits ORDER BY key")
        names = [c[0] for c in cur.description]
        return [dict(zip(names, r, strict=True)) for r in cur.fetchall()]


def salvage(folder: Path) -> tuple[list[dict[str, Any]], bool]:
    """The rows that can still be read from a sweep's store, damaged or not, and whether
    that is all of them. The file is opened read-only and never changed.

    The table is read in rowid order; past a damaged page, rows are looked up one rowid
    at a time, until :data:`SALVAGE_GAP` rowids in a row could not be read.
    """
    path = Path(folder) / DB_NAME
    try:
        db = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=BUSY_TIMEOUT)
    except sqlite3.Error:
        return [], False
    try:
        db.execute("PRAGMA writable_schema = ON")  # read past a header that overstates the size
        names = [r[1] for r in db.execute("PRAGMA table_info(fits)")]
    except sqlite3.DatabaseError:
        names = []
    if not names:  # no table to be read
        db.close()
        return [], False
    try:
        rows, complete = _read_rows(db, names)
    finally:
        db.close()
    kept = sorted((r for r in rows if isinstance(r.get("key"), str)), key=lambda r: r["key"])
    return kept, complete and len(kept) == len(rows)


def _read_rows(db: sqlite3.Connection, names: list[str]) -> tuple[list[dict[str, Any]], bool]:
    """Rows by rowid, in chunks, one at a time past a damage (see :func:`salvage`)."""
    rows: list[dict[str, Any]] = []
    complete, last, gap, chunk = True, 0, 0, CHUNK
    query = "SELECT rowid, * FROM fits NOT INDEXED WHERE rowid > ? ORDER BY rowid LIMIT ?"
    while gap < SALVAGE_GAP:
        try:
            found = db.execute(query, (last, chunk)).fetchall()
        except sqlite3.DatabaseError:
            found = None
        if found == []:
            break
        # a damaged page can also answer with cells of garbage: rowids must increase
        found = [r for r in found or [] if isinstance(r[0], int) and r[0] > last]
        if not found or any(b[0] <= a[0] for a, b in zip(found, found[1:], strict=False)):
            if chunk > 1:  # somewhere in this chunk: go on one row at a time
                chunk = 1
                continue
            complete, last, gap = False, last + 1, gap + 1
            continue
        last, gap, chunk = found[-1][0], 0, CHUNK
        rows.extend(dict(zip(names, r[1:], strict=True)) for r in found)
    return rows, complete


def _is_damage(exc: sqlite3.Error) -> bool:
    """Whether SQLite's error says the file is damaged or no database (not busy, not I/O)."""
    name = str(getattr(exc, "sqlite_errorname", ""))
    damage = name.startswith(("SQLITE_CORRUPT", "SQLITE_NOTADB"))
    return damage or type(exc) is sqlite3.DatabaseError


def _reason(exc: BaseException) -> str:
    return (str(exc).strip() or type(exc).__name__).splitlines()[0]


def row_for(
    fit: Fit, task: int, metrics: dict[str, Any] | None, error: str | None, version: str
) -> dict[str, Any]:
    """The database row of one fit (``metrics`` None when it failed with ``error``)."""
    row: dict[str, Any] = {
        "key": fit.key, "status": "done" if error is None else "failed", "task": task,
        "problem": json.dumps(fit.problem.to_dict()), "method": json.dumps(fit.method.to_dict()),
        "error": error, "version": version, "created": time.time(), **spec_columns(fit),
    }  # fmt: skip
    for name in METRICS:
        row[name] = None if metrics is None else metrics.get(name)
    return row


def _sql(value: Any) -> Any:
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, float) and value != value:  # NaN
        return None
    if isinstance(value, list | dict):
        return json.dumps(value)
    return value


def columns(rows: list[dict[str, Any]]) -> list[str]:
    """The exported columns: every name any row has, sorted."""
    return sorted({k for r in rows for k in r})


def write_csv(rows: list[dict[str, Any]], path: Path) -> None:
    """The rows as CSV (a missing value: an empty field)."""
    with open(path, "w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=columns(rows))
        w.writeheader()
        w.writerows(rows)


def write_parquet(rows: list[dict[str, Any]], path: Path) -> None:
    """The rows as Parquet, the CSV's columns in its order: a column whose values are all
    integers is int64, all numbers float64, anything else (or nothing) string; missing
    values are nulls."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    table = pa.table({name: _array([r.get(name) for r in rows]) for name in columns(rows)})
    pq.write_table(table, path)


def _array(values: list[Any]):
    import pyarrow as pa

    present = [v for v in values if v is not None]
    if present and all(isinstance(v, int) and not isinstance(v, bool) for v in present):
        return pa.array(values, type=pa.int64())
    if present and all(isinstance(v, int | float) for v in present):
        return pa.array([None if v is None else float(v) for v in values], type=pa.float64())
    return pa.array([None if v is None else str(v) for v in values], type=pa.string())
