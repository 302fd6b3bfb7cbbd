#!/usr/bin/env python3
"""Derive the 24-hour diurnal rate shape shipped as data/traces/servegen_diurnal_shape.csv.

Input: the ServeGen 10-minute rate series aggregated per model (Alibaba Bailian production traffic;
alibaba/ServeGen commit f891d1189eb32b3868dfc443800c4150548c282a, Apache-2.0), columns
model,category,window_start_s,window_len_s,total_rate_rps,active_clients,rate_weighted_mean_cv.

Method, per language model (m-large, m-mid, m-small; 14 days x 144 windows each):
  time of day = window_start_s mod 86400 (window 0 taken as 00:00 of the trace's first day);
  windows with total_rate_rps == 0 are treated as missing data (a production service with hundreds of
  requests/s does not fall to exactly zero for ten minutes; the zeros are gaps in the published per-client
  statistics) and left out of the mean;
  value(window of day) = mean over the remaining days of total_rate_rps;
  multiplier = value / mean(value over the 144 windows), so each column has mean 1.
Python standard library only. Usage:
  python3 scripts/derive_diurnal_shape.py [INPUT_CSV] > data/traces/servegen_diurnal_shape.csv
"""
import csv
import sys
from collections import defaultdict

DEFAULT_INPUT = "/work/shared/data/traces/servegen_alibaba_rate_10min_by_model.csv"
MODELS = ["m-large", "m-mid", "m-small"]
WINDOW_S = 600
WINDOWS_PER_DAY = 86400 // WINDOW_S


def main() -> int:
    path = sys.argv[1] if len(sys.argv) > 1 else DEFAULT_INPUT
    sums = {m: [0.0] * WINDOWS_PER_DAY for m in MODELS}
    counts = {m: [0] * WINDOWS_PER_DAY for m in MODELS}
    zeros = defaultdict(int)
    days = defaultdict(set)
    with open(path, newline="") as f:
        for row in csv.DictReader(f):
            m = row["model"]
            if m not in sums:
                continue
            start = int(float(row["window_start_s"]))
            if int(float(row["window_len_s"])) != WINDOW_S or start % WINDOW_S != 0:
                raise SystemExit(f"{path}: unexpected window {row}")
            rate = float(row["total_rate_rps"])
            days[m].add(start // 86400)
            if rate == 0.0:
                zeros[m] += 1
                continue
            w = (start % 86400) // WINDOW_S
            sums[m][w] += rate
            counts[m][w] += 1
    shape = {}
    for m in MODELS:
        if any(c == 0 for c in counts[m]):
            raise SystemExit(f"{m}: a window of the day has no data")
        values = [s / c for s, c in zip(sums[m], counts[m])]
        mean = sum(values) / len(values)
        shape[m] = [v / mean for v in values]
    out = sys.stdout
    out.write("# Diurnal arrival-rate shape of Alibaba Bailian production LLM traffic: multiplier of the mean rate\n")
    out.write("# per 10-minute window of the day (mean 1 per column).\n")
    out.write("# Source: alibaba/ServeGen commit f891d1189eb32b3868dfc443800c4150548c282a (Apache-2.0), per-client\n")
    out.write("# rate statistics aggregated per model (servegen_alibaba_rate_10min_by_model.csv).\n")
    out.write("# Derived by scripts/derive_diurnal_shape.py: mean over "
              + ", ".join(f"{m} {len(days[m])} days ({zeros[m]} zero-rate windows left out as missing)" for m in MODELS)
              + ".\n")
    out.write("# Time of day: window_start_s mod 86400 of the ServeGen series (its clock zone is not stated).\n")
    out.write("window_start_s,window_len_s," + ",".join(MODELS) + "\n")
    for w in range(WINDOWS_PER_DAY):
        out.write(f"{w * WINDOW_S},{WINDOW_S}," + ",".join(f"{shape[m][w]:.6f}" for m in MODELS) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
