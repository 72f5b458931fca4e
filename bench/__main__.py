"""Run every benchmark module in bench/ that defines main(), in name order."""

from __future__ import annotations

import importlib
import pkgutil
import sys

import bench


def run() -> int:
    status = 0
    for info in sorted(pkgutil.iter_modules(bench.__path__), key=lambda m: m.name):
        if info.name.startswith("_"):
            continue
        module = importlib.import_module(f"bench.{info.name}")
        if callable(getattr(module, "main", None)):
            print(f"== bench.{info.name} ==", flush=True)
            status |= module.main([]) or 0
    return status


if __name__ == "__main__":
    sys.exit(run())
