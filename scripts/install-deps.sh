#!/usr/bin/env bash
# Installs the Debian/Ubuntu packages joulesched's build, tests, examples and benchmarks need.
# Idempotent: does nothing (and needs no network) when all of them are installed already.
set -euo pipefail

packages=(
  g++ cmake ninja-build clang-16 pkg-config python3
  libboost-dev librange-v3-dev doctest-dev libbenchmark-dev libcli11-dev nlohmann-json3-dev
  gnuplot-nox  # the simulator's plots
)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q ' installed$' || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
  echo "install-deps: all ${#packages[@]} packages already installed"
  exit 0
fi
echo "install-deps: installing ${missing[*]}"

sudo=()
if [ "$(id -u)" -ne 0 ]; then sudo=(sudo); fi
export DEBIAN_FRONTEND=noninteractive
"${sudo[@]}" apt-get update -qq
"${sudo[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}"
