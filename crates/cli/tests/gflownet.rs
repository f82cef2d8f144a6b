//! End-to-end tests of `duality gflownet front` (the baselines in process;
//! `--method mogfn` with the torch feature).

mod common;

use common::{json, run};

#[test]
fn nsga2_and_random_print_a_front() {
    for method in ["nsga2", "random"] {
        let v = json(&[
            "gflownet",
            "front",
            "--task",
            "hypergrid",
            "--side",
            "16",
            "--method",
            method,
            "--budget",
            "300",
            "--seed",
            "3",
            "--format",
            "json",
        ]);
        assert_eq!(v["evaluations"], 300);
        let hv = v["hypervolume"].as_f64().unwrap();
        assert!(hv > 0.5 && hv <= 1.0, "{method}: {hv}");
        let front = v["front"].as_array().unwrap();
        assert_eq!(front.len() as u64, v["front_size"].as_u64().unwrap());
        assert_eq!(front[0]["state"].as_array().unwrap().len(), 2);
    }
    let v = json(&[
        "gflownet", "front", "--task", "ngrams", "--length", "6", "--motifs", "AB,CD", "--method",
        "nsga2", "--budget", "200", "--format", "json",
    ]);
    let s = v["front"][0]["state"].as_str().unwrap();
    assert!(!s.is_empty() && s.len() <= 6 && s.bytes().all(|c| (b'A'..=b'D').contains(&c)));
    // Same seed, same front.
    let a = json(&[
        "gflownet", "front", "--method", "random", "--budget", "50", "--format", "json",
    ]);
    let b = json(&[
        "gflownet", "front", "--method", "random", "--budget", "50", "--format", "json",
    ]);
    assert_eq!(a, b);
}

#[test]
fn bad_options_are_named() {
    let (ok, _, err) = run(&[
        "gflownet", "front", "--method", "simplex", "--format", "json",
    ]);
    assert!(!ok && err.contains("--method"), "{err}");
    let (ok, _, err) = run(&["gflownet", "front", "--task", "maze", "--method", "random"]);
    assert!(!ok && err.contains("--task"), "{err}");
    let (ok, _, err) = run(&[
        "gflownet", "front", "--task", "ngrams", "--motifs", "AZ,CD", "--method", "random",
    ]);
    assert!(!ok && err.contains("AZ"), "{err}");
    let (ok, _, err) = run(&["gflownet", "front", "--method", "nsga2", "--budget", "0"]);
    assert!(!ok && err.contains("--budget"), "{err}");
    let (ok, _, err) = run(&[
        "gflownet",
        "front",
        "--method",
        "random",
        "--budget",
        "99999999999999999",
    ]);
    assert!(!ok && err.contains("budget"), "{err}");
}

#[test]
fn mogfn_without_torch_is_forwarded_and_reported() {
    let (ok, _, err) = run(&["gflownet", "front", "--method", "mogfn", "--budget", "100"]);
    assert!(!ok && err.contains("duality-torch"), "{err}");
}

#[test]
fn retro_search_without_networks() {
    let bfs = json(&[
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
        "--method",
        "bfs",
        "--format",
        "json",
    ]);
    let r0 = json(&[
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
        "--method",
        "retro0",
        "--format",
        "json",
    ]);
    assert_eq!(bfs["targets"], r0["targets"]);
    for run in r0["runs"].as_array().unwrap() {
        if let Some(c) = run["route_cost"].as_f64() {
            assert!(c >= run["optimal_cost"].as_f64().unwrap() - 1e-9);
        }
    }
    let (ok, _, err) = run(&["retro", "search", "--method", "dfs"]);
    assert!(!ok && err.contains("--method"), "{err}");
    let (ok, _, err) = run(&[
        "retro",
        "search",
        "--method",
        "bfs",
        "--max-expansions",
        "0",
    ]);
    assert!(!ok && err.contains("--max-expansions"), "{err}");
    let (ok, _, err) = run(&["retro", "search", "--method", "bfs", "--rl-rounds", "2"]);
    assert!(!ok && err.contains("--rl-rounds"), "{err}");
}
