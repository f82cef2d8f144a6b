//! The capacitated vehicle routing problem (CVRP), UDC's second problem:
//! CVRPLIB I/O and an X-style generator ([`instance`]), Clarke-Wright
//! savings, sweep, a granular local search and a divide-conquer-reunion over
//! route groups ([`solve_vrp`]).
//!
//! ```
//! use duality_combopt::vrp::{check_feasible, solve_vrp, VrpParams, XGenerator};
//! use duality_core::seed::Seeder;
//!
//! let inst = XGenerator::uniform(60).generate(&mut Seeder::new(1).rng(0), "demo")?;
//! let sol = solve_vrp(&inst, &VrpParams::new("savings-ls"))?;
//! check_feasible(&inst, &sol.routes)?;
//! assert!(sol.cost > 0.0);
//! # Ok::<(), duality_combopt::Error>(())
//! ```

mod instance;
mod solve;

pub use instance::{
    parse_solution, parse_vrp, read_vrp, write_solution, write_vrp, CustomerPosition,
    DemandDistribution, DepotPosition, VrpInstance, XGenerator, MAX_NODES,
};
pub use solve::{
    check_feasible, dcr_routes, local_search, routes_cost, savings, solve_vrp, sweep, Routes,
    VrpParams, VrpSolution, VRP_METHODS,
};

#[cfg(test)]
mod tests {
    use super::*;
    use duality_core::seed::Seeder;
    use std::path::PathBuf;

    fn dir() -> PathBuf {
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../fixtures/combopt/cvrplib")
    }

    fn optima() -> Vec<(String, f64)> {
        std::fs::read_to_string(dir().join("optima.csv"))
            .unwrap()
            .lines()
            .skip(1)
            .map(|l| {
                let f: Vec<&str> = l.split(',').collect();
                (f[0].to_string(), f[3].parse().unwrap())
            })
            .collect()
    }

    #[test]
    fn reads_writes_and_prices_the_published_optimum() {
        let inst = read_vrp(dir().join("E-n22-k4.vrp")).unwrap();
        assert_eq!((inst.len(), inst.capacity()), (22, 6000));
        assert_eq!(inst.demands().iter().sum::<u64>(), 22_500);
        assert_eq!(inst.min_routes(), 4);
        let again = parse_vrp(&write_vrp(&inst)).unwrap();
        assert_eq!(again, inst);
        // The optimal X-n120-k6 routes cost 13332 under CVRPLIB rounding.
        let x = read_vrp(dir().join("X-n120-k6.vrp")).unwrap();
        let text = std::fs::read_to_string(dir().join("X-n120-k6.sol")).unwrap();
        let (routes, cost) = parse_solution(&text).unwrap();
        check_feasible(&x, &routes).unwrap();
        assert_eq!(routes_cost(&x, &routes), 13_332.0);
        assert_eq!(cost, Some(13_332.0));
        let (back, c) = parse_solution(&write_solution(&routes, 13_332.0)).unwrap();
        assert_eq!((back, c), (routes, Some(13_332.0)));
    }

    #[test]
    fn rejects_bad_files() {
        let good = std::fs::read_to_string(dir().join("E-n22-k4.vrp")).unwrap();
        for (from, to, what) in [
            ("EUC_2D", "GEO", "EDGE_WEIGHT_TYPE"),
            ("CAPACITY : 6000", "CAPACITY : 100", "demand of node"),
            ("CAPACITY : 6000\n", "", "CAPACITY"),
            ("DIMENSION : 22", "DIMENSION : 1", "DIMENSION"),
            ("22 139 182", "23 139 182", "node id"),
        ] {
            let bad = good.replacen(from, to, 1);
            let err = parse_vrp(&bad).unwrap_err().to_string();
            assert!(err.contains(what), "{what}: {err}");
        }
    }

    #[test]
    fn every_method_is_feasible_and_within_its_gap_on_the_shipped_instances() {
        // Gap bounds (percent above the proven optimum) per method.
        let bounds = [
            ("savings", 12.0),
            ("sweep", 40.0),
            ("savings-ls", 8.0),
            ("sweep-ls", 15.0),
            ("dcr", 6.0),
        ];
        for (name, opt) in optima() {
            let inst = read_vrp(dir().join(format!("{name}.vrp"))).unwrap();
            for (method, bound) in bounds {
                let p = VrpParams {
                    rounds: 2,
                    kicks: 10,
                    ..VrpParams::new(method)
                };
                let sol = solve_vrp(&inst, &p).unwrap();
                check_feasible(&inst, &sol.routes).unwrap();
                assert!((routes_cost(&inst, &sol.routes) - sol.cost).abs() < 1e-9);
                let gap = 100.0 * (sol.cost / opt - 1.0);
                assert!(gap >= -1e-9, "{name} {method}: below the optimum ({gap}%)");
                assert!(gap <= bound, "{name} {method}: gap {gap:.2}% > {bound}%");
            }
        }
    }

    #[test]
    fn generator_and_dcr_are_seeded() {
        let g = XGenerator {
            placement: CustomerPosition::RandomClustered,
            depot: DepotPosition::Centre,
            ..XGenerator::uniform(80)
        };
        let a = g.generate(&mut Seeder::new(4).rng(0), "a").unwrap();
        let b = g.generate(&mut Seeder::new(4).rng(0), "a").unwrap();
        assert_eq!(a, b);
        assert_eq!(a.coords()[0], [500.0, 500.0]);
        assert!(a.demands()[1..].iter().all(|&q| (1..=10).contains(&q)));
        assert!(a.min_routes() >= 7);
        let p = VrpParams {
            seed: 3,
            rounds: 2,
            kicks: 5,
            ..VrpParams::new("dcr")
        };
        let s1 = solve_vrp(&a, &p).unwrap();
        let s2 = solve_vrp(&a, &p).unwrap();
        assert_eq!(s1.routes, s2.routes);
        let ls = solve_vrp(&a, &VrpParams::new("savings-ls")).unwrap();
        assert!(s1.cost <= ls.cost + 1e-9);
        assert!(XGenerator::uniform(0)
            .generate(&mut Seeder::new(1).rng(0), "x")
            .is_err());
        assert!(solve_vrp(&a, &VrpParams::new("nope")).is_err());
    }

    #[test]
    fn a_time_limit_beyond_any_clock_is_no_limit_and_never_panics() {
        let inst = read_vrp(dir().join("E-n22-k4.vrp")).unwrap();
        for t in [1e308, 1.8446744073709552e19, 1e12] {
            let p = VrpParams {
                time_limit: Some(t),
                rounds: 1,
                kicks: 2,
                ..VrpParams::new("savings-ls")
            };
            check_feasible(&inst, &solve_vrp(&inst, &p).unwrap().routes).unwrap();
        }
        let bad = VrpParams {
            time_limit: Some(f64::NAN),
            ..VrpParams::new("savings")
        };
        assert!(solve_vrp(&inst, &bad).is_err());
    }
}
