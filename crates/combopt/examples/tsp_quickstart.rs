//! The README example: a random TSP, an assignment, a hypervolume and a
//! small NOTEARS run.
//!
//! `cargo run -p duality-combopt --example tsp_quickstart`

use duality_combopt::dag::{accuracy, random_dag, simulate_linear_sem, GraphType, Noise};
use duality_combopt::prelude::*;
use duality_core::seed::Seeder;

fn main() -> duality_combopt::Result<()> {
    let seeder = Seeder::new(42);

    // TSP: 500 random cities, greedy + 2-opt/Or-opt, then divide-conquer-reunion.
    let inst = Instance::random_uniform(500, &mut seeder.rng(0))?;
    for method in ["greedy", "or2opt", "2hopt", "dcr"] {
        let sol = solve(&inst, &SolveParams::new(method).with_seed(7))?;
        println!("{method:8} length {:.4} in {:.3}s", sol.length, sol.seconds);
    }

    // Assignment (scipy's linear_sum_assignment semantics; inf = forbidden).
    let costs = CostMatrix::from_rows(&[
        vec![4.0, 1.0, 3.0],
        vec![2.0, 0.0, 5.0],
        vec![3.0, 2.0, f64::INFINITY],
    ])?;
    let a = linear_sum_assignment(&costs, false)?;
    println!("assignment cost {} pairs {:?}", a.cost, a.pairs);

    // Exact hypervolume of a 3-objective front.
    let front = vec![
        vec![0.2, 0.5, 0.6],
        vec![0.4, 0.2, 0.7],
        vec![0.6, 0.6, 0.1],
    ];
    println!("hypervolume {:.6}", hypervolume(&front, &[1.0, 1.0, 1.0])?);

    // NOTEARS on a random ER graph.
    let mut rng = seeder.rng(1);
    let truth = random_dag(6, 6, GraphType::ErdosRenyi, &mut rng)?;
    let x = simulate_linear_sem(&truth, 500, Noise::Gaussian, &mut rng)?;
    let fit = notears(&Data::new(&x, 6)?, &NotearsParams::default())?;
    println!("NOTEARS: {:?}", accuracy(&truth, &fit.w)?);
    Ok(())
}
