#!/usr/bin/env python3
"""Markdown tables for benchmarks/RESULTS.md from Google Benchmark JSON (--benchmark_out=FILE.json).

Usage: results_table.py route route.json      # route/<policy>/<devices>/<classes>
       results_table.py queue queue.json      # queue/<kind>/<queue>/<op>/<depth>

With --benchmark_repetitions=N, each figure is the median over the N repetitions (Google Benchmark's "median"
aggregate, of the time and of every counter); without repetitions, the single run. Times: cpu_time is the
mean CPU time per iteration (one routing decision, or one queue pair), real_time the wall-clock mean.
"""
import json
import sys
from collections import OrderedDict


def runs(path):
    with open(path) as f:
        data = json.load(f)
    out = OrderedDict()
    has_aggregates = any(b.get("run_type") == "aggregate" for b in data["benchmarks"])
    for b in data["benchmarks"]:
        if "error_occurred" in b and b["error_occurred"]:
            out[b.get("run_name", b["name"])] = {"error": b.get("error_message", "error")}
            continue
        if has_aggregates:
            if b.get("run_type") == "aggregate" and b.get("aggregate_name") == "median":
                out[b["run_name"]] = b
        else:
            out[b["name"]] = b
    return data["context"], out


def fmt_ns(x):
    if x is None:
        return "-"
    if x >= 100_000:
        return f"{x / 1000:,.0f} us"
    if x >= 10_000:
        return f"{x / 1000:,.1f} us"
    if x >= 100:
        return f"{x:,.0f}"
    return f"{x:.1f}"


def route(path):
    ctx, rs = runs(path)
    by_size = OrderedDict()
    floors = OrderedDict()
    for name, b in rs.items():
        if name.startswith("harness/floor/"):
            floors[name] = b
            continue
        _, policy, n, c = name.split("/")[:4]
        by_size.setdefault((int(n), int(c)), OrderedDict())[policy] = b
    print(f"<!-- {ctx.get('date')} host={ctx.get('host_name')} cpus={ctx.get('num_cpus')} "
          f"mhz={ctx.get('mhz_per_cpu')} load={ctx.get('load_avg')} -->")
    for (n, c), pol in sorted(by_size.items()):
        print(f"\n**{n:,} devices, {c} classes**\n")
        print("| policy | mean CPU ns | p50 ns | p99 ns | p99.9 ns | outliers | batch | samples | allocs/decision |"
              " late | penalty moved |")
        print("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
        for p, b in pol.items():
            if "error" in b:
                print(f"| {p} | ERROR: {b['error']} |||||||||")
                continue
            print(f"| {p} | {fmt_ns(b['cpu_time'])} | {fmt_ns(b['p50_ns'])} | {fmt_ns(b['p99_ns'])} | "
                  f"{fmt_ns(b['p999_ns'])} | {b['outlier_share'] * 100:.2f}% | {b['batch']:.0f} | "
                  f"{b['samples']:,.0f} | {b['allocs_per_decision']:g} | {b['late_share'] * 100:.1f}% | "
                  f"{b['penalty_share'] * 100:.1f}% |")
    if floors:
        print("\n**harness floor** (a memory-free computation timed like the routers)\n")
        print("| benchmark | p50 ns | p99 ns | p99.9 ns | outliers | batch | samples |")
        print("|---|---:|---:|---:|---:|---:|---:|")
        for name, b in floors.items():
            print(f"| {name} | {fmt_ns(b['p50_ns'])} | {fmt_ns(b['p99_ns'])} | {fmt_ns(b['p999_ns'])} | "
                  f"{b['outlier_share'] * 100:.2f}% | {b['batch']:.0f} | {b['samples']:,.0f} |")
    print("\n**energy vs naive_scan** (speed-up = naive_scan / energy)\n")
    print("| devices | classes | naive p50 | energy p50 | speed-up (p50) | naive mean CPU | energy mean CPU |"
          " speed-up (mean CPU) |")
    print("|---:|---:|---:|---:|---:|---:|---:|---:|")
    for (n, c), pol in sorted(by_size.items()):
        e, nv = pol.get("energy"), pol.get("naive_scan")
        if not e or not nv or "error" in e or "error" in nv:
            continue
        print(f"| {n:,} | {c} | {fmt_ns(nv['p50_ns'])} | {fmt_ns(e['p50_ns'])} | {nv['p50_ns'] / e['p50_ns']:,.1f}x | "
              f"{fmt_ns(nv['cpu_time'])} | {fmt_ns(e['cpu_time'])} | {nv['cpu_time'] / e['cpu_time']:,.1f}x |")


def queue(path):
    ctx, rs = runs(path)
    rows = OrderedDict()
    for name, b in rs.items():
        _, kind, q, op, depth = name.split("/")[:5]
        rows.setdefault((kind, op, int(depth)), OrderedDict())[q] = b
    print(f"<!-- {ctx.get('date')} host={ctx.get('host_name')} load={ctx.get('load_avg')} -->")
    queues = ["std_pq", "boost_dary_immutable", "boost_dary", "intrusive"]
    print("\nns per operation (mean CPU time per pair / 2; in brackets p50 / p99 of per-pair batch means, ns per"
          " pair; allocations per push)\n")
    print("| key | op | depth | " + " | ".join(queues) + " |")
    print("|---|---|---:|" + "---:|" * len(queues))
    for (kind, op, depth), qs in sorted(rows.items(), key=lambda kv: (kv[0][0], kv[0][1], kv[0][2])):
        cells = []
        for q in queues:
            b = qs.get(q)
            if b is None:
                cells.append("n/a")
            elif "error" in b:
                cells.append("ERROR")
            else:
                cells.append(f"{b['cpu_time'] / 2:.1f} ({b['p50_ns']:.0f} / {b['p99_ns']:.0f}; "
                             f"{b['allocs_per_push']:g})")
        print(f"| {kind} | {op} | {depth:,} | " + " | ".join(cells) + " |")


if __name__ == "__main__":
    {"route": route, "queue": queue}[sys.argv[1]](sys.argv[2])
