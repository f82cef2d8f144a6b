//! End-to-end tests of `duality tsp solve|methods`, `duality assign` and `duality dag learn`.

use std::path::PathBuf;

mod common;

use common::{duality, json_of as json};

/// The TSPLIB instances shipped in `fixtures/combopt/tsplib`.
fn tsplib_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../fixtures/combopt/tsplib")
}

#[test]
fn tsp_solve_prints_a_valid_tour() {
    let dir = tsplib_dir();
    for method in [
        "nn",
        "greedy",
        "insertion",
        "2opt",
        "oropt",
        "or2opt-ils",
        "dcr",
        "2hopt",
        "farthest-insertion",
    ] {
        let out = duality()
            .args(["tsp", "solve"])
            .arg(dir.join("berlin52.tsp"))
            .args(["--method", method, "--seed", "1", "--format", "json"])
            .output()
            .unwrap();
        let v = json(&out);
        let mut tour: Vec<u64> = v["tour"]
            .as_array()
            .unwrap()
            .iter()
            .map(|x| x.as_u64().unwrap())
            .collect();
        tour.sort_unstable();
        assert_eq!(tour, (0..52).collect::<Vec<u64>>());
        let length = v["length"].as_f64().unwrap();
        assert!(length >= 7542.0);
        assert!(v["seconds"].as_f64().is_some());
        // The certified bound sits below the optimum (7542) and the gap is
        // measured against it.
        let bound = v["lower_bound"].as_f64().unwrap();
        assert!(bound <= 7542.0 && bound > 7000.0, "{method}: bound {bound}");
        let gap = v["certified_gap"].as_f64().unwrap();
        assert!(
            (gap - (length / bound - 1.0)).abs() < 1e-12,
            "{method}: {gap}"
        );
    }
    let table = duality()
        .args(["tsp", "solve"])
        .arg(dir.join("berlin52.tsp"))
        .args(["--bound-iterations", "0"])
        .output()
        .unwrap();
    let text = String::from_utf8(table.stdout).unwrap();
    assert!(
        text.contains("bound") && text.contains("certified"),
        "{text}"
    );
}

#[test]
fn tsp_solve_ils_is_seeded_and_takes_a_kick_budget() {
    let dir = tsplib_dir();
    let run = |seed: &str, kicks: &str| {
        let out = duality()
            .args(["tsp", "solve"])
            .arg(dir.join("kroA100.tsp"))
            .args(["--method", "or2opt-ils", "--seed", seed, "--kicks", kicks])
            .args(["--format", "json"])
            .output()
            .unwrap();
        let v = json(&out);
        (v["length"].as_f64().unwrap(), v["tour"].clone())
    };
    let (a, ta) = run("3", "300");
    let (b, tb) = run("3", "300");
    assert_eq!((a, ta), (b, tb));
    // Zero kicks is the plain Or-2opt local optimum; kicks never lengthen it.
    let (plain, _) = run("3", "0");
    assert!(a <= plain + 1e-9 && a >= 21282.0, "{a} vs {plain}");
}

#[test]
fn tsp_solve_rejects_wrong_dimension_with_line() {
    let dir = tempfile::tempdir().unwrap();
    let f = dir.path().join("bad.tsp");
    std::fs::write(&f, "NAME: bad\nTYPE: TSP\nDIMENSION: 5\nEDGE_WEIGHT_TYPE: EUC_2D\nNODE_COORD_SECTION\n1 0 0\n2 1 0\n3 1 1\nEOF\n").unwrap();
    let out = duality().args(["tsp", "solve"]).arg(&f).output().unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    // The reader checks at the DIMENSION line (3) that the section can hold
    // that many nodes, before reading (or allocating for) any of them.
    assert!(err.contains("line 3") && err.contains("DIMENSION"), "{err}");
    let out = duality()
        .args(["tsp", "solve"])
        .arg(&f)
        .args(["--method", "bogus"])
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("bogus") && err.contains("or2opt-ils"), "{err}");
}

#[test]
fn tsp_methods_lists_the_registry_and_every_name_solves() {
    let out = duality()
        .args(["tsp", "methods", "--format", "json"])
        .output()
        .unwrap();
    let v = json(&out);
    let list = v.as_array().unwrap();
    let names: Vec<&str> = list.iter().map(|m| m["name"].as_str().unwrap()).collect();
    for expected in ["nn", "greedy", "or2opt", "or2opt-ils", "dcr", "2hopt"] {
        assert!(names.contains(&expected), "{names:?}");
    }
    let ils = list.iter().find(|m| m["name"] == "or2opt-ils").unwrap();
    assert_eq!(ils["seeded"], true);
    assert_eq!(ils["builder"], "greedy");
    assert!(list
        .iter()
        .all(|m| !m["about"].as_str().unwrap().is_empty()));
    let table = duality().args(["tsp", "methods"]).output().unwrap();
    assert!(table.status.success());
    let text = String::from_utf8_lossy(&table.stdout);
    assert_eq!(text.lines().count(), names.len(), "{text}");
    assert!(text.contains("greedy -> or2opt"), "{text}");
    // Every listed name is accepted by `tsp solve --method`.
    let file = tsplib_dir().join("berlin52.tsp");
    for name in names {
        let out = duality()
            .args(["tsp", "solve"])
            .arg(&file)
            .args(["--method", name, "--format", "json"])
            .output()
            .unwrap();
        assert!(json(&out)["length"].as_f64().unwrap() >= 7542.0, "{name}");
    }
}

#[test]
fn assign_minimises_and_maximises() {
    let dir = tempfile::tempdir().unwrap();
    let f = dir.path().join("c.csv");
    std::fs::write(&f, "4,1,3\n2,0,5\n3,2,2\n").unwrap();
    let v = json(
        &duality()
            .args(["assign", "--costs"])
            .arg(&f)
            .args(["--format", "json"])
            .output()
            .unwrap(),
    );
    assert_eq!(v["cost"].as_f64().unwrap(), 5.0);
    assert_eq!(v["assignment"], serde_json::json!([[0, 1], [1, 0], [2, 2]]));
    // The LP dual bound meets the optimum.
    assert!((v["dual_bound"].as_f64().unwrap() - 5.0).abs() < 1e-12);
    assert!(v["certified_gap"].as_f64().unwrap() < 1e-12);
    let v = json(
        &duality()
            .args(["assign", "--maximize", "--costs"])
            .arg(&f)
            .args(["--format", "json"])
            .output()
            .unwrap(),
    );
    assert_eq!(v["cost"].as_f64().unwrap(), 11.0);
    assert!((v["dual_bound"].as_f64().unwrap() - 11.0).abs() < 1e-12);
    std::fs::write(&f, "4,1\n2,x\n").unwrap();
    let out = duality()
        .args(["assign", "--costs"])
        .arg(&f)
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("line 2"));
}

#[test]
fn assign_and_dag_errors_name_the_file_and_never_print_inf_or_309_digits() {
    // Issue #25: costs near +-1e308 printed an infinite total; errors below
    // the reader (shape, NaN, overflow) did not name the file.
    let dir = tempfile::tempdir().unwrap();
    let f = dir.path().join("big.csv");
    std::fs::write(&f, "-1e308,0,5\n0,-1e308,6\n3,7,-1e308\n").unwrap();
    let run = |args: &[&str], file: &std::path::Path| {
        let out = duality().args(args).arg(file).output().unwrap();
        (
            out.status.success(),
            String::from_utf8_lossy(&out.stdout).into_owned(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    };
    let (ok, stdout, stderr) = run(&["assign", "--costs"], &f);
    assert!(!ok, "{stdout}");
    assert!(
        stderr.contains("big.csv") && stderr.contains("total cost") && stderr.len() < 400,
        "{stderr}"
    );
    assert!(!stdout.contains("inf"), "{stdout}");
    // Maximising picks the three 1e308 entries: refused too.
    std::fs::write(&f, "1e308,0,5\n0,1e308,6\n3,7,1e308\n").unwrap();
    let (ok, _, stderr) = run(&["assign", "--maximize", "--costs"], &f);
    assert!(!ok && stderr.contains("total profit"), "{stderr}");
    // A large but finite total prints in short form.
    std::fs::write(&f, "1e308,0\n0,1\n").unwrap();
    let (ok, stdout, stderr) = run(&["assign", "--maximize", "--costs"], &f);
    assert!(ok, "{stderr}");
    assert!(
        stdout.contains("1e308") && !stdout.contains("00000000000000000000"),
        "{stdout}"
    );
    // Shape and value errors name the file.
    std::fs::write(&f, "1,2,3\n4,5\n").unwrap();
    let (ok, _, stderr) = run(&["assign", "--costs"], &f);
    assert!(!ok && stderr.contains("big.csv"), "{stderr}");
    let d = dir.path().join("dag.csv");
    std::fs::write(&d, "a,b\n1,2\n3\n").unwrap();
    let (ok, _, stderr) = run(&["dag", "learn", "--data"], &d);
    assert!(!ok && stderr.contains("dag.csv"), "{stderr}");
    std::fs::write(&d, "a,b\n1e200,2\n3,4\n5,1\n").unwrap();
    let (ok, _, stderr) = run(&["dag", "learn", "--data"], &d);
    assert!(!ok && stderr.contains("dag.csv"), "{stderr}");
}

#[test]
fn milp_solve_reads_an_lp_file_and_names_its_bad_line() {
    let dir = tempfile::tempdir().unwrap();
    let f = dir.path().join("small.lp");
    std::fs::write(
        &f,
        "Maximize\n obj: 5 x + 4 y\nSubject To\n c1: 6 x + 4 y <= 24\n c2: x + 2 y <= 6\nGeneral\n x y\nEnd\n",
    )
    .unwrap();
    let v = json(
        &duality()
            .args(["milp", "solve"])
            .arg(&f)
            .args(["--format", "json"])
            .output()
            .unwrap(),
    );
    // Integer optimum of the classic example: x = 4, y = 0 (20), or x = 3,
    // y = 1 (19) — 20.
    assert!(
        (v["objective"].as_f64().unwrap() - 20.0).abs() < 1e-9,
        "{v}"
    );
    // The same search on microlp's node LPs reaches the same optimum; a bad
    // engine name is refused naming the flag.
    let m = json(
        &duality()
            .args(["milp", "solve"])
            .arg(&f)
            .args(["--lp-engine", "microlp", "--format", "json"])
            .output()
            .unwrap(),
    );
    assert!(
        (m["objective"].as_f64().unwrap() - 20.0).abs() < 1e-9 && m["lp_engine"] == "microlp",
        "{m}"
    );
    let out = duality()
        .args(["milp", "solve"])
        .arg(&f)
        .args(["--lp-engine", "glpk"])
        .output()
        .unwrap();
    let e = String::from_utf8_lossy(&out.stderr);
    assert!(
        !out.status.success() && e.contains("--lp-engine") && e.contains("glpk"),
        "{e}"
    );
    std::fs::write(&f, "Maximize\n x\nSubject To\n c1: x y <= 3\nEnd\n").unwrap();
    let out = duality().args(["milp", "solve"]).arg(&f).output().unwrap();
    let e = String::from_utf8_lossy(&out.stderr);
    assert!(
        !out.status.success() && e.contains("small.lp") && e.contains("line 4"),
        "{e}"
    );
}

#[test]
fn dag_learn_recovers_a_chain() {
    // x0 -> x1 -> x2 with deterministic pseudo-noise.
    let dir = tempfile::tempdir().unwrap();
    let f = dir.path().join("x.csv");
    let mut text = String::from("a,b,c\n");
    let mut s: u64 = 12345;
    let mut noise = || {
        s = s
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        ((s >> 11) as f64 / (1u64 << 53) as f64 - 0.5) * 3.4
    };
    for _ in 0..500 {
        let a = noise();
        let b = 1.5 * a + noise();
        let c = noise() - b;
        text.push_str(&format!("{a},{b},{c}\n"));
    }
    std::fs::write(&f, text).unwrap();
    for method in ["notears", "topo"] {
        let v = json(
            &duality()
                .args(["dag", "learn", "--data"])
                .arg(&f)
                .args(["--method", method, "--format", "json"])
                .output()
                .unwrap(),
        );
        let w = v["w"].as_array().unwrap();
        assert_eq!(w.len(), 3);
        let e01 = w[0][1].as_f64().unwrap().abs() + w[1][0].as_f64().unwrap().abs();
        let e12 = w[1][2].as_f64().unwrap().abs() + w[2][1].as_f64().unwrap().abs();
        assert!(e01 > 0.3 && e12 > 0.3, "{method}: {w:?}");
    }
}

#[test]
fn vrp_solve_prints_feasible_routes() {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../fixtures/combopt/cvrplib");
    // E-n22-k4: 21 customers, capacity 6000, proven optimum 375.
    let demand: Vec<u64> = vec![
        0, 1100, 700, 800, 1400, 2100, 400, 800, 100, 500, 600, 1200, 1300, 1300, 300, 900, 2100,
        1000, 900, 2500, 1800, 700,
    ];
    for method in ["savings", "sweep", "savings-ls", "sweep-ls", "dcr"] {
        let out = duality()
            .args(["vrp", "solve"])
            .arg(dir.join("E-n22-k4.vrp"))
            .args(["--method", method, "--seed", "2", "--format", "json"])
            .output()
            .unwrap();
        let v = json(&out);
        let cost = v["cost"].as_f64().unwrap();
        assert!((375.0..=375.0 * 1.4).contains(&cost), "{method}: {cost}");
        assert!(v["seconds"].as_f64().is_some());
        let mut seen = Vec::new();
        for r in v["routes"].as_array().unwrap() {
            let r: Vec<u64> = r
                .as_array()
                .unwrap()
                .iter()
                .map(|x| x.as_u64().unwrap())
                .collect();
            assert!(r.iter().map(|&c| demand[c as usize]).sum::<u64>() <= 6000);
            seen.extend(r);
        }
        seen.sort_unstable();
        assert_eq!(seen, (1..22).collect::<Vec<u64>>(), "{method}");
    }
    let bad = duality()
        .args(["vrp", "solve"])
        .arg(dir.join("E-n22-k4.vrp"))
        .args(["--method", "nope"])
        .output()
        .unwrap();
    assert!(!bad.status.success());
    assert!(String::from_utf8_lossy(&bad.stderr).contains("nope"));
    let timed = duality()
        .args(["vrp", "solve"])
        .arg(dir.join("E-n22-k4.vrp"))
        .args(["--time-limit", "0.5", "--format", "json"])
        .output()
        .unwrap();
    assert!(json(&timed)["cost"].as_f64().unwrap() >= 375.0);
    let methods = duality().args(["vrp", "methods"]).output().unwrap();
    assert!(String::from_utf8_lossy(&methods.stdout).contains("savings-ls"));
}
