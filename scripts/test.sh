#!/usr/bin/env bash
# The project's one test command (README, CI): bash scripts/test.sh
#   1. installs the system packages (scripts/install-deps.sh; quick when they are there)
#   2. g++ Debug with ASan + UBSan: tests, examples, header and packaging checks (preset debug-asan)
#   3. g++ ThreadSanitizer: the concurrency tests (preset tsan)
#   4. clang++-16: tests, examples and benchmarks, warnings as errors, and a brief run of each benchmark for its
#      self-checks (preset clang, ctest label bench); then every header with
#      clang++-16 and libc++, warnings as errors
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

stage "4/5 clang++-16: tests, examples, benchmarks (preset clang); every header with libc++"
cmake --workflow --preset clang
# libc++ (Debian's libc++-16-dev): one translation unit including every header, warnings as errors. The tests
# are not built against libc++ too, to keep this command's time down (it is the library that users build).
all_headers=build/libcxx-headers.cpp
mkdir -p build
find include -name '*.hpp' | LC_ALL=C sort | sed 's|^include/\(.*\)$|#include <\1>|' > "$all_headers"
echo 'int main() {}' >> "$all_headers"
clang++-16 -std=c++20 -stdlib=libc++ -fsyntax-only -Iinclude -Werror -Wall -Wextra -Wpedantic -Wconversion \
  -Wsign-conversion -Wshadow "$all_headers"
echo "libc++: $(grep -c '^#include' "$all_headers") headers compile"

harnesses=(fuzz/*_fuzz.cpp)
stage "5/5 clang-16 libFuzzer: ${#harnesses[@]} harnesses x ${FUZZ_SECONDS:-30} s (preset fuzz, scripts/fuzz.sh)"
cmake --workflow --preset fuzz
bash scripts/fuzz.sh

stage "all stages passed in $((SECONDS - start)) s"
