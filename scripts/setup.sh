#!/usr/bin/env bash
# Installs every Debian package the build and the test suite need (Debian 12 bookworm).
# Usage: scripts/setup.sh            (build + test dependencies; clang, libFuzzer and llvm-symbolizer
#                                     for the fuzz harnesses, scripts/fuzz.sh)
#        scripts/setup.sh --fixtures (also torch/onnx, only needed to regenerate fixtures/)
set -euo pipefail
SUDO=""
if [ "$(id -u)" != 0 ]; then SUDO="sudo"; fi
PKGS=(build-essential cmake ninja-build ccache pkg-config
      libprotobuf-dev protobuf-compiler libonnx-dev libonnx-testdata
      libgtest-dev libgmock-dev libbenchmark-dev
      libcli11-dev nlohmann-json3-dev
      flatbuffers-compiler libflatbuffers-dev
      python3-numpy pybind11-dev python3-dev
      clang libclang-rt-14-dev llvm
      gcc-arm-none-eabi libnewlib-arm-none-eabi libstdc++-arm-none-eabi-newlib qemu-system-arm)
# Node.js and npm run ONNX Runtime for bench/host_vs_ort.py. A machine may already have them from
# another source (NodeSource's nodejs bundles npm and conflicts with Debian's npm package).
if ! command -v node >/dev/null || ! command -v npm >/dev/null; then PKGS+=(nodejs npm); fi
if [ "${1:-}" = "--fixtures" ]; then
  PKGS+=(python3-torch python3-torchvision python3-onnx dataset-fashion-mnist)
fi
missing=()
for p in "${PKGS[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ "${#missing[@]}" -gt 0 ]; then
  echo "setup: installing ${missing[*]}" >&2
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi
echo "setup: dependencies present" >&2
