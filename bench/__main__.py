"""Run every benchmark module in bench/ that defines main(), in name order; `python -m bench cases` runs one."""

from __future__ import annotations

import importlib
import pkgutil
import sys

import bench


def run(names: list[str] | None = None) -> int:
    status = 0
    for info in sorted(pkgutil.iter_modules(bench.__path__), key=lambda m: m.name):
        if info.name.startswith("_") or (names and info.name not in names):
            continue
        module = importlib.import_module(f"bench.{info.name}")
        if callable(getattr(module, "main", None)):
            print(f"== bench.{info.name} ==", flush=True)
            status |= module.main([]) or 0
    return status


if __name__ == "__main__":
    sys.exit(run(sys.argv[1:]))
