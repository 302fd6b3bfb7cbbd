#!/usr/bin/env python3
"""Derives joulesched's GPU clock curves (data/dvfs/*.csv) from the Perseus frequency sweep.

Input: the Perseus (SOSP'24) stage profile, ml-energy/zeus commit 38cb3f90c30d9041d4b141cfe5c922dba55baa45,
sosp24_data/emulation/stage_profile/{gpt3-175b,bloom}+{a100_sxm,a40}_bf16.csv, gathered in one CSV with the
columns model,gpu,stage,instruction,sm_freq_mhz,time_s,energy_j,avg_power_w.

For each GPU and each locked SM clock f, over every (model, stage) pair's *forward* pass (the nearest stand-in
for prefill in a training sweep): time_ratio = median of time(f) / time(top clock), power_ratio = median of
avg_power(f) / avg_power(top clock). Only clocks measured for every pair are written.

Usage: scripts/fit_dvfs_curve.py PERSEUS.csv OUTDIR
"""
import csv
import statistics
import sys
from collections import defaultdict

SOURCE = ("Perseus SOSP'24 stage profile (ml-energy/zeus 38cb3f90, sosp24_data/emulation/stage_profile), "
          "forward passes, median over model x stage; scripts/fit_dvfs_curve.py")


def main(path, outdir):
    rows = [r for r in csv.DictReader(open(path)) if r["instruction"] == "forward"]
    by_gpu = defaultdict(lambda: defaultdict(dict))  # gpu -> (model, stage) -> freq -> (time, power)
    for r in rows:
        by_gpu[r["gpu"]][(r["model"], r["stage"])][int(r["sm_freq_mhz"])] = (float(r["time_s"]), float(r["avg_power_w"]))
    for gpu, pairs in sorted(by_gpu.items()):
        freqs = sorted(set.intersection(*(set(p) for p in pairs.values())), reverse=True)
        top = freqs[0]
        name = gpu.split("-")[0].lower()
        with open(f"{outdir}/{name}_perseus.csv", "w", newline="") as f:
            w = csv.writer(f, lineterminator="\n")
            f.write(f"# {gpu}: SM clock curve. Source: {SOURCE}. Pairs: {len(pairs)}.\n")
            w.writerow(["clock_mhz", "clock_fraction", "time_ratio", "power_ratio"])
            for q in freqs:
                tr = statistics.median(p[q][0] / p[top][0] for p in pairs.values())
                pr = statistics.median(p[q][1] / p[top][1] for p in pairs.values())
                w.writerow([q, f"{q / top:.6f}", f"{tr:.6f}", f"{pr:.6f}"])


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
