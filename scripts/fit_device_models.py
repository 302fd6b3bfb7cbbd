#!/usr/bin/env python3
"""Fit joulesched's device models (include/joulesched/sim/device_model.hpp) to real measurements.

Reads the raw public data (ML.ENERGY v3, v2 and v1, Splitwise, the mlco2 GPU spec table, the Azure 2023
conversation trace), fits, and writes:
  data/measurements/mlenergy_v3_llama31_8b.csv   the ML.ENERGY v3 rows fitted to (original lines, unchanged)
  data/measurements/mlenergy_v2_llama31_8b.csv   the ML.ENERGY v2 rows fitted to (original lines, unchanged)
  data/devices/{A100-SXM4-40GB,H100-SXM5-80GB,L4,B200}.csv   current stack (ML.ENERGY v3): parameter,value,unit,source
  data/devices/2024/{A100-SXM4-40GB,H100-SXM5-80GB,L4}.csv    2024 stack (ML.ENERGY v2, vLLM 0.4.2)
  data/profiles/{gpu}.csv, data/profiles/2024/{gpu}.csv      batch_size,seq_len_tok,energy_j_per_tok,rate_tok_s
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
MLENERGY_MODEL = "meta-llama/Meta-Llama-3.1-8B-Instruct"  # its name in ML.ENERGY v2
MLENERGY_V3_MODEL = "meta-llama/Llama-3.1-8B-Instruct"  # its name in ML.ENERGY v3
MLENERGY_V3_TASK = "lm-arena-chat"  # v3's chat task (the v2 fits used task 'chat', ShareGPT prompts)

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
# Dense BF16 tensor-core TFLOPS (spec: NVIDIA H100 datasheet 989 (1979 with sparsity); NVIDIA HGX B200 datasheet
# 4.5 PFLOPS with sparsity, 2250 dense). Used only to scale Splitwise's H100 prefill slope to the B200.
BF16_TFLOPS = {"H100-SXM5-80GB": 989.0, "B200": 2250.0}
# B200 board power limit (spec: NVIDIA HGX B200 datasheet, 1000 W; gpu_specs_tdp_mlco2.csv has no B200 row).
# nvidia-smi on B200 cards in public READMEs shows the same cap ("136W / 1000W").
B200_TDP_W = 1000.0

# Memory sizes, GB (memory column of gpu_specs_tdp_mlco2.csv where present: A100 40, H100 SXM 80, L4 24).
# Taken as decimal GB (1e9 B): slightly less than nvidia-smi's totals for A100/H100, about equal for L4.
MEM_GB = {"A100-SXM4-40GB": 40.0, "H100-SXM5-80GB": 80.0, "L4": 24.0,
          "B200": 180.0}  # B200: spec, NVIDIA HGX B200 datasheet (1,440 GB for 8 GPUs); nvidia-smi shows 183,359 MiB
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
IDLE_W = {"A100-SXM4-40GB": 60.0, "H100-SXM5-80GB": 100.0, "L4": 25.0,
          "B200": 150.0}  # B200: nvidia-smi of idle cards (P0, 0% util, no memory held) 136-145 W; rounded up

PROFILE_SEQ_LEN_TOK = [128, 256, 512, 1024, 2048, 4096]

GPU_V2_NAME = {"A100-SXM4-40GB": "NVIDIA A100-SXM4-40GB", "H100-SXM5-80GB": "NVIDIA H100 80GB HBM3"}
GPU_V3_NAME = {"H100-SXM5-80GB": "H100", "B200": "B200"}
STACK_2024 = "2024 stack: ML.ENERGY v2, vLLM v0.4.2"
STACK_NOW = "current stack: ML.ENERGY v3"
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


def capped_line(xs, ys, cap):
    """y = min(cap, a + b x) minimising the sum of squared relative errors, over the candidate lines fitted
    (wls_line) to the k smallest-x points, k = 2..n: where y saturates below the cap, the line follows the rise
    and the cap takes the plateau. xs ascending. Returns (a, b)."""
    best = None
    for k in range(2, len(xs) + 1):
        a, b = wls_line(xs[:k], ys[:k])
        cost = sum(((min(cap, a + b * x) - y) / y) ** 2 for x, y in zip(xs, ys))
        if best is None or cost < best[0]:
            best = (cost, a, b)
    return best[1], best[2]


def read_rows(path):
    with open(path, newline="", encoding="utf-8") as f:
        return list(csv.DictReader(f))


# ---------------------------------------------------------------------------------------------------------------
# Inputs
# ---------------------------------------------------------------------------------------------------------------
def excerpt_csv(src, dst, keep):
    """Copies the header and the lines for which keep(row) holds, unchanged; returns them parsed."""
    with open(src, newline="", encoding="utf-8") as f:
        lines = f.read().splitlines(keepends=True)
    header = next(csv.reader([lines[0]]))
    kept = [lines[0]]
    for line in lines[1:]:
        if keep(dict(zip(header, next(csv.reader([line]))))):
            kept.append(line)
    os.makedirs(os.path.dirname(dst), exist_ok=True)
    with open(dst, "w", newline="", encoding="utf-8") as f:
        f.write("".join(kept))
    return list(csv.DictReader(io.StringIO("".join(kept))))


def excerpt_mlenergy_v2(raw, out):
    """The Llama-3.1-8B tp=1 A100/H100 lines of ML.ENERGY v2."""
    return excerpt_csv(os.path.join(raw, "energy", "mlenergy_v2_llm_energy_A100_H100.csv"),
                       os.path.join(out, "data", "measurements", "mlenergy_v2_llama31_8b.csv"),
                       lambda r: r["model"] == MLENERGY_MODEL and r["tp"] == "1" and r["gpu"] in GPU_V2_NAME.values())


def excerpt_mlenergy_v3(raw, out):
    """The Llama-3.1-8B lm-arena-chat one-GPU (tp=1) H100/B200 lines of ML.ENERGY v3."""
    return excerpt_csv(os.path.join(raw, "energy", "mlenergy_v3_llm_energy_H100_B200.csv"),
                       os.path.join(out, "data", "measurements", "mlenergy_v3_llama31_8b.csv"),
                       lambda r: r["model"] == MLENERGY_V3_MODEL and r["task"] == MLENERGY_V3_TASK and
                       r["tp"] == "1" and r["num_gpus"] == "1" and r["gpu"] in GPU_V3_NAME.values())


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

    # Prefill vs decode power per GPU. Only the a100-80gb rows carry power (every h100 row has 0 in both power
    # columns), as fractions of the GPU's TDP. In the rows used (batch 1, 128 output tokens) the request is
    # 82-99% decode by time, so average_power is taken as the decode power; peak_power as the prefill's power
    # (it rises with prompt size, 0.46-1.01 at 128 tokens, 1.00-1.09 at 4096, while the decode part is the
    # same in every row: the peak is reached in the prefill). A peak overstates the prefill's mean, so the ratio
    # is an upper estimate. Prompt 8192 is left out: its average_power (0.17-0.18) is a quarter of every other
    # row's at the same decode work, not a physical change. One ratio per (model, TP, prompt size), medians of
    # the repeated runs; the median over them is used.
    groups = {}
    for r in rows:
        if (r["hardware"] == "a100-80gb" and r["batch_size"] == "1" and r["token_size"] == "128" and
                int(r["prompt_size"]) <= 4096 and float(r["average_power"]) > 0):
            groups.setdefault((r["model"], r["tensor_parallel"], int(r["prompt_size"])), []).append(r)
    ratios = []
    for _, rs in sorted(groups.items()):
        peak = statistics.median(float(r["peak_power"]) for r in rs)
        avg = statistics.median(float(r["average_power"]) for r in rs)
        ratios.append(peak / avg)
    # Rounded to two digits: the spread (1.06-2.59) is wide; more digits would be invented.
    out["prefill_power_ratio"] = round(statistics.median(ratios), 2)
    out["prefill_power_ratio_n"] = len(ratios)
    out["prefill_power_ratio_range"] = (min(ratios), max(ratios))
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


def split_ctx(m, base, s_eff, mean_ctx, sw):
    """Splits a fitted per-request slope s_eff into a context term and the rest. A context token costs k times
    its byte share of the weight read (k from Splitwise): per_ctx = k * (KV bytes per token / weight bytes) *
    base, limited to the whole slope (then per_seq = 0): on the current stack the slope of the derived A100 is
    smaller than that context cost at its mean context, and a time term cannot be negative."""
    m["decode_step_per_ctx_tok_s"] = min(sw["ctx_k_median"] * (KV_BYTES_PER_TOK / WEIGHT_BYTES) * base,
                                         s_eff / mean_ctx)
    m["decode_step_per_seq_s"] = s_eff - m["decode_step_per_ctx_tok_s"] * mean_ctx


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
    split_ctx(m, base, s_eff, statistics.fmean(n + li / 2.0 for li in out_tok), sw)

    # Power: measured average power = energy per token * throughput, fitted linear in b (relative least squares).
    p = [ei * ti for ei, ti in zip(e, thr)]
    m["busy_power_base_w"], m["busy_power_per_seq_w"] = wls_line(b, p)
    m["idle_power_w"] = IDLE_W[gpu]
    m["max_batch"] = max(int(r["max_batch_size"]) for r in rows)
    m["kv_capacity_tok"] = kv_capacity_tok(gpu)
    fit = {"b": b, "thr": thr, "e": e, "p": p, "out_tok": out_tok, "s_eff": s_eff, "rows": rows}
    return m, fit


def fit_v3_gpu(gpu, rows, tdp_w, sw, prefill_per_tok_s):
    """H100/B200 on the current stack: decode step and power fitted to the ML.ENERGY v3 rows of this GPU."""
    rows = sorted((r for r in rows if r["gpu"] == GPU_V3_NAME[gpu]), key=lambda r: int(r["max_num_seqs"]))
    b = [float(r["avg_batch_size"]) for r in rows]
    itl = [float(r["median_itl_ms"]) * 1e-3 for r in rows]
    p = [float(r["avg_power_W_all_gpus"]) for r in rows]
    out_tok = [float(r["avg_output_len"]) for r in rows]
    m = {"gpu": gpu, "tdp_w": tdp_w, "prefill_per_tok_s": prefill_per_tok_s}
    # Decode: v3 publishes the median inter-token latency, i.e. the time of a decode iteration with b running
    # (the median leaves out the iterations stalled by a prefill). Fitted linear in b, relative least squares.
    base, s_eff = wls_line(b, itl)
    m["decode_step_base_s"] = base
    m["prefill_base_s"] = base  # assumption, as for the v2 fits: a prefill pass reads the weights once
    # Context term split out of the slope as for the v2 fits (k from Splitwise); v3 does not publish prompt
    # lengths, so the mean input is the v2 assumption (MLENERGY_MEAN_INPUT_TOK); it only moves time between the
    # per-request and per-context terms, not the fit at the measured points.
    split_ctx(m, base, s_eff, statistics.fmean(MLENERGY_MEAN_INPUT_TOK + li / 2.0 for li in out_tok), sw)
    # Power: measured average power, linear in b, capped at TDP (H100's rises 486 -> 690 W and flattens).
    m["busy_power_base_w"], m["busy_power_per_seq_w"] = capped_line(b, p, tdp_w)
    m["idle_power_w"] = IDLE_W[gpu]
    m["max_batch"] = max(int(r["max_num_seqs"]) for r in rows)
    m["kv_capacity_tok"] = kv_capacity_tok(gpu)
    fit = {"b": b, "itl": itl, "p": p, "out_tok": out_tok, "thr": [float(r["output_throughput_tok_s"]) for r in rows]}
    return m, fit


def derive_a100_now(a100_old, h100_old, h100_now, v2_rows, sw):
    """ASSUMPTION: the A100 gains from the current stack what the H100 gained, batch for batch. At each batch
    size ML.ENERGY v2 measured on the A100 (b = avg_batch_size, mean context = input + avg_output_tokens/2), the
    2024 A100 model's decode step is multiplied by H100 now/2024 (the v3 model over the v2 model, each fitted to
    its measurements) and its busy power by the same ratio of H100 powers, capped at the A100's TDP (a card
    cannot average more than its limit). The products are then fitted as the v3 rows are (step linear in b, power
    linear in b capped at TDP). Prefill time as the 2024 model (Splitwise)."""
    rows = sorted((r for r in v2_rows if r["gpu"] == GPU_V2_NAME["A100-SXM4-40GB"]),
                  key=lambda r: int(r["max_batch_size"]))
    b = [float(r["avg_batch_size"]) for r in rows]
    ctx = [MLENERGY_MEAN_INPUT_TOK + float(r["avg_output_tokens"]) / 2.0 for r in rows]
    time_r = [step_s(h100_now, bi, ci) / step_s(h100_old, bi, ci) for bi, ci in zip(b, ctx)]
    power_r = [power_w(h100_now, bi) / power_w(h100_old, bi) for bi in b]
    steps = [step_s(a100_old, bi, ci) * ri for bi, ci, ri in zip(b, ctx, time_r)]
    tdp_w = a100_old["tdp_w"]
    p = [min(tdp_w, power_w(a100_old, bi) * ri) for bi, ri in zip(b, power_r)]
    m = {"gpu": "A100-SXM4-40GB", "tdp_w": tdp_w, "prefill_per_tok_s": a100_old["prefill_per_tok_s"]}
    base, s_eff = wls_line(b, steps)
    m["decode_step_base_s"] = base
    m["prefill_base_s"] = base
    split_ctx(m, base, s_eff, statistics.fmean(ctx), sw)
    m["busy_power_base_w"], m["busy_power_per_seq_w"] = capped_line(b, p, tdp_w)
    m["idle_power_w"] = a100_old["idle_power_w"]
    m["max_batch"] = a100_old["max_batch"]
    m["kv_capacity_tok"] = a100_old["kv_capacity_tok"]
    worst_t = max(abs(step_s(m, bi, ci) / si - 1.0) for bi, ci, si in zip(b, ctx, steps))
    worst_p = max(abs(power_w(m, bi) / pi - 1.0) for bi, pi in zip(b, p))
    info = {"b": b, "time_r": time_r, "power_r": power_r, "p": p, "worst_t": worst_t, "worst_p": worst_p}
    return m, info


def add_prefill_power(m, sw):
    """prefill_power_w = Splitwise prefill/decode power ratio x the model's busy power at batch 1, capped at TDP
    (the ratio's decode side is batch 1)."""
    m["prefill_power_w"] = min(m["tdp_w"], sw["prefill_power_ratio"] * power_w(m, 1))


def derive_l4(a100, tdp_w, v1, mean_ctx_tok, power_ratio=1.0):
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
    m["busy_power_base_w"] = min(tdp_w, v1["power_frac"] * tdp_w * power_ratio)
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


def write_device(out, m, sources, sub, stack):
    units = {"gpu": "", "serving_model": "", "tdp_w": "W", "idle_power_w": "W", "busy_power_base_w": "W",
             "busy_power_per_seq_w": "W/request", "prefill_power_w": "W",
             "decode_step_base_s": "s", "decode_step_per_seq_s": "s/request",
             "decode_step_per_ctx_tok_s": "s/token", "prefill_base_s": "s", "prefill_per_tok_s": "s/token",
             "max_batch": "requests", "kv_capacity_tok": "tokens"}
    text = "# Device model: " + m["gpu"] + " serving " + SERVING_MODEL + " (" + stack + \
        "). Generated by scripts/fit_device_models.py; see data/README.md.\n"
    text += "parameter,value,unit,source\n"
    for name in units:
        text += csv_line([name, fmt(m[name]) if name in m and not isinstance(m[name], str) else m[name],
                          units[name], sources[name]])
    path = os.path.join(out, "data", "devices", sub, m["gpu"] + ".csv")
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w", newline="", encoding="utf-8") as f:
        f.write(text)


def rounded(m):
    """The model exactly as the C++ loader will see it (values rounded to the written 6 digits)."""
    return {k: (float(fmt(v)) if isinstance(v, float) else v) for k, v in m.items()}


def write_profile(out, m, sub):
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
    path = os.path.join(out, "data", "profiles", sub, m["gpu"] + ".csv")
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w", newline="", encoding="utf-8") as f:
        f.write(text)


def report(gpu, m, fit, label):
    m = rounded(m)
    print(f"{gpu}: fit vs {label} (batch = round(avg_batch_size), mean input {MLENERGY_MEAN_INPUT_TOK} tok)")
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


def report_v3(gpu, m, fit):
    """Decode step (b / step = throughput at b) against the median ITL, and busy power against average power;
    then, for information, the whole run (decode plus each request's prefill) against output throughput."""
    m = rounded(m)
    print(f"{gpu}: fit vs ML.ENERGY v3 (batch = round(avg_batch_size), mean context {MLENERGY_MEAN_INPUT_TOK} + "
          "avg_output_len/2)")
    worst_t = worst_p = 0.0
    for bi, ti, pi, li, thr in zip(fit["b"], fit["itl"], fit["p"], fit["out_tok"], fit["thr"]):
        b = round(bi)
        step = step_s(m, b, MLENERGY_MEAN_INPUT_TOK + li / 2.0)
        et, ep = ti / step - 1.0, power_w(m, b) / pi - 1.0
        worst_t, worst_p = max(worst_t, abs(et)), max(worst_p, abs(ep))
        run = 1.0 / workload_s_per_tok(m, b, MLENERGY_MEAN_INPUT_TOK, li)
        print(f"  b={b:5d}  b/ITL {b / ti:8.1f} model {b / step:8.1f} ({et:+.1%})   power {pi:6.1f} W model "
              f"{power_w(m, b):6.1f} W ({ep:+.1%})   [whole run: measured {thr:8.1f} tok/s, model with "
              f"prefills {run:8.1f} ({run / thr - 1.0:+.1%})]")
    print(f"  worst relative error: throughput (b/step) {worst_t:.1%}, power {worst_p:.1%}")


def measured_sources(gpu, fit, k, sw, label):
    """Source column of a model fitted to ML.ENERGY v2 rows (the 2024 stack)."""
    inp = MLENERGY_MEAN_INPUT_TOK
    hw = "a100-80gb" if gpu.startswith("A100") else "h100-80gb"
    return {
        "gpu": "ML.ENERGY v2 gpu '" + GPU_V2_NAME[gpu] + "'",
        "serving_model": "ML.ENERGY v2 model " + MLENERGY_MODEL + ", tp=1, vLLM v0.4.2, bf16",
        "tdp_w": "gpu_specs_tdp_mlco2.csv row '" + TDP_ROW[gpu] + "' tdp_watts" +
                 (" (the 40GB SXM4 card has the same 400 W limit per the NVIDIA A100 datasheet)"
                  if gpu.startswith("A100") else ""),
        "idle_power_w": "assumption: not measured in any file; nvidia-smi readings of idle cards (0% util, P0) "
                        "in public READMEs: " + ("A100-SXM4 46-68 W" if gpu.startswith("A100") else
                                                "H100 80GB HBM3 69-117 W (117 W with memory allocated)") +
                        "; a serving process keeps P0, so near the upper end, rounded; +-20 W",
        "busy_power_base_w": "fit: " + label + " energy_per_output_token_J x token_throughput_tok_s "
                             "(average power) linear in avg_batch_size, relative least squares; intercept",
        "busy_power_per_seq_w": f"same fit, slope (measured average power {min(fit['p']):.0f}-{max(fit['p']):.0f} W "
                                f"over avg_batch_size {min(fit['b']):.0f}-{max(fit['b']):.0f}; a negative slope "
                                "means power falls slightly as throughput saturates)",
        "prefill_power_w": prefill_power_source(sw),
        "decode_step_base_s": "fit: avg_batch_size/token_throughput_tok_s = base + s*b + b*prefill_s(" + str(inp) +
                              ")/avg_output_tokens over the rows of " + label + ", b = "
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


def prefill_power_source(sw):
    lo, hi = sw["prefill_power_ratio_range"]
    return (f"min(tdp_w, {fmt(sw['prefill_power_ratio'])} x busy power at batch 1); {fmt(sw['prefill_power_ratio'])} "
            f"= median over {sw['prefill_power_ratio_n']} Splitwise a100-80gb (model, TP, prompt) groups (llama2-70b "
            "TP2/4/8, bloom-176b TP8; batch 1, 128 output tokens, prompt 128-4096) of peak_power / average_power "
            f"(range {lo:.2f}-{hi:.2f}): the peak is the prefill's (it grows with the prompt), the request average "
            "is >= 82% decode; a peak overstates the prefill mean, so an upper estimate")


def l4_sources(v1, flat, mean_ctx, mean_out, base_model, power_note, sw):
    inp = MLENERGY_MEAN_INPUT_TOK
    bwr = f"{fmt(BW_GBS['L4'])}/{fmt(BW_GBS['A100-SXM4-40GB'])} GB/s (spec)"
    flr = f"{fmt(FP16_TFLOPS['L4'])}/{fmt(FP16_TFLOPS['A100-SXM4-40GB'])} dense FP16 tensor TFLOPS (spec)"
    return {
        "gpu": "NVIDIA L4 (24 GB GDDR6); no serving measurement exists: derived from the " + base_model,
        "serving_model": "assumption: same model and stack as the A100/H100 fits (vLLM, bf16, tp=1)",
        "tdp_w": "gpu_specs_tdp_mlco2.csv row 'L4' tdp_watts",
        "idle_power_w": "assumption: not measured; nvidia-smi readings of idle L4 cards in public READMEs: "
                        "12-19 W (P8), 27-29 W (P0); a serving process keeps P0; rounded; +-10 W",
        "busy_power_base_w": f"assumption: {fmt(v1['power_frac'])} x TDP{power_note}; {fmt(v1['power_frac'])} = "
                             f"median A40 average power / 300 W TDP (spec) over {v1['n']} ML.ENERGY v1 model/task "
                             "pairs: a bandwidth-starved card runs near its limit (A100 in v2 runs at ~half of TDP)",
        "busy_power_per_seq_w": f"assumption: 0, flat in batch (A100's measured power is flat within "
                                f"+-{flat:.0%} from batch 32 to 320 in ML.ENERGY v2)",
        "prefill_power_w": prefill_power_source(sw),
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


def v3_sources(gpu, fit, k, sw, tdp_source, idle_source, prefill_source):
    inp = MLENERGY_MEAN_INPUT_TOK
    return {
        "gpu": "ML.ENERGY v3 gpu '" + GPU_V3_NAME[gpu] + "'",
        "serving_model": "ML.ENERGY v3 model " + MLENERGY_V3_MODEL + ", task " + MLENERGY_V3_TASK +
                         ", tp=1, 1 GPU, bf16 (current serving stack)",
        "tdp_w": tdp_source,
        "idle_power_w": idle_source,
        "busy_power_base_w": "fit: mlenergy_v3_llama31_8b.csv avg_power_W_all_gpus = min(tdp_w, base + slope x "
                             "avg_batch_size), relative least squares (the line through the rise, the cap for the "
                             "plateau); intercept",
        "busy_power_per_seq_w": f"same fit, slope (measured average power {min(fit['p']):.0f}-{max(fit['p']):.0f} W "
                                f"over avg_batch_size {min(fit['b']):.0f}-{max(fit['b']):.0f}, rising with batch)",
        "prefill_power_w": prefill_power_source(sw),
        "decode_step_base_s": "fit: median_itl_ms (one decode iteration) = base + s*b over the rows of "
                              "mlenergy_v3_llama31_8b.csv, b = avg_batch_size, relative least squares; base",
        "decode_step_per_seq_s": "same fit: s minus decode_step_per_ctx_tok_s x mean context (" + str(inp) +
                                 " input tokens (assumption: v3 publishes no prompt length) + avg_output_len/2)",
        "decode_step_per_ctx_tok_s": "k x (KV 131072 B/tok / weights 16.06e9 B) x decode_step_base_s; k=" + k +
                                     " = median over Splitwise llama2-70b A100/H100 TP2/4/8 of "
                                     "(token_time slope per context token / intercept) / (KV bytes / weight bytes)",
        "prefill_base_s": "assumption: = decode_step_base_s (a prefill pass reads the weights once, as a decode "
                          "step does)",
        "prefill_per_tok_s": prefill_source,
        "max_batch": "largest max_num_seqs measured in ML.ENERGY v3 for this GPU (no data beyond)",
        "kv_capacity_tok": f"({fmt(MEM_GB[gpu])}e9 B x {GPU_MEM_UTIL} vLLM gpu_memory_utilization - 16.06e9 B "
                           "weights - 2 GiB activations/CUDA graphs (assumption)) / 131072 B per token",
    }


def summary(gpu, m):
    r = rounded(m)
    print(f"{gpu}: decode-only at b=max_batch {r['max_batch']}, ctx 360: "
          f"{power_w(r, r['max_batch']) * step_s(r, r['max_batch'], 360) / r['max_batch']:.4f} J/tok, "
          f"{r['max_batch'] / step_s(r, r['max_batch'], 360):.0f} tok/s; b=1: "
          f"{power_w(r, 1) * step_s(r, 1, 360):.3f} J/tok, {1 / step_s(r, 1, 360):.1f} tok/s; "
          f"prefill {r['prefill_power_w']:.1f} W")


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    repo = os.path.dirname(here)
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--raw", default=os.path.join(repo, "..", "shared", "data"), help="raw data folder")
    ap.add_argument("--out", default=repo, help="repository root to write data/ under")
    args = ap.parse_args()

    rows = excerpt_mlenergy_v2(args.raw, args.out)
    rows3 = excerpt_mlenergy_v3(args.raw, args.out)
    excerpt_trace(args.raw, args.out)
    tdp = tdp_table(args.raw)
    sw = splitwise_fits(args.raw)
    v1 = a40_power_fraction(args.raw)
    print("Splitwise context-cost ratio k per (hardware, TP):",
          ", ".join(f"{h}/tp{t}={k:.2f}" for (h, t), k in sw["ctx_k"]), f"-> median {sw['ctx_k_median']:.2f}")
    print(f"Splitwise prefill/decode power ratio: median {sw['prefill_power_ratio']} over "
          f"{sw['prefill_power_ratio_n']} groups, range {sw['prefill_power_ratio_range'][0]:.3f}-"
          f"{sw['prefill_power_ratio_range'][1]:.3f}")
    print(f"ML.ENERGY v1 A40 vs A100 over {v1['n']} model/task pairs: A40 power/TDP median {v1['power_frac']:.3f}, "
          f"throughput ratio median {v1['thr_ratio']:.3f}, power ratio median {v1['power_ratio']:.3f}")

    k = fmt(sw["ctx_k_median"])
    inp = MLENERGY_MEAN_INPUT_TOK
    v2_label = "mlenergy_v2_llama31_8b.csv"

    # ---- 2024 stack: ML.ENERGY v2 (vLLM 0.4.2), data/devices/2024/ ----
    old = {}
    for gpu in ("A100-SXM4-40GB", "H100-SXM5-80GB"):
        m, fit = fit_measured_gpu(gpu, rows, tdp[gpu], sw)
        m["serving_model"] = SERVING_MODEL
        add_prefill_power(m, sw)
        old[gpu] = m
        write_device(args.out, m, measured_sources(gpu, fit, k, sw, v2_label), "2024", STACK_2024)
        write_profile(args.out, m, "2024")
        report(gpu + " (2024)", m, fit, "ML.ENERGY v2")

    a100_rows = [r for r in rows if r["gpu"] == GPU_V2_NAME["A100-SXM4-40GB"]]
    mean_out = statistics.fmean(float(r["avg_output_tokens"]) for r in a100_rows)
    mean_ctx = round(inp + mean_out / 2)
    a100_p = [float(r["energy_per_output_token_J"]) * float(r["token_throughput_tok_s"]) for r in a100_rows]
    flat = (max(a100_p) - min(a100_p)) / 2 / statistics.fmean(a100_p)
    l4 = derive_l4(old["A100-SXM4-40GB"], tdp["L4"], v1, mean_ctx)
    l4["serving_model"] = SERVING_MODEL
    add_prefill_power(l4, sw)
    old["L4"] = l4
    write_device(args.out, l4, l4_sources(v1, flat, mean_ctx, mean_out, "2024 A100-SXM4-40GB model", "", sw),
                 "2024", STACK_2024)
    write_profile(args.out, l4, "2024")

    # ---- current stack: ML.ENERGY v3, data/devices/ ----
    now = {}
    h100_pre = old["H100-SXM5-80GB"]["prefill_per_tok_s"]
    pre_src = {
        "H100-SXM5-80GB": "Splitwise llama2-70b h100-80gb TP2 batch 1: prompt_time vs prompt_size slope x 8B/70B "
                          "FLOPs per GPU (16.06e9/69e9); the same as the 2024 model (Splitwise's stack, not v3's)",
        "B200": f"H100 prefill_per_tok_s (Splitwise, see H100-SXM5-80GB.csv) x {fmt(BF16_TFLOPS['H100-SXM5-80GB'])}/"
                f"{fmt(BF16_TFLOPS['B200'])} dense BF16 tensor TFLOPS (spec: NVIDIA H100 and HGX B200 datasheets); "
                "no B200 prefill measurement exists",
    }
    pre = {"H100-SXM5-80GB": h100_pre,
           "B200": h100_pre * BF16_TFLOPS["H100-SXM5-80GB"] / BF16_TFLOPS["B200"]}
    tdp_now = {"H100-SXM5-80GB": tdp["H100-SXM5-80GB"], "B200": B200_TDP_W}
    tdp_src = {"H100-SXM5-80GB": "gpu_specs_tdp_mlco2.csv row 'H100 SXM' tdp_watts",
               "B200": "spec: NVIDIA HGX B200 datasheet, 1000 W (gpu_specs_tdp_mlco2.csv has no B200 row); "
                       "nvidia-smi of B200 cards in public READMEs shows the same 1000 W cap"}
    idle_src = {"H100-SXM5-80GB": "assumption: as the 2024 model: nvidia-smi readings of idle cards (0% util, P0) in "
                                  "public READMEs: H100 80GB HBM3 69-117 W (117 W with memory allocated); rounded; "
                                  "+-20 W",
                "B200": "assumption: not measured in any file; nvidia-smi readings of idle B200 cards (0% util, P0, "
                        "no memory held) in public READMEs: 136-145 W; a serving process holds memory, so rounded "
                        "up; +-30 W"}
    for gpu in ("H100-SXM5-80GB", "B200"):
        m, fit = fit_v3_gpu(gpu, rows3, tdp_now[gpu], sw, pre[gpu])
        m["serving_model"] = SERVING_MODEL
        add_prefill_power(m, sw)
        now[gpu] = m
        write_device(args.out, m, v3_sources(gpu, fit, k, sw, tdp_src[gpu], idle_src[gpu], pre_src[gpu]), "",
                     STACK_NOW)
        write_profile(args.out, m, "")
        report_v3(gpu, m, fit)

    # A100 on the current stack (ASSUMPTION): the 2024 A100 model times H100's now/2024 ratios, batch for batch.
    a100, info = derive_a100_now(old["A100-SXM4-40GB"], old["H100-SXM5-80GB"], now["H100-SXM5-80GB"], rows, sw)
    a100["serving_model"] = SERVING_MODEL
    add_prefill_power(a100, sw)
    now["A100-SXM4-40GB"] = a100
    print("A100-SXM4-40GB (current, derived): H100 now/2024 at A100's measured batches " +
          ", ".join(f"b={bi:.0f}: step x{t:.3f} power x{q:.3f}" for bi, t, q in zip(info["b"], info["time_r"],
                                                                                 info["power_r"])) +
          f"; line fit to the products within {info['worst_t']:.1%} (step), {info['worst_p']:.1%} (power)")
    ratio_txt = ("ASSUMPTION (no current-stack A100 measurement): at each A100 batch size of ML.ENERGY v2 "
                 f"({min(info['b']):.0f}-{max(info['b']):.0f}), the 2024 A100 model (devices/2024) x the H100 "
                 "ratio current/2024 model at the same batch and context (decode step x"
                 f"{min(info['time_r']):.2f}-{max(info['time_r']):.2f}, power x{min(info['power_r']):.2f}-"
                 f"{max(info['power_r']):.2f}, power capped at tdp_w);")
    wb = f"{min(info['b']):.0f}-{max(info['b']):.0f}"
    hw_pre = ("Splitwise llama2-70b a100-80gb TP2 batch 1: prompt_time vs prompt_size slope x 8B/70B FLOPs per GPU "
              "(16.06e9/69e9); as the 2024 model")
    src = {
        "gpu": "ML.ENERGY v2 gpu '" + GPU_V2_NAME["A100-SXM4-40GB"] + "', scaled to the current stack",
        "serving_model": "assumption: the current serving stack of ML.ENERGY v3 (H100 " + MLENERGY_V3_MODEL + " " +
                         MLENERGY_V3_TASK + "), bf16, tp=1; the A100 is not in v3",
        "tdp_w": "gpu_specs_tdp_mlco2.csv row 'A100 SXM4 80 GB' tdp_watts (the 40GB SXM4 card has the same 400 W "
                 "limit per the NVIDIA A100 datasheet)",
        "idle_power_w": "assumption: as the 2024 model (nvidia-smi readings of idle A100-SXM4 cards, 46-68 W, P0); "
                        "+-20 W",
        "busy_power_base_w": ratio_txt + " those powers fitted min(tdp_w, base + slope x b), relative least "
                             "squares; intercept",
        "busy_power_per_seq_w": f"same fit, slope (scaled power {min(info['p']):.0f}-{max(info['p']):.0f} W over b "
                                f"{wb}: at or near tdp_w)",
        "prefill_power_w": prefill_power_source(sw),
        "decode_step_base_s": ratio_txt + " those step times fitted base + s*b, relative least squares; base",
        "decode_step_per_seq_s": "same fit: s minus decode_step_per_ctx_tok_s x mean context (" + str(inp) +
                                 " input tokens (assumption) + avg_output_tokens/2)" +
                                 ("; 0: the context term takes the whole slope" if a100["decode_step_per_seq_s"] == 0
                                  else ""),
        "decode_step_per_ctx_tok_s": "min(k x (KV 131072 B/tok / weights 16.06e9 B) x decode_step_base_s, s / mean "
                                     "context); k=" + k + " (Splitwise, as for every model); here the second, "
                                     "so that no time term is negative" if a100["decode_step_per_seq_s"] == 0 else
                                     "k x (KV 131072 B/tok / weights 16.06e9 B) x decode_step_base_s; k=" + k +
                                     " (Splitwise, as for every model)",
        "prefill_base_s": "assumption: = decode_step_base_s (a prefill pass reads the weights once)",
        "prefill_per_tok_s": hw_pre,
        "max_batch": "largest max_batch_size measured in ML.ENERGY v2 for this GPU (as the 2024 model)",
        "kv_capacity_tok": f"({fmt(MEM_GB['A100-SXM4-40GB'])}e9 B x {GPU_MEM_UTIL} vLLM gpu_memory_utilization - "
                           "16.06e9 B weights - 2 GiB activations/CUDA graphs (assumption)) / 131072 B per token",
    }
    write_device(args.out, a100, src, "", STACK_NOW)
    write_profile(args.out, a100, "")

    # L4 on the current stack (ASSUMPTION): derived from the current A100 as the 2024 L4 is from the 2024 A100;
    # power x the H100 power ratio current/2024 at the L4's batch cap, capped at TDP.
    l4_b = old["L4"]["max_batch"]
    l4_pr = power_w(now["H100-SXM5-80GB"], l4_b) / power_w(old["H100-SXM5-80GB"], l4_b)
    l4 = derive_l4(a100, tdp["L4"], v1, mean_ctx, l4_pr)
    l4["serving_model"] = SERVING_MODEL
    add_prefill_power(l4, sw)
    now["L4"] = l4
    note = f" x {l4_pr:.2f} (H100 current/2024 model power ratio at batch {l4_b}, ASSUMPTION), capped at tdp_w"
    l4src = l4_sources(v1, flat, mean_ctx, mean_out, "current-stack A100-SXM4-40GB model (itself derived, "
                       "ASSUMPTION)", note, sw)
    write_device(args.out, l4, l4src, "", STACK_NOW)
    write_profile(args.out, l4, "")

    for gpu in ("A100-SXM4-40GB", "H100-SXM5-80GB", "L4"):
        summary(gpu + " (2024)", old[gpu])
    for gpu in ("A100-SXM4-40GB", "H100-SXM5-80GB", "L4", "B200"):
        summary(gpu, now[gpu])


if __name__ == "__main__":
    main()
