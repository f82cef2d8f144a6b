#!/usr/bin/env python3
"""Hostile-input sweep of the duality CLI (issue #25). A tool, not part of CI.

Drives a built `duality` binary (and `duality-torch` for `align`, when
given) with bad input of the issue's classes, each case under a wall-clock
limit and an address-space limit (ulimit -v), and tabulates the outcomes:

  clean error        non-zero exit, a short message that names the flag,
                     value or file
  accepted           exit 0, no non-finite number printed
  panic (101)        exit 101 / "panicked at"
  abort              killed by a signal (allocation failure, stack overflow)
  timeout            over the limit
  non-finite printed exit 0 with NaN / inf in the output
  poor message       non-zero exit with an empty or over-long message, or one
                     that names neither the flag nor the value nor the file

The cases: for every option that takes a value (read from each command's
--help), hostile values (nan, inf, -1, 0, 1e308, 1e12, 2^64, junk); for
every input file, hostile files (empty, BOM, header only, NaN and 1e308
cells, a 1 MB line, duplicated header, CRLF, binary junk, a directory, a
missing file, and format-specific ones: huge DIMENSION, asymmetric matrix,
1 x 100,000 DAG data, unknown config keys, huge sizes in configs).

    python3 crates/fuzz/sweep/sweep.py --bin target/debug/duality \
        [--torch-bin target/debug/duality-torch] [--jobs 2] [--timeout 60] \
        [--memory-gb 8] [--out sweep.json] [--limit N]

Prints the table (markdown) and every failure with its reproducer.
"""
import argparse
import json
import os
import re
import resource
import shutil
import subprocess
import sys
import tempfile
from concurrent.futures import ThreadPoolExecutor

HOSTILE_VALUES = ["nan", "inf", "-1", "0", "1e308", "1e12", "18446744073709551616", "x?"]
# A non-finite number printed as a value; not a name that contains one
# (`tsallis-inf`, `neg-inf-guard`): letters, digits, `_` or `-` around it
# make it part of a word.
NONFINITE = re.compile(r"(?<![A-Za-z0-9_-])(NaN|nan|-?inf|-?Infinity)(?![A-Za-z0-9_-])")

def scores_csv():
    rows = ["algorithm,task,run,score"]
    for a, shift in (("a", 0.0), ("b", 0.3)):
        for t in range(3):
            for r in range(5):
                rows.append(f"{a},t{t},{r},{shift + ((r * 7 + t * 3) % 5) * 0.1:.3f}")
    return "\n".join(rows) + "\n"

def base_files():
    """Valid inputs, name -> text."""
    mc = "y_true,pred_a,pred_b\n" + "".join(
        f"{i % 2},{(i % 2) if i < 25 else 1 - i % 2},{(i % 2) if i < 15 else 1 - i % 2}\n" for i in range(30))
    ada = "agent,score\n" + "".join(f"{a},{s + ((r * 3) % 5) * 0.3}\n" for a, s in (("a", 0), ("b", 5)) for r in range(4))
    cal = "y,good,bad\n" + "".join(f"{2*i*0.1 + (i % 3) * 0.05},{2*i*0.1},{(i*13) % 7}\n" for i in range(40))
    test = "good,bad\n" + "".join(f"{i*0.15},{(i*5) % 7}\n" for i in range(15))
    long_runs = "exp_name,env_id,seed,global_step,charts/episodic_return\n" + "".join(
        f"{a},CartPole-v1,{s},{st},{10*st*s + k}\n" for k, a in enumerate(("ppo", "dqn")) for s in (1, 2) for st in range(1, 6))
    votes = "sample,model,class,logit\n" + "".join(
        f"s{i},{m},{c},{((i + m + c * 2) % 5) * 0.3}\n" for i in range(6) for m in range(3) for c in range(2))
    dag = "a,b,c\n" + "".join(f"{i*0.1:.2f},{(i*0.1)*2 + (i % 3)*0.05:.3f},{(i % 7)*0.2:.2f}\n" for i in range(60))
    ope = "action,reward,pscore,pi_0,pi_1,qhat_0,qhat_1\n" + "".join(
        f"{i % 2},{(i * 7) % 3 % 2},0.5,0.3,0.7,0.4,0.6\n" for i in range(40))
    tsp = "NAME : tiny\nTYPE : TSP\nDIMENSION : 6\nEDGE_WEIGHT_TYPE : EUC_2D\nNODE_COORD_SECTION\n1 0 0\n2 0 10\n3 10 10\n4 10 0\n5 5 5\n6 2 8\nEOF\n"
    mdp = open(os.path.join(ROOT, "fixtures/distdp/cvar_brute_force.toml")).read()
    bandit = "horizon = 200\nrepetitions = 5\nseed = 7\n\n[environment]\nkind = \"bernoulli\"\nmeans = [0.9, 0.5, 0.3]\n\n[[policies]]\nkind = \"ucb1\"\n\n[[policies]]\nkind = \"thompson_beta\"\n\n[ci]\nreps = 200\nconfidence = 0.95\n"
    return {
        "scores.csv": scores_csv(),
        "auc.csv": "label,score\n1,0.9\n0,0.1\n1,0.4\n0,0.5\n1,0.8\n0,0.3\n",
        "adastop.csv": ada,
        "mcnemar.csv": mc,
        "runs.csv": long_runs,
        "sequence.txt": "1 0 1 1 0 1 0 0 1 1 1 0\n",
        "cal.csv": cal,
        "test.csv": test,
        "diff.csv": "difference\n1\n2\n3\n-1\n0.5\n",
        "a.csv": "item,score\nq1,1\nq2,0\nq3,1\nq4,1\n",
        "b.csv": "item,score\nq4,0\nq3,1\nq2,0\nq1,0\n",
        "cluster.csv": "correct,cluster\n1,a\n1,a\n0,b\n0,b\n1,c\n",
        "delong.csv": "label,score_a,score_b\n1,0.9,0.6\n1,0.8,0.9\n0,0.3,0.7\n0,0.1,0.2\n1,0.7,0.1\n0,0.4,0.5\n",
        "votes.csv": votes,
        "sim.toml": bandit,
        "ope.csv": ope,
        "prices.csv": open(os.path.join(ROOT, "fixtures/bandits/prices_sample.csv")).read(),
        "stream.csv": open(os.path.join(ROOT, "fixtures/bandits/stream_sample.csv")).read(),
        "tiny.tsp": tsp,
        "costs.csv": "4,1,3\n2,0,5\n3,2,2\n",
        "dag.csv": dag,
        "small.vrp": open(os.path.join(ROOT, "fixtures/combopt/cvrplib/E-n22-k4.vrp")).read(),
        "mdp.toml": mdp,
        "align.toml": open(os.path.join(ROOT, "fixtures/align/train_offline.toml")).read(),
        "pairs.csv": open(os.path.join(ROOT, "fixtures/align/pairs.csv")).read(),
    }

# command argv (after the binary); {name} is an input file, {out:name} an output path.
BASES = [
    ["eval", "aggregate", "--scores", "{scores.csv}", "--reps", "200"],
    ["eval", "improvement", "--scores", "{scores.csv}", "--x", "a", "--y", "b", "--reps", "200"],
    ["eval", "profile", "--scores", "{scores.csv}", "--tau", "0:1:5", "--reps", "200"],
    ["eval", "auc", "--input", "{auc.csv}", "--reps", "200"],
    ["eval", "adastop", "--results", "{adastop.csv}", "--n", "4", "--stages", "3", "--permutations", "200", "--state", "{out:state.json}"],
    ["eval", "mcnemar", "--input", "{mcnemar.csv}"],
    ["eval", "import-runs", "--input", "{runs.csv}", "--final-score", "last-episodes:2"],
    ["eval", "sequence", "--input", "{sequence.txt}"],
    ["eval", "conformal-select", "--calibration", "{cal.csv}", "--test", "{test.csv}", "--threshold", "1", "--q", "0.2"],
    ["eval", "corrected-t", "--input", "{diff.csv}", "--n-train", "90", "--n-test", "10"],
    ["eval", "paired-ci", "--a", "{a.csv}", "--b", "{b.csv}", "--reps", "200"],
    ["eval", "cluster-accuracy", "--input", "{cluster.csv}"],
    ["eval", "delong-ci", "--input", "{delong.csv}"],
    ["eval", "plan", "--scores", "{scores.csv}", "--target-width", "0.1", "--reps", "100"],
    ["eval", "roe", "--votes", "{votes.csv}"],
    ["bandit", "simulate", "--config", "{sim.toml}", "--svg", "{out:r.svg}", "--records", "{out:r.json}"],
    ["bandit", "ope", "--logged", "{ope.csv}", "--ci-reps", "100"],
    ["bandit", "relax", "--systems", "20"],
    ["bandit", "portfolio", "--prices", "{prices.csv}"],
    ["bandit", "private-count", "--stream", "{stream.csv}", "--epsilon", "1"],
    ["tsp", "solve", "{tiny.tsp}"],
    ["assign", "--costs", "{costs.csv}"],
    ["dag", "learn", "--data", "{dag.csv}"],
    ["dag", "learn", "--data", "{dag.csv}", "--method", "topo"],
    ["vrp", "solve", "{small.vrp}", "--time-limit", "1"],
    ["ddp", "solve", "--mdp", "{mdp.toml}", "--objective", "cvar:0.5"],
    ["ddp", "price", "--paths", "2000", "--steps", "10"],
    ["dfo", "solve", "--problem", "rosenbrock", "--max-evals", "200"],
    ["synth", "budget", "--epsilon", "1"],
    ["gflownet", "front", "--method", "nsga2", "--budget", "200"],
    ["retro", "search", "--method", "bfs"],
    ["align", "train", "--config", "{align.toml}"],
    ["align", "loss", "--input", "{pairs.csv}"],
]

def hostile_files(name, text):
    """Bad versions of input `name` (valid `text`): (label, content or None=dir / missing)."""
    lines = text.splitlines()
    header = lines[0] if lines else ""
    out = [
        ("empty", ""),
        ("bom", "\ufeff" + text),
        ("header-only", header + "\n"),
        ("crlf", text.replace("\n", "\r\n")),
        ("dup-header", header + "\n" + text),
        ("junk-bytes", "\x00\xff\xfe garbage \x01\n" * 3),
        ("long-line", text + "9" * 1_000_000 + "\n"),
        ("truncated", text[: len(text) // 2]),
        ("directory", None),
        ("missing", "MISSING"),
    ]
    num = re.compile(r"(?<![A-Za-z_])\d+\.\d+|(?<=,)\d+(?=\n|,|$)")
    for v in ("nan", "inf", "1e308", "-1e308", "1.7e308"):
        if num.search(text):
            out.append((f"cells-{v}", num.sub(v, text, count=3)))
    if name.endswith(".tsp"):
        out += [
            ("tsp-dim-2^64-1", text.replace("DIMENSION : 6", "DIMENSION : 18446744073709551615")),
            ("tsp-dim-1e12", text.replace("DIMENSION : 6", "DIMENSION : 1000000000000")),
            ("tsp-explicit-5e9", "NAME: m\nTYPE: TSP\nDIMENSION: 5000000000\nEDGE_WEIGHT_TYPE: EXPLICIT\nEDGE_WEIGHT_FORMAT: FULL_MATRIX\nEDGE_WEIGHT_SECTION\n0 1 2\nEOF\n"),
            ("tsp-asymmetric", "NAME: m\nTYPE: TSP\nDIMENSION: 3\nEDGE_WEIGHT_TYPE: EXPLICIT\nEDGE_WEIGHT_FORMAT: FULL_MATRIX\nEDGE_WEIGHT_SECTION\n0 1 2\n1 0 3\n2 7 0\nEOF\n"),
            ("tsp-dup-dimension", text.replace("DIMENSION : 6", "DIMENSION : 6\nDIMENSION : 7")),
            ("tsp-dup-section", text.replace("EOF", "NODE_COORD_SECTION\n1 0 0\nEOF")),
            ("tsp-geo-lat-500", text.replace("EUC_2D", "GEO").replace("3 10 10", "3 500 10")),
            ("tsp-coords-1e300", text.replace("3 10 10", "3 1e300 10")),
            ("tsp-weights-1e308", "NAME: m\nTYPE: TSP\nDIMENSION: 3\nEDGE_WEIGHT_TYPE: EXPLICIT\nEDGE_WEIGHT_FORMAT: UPPER_ROW\nEDGE_WEIGHT_SECTION\n1e308 1e308 1e308\nEOF\n"),
        ]
    if name == "dag.csv":
        out += [
            ("dag-1x100000", ",".join("1" for _ in range(100_000)) + "\n"),
            ("dag-2x20000", "\n".join(",".join(str((i + j) % 7) for j in range(20_000)) for i in range(2)) + "\n"),
            ("dag-1e200", "\n".join(",".join(f"{(i * 7 + j) % 5}e200" for j in range(3)) for i in range(20)) + "\n"),
        ]
    if name.endswith(".toml"):
        out += [
            ("toml-unknown-key", "rep = 50\n" + text),
            ("toml-garbage", "[[[\n"),
            ("toml-long-key", "x" * 10_000 + " = 1\n" + text),
        ]
    if name == "sim.toml":
        for k, v in (("horizon", "1000000000000"), ("repetitions", "1000000000000"), ("horizon", "0")):
            out.append((f"sim-{k}-{v}", re.sub(rf"^{k} = .*$", f"{k} = {v}", text, flags=re.M)))
        out.append(("sim-huge-k", text.replace("means = [0.9, 0.5, 0.3]", "means = [" + ",".join(["0.5"] * 200_000) + "]")))
        out.append(("sim-ci-reps-1e12", text.replace("reps = 200", "reps = 1000000000000")))
    if name == "mdp.toml":
        out.append(("mdp-states-1e12", re.sub(r"^states = .*$", "states = 1000000000000", text, flags=re.M)))
        out.append(("mdp-horizon-1e12", re.sub(r"^horizon = .*$", "horizon = 1000000000000", text, flags=re.M)))
    if name == "align.toml":
        def set_in(section, k, v):
            body = re.sub(rf"^{k} = .*\n", "", text, flags=re.M) if f"[{section}]" in text else text + f"\n[{section}]\n"
            return body.replace(f"[{section}]\n", f"[{section}]\n{k} = {v}\n", 1)
        for section, k in (("task", "vocab"), ("task", "completion_len"), ("task", "pairs"),
                           ("task", "oracle_scale"), ("offline", "lr"), ("policy", "max_len"), ("policy", "vocab")):
            for v in ("1000000000000", "-4", "nan", "1e300"):
                out.append((f"align-{section}.{k}={v}", set_in(section, k, v)))
        out.append(("align-eval-samples-1e12", text.replace("eval_samples = 400", "eval_samples = 1000000000000")))
    if name == "ope.csv":
        out.append(("ope-policy-rows-sum-2", text.replace("0.3,0.7", "1.3,0.7")))
        out.append(("ope-pscore-0", text.replace(",0.5,", ",0,")))
    if name == "adastop.csv":
        out.append(("adastop-3000-agents", "agent,score\n" + "".join(f"g{i},{(i * 7) % 11}\n" for i in range(3000) for _ in range(4))))
    return out

def value_options(binary, cmd):
    """Options that take a value, from `--help` (format and max-memory excluded)."""
    try:
        h = subprocess.run([binary, *cmd, "--help"], capture_output=True, text=True, timeout=30).stdout
    except Exception:
        return []
    opts = re.findall(r"^\s+(?:-\w, )?(--[a-z0-9-]+) <[A-Z_]+>", h, flags=re.M)
    return [o for o in opts if o not in ("--format", "--max-memory")]

def set_limits(mem_bytes):
    def f():
        resource.setrlimit(resource.RLIMIT_AS, (mem_bytes, mem_bytes))
        resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    return f

def classify(rc, out, err, timed_out, needles):
    if timed_out:
        return "timeout"
    if rc == 101 or "panicked at" in err:
        return "panic (101)"
    if rc < 0 or rc in (134, 137, 139):
        return "abort"
    if rc == 0:
        return "non-finite printed" if NONFINITE.search(out) else "accepted"
    e = err.strip()
    if not e or len(e) > 2000:
        return "poor message"
    if needles and not any(n and n.lower() in e.lower() for n in needles):
        return "poor message"
    return "clean error"

def main():
    global ROOT
    ap = argparse.ArgumentParser()
    ap.add_argument("--bin", required=True)
    ap.add_argument("--torch-bin")
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("--timeout", type=float, default=60)
    ap.add_argument("--memory-gb", type=float, default=8)
    ap.add_argument("--out")
    ap.add_argument("--limit", type=int)
    ap.add_argument("--count", action="store_true", help="print the number of cases and exit")
    ap.add_argument("--only", action="append", default=[],
                    help="run only the cases whose name starts with this (repeatable)")
    a = ap.parse_args()
    ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "../../.."))
    work = tempfile.mkdtemp(prefix="duality-sweep-")
    files = base_files()
    for n, t in files.items():
        with open(os.path.join(work, n), "w") as f:
            f.write(t)
    cases = []  # (label, argv list (binary first), needles)
    for base in BASES:
        binary = a.torch_bin if base[0] == "align" else a.bin
        if not binary:
            continue
        cmd = [x for x in base if not x.startswith("{") and not x.startswith("-")][:2]
        if cmd[0] == "assign":
            cmd = ["assign"]
        # Hostile option values.
        for opt in value_options(binary, cmd):
            for v in HOSTILE_VALUES:
                argv = list(base)
                if opt in argv:
                    i = argv.index(opt)
                    if argv[i + 1].startswith("{"):
                        continue  # a file option: covered below
                    argv[i + 1] = v
                else:
                    argv += [opt, v]
                cases.append((f"{' '.join(cmd)} {opt}={v}", binary, argv, [opt.lstrip("-"), v]))
        # Hostile input files.
        for i, x in enumerate(base):
            if not (x.startswith("{") and not x.startswith("{out:")):
                continue
            name = x[1:-1]
            for label, content in hostile_files(name, files[name]):
                path = os.path.join(work, f"{label}-{name}".replace("/", "_"))
                if content is None:
                    os.makedirs(path, exist_ok=True)
                elif content != "MISSING":
                    with open(path, "w", newline="") as f:
                        f.write(content)
                argv = list(base)
                argv[i] = "{" + path + "}"
                cases.append((f"{' '.join(cmd)} {name}:{label}", binary, argv, [os.path.basename(path)]))
    if a.only:
        cases = [c for c in cases if any(c[0].startswith(p) for p in a.only)]
    if a.limit:
        cases = cases[: a.limit]
    if a.count:
        from collections import Counter
        per = Counter(c[0].split(" --")[0].split(" {")[0].rsplit(" ", 1)[0] if False else " ".join(c[2][:2]) for c in cases)
        print(len(cases), dict(per))
        return
    mem = int(a.memory_gb * (1 << 30))

    def run(case):
        label, binary, argv, needles = case
        d = tempfile.mkdtemp(dir=work)
        real = []
        for x in argv:
            if x.startswith("{out:"):
                real.append(os.path.join(d, x[5:-1]))
            elif x.startswith("{"):
                n = x[1:-1]
                real.append(n if os.path.isabs(n) else os.path.join(work, n))
            else:
                real.append(x)
        env = dict(os.environ, DUALITY_NO_PROGRESS="1")
        try:
            # cwd: a hostile value given to an output flag (`--out 1e308`)
            # names a file, which must land in the case's scratch folder.
            p = subprocess.run([binary, *real], capture_output=True, timeout=a.timeout,
                               preexec_fn=set_limits(mem), env=env, cwd=d)
            rc, out, err, to = p.returncode, p.stdout.decode("utf-8", "replace"), p.stderr.decode("utf-8", "replace"), False
        except subprocess.TimeoutExpired as e:
            rc, out, err, to = -9, "", "", True
        shutil.rmtree(d, ignore_errors=True)
        outcome = classify(rc, out, err, to, needles)
        return {"case": label, "argv": [os.path.basename(binary), *real], "rc": rc, "outcome": outcome,
                "stderr": err.strip()[:300], "stdout": out.strip()[:200] if outcome == "non-finite printed" else ""}

    with ThreadPoolExecutor(a.jobs) as ex:
        results = list(ex.map(run, cases))
    order = ["clean error", "accepted", "panic (101)", "abort", "timeout", "non-finite printed", "poor message"]
    counts = {k: 0 for k in order}
    for r in results:
        counts[r["outcome"]] += 1
    print(f"{len(results)} cases, {a.timeout:.0f} s and {a.memory_gb:g} GB (ulimit -v) each\n")
    print("| outcome | count |\n|---|---|")
    for k in order:
        print(f"| {k} | {counts[k]} |")
    print()
    for r in results:
        if r["outcome"] not in ("clean error", "accepted"):
            print(f"- [{r['outcome']}] {r['case']} (rc {r['rc']}): {r['stderr'][:200]!r} {r['stdout'][:120]!r}")
    if a.out:
        with open(a.out, "w") as f:
            json.dump({"counts": counts, "results": results}, f, indent=1)
    shutil.rmtree(work, ignore_errors=True)

if __name__ == "__main__":
    main()
