"""Benchmark scripts: each prints the figures it measures (run with `python -m benchmarks.<name>`)."""
