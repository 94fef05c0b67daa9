#!/usr/bin/env bash
# Builds and runs the whole test suite: the normal build, then the same tests under
# AddressSanitizer + UndefinedBehaviorSanitizer (about 20 minutes in all on 2 cores), then a
# one-minute run of each libFuzzer harness (clang; NEUTRON_SKIP_FUZZ=1 skips it).
set -euo pipefail
cd "$(dirname "$0")/.."
dir=$(scripts/build.sh)
(cd "$dir" && ctest --output-on-failure -j "$(nproc)")
if [ "${NEUTRON_SKIP_SANITIZE:-0}" != 1 ]; then
  dir=$(scripts/build.sh --sanitize)
  (cd "$dir" && ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1 \
     ctest --output-on-failure -j "$(nproc)")
fi
# Third stage: a one-minute run of each libFuzzer harness (clang build in build-fuzz/, ctest label
# "fuzz"; scripts/fuzz.sh runs them longer).
if [ "${NEUTRON_SKIP_FUZZ:-0}" != 1 ]; then
  dir=$(scripts/fuzz.sh --build-only)
  (cd "$dir" && ctest --output-on-failure -L fuzz -j "$(nproc)")
fi
echo "test.sh: all tests passed" >&2
