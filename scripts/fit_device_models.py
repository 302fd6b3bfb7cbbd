#!/usr/bin/env python3
"""Fit joulesched's device models (include/joulesched/sim/device_model.hpp) to real measurements.

Reads the raw public data (ML.ENERGY v2 and v1, Splitwise, the mlco2 GPU spec table, the Azure 2023
conversation trace), fits, and writes:
  data/measurements/mlenergy_v2_llama31_8b.csv   the ML.ENERGY v2 rows fitted to (original lines, unchanged)
  data/devices/{A100-SXM4-40GB,H100-SXM5-80GB,L4}.csv   parameter,value,unit,source
  data/profiles/{same}.csv                        batch_size,seq_len_tok,energy_j_per_tok,rate_tok_s
  data/traces/azure_conv_2023_excerpt.csv         first 10,000 requests of the trace (bytes unchanged)

Python 3 standard library only; deterministic: running it again reproduces the files byte for byte.

    python3 scripts/fit_device_models.py [--raw ../shared/data] [--out .]

(--raw defaults to ../shared/data relative to the repository root, --out to the repository root.)
This script is the only thing that reads the raw files; the library and its tests read only data/.
See data/README.md for the model, every assumption and its reasoning.
"""

import argparse
import csv
import io
import math
import os
import statistics

# ---------------------------------------------------------------------------------------------------------------
# Constants. Each one says where it comes from. "spec" = vendor datasheet value that is not in the data files.
# ---------------------------------------------------------------------------------------------------------------
SERVING_MODEL = "Llama-3.1-8B-Instruct"
MLENERGY_MODEL = "meta-llama/Meta-Llama-3.1-8B-Instruct"

# Llama-3.1-8B architecture (Meta model card / config.json): 32 layers, 8 KV heads, head dim 128, 8.03e9 params.
KV_BYTES_PER_TOK = 2 * 32 * 8 * 128 * 2  # K and V, 32 layers, 8 KV heads, 128 dims, bf16 = 131072 B (128 KiB)
WEIGHT_BYTES = 8.03e9 * 2  # bf16 weights, bytes

# Llama-2-70B (Splitwise's model): 80 layers, 8 KV heads, head dim 128, ~69e9 params (Meta model card).
L70_KV_BYTES_PER_TOK = 2 * 80 * 8 * 128 * 2
L70_WEIGHT_BYTES = 69e9 * 2

# Memory bandwidth, GB/s (spec: NVIDIA A100, H100 and L4 datasheets; not in the data files).
BW_GBS = {"A100-SXM4-40GB": 1555.0, "A100-SXM4-80GB": 2039.0, "H100-SXM5-80GB": 3350.0, "L4": 300.0}
# Dense FP16 tensor-core TFLOPS (spec: NVIDIA datasheets; A100's 312 also appears in gpu_specs_tdp_mlco2.csv).
# The mlco2 table's L4 "TFLOPS16" of 31.33 is the non-tensor FP32 rate and is not used.
FP16_TFLOPS = {"A100-SXM4-40GB": 312.0, "L4": 121.0}
A40_TDP_W = 300.0  # spec: NVIDIA A40 datasheet (no A40 row in gpu_specs_tdp_mlco2.csv)

# Memory sizes, GB (memory column of gpu_specs_tdp_mlco2.csv where present: A100 40, H100 SXM 80, L4 24).
# Taken as decimal GB (1e9 B): slightly less than nvidia-smi's totals for A100/H100, about equal for L4.
MEM_GB = {"A100-SXM4-40GB": 40.0, "H100-SXM5-80GB": 80.0, "L4": 24.0}
GPU_MEM_UTIL = 0.90  # vLLM's default gpu_memory_utilization (ML.ENERGY v2 ran vLLM v0.4.2)
RESERVE_BYTES = 2 * 2**30  # assumption: activations, CUDA graphs, allocator slack outside the KV cache

# ML.ENERGY v2 chat workload (benchmark/llm_text_generation/chat/sharegpt/ShareGPT_V3_filtered_500.json in
# ml-energy/leaderboard): first human turns of ShareGPT, prompt <= 800 tokens. Not tokenised here. The file holds
# 216,075 characters for 500 prompts, ~360 characters of prompt text per request after JSON overhead, i.e.
# ~90 tokens at ~4 characters per token, plus ~30 tokens of Llama-3.1 chat template.
MLENERGY_MEAN_INPUT_TOK = 120  # assumption (see above); uncertain by about +-50%

# Idle power, W. No file measures it. Assumption from nvidia-smi readings of idle cards (0% utilisation, P0)
# in public READMEs and issue threads found by text search: A100-SXM4 46-68 W, H100 80GB HBM3 69-117 W (the
# upper end with a serving process holding memory), L4 12-19 W (P8) and 27-29 W (P0). A serving process keeps
# the card in P0 with its memory allocated, so the values are taken near the upper end, rounded.
IDLE_W = {"A100-SXM4-40GB": 60.0, "H100-SXM5-80GB": 100.0, "L4": 25.0}

PROFILE_SEQ_LEN_TOK = [128, 256, 512, 1024, 2048, 4096]

GPU_V2_NAME = {"A100-SXM4-40GB": "NVIDIA A100-SXM4-40GB", "H100-SXM5-80GB": "NVIDIA H100 80GB HBM3"}
TDP_ROW = {"A100-SXM4-40GB": "A100 SXM4 80 GB", "H100-SXM5-80GB": "H100 SXM", "L4": "L4"}


def fmt(x):
    """Six significant digits, the same text on every platform."""
    if isinstance(x, int):
        return str(x)
    return format(x, ".6g")


def wls_line(xs, ys):
    """Least squares y = a + b x minimising the sum of squared RELATIVE errors ((fit - y) / y)^2."""
    ws = [1.0 / (y * y) for y in ys]
    sw = sum(ws)
    mx = sum(w * x for w, x in zip(ws, xs)) / sw
    my = sum(w * y for w, y in zip(ws, ys)) / sw
    sxx = sum(w * (x - mx) ** 2 for w, x in zip(ws, xs))
    sxy = sum(w * (x - mx) * (y - my) for w, x, y in zip(ws, xs, ys))
    b = sxy / sxx
    return my - b * mx, b


def wls_two(x1, x2, ys, scale):
    """Least squares y = a*x1 + b*x2 (no intercept) minimising sum(((fit - y) / scale)^2)."""
    ws = [1.0 / (c * c) for c in scale]
    s11 = sum(w * u * u for w, u in zip(ws, x1))
    s22 = sum(w * v * v for w, v in zip(ws, x2))
    s12 = sum(w * u * v for w, u, v in zip(ws, x1, x2))
    s1y = sum(w * u * y for w, u, y in zip(ws, x1, ys))
    s2y = sum(w * v * y for w, v, y in zip(ws, x2, ys))
    det = s11 * s22 - s12 * s12
    return (s1y * s22 - s2y * s12) / det, (s2y * s11 - s1y * s12) / det


def ols_line(xs, ys):
    mx = sum(xs) / len(xs)
    my = sum(ys) / len(ys)
    sxx = sum((x - mx) ** 2 for x in xs)
    sxy = sum((x - mx) * (y - my) for x, y in zip(xs, ys))
    b = sxy / sxx
    return my - b * mx, b


def read_rows(path):
    with open(path, newline="", encoding="utf-8") as f:
        return list(csv.DictReader(f))


# ---------------------------------------------------------------------------------------------------------------
# Inputs
# ---------------------------------------------------------------------------------------------------------------
def excerpt_mlenergy_v2(raw, out):
    """Copies the header and the Llama-3.1-8B tp=1 A100/H100 lines unchanged; returns them parsed."""
    src = os.path.join(raw, "energy", "mlenergy_v2_llm_energy_A100_H100.csv")
    with open(src, newline="", encoding="utf-8") as f:
        lines = f.read().splitlines(keepends=True)
    header = next(csv.reader([lines[0]]))
    kept = [lines[0]]
    for line in lines[1:]:
        row = dict(zip(header, next(csv.reader([line]))))
        if row["model"] == MLENERGY_MODEL and row["tp"] == "1" and row["gpu"] in GPU_V2_NAME.values():
            kept.append(line)
    dst = os.path.join(out, "data", "measurements", "mlenergy_v2_llama31_8b.csv")
    os.makedirs(os.path.dirname(dst), exist_ok=True)
    with open(dst, "w", newline="", encoding="utf-8") as f:
        f.write("".join(kept))
    return list(csv.DictReader(io.StringIO("".join(kept))))


def excerpt_trace(raw, out, n=10000):
    src = os.path.join(raw, "traces", "azure_llm_2023_conv.csv")
    with open(src, "rb") as f:
        lines = f.read().splitlines(keepends=True)
    dst = os.path.join(out, "data", "traces", "azure_conv_2023_excerpt.csv")
    os.makedirs(os.path.dirname(dst), exist_ok=True)
    with open(dst, "wb") as f:
        f.write(b"".join(lines[: n + 1]))


def tdp_table(raw):
    rows = read_rows(os.path.join(raw, "energy", "gpu_specs_tdp_mlco2.csv"))
    by_name = {r["name"].strip(): r for r in rows}
    return {gpu: float(by_name[name]["tdp_watts"]) for gpu, name in TDP_ROW.items()}


def splitwise_fits(raw):
    """From Splitwise llama2-70b (batch 1): prefill time vs prompt, and the context term of a decode step."""
    rows = read_rows(os.path.join(raw, "energy", "splitwise_perf_power_model_A100_H100.csv"))
    l70 = [r for r in rows if r["model"] == "llama2-70b" and r["batch_size"] == "1" and r["token_size"] == "128"]
    out = {"prefill": {}, "ctx_k": []}
    for hw in ("a100-80gb", "h100-80gb"):
        for tp in ("2", "4", "8"):
            sel = [r for r in l70 if r["hardware"] == hw and r["tensor_parallel"] == tp]
            # Decode: token_time (ms per iteration) vs mean context (prompt + half of the 128 generated tokens).
            a, k = ols_line([int(r["prompt_size"]) + 64 for r in sel], [float(r["token_time"]) for r in sel])
            # k_ratio: how much a context token costs relative to its byte share of a weight read.
            bytes_ratio = (L70_KV_BYTES_PER_TOK / int(tp)) / (L70_WEIGHT_BYTES / int(tp))
            out["ctx_k"].append(((hw, tp), (k / a) / bytes_ratio))
            if tp == "2":
                # Prefill: prompt_time (ms) vs prompt tokens, TP=2 (the most work per GPU). Only the slope is used.
                pa, pk = ols_line([int(r["prompt_size"]) for r in sel], [float(r["prompt_time"]) for r in sel])
                out["prefill"][hw] = (pa * 1e-3, pk * 1e-3)
    out["ctx_k_median"] = statistics.median(v for _, v in out["ctx_k"])
    return out


def a40_power_fraction(raw):
    """ML.ENERGY v1: median over models/tasks of A40 average power / A40 TDP, and A40/A100 ratios."""
    rows = read_rows(os.path.join(raw, "energy", "mlenergy_v1_2023_llm_energy_A100_A40_V100.csv"))
    d = {(r["gpu"], r["task"], r["model"]): r for r in rows}
    frac, thr, pw = [], [], []
    for (g, t, m), r in sorted(d.items()):
        if g != "A40" or ("A100", t, m) not in d:
            continue
        a = d[("A100", t, m)]
        p40 = float(r["energy_per_token_J"]) * float(r["throughput_tok_s"])
        p100 = float(a["energy_per_token_J"]) * float(a["throughput_tok_s"])
        frac.append(p40 / A40_TDP_W)
        thr.append(float(r["throughput_tok_s"]) / float(a["throughput_tok_s"]))
        pw.append(p40 / p100)
    # Rounded to two digits: the spread over models is wide (see data/README.md); more digits would be invented.
    return {"n": len(frac), "power_frac": round(statistics.median(frac), 2), "thr_ratio": statistics.median(thr),
            "power_ratio": statistics.median(pw)}


# ---------------------------------------------------------------------------------------------------------------
# Model
# ---------------------------------------------------------------------------------------------------------------
def kv_capacity_tok(gpu):
    return int((MEM_GB[gpu] * 1e9 * GPU_MEM_UTIL - WEIGHT_BYTES - RESERVE_BYTES) // KV_BYTES_PER_TOK)


def prefill_s(m, n):
    return m["prefill_base_s"] + m["prefill_per_tok_s"] * n


def step_s(m, b, mean_ctx):
    return m["decode_step_base_s"] + m["decode_step_per_seq_s"] * b + m["decode_step_per_ctx_tok_s"] * b * mean_ctx


def power_w(m, b):
    return min(m["tdp_w"], m["busy_power_base_w"] + m["busy_power_per_seq_w"] * b)


def workload_s_per_tok(m, b, mean_input, mean_output):
    """Seconds per output token in a steady continuous-batching run (the way ML.ENERGY measures): decode steps
    with b running, plus each request's prefill spread over its output tokens."""
    mean_ctx = mean_input + mean_output / 2.0
    return step_s(m, b, mean_ctx) / b + prefill_s(m, mean_input) / mean_output


def fit_measured_gpu(gpu, rows, tdp_w, sw):
    """A100/H100: time and power terms fitted to the ML.ENERGY v2 rows of this GPU."""
    rows = sorted((r for r in rows if r["gpu"] == GPU_V2_NAME[gpu]), key=lambda r: int(r["max_batch_size"]))
    b = [float(r["avg_batch_size"]) for r in rows]
    thr = [float(r["token_throughput_tok_s"]) for r in rows]
    e = [float(r["energy_per_output_token_J"]) for r in rows]
    out_tok = [float(r["avg_output_tokens"]) for r in rows]

    m = {"gpu": gpu, "tdp_w": tdp_w}
    # Prefill per token: Splitwise llama2-70b TP2 slope, scaled to 8B by FLOPs per GPU (8B weights / (70B
    # weights / 2)); prefill is compute-bound and Splitwise's A100-80GB has the same compute as the 40GB card.
    hw = "a100-80gb" if gpu.startswith("A100") else "h100-80gb"
    m["prefill_per_tok_s"] = sw["prefill"][hw][1] * WEIGHT_BYTES / (L70_WEIGHT_BYTES / 2)

    # Decode: ML.ENERGY's token_throughput_tok_s counts every output token over the whole run, prefills
    # included; avg_tpot_s is a per-request mean (it includes stalls behind other requests' prefills) and is
    # not used. So b/throughput is the time per iteration with b running plus the prefills spread over it:
    #   b/thr = base + s_eff*b + b*(prefill_base + prefill_per_tok*n)/L,   prefill_base = base (assumption:
    # a prefill pass reads the weights once, as a decode step does; each request is prefilled on its own).
    # So  b/thr - b*prefill_per_tok*n/L = base*(1 + b/L) + s_eff*b : two regressors, no intercept,
    # relative least squares.
    n = MLENERGY_MEAN_INPUT_TOK
    lhs = [bi / ti - bi * m["prefill_per_tok_s"] * n / li for bi, ti, li in zip(b, thr, out_tok)]
    x1 = [1.0 + bi / li for bi, li in zip(b, out_tok)]
    base, s_eff = wls_two(x1, b, lhs, [bi / ti for bi, ti in zip(b, thr)])
    m["decode_step_base_s"] = base
    m["prefill_base_s"] = base
    # Context term: a context token costs k times its byte share of the weight read (k from Splitwise), so
    # per_ctx = k * (KV bytes per token / weight bytes) * base. The rest of s_eff is per-request work.
    m["decode_step_per_ctx_tok_s"] = sw["ctx_k_median"] * (KV_BYTES_PER_TOK / WEIGHT_BYTES) * base
    mean_ctx = [n + li / 2.0 for li in out_tok]
    m["decode_step_per_seq_s"] = s_eff - m["decode_step_per_ctx_tok_s"] * statistics.fmean(mean_ctx)

    # Power: measured average power = energy per token * throughput, fitted linear in b (relative least squares).
    p = [ei * ti for ei, ti in zip(e, thr)]
    m["busy_power_base_w"], m["busy_power_per_seq_w"] = wls_line(b, p)
    m["idle_power_w"] = IDLE_W[gpu]
    m["max_batch"] = max(int(r["max_batch_size"]) for r in rows)
    m["kv_capacity_tok"] = kv_capacity_tok(gpu)
    fit = {"b": b, "thr": thr, "e": e, "p": p, "out_tok": out_tok, "s_eff": s_eff, "rows": rows}
    return m, fit


def derive_l4(a100, tdp_w, v1, mean_ctx_tok):
    """L4: no serving measurement exists. Scaled from the fitted A100-SXM4-40GB model."""
    bw = BW_GBS["L4"] / BW_GBS["A100-SXM4-40GB"]
    fl = FP16_TFLOPS["L4"] / FP16_TFLOPS["A100-SXM4-40GB"]
    m = {"gpu": "L4", "tdp_w": tdp_w}
    # Memory-bound parts (weight read, KV read) scale with bandwidth; compute-bound parts (per-request GEMM
    # work, prefill per token) with dense FP16 tensor throughput.
    m["decode_step_base_s"] = a100["decode_step_base_s"] / bw
    m["decode_step_per_ctx_tok_s"] = a100["decode_step_per_ctx_tok_s"] / bw
    m["decode_step_per_seq_s"] = a100["decode_step_per_seq_s"] / fl
    m["prefill_base_s"] = a100["prefill_base_s"] / bw
    m["prefill_per_tok_s"] = a100["prefill_per_tok_s"] / fl
    # Power: a lower-tier card runs closer to its limit. ML.ENERGY v1 measured A40 at a median fraction of its
    # TDP; take the same fraction of the L4's 72 W, flat in batch size (A100 power is near flat in b too).
    m["busy_power_base_w"] = v1["power_frac"] * tdp_w
    m["busy_power_per_seq_w"] = 0.0
    m["idle_power_w"] = IDLE_W["L4"]
    m["kv_capacity_tok"] = kv_capacity_tok("L4")
    # Batch limit: the KV cache holds this many requests of ML.ENERGY's mean context (input + output/2).
    m["max_batch"] = int(m["kv_capacity_tok"] // mean_ctx_tok)
    return m


# ---------------------------------------------------------------------------------------------------------------
# Output
# ---------------------------------------------------------------------------------------------------------------
def csv_line(fields):
    buf = io.StringIO()
    csv.writer(buf, lineterminator="\n").writerow(fields)
    return buf.getvalue()


def write_device(out, m, sources):
    units = {"gpu": "", "serving_model": "", "tdp_w": "W", "idle_power_w": "W", "busy_power_base_w": "W",
             "busy_power_per_seq_w": "W/request", "decode_step_base_s": "s", "decode_step_per_seq_s": "s/request",
             "decode_step_per_ctx_tok_s": "s/token", "prefill_base_s": "s", "prefill_per_tok_s": "s/token",
             "max_batch": "requests", "kv_capacity_tok": "tokens"}
    text = "# Device model: " + m["gpu"] + " serving " + SERVING_MODEL + \
        ". Generated by scripts/fit_device_models.py; see data/README.md.\n"
    text += "parameter,value,unit,source\n"
    for name in units:
        text += csv_line([name, fmt(m[name]) if name in m and not isinstance(m[name], str) else m[name],
                          units[name], sources[name]])
    path = os.path.join(out, "data", "devices", m["gpu"] + ".csv")
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w", newline="", encoding="utf-8") as f:
        f.write(text)


def rounded(m):
    """The model exactly as the C++ loader will see it (values rounded to the written 6 digits)."""
    return {k: (float(fmt(v)) if isinstance(v, float) else v) for k, v in m.items()}


def write_profile(out, m):
    m = rounded(m)
    batches = []
    b = 1
    while b < m["max_batch"]:
        batches.append(b)
        b *= 2
    batches.append(m["max_batch"])
    text = "# name: " + m["gpu"] + "/" + SERVING_MODEL + "\n"
    text += "batch_size,seq_len_tok,energy_j_per_tok,rate_tok_s\n"
    for b in batches:
        for c in PROFILE_SEQ_LEN_TOK:
            s = step_s(m, b, c)
            text += csv_line([b, c, fmt(power_w(m, b) * s / b), fmt(b / s)])
    path = os.path.join(out, "data", "profiles", m["gpu"] + ".csv")
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w", newline="", encoding="utf-8") as f:
        f.write(text)


def report(gpu, m, fit):
    m = rounded(m)
    print(f"{gpu}: fit vs ML.ENERGY v2 (batch = round(avg_batch_size), mean input {MLENERGY_MEAN_INPUT_TOK} tok)")
    worst_e = worst_t = 0.0
    for bi, ti, ei, li in zip(fit["b"], fit["thr"], fit["e"], fit["out_tok"]):
        b = round(bi)
        spt = workload_s_per_tok(m, b, MLENERGY_MEAN_INPUT_TOK, li)
        t_model, e_model = 1.0 / spt, power_w(m, b) * spt
        et, ee = t_model / ti - 1.0, e_model / ei - 1.0
        worst_e, worst_t = max(worst_e, abs(ee)), max(worst_t, abs(et))
        print(f"  b={b:5d}  thr {ti:8.1f} model {t_model:8.1f} ({et:+.1%})   J/tok {ei:.4f} model {e_model:.4f} "
              f"({ee:+.1%})")
    print(f"  worst relative error: energy/token {worst_e:.1%}, throughput {worst_t:.1%}")


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    repo = os.path.dirname(here)
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--raw", default=os.path.join(repo, "..", "shared", "data"), help="raw data folder")
    ap.add_argument("--out", default=repo, help="repository root to write data/ under")
    args = ap.parse_args()

    rows = excerpt_mlenergy_v2(args.raw, args.out)
    excerpt_trace(args.raw, args.out)
    tdp = tdp_table(args.raw)
    sw = splitwise_fits(args.raw)
    v1 = a40_power_fraction(args.raw)
    print("Splitwise context-cost ratio k per (hardware, TP):",
          ", ".join(f"{h}/tp{t}={k:.2f}" for (h, t), k in sw["ctx_k"]), f"-> median {sw['ctx_k_median']:.2f}")
    print(f"ML.ENERGY v1 A40 vs A100 over {v1['n']} model/task pairs: A40 power/TDP median {v1['power_frac']:.3f}, "
          f"throughput ratio median {v1['thr_ratio']:.3f}, power ratio median {v1['power_ratio']:.3f}")

    k = fmt(sw["ctx_k_median"])
    inp = MLENERGY_MEAN_INPUT_TOK
    models = {}
    for gpu in ("A100-SXM4-40GB", "H100-SXM5-80GB"):
        m, fit = fit_measured_gpu(gpu, rows, tdp[gpu], sw)
        m["serving_model"] = SERVING_MODEL
        models[gpu] = m
        hw = "a100-80gb" if gpu.startswith("A100") else "h100-80gb"
        src = {
            "gpu": "ML.ENERGY v2 gpu '" + GPU_V2_NAME[gpu] + "'",
            "serving_model": "ML.ENERGY v2 model " + MLENERGY_MODEL + ", tp=1, vLLM v0.4.2, bf16",
            "tdp_w": "gpu_specs_tdp_mlco2.csv row '" + TDP_ROW[gpu] + "' tdp_watts" +
                     (" (the 40GB SXM4 card has the same 400 W limit per the NVIDIA A100 datasheet)"
                      if gpu.startswith("A100") else ""),
            "idle_power_w": "assumption: not measured in any file; nvidia-smi readings of idle cards (0% util, P0) "
                            "in public READMEs: " + ("A100-SXM4 46-68 W" if gpu.startswith("A100") else
                                                    "H100 80GB HBM3 69-117 W (117 W with memory allocated)") +
                            "; a serving process keeps P0, so near the upper end, rounded; +-20 W",
            "busy_power_base_w": "fit: mlenergy_v2_llama31_8b.csv energy_per_output_token_J x token_throughput_tok_s "
                                 "(average power) linear in avg_batch_size, relative least squares; intercept",
            "busy_power_per_seq_w": f"same fit, slope (measured average power {min(fit['p']):.0f}-{max(fit['p']):.0f} W "
                                    f"over avg_batch_size {min(fit['b']):.0f}-{max(fit['b']):.0f}; a negative slope "
                                    "means power falls slightly as throughput saturates)",
            "decode_step_base_s": "fit: avg_batch_size/token_throughput_tok_s = base + s*b + b*prefill_s(" + str(inp) +
                                  ")/avg_output_tokens over the rows of mlenergy_v2_llama31_8b.csv, b = "
                                  "avg_batch_size, relative least squares; base",
            "decode_step_per_seq_s": "same fit: s minus decode_step_per_ctx_tok_s x mean context (" + str(inp) +
                                     " input tokens (assumption) + avg_output_tokens/2)",
            "decode_step_per_ctx_tok_s": "k x (KV 131072 B/tok / weights 16.06e9 B) x decode_step_base_s; k=" + k +
                                         " = median over Splitwise llama2-70b A100/H100 TP2/4/8 of "
                                         "(token_time slope per context token / intercept) / (KV bytes / weight bytes)",
            "prefill_base_s": "assumption: = decode_step_base_s (a prefill pass reads the weights once, as a decode "
                              "step does); fitted jointly with it, each request prefilled on its own. Splitwise's "
                              "prompt_time intercept is not used: it is poorly determined and includes TP=2 traffic",
            "prefill_per_tok_s": "Splitwise llama2-70b " + hw + " TP2 batch 1: prompt_time vs prompt_size slope x "
                                 "8B/70B FLOPs per GPU (16.06e9/69e9)",
            "max_batch": "largest max_batch_size measured in ML.ENERGY v2 for this GPU (no data beyond)",
            "kv_capacity_tok": f"({fmt(MEM_GB[gpu])}e9 B x {GPU_MEM_UTIL} vLLM gpu_memory_utilization - 16.06e9 B "
                               "weights - 2 GiB activations/CUDA graphs (assumption)) / 131072 B per token",
        }
        write_device(args.out, m, src)
        write_profile(args.out, m)
        report(gpu, m, fit)

    a100 = models["A100-SXM4-40GB"]
    a100_rows = [r for r in rows if r["gpu"] == GPU_V2_NAME["A100-SXM4-40GB"]]
    mean_out = statistics.fmean(float(r["avg_output_tokens"]) for r in a100_rows)
    mean_ctx = round(inp + mean_out / 2)
    a100_p = [float(r["energy_per_output_token_J"]) * float(r["token_throughput_tok_s"]) for r in a100_rows]
    flat = (max(a100_p) - min(a100_p)) / 2 / statistics.fmean(a100_p)
    l4 = derive_l4(a100, tdp["L4"], v1, mean_ctx)
    l4["serving_model"] = SERVING_MODEL
    bwr = f"{fmt(BW_GBS['L4'])}/{fmt(BW_GBS['A100-SXM4-40GB'])} GB/s (spec)"
    flr = f"{fmt(FP16_TFLOPS['L4'])}/{fmt(FP16_TFLOPS['A100-SXM4-40GB'])} dense FP16 tensor TFLOPS (spec)"
    l4src = {
        "gpu": "NVIDIA L4 (24 GB GDDR6); no serving measurement exists: derived from the A100-SXM4-40GB model",
        "serving_model": "assumption: same model and stack as the A100/H100 fits (vLLM, bf16, tp=1)",
        "tdp_w": "gpu_specs_tdp_mlco2.csv row 'L4' tdp_watts",
        "idle_power_w": "assumption: not measured; nvidia-smi readings of idle L4 cards in public READMEs: "
                        "12-19 W (P8), 27-29 W (P0); a serving process keeps P0; rounded; +-10 W",
        "busy_power_base_w": f"assumption: {fmt(v1['power_frac'])} x TDP; {fmt(v1['power_frac'])} = median A40 "
                             f"average power / 300 W TDP (spec) over {v1['n']} ML.ENERGY v1 model/task pairs: "
                             "a bandwidth-starved card runs near its limit (A100 in v2 runs at ~half of TDP)",
        "busy_power_per_seq_w": f"assumption: 0, flat in batch (A100's measured power is flat within "
                                f"+-{flat:.0%} from batch 32 to 320)",
        "decode_step_base_s": "A100 decode_step_base_s x " + bwr + " (weight read, memory-bound)",
        "decode_step_per_seq_s": "A100 decode_step_per_seq_s x " + flr + " (per-request compute)",
        "decode_step_per_ctx_tok_s": "A100 decode_step_per_ctx_tok_s x " + bwr + " (KV read, memory-bound)",
        "prefill_base_s": "= decode_step_base_s, as for A100/H100",
        "prefill_per_tok_s": "A100 prefill_per_tok_s x " + flr + " (prefill is compute-bound)",
        "max_batch": f"assumption: kv_capacity_tok / {mean_ctx} tokens (ML.ENERGY chat mean context: "
                     f"{inp} input + {mean_out:.0f}/2 output, A100 rows)",
        "kv_capacity_tok": f"({fmt(MEM_GB['L4'])}e9 B (gpu_specs_tdp_mlco2.csv memory) x {GPU_MEM_UTIL} - 16.06e9 B "
                           "weights - 2 GiB (assumption)) / 131072 B per token",
    }
    write_device(args.out, l4, l4src)
    write_profile(args.out, l4)
    for gpu, m in (("A100-SXM4-40GB", a100), ("H100-SXM5-80GB", models["H100-SXM5-80GB"]), ("L4", l4)):
        r = rounded(m)
        print(f"{gpu}: decode-only at b=max_batch {r['max_batch']}, ctx 360: "
              f"{power_w(r, r['max_batch']) * step_s(r, r['max_batch'], 360) / r['max_batch']:.4f} J/tok, "
              f"{r['max_batch'] / step_s(r, r['max_batch'], 360):.0f} tok/s; b=1: "
              f"{power_w(r, 1) * step_s(r, 1, 360):.3f} J/tok, {1 / step_s(r, 1, 360):.1f} tok/s")


if __name__ == "__main__":
    main()
