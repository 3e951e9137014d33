"""The sweep's results: one SQLite database (WAL mode), one row per fit keyed by its hash.

Every spec field is a column (``signal_*``, ``measurement_*``, ``method_*``, ``seed``),
beside the metrics, the task, the status (``done`` / ``failed`` with its error), the
package version and the time. Only the coordinating process writes, one transaction per
task, so a crash leaves all of a task's rows or none.
"""

from __future__ import annotations

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

    def counts(self) -> dict[str, int]:
        return dict(self.db.execute("SELECT status, COUNT(*) FROM fits GROUP BY status"))

    def write(self, rows: Iterable[dict[str, Any]]) -> None:
        """Insert (or replace) the rows of one task in one transaction."""
        rows = list(rows)
        with self.db:  # one transaction: all of the task's rows or none
            for row in rows:
                for name, value in row.items():
                    if name not in self.columns:
                        kind = "REAL" if isinstance(value, int | float) else "TEXT"
                        self.db.execute(f'ALTER TABLE fits ADD COLUMN "{name}" {kind}')
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
