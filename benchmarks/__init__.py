"""Benchmark scripts: each prints the figures it measures."""
