//! Nodes, LP pivots and time per branching rule on generated instances:
//! `cargo run --release -p duality-combopt --example milp_rules -- [family] [scale] [instances]`.

use duality_combopt::milp::{
    branch_and_bound, generators, BnbParams, BranchingRegistry, RuleOptions,
};
use duality_core::seed::Seeder;

fn main() -> duality_combopt::Result<()> {
    let args: Vec<String> = std::env::args().collect();
    let family = args.get(1).map_or("setcover", String::as_str);
    let scale: usize = args.get(2).and_then(|s| s.parse().ok()).unwrap_or(60);
    let count: u64 = args.get(3).and_then(|s| s.parse().ok()).unwrap_or(3);
    let reg = BranchingRegistry::builtin();
    for k in 0..count {
        let p = generators::generate(family, scale, &mut Seeder::new(7).rng(k))?;
        println!("{} ({} vars, {} rows)", p.name, p.num_vars(), p.num_rows());
        for (name, _) in reg.list() {
            let mut rule = reg.make(name, &RuleOptions::default())?;
            let r = branch_and_bound(
                &p,
                rule.as_mut(),
                &BnbParams {
                    max_nodes: 20_000,
                    ..BnbParams::default()
                },
            )?;
            println!(
                "  {name:16} {:?} obj {:?} nodes {} lp {} strong {} {:.3}s",
                r.status, r.objective, r.nodes, r.lp_iterations, r.strong_iterations, r.seconds
            );
        }
    }
    Ok(())
}
