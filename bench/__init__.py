"""Benchmarks: each bench_*.py prints its figures beside same-run baselines (bench/README.md)."""
