#!/usr/bin/env bash
# Sign-endpoint load test: prepares N offered players, drives POST /api/v1/contracts/{token}/sign with wrk
# against `rollcall serve` (one process), and prints one JSON line (req/s, p50, p99, non-2xx).
#
#   bench/api_sign.sh [--players N] [--seconds S] [--connections C] [--rounds R] [--reference /path/to/refstack/python]
#
# Needs wrk (Debian: apt-get install wrk). With --reference, the FastAPI reference stack of
# shared/bench/refstack runs in the same invocation on the same PostgreSQL, alternating with rollcall
# round by round (3 rounds by default), and the line has the medians of both and their ratio.
set -euo pipefail
cd "$(dirname "$0")/.."
export UV_PYTHON_DOWNLOADS=never
exec uv run --frozen python bench/api_sign.py "$@"
