"""joulesched-plan as a user runs it: FREESH's planner on the shipped data gives one row per window, the CSV
and the JSON agree, and bad options or input get exit code 2 and a message naming the file, line and field.

usage: joulesched_plan_cli_test.py <joulesched-plan> <source dir>

Prints one line per case and closes with 'N passed, N failed'.
"""
import csv
import io
import json
import pathlib
import shutil
import subprocess
import sys
import tempfile

sys.dont_write_bytecode = True

PLAN = sys.argv[1]
ROOT = pathlib.Path(sys.argv[2])
DATA = ROOT / "data" / "freesh"
TMP = pathlib.Path(tempfile.mkdtemp(prefix="joulesched_plan_cli_"))
results = []


def run(args, timeout=120):
    p = subprocess.run([PLAN, *args], capture_output=True, text=True, timeout=timeout)
    return p.returncode, p.stdout, p.stderr


def case(name, fn):
    try:
        fn()
        results.append((name, None))
    except AssertionError as e:
        results.append((name, str(e) or "assertion failed"))
    except Exception as e:
        results.append((name, f"{type(e).__name__}: {e}"))


def refused(args, *needles):
    def check():
        rc, _, err = run(args)
        assert rc == 2, f"exit {rc}, stderr: {err[-400:]}"
        for n in needles:
            assert n in err, f"{n!r} not in stderr: {err[-400:]}"
    return check


def broken_copy(name, old, new):
    """A copy of the shipped tables with one file's text changed."""
    d = TMP / f"broken_{len(list(TMP.iterdir()))}"
    shutil.copytree(DATA, d)
    text = (d / name).read_text(encoding="utf-8")
    assert old in text, f"{old!r} not in {name}"
    (d / name).write_text(text.replace(old, new, 1), encoding="utf-8")
    return str(d)


def default_csv():
    rc, out, err = run(["freesh"])
    assert rc == 0, f"exit {rc}: {err[-400:]}"
    assert out.startswith("window,status,objective,"), out[:80]
    rows = list(csv.DictReader(io.StringIO(out)))
    assert len(rows) == 48, f"{len(rows)} windows"
    assert [int(r["window"]) for r in rows] == list(range(48))
    assert all(r["status"] in ("optimal", "infeasible") for r in rows)
    planned = [r for r in rows if r["status"] == "optimal"]
    assert len(planned) > 40, f"{len(planned)} windows planned"
    for r in planned:
        assert float(r["energy_kwh"]) > 0 and int(r["gpus"]) > 0 and "=" in r["instances"], r
    for r in rows:
        if r["status"] == "infeasible":
            assert r["message"], r
    assert "48 windows" in err, err


def json_agrees():
    _, out_csv, _ = run(["freesh", "--partition", "b", "--objective", "energy"])
    rc, out, err = run(["freesh", "--partition", "b", "--objective", "energy", "--format", "json"])
    assert rc == 0, err
    j = json.loads(out)
    rows = list(csv.DictReader(io.StringIO(out_csv)))
    assert j["partition"] == "b" and j["objective"] == "energy"
    assert len(j["windows"]) == len(rows) == 48
    assert j["optimal"] + j["infeasible"] + j["errors"] == 48
    total = sum(w["energy_kwh"] for w in j["windows"] if w["status"] == "optimal")
    assert abs(total - j["energy_kwh"]) < 1e-9 * max(1, total)
    for w, r in zip(j["windows"], rows):
        assert w["status"] == r["status"]
        if w["status"] == "optimal":
            assert abs(w["energy_kwh"] - float(r["energy_kwh"])) <= 1e-5 * w["energy_kwh"]
            assert w["instances"] == r["instances"]


def energy_objective_uses_no_more_energy():
    def energies(objective):
        _, out, _ = run(["freesh", "--objective", objective])
        return {r["window"]: float(r["energy_kwh"]) for r in csv.DictReader(io.StringIO(out)) if r["status"] == "optimal"}
    by_energy, by_carbon = energies("energy"), energies("carbon")
    assert by_energy.keys() == by_carbon.keys()
    for w in by_energy:
        assert by_energy[w] <= by_carbon[w] * (1 + 1e-6), (w, by_energy[w], by_carbon[w])


def smaller_beta_plans_fewer():
    def planned(beta):
        rc, out, err = run(["freesh", "--beta", beta, "--format", "json"])
        assert rc == 0, err
        return json.loads(out)["optimal"]
    assert planned("1") < planned("2")


case("the shipped data: 48 windows, planned or explained", default_csv)
case("json and csv say the same", json_agrees)
case("the energy objective's plans use no more energy than the carbon objective's", energy_objective_uses_no_more_energy)
case("a smaller beta needs more capacity: fewer windows planned", smaller_beta_plans_fewer)
case("--partition z", refused(["freesh", "--partition", "z"], "--partition", "'z'", "a or b"))
case("--objective cost", refused(["freesh", "--objective", "cost"], "--objective", "'cost'"))
case("--format xml", refused(["freesh", "--format", "xml"], "--format", "'xml'"))
case("--beta 0", refused(["freesh", "--beta", "0"], "beta", "0"))
case("--beta nan", refused(["freesh", "--beta", "nan"], "beta"))
case("--window-steps 0", refused(["freesh", "--window-steps", "0"], "window_steps"))
case("no subcommand", refused([], "subcommand"))
case("a folder without the tables", refused(["freesh", "--data", str(TMP / "none")], "sites.csv"))
case("a negative demand names file, line and field", refused(
    ["freesh", "--data", broken_copy("demand_qps_partition_a.csv", "\n0,0,2.2,", "\n0,0,-2.2,")],
    "demand_qps_partition_a.csv:2", "SS", "-2.2"))
case("an unknown GPU type names file, line and field", refused(
    ["freesh", "--data", broken_copy("profiles_partition_a.csv", "SS,A100x2,A100,", "SS,A100x2,V100,")],
    "profiles_partition_a.csv:2", "gpu_type", "V100"))
case("a gap in the steps names the line", refused(
    ["freesh", "--data", broken_copy("emission_coefficient_3sites.csv", "\n1,300,", "\n2,300,")],
    "emission_coefficient_3sites.csv:3", "step"))

failed = [(n, why) for n, why in results if why]
for n, why in results:
    print(("FAIL " if why else "ok   ") + n + (f": {why}" if why else ""))
print(f"{len(results) - len(failed)} passed, {len(failed)} failed")
shutil.rmtree(TMP, ignore_errors=True)
sys.exit(1 if failed else 0)
