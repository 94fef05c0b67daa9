#!/usr/bin/env bash
# Builds the Cortex-M33 firmware (firmware/, toolchain cmake/arm-none-eabi-m33.cmake) and runs it
# under QEMU's mps2-an505 board; exits with the firmware's exit code (main's return value).
#
# Usage: scripts/firmware.sh [BUILD_DIR] [options]       BUILD_DIR defaults to build-fw
#   --program FILE   embed FILE as the program blob (board_program()); none if not given
#   --input FILE     embed FILE as the input blob (board_input()); none if not given
#   --elf NAME       image to build and run (default neutron_fw; neutron_fw_exit7 returns 7)
#   --kernel-opt OPT optimization of the CPU kernels (default -O2; the rest is -Os)
#   --timeout SEC    QEMU wall-clock limit (default 120); exceeding it exits 124
#   --icount SHIFT   run QEMU with -icount shift=SHIFT: deterministic, board_cycles() counts
#                    instructions (2^SHIFT ns each at 20 MHz ticks), slower
#   --build-only     build, do not run
#   --size-report    also build every library and write BUILD_DIR/size_report.{txt,json}
# The firmware's output (semihosting) goes to stdout; build output goes to stderr.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)

dir=build-fw
program=""
input=""
elf=neutron_fw
kernel_opt=-O2
timeout_s=120
icount=""
build_only=0
size_report=0
usage() { sed -n '2,17p' "$0" | sed 's/^# \{0,1\}//' >&2; exit 2; }
if [ $# -gt 0 ] && [ "${1#-}" = "$1" ]; then dir=$1; shift; fi
while [ $# -gt 0 ]; do
  case "$1" in
    --program) program=$(realpath "$2"); shift 2 ;;
    --input) input=$(realpath "$2"); shift 2 ;;
    --elf) elf=$2; shift 2 ;;
    --kernel-opt) kernel_opt=$2; shift 2 ;;
    --timeout) timeout_s=$2; shift 2 ;;
    --icount) icount=$2; shift 2 ;;
    --build-only) build_only=1; shift ;;
    --size-report) size_report=1; shift ;;
    -h|--help) usage ;;
    *) echo "firmware.sh: unknown argument '$1'" >&2; usage ;;
  esac
done
case "$dir" in /*) ;; *) dir="$root/$dir" ;; esac

for tool in arm-none-eabi-g++ qemu-system-arm cmake; do
  command -v "$tool" >/dev/null || { echo "firmware.sh: $tool not found (scripts/setup.sh installs it)" >&2; exit 3; }
done
gen=()
command -v ninja >/dev/null && gen=(-G Ninja)
if [ -f "$dir/CMakeCache.txt" ]; then gen=(); fi

# Always pass the blob options: the image embeds exactly what this command line names.
cmake -S "$root/firmware" -B "$dir" "${gen[@]}" -DCMAKE_TOOLCHAIN_FILE="$root/cmake/arm-none-eabi-m33.cmake" \
  -DNEUTRON_FW_PROGRAM="$program" -DNEUTRON_FW_INPUT="$input" -DNEUTRON_FW_KERNEL_OPT="$kernel_opt" >&2
targets=("$elf")
if [ "$size_report" = 1 ]; then targets+=(size_report); fi
cmake --build "$dir" --target "${targets[@]}" -j "$(nproc)" >&2
[ "$build_only" = 1 ] && exit 0

qemu=(qemu-system-arm -M mps2-an505 -cpu cortex-m33 -nographic -monitor none -serial none
      -semihosting-config enable=on,target=native -kernel "$dir/$elf.elf")
if [ -n "$icount" ]; then qemu+=(-icount "shift=$icount"); fi
set +e
timeout -k 5 "$timeout_s" "${qemu[@]}" </dev/null
rc=$?
set -e
if [ "$rc" = 124 ]; then echo "firmware.sh: QEMU did not finish within ${timeout_s} s" >&2; fi
exit "$rc"
