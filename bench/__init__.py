"""Benchmarks (see bench/README.md); nothing here runs at import."""
