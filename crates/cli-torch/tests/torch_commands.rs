//! End-to-end tests of the commands that need libtorch, run against the
//! `duality-torch` binary (Cargo builds it for this package's tests): align,
//! `tsp train-udc` / `--method udc`, `ddp deep`, `ddp deep-offline`, `ddp
//! lot-sizing`, neural option pricing, `gflownet front --method mogfn` and
//! `retro search --method dual`. They moved here from the `duality`
//! package's tests (issue #26), which now cover forwarding and start-up:
//! `duality` runs these commands through this binary. One module per
//! former test file; each keeps the helpers of its file (some unused).

mod common;

/// Moved from `crates/cli/tests/align.rs`.
#[allow(dead_code, unused_imports)]
mod align {
    use crate::common;

    use common::duality;

    const FIXTURES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../fixtures/align");

    #[test]
    fn loss_prints_one_value_per_row_and_the_mean() {
        let out = duality()
            .args(["align", "loss", "--input"])
            .arg(format!("{FIXTURES}/pairs.csv"))
            .args(["--loss", "dpo", "--beta", "0.7"])
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        let losses = v["losses"].as_array().unwrap();
        assert_eq!(losses.len(), 3);
        // Row 1: h = (-3 + 3.5) - (-4 + 3) = 1.5; -log sigmoid(1.05).
        let want = (1.0 + (-1.05f64).exp()).ln();
        assert!((losses[0].as_f64().unwrap() - want).abs() < 1e-9);
        let mean: f64 = losses.iter().map(|x| x.as_f64().unwrap()).sum::<f64>() / 3.0;
        assert!((v["mean"].as_f64().unwrap() - mean).abs() < 1e-12);
    }

    #[test]
    fn loss_rejects_bad_parameters_and_files() {
        let dir = tempfile::tempdir().unwrap();
        let bad = dir.path().join("bad.csv");
        std::fs::write(
            &bad,
            "policy_chosen,policy_rejected,ref_chosen,ref_rejected\n-1,-2,-1,x\n",
        )
        .unwrap();
        let out = duality()
            .args(["align", "loss", "--input"])
            .arg(&bad)
            .output()
            .unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(
            !out.status.success() && err.contains("line 2") && err.contains("ref_rejected"),
            "{err}"
        );
        let out = duality()
            .args(["align", "loss", "--input"])
            .arg(format!("{FIXTURES}/pairs.csv"))
            .args([
                "--loss",
                "robust",
                "--beta",
                "1",
                "--label-smoothing",
                "0.5",
            ])
            .output()
            .unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(
            !out.status.success() && err.contains("label_smoothing = 0.5"),
            "{err}"
        );
        let out = duality()
            .args(["align", "loss", "--input"])
            .arg(format!("{FIXTURES}/pairs.csv"))
            .args(["--beta", "0"])
            .output()
            .unwrap();
        assert!(String::from_utf8_lossy(&out.stderr).contains("beta = 0"));
    }

    #[test]
    fn train_runs_a_config_and_prints_json() {
        let out = duality()
            .args(["align", "train", "--config"])
            .arg(format!("{FIXTURES}/train_offline.toml"))
            .args(["--format", "json"])
            .env("DUALITY_NO_PROGRESS", "1")
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        assert!(v["win_rate"]["mean"].as_f64().unwrap() > 0.5);
        assert_eq!(v["log"]["entries"].as_array().unwrap().len(), 8);
    }

    #[test]
    fn trainers_lists_the_registry() {
        let out = duality()
            .args(["align", "trainers", "--format", "json"])
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        let names: Vec<&str> = v
            .as_array()
            .unwrap()
            .iter()
            .map(|t| t["name"].as_str().unwrap())
            .collect();
        for name in ["offline", "curry", "online", "dno", "hypo", "group", "kto"] {
            assert!(names.contains(&name), "{name} missing from {names:?}");
        }
        let kto = v
            .as_array()
            .unwrap()
            .iter()
            .find(|t| t["name"] == "kto")
            .unwrap();
        assert_eq!(kto["defaults"]["desirable_weight"].as_f64(), Some(1.0));
        let out = duality().args(["align", "trainers"]).output().unwrap();
        let table = String::from_utf8_lossy(&out.stdout);
        assert!(out.status.success() && table.contains("kto") && table.contains("Ethayarajh"));
    }

    #[test]
    fn train_accepts_any_registered_trainer_and_lists_them_on_a_typo() {
        let out = duality()
            .args(["align", "train", "--config"])
            .arg(format!("{FIXTURES}/train_kto.toml"))
            .args(["--format", "json"])
            .env("DUALITY_NO_PROGRESS", "1")
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        assert_eq!(v["trainer"], "kto");
        assert_eq!(v["log"]["entries"].as_array().unwrap().len(), 6);
        let dir = tempfile::tempdir().unwrap();
        let bad = dir.path().join("bad.toml");
        std::fs::write(&bad, "trainer = \"ktoo\"\n").unwrap();
        let out = duality()
            .args(["align", "train", "--config"])
            .arg(&bad)
            .output()
            .unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(
            !out.status.success() && err.contains("\"ktoo\"") && err.contains("kto"),
            "{err}"
        );
        std::fs::write(&bad, "trainer = \"kto\"\n[kto]\nbeta = \"high\"\n").unwrap();
        let out = duality()
            .args(["align", "train", "--config"])
            .arg(&bad)
            .output()
            .unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(!out.status.success() && err.contains("line 3"), "{err}");
    }

    #[test]
    fn train_writes_and_reuses_a_reference_cache() {
        let dir = tempfile::tempdir().unwrap();
        let cache = dir.path().join("ref.json");
        let train = |with_cache: bool| {
            let mut cmd = duality();
            cmd.args(["align", "train", "--format", "json", "--config"])
                .arg(format!("{FIXTURES}/train_offline.toml"));
            if with_cache {
                cmd.arg("--reference-cache").arg(&cache);
            }
            let out = cmd.output().unwrap();
            assert!(
                out.status.success(),
                "{}",
                String::from_utf8_lossy(&out.stderr)
            );
            let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
            v["log"].clone()
        };
        let plain = train(false);
        let written = train(true);
        let text = std::fs::read_to_string(&cache).unwrap();
        assert!(text.contains("duality-align-reference-logprobs"), "{text}");
        let read = train(true);
        assert_eq!(plain, written);
        assert_eq!(plain, read);
        let out = duality()
            .args(["align", "train", "--config"])
            .arg(format!("{FIXTURES}/train_kto.toml"))
            .arg("--reference-cache")
            .arg(&cache)
            .output()
            .unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(!out.status.success() && err.contains("offline"), "{err}");
    }

    #[test]
    fn loss_accepts_slic_hf_without_token_counts() {
        let out = duality()
            .args(["align", "loss", "--input"])
            .arg(format!("{FIXTURES}/pairs.csv"))
            .args(["--loss", "slic-hf"])
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        assert_eq!(v["losses"].as_array().unwrap().len(), 3);
    }
}

/// Moved from `crates/cli/tests/combopt.rs`.
#[allow(dead_code, unused_imports)]
mod combopt {
    use crate::common;

    use std::path::PathBuf;

    use common::{duality, json_of as json};

    /// The TSPLIB instances shipped in `fixtures/combopt/tsplib`.
    fn tsplib_dir() -> PathBuf {
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../fixtures/combopt/tsplib")
    }

    #[test]
    fn tsp_train_udc_writes_a_checkpoint_that_solve_reads() {
        let dir = std::env::temp_dir().join(format!("duality-udc-cli-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let model = dir.join("tiny.ot");
        let out = duality()
            .args(["tsp", "train-udc", "--cities", "20", "--steps", "2"])
            .args(["--samples", "2", "--seed", "3", "--format", "json", "--out"])
            .arg(&model)
            .output()
            .unwrap();
        assert_eq!(json(&out)["steps"], 2);
        let out = duality()
            .args(["tsp", "solve"])
            .arg(tsplib_dir().join("berlin52.tsp"))
            .args(["--method", "udc", "--format", "json", "--udc-model"])
            .arg(&model)
            .output()
            .unwrap();
        assert_eq!(json(&out)["tour"].as_array().unwrap().len(), 52);
        let bad = duality()
            .args(["tsp", "train-udc", "--reward", "bogus", "--out"])
            .arg(&model)
            .output()
            .unwrap();
        assert!(!bad.status.success());
        assert!(String::from_utf8_lossy(&bad.stderr).contains("bogus"));
        let _ = std::fs::remove_dir_all(&dir);
    }
}

/// Moved from `crates/cli/tests/distdp.rs`.
#[allow(dead_code, unused_imports)]
mod distdp {
    use crate::common;

    use common::{json, output as duality};

    const MDP: &str = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../fixtures/distdp/cvar_brute_force.toml"
    );

    /// Neural stopping rules from the CLI (torch build): tiny training runs on
    /// 5 dates, priced as intervals; an unknown method and a step count of 0
    /// are errors naming the value.
    #[test]
    fn price_with_neural_rules() {
        for (method, process) in [("neural-mlp", "gbm"), ("neural-cnn", "ar1:0.5")] {
            let v = json(&[
                "ddp",
                "price",
                "--method",
                method,
                "--process",
                process,
                "--steps",
                "5",
                "--window",
                "5",
                "--train-steps",
                "20",
                "--batch-paths",
                "128",
                "--lower-paths",
                "2000",
                "--outer-paths",
                "20",
                "--inner-paths",
                "10",
                "--format",
                "json",
            ]);
            assert_eq!(v["method"], method, "{v}");
            let f = |k: &str| v[k].as_f64().unwrap();
            assert!(f("interval_low") < f("interval_high"), "{v}");
            // At least the immediate payoff 4; no more than the strike.
            assert!(f("lower") >= 4.0 && f("upper") < 40.0, "{v}");
            assert!(v["train_objective"].as_f64().is_some() && v.get("lsmc_price").is_none());
        }
        let out = duality(&["ddp", "price", "--method", "neural-rnn"]);
        assert!(!out.status.success());
        assert!(String::from_utf8_lossy(&out.stderr).contains("neural-rnn"));
        let out = duality(&[
            "ddp",
            "price",
            "--method",
            "neural-mlp",
            "--train-steps",
            "0",
        ]);
        assert!(!out.status.success());
        assert!(String::from_utf8_lossy(&out.stderr).contains("steps"));
    }

    /// The deep agent from the CLI (torch build): a short QR run on the
    /// brute-force MDP reports the executed policy's exact value next to the DP
    /// optimum and the risk-neutral policy's value; same seed, same output.
    #[test]
    fn deep_agent_reports_exact_values() {
        let run = |head: &str| {
            json(&[
                "ddp",
                "deep",
                "--mdp",
                MDP,
                "--objective",
                "cvar:0.5",
                "--head",
                head,
                "--steps",
                "600",
                "--seed",
                "3",
                "--format",
                "json",
            ])
        };
        for head in ["qr", "c51"] {
            let v = run(head);
            let opt = v["dp_optimum"].as_f64().unwrap();
            assert!((opt - 3.3775).abs() < 1e-9, "{v}");
            let value = v["objective_value"].as_f64().unwrap();
            assert!(value <= opt + 1e-9, "{v}");
            assert!(v["risk_neutral_value"].as_f64().unwrap() <= opt + 1e-9);
            assert_eq!(v["head"], head);
            if head == "qr" {
                assert_eq!(run(head)["objective_value"], v["objective_value"]);
            }
        }
    }

    #[test]
    fn deep_agent_bad_settings_are_named() {
        let err = |extra: &[&str]| {
            let mut a = vec!["ddp", "deep", "--mdp", MDP];
            a.extend_from_slice(extra);
            let out = duality(&a);
            assert!(!out.status.success());
            String::from_utf8_lossy(&out.stderr).to_string()
        };
        let e = err(&["--steps", "0"]);
        assert!(e.contains("steps") && e.contains('0'), "{e}");
        let e = err(&["--objective", "cvar:1.5"]);
        assert!(e.contains("alpha") && e.contains("1.5"), "{e}");
        let e = err(&["--head", "dqn"]);
        assert!(e.contains("dqn"), "{e}");
        let e = err(&["--horizon", "0"]);
        assert!(e.contains("horizon"), "{e}");
        // An infinite-horizon file needs --horizon (exact evaluation).
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("loop.toml");
        std::fs::write(
            &file,
            "name = \"loop\"\nstates = 1\nactions = 1\ngamma = 0.9\nstart = 0\n\n\
             [[transition]]\nstate = 0\naction = 0\noutcomes = [{ next = 0, reward = 1.0, prob = 1.0 }]\n",
        )
        .unwrap();
        let path = file.to_str().unwrap();
        let out = duality(&["ddp", "deep", "--mdp", path, "--steps", "10"]);
        assert!(!out.status.success());
        let e = String::from_utf8_lossy(&out.stderr).to_string();
        assert!(e.contains("horizon") && e.contains("--horizon"), "{e}");
        let v = json(&[
            "ddp",
            "deep",
            "--mdp",
            path,
            "--horizon",
            "3",
            "--objective",
            "mean",
            "--steps",
            "200",
            "--format",
            "json",
        ]);
        let value = v["objective_value"].as_f64().unwrap();
        assert!((value - 2.71).abs() < 1e-9, "{v}");
        assert!(
            (v["dp_optimum"].as_f64().unwrap() - 2.71).abs() < 1e-9,
            "{v}"
        );
    }
}

/// Moved from `crates/cli/tests/distdp_deep_offline.rs`.
#[allow(dead_code, unused_imports)]
mod distdp_deep_offline {
    use crate::common;

    use common::output;

    use common::run;

    fn json(args: &[&str]) -> serde_json::Value {
        let (ok, out, err) = run(args);
        assert!(ok, "{args:?}: {err}");
        serde_json::from_str(&out).unwrap()
    }

    #[test]
    fn deep_offline_reports_a_curve_and_a_return() {
        let args = [
            "ddp",
            "deep-offline",
            "--episodes",
            "30",
            "--steps",
            "50",
            "--batch",
            "64",
            "--eval-episodes",
            "20",
            "--seed",
            "4",
            "--format",
            "json",
        ];
        let v = json(&args);
        assert_eq!(v["stable"], true, "{v}");
        assert_eq!(v["curve"].as_array().unwrap().len(), 2, "{v}");
        let r = v["normalised_return"].as_f64().unwrap();
        assert!(r.is_finite(), "{v}");
        assert_eq!(json(&args)["curve"], v["curve"]);
        let (ok, table, err) = run(&args[..args.len() - 2]);
        assert!(ok, "{err}");
        assert!(
            table.contains("value loss") && table.contains("stable"),
            "{table}"
        );
    }

    #[test]
    fn deep_offline_bad_settings_are_named() {
        let err = |extra: &[&str]| {
            let mut a = vec!["ddp", "deep-offline", "--steps", "5"];
            a.extend_from_slice(extra);
            let out = output(&a);
            assert!(!out.status.success(), "{a:?}");
            String::from_utf8_lossy(&out.stderr).to_string()
        };
        let e = err(&["--lambda", "1.5"]);
        assert!(e.contains("lambda") && e.contains("1.5"), "{e}");
        let e = err(&["--algo", "cql"]);
        assert!(e.contains("cql"), "{e}");
        let e = err(&["--dataset", "great"]);
        assert!(e.contains("great"), "{e}");
        let e = err(&["--gumbel-clip", "7"]);
        assert!(e.contains("--gumbel-clip"), "{e}");
        let e = err(&["--episodes", "1e12"]);
        assert!(e.contains("1e12"), "{e}");
        let e = err(&["--episodes", "1000000000"]);
        assert!(e.contains("episodes"), "{e}");
        let e = err(&["--expert-episodes", "3"]);
        assert!(e.contains("--expert-episodes"), "{e}");
        let e = err(&["--algo", "recoil", "--expert-episodes", "0"]);
        assert!(e.contains("expert episodes"), "{e}");
        let e = err(&["--algo", "recoil", "--divergence", "kl"]);
        assert!(e.contains("kl"), "{e}");
    }

    #[test]
    fn deep_offline_runs_recoil_with_a_bc_baseline() {
        let args = [
            "ddp",
            "deep-offline",
            "--algo",
            "recoil",
            "--episodes",
            "20",
            "--expert-episodes",
            "2",
            "--steps",
            "50",
            "--batch",
            "32",
            "--eval-episodes",
            "20",
            "--seed",
            "3",
            "--format",
            "json",
        ];
        let v = json(&args);
        assert_eq!(v["stable"], true, "{v}");
        assert!(v["algo"].as_str().unwrap().starts_with("recoil"), "{v}");
        assert!(v["expert_transitions"].as_u64().unwrap() > 0, "{v}");
        assert!(
            v["bc_normalised_return"].as_f64().unwrap().is_finite(),
            "{v}"
        );
        assert!(v["normalised_return"].as_f64().unwrap().is_finite(), "{v}");
        assert_eq!(json(&args)["curve"], v["curve"]);
        // f-DVL's report has no ReCOIL fields.
        let f = json(&[
            "ddp",
            "deep-offline",
            "--episodes",
            "10",
            "--steps",
            "5",
            "--eval-episodes",
            "5",
            "--format",
            "json",
        ]);
        assert!(f.get("bc_normalised_return").is_none(), "{f}");
    }
}

/// Moved from `crates/cli/tests/distdp_lot_sizing.rs`.
#[allow(dead_code, unused_imports)]
mod distdp_lot_sizing {
    use crate::common;

    use common::{output, run};

    #[test]
    fn lot_sizing_reports_curves_and_costs() {
        let args = [
            "ddp",
            "lot-sizing",
            "--updates",
            "2",
            "--envs",
            "2",
            "--epochs",
            "1",
            "--eval-episodes",
            "3",
            "--seed",
            "4",
            "--format",
            "json",
        ];
        let json = |a: &[&str]| -> serde_json::Value {
            let (ok, out, err) = run(a);
            assert!(ok, "{a:?}: {err}");
            serde_json::from_str(&out).unwrap()
        };
        let v = json(&args);
        let results = v["results"].as_array().unwrap();
        assert_eq!(results.len(), 2, "{v}");
        assert_eq!(results[0]["algo"], "ppo");
        assert_eq!(results[1]["algo"], "pdppo");
        for r in results {
            assert_eq!(r["curve"].as_array().unwrap().len(), 2, "{v}");
            assert!(r["final_cost"].as_f64().unwrap().is_finite(), "{v}");
        }
        assert_eq!(v["curve"], json(&args)["curve"]);
        assert_eq!(json(&args)["results"], v["results"]);
        let (ok, table, err) = run(&args[..args.len() - 2]);
        assert!(ok, "{err}");
        assert!(
            table.contains("pdppo") && table.contains("final cost"),
            "{table}"
        );
    }

    #[test]
    fn lot_sizing_bad_settings_are_named() {
        let err = |extra: &[&str]| {
            let mut a = vec!["ddp", "lot-sizing", "--updates", "1", "--envs", "1"];
            a.extend_from_slice(extra);
            let out = output(&a);
            assert!(!out.status.success(), "{a:?}");
            String::from_utf8_lossy(&out.stderr).to_string()
        };
        let e = err(&["--algo", "trpo"]);
        assert!(e.contains("trpo"), "{e}");
        let e = err(&["--lambda", "1.5"]);
        assert!(e.contains("lambda") && e.contains("1.5"), "{e}");
        let e = err(&["--eval-episodes", "0"]);
        assert!(e.contains("eval-episodes"), "{e}");
        let e = err(&["--config", "/nonexistent/lot.toml"]);
        assert!(e.contains("lot.toml"), "{e}");
    }
}

/// Moved from `crates/cli/tests/gflownet.rs`.
#[allow(dead_code, unused_imports)]
mod gflownet {
    use crate::common;

    use common::{json, run};

    #[test]
    fn mogfn_trains_and_prints_a_front() {
        let v = json(&[
            "gflownet",
            "front",
            "--task",
            "hypergrid",
            "--side",
            "8",
            "--method",
            "mogfn",
            "--budget",
            "400",
            "--samples",
            "80",
            "--batch",
            "16",
            "--format",
            "json",
        ]);
        assert_eq!(v["evaluations"], 400);
        assert!(v["hypervolume"].as_f64().unwrap() > 0.0);
    }

    #[test]
    fn retro_dual_trains_its_networks_and_searches() {
        let v = json(&[
            "retro",
            "search",
            "--levels",
            "4",
            "--per-level",
            "60",
            "--targets",
            "5",
            "--max-expansions",
            "30",
            "--train-graphs",
            "1",
            "--method",
            "dual",
            "--format",
            "json",
        ]);
        assert_eq!(v["method"], "dual");
        assert!(v["solved"].as_u64().unwrap() <= v["targets"].as_u64().unwrap());
        // The same after one round of PDVN's planning-based RL.
        let rl = json(&[
            "retro",
            "search",
            "--levels",
            "4",
            "--per-level",
            "60",
            "--targets",
            "5",
            "--max-expansions",
            "30",
            "--train-graphs",
            "1",
            "--method",
            "dual",
            "--rl-rounds",
            "1",
            "--format",
            "json",
        ]);
        assert_eq!(rl["targets"], v["targets"]);
        assert!(rl["solved"].as_u64().unwrap() <= rl["targets"].as_u64().unwrap());
    }
}

/// Moved from `crates/cli/tests/reliability.rs`.
#[allow(dead_code, unused_imports)]
mod reliability {
    use crate::common;

    use std::process::Stdio;

    use common::{duality, fixture};

    /// A command whose output is longer than a pipe's first read.
    fn long_output_args() -> Vec<String> {
        vec![
            "eval".into(),
            "aggregate".into(),
            "--scores".into(),
            fixture("eval", "scores_example.csv").display().to_string(),
            "--reps".into(),
            "200".into(),
            "--format".into(),
            "json".into(),
        ]
    }

    /// `align loss` (torch build): a directory as input is an error naming it;
    /// log-probs near f64::MAX give finite losses and a finite mean (never
    /// `null`); a huge non-number is quoted by its start and length only; the
    /// table format prints every pair and the mean.
    #[test]
    fn align_loss_names_the_file_keeps_results_finite_and_cuts_long_values() {
        let dir = tempfile::tempdir().unwrap();
        let as_str = |p: &std::path::Path| p.display().to_string();
        let header = "policy_chosen,policy_rejected,ref_chosen,ref_rejected\n";

        let out = duality()
            .args(["align", "loss", "--input", &as_str(dir.path())])
            .output()
            .unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "{err}");
        assert!(err.contains(&as_str(dir.path())), "{err}");

        let huge = dir.path().join("huge.csv");
        std::fs::write(
            &huge,
            format!("{header}-1,-2,-1,-2\n-1,-2,-1,-1e308\n-1,-2,1e308,-2\n"),
        )
        .unwrap();
        let out = duality()
            .args(["align", "loss", "--beta", "1", "--input", &as_str(&huge)])
            .output()
            .unwrap();
        let v = common::json_of(&out);
        let mean = v["mean"].as_f64().expect("a finite mean, not null");
        assert!(mean.is_finite() && mean > 1e307, "{v}");
        assert!(v["losses"]
            .as_array()
            .unwrap()
            .iter()
            .all(|l| l.as_f64().is_some_and(f64::is_finite)));

        let long = dir.path().join("long.csv");
        std::fs::write(&long, format!("{header}-1,-2,-1,{}\n", "7x".repeat(50_000))).unwrap();
        let out = duality()
            .args(["align", "loss", "--input", &as_str(&long)])
            .output()
            .unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "{err}");
        assert!(
            err.contains("ref_rejected") && err.contains("line 2") && err.len() < 1_000,
            "{} bytes: {}",
            err.len(),
            &err[..err.len().min(400)]
        );

        let out = duality()
            .args([
                "align",
                "loss",
                "--format",
                "table",
                "--input",
                &as_str(&huge),
            ])
            .output()
            .unwrap();
        let table = String::from_utf8_lossy(&out.stdout);
        assert!(out.status.success());
        assert!(
            table.contains("mean") && table.lines().count() == 6,
            "{table}"
        );
    }

    /// `align loss` names its flags and quotes 1e308 short; `align train`
    /// names the config file and, for a size over the memory limit, the
    /// too-large field first in a short message (issue #25).
    #[test]
    fn align_messages_name_the_flag_or_file_and_stay_short() {
        let dir = tempfile::tempdir().unwrap();
        let pairs = common::fixture("align", "pairs.csv").display().to_string();
        let out = duality()
            .args([
                "align",
                "loss",
                "--input",
                &pairs,
                "--label-smoothing",
                "1e308",
            ])
            .output()
            .unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "{err}");
        assert!(err.contains("--label-smoothing 1e308"), "{err}");
        assert!(!err.contains("0000000000"), "{err}");

        let base = std::fs::read_to_string(common::fixture("align", "train_offline.toml")).unwrap();
        let config = dir.path().join("huge-len.toml");
        let text = if base.contains("[task]\n") {
            base.replacen("[task]\n", "[task]\ncompletion_len = 1000000000000\n", 1)
        } else {
            format!("{base}\n[task]\ncompletion_len = 1000000000000\n")
        };
        std::fs::write(&config, text).unwrap();
        let out = duality()
            .args(["align", "train", "--config", &config.display().to_string()])
            .output()
            .unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "{err}");
        assert!(err.contains("huge-len.toml"), "{err}");
        assert!(
            err.contains("invalid task.completion_len = 1000000000000: expected a size within"),
            "{err}"
        );
        assert!(err.len() < 400, "{} bytes: {err}", err.len());
    }
}
