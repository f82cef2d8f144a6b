//! Branch-and-bound against brute force on tiny instances.

use super::*;
use duality_core::seed::Seeder;
use rand::Rng;

/// Best objective over every integer point in the (finite) box of a pure
/// integer problem, `None` when none is feasible.
fn brute_force(p: &Milp) -> Option<f64> {
    let n = p.num_vars();
    let mut x: Vec<f64> = p.lower.clone();
    let mut best: Option<f64> = None;
    loop {
        if p.max_violation(&x) <= 1e-9 {
            let v = p.objective(&x);
            best = Some(match best {
                None => v,
                Some(b) if p.maximize => b.max(v),
                Some(b) => b.min(v),
            });
        }
        let mut k = 0;
        loop {
            if k == n {
                return best;
            }
            if x[k] < p.upper[k] {
                x[k] += 1.0;
                break;
            }
            x[k] = p.lower[k];
            k += 1;
        }
    }
}

/// A random small pure integer program with general bounds and mixed rows.
fn random_ip(rng: &mut impl Rng) -> Milp {
    let n = rng.random_range(2..=6);
    let m = rng.random_range(1..=5);
    let mut p = Milp::new("rand", rng.random_bool(0.5));
    for j in 0..n {
        let lo = f64::from(rng.random_range(-2..=0));
        let hi = lo + f64::from(rng.random_range(1..=3));
        p.add_var(
            format!("x{j}"),
            f64::from(rng.random_range(-9..=9)),
            lo,
            hi,
            true,
        )
        .unwrap();
    }
    for i in 0..m {
        let mut coefs: Vec<(usize, f64)> = Vec::new();
        for j in 0..n {
            if rng.random_bool(0.7) {
                let v =
                    f64::from(rng.random_range(-5..=5)) + 0.5 * f64::from(rng.random_range(0..=1));
                coefs.push((j, v));
            }
        }
        let b = f64::from(rng.random_range(-4..=8));
        let (lo, hi) = match rng.random_range(0..3) {
            0 => (f64::NEG_INFINITY, b),
            1 => (b - 6.0, f64::INFINITY),
            _ => (b - 3.0, b + 1.5),
        };
        p.add_row(format!("r{i}"), coefs, lo, hi).unwrap();
    }
    p
}

#[test]
fn every_rule_and_selection_agrees_with_brute_force() {
    let reg = BranchingRegistry::builtin();
    let mut rng = Seeder::new(5).rng(0);
    let mut feasible = 0;
    for case in 0..300 {
        let p = random_ip(&mut rng);
        let truth = brute_force(&p);
        feasible += usize::from(truth.is_some());
        for (name, _) in reg.list().into_iter().filter(|r| r.0 != "gnn") {
            for sel in [NodeSelection::BestBound, NodeSelection::DepthFirst] {
                let mut rule = reg.make(name, &RuleOptions::default()).unwrap();
                let params = BnbParams {
                    node_selection: sel,
                    propagate: case % 2 == 0,
                    ..BnbParams::default()
                };
                let r = branch_and_bound(&p, rule.as_mut(), &params).unwrap();
                match truth {
                    None => assert_eq!(
                        r.status,
                        Termination::Infeasible,
                        "case {case} {name} {sel:?}"
                    ),
                    Some(v) => {
                        assert_eq!(r.status, Termination::Optimal, "case {case} {name} {sel:?}");
                        let obj = r.objective.unwrap();
                        assert!(
                            (obj - v).abs() < 1e-6,
                            "case {case} {name} {sel:?}: {obj} vs {v}"
                        );
                        assert!(p.max_violation(r.x.as_ref().unwrap()) <= 1e-6);
                        assert!((r.bound - v).abs() < 1e-6);
                    }
                }
            }
        }
    }
    assert!(feasible > 40, "only {feasible} feasible cases");
}

#[test]
fn mixed_integer_knapsack_with_a_continuous_variable() {
    // max 5a + 4b + 3c + y s.t. 2a + 3b + c + y <= 5.5, a, b, c binary, y in [0, 2].
    let mut p = Milp::new("mk", true);
    for (name, c) in [("a", 5.0), ("b", 4.0), ("c", 3.0)] {
        p.add_var(name, c, 0.0, 1.0, true).unwrap();
    }
    p.add_var("y", 1.0, 0.0, 2.0, false).unwrap();
    p.add_row(
        "cap",
        vec![(0, 2.0), (1, 3.0), (2, 1.0), (3, 1.0)],
        f64::NEG_INFINITY,
        5.5,
    )
    .unwrap();
    let mut rule = BranchingRegistry::builtin()
        .make("strong", &RuleOptions::default())
        .unwrap();
    let r = branch_and_bound(&p, rule.as_mut(), &BnbParams::default()).unwrap();
    // a + b (5) leaves 0.5 for y: 9.5; a + c + y 2 (5): 10; best 10.
    assert_eq!(r.status, Termination::Optimal);
    assert!(
        (r.objective.unwrap() - 10.0).abs() < 1e-9,
        "{:?}",
        r.objective
    );
}

#[test]
fn limits_give_their_status_and_a_valid_bound() {
    let p = generators::generate("setcover", 40, &mut Seeder::new(3).rng(0)).unwrap();
    let reg = BranchingRegistry::builtin();
    let mut rule = reg
        .make("most-fractional", &RuleOptions::default())
        .unwrap();
    let full = branch_and_bound(&p, rule.as_mut(), &BnbParams::default()).unwrap();
    assert_eq!(full.status, Termination::Optimal);
    let opt = full.objective.unwrap();
    let r = branch_and_bound(
        &p,
        rule.as_mut(),
        &BnbParams {
            max_nodes: 2,
            ..BnbParams::default()
        },
    )
    .unwrap();
    if full.nodes > 2 {
        assert_eq!(r.status, Termination::NodeLimit);
        assert_eq!(r.nodes, 2);
        assert!(r.bound <= opt + 1e-9);
    }
    let r = branch_and_bound(
        &p,
        rule.as_mut(),
        &BnbParams {
            max_lp_iterations: 3,
            ..BnbParams::default()
        },
    )
    .unwrap();
    assert_eq!(r.status, Termination::IterationLimit);
    let r = branch_and_bound(
        &p,
        rule.as_mut(),
        &BnbParams {
            time_limit: Some(0.0),
            ..BnbParams::default()
        },
    )
    .unwrap();
    assert_eq!(r.status, Termination::TimeLimit);
    assert!(branch_and_bound(
        &p,
        rule.as_mut(),
        &BnbParams {
            time_limit: Some(f64::NAN),
            ..BnbParams::default()
        },
    )
    .is_err());
}

/// The four generator families at sizes that solve in milliseconds.
const SMALL_FAMILIES: [(&str, usize); 4] = [
    ("setcover", 30),
    ("auction", 12),
    ("facility", 8),
    ("indset", 30),
];

#[test]
fn generators_are_seeded_valid_and_solvable() {
    let reg = BranchingRegistry::builtin();
    for (fam, scale) in SMALL_FAMILIES {
        let a = generators::generate(fam, scale, &mut Seeder::new(9).rng(1)).unwrap();
        let b = generators::generate(fam, scale, &mut Seeder::new(9).rng(1)).unwrap();
        assert_eq!(a, b, "{fam} not deterministic");
        a.validate().unwrap();
        assert!(a.num_vars() > 0 && a.num_rows() > 0, "{fam}");
        let mut rule = reg.make("pseudo-cost", &RuleOptions::default()).unwrap();
        let r = branch_and_bound(&a, rule.as_mut(), &BnbParams::default()).unwrap();
        assert_eq!(r.status, Termination::Optimal, "{fam}");
        assert!(a.max_violation(r.x.as_ref().unwrap()) <= 1e-6, "{fam}");
        // The same optimum after an MPS round trip.
        let again = parse_mps(&write_mps_string(&a), fam).unwrap();
        let r2 = branch_and_bound(&again, rule.as_mut(), &BnbParams::default()).unwrap();
        assert!(
            (r.objective.unwrap() - r2.objective.unwrap()).abs() < 1e-6,
            "{fam}"
        );
    }
    assert!(generators::generate("nope", 10, &mut Seeder::new(1).rng(0)).is_err());
    assert!(generators::set_cover(2, 10, 0.5, 10, &mut Seeder::new(1).rng(0)).is_err());
    assert!(generators::independent_set(5, 5, &mut Seeder::new(1).rng(0)).is_err());
}

#[test]
fn registry_names_unknown_rules() {
    let reg = BranchingRegistry::builtin();
    let e = reg
        .make("bogus", &RuleOptions::default())
        .err()
        .unwrap()
        .to_string();
    assert!(e.contains("bogus") && e.contains("reliability"), "{e}");
    assert!(reg.list().len() >= 4);
}

#[test]
fn both_lp_engines_agree_with_brute_force() {
    let reg = BranchingRegistry::builtin();
    let mut rng = Seeder::new(11).rng(0);
    for case in 0..80 {
        let p = random_ip(&mut rng);
        let truth = brute_force(&p);
        for name in ["most-fractional", "pseudo-cost", "reliability"] {
            let mut rule = reg.make(name, &RuleOptions::default()).unwrap();
            let params = BnbParams {
                lp_engine: LpEngine::Microlp,
                propagate: case % 2 == 0,
                ..BnbParams::default()
            };
            let r = branch_and_bound(&p, rule.as_mut(), &params).unwrap();
            match truth {
                None => assert_eq!(r.status, Termination::Infeasible, "case {case} {name}"),
                Some(v) => {
                    assert_eq!(r.status, Termination::Optimal, "case {case} {name}");
                    let obj = r.objective.unwrap();
                    assert!((obj - v).abs() < 1e-6, "case {case} {name}: {obj} vs {v}");
                    assert!(p.max_violation(r.x.as_ref().unwrap()) <= 1e-6);
                    assert!((r.bound - v).abs() < 1e-6);
                }
            }
        }
    }
}

#[test]
fn both_lp_engines_reach_the_same_optimum_on_every_family() {
    let reg = BranchingRegistry::builtin();
    for (fam, scale) in SMALL_FAMILIES {
        for seed in 0..2 {
            let p = generators::generate(fam, scale, &mut Seeder::new(21).rng(seed)).unwrap();
            for name in ["most-fractional", "pseudo-cost", "strong"] {
                let mut objs = Vec::new();
                for engine in LpEngine::ALL {
                    let mut rule = reg.make(name, &RuleOptions::default()).unwrap();
                    let params = BnbParams {
                        lp_engine: engine,
                        ..BnbParams::default()
                    };
                    let r = branch_and_bound(&p, rule.as_mut(), &params).unwrap();
                    assert_eq!(
                        r.status,
                        Termination::Optimal,
                        "{fam} {seed} {name} {engine}"
                    );
                    assert!(p.max_violation(r.x.as_ref().unwrap()) <= 1e-6);
                    assert!(r.nodes >= 1 && r.lp_iterations > 0, "{fam} {engine}");
                    objs.push(r.objective.unwrap());
                }
                let scale_obj = 1.0 + objs[0].abs();
                assert!(
                    (objs[0] - objs[1]).abs() <= 1e-6 * scale_obj,
                    "{fam} {seed} {name}: {objs:?}"
                );
            }
        }
    }
}

#[test]
fn microlp_engine_reports_infeasible_unbounded_and_limits() {
    let mut rule = branching::MostFractional;
    let microlp = BnbParams {
        lp_engine: LpEngine::Microlp,
        ..BnbParams::default()
    };
    // LP feasible, integer infeasible: 2x = 1, x integer in [0, 3].
    let mut p = Milp::new("odd", false);
    p.add_var("x", 1.0, 0.0, 3.0, true).unwrap();
    p.add_row("r", vec![(0, 2.0)], 1.0, 1.0).unwrap();
    let r = branch_and_bound(&p, &mut rule, &microlp).unwrap();
    assert_eq!(r.status, Termination::Infeasible);
    // LP infeasible: x + y >= 3 with x, y binary.
    let mut q = Milp::new("inf", false);
    q.add_var("x", 1.0, 0.0, 1.0, true).unwrap();
    q.add_var("y", 1.0, 0.0, 1.0, true).unwrap();
    q.add_row("r", vec![(0, 1.0), (1, 1.0)], 3.0, f64::INFINITY)
        .unwrap();
    // Unbounded: max x + y, x - y <= 1.5, x, y >= 0 integer.
    let mut u = Milp::new("unb", true);
    u.add_var("x", 1.0, 0.0, f64::INFINITY, true).unwrap();
    u.add_var("y", 1.0, 0.0, f64::INFINITY, true).unwrap();
    u.add_row("r", vec![(0, 1.0), (1, -1.0)], f64::NEG_INFINITY, 1.5)
        .unwrap();
    for (problem, want) in [(&q, Termination::Infeasible), (&u, Termination::Unbounded)] {
        for engine in LpEngine::ALL {
            let params = BnbParams {
                lp_engine: engine,
                ..BnbParams::default()
            };
            let r = branch_and_bound(problem, &mut rule, &params).unwrap();
            assert_eq!(r.status, want, "{} {engine}", problem.name);
        }
    }
    // Node and time limits (the iteration limit is checked between nodes).
    let s = generators::generate("setcover", 40, &mut Seeder::new(3).rng(0)).unwrap();
    let r = branch_and_bound(
        &s,
        &mut rule,
        &BnbParams {
            max_nodes: 2,
            ..microlp.clone()
        },
    )
    .unwrap();
    assert!(r.nodes <= 2);
    let r = branch_and_bound(
        &s,
        &mut rule,
        &BnbParams {
            max_lp_iterations: 3,
            ..microlp.clone()
        },
    )
    .unwrap();
    assert_eq!(r.status, Termination::IterationLimit);
    assert_eq!(r.nodes, 1);
    let r = branch_and_bound(
        &s,
        &mut rule,
        &BnbParams {
            time_limit: Some(0.0),
            ..microlp.clone()
        },
    )
    .unwrap();
    assert_eq!(r.status, Termination::TimeLimit);
}

#[test]
fn lp_engine_names_parse_and_the_learned_features_need_the_dense_engine() {
    for e in LpEngine::ALL {
        assert_eq!(e.name().parse::<LpEngine>().unwrap(), e);
        assert_eq!(
            serde_json::to_string(&e).unwrap(),
            format!("\"{}\"", e.name())
        );
    }
    assert_eq!(BnbParams::default().lp_engine, LpEngine::Dense);
    let err = "simplex".parse::<LpEngine>().unwrap_err().to_string();
    assert!(
        err.contains("simplex") && err.contains("dense") && err.contains("microlp"),
        "{err}"
    );
    let p = generators::generate("setcover", 20, &mut Seeder::new(3).rng(0)).unwrap();
    let params = BnbParams {
        lp_engine: LpEngine::Microlp,
        ..BnbParams::default()
    };
    let err = features::collect_strong_branching(&p, &params, 50)
        .unwrap_err()
        .to_string();
    assert!(err.contains("dense"), "{err}");
}
