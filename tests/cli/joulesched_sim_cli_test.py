"""joulesched-sim as a user runs it: bad options and bad input get a clear error and exit code 2, never a
silent coercion, a run without end or a result with null in it; warnings reach stderr and the JSON.

usage: joulesched_sim_cli_test.py <joulesched-sim> <source dir>

Prints one line per case and closes with 'N passed, N failed'. Each run is short (at most a few simulated
seconds of the default fleet) and has a wall-clock limit, so a hang fails instead of stalling the suite.
"""
import json
import pathlib
import subprocess
import sys
import tempfile

sys.dont_write_bytecode = True

SIM = sys.argv[1]
ROOT = pathlib.Path(sys.argv[2])
TMP = pathlib.Path(tempfile.mkdtemp(prefix="joulesched_cli_"))
FAST = ["--quiet", "--policies", "round_robin", "--duration", "2"]
results = []


def run(args, timeout=120):
    p = subprocess.run([SIM, *args], capture_output=True, text=True, timeout=timeout)
    return p.returncode, p.stdout, p.stderr


def case(name, fn):
    try:
        fn()
        results.append((name, None))
    except AssertionError as e:
        results.append((name, str(e) or "assertion failed"))
    except subprocess.TimeoutExpired:
        results.append((name, "timed out"))
    except Exception as e:  # a missing JSON key, unparsable output, ...: this case fails, the others still run
        results.append((name, f"{type(e).__name__}: {e}"))


def refused(args, *needles):
    """The program exits 2, and its one-line message names every needle (the flag, the value, the bound)."""
    def check():
        rc, out, err = run(args)
        assert rc == 2, f"exit {rc}, stderr: {err[-400:]}"
        assert len(err) < 2000, f"{len(err)} bytes on stderr"
        for n in needles:
            assert n in err, f"{n!r} not in stderr: {err[-400:]}"
    return check


def write(name, text):
    path = TMP / name
    path.write_text(text, encoding="utf-8")
    return path


def azure(rows):
    return "TIMESTAMP,ContextTokens,GeneratedTokens\n" + "".join(f"{t},{i},{o}\n" for t, i, o in rows)


def minute_rows(n, start_s=0, inp=300, out=100):
    return [(f"2023-11-16 18:{(start_s + k) // 60 % 60:02d}:{(start_s + k) % 60:02d}", inp, out) for k in range(n)]


def json_run(args):
    rc, out, err = run([*args, "--format", "json"])
    assert rc == 0, f"exit {rc}, stderr: {err[-400:]}"
    assert "null" not in out, "null in the JSON"
    assert "NaN" not in out and "Infinity" not in out
    return json.loads(out), err


# ---- numbers: one grammar, no silent coercion ----
case("seed -1 is refused, not 2^64-1", refused(["--seed", "-1", *FAST], "--seed", "'-1'"))
case("seed 0x10 is refused", refused(["--seed", "0x10", *FAST], "--seed"))
case("utilisation 0x10 is refused, not 16", refused(["--utilisation", "0x10", *FAST], "--utilisation", "'0x10'"))
case("utilisation nan is refused", refused(["--utilisation", "nan", *FAST], "--utilisation"))
case("utilisation 5 is beyond the bound", refused(["--utilisation", "5", *FAST], "--utilisation", "= 5"))
case("duration 1e12 is beyond the bound", refused(["--quiet", "--duration", "1e12"], "--duration", "1e+12"))
case("estimate error with a trailing unit is refused",
     refused(["--estimate-error", "0.1x", *FAST], "--estimate-error"))

case("a subnormal --duration is refused (it made every rate NaN)",
     refused(["--duration", "4.9e-324", "--quiet", "--policies", "round_robin"], "--duration", "5e-324"))

# ---- every error, the parser's own included, exits 2 with the program's prefix ----
for args, needle in [(["--format", "xml"], "--format"), (["--bogus"], "--bogus"), (["stray"], "stray"),
                     (["--utilisation", "0.5", "--load-scale", "1"], "excludes"),
                     (["--duration", "1", "--duration", "2"], "--duration"),
                     (["--diurnal=off"], "diurnal"), (["--quiet=-5"], "quiet")]:
    case(f"parse error {' '.join(args)} exits 2", refused([*args], "joulesched-sim: error:", needle))

# ---- options that would be ignored or mean their default ----
for flag in ["--trace", "--fleet", "--lambda-trace", "--data-dir"]:
    case(f"{flag} '' is refused, not its default", refused([flag, "", *FAST], flag, "must not be empty"))
case("--lenient without --trace is refused", refused(["--lenient", *FAST], "--lenient"))
case("--diurnal with --trace is refused, not ignored",
     refused(["--quiet", "--diurnal", "--trace", "default"], "--diurnal"))
case("--start-hour without --diurnal is refused", refused(["--start-hour", "3", *FAST], "--start-hour"))

# ---- runs that never end ----
small = write("small.csv", azure(minute_rows(30)))
case("a trace slowed 1e9 times is refused at once (window bound), not run for ever",
     refused(["--quiet", "--trace", str(small), "--load-scale", "1e-9"], "--load-scale", "window"))
case("a run that reads no request is an error", refused(["--quiet", "--duration", "0.001", "--load-scale", "0.01"], "no request arrived"))

def lambda_trace_fails_first():
    rc, out, err = run(["--policies", "energy_pi", "--duration", "2", "--lambda-trace", str(TMP)])
    assert rc == 2 and "--lambda-trace" in err, err
    assert "running" not in err, "the policies ran before the unwritable output was noticed"


case("an unwritable --lambda-trace fails before any run", lambda_trace_fails_first)

def lambda_trace_never_overwrites_an_input():
    victim = write("victim.csv", azure(minute_rows(30)))
    before = victim.read_text()
    rc, out, err = run(["--quiet", "--trace", str(victim), "--policies", "energy_pi", "--lambda-trace", str(victim)])
    assert rc == 2 and "would be overwritten" in err, err
    assert victim.read_text() == before, "the input trace was overwritten"


case("--lambda-trace naming an input is refused before it is touched", lambda_trace_never_overwrites_an_input)


def write_errors_are_errors():
    with open("/dev/full", "w") as full:
        p = subprocess.run([SIM, *FAST, "--format", "json"], stdout=full, stderr=subprocess.PIPE, text=True, timeout=120)
    assert p.returncode == 2 and "standard output failed" in p.stderr, (p.returncode, p.stderr)


if pathlib.Path("/dev/full").exists():
    case("a full disk on stdout is an error, not exit 0", write_errors_are_errors)


def short_window_counts_what_it_drops():
    j, err = json_run(["--quiet", "--trace", str(small), "--duration", "10", "--policies", "round_robin"])
    assert j["workload"]["trace_requests_not_replayed"] == 20, j["workload"]
    assert any("not replayed" in w for w in j["warnings"]), j["warnings"]


case("a --duration shorter than the trace counts and warns about the rows it drops", short_window_counts_what_it_drops)


def mix_that_fits_no_device():
    src = (ROOT / "data/devices/L4.csv").read_text(encoding="utf-8").splitlines()
    out = [ "kv_capacity_tok,100,tokens,test" if l.startswith("kv_capacity_tok,") else l for l in src]
    dev = write("dev_tiny_kv.csv", "\n".join(out) + "\n")
    fleet = write("fleet_tiny_kv.csv", f"device_model,count,site\n{dev},4,dc1\n")
    refused(["--fleet", str(fleet), "--quiet", "--policies", "round_robin", "--duration", "600"],
            "every request needs more KV cache")()


case("a workload no device can hold is an error, not a run of rejections", mix_that_fits_no_device)


def rows_too_big_for_one_type():
    rows = [(f"2023-11-16 18:{m:02d}:00", 200000, 100) for m in range(30)]  # one a minute
    l4, h100 = ROOT / "data/devices/L4.csv", ROOT / "data/devices/H100-SXM5-80GB.csv"
    fleet = write("fleet_l4_h100.csv", f"device_model,count,site\n{l4},1,dc1\n{h100},1,dc1\n")
    j, err = json_run(["--quiet", "--fleet", str(fleet), "--trace", str(write("big.csv", azure(rows))),
                       "--policies", "least_loaded"])
    assert any("L4's KV cache" in w for w in j["warnings"]), j["warnings"]


case("rows that only some device types hold are warned about", rows_too_big_for_one_type)

# ---- device models beyond their bounds ----
def bad_device(field, value):
    src = (ROOT / "data/devices/L4.csv").read_text(encoding="utf-8").splitlines()
    out = [f"{field},{value},s,test" if line.startswith(field + ",") else line for line in src]
    dev = write(f"dev_{field}.csv", "\n".join(out) + "\n")
    fleet = write(f"fleet_{field}.csv", f"device_model,count,site\n{dev},2,dc1\n")
    return ["--fleet", str(fleet), *FAST]


case("decode_step_base_s = 1e300 is refused", refused(bad_device("decode_step_base_s", "1e300"), "decode_step_base_s"))
case("prefill_per_tok_s = 1e300 is refused", refused(bad_device("prefill_per_tok_s", "1e300"), "prefill_per_tok_s"))


# ---- silent rescales become warnings, in stderr and the JSON ----
def unfit_row_warned():
    rows = minute_rows(40)
    rows[7] = (rows[7][0], 500000, 10)  # more KV than any device of the default fleet holds (410,404 tokens)
    j, err = json_run(["--quiet", "--trace", str(write("unfit.csv", azure(rows))), "--policies", "least_loaded"])
    assert "rejected as no_fit" in err, err
    assert any("no_fit" in w for w in j["warnings"]), j["warnings"]
    # The mean excludes the unservable row: 300 input tokens, not ~12,800.
    assert abs(j["workload"]["mean_input_tok"] - 300) < 1e-9, j["workload"]
    p = j["policies"][0]
    assert p["requests"] == 40 and p["rejected_no_fit"] == 1 and p["completed"] + p["rejected"] == 40


case("a row no device holds is rejected, warned about, and leaves the load alone", unfit_row_warned)


def dominant_row_warned():
    rows = minute_rows(40)
    rows[3] = (rows[3][0], 100000, 10)  # fits an H100, but holds ~90% of the trace's tokens
    j, err = json_run(["--quiet", "--trace", str(write("dominant.csv", azure(rows))), "--policies", "least_loaded"])
    assert any("rests on it" in w for w in j["warnings"]), j["warnings"]


case("one row holding most of the tokens is warned about", dominant_row_warned)


def reordered_reported():
    rows = minute_rows(20)
    rows[4], rows[5] = rows[5], rows[4]
    j, err = json_run(["--quiet", "--trace", str(write("reordered.csv", azure(rows))), "--policies", "least_loaded"])
    assert j["workload"]["reordered_rows"] == 1, j["workload"]
    assert j["warnings"], "no warning about the reordered row"
    assert "warning" in err


case("reordered trace rows are counted and reported", reordered_reported)


def overload_warned():
    j, err = json_run(["--quiet", "--policies", "round_robin", "--duration", "1", "--utilisation", "1.5"])
    assert any("above saturation" in w for w in j["warnings"]), j["warnings"]
    assert "above saturation" in err


case("utilisation above 1 runs with a warning", overload_warned)


def replay_at_recorded_times():
    # 30 rows one second apart, alone: replayed as recorded, one copy over its 29 s span.
    j, err = json_run(["--quiet", "--trace", str(small), "--policies", "least_loaded"])
    load = j["load"]
    assert load["load_scale"] == 1 and load["trace_copies"] == 1 and abs(load["window_s"] - 29) < 1e-9, load
    assert abs(load["rate_rps"] - 30 / 29) < 1e-6, load
    assert j["policies"][0]["requests"] == 30


case("--trace alone replays the trace at its recorded times", replay_at_recorded_times)


def tiled_to_fill_the_window():
    # Under --utilisation the trace keeps its shape: time scaled to the load, copies tiled over the window.
    j, err = json_run(["--quiet", "--trace", str(small), "--utilisation", "0.05", "--duration", "30",
                       "--policies", "least_loaded"])
    load, p = j["load"], j["policies"][0]
    assert abs(load["utilisation"] - 0.05) < 1e-9 and load["window_s"] == 30, load
    assert load["trace_copies"] > 1, load
    expected = load["rate_rps"] * 30
    assert abs(p["requests"] - expected) <= 30, (p["requests"], expected)  # within one copy of the mean rate
    assert p["requests"] == p["completed"] + p["rejected"]


case("--utilisation tiles the trace to fill the window instead of shrinking it", tiled_to_fill_the_window)


def non_utf8_names_in_json():
    src = (ROOT / "data/devices/L4.csv").read_bytes().splitlines()
    out = [b"gpu,L4\xff\xfe,,test" if line.startswith(b"gpu,") else line for line in src]
    dev = TMP / "dev_bytes.csv"
    dev.write_bytes(b"\n".join(out) + b"\n")
    fleet = write("fleet_bytes.csv", f"device_model,count,site\n{dev},2,dc1\n")
    rc, out, err = run(["--quiet", "--fleet", str(fleet), "--policies", "round_robin", "--duration", "60",
                        "--format", "json"])
    assert rc == 0, f"exit {rc}: {err[-300:]}"
    json.loads(out)


case("device names that are not UTF-8 still give valid JSON", non_utf8_names_in_json)


def utilisation_window_cuts_one_long_copy():
    # Two rows 10 s apart at a tiny utilisation: one copy lasts days, the default hour must cut it.
    two = write("two.csv", azure([("2023-11-16 18:00:00", 300, 100), ("2023-11-16 18:00:10", 300, 100)]))
    j, err = json_run(["--quiet", "--trace", str(two), "--utilisation", "1e-8", "--policies", "round_robin"])
    assert j["load"]["window_s"] == 3600, j["load"]
    assert j["policies"][0]["requests"] == 1 and j["workload"]["trace_requests_not_replayed"] == 1, j["policies"][0]
    assert j["policies"][0]["sim_time_s"] < 3700, j["policies"][0]["sim_time_s"]


case("--utilisation cuts a copy longer than the window at the window", utilisation_window_cuts_one_long_copy)


def mix_load_scale_reported():
    j, err = json_run(["--quiet", "--policies", "round_robin", "--duration", "5", "--load-scale", "0.5"])
    assert j["load"]["load_scale"] == 0.5 and abs(j["load"]["utilisation"] - 0.25) < 1e-12, j["load"]


case("the mix's --load-scale is reported in the JSON", mix_load_scale_reported)


def diurnal_shape_must_span_a_day():
    dd = TMP / "dd_shape"
    (dd / "traces").mkdir(parents=True, exist_ok=True)
    for sub in ("fleets", "devices"):
        if not (dd / sub).exists():
            (dd / sub).symlink_to(ROOT / "data" / sub)
    (dd / "traces" / "azure_conv_2023_excerpt.csv").write_bytes(
        (ROOT / "data/traces/azure_conv_2023_excerpt.csv").read_bytes())
    (dd / "traces" / "servegen_diurnal_shape.csv").write_text(
        "window_start_s,window_len_s,m-large\n0,600,1\n", encoding="utf-8")
    refused(["--data-dir", str(dd), "--diurnal", *FAST], "must be one day")()


case("a --diurnal shape that does not span a day is refused", diurnal_shape_must_span_a_day)


def device_too_small_warned():
    src = (ROOT / "data/devices/A100-SXM4-40GB.csv").read_text(encoding="utf-8").splitlines()
    out = ["kv_capacity_tok,1000,tokens,test" if l.startswith("kv_capacity_tok,") else l for l in src]
    small_dev = write("dev_small_kv.csv", "\n".join(out) + "\n")
    h100 = ROOT / "data/devices/H100-SXM5-80GB.csv"
    fleet = write("fleet_small_kv.csv", f"device_model,count,site\n{small_dev},4,dc1\n{h100},4,dc1\n")
    j, err = json_run(["--quiet", "--fleet", str(fleet), "--policies", "round_robin", "--duration", "5"])
    assert j["policies"][0]["rejected_device_too_small"] > 0
    assert any("rejected_device_too_small" in w for w in j["warnings"]), j["warnings"]


case("requests placed on devices too small for them are warned about", device_too_small_warned)


def clean_run():
    j, err = json_run(["--quiet", "--policies", "round_robin,energy_pi", "--duration", "2"])
    assert j["warnings"] == [], j["warnings"]
    for p in j["policies"]:
        assert p["requests"] > 0 and p["requests"] == p["completed"] + p["rejected"]
    assert err == "", err


case("the default experiment, short: no warning, every request accounted for, no null", clean_run)

# ---- SLO misses by kind ----
KINDS = ("any", "ttft", "tbt", "e2e")


def check_misses(m, requests, where):
    """Every kind has a count and a rate = count / requests in [0, 1]; any is at least each kind."""
    assert set(m) == set(KINDS), f"{where}: kinds {sorted(m)}"
    for k in KINDS:
        c, r = m[k]["count"], m[k]["rate"]
        assert 0 <= r <= 1, f"{where}.{k}: rate {r}"
        assert c <= requests and (requests == 0 or abs(r - c / requests) < 1e-12), f"{where}.{k}: {c} / {requests} != {r}"
        assert m["any"]["count"] >= c, f"{where}: any {m['any']['count']} < {k} {c}"
    assert m["any"]["count"] <= sum(m[k]["count"] for k in KINDS[1:]), f"{where}: a miss of no kind"


def slo_misses_by_kind():
    # Round-robin overloads the L4s within seconds: misses of every kind, so the consistency checks bite.
    j, err = json_run(["--quiet", "--policies", "round_robin,energy_pi", "--duration", "5"])
    assert j["settings"]["pi_target"] == "any", j["settings"]
    names = [c["name"] for c in j["policies"][0]["classes"]]
    assert names == ["chat", "rag", "batch"], names
    for p in j["policies"]:
        where = p["name"]
        check_misses(p["slo_misses"], p["requests"], where)
        assert p["slo_misses"]["any"]["rate"] == p["slo_violation_rate"], where
        for t in ("interactive", "bulk"):
            tm = p["tiers"][t]
            check_misses(tm["slo_misses"], tm["requests"], f"{where}.tiers.{t}")
            assert tm["slo_misses"]["any"]["count"] == tm["violations"], f"{where}.{t}"
            assert tm["slo_misses"]["e2e"]["count"] == tm["late"] + tm["rejected"], f"{where}.{t}"
            assert tm["tbt"]["count"] <= tm["completed"], f"{where}.{t}"
        for c in p["classes"]:
            check_misses(c["slo_misses"], c["requests"], f"{where}.classes.{c['name']}")
        for k in KINDS:  # the classes partition the requests, and so every kind's misses
            assert sum(c["slo_misses"][k]["count"] for c in p["classes"]) == p["slo_misses"][k]["count"], (where, k)
        assert sum(c["requests"] for c in p["classes"]) == p["requests"], where
        assert 0 < p["tbt_p50_ms"] <= p["tbt_p90_ms"] <= p["tbt_p99_ms"], where
    rr = j["policies"][0]
    assert rr["slo_misses"]["any"]["count"] > 0, "round_robin missed nothing: the checks above test little"
    batch = rr["classes"][2]
    assert batch["tier"] == "bulk" and batch["slo_misses"]["tbt"]["count"] == batch["rejected"], batch


case("the JSON reports SLO misses by kind, overall, per tier and per class, consistently", slo_misses_by_kind)


def trace_classes_reported():
    j, err = json_run(["--quiet", "--trace", str(small), "--policies", "least_loaded"])
    p = j["policies"][0]
    assert [c["name"] for c in p["classes"]] == ["chat", "rag", "batch"], p["classes"]
    assert sum(c["requests"] for c in p["classes"]) == p["requests"] == 30
    check_misses(p["slo_misses"], p["requests"], "trace")


case("a replayed trace reports misses per class of the mix that labels it", trace_classes_reported)

case("--pi-target with a bad value is refused, naming it",
     refused(["--pi-target", "latency", "--quiet", "--policies", "energy_pi", "--duration", "2"], "--pi-target",
             "'latency'", "any, ttft, tbt, e2e"))
case("--pi-target without a PI policy is refused, not ignored",
     refused(["--pi-target", "ttft", *FAST], "--pi-target", "applies only with a PI policy"))
case("--pi-target '' is refused, not its default", refused(["--pi-target", "", *FAST], "--pi-target", "must not be empty"))


def pi_target_reported():
    j, err = json_run(["--quiet", "--policies", "energy_pi", "--duration", "2", "--pi-target", "tbt"])
    assert j["settings"]["pi_target"] == "tbt", j["settings"]


case("--pi-target is reported in the JSON settings", pi_target_reported)

# ---- operational carbon: --carbon FILE, --start; the fleet's sites name the series' zones ----
grid = write("grid.csv", "datetime_utc,dc1\n2021-01-01 00:00:00,400\n2021-01-01 01:00:00,200\n")
case("--start without --carbon is refused, not ignored",
     refused(["--start", "2021-01-01 00:00:00", *FAST], "--start", "applies only with --carbon"))
case("--carbon with a site that is no zone of the series is refused, naming both",
     refused(["--carbon", str(write("grid_fr.csv", "datetime_utc,FR\n2021-01-01 00:00:00,50\n")), *FAST],
             "site = 'dc1'", "no zone", "FR"))
case("--start outside the series is refused",
     refused(["--carbon", str(grid), "--start", "2021-01-01 02:00:00", *FAST], "--start", "within"))
case("a series with a missing hour is refused, naming the line",
     refused(["--carbon", str(write("gap.csv", "datetime_utc,dc1\n2021-01-01 00:00:00,1\n2021-01-01 02:00:00,1\n")),
              *FAST], "gap.csv:3", "datetime_utc", "one hour after"))
case("a negative intensity is refused, naming file, line and zone",
     refused(["--carbon", str(write("neg.csv", "datetime_utc,dc1\n2021-01-01 00:00:00,-4\n")), *FAST],
             "neg.csv:2", "field dc1", "'-4'"))
case("--carbon '' is refused, not its default", refused(["--carbon", "", *FAST], "--carbon", "must not be empty"))


def carbon_reported():
    # Two seconds at 00:30: every joule in the hour of 400 g/kWh.
    j, err = json_run(["--carbon", str(grid), "--start", "2021-01-01 00:30:00", *FAST])
    p = j["policies"][0]
    assert abs(p["carbon_kg"] - p["energy_mj"] / 3.6 * 400 / 1e3) < 1e-9 * max(1.0, p["carbon_kg"]), p
    assert p["carbon_kg_by_site"] == {"dc1": p["carbon_kg"]}, p["carbon_kg_by_site"]
    assert p["carbon_total_kg"] >= p["carbon_kg"]
    j2, _ = json_run([*FAST])
    assert "carbon_kg" not in j2["policies"][0], "carbon keys without --carbon"


case("--carbon reports carbon_kg and carbon_kg_by_site (energy x intensity here)", carbon_reported)


def carbon_at_pue():
    # The fleet file's pue column: carbon is energy x PUE x intensity, and the table names each site's PUE.
    fleet = write("fleet_pue.csv", f"device_model,count,site,pue\n{(ROOT / 'data/devices/L4.csv').resolve()},2,dc1,1.25\n")
    j, err = json_run(["--carbon", str(grid), "--start", "2021-01-01 00:30:00", "--fleet", str(fleet), *FAST])
    p = j["policies"][0]
    assert abs(p["carbon_kg"] - p["energy_mj"] / 3.6 * 400 * 1.25 / 1e3) < 1e-9 * max(1.0, p["carbon_kg"]), p
    assert j["device_params"][0]["pue"] == 1.25, j["device_params"]
    assert j["device_params"][0]["latency_ms"] == 0, j["device_params"]
    rc, out, err = run(["--carbon", str(grid), "--fleet", str(fleet), *FAST])
    assert rc == 0 and "PUE dc1 1.25" in out, out


case("the fleet file's pue scales carbon and is reported", carbon_at_pue)


def shift_waits_for_the_cleaner_hour():
    # At 00:30 the hour of 400 g/kWh; bulk work (an hour of budget) waits for 01:00 (200 g/kWh).
    j, _ = json_run(["--carbon", str(grid), "--start", "2021-01-01 00:30:00", "--shift", "perfect", *FAST])
    p = j["policies"][0]
    assert p["deferred"] > 0, p
    assert 1798 <= p["deferred_mean_s"] <= 1800, p["deferred_mean_s"]
    j0, _ = json_run(["--carbon", str(grid), "--start", "2021-01-01 00:30:00", *FAST])
    p0 = j0["policies"][0]
    assert p0["deferred"] == 0, p0
    assert p["carbon_kg"] < p0["carbon_kg"], (p["carbon_kg"], p0["carbon_kg"])
    assert p["completed"] + p["rejected"] == p0["completed"] + p0["rejected"], (p, p0)


case("--shift perfect holds bulk work for the cleaner hour, and it still completes", shift_waits_for_the_cleaner_hour)
case("--shift without --carbon is refused", refused(["--shift", "perfect", *FAST], "--shift", "only with --carbon"))
case("--shift with an unknown forecast is refused",
     refused(["--carbon", str(grid), "--shift", "oracle", *FAST], "--shift", "'oracle'", "off, perfect or persistence"))
def governor_lowers_clocks():
    # At a tenth of saturation the governor finds slack everywhere: clocks fall, energy with them, nothing lost.
    args = ["--quiet", "--policies", "least_loaded", "--duration", "20", "--utilisation", "0.1"]
    j0, _ = json_run(args)
    j, err = json_run([*args, "--governor", "miad"])
    p0, p = j0["policies"][0], j["policies"][0]
    assert j["settings"]["governor"] == "miad" and j["settings"]["dvfs"].endswith("a100_perseus.csv"), j["settings"]
    assert p["clock_changes"] > 0, p
    assert "clock_changes" not in p0, p0
    assert p["energy_mj"] < p0["energy_mj"], (p["energy_mj"], p0["energy_mj"])
    assert p["completed"] + p["rejected"] == p0["completed"] + p0["rejected"], (p, p0)
    # Clock points alone (no governor): the run is the run without them.
    j1, _ = json_run([*args, "--dvfs", str(ROOT / "data/dvfs/a100_perseus.csv")])
    assert j1["policies"][0]["energy_mj"] == p0["energy_mj"], (j1["policies"][0]["energy_mj"], p0["energy_mj"])


case("--governor miad lowers clocks and energy at light load, every request accounted for", governor_lowers_clocks)
case("--governor with an unknown name is refused", refused(["--governor", "ondemand", *FAST], "--governor", "'ondemand'", "off or miad"))
case("--dvfs with a missing file is refused", refused(["--dvfs", str(TMP / "none.csv"), *FAST], "none.csv"))
case("--dvfs with a bad row names file, line and field",
     refused(["--dvfs", str(write("curve_bad.csv", "clock_mhz,clock_fraction,time_ratio,power_ratio\n1410,1,1,1\n1000,0.7,nan,0.6\n")),
              *FAST], "curve_bad.csv:3", "time_ratio", "nan"))

def fairness_reported():
    j, _ = json_run(["--clients", "3,1", *FAST])
    f = j["policies"][0]["fairness"]
    assert j["settings"]["client_shares"] == [3.0, 1.0], j["settings"]
    assert f["clients"] in (1, 2) and 0 <= f["service_gap"] and 0 < f["jain_index"] <= 1, f
    # The labels are drawn apart from the requests: the run itself is the same with any --clients.
    j1, _ = json_run(["--clients", "1", *FAST])
    assert j1["policies"][0]["energy_mj"] == j["policies"][0]["energy_mj"]
    assert j1["policies"][0]["fairness"]["epochs"] == 0, j1["policies"][0]["fairness"]
    rc, out, err = run(["--clients", "4", "--queue", "vtc", *FAST])
    assert rc == 0 and "fairness between 4 clients" in out, (rc, err[-300:])


case("--clients labels requests, fairness is reported, --queue vtc runs", fairness_reported)
case("--clients 0 is refused", refused(["--clients", "0", *FAST], "--clients", "'0'"))
case("--clients with a negative share is refused", refused(["--clients", "1,-2", *FAST], "--clients", "share 1", "'-2'"))
case("--clients with only zero shares is refused", refused(["--clients", "0,0", *FAST], "--clients", "share of 0"))
case("--queue with an unknown discipline names vtc and preemptive_llf among the valid ones",
     refused(["--queue", "wfq", *FAST], "--queue", "'wfq'", "vtc", "preemptive_llf"))


def preemptive_llf_runs():
    j, _ = json_run(["--queue", "preemptive_llf", "--slots", "4", "--policies", "least_loaded", "--utilisation", "1.2",
                     "--quiet", "--duration", "2"])
    p = j["policies"][0]
    assert j["settings"]["queue"] == "preemptive_llf" and j["settings"]["slots"] == 4, j["settings"]
    assert j["settings"]["resume"] == "resident", j["settings"]
    assert p["preemptions"] > 0 and p["recomputed_tok"] == 0, p  # resident: a preempted request keeps its KV
    j2, _ = json_run(["--queue", "preemptive_llf", "--slots", "4", "--resume", "recompute", "--policies", "least_loaded",
                      "--utilisation", "1.2", "--quiet", "--duration", "2"])
    p2 = j2["policies"][0]
    assert p2["preemptions"] > 0 and p2["recomputed_tok"] > 0, p2
    assert p2["requests"] == p2["completed"] + p2["rejected"], p2
    assert p["requests"] == p["completed"] + p["rejected"], p
    # Other queues report no preemption keys; every run reports the mean TTFT.
    j1, _ = json_run(FAST)
    assert 0 < j1["policies"][0]["ttft_mean_ms"] <= 1000 * j1["policies"][0]["sim_time_s"], j1["policies"][0]
    assert "preemptions" not in j1["policies"][0] and "slots" not in j1["settings"]
    rc, out, err = run(["--queue", "preemptive_llf", "--laxity-margin", "0.5", *FAST])
    assert rc == 0 and "preemptive least laxity first (max_batch slots, laxity margin 0.5 s, preempted requests keep " \
        "their KV)" in out, (rc, out[-600:], err[-300:])


case("--queue preemptive_llf preempts, reports its preemptions, accounts for every request", preemptive_llf_runs)
case("--slots without --queue preemptive_llf is refused",
     refused(["--slots", "4", *FAST], "--slots", "4", "preemptive_llf"))
case("--laxity-margin without --queue preemptive_llf is refused",
     refused(["--laxity-margin", "1", *FAST], "--laxity-margin", "1", "preemptive_llf"))
case("--laxity-margin below 0 is refused",
     refused(["--laxity-margin", "-1", "--queue", "preemptive_llf", *FAST], "--laxity-margin", "-1"))
def freesh_plan_runs():
    grid = str(ROOT / "data/carbon/electricitymaps_2022-06-01_7d_direct.csv")
    fleet = str(ROOT / "data/fleets/freesh-three-sites.csv")
    j, _ = json_run(["--fleet", fleet, "--carbon", grid, "--policies", "freesh_plan,capacity_rr", "--duration", "600",
                     "--quiet"])
    assert j["plan"]["windows"] == 1 and j["plan"]["objective"] == "carbon" and j["plan"]["window_s"] == 1800, j["plan"]
    p = j["policies"][0]
    assert p["name"] == "freesh_plan" and p["requests"] == p["completed"] + p["rejected"], p
    assert "plan_fallbacks" in p and "plan_fallbacks" not in j["policies"][1], p
    # The plan runs no instance at DE-LU, the dirtiest zone then: its GPUs only idle.
    assert p["carbon_kg_by_site"]["DE-LU"] < j["policies"][1]["carbon_kg_by_site"]["DE-LU"], p["carbon_kg_by_site"]
    j2, _ = json_run(["--fleet", fleet, "--carbon", grid, "--policies", "freesh_plan", "--duration", "600", "--quiet",
                      "--plan-capacity", "0.5"])
    assert j2["plan"]["capacity_fraction"] == 0.5 and j["plan"]["capacity_fraction"] == 1, j2["plan"]
    # Planned at half of saturation, the plan puts more devices to work: more energy than at saturation.
    assert j2["policies"][0]["energy_mj"] > p["energy_mj"], (j2["policies"][0]["energy_mj"], p["energy_mj"])
    j3, _ = json_run(["--fleet", fleet, "--policies", "freesh_plan", "--duration", "60", "--quiet"])
    assert j3["plan"]["objective"] == "energy", j3["plan"]  # no --carbon: the energy objective


case("--policies freesh_plan plans each window with GLPK and serves within it", freesh_plan_runs)
def freesh_plan_not_by_default():
    j, _ = json_run(["--quiet", "--duration", "2"])
    names = [p["name"] for p in j["policies"]]
    assert "freesh_plan" not in names and "capacity_rr" in names and "plan" not in j, names


case("freesh_plan is not in the default policy list (it needs plans)", freesh_plan_not_by_default)
case("--plan-capacity without freesh_plan is refused",
     refused(["--plan-capacity", "0.7", *FAST], "--plan-capacity", "0.7", "freesh_plan"))
case("--plan-capacity outside (0, 1] is refused",
     refused(["--policies", "freesh_plan", "--plan-capacity", "0", "--quiet", "--duration", "2"], "--plan-capacity", "0"))
case("--plan-objective without freesh_plan is refused",
     refused(["--plan-objective", "energy", *FAST], "--plan-objective", "'energy'", "freesh_plan"))
case("--plan-objective carbon without --carbon is refused",
     refused(["--policies", "freesh_plan", "--plan-objective", "carbon", "--quiet", "--duration", "2"],
             "--plan-objective", "'carbon'", "--carbon"))
case("freesh_plan with --trace is refused: there is no demand series to plan on",
     refused(["--policies", "freesh_plan", "--trace", "default", "--quiet", "--duration", "2"], "freesh_plan", "--trace"))
case("--resume with an unknown mode is refused",
     refused(["--resume", "swap", "--queue", "preemptive_llf", *FAST], "--resume", "'swap'", "resident or recompute"))
case("--resume without --queue preemptive_llf is refused",
     refused(["--resume", "recompute", *FAST], "--resume", "'recompute'", "preemptive_llf"))
case("--slots that is not a whole number is refused", refused(["--slots", "x", "--queue", "preemptive_llf", *FAST],
                                                              "--slots", "'x'"))

case("a pue below 1 is refused, naming file, line and field",
     refused(["--fleet", str(write("fleet_bad_pue.csv",
                                   f"device_model,count,site,pue\n{(ROOT / 'data/devices/L4.csv').resolve()},2,dc1,0.5\n")),
              *FAST], "fleet_bad_pue.csv:2", "field pue", "'0.5'"))

failed = 0
for name, why in results:
    print(("ok    " if why is None else "FAIL  ") + name + ("" if why is None else ": " + why))
    failed += why is not None
print(f"{len(results) - failed} passed, {failed} failed")
sys.exit(1 if failed else 0)
