//! Trains UDC's divide policy, or compares `udc` with `dcr` on uniform
//! instances (needs feature `torch`).
//!
//! ```text
//! cargo run --release -p duality-combopt --features torch --example udc -- \
//!     train STEPS SEED end-to-end|divide-only OUT.ot
//! cargo run --release -p duality-combopt --features torch --example udc -- \
//!     compare CITIES INSTANCES [MODEL.ot]
//! ```

#[cfg(feature = "torch")]
fn main() -> duality_combopt::Result<()> {
    duality_combopt::tsp::register_torch_methods();
    use duality_combopt::tsp::{solve, train_udc, Instance, SolveParams, UdcTrainParams};
    use duality_core::progress::Progress;
    use duality_core::seed::Seeder;
    use std::path::PathBuf;

    let args: Vec<String> = std::env::args().skip(1).collect();
    let arg = |i: usize| args.get(i).cloned().unwrap_or_default();
    let num = |i: usize, d: usize| arg(i).parse().unwrap_or(d);
    match arg(0).as_str() {
        "train" => {
            let params = UdcTrainParams::default()
                .with_cities(200)
                .with_samples(8)
                .with_steps(num(1, 200))
                .with_seed(num(2, 0) as u64)
                .with_reward(arg(3).parse()?);
            let run = train_udc(&params, &Progress::new(params.steps() as u64, "train-udc"))?;
            for s in run.trace.iter().step_by(10) {
                println!(
                    "step {:5} divide {:8.3} final {:8.3} loss {:9.4}",
                    s.step, s.divide_length, s.final_length, s.loss
                );
            }
            println!(
                "{:.1} s, {} parameters",
                run.seconds,
                run.policy.parameters()
            );
            run.policy.save(arg(4))
        }
        "compare" => {
            let cities = num(1, 500);
            let model = args.get(3).map(PathBuf::from);
            for i in 0..num(2, 4) as u64 {
                let inst = Instance::random_uniform(cities, &mut Seeder::new(1000 + i).rng(0))?;
                let dcr = solve(&inst, &SolveParams::new("dcr").with_seed(i))?;
                let udc = solve(
                    &inst,
                    &SolveParams::new("udc")
                        .with_seed(i)
                        .with_udc_model(model.clone()),
                )?;
                println!(
                    "instance {i}: dcr {:.4} ({:.2} s)  udc {:.4} ({:.2} s)  udc/dcr - 1 = {:+.3}%",
                    dcr.length,
                    dcr.seconds,
                    udc.length,
                    udc.seconds,
                    100.0 * (udc.length / dcr.length - 1.0)
                );
            }
            Ok(())
        }
        other => {
            eprintln!("unknown subcommand {other:?}: train | compare");
            Ok(())
        }
    }
}

#[cfg(not(feature = "torch"))]
fn main() {
    eprintln!("this example needs --features torch");
}
