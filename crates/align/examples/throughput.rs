//! Offline-DPO training throughput (compare with `fixtures/align/throughput.py`).
//!
//! `cargo run --release -p duality-align --example throughput -- 300`
fn main() -> duality_core::Result<()> {
    duality_align::tch::set_num_threads(1);
    let steps = std::env::args()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(200);
    let rate = duality_align::dpo_steps_per_second(steps, 32)?;
    println!("{{\"library\": \"duality-align (tch 0.26)\", \"steps\": {steps}, \"steps_per_second\": {rate}}}");
    Ok(())
}
