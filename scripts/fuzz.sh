#!/usr/bin/env bash
# Builds the libFuzzer harnesses (fuzz/, clang, ASan+UBSan) in build-fuzz/ and runs each for a
# while from seed corpora made from the fixtures (docs/fuzzing.md).
#
# Usage: scripts/fuzz.sh [--minutes N | --seconds N] [--seed S] [--jobs N] [--out DIR]
#                        [--keep-going] [--build-dir DIR] [--no-build] [--build-only] [harness...]
#   harness: npy onnx program payload (default: all four, one after the other)
#   --minutes N   run each harness N minutes (default 10); --seconds N likewise in seconds
#   --seed S      libFuzzer's -seed (default 1), so a run can be repeated
#   --jobs N      run N harnesses at the same time (default 1)
#   --out DIR     where corpora, logs and crash reproducers go (default BUILD_DIR/fuzz-out)
#   --keep-going  do not stop at the first finding (libFuzzer -fork=1 -ignore_crashes=1 ...): every
#                 finding of the whole run is written, then the script fails
# A crash, sanitizer report, timeout or out-of-memory writes its reproducer to
# OUT/crashes/HARNESS/ and fails the script; rerun one with BUILD_DIR/fuzz/HARNESS_fuzz FILE.
# The last lines are one summary per harness with libFuzzer's execution count.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
seconds=600
seed=1
jobs=1
build_dir=build-fuzz
out=
build=1
build_only=0
keep_going=0
harnesses=()
all=(npy onnx program payload)
while [ $# -gt 0 ]; do
  case "$1" in
    --minutes) seconds=$(( $2 * 60 )); shift 2 ;;
    --seconds) seconds=$2; shift 2 ;;
    --seed) seed=$2; shift 2 ;;
    --jobs) jobs=$2; shift 2 ;;
    --out) out=$2; shift 2 ;;
    --build-dir) build_dir=$2; shift 2 ;;
    --no-build) build=0; shift ;;
    --build-only) build_only=1; shift ;;
    --keep-going) keep_going=1; shift ;;
    -h|--help) sed -n '2,16p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    npy|onnx|program|payload) harnesses+=("$1"); shift ;;
    *) echo "fuzz.sh: unknown argument '$1' (harnesses: ${all[*]})" >&2; exit 2 ;;
  esac
done
[ ${#harnesses[@]} -gt 0 ] || harnesses=("${all[@]}")
case "$seconds" in ''|*[!0-9]*) echo "fuzz.sh: --minutes/--seconds needs a whole number" >&2; exit 2 ;; esac
build_dir=$(cd "$root" && mkdir -p "$build_dir" && cd "$build_dir" && pwd)
out=${out:-$build_dir/fuzz-out}
mkdir -p "$out"
out=$(cd "$out" && pwd)

if [ "$build" = 1 ]; then
  if [ ! -f "$build_dir/CMakeCache.txt" ]; then
    command -v clang++ >/dev/null || { echo "fuzz.sh: clang++ not found (scripts/setup.sh installs it)" >&2; exit 1; }
    gen=()
    command -v ninja >/dev/null && gen=(-G Ninja)
    cmake -S . -B "$build_dir" "${gen[@]}" -DCMAKE_CXX_COMPILER=clang++ -DNEUTRON_FUZZ=ON \
      -DNEUTRON_BUILD_TESTS=OFF -DNEUTRON_BUILD_BENCH=OFF -DCMAKE_BUILD_TYPE=RelWithDebInfo >&2
  fi
  cmake --build "$build_dir" -j "$(nproc)" --target neutron_fuzzers >&2
fi
[ "$build_only" = 1 ] && { echo "$build_dir"; exit 0; }

# ---- Seed corpora (made again when neutron was rebuilt or fuzz/corpus changed; a lock keeps
# parallel runs from racing). ----
seeds=$out/seeds
prepare_seeds() {
  if [ -f "$seeds/.done" ] && [ "$seeds/.done" -nt "$build_dir/neutron" ] &&
     [ -z "$(find fuzz/corpus -newer "$seeds/.done" | head -1)" ]; then return 0; fi
  rm -rf "$seeds"
  mkdir -p "$seeds"/{npy,onnx,program,payload}
  # Committed seeds and reproducers of fixed findings (tiny files).
  local h
  for h in npy onnx program payload; do
    if [ -d "fuzz/corpus/$h" ]; then cp fuzz/corpus/$h/* "$seeds/$h/"; fi
  done
  for f in fixtures/fmnist_cnn/ref_*.npy fixtures/cifarnet/ref_*.npy fixtures/fmnist_cnn/inputs.npy; do
    cp "$f" "$seeds/npy/$(basename "$(dirname "$f")")-$(basename "$f")"
  done
  for m in fmnist_cnn/model_int8 fmnist_cnn/model_f32 cifarnet/model_int8; do
    cp "fixtures/$m.onnx" "$seeds/onnx/${m/\//-}.onnx"
  done
  # The ONNX backend node tests (libonnx-testdata): one tiny model per operator and variant.
  local node=/usr/share/libonnx-testdata/data/node
  if [ -d "$node" ]; then
    for d in "$node"/*/; do
      [ -f "$d/model.onnx" ] && cp "$d/model.onnx" "$seeds/onnx/node-$(basename "$d").onnx"
    done
  fi
  # Programs compiled by this build's neutron, and the delegate payloads inside them: a tiny CNN
  # (milliseconds a run) and Fashion-MNIST; CifarNet (a second a run under the sanitizers) only
  # gives payloads.
  local tmp=$out/seeds-tmp m t
  rm -rf "$tmp" && mkdir -p "$tmp"
  "$build_dir/fuzz/make_seed_models" "$tmp"
  cp "$tmp/tiny_cnn.onnx" "$seeds/onnx/"
  for t in cpu imxrt700; do
    "$build_dir/neutron" compile "$tmp/tiny_cnn.onnx" -i "$tmp/tiny_cnn_calib.npy" --target "$t" \
      -o "$seeds/program/tiny_cnn-$t.nprg" >/dev/null
  done
  for m in fmnist_cnn cifarnet; do
    for t in cpu imxrt700; do
      "$build_dir/neutron" compile "fixtures/$m/model_int8.onnx" --target "$t" -o "$tmp/$m-$t.nprg" >/dev/null
    done
  done
  cp "$tmp"/fmnist_cnn-*.nprg "$seeds/program/"
  for m in tiny_cnn fmnist_cnn cifarnet; do
    "$build_dir/fuzz/extract_payloads" "$(ls "$seeds/program/$m-imxrt700.nprg" "$tmp/$m-imxrt700.nprg" 2>/dev/null | head -1)" \
      "$seeds/payload" "$m" >/dev/null
  done
  rm -rf "$tmp"
  touch "$seeds/.done"
}
(
  flock 9
  prepare_seeds
) 9>"$out/.seeds.lock"

# ---- Runs. ----
run_one() {
  local h=$1
  local bin=$build_dir/fuzz/${h}_fuzz
  local corpus=$out/corpus/$h crashes=$out/crashes/$h log=$out/logs/$h.log
  [ -x "$bin" ] || { echo "fuzz.sh: $bin is missing (build without --no-build)" >&2; return 1; }
  rm -rf "$corpus"
  mkdir -p "$corpus" "$crashes" "$out/logs"
  touch "$log.start"
  local dict=()
  [ -f "fuzz/$h.dict" ] && dict=(-dict="fuzz/$h.dict")
  echo "fuzz.sh: $h for $seconds s (seed $seed), log $log" >&2
  local rc=0 mode=()
  if [ "$keep_going" = 1 ]; then mode=(-fork=1 -ignore_crashes=1 -ignore_ooms=1 -ignore_timeouts=1); fi
  # The first corpus dir collects new inputs; the seed dir is read only.
  ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1} UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1} \
    "$bin" "$corpus" "$seeds/$h" "${dict[@]}" "${mode[@]}" -seed="$seed" -max_total_time="$seconds" -timeout=30 \
      -rss_limit_mb=2048 -print_final_stats=1 -artifact_prefix="$crashes/" >"$log" 2>&1 || rc=$?
  local execs findings
  execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
  # -fork mode: the last "#N: cov: ..." progress line of the parent.
  [ -n "$execs" ] || execs=$(sed -n 's/^#\([0-9]*\): cov:.*/\1/p' "$log" | tail -1)
  findings=$(find "$crashes" -type f -newer "$log.start" | wc -l)
  if [ "$rc" = 0 ] && [ "$findings" = 0 ]; then
    echo "$h: ${execs:-?} executions in $seconds s, no finding" >"$out/logs/$h.summary"
  else
    local what
    what=$(grep -m1 -E "^==[0-9]+==ERROR|runtime error:|FUZZ_CHECK failed|ALARM: working on the last Unit|out-of-memory|deadly signal" "$log" || true)
    echo "$h: FINDING ($findings reproducers) after ${execs:-?} executions: ${what:-see the reproducers}; reproducers in $crashes/ (rerun: $bin FILE; log $log)" \
      >"$out/logs/$h.summary"
    rc=1
  fi
  return "$rc"
}

status=0
pids=()
names=()
for h in "${harnesses[@]}"; do
  rm -f "$out/logs/$h.summary"
  run_one "$h" &
  pids+=($!)
  names+=("$h")
  if [ ${#pids[@]} -ge "$jobs" ]; then
    wait "${pids[0]}" || status=1
    pids=("${pids[@]:1}")
  fi
done
for p in "${pids[@]}"; do wait "$p" || status=1; done
echo "fuzz.sh: summary (crash reproducers go to $out/crashes/HARNESS/)"
for h in "${harnesses[@]}"; do
  cat "$out/logs/$h.summary" 2>/dev/null || echo "$h: no summary (see $out/logs/$h.log)"
done
exit "$status"
