#!/usr/bin/env python3
"""Draws joulesched-sim's JSON output: energy against P99 latency per policy, and lambda over time for the
policies that tune it (energy_pi, tiered), into one PNG.

    bash scripts/simulate.sh --format json > results.json
    python3 scripts/plot_results.py results.json            # writes results.png beside it
    python3 scripts/plot_results.py results.json -o plot.png

Python 3 standard library only; the drawing is done by gnuplot (Debian package gnuplot-nox, installed by
scripts/install-deps.sh), fed through a pipe.
"""
import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("results", help="JSON written by joulesched-sim --format json")
    ap.add_argument("-o", "--output", help="PNG to write (default: the results file with .png)")
    args = ap.parse_args()

    with open(args.results, encoding="utf-8") as f:
        res = json.load(f)
    policies = res.get("policies")
    if not isinstance(policies, list) or not policies:
        print(f"plot_results: {args.results}: no 'policies' array", file=sys.stderr)
        return 2
    for p in policies:
        for key in ("name", "energy_mj_per_h", "p99_ms"):
            if key not in p:
                print(f"plot_results: {args.results}: a policy lacks '{key}'", file=sys.stderr)
                return 2
    out = args.output or os.path.splitext(args.results)[0] + ".png"
    if shutil.which("gnuplot") is None:
        print("plot_results: gnuplot not found (apt-get install gnuplot-nox, or bash scripts/install-deps.sh)",
              file=sys.stderr)
        return 2

    tuned = [p for p in policies if p.get("lambda_trace", {}).get("rows")]
    with tempfile.TemporaryDirectory() as tmp:
        points = os.path.join(tmp, "points.dat")
        with open(points, "w", encoding="utf-8") as f:
            for p in policies:  # one block per policy (gnuplot "index i")
                f.write(f'{p["p99_ms"] / 1e3:.9g} {p["energy_mj_per_h"]:.9g}\n\n\n')
        lambda_files = []
        for i, p in enumerate(tuned):
            path = os.path.join(tmp, f"lambda{i}.dat")
            with open(path, "w", encoding="utf-8") as f:
                for t, lam, miss in p["lambda_trace"]["rows"]:
                    f.write(f"{t:.9g} {lam:.9g} {100 * miss:.9g}\n")
            lambda_files.append((p["name"], path))

        load = res.get("load", {})
        fleet = res.get("fleet", {})
        title = (f'{fleet.get("devices", "?")} GPUs ({fleet.get("summary", "")}), '
                 f'utilisation {load.get("utilisation", float("nan")):.2f}, window {load.get("window_s", 0):.0f} s')
        title = title.replace('"', "'")
        panels = 2 if lambda_files else 1
        point_plots = []
        for i, p in enumerate(policies):
            label = f'{p["name"]} ({100 * p.get("slo_violation_rate", 0):.2f}% SLO violations)'
            point_plots.append(f'"{points}" index {i} using 1:2 with points pt {4 + 2 * (i % 5)} ps 2 lw 2 '
                               f'title "{label}"')
        script = [
            f'set terminal pngcairo size 1000,{420 * panels} font "sans,10" noenhanced',
            f'set output "{out}"',
            f"set multiplot layout {panels},1 title \"joulesched-sim: {title}\"",
            'set title "Energy against P99 end-to-end latency, one point per policy"',
            'set xlabel "P99 end-to-end latency (s, log scale)"',
            'set ylabel "energy in the measurement window (MJ/h)"',
            "set logscale x",
            "set grid",
            "set key outside right top vertical",
            "set offsets graph 0.1, graph 0.1, graph 0.1, graph 0.1",
            "plot " + ", ".join(point_plots),
        ]
        if lambda_files:
            script += [
                "unset logscale x",
                "set offsets 0, 0, 0, 0",
                "set key inside right top",
                "set y2range [0:*]",
                "set yrange [0:*]",
                'set title "lambda over time (PI-tuned policies); dashed: measured miss rate"',
                'set xlabel "simulated time (s)"',
                'set ylabel "lambda (J/s)"',
                'set y2label "miss rate (%)"',
                "set ytics nomirror",
                "set y2tics",
            ]
            plots = []
            colors = ["#d62728", "#2ca02c", "#9467bd", "#ff7f0e"]
            for i, (name, path) in enumerate(lambda_files):
                c = colors[i % len(colors)]
                plots.append(f'"{path}" using 1:2 with lines lw 2 lc rgb "{c}" title "{name} lambda"')
                plots.append(f'"{path}" using 1:3 axes x1y2 with lines dt 2 lc rgb "{c}" title "{name} miss rate"')
            script.append("plot " + ", ".join(plots))
        script.append("unset multiplot")
        proc = subprocess.run(["gnuplot"], input="\n".join(script) + "\n", text=True, capture_output=True)
        if proc.returncode != 0:
            print(f"plot_results: gnuplot failed:\n{proc.stderr}", file=sys.stderr)
            return 1
    print(f"plot_results: wrote {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
