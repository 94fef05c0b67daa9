#!/usr/bin/env bash
# Writes docs/npu-report.md (scripts/npu_report.py does the work; kept for the old command line).
# Usage: scripts/npu_report.sh [path/to/neutron] [path/to/older/neutron for the before columns]
set -euo pipefail
cd "$(dirname "$0")/.."
args=(--neutron "${1:-build/neutron}")
if [ -n "${2:-}" ]; then args+=(--before "$2"); fi
exec python3 scripts/npu_report.py "${args[@]}"
