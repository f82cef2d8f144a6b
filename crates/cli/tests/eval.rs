//! End-to-end tests of `duality eval ...`.

mod common;

use common::{json, run, write};

fn scores_csv() -> String {
    let mut s = String::from("algorithm,task,run,score,extra\n");
    for (a, base) in [("dqn", 0.2), ("spr", 0.9)] {
        for t in 0..4 {
            for r in 0..3 {
                let v = base + 0.1 * t as f64 + 0.05 * r as f64;
                s.push_str(&format!("{a},t{t},{r},{v},x\n"));
            }
        }
    }
    s
}

#[test]
fn aggregate_json_has_estimates_and_cis() {
    let dir = tempfile::tempdir().unwrap();
    let scores = write(dir.path(), "s.csv", &scores_csv());
    let svg = dir.path().join("a.svg");
    let v = json(&[
        "eval",
        "aggregate",
        "--scores",
        &scores,
        "--reps",
        "500",
        "--seed",
        "3",
        "--svg",
        svg.to_str().unwrap(),
        "--format",
        "json",
    ]);
    for alg in ["dqn", "spr"] {
        for m in ["iqm", "mean", "median", "optimality-gap"] {
            let e = &v[alg][m];
            let (est, lo, hi) = (
                e["estimate"].as_f64().unwrap(),
                e["ci"][0].as_f64().unwrap(),
                e["ci"][1].as_f64().unwrap(),
            );
            assert!(lo <= est && est <= hi, "{alg} {m}: {e}");
        }
    }
    // dqn scores: 0.2 + 0.1 t + 0.05 r; mean over everything = 0.2 + 0.15 + 0.05.
    assert!((v["dqn"]["mean"]["estimate"].as_f64().unwrap() - 0.4).abs() < 1e-12);
    assert!(std::fs::read_to_string(svg).unwrap().contains("<svg"));
    // Same seed, same answer.
    let again = json(&[
        "eval",
        "aggregate",
        "--scores",
        &scores,
        "--reps",
        "500",
        "--seed",
        "3",
        "--format",
        "json",
    ]);
    assert_eq!(v, again);
}

#[test]
fn improvement_and_profile() {
    let dir = tempfile::tempdir().unwrap();
    let scores = write(dir.path(), "s.csv", &scores_csv());
    let v = json(&[
        "eval",
        "improvement",
        "--scores",
        &scores,
        "--x",
        "spr",
        "--y",
        "dqn",
        "--reps",
        "300",
        "--format",
        "json",
    ]);
    assert_eq!(v["estimate"].as_f64().unwrap(), 1.0);
    let v = json(&[
        "eval", "profile", "--scores", &scores, "--tau", "0:2:5", "--reps", "200", "--format",
        "json",
    ]);
    assert_eq!(v["taus"].as_array().unwrap().len(), 5);
    assert_eq!(v["profiles"]["spr"][0]["estimate"].as_f64().unwrap(), 1.0);
    let (ok, _, err) = run(&[
        "eval",
        "improvement",
        "--scores",
        &scores,
        "--x",
        "spr",
        "--y",
        "nope",
    ]);
    assert!(!ok && err.contains("nope"), "{err}");
}

#[test]
fn auc_and_mcnemar() {
    let dir = tempfile::tempdir().unwrap();
    let auc = write(
        dir.path(),
        "a.csv",
        "label,score,group\n1,0.9,g\n0,0.9,g\n1,0.5,h\n0,0.1,h\n1,0.3,h\n",
    );
    let v = json(&["eval", "auc", "--input", &auc, "--format", "json"]);
    assert!((v["auroc"].as_f64().unwrap() - 3.5 / 6.0).abs() < 1e-12);
    assert_eq!(v["groups"].as_array().unwrap().len(), 2);
    let bad = write(dir.path(), "b.csv", "label,score\n1,0.9\n2,0.1\n");
    let (ok, _, err) = run(&["eval", "auc", "--input", &bad]);
    assert!(!ok && err.contains("line 3"), "{err}");

    let mut m = String::from("y_true,pred_a,pred_b\n");
    for i in 0..30 {
        let y = i % 2;
        let a = if i < 25 { y } else { 1 - y };
        let b = if i < 15 { y } else { 1 - y };
        m.push_str(&format!("{y},{a},{b}\n"));
    }
    let mc = write(dir.path(), "m.csv", &m);
    let v = json(&["eval", "mcnemar", "--input", &mc, "--format", "json"]);
    assert_eq!(v["table"]["only_a"], 10);
    assert_eq!(v["table"]["only_b"], 0);
    assert!(v["p_exact"].as_f64().unwrap() < 0.01);
}

#[test]
fn adastop_resumes_from_state() {
    let dir = tempfile::tempdir().unwrap();
    let batch = |stage: usize| {
        let mut s = String::new();
        for (a, shift) in [("a", 0.0), ("b", 5.0)] {
            for r in 0..4 {
                s.push_str(&format!(
                    "{a},{}\n",
                    shift + ((stage * 7 + r * 3) % 5) as f64 * 0.3
                ));
            }
        }
        s
    };
    let one = write(dir.path(), "r1.csv", &format!("agent,score\n{}", batch(0)));
    let state = dir.path().join("state.json");
    let st = state.to_str().unwrap();
    let args = |f: &str| -> Vec<String> {
        [
            "eval",
            "adastop",
            "--results",
            f,
            "--n",
            "4",
            "--stages",
            "3",
            "--permutations",
            "500",
            "--state",
            st,
            "--format",
            "json",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect()
    };
    let v = json(&refs(&args(&one)));
    assert_eq!(v["stage"], 1);
    assert!(state.exists());
    // Rows of several stages may interleave; per agent the order of runs defines the stages.
    let two = write(
        dir.path(),
        "r2.csv",
        &format!("agent,score\n{}{}", batch(0), batch(1)),
    );
    let v = json(&refs(&args(&two)));
    assert!(v["stage"].as_u64().unwrap() >= 1);
    let d = v["comparisons"][0]["decision"].as_str().unwrap();
    assert!(["smaller", "continue"].contains(&d), "{v}");
    let changed = write(dir.path(), "r3.csv", &format!("agent,score\n{}", batch(1)));
    let (ok, _, err) = run(&refs(&args(&changed)));
    assert!(!ok && err.contains("differ"), "{err}");
}

#[test]
fn bad_scores_are_reported_with_line() {
    let dir = tempfile::tempdir().unwrap();
    let s = write(
        dir.path(),
        "n.csv",
        "algorithm,task,run,score\na,t,0,1\na,t,1,NaN\n",
    );
    let (ok, _, err) = run(&["eval", "aggregate", "--scores", &s, "--reps", "10"]);
    assert!(!ok && err.contains("line 3"), "{err}");
    let s = write(
        dir.path(),
        "ok.csv",
        "algorithm,task,run,score\na,t,0,1\na,t,1,2\n",
    );
    let (ok, _, err) = run(&["eval", "aggregate", "--scores", &s, "--reps", "0"]);
    assert!(!ok && err.contains("reps"), "{err}");
}

fn refs(v: &[String]) -> Vec<&str> {
    v.iter().map(|s| s.as_str()).collect()
}

#[test]
fn import_runs_feeds_aggregate() {
    let dir = tempfile::tempdir().unwrap();
    // Open RL Benchmark's long layout: two algorithms, two envs, two seeds.
    let mut long = String::from("exp_name,env_id,seed,global_step,charts/episodic_return\n");
    for (alg, base) in [("ppo", 100.0), ("dqn", 50.0)] {
        for env in ["CartPole-v1", "Acrobot-v1"] {
            for seed in [1, 2] {
                for step in 1..=10 {
                    let v = base + step as f64 * seed as f64;
                    long.push_str(&format!("{alg},{env},{seed},{},{v}\n", step * 1000));
                }
            }
        }
    }
    let input = write(dir.path(), "runs.csv", &long);
    let out = dir.path().join("scores.csv");
    let (ok, _, stderr) = run(&[
        "eval",
        "import-runs",
        "--input",
        &input,
        "--final-score",
        "last-episodes:2",
        "--output",
        &out.display().to_string(),
    ]);
    assert!(ok, "{stderr}");
    let tidy = std::fs::read_to_string(&out).unwrap();
    assert!(tidy.starts_with("algorithm,task,run,score\n"), "{tidy}");
    // ppo seed 1: mean of 109 and 110.
    assert!(tidy.contains("ppo,CartPole-v1,0,109.5"), "{tidy}");
    assert_eq!(tidy.lines().count(), 1 + 2 * 2 * 2);
    let agg = json(&[
        "eval",
        "aggregate",
        "--scores",
        &out.display().to_string(),
        "--metrics",
        "mean",
        "--reps",
        "200",
        "--format",
        "json",
    ]);
    assert!(agg.to_string().contains("ppo"), "{agg}");

    let (ok, stdout, stderr) = run(&[
        "eval",
        "import-runs",
        "--input",
        &input,
        "--checkpoints",
        "2000:10000:3",
        "--window",
        "1000",
    ]);
    assert!(ok, "{stderr}");
    assert!(stdout.starts_with("algorithm,task,run,step,score\n"));
    assert_eq!(stdout.lines().count(), 1 + 3 * 8);

    let (ok, _, stderr) = run(&[
        "eval",
        "import-runs",
        "--input",
        &input,
        "--final-score",
        "last:3",
    ]);
    assert!(!ok && stderr.contains("last:3"), "{stderr}");
    let (ok, _, stderr) = run(&["eval", "import-runs", "--input", &input, "--layout", "tall"]);
    assert!(!ok && stderr.contains("tall"), "{stderr}");
}

#[test]
fn sequence_tests_of_a_decision_file() {
    let dir = tempfile::tempdir().unwrap();
    let alternating = write(dir.path(), "alt.txt", &"10".repeat(30));
    let v = json(&[
        "eval",
        "sequence",
        "--input",
        &alternating,
        "--format",
        "json",
    ]);
    assert_eq!(v["length"], 60);
    assert_eq!(v["proportion"]["successes"], 30);
    assert!(v["runs"]["z"].as_f64().unwrap() > 5.0, "{v}");
    assert_eq!(v["markov"]["p_true_after_true"], 0.0);
    let labels = write(dir.path(), "heads.csv", "H,T,H,H\nT,T,H,T\n");
    let v = json(&[
        "eval",
        "sequence",
        "--input",
        &labels,
        "--positive",
        "H",
        "--format",
        "json",
    ]);
    assert_eq!(v["proportion"]["successes"], 4);
    let constant = write(dir.path(), "c.txt", "1 1 1 1");
    let v = json(&["eval", "sequence", "--input", &constant, "--format", "json"]);
    assert!(
        v["runs"].is_null() && v["notes"].as_array().unwrap().len() == 2,
        "{v}"
    );
    let three = write(dir.path(), "three.txt", "a b c");
    let (ok, _, err) = run(&["eval", "sequence", "--input", &three, "--positive", "a"]);
    assert!(!ok && err.contains("third label"), "{err}");
    let (ok, _, err) = run(&["eval", "sequence", "--input", &labels]);
    assert!(!ok && err.contains("--positive"), "{err}");
}

#[test]
fn import_runs_reads_json_lines() {
    let dir = tempfile::tempdir().unwrap();
    let mut lines = String::new();
    for seed in [1, 2] {
        for step in 1..=4 {
            lines.push_str(&format!(
                "{{\"exp_name\": \"ppo\", \"env_id\": \"CartPole-v1\", \"seed\": {seed}, \"global_step\": {step}, \"charts/episodic_return\": {}}}\n",
                10 * step * seed
            ));
        }
    }
    let input = write(dir.path(), "runs.jsonl", &lines);
    let (ok, stdout, stderr) = run(&[
        "eval",
        "import-runs",
        "--input",
        &input,
        "--layout",
        "json",
        "--final-score",
        "last-episodes:1",
    ]);
    assert!(ok, "{stderr}");
    assert_eq!(
        stdout,
        "algorithm,task,run,score\nppo,CartPole-v1,0,40\nppo,CartPole-v1,1,80\n"
    );
}

/// Labelled and test CSVs: `y = 2 x + small offsets`; model `good`
/// predicts `2 x`, model `bad` is unrelated to `x`.
fn conformal_files(dir: &std::path::Path) -> (String, String) {
    let mut cal = String::from("y,good,bad\n");
    for i in 0..60 {
        let x = (i as f64 * 0.37).sin() * 2.0;
        let y = 2.0 * x + ((i * 7) % 5) as f64 * 0.1 - 0.2;
        cal.push_str(&format!("{y},{},{}\n", 2.0 * x, ((i * 13) % 7) as f64));
    }
    let mut test = String::from("good,bad\n");
    for i in 0..20 {
        let x = (i as f64 * 0.91 + 0.3).cos() * 2.0;
        test.push_str(&format!("{},{}\n", 2.0 * x, ((i * 5) % 7) as f64));
    }
    (write(dir, "cal.csv", &cal), write(dir, "test.csv", &test))
}

#[test]
fn conformal_select_json_has_selected_rows_and_models() {
    let dir = tempfile::tempdir().unwrap();
    let (cal, test) = conformal_files(dir.path());
    for method in ["optcs", "optcs-full", "bh"] {
        let v = json(&[
            "eval",
            "conformal-select",
            "--calibration",
            &cal,
            "--test",
            &test,
            "--threshold",
            "0",
            "--q",
            "0.3",
            "--method",
            method,
            "--seed",
            "1",
            "--format",
            "json",
        ]);
        let sel: Vec<u64> = v["selected"]
            .as_array()
            .unwrap()
            .iter()
            .map(|x| x.as_u64().unwrap())
            .collect();
        assert_eq!(
            v["n_selected"].as_u64().unwrap() as usize,
            sel.len(),
            "{method}: {v}"
        );
        assert_eq!(v["models"].as_array().unwrap().len(), sel.len(), "{method}");
        assert!(
            sel.windows(2).all(|w| w[0] < w[1]),
            "{method}: not ascending {sel:?}"
        );
        assert!(sel.iter().all(|&j| j < 20));
        // The informative model finds the clearly positive rows.
        assert!(!sel.is_empty(), "{method} selected nothing");
        if method != "bh" {
            assert!(
                v["models"].as_array().unwrap().iter().all(|m| m == "good"),
                "{method}: {v}"
            );
        }
    }
    for pruning in ["heterogeneous", "homogeneous"] {
        let v = json(&[
            "eval",
            "conformal-select",
            "--calibration",
            &cal,
            "--test",
            &test,
            "--threshold",
            "0",
            "--q",
            "0.3",
            "--pruning",
            pruning,
            "--format",
            "json",
        ]);
        assert!(v["n_selected"].as_u64().is_some());
    }
}

#[test]
fn conformal_select_rejects_bad_input() {
    let dir = tempfile::tempdir().unwrap();
    let (cal, test) = conformal_files(dir.path());
    let base = ["eval", "conformal-select", "--threshold", "0"];
    let check = |extra: &[&str], needle: &str| {
        let mut args: Vec<&str> = base.to_vec();
        args.extend_from_slice(extra);
        let (ok, _, err) = run(&args);
        assert!(!ok, "{extra:?} succeeded");
        assert!(err.contains(needle), "{extra:?}: {err}");
        assert!(!err.contains("panicked"), "{err}");
    };
    check(
        &["--calibration", &cal, "--test", &test, "--q", "1.5"],
        "1.5",
    );
    check(
        &["--calibration", &cal, "--test", &test, "--q", "0"],
        "--q 0",
    );
    check(
        &[
            "--calibration",
            &cal,
            "--test",
            &test,
            "--q",
            "0.2",
            "--pruning",
            "x",
        ],
        "pruning",
    );
    check(
        &[
            "--calibration",
            &cal,
            "--test",
            &test,
            "--q",
            "0.2",
            "--method",
            "y",
        ],
        "\"y\"",
    );
    let other = write(dir.path(), "other.csv", "good,ugly\n1,2\n");
    check(
        &["--calibration", &cal, "--test", &other, "--q", "0.2"],
        "ugly",
    );
    let nan = write(dir.path(), "nan.csv", "y,good,bad\n1,NaN,2\n");
    check(
        &["--calibration", &nan, "--test", &test, "--q", "0.2"],
        "NaN",
    );
    let empty = write(dir.path(), "empty.csv", "");
    check(
        &["--calibration", &empty, "--test", &test, "--q", "0.2"],
        "empty",
    );
    let header_only = write(dir.path(), "h.csv", "good,bad\n");
    check(
        &["--calibration", &cal, "--test", &header_only, "--q", "0.2"],
        "no data rows",
    );
}

#[test]
fn comparison_commands_run_and_reject_bad_input() {
    let dir = tempfile::tempdir().unwrap();
    let d = write(dir.path(), "d.csv", "difference\n1\n2\n3\n");
    let v = json(&[
        "eval",
        "corrected-t",
        "--input",
        &d,
        "--n-train",
        "100",
        "--n-test",
        "50",
        "--format",
        "json",
    ]);
    let t = 2.0 / (1.0f64 / 3.0 + 0.5).sqrt();
    assert!((v["statistic"].as_f64().unwrap() - t).abs() < 1e-12, "{v}");

    let a = write(dir.path(), "a.csv", "item,score\nq1,1\nq2,0\nq3,1\nq4,1\n");
    let b = write(dir.path(), "b.csv", "item,score\nq4,0\nq3,1\nq2,0\nq1,0\n");
    let v = json(&[
        "eval",
        "paired-ci",
        "--a",
        &a,
        "--b",
        &b,
        "--reps",
        "2000",
        "--format",
        "json",
    ]);
    assert!(
        (v["mean_difference"].as_f64().unwrap() - 0.5).abs() < 1e-12,
        "{v}"
    );
    let other = write(dir.path(), "o.csv", "item,score\nq1,1\nq2,0\nq3,1\nq9,1\n");
    let (ok, _, err) = run(&["eval", "paired-ci", "--a", &a, "--b", &other]);
    assert!(
        !ok && err.contains("q4") && !err.contains("panicked"),
        "{err}"
    );

    let c = write(dir.path(), "c.csv", "correct,cluster\n1,a\n1,a\n0,b\n0,b\n");
    let v = json(&[
        "eval",
        "cluster-accuracy",
        "--input",
        &c,
        "--format",
        "json",
    ]);
    assert!(
        (v["se_cluster"].as_f64().unwrap() - 0.5).abs() < 1e-12,
        "{v}"
    );

    let p = write(
        dir.path(),
        "p.csv",
        "label,score_a,score_b\n1,0.9,0.6\n1,0.8,0.9\n0,0.3,0.7\n0,0.1,0.2\n1,0.7,0.1\n0,0.4,0.5\n",
    );
    let v = json(&["eval", "delong-ci", "--input", &p, "--format", "json"]);
    let ci = v["ci"].as_array().unwrap();
    assert!(ci[0].as_f64().unwrap() <= v["difference"].as_f64().unwrap());

    let mut pilot = String::from("algorithm,task,run,score\n");
    for t in 0..4 {
        for r in 0..3 {
            pilot.push_str(&format!(
                "a,t{t},{r},{}\n",
                t as f64 + 0.1 * ((r * 7 + t) % 5) as f64
            ));
        }
    }
    let pilot = write(dir.path(), "pilot.csv", &pilot);
    let v = json(&[
        "eval",
        "plan",
        "--scores",
        &pilot,
        "--target-width",
        "0.05",
        "--reps",
        "500",
        "--format",
        "json",
    ]);
    assert!(v[0]["runs"].as_u64().unwrap() >= 2, "{v}");
    let one = write(
        dir.path(),
        "one.csv",
        "algorithm,task,run,score\na,t0,0,1\na,t1,0,2\n",
    );
    let (ok, _, err) = run(&["eval", "plan", "--scores", &one, "--target-width", "0.05"]);
    assert!(
        !ok && err.contains("pilot runs") && !err.contains("panicked"),
        "{err}"
    );
    let (ok, _, err) = run(&[
        "eval", "plan", "--scores", &pilot, "--power", "1.5", "--effect", "0.1",
    ]);
    assert!(!ok && err.contains("1.5"), "{err}");

    // P(X > Y) of b over a: width and power plans.
    let mut two = String::from("algorithm,task,run,score\n");
    for (alg, shift) in [("a", 0.0), ("b", 0.2)] {
        for t in 0..4 {
            for r in 0..4 {
                let v = t as f64 + shift + 0.1 * ((r * 7 + t * 3) % 5) as f64;
                two.push_str(&format!("{alg},t{t},{r},{v}\n"));
            }
        }
    }
    let two = write(dir.path(), "two.csv", &two);
    let base = [
        "eval",
        "plan",
        "--scores",
        &two,
        "--statistic",
        "improvement",
        "--x",
        "b",
        "--y",
        "a",
        "--reps",
        "500",
        "--format",
        "json",
    ];
    let w = json(&[&base[..], &["--target-width", "0.1"]].concat());
    assert_eq!(w[0]["algorithm"], "P(b > a)");
    assert!(w[0]["runs"].as_u64().unwrap() >= 2, "{w}");
    let p = json(&[&base[..], &["--power", "0.8", "--effect", "0.2"]].concat());
    assert!(
        (p[0]["predicted"].as_f64().unwrap() - 0.8).abs() < 0.1,
        "{p}"
    );
    let (ok, _, err) = run(&[&base[..], &["--power", "0.8", "--effect", "0.7"]].concat());
    assert!(!ok && err.contains("0.7"), "{err}");
    let (ok, _, err) = run(&[
        "eval",
        "plan",
        "--scores",
        &two,
        "--statistic",
        "improvement",
        "--target-width",
        "0.1",
    ]);
    assert!(!ok && err.contains("--x"), "{err}");
}

/// The package's example (adastop/examples/walker1..5.csv) through the
/// `adastop-0.1.3` variant gives adastop 0.1.3's decisions
/// (fixtures/eval/adastop.json): with seed 0 DDPG vs TRPO ends "equal", with
/// seed 1 "smaller".
#[test]
fn adastop_package_variant_on_the_walker_example() {
    let dir = tempfile::tempdir().unwrap();
    let root = concat!(env!("CARGO_MANIFEST_DIR"), "/../../fixtures/eval/adastop");
    let mut long = String::from("agent,score\n");
    for j in 1..=5 {
        let text = std::fs::read_to_string(format!("{root}/walker{j}.csv")).unwrap();
        let mut lines = text.lines();
        let header: Vec<&str> = lines.next().unwrap().split(',').skip(1).collect();
        for line in lines {
            for (name, v) in header.iter().zip(line.split(',').skip(1)) {
                long.push_str(&format!("{name},{v}\n"));
            }
        }
    }
    let f = write(dir.path(), "walker.csv", &long);
    for (seed, last) in [("0", "equal"), ("1", "smaller")] {
        let v = json(&[
            "eval",
            "adastop",
            "--results",
            &f,
            "--n",
            "5",
            "--stages",
            "5",
            "--variant",
            "adastop-0.1.3",
            "--seed",
            seed,
            "--format",
            "json",
        ]);
        assert_eq!(v["finished"], true, "{v}");
        let got: Vec<&str> = v["comparisons"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c["decision"].as_str().unwrap())
            .collect();
        assert_eq!(
            got,
            ["larger", "smaller", "larger", "smaller", last, "larger"],
            "seed {seed}"
        );
    }
    let (ok, _, err) = run(&[
        "eval",
        "adastop",
        "--results",
        &f,
        "--n",
        "5",
        "--stages",
        "5",
        "--variant",
        "bogus",
    ]);
    assert!(!ok && err.contains("bogus"), "{err}");
    let (ok, _, err) = run(&[
        "eval",
        "adastop",
        "--results",
        &f,
        "--n",
        "5",
        "--stages",
        "5",
        "--group-sizes",
        "PPO=4,XYZ=3",
    ]);
    assert!(!ok && err.contains("XYZ"), "{err}");
}

/// Long CSV of one sample `x` from per-model logit rows.
fn votes_csv(rows: &[&[f64]]) -> String {
    let mut s = String::from("sample,model,class,logit\n");
    for (m, row) in rows.iter().enumerate() {
        for (c, v) in row.iter().enumerate() {
            s.push_str(&format!("x,{m},{c},{v}\n"));
        }
    }
    s
}

#[test]
fn roe_certificates_by_hand() {
    let dir = tempfile::tempdir().unwrap();
    // 8 models, 4 classes: votes 0 x4, 1 x3, 2 x1; everyone ranks 0 over 1
    // except the class-1 voters. DPA radius 0, DPA+ROE radius 1 (the
    // hand computation in duality_eval::poisoning's tests).
    let mut rows: Vec<Vec<f64>> = vec![vec![4.0, 3.0, 2.0, 1.0]; 4];
    rows.extend(vec![vec![3.0, 4.0, 2.0, 1.0]; 3]);
    rows.push(vec![3.0, 2.0, 4.0, 1.0]);
    let refs: Vec<&[f64]> = rows.iter().map(|r| r.as_slice()).collect();
    let votes = write(dir.path(), "v.csv", &votes_csv(&refs));
    let labels = write(dir.path(), "l.csv", "sample,label\nx,0\n");
    let v = json(&[
        "eval", "roe", "--votes", &votes, "--labels", &labels, "--format", "json",
    ]);
    assert_eq!(v["k"], 8);
    assert_eq!(v["d"], 1);
    let certs = &v["samples"][0]["certificates"];
    assert_eq!(certs[0]["method"], "DPA");
    assert_eq!(certs[0]["prediction"], 0);
    assert_eq!(certs[0]["radius"], 0);
    assert_eq!(certs[1]["method"], "DPA+ROE");
    assert_eq!(certs[1]["radius"], 1);
    // Certified accuracy: DPA 1 at r = 0 only; DPA+ROE up to r = 1.
    assert_eq!(
        v["accuracy"][1]["certified_accuracy"][1].as_f64(),
        Some(1.0)
    );
    assert_eq!(
        v["accuracy"][0]["certified_accuracy"][1].as_f64(),
        Some(0.0)
    );
    let (ok, table, _) = run(&["eval", "roe", "--votes", &votes]);
    assert!(ok && table.contains("DPA+ROE"), "{table}");

    // FA with k = 2, d = 2, shifts 0,1: votes 0, 0, 0, 1 -> radius 0.
    let fa = write(
        dir.path(),
        "fa.csv",
        &votes_csv(&[&[1.0, 0.0], &[1.0, 0.0], &[1.0, 0.0], &[0.0, 1.0]]),
    );
    let v = json(&[
        "eval", "roe", "--votes", &fa, "--shifts", "0,1", "--format", "json",
    ]);
    assert_eq!((v["k"].as_u64(), v["d"].as_u64()), (Some(2), Some(2)));
    assert_eq!(v["methods"], serde_json::json!(["FA", "FA+ROE"]));
    assert_eq!(v["samples"][0]["certificates"][0]["radius"], 0);
}

#[test]
fn roe_bad_inputs_are_named() {
    let dir = tempfile::tempdir().unwrap();
    let one_model = write(dir.path(), "a.csv", &votes_csv(&[&[1.0, 0.0]]));
    let (ok, _, err) = run(&["eval", "roe", "--votes", &one_model]);
    assert!(!ok && err.contains("k >= 2"), "{err}");
    let one_class = write(dir.path(), "b.csv", &votes_csv(&[&[1.0], &[2.0]]));
    let (ok, _, err) = run(&["eval", "roe", "--votes", &one_class]);
    assert!(!ok && err.contains("classes"), "{err}");
    let bad = write(
        dir.path(),
        "c.csv",
        "sample,model,class,logit\nx,0,0,1\nx,0,1,nan\nx,1,0,0\nx,1,1,0\n",
    );
    let (ok, _, err) = run(&["eval", "roe", "--votes", &bad]);
    assert!(
        !ok && err.contains("line 3") && err.contains("logit"),
        "{err}"
    );
    let good = write(
        dir.path(),
        "d.csv",
        &votes_csv(&[&[1.0, 0.0], &[0.0, 1.0], &[2.0, 0.0]]),
    );
    let (ok, _, err) = run(&["eval", "roe", "--votes", &good, "--shifts", "0,1"]);
    assert!(!ok && err.contains("d = 2"), "{err}");
    let labels = write(dir.path(), "l.csv", "sample,label\ny,0\n");
    let (ok, _, err) = run(&["eval", "roe", "--votes", &good, "--labels", &labels]);
    assert!(!ok && err.contains("\"y\""), "{err}");
}

// ---- Issue #25: bad input gives a clean error, never a panic, an abort, a
// non-finite answer or a half-written file.

/// Runs `duality` and checks it ended with an error (exit 1, not a panic).
fn refused(args: &[&str]) -> String {
    let out = common::output(args);
    let err = String::from_utf8_lossy(&out.stderr).to_string();
    assert_eq!(out.status.code(), Some(1), "{args:?}: {err}");
    assert!(!err.contains("panicked"), "{err}");
    err
}

#[test]
fn edited_adastop_states_are_refused_not_panicked_on() {
    let dir = tempfile::tempdir().unwrap();
    let mut rows = String::from("agent,score\n");
    for (a, shift) in [("a", 0.0), ("b", 0.25), ("c", 0.5)] {
        for r in 0..4 {
            rows.push_str(&format!("{a},{}\n", shift + r as f64 * 0.125));
        }
    }
    let results = write(dir.path(), "r.csv", &rows);
    let state = dir.path().join("state.json");
    let st = state.to_str().unwrap().to_string();
    let args: Vec<&str> = vec![
        "eval",
        "adastop",
        "--results",
        &results,
        "--n",
        "4",
        "--stages",
        "3",
        "--permutations",
        "200",
        "--state",
        &st,
    ];
    let (ok, _, err) = run(&args);
    assert!(ok, "{err}");
    let saved: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&state).unwrap()).unwrap();
    type Edit = Box<dyn Fn(&mut serde_json::Value)>;
    let edits: Vec<(&str, Edit)> = vec![
        (
            "comparisons",
            Box::new(|v| v["comparisons"] = serde_json::json!([])),
        ),
        (
            "decisions",
            Box::new(|v| v["decisions"] = serde_json::json!([])),
        ),
        (
            "stage",
            Box::new(|v| {
                let r = v["records"][0].clone();
                v["records"] = serde_json::json!([r.clone(), r.clone(), r.clone(), r.clone(), r]);
            }),
        ),
        (
            "runs of agent",
            Box::new(|v| v["data"][2] = serde_json::json!([[1.0]])),
        ),
        (
            "data",
            Box::new(|v| v["data"] = serde_json::json!([[[1.0]]])),
        ),
        ("version", Box::new(|v| v["version"] = 2.into())),
    ];
    for (what, edit) in edits {
        let mut v = saved.clone();
        edit(&mut v);
        std::fs::write(&state, v.to_string()).unwrap();
        let err = refused(&args);
        assert!(
            err.contains(what) && err.contains("state.json"),
            "{what}: {err}"
        );
        assert!(!err.contains("finished"), "{err}");
    }
}

#[test]
fn huge_counts_are_refused_naming_the_flag() {
    let dir = tempfile::tempdir().unwrap();
    let scores = write(dir.path(), "s.csv", &scores_csv());
    let svg = dir.path().join("late.svg");
    let svg_s = svg.to_str().unwrap();
    for args in [
        vec![
            "eval",
            "aggregate",
            "--scores",
            &scores,
            "--reps",
            "1000000000000",
            "--svg",
            svg_s,
        ],
        vec![
            "eval",
            "improvement",
            "--scores",
            &scores,
            "--x",
            "dqn",
            "--y",
            "spr",
            "--reps",
            "1000000000000",
        ],
        vec![
            "eval",
            "profile",
            "--scores",
            &scores,
            "--tau",
            "0:1:3",
            "--reps",
            "1000000000000",
        ],
    ] {
        let err = refused(&args);
        assert!(
            err.contains("--reps") && err.contains("--max-memory"),
            "{err}"
        );
    }
    let err = refused(&[
        "eval",
        "profile",
        "--scores",
        &scores,
        "--tau",
        "0:1:1000000000000",
    ]);
    assert!(err.contains("--tau"), "{err}");
    let labels = write(
        dir.path(),
        "l.csv",
        "label,score\n1,0.9\n0,0.1\n1,0.4\n0,0.5\n",
    );
    let err = refused(&["eval", "auc", "--input", &labels, "--reps", "1000000000000"]);
    assert!(err.contains("--reps"), "{err}");
    // Nothing was drawn before the error.
    assert!(!svg.exists());
}

#[test]
fn scores_near_the_largest_double_stay_finite() {
    let dir = tempfile::tempdir().unwrap();
    let mut s = String::from("algorithm,task,run,score\n");
    for r in 0..5 {
        s.push_str(&format!("a,t,{r},{}\n", 1.7e308 - r as f64 * 1e307));
        s.push_str(&format!("b,t,{r},{}\n", 1.0e308 - r as f64 * 1e307));
    }
    let scores = write(dir.path(), "big.csv", &s);
    let v = json(&[
        "eval",
        "aggregate",
        "--scores",
        &scores,
        "--metrics",
        "mean,iqm,median",
        "--reps",
        "100",
        "--format",
        "json",
    ]);
    let mean = v["a"]["mean"]["estimate"].as_f64().unwrap();
    assert!((mean - 1.5e308).abs() < 1e294, "{v}");
    assert!(!v.to_string().contains("null"), "{v}");
    // The grid the user typed, not a NaN they never typed.
    let v = json(&[
        "eval",
        "profile",
        "--scores",
        &scores,
        "--tau=-1e308:1e308:3",
        "--reps",
        "50",
        "--format",
        "json",
    ]);
    assert_eq!(v["taus"][1].as_f64(), Some(0.0), "{v}");
    let err = refused(&["eval", "profile", "--scores", &scores, "--tau=nan:1:3"]);
    assert!(err.contains("--tau") && err.contains("\"nan\""), "{err}");
}

#[test]
fn adastop_decides_the_same_on_scaled_runs() {
    let dir = tempfile::tempdir().unwrap();
    let rows = |scale: f64| {
        let mut s = String::from("agent,score\n");
        for stage in 0..3 {
            for (a, shift) in [("a", 0.0), ("b", 2.0)] {
                for r in 0..4 {
                    let x = shift + ((stage * 7 + r * 3) % 5) as f64 * 0.25;
                    s.push_str(&format!("{a},{:e}\n", x * scale));
                }
            }
        }
        s
    };
    let decide = |name: &str, scale: f64| {
        let f = write(dir.path(), name, &rows(scale));
        json(&[
            "eval",
            "adastop",
            "--results",
            &f,
            "--n",
            "4",
            "--stages",
            "3",
            "--permutations",
            "300",
            "--format",
            "json",
        ])
    };
    let small = decide("small.csv", 1.0);
    let big = decide("big.csv", 2f64.powi(1020));
    assert_eq!(
        small["comparisons"][0]["decision"],
        big["comparisons"][0]["decision"]
    );
    assert_eq!(small["comparisons"][0]["decision"], "smaller", "{small}");
    assert!(big["comparisons"][0]["statistic"].is_f64(), "{big}");
}

#[test]
fn mcnemar_refuses_empty_cells() {
    let dir = tempfile::tempdir().unwrap();
    let f = write(
        dir.path(),
        "m.csv",
        "y_true,pred_a,pred_b\nx,x,y\n,,y\ny,y,y\n",
    );
    let err = refused(&["eval", "mcnemar", "--input", &f]);
    assert!(
        err.contains("m.csv") && err.contains("y_true") && err.contains("row 2"),
        "{err}"
    );
}

#[test]
fn duplicate_json_keys_are_refused_with_the_file_name() {
    let dir = tempfile::tempdir().unwrap();
    let f = write(dir.path(), "dup.json", r#"{"a": [[1.0]], "a": [[2.0]]}"#);
    let err = refused(&["eval", "aggregate", "--scores", &f, "--reps", "10"]);
    assert!(
        err.contains("dup.json") && err.contains("duplicate"),
        "{err}"
    );
}

#[test]
fn import_runs_quotes_names_and_reads_many_rows() {
    let dir = tempfile::tempdir().unwrap();
    let mut long = String::from("exp_name,env_id,seed,global_step,charts/episodic_return\n");
    // Names with a comma, a quote and a line break survive the round trip.
    for alg in ["\"ppo, tuned\"", "\"dqn \"\"v2\"\"\nnew\""] {
        for seed in 0..200 {
            for env in 0..50 {
                long.push_str(&format!("{alg},env{env},{seed},1,{}\n", seed + env));
            }
        }
    }
    let input = write(dir.path(), "runs.csv", &long);
    let out = dir.path().join("tidy.csv");
    let (ok, _, err) = run(&[
        "eval",
        "import-runs",
        "--input",
        &input,
        "--output",
        out.to_str().unwrap(),
    ]);
    assert!(ok, "{err}");
    let v = json(&[
        "eval",
        "aggregate",
        "--scores",
        out.to_str().unwrap(),
        "--metrics",
        "mean",
        "--reps",
        "20",
        "--format",
        "json",
    ]);
    let names: Vec<&String> = v.as_object().unwrap().keys().collect();
    assert_eq!(names, ["dqn \"v2\"\nnew", "ppo, tuned"], "{v}");
    // A late error leaves an existing output untouched.
    std::fs::write(&out, "keep").unwrap();
    let err = refused(&[
        "eval",
        "import-runs",
        "--input",
        &input,
        "--output",
        out.to_str().unwrap(),
        "--final-score",
        "last-episodes:0",
    ]);
    assert!(err.contains("episode"), "{err}");
    assert_eq!(std::fs::read_to_string(&out).unwrap(), "keep");
}
