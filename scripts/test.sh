#!/usr/bin/env bash
# The project's one test command (README, CI): bash scripts/test.sh
#   1. installs the system packages (scripts/install-deps.sh; quick when they are there)
#   2. g++ Debug with ASan + UBSan: tests, examples, header and packaging checks (preset debug-asan)
#   3. g++ ThreadSanitizer: the concurrency tests (preset tsan)
#   4. clang++-16: tests, examples and benchmarks, warnings as errors (preset clang)
#   5. clang++-16 libFuzzer: every fuzz/*_fuzz.cpp harness, its regression inputs, then FUZZ_SECONDS (default 30)
#      of fuzzing each, two at a time (preset fuzz, scripts/fuzz.sh; 3.4 minutes on 2 cores: build 45 s, runs 156 s)
# Stops at the first failure. Build trees: build/<preset>. Parallelism: JOBS (default: nproc).
set -euo pipefail
cd "$(dirname "$0")/.."

jobs="${JOBS:-$(nproc)}"
export CMAKE_BUILD_PARALLEL_LEVEL="$jobs" CTEST_PARALLEL_LEVEL="$jobs"

stage() { printf '\n==== %s\n' "$*"; }
start=$SECONDS

stage "1/5 system packages"
bash scripts/install-deps.sh

stage "2/5 g++ ASan+UBSan: tests, examples, headers, packaging (preset debug-asan)"
cmake --workflow --preset debug-asan

stage "3/5 g++ TSan: concurrency tests (preset tsan)"
cmake --workflow --preset tsan

stage "4/5 clang++-16: tests, examples, benchmarks (preset clang)"
cmake --workflow --preset clang

harnesses=(fuzz/*_fuzz.cpp)
stage "5/5 clang-16 libFuzzer: ${#harnesses[@]} harnesses x ${FUZZ_SECONDS:-30} s (preset fuzz, scripts/fuzz.sh)"
cmake --workflow --preset fuzz
bash scripts/fuzz.sh

stage "all stages passed in $((SECONDS - start)) s"
