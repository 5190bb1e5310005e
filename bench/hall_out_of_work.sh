#!/usr/bin/env bash
# Hiring hall, part 1: the out-of-work list (first page, page at position 15,000) and registration under load.
# Prepares a hall whose book has 20,000 registrants (and 20,000 rolled-off and dispatched registrations among
# them), drives `rollcall serve` (one process, production settings) with wrk, 16 connections, and prints one
# JSON line (req/s, p50, p99, non-2xx per phase, and whether the issue's goals were met).
#
#   bench/hall_out_of_work.sh [--seconds S] [--warmup W] [--connections C] [--rounds R] [--registrants N] ...
#
# Needs wrk (Debian: apt-get install wrk). See bench/README.md for what each phase measures.
set -euo pipefail
cd "$(dirname "$0")/.."
export UV_PYTHON_DOWNLOADS=never
exec uv run --frozen python bench/hall_out_of_work.py "$@"
