"""Benchmarks (not timed tests). `python -m bench` runs every module here; `python -m bench.<name>` runs one."""
