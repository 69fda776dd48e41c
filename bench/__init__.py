"""Benchmarks: numbers the README quotes. Run with `make bench`."""
