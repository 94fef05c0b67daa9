#!/usr/bin/env bash
# Configures and builds into build/ (or build-asan/ with --sanitize). Prints the build dir.
set -euo pipefail
cd "$(dirname "$0")/.."
dir=build
extra=()
if [ "${1:-}" = "--sanitize" ]; then
  dir=build-asan
  extra=(-DNEUTRON_SANITIZE=ON -DCMAKE_BUILD_TYPE=RelWithDebInfo)
fi
gen=()
command -v ninja >/dev/null && gen=(-G Ninja)
if [ ! -f "$dir/CMakeCache.txt" ]; then
  cmake -S . -B "$dir" "${gen[@]}" "${extra[@]}" >&2
fi
cmake --build "$dir" -j "$(nproc)" >&2
echo "$dir"
