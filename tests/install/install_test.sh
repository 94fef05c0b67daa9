#!/usr/bin/env bash
# `cmake --install` into a temporary prefix, then: the installed CLI, moved away from the build and
# source trees, compiles with its built-in targets and inspects the program; a separate CMake
# project finds the installed runtime with find_package(neutron) and runs the program.
# Usage: install_test.sh BUILD_DIR SOURCE_DIR [CONSUMER_FLAGS]
#   CONSUMER_FLAGS: compile and link flags the consumer needs (the sanitizers of an instrumented build)
set -euo pipefail
build=$1
src=$2
flags=${3:-}
tmp=$(mktemp -d /tmp/neutron_install_XXXXXX)
trap 'rm -rf "$tmp"' EXIT
cmake --install "$build" --prefix "$tmp/prefix" >/dev/null
# A relocated binary: copied elsewhere, no NEUTRON_TARGETS_DIR.
mkdir "$tmp/elsewhere"
cp "$tmp/prefix/bin/neutron" "$tmp/elsewhere/neutron"
unset NEUTRON_TARGETS_DIR
cd "$tmp"
"$tmp/elsewhere/neutron" --version
"$tmp/elsewhere/neutron" compile "$src/fixtures/cifarnet/model_int8.onnx" --target imxrt700 -o "$tmp/p.nprg" -q
"$tmp/elsewhere/neutron" supported-ops --target mcxn94x -o "$tmp/ops.md"
"$tmp/elsewhere/neutron" inspect "$tmp/p.nprg" --json "$tmp/p.json" >/dev/null
grep -q '"schema": "inspect"' "$tmp/p.json"
gen=()
command -v ninja >/dev/null && gen=(-G Ninja)
# The consumer's configure and build logs are shown only when they fail.
if ! cmake -S "$src/tests/install/consumer" -B "$tmp/consumer" "${gen[@]}" -DCMAKE_PREFIX_PATH="$tmp/prefix" \
      -DCMAKE_BUILD_TYPE=Release -DCMAKE_CXX_FLAGS="$flags" -DCMAKE_EXE_LINKER_FLAGS="$flags" >"$tmp/consumer.log" 2>&1 ||
   ! cmake --build "$tmp/consumer" >>"$tmp/consumer.log" 2>&1; then
  cat "$tmp/consumer.log" >&2
  exit 1
fi
"$tmp/consumer/consumer" "$tmp/p.nprg"
# The Python package, when the build has it: imported from the prefix alone, it reads the program.
site=$(ls -d "$tmp"/prefix/lib/python3*/site-packages 2>/dev/null | head -1 || true)
if [ -n "$site" ] && [ -d "$site/neutron" ]; then
  if /usr/bin/python3 -c "import numpy" 2>/dev/null; then
    (cd "$tmp" && PYTHONPATH="$site" /usr/bin/python3 -c "
import neutron, sys
assert neutron.__file__.startswith('$site'), neutron.__file__
print('python package', neutron.__version__, 'from', '$site')
assert neutron.inspect('$tmp/p.nprg')['schema'] == 'inspect'
")
  fi
fi
echo "install_test: ok"
