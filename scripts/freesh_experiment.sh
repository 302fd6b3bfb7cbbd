#!/usr/bin/env bash
# FREESH's comparison on our models (README, "FREESH's experiment"): its three sites, one hour, then a day on the
# same grids with the diurnal shape and temporal shifting.
#
#   bash scripts/freesh_experiment.sh            # Markdown tables on stdout
#   FLEET=data/fleets/freesh-three-sites-swapped.csv bash scripts/freesh_experiment.sh
#
# 1. installs the system packages and builds joulesched-sim in Release (as scripts/simulate.sh does);
# 2. runs joulesched-sim once per queue and governor setting on FLEET (default data/fleets/freesh-three-sites.csv:
#    FREESH's inventory, its sites put in the zones DE-LU, CA-ON and US-CAL-CISO) with the bundled Electricity Maps
#    week from START (default 2022-06-02 00:00:00 UTC), the default mix at UTILISATION (default 0.5) of saturation;
# 3. prints one row per configuration: energy, operational carbon, SLO attainment, mean TTFT and fairness.
# What is not FREESH's: each GPU is one instance (no tensor-parallel modes), the plan's profiles are our models' at
# saturation, and the demand is our mix and the emissions a real grid's, not the authors' (README).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
fleet="${FLEET:-$root/data/fleets/freesh-three-sites.csv}"
start="${START:-2022-06-02 00:00:00}"
utilisation="${UTILISATION:-0.5}"

bash "$root/scripts/install-deps.sh" >&2
jobs="${JOBS:-$(nproc)}"
(cd "$root" && cmake --preset release && cmake --build build/release --target joulesched-sim --parallel "$jobs") >&2
sim="$root/build/release/examples/sim/joulesched-sim"
out="$(mktemp -d)"
trap 'rm -rf "$out"' EXIT

# run NAME DURATION_S ARGS...: one simulation, its JSON kept as NAME.json
run() {
  local name="$1" duration="$2"
  shift 2
  echo "freesh_experiment: $name" >&2
  echo "$name" >> "$out/order"
  "$sim" --fleet "$fleet" --carbon "$root/data/carbon/electricitymaps_2022-06-01_7d_direct.csv" --start "$start" \
    --utilisation "$utilisation" --duration "$duration" --quiet --format json "$@" > "$out/$name.json"
}

# One hour. FREESH's baseline is capacity-proportional round-robin at the top clock with FCFS queues; FREESH is
# its pool plan (freesh_plan, carbon objective), the MIAD governor and preemptive LLF; each ablation changes one of
# them. carbon_pi (the JouleSched argmin with the carbon term) runs beside it in each setting.
run hour-fcfs-top 3600 --queue fcfs --policies capacity_rr,least_loaded,energy_pi,carbon_pi,freesh_plan
run hour-pllf-miad 3600 --queue preemptive_llf --governor miad --policies freesh_plan,carbon_pi,energy_pi
run hour-pllf-miad-energyplan 3600 --queue preemptive_llf --governor miad --plan-objective energy \
  --policies freesh_plan
run hour-fcfs-miad 3600 --queue fcfs --governor miad --policies freesh_plan,carbon_pi
run hour-edf-miad 3600 --queue edf --governor miad --policies freesh_plan,carbon_pi
run hour-pllf-top 3600 --queue preemptive_llf --policies freesh_plan,carbon_pi
run hour-edf-top 3600 --queue edf --policies freesh_plan,carbon_pi
# The plan's capacities are our models' saturation rates, which leave no margin for bursts; planned at 0.7 of it:
run hour-pllf-top-capacity0.7 3600 --queue preemptive_llf --plan-capacity 0.7 --policies freesh_plan
run hour-pllf-miad-capacity0.7 3600 --queue preemptive_llf --governor miad --plan-capacity 0.7 --policies freesh_plan
# A day with the diurnal shape: what holding bulk work for a cleaner hour adds.
run day-fcfs-top 86400 --diurnal --queue fcfs --policies capacity_rr,carbon_pi,freesh_plan
run day-pllf-miad 86400 --diurnal --queue preemptive_llf --governor miad --policies freesh_plan,carbon_pi
run day-pllf-top 86400 --diurnal --queue preemptive_llf --policies freesh_plan,carbon_pi
run day-pllf-top-persistence 86400 --diurnal --queue preemptive_llf --shift persistence --policies carbon_pi
run day-pllf-top-perfect 86400 --diurnal --queue preemptive_llf --shift perfect --policies carbon_pi

python3 - "$out" "$fleet" "$start" "$utilisation" <<'EOF'
import json, os, sys

out, fleet, start, utilisation = sys.argv[1:]
print(f"FREESH's comparison on {os.path.basename(fleet)}, from {start} UTC, default mix at {utilisation} of saturation")
header = ("| configuration | policy | queue | governor | shift | energy MJ | carbon kg | SLO attained % | "
          "mean TTFT ms | fairness gap | Jain |")
for span in ("hour", "day"):
    print(f"\n{header}\n|---|---|---|---|---|---:|---:|---:|---:|---:|---:|")
    for name in [n for n in open(os.path.join(out, "order")).read().split() if n.startswith(span + "-")]:
        j = json.load(open(os.path.join(out, name + ".json")))
        st = j["settings"]
        shift = next((k for k in ("persistence", "perfect") if name.endswith(k)), "off")
        plan = j.get("plan", {})
        for p in j["policies"]:
            f = p["fairness"]
            label = p["name"]
            if p["name"] == "freesh_plan":
                label += f" ({plan['objective']} plan, capacity {plan['capacity_fraction']:g})"
            print(f"| {name} | {label} | {st['queue']} | {st['governor']} | {shift} "
                  f"| {p['energy_mj']:.2f} | {p['carbon_kg']:.3f} | {100 * (1 - p['slo_violation_rate']):.2f} "
                  f"| {p['ttft_mean_ms']:.0f} | {f['service_gap']:.3f} | {f['jain_index']:.4f} |")
EOF
