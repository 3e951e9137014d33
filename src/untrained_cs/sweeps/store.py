"""The sweep's results: one SQLite database (WAL mode), one row per fit keyed by its hash.

Every spec field is a column (``signal_*``, ``measurement_*``, ``method_*``, ``seed``),
beside the metrics, the task, the status (``done`` / ``failed`` with its error), the
package version and the time. Only the coordinating process writes, one transaction per
task, so a crash leaves all of a task's rows or none. The table exports as CSV or Parquet
with the same columns and rows.
"""

from __future__ import annotations

import csv
import json
import sqlite3
import time
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from .config import Fit

METRICS = ("psnr", "ssim", "mse", "nmse", "rel_error", "iterations", "converged",
           "stop_reason", "best_iteration", "best_psnr", "seconds", "device")  # fmt: skip
DB_NAME = "results.sqlite"


def spec_columns(fit: Fit) -> dict[str, Any]:
    """The fit's spec fields, flattened (``signal_p``, ``measurement_m``, ``method_lr``...)."""
    d = fit.problem.to_dict()
    cols: dict[str, Any] = {"seed": d["seed"]}
    for part in ("signal", "measurement"):
        cols.update({f"{part}_{k}": v for k, v in d[part].items()})
    cols.update({f"method_{k}": v for k, v in fit.method.to_dict().items()})
    return cols


class Store:
    """The results database of one sweep folder."""

    def __init__(self, folder: Path) -> None:
        self.path = Path(folder) / DB_NAME
        self.db = sqlite3.connect(self.path)
        self.db.execute("PRAGMA journal_mode=WAL")
        self.db.execute(
            "CREATE TABLE IF NOT EXISTS fits (key TEXT PRIMARY KEY, status TEXT NOT NULL, "
            "task INTEGER, problem TEXT, method TEXT, error TEXT, version TEXT, created REAL)"
        )
        self.columns = {row[1] for row in self.db.execute("PRAGMA table_info(fits)")}

    def close(self) -> None:
        self.db.close()

    def done(self) -> set[str]:
        """Keys of the fits stored as done (a failed fit is tried again on the next run)."""
        return {k for (k,) in self.db.execute("SELECT key FROM fits WHERE status = 'done'")}

    def counts(self, keys: set[str] | None = None) -> dict[str, int]:
        """Fits per status, of every stored fit or only of those in ``keys`` (a config's:
        rows of fits a config no longer names are not counted)."""
        if keys is None:
            return dict(self.db.execute("SELECT status, COUNT(*) FROM fits GROUP BY status"))
        out: dict[str, int] = {}
        for key, status in self.db.execute("SELECT key, status FROM fits"):
            if key in keys:
                out[status] = out.get(status, 0) + 1
        return out

    def write(self, rows: Iterable[dict[str, Any]]) -> None:
        """Insert (or replace) the rows of one task in one transaction."""
        rows = list(rows)
        with self.db:  # one transaction: all of the task's rows or none
            for row in rows:
                for name in row:
                    if name not in self.columns:
                        # no declared type: values keep their own (an int stays an int, and
                        # a column first met as None, in a failed row, does not turn later
                        # numbers into text)
                        self.db.execute(f'ALTER TABLE fits ADD COLUMN "{name}"')
                        self.columns.add(name)
                names = ", ".join(f'"{n}"' for n in row)
                marks = ", ".join("?" for _ in row)
                self.db.execute(f"INSERT OR REPLACE INTO fits ({names}) VALUES ({marks})",
                                [_sql(v) for v in row.values()])  # fmt: skip

    def rows(self) -> list[dict[str, Any]]:
        cur = self.db.execute("SELECT * FROM fits ORDER BY key")
        names = [c[0] for c in cur.description]
        return [dict(zip(names, r, strict=True)) for r in cur.fetchall()]


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
