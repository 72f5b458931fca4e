"""`python -m bench <name> [arguments]`: the arguments reach the named benchmark (they were dropped)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

import bench.__main__ as cli
import bench.cases
import bench.crypto

pytestmark = pytest.mark.engine_independent


def _record(monkeypatch, module) -> list[list[str]]:
    calls: list[list[str]] = []
    monkeypatch.setattr(module, "main", lambda argv=None: calls.append(argv) or 0)
    return calls


def test_the_arguments_after_the_name_reach_that_benchmark_only(monkeypatch):
    cases, crypto = _record(monkeypatch, bench.cases), _record(monkeypatch, bench.crypto)

    assert cli.main(["cases", "--database-url", "postgresql+psycopg://x/y", "--clients", "8"]) == 0

    assert cases == [["--database-url", "postgresql+psycopg://x/y", "--clients", "8"]]
    assert crypto == []


def test_several_names_each_get_the_arguments_and_a_double_dash_is_dropped(monkeypatch):
    cases, crypto = _record(monkeypatch, bench.cases), _record(monkeypatch, bench.crypto)

    assert cli.main(["crypto", "cases", "--", "--database-url", "sqlite:///x.db"]) == 0

    assert cases == crypto == [["--database-url", "sqlite:///x.db"]]


def test_an_unknown_benchmark_name_is_an_error_not_a_silent_no_op():
    with pytest.raises(SystemExit, match="unknown benchmark: case"):
        cli.main(["case", "--database-url", "sqlite:///x.db"])


def test_the_module_passes_the_command_line_on():
    """The real entry point: a bad argument reaches cases' own parser, which rejects it."""
    out = subprocess.run([sys.executable, "-m", "bench", "cases", "--no-such-option"], capture_output=True,
                         text=True, timeout=120, cwd=Path(__file__).resolve().parents[1])
    assert out.returncode == 2 and "--no-such-option" in out.stderr, out.stderr
