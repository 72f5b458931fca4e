"""Run every benchmark module in bench/ that defines main(), in name order; `python -m bench cases` runs one.

The names come first; every argument after them goes to each named benchmark (or to every benchmark when
none is named): `python -m bench cases --database-url URL --clients 8`.
"""

from __future__ import annotations

import importlib
import pkgutil
import sys

import bench


def benchmark_names() -> list[str]:
    return sorted(info.name for info in pkgutil.iter_modules(bench.__path__) if not info.name.startswith("_"))


def split_argv(argv: list[str]) -> tuple[list[str], list[str]]:
    """The benchmark names that lead ``argv``, and the arguments after them; an unknown name is an error."""
    names = []
    rest = list(argv)
    while rest and not rest[0].startswith("-"):
        names.append(rest.pop(0))
    if rest[:1] == ["--"]:
        rest.pop(0)
    unknown = [name for name in names if name not in benchmark_names()]
    if unknown:
        raise SystemExit(f"unknown benchmark: {', '.join(unknown)} (known: {', '.join(benchmark_names())})")
    return names, rest


def run(names: list[str] | None = None, args: list[str] | None = None) -> int:
    status = 0
    for name in benchmark_names():
        if names and name not in names:
            continue
        module = importlib.import_module(f"bench.{name}")
        if callable(getattr(module, "main", None)):
            print(f"== bench.{name} ==", flush=True)
            status |= module.main(list(args or [])) or 0
    return status


def main(argv: list[str]) -> int:
    names, args = split_argv(argv)
    return run(names, args)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
