"""Reproducible benchmarks; each prints one JSON line last."""
