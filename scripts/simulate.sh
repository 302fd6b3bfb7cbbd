#!/usr/bin/env bash
# The README's main job: build the simulator and run the default comparison of routing policies.
#
#   bash scripts/simulate.sh                       # six policies on the 320-GPU fleet, one simulated hour: a table
#   bash scripts/simulate.sh --format json > results.json && python3 scripts/plot_results.py results.json
#   bash scripts/simulate.sh --utilisation 0.7 --policies least_loaded,energy_pi
#
# 1. installs the system packages (scripts/install-deps.sh, when present; quick when they are there);
# 2. configures and builds joulesched-sim in Release (CMake preset `release`, build tree build/release);
# 3. runs build/release/examples/sim/joulesched-sim with the arguments given here (none: the default experiment).
# Progress goes to stderr, the results to stdout.
# Relative paths among the arguments (--trace, --fleet, ...) are taken from the caller's directory: only the
# build runs in the source tree.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"

bash "$root/scripts/install-deps.sh" >&2

jobs="${JOBS:-$(nproc)}"
(cd "$root" && cmake --preset release && cmake --build build/release --target joulesched-sim --parallel "$jobs") >&2
exec "$root/build/release/examples/sim/joulesched-sim" "$@"
