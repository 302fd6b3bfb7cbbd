#!/usr/bin/env bash
# The project's one test command (README, CI): bash scripts/test.sh
#   1. installs the system packages (scripts/install-deps.sh; quick when they are there)
#   2. source checks: clang-format-16 (.clang-format) on every source, clang-tidy-16 (.clang-tidy) and every
#      header with clang++-16 and libstdc++ and with libc++ (warnings as errors) on one translation unit that
#      includes them all, and the Doxygen API reference without a warning (Doxyfile)
#   3. g++ Debug with ASan + UBSan: tests, examples, header and packaging checks (preset debug-asan)
#   4. g++ ThreadSanitizer: the concurrency tests (preset tsan)
#   5. clang++-16 with libc++: tests and examples (preset libcxx); clang++-16 with libstdc++: the benchmarks and
#      a brief run of each for its self-checks (preset clang, ctest label bench); warnings as errors in both
#   6. clang++-16 libFuzzer: every fuzz/*_fuzz.cpp harness, its regression inputs, then FUZZ_SECONDS (default 30)
#      of fuzzing each, two at a time (preset fuzz, scripts/fuzz.sh; 3.4 minutes on 2 cores: build 45 s, runs 156 s)
# Stops at the first failure. Build trees: build/<preset>. Parallelism: JOBS (default: nproc).
set -euo pipefail
cd "$(dirname "$0")/.."

jobs="${JOBS:-$(nproc)}"
export CMAKE_BUILD_PARALLEL_LEVEL="$jobs" CTEST_PARALLEL_LEVEL="$jobs"

stage() { printf '\n==== %s\n' "$*"; }
start=$SECONDS

stage "1/6 system packages"
bash scripts/install-deps.sh

stage "2/6 source checks: format, clang-tidy, every header with libstdc++ and libc++, API reference"
mapfile -t sources < <(git ls-files '*.hpp' '*.cpp' 2>/dev/null || find include tests examples benchmarks fuzz -name '*.[hc]pp')
clang-format-16 --dry-run -Werror "${sources[@]}"
echo "clang-format: ${#sources[@]} files formatted"
all_headers=build/all-headers.cpp
mkdir -p build
# The core's headers and the solver adapters' (solvers/<name>/include), each with its library's header.
find include solvers/*/include -name '*.hpp' | LC_ALL=C sort | sed 's|^\(solvers/[^/]*/\)\{0,1\}include/\(.*\)$|#include <\2>|' > "$all_headers"
echo 'int main() {}' >> "$all_headers"
warnings=(-Werror -Wall -Wextra -Wpedantic -Wconversion -Wsign-conversion -Wshadow)
for stdlib in libstdc++ libc++; do
  clang++-16 -std=c++20 -stdlib="$stdlib" -fsyntax-only -Iinclude -Isolvers/glpk/include "${warnings[@]}" "$all_headers"
done
echo "clang++-16: $(grep -c '^#include' "$all_headers") headers compile with libstdc++ and with libc++"
# Its output on success is only a count of the warnings it suppressed in system headers.
tidy_out=$(clang-tidy-16 --quiet "$all_headers" -- -std=c++20 -Iinclude -Isolvers/glpk/include 2>&1) || { echo "$tidy_out"; exit 1; }
echo "clang-tidy: no finding"
doxygen Doxyfile
echo "doxygen: build/docs/html/index.html, no warning"

stage "3/6 g++ ASan+UBSan: tests, examples, headers, packaging (preset debug-asan)"
cmake --workflow --preset debug-asan

stage "4/6 g++ TSan: concurrency tests (preset tsan)"
cmake --workflow --preset tsan

stage "5/6 clang++-16: tests and examples with libc++ (preset libcxx), benchmarks (preset clang)"
cmake --workflow --preset libcxx
cmake --workflow --preset clang

harnesses=(fuzz/*_fuzz.cpp)
stage "6/6 clang-16 libFuzzer: ${#harnesses[@]} harnesses x ${FUZZ_SECONDS:-30} s (preset fuzz, scripts/fuzz.sh)"
cmake --workflow --preset fuzz
bash scripts/fuzz.sh

stage "all stages passed in $((SECONDS - start)) s"
