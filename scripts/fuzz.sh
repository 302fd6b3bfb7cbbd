#!/usr/bin/env bash
# Runs joulesched's libFuzzer harnesses (fuzz/*_fuzz.cpp, built by: cmake --workflow --preset fuzz).
#   bash scripts/fuzz.sh                 every harness, FUZZ_SECONDS each, FUZZ_JOBS at a time (CI: scripts/test.sh)
#   bash scripts/fuzz.sh engine_fuzz     only the harnesses named
#   FUZZ_SECONDS=600 bash scripts/fuzz.sh csv_fuzz    one harness for longer (see fuzz/README.md)
# Each harness first runs its regression inputs (fuzz/regressions/<harness>/*, less those listed in
# fuzz/regressions/open.txt), then fuzzes for FUZZ_SECONDS (0: only the seeds and regressions, once).
# New corpus entries and reproducers go to a temporary directory (FUZZ_WORK_DIR), never into the tree; the
# seed directories are only read. Fails on any crash, sanitizer report, leak, timeout (-timeout=5 s per
# input) or memory over 2 GiB, printing the report's end and the reproducer's path.
set -euo pipefail
cd "$(dirname "$0")/.."

# One line per harness: name, -max_len, seed directories (read-only). A new harness adds its line here.
table=(
  "csv_fuzz             4096 tests/data/profiles tests/data/traces data/devices"
  "azure_trace_fuzz     4096 tests/data/traces"
  "mooncake_trace_fuzz  4096 tests/data/traces"
  "energy_profile_fuzz  4096 tests/data/profiles"
  "device_model_fuzz    4096 data/devices"
  "fleet_file_fuzz      1024 data/fleets"
  "rate_shape_fuzz      8192 data/traces"
  "intensity_fuzz       4096 tests/data/carbon"
  "number_fuzz           128"
  "engine_fuzz           512"
)

seconds="${FUZZ_SECONDS:-30}"
jobs="${FUZZ_JOBS:-2}"
bin_dir="${FUZZ_BUILD_DIR:-build/fuzz}/fuzz"
work="${FUZZ_WORK_DIR:-$(mktemp -d "${TMPDIR:-/tmp}/joulesched-fuzz.XXXXXX")}"
open_list=fuzz/regressions/open.txt

export UBSAN_OPTIONS="${UBSAN_OPTIONS:-print_stacktrace=1}"
if [ -z "${ASAN_SYMBOLIZER_PATH:-}" ]; then
  ASAN_SYMBOLIZER_PATH="$(command -v llvm-symbolizer-16 || command -v llvm-symbolizer || true)"
  export ASAN_SYMBOLIZER_PATH
fi

# Every harness source must have its line (else it would never run).
for src in fuzz/*_fuzz.cpp; do
  name="$(basename "$src" .cpp)"
  printf '%s\n' "${table[@]}" | grep -q "^$name " ||
    { echo "fuzz.sh: $src has no line in the table of scripts/fuzz.sh" >&2; exit 2; }
done

selected=("$@")
if [ ${#selected[@]} -eq 0 ]; then
  for line in "${table[@]}"; do selected+=("${line%% *}"); done
fi

# Runs one harness: regressions, then the timed run; its log and exit status go to $work/<name>/.
run_one() {
  local name="$1" max_len="$2"
  shift 2
  local dir="$work/$name" bin="$bin_dir/$name"
  mkdir -p "$dir/corpus" "$dir/artifacts"
  local seeds=() regressions=()
  for s in "$@"; do [ -e "$s" ] && seeds+=("$s"); done
  for r in fuzz/regressions/"$name"/*; do
    [ -f "$r" ] || continue
    # A reproducer listed in open.txt (first word of a line) still crashes: it waits for its fix.
    [ -f "$open_list" ] && awk -v r="$r" '$1 == r { found = 1 } END { exit !found }' "$open_list" && continue
    regressions+=("$r")
  done
  local flags=(-timeout=5 -rss_limit_mb=2048 -max_len="$max_len" -artifact_prefix="$dir/artifacts/" -print_final_stats=1)
  local length=(-max_total_time="$seconds")
  [ "$seconds" -eq 0 ] && length=(-runs=0)
  # libFuzzer stops itself; `timeout` (exit 124) only guards against a process that never does.
  local guard=(timeout -k 10 $((seconds + 120)))
  local status=0
  : >"$dir/log"
  if [ ${#regressions[@]} -gt 0 ]; then
    "${guard[@]}" "$bin" "${flags[@]}" "${regressions[@]}" >>"$dir/log" 2>&1 || status=$?
  fi
  if [ "$status" -eq 0 ]; then
    "${guard[@]}" "$bin" "${flags[@]}" "${length[@]}" "$dir/corpus" "${seeds[@]}" >>"$dir/log" 2>&1 || status=$?
  fi
  echo "$status" >"$dir/status"
  echo "${#regressions[@]}" >"$dir/regressions"
}

echo "fuzz.sh: ${#selected[@]} harnesses x ${seconds} s, ${jobs} at a time; work directory $work"
running=0
for name in "${selected[@]}"; do
  line="$(printf '%s\n' "${table[@]}" | grep "^$name " || true)"
  [ -n "$line" ] || { echo "fuzz.sh: no harness '$name' in the table" >&2; exit 2; }
  [ -x "$bin_dir/$name" ] || { echo "fuzz.sh: $bin_dir/$name is not built (cmake --workflow --preset fuzz)" >&2; exit 2; }
  read -r -a fields <<<"$line"
  run_one "${fields[@]}" &
  running=$((running + 1))
  if [ "$running" -ge "$jobs" ]; then
    wait -n || true
    running=$((running - 1))
  fi
done
wait

failed=0
for name in "${selected[@]}"; do
  dir="$work/$name"
  if [ "$(cat "$dir/status")" = 0 ]; then
    stats="$(grep -E '^#[0-9]+[[:space:]]+DONE' "$dir/log" | tail -1 | sed -E 's/^#([0-9]+)[[:space:]]+DONE[[:space:]]+/\1 runs, /' || true)"
    echo "  ok    $name: $(cat "$dir/regressions") regression inputs; ${stats:-seeds only}"
  else
    failed=1
    echo "  FAIL  $name (exit $(cat "$dir/status")); the report in $dir/log:"
    # From the report's first line (sanitizer, assert, fuzz::require, libFuzzer), else the log's end.
    first="$(grep -n -m1 -E '^==[0-9]+==|runtime error|^fuzz: |Assertion|ERROR: libFuzzer' "$dir/log" | cut -d: -f1 || true)"
    if [ -n "$first" ]; then sed -n "${first},$((first + 60))p" "$dir/log"; else tail -n 40 "$dir/log"; fi | sed 's/^/        /'
    for a in "$dir"/artifacts/*; do
      [ -f "$a" ] && echo "        reproducer: $a   (rerun: $bin_dir/$name $a)"
    done
    # The reproducer itself, for a CI log that outlives the machine: base64 -d it into a file.
    grep -m1 '^Base64: ' "$dir/log" | sed 's/^/        reproducer, /' || true
  fi
done
if [ "$failed" -ne 0 ]; then
  echo "fuzz.sh: FAILED; logs, corpora and reproducers are kept in $work" >&2
  exit 1
fi
rm -rf "$work"
echo "fuzz.sh: all ${#selected[@]} harnesses passed"
