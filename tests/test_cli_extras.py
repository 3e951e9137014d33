"""The optional parts (Dask, pyarrow): a missing one is named with its install command."""

from __future__ import annotations

import pytest


def test_a_missing_optional_part_names_its_install_command(monkeypatch):
    """Dask and pyarrow are extras: without them the option that needs one is refused in
    one line naming `pip install 'untrained-cs[...]'`."""
    import importlib.util

    from untrained_cs.cli import sweep as sweep_cli
    from untrained_cs.cli.common import UsageError

    real = importlib.util.find_spec
    monkeypatch.setattr(
        importlib.util, "find_spec", lambda name, *a: None if name == "pyarrow" else real(name, *a)
    )
    with pytest.raises(UsageError, match=r"pip install 'untrained-cs\[parquet\]'"):
        sweep_cli.require("pyarrow", "parquet", "--format parquet")
    sweep_cli.require("yaml", "none", "anything")  # installed: no error
