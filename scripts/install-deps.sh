#!/usr/bin/env bash
# Installs the Debian/Ubuntu packages joulesched's build, tests, examples and benchmarks need.
# Idempotent: does nothing (and needs no network) when all of them are installed already. Installs as root,
# or through sudo; with neither it prints the apt-get command to run as root and exits 1.
set -euo pipefail

packages=(
  g++ cmake ninja-build clang-16 pkg-config python3
  libclang-rt-16-dev              # clang's runtimes: libFuzzer and the sanitizers (preset fuzz)
  libc++-16-dev libc++abi-16-dev  # LLVM's C++ standard library, for a libc++ build
  libboost-dev librange-v3-dev doctest-dev libbenchmark-dev libcli11-dev nlohmann-json3-dev
  gnuplot-nox  # the simulator's plots
  libglpk-dev  # GLPK, the MILP solver behind joulesched::glpk and joulesched-plan (optional target)
  clang-format-16 clang-tidy-16 doxygen  # the source checks and the API reference
)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q ' installed$' || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
  echo "install-deps: all ${#packages[@]} packages already installed"
  exit 0
fi

sudo=()
if [ "$(id -u)" -ne 0 ]; then
  if ! command -v sudo >/dev/null 2>&1; then
    echo "install-deps: not root and no sudo; as root, run:" >&2
    echo "  apt-get update && apt-get install -y --no-install-recommends ${missing[*]}" >&2
    exit 1
  fi
  sudo=(sudo)
fi
echo "install-deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
"${sudo[@]}" apt-get update -qq
"${sudo[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}"
