#!/usr/bin/env bash
# firmware_qemu_smoke: qemu_smoke.sh HOST_SMOKE FIRMWARE_SH BUILD_DIR (see CMakeLists.txt here).
set -uo pipefail
host=$1
firmware_sh=$2
dir=$3

expected=$("$host") || { echo "FAIL: $host exited $?"; exit 1; }
echo "expected (host kernels): $expected"

out=$("$firmware_sh" "$dir" --timeout 60)
rc=$?
echo "$out"
if [ "$rc" != 0 ]; then
  echo "FAIL: firmware exited $rc (want 0)"
  exit 1
fi
if ! grep -qxF "$expected" <<<"$out"; then
  echo "FAIL: the firmware did not print '$expected'"
  exit 1
fi

"$firmware_sh" "$dir" --elf neutron_fw_exit7 --timeout 60
rc=$?
if [ "$rc" != 7 ]; then
  echo "FAIL: the exit-code self-test made firmware.sh exit $rc (want 7)"
  exit 1
fi
echo "firmware_qemu_smoke: checksum matches the host, exit codes propagate"
