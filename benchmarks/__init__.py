"""Benchmarks (not tests): ``make bench-serve`` and ``make bench-ingest``."""
