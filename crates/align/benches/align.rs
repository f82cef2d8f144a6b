//! Criterion benches: sequence log-probs, the DPO loss with its backward
//! pass, and one DPO training step of the GRU and transformer policies
//! (libtorch on one thread, as in the bench suite).
// criterion's macros generate undocumented items.
#![allow(missing_docs)]

use criterion::{criterion_group, criterion_main, Criterion};
use duality_align::logprob::sequence_log_probs;
use duality_align::loss::{LossConfig, LossKind, PairLogProbs, PreferenceLoss};
use duality_align::policy::{Policy, PolicyConfig};
use duality_align::tch::{Device, Kind, Tensor};
use duality_core::tensor::OptimizerConfig;

const VOCAB: i64 = 6;

fn log_probs(c: &mut Criterion) {
    duality_align::tch::set_num_threads(1);
    duality_core::tensor::manual_seed(0);
    let (b, t, v) = (64, 16, 32);
    let logits = Tensor::randn([b, t, v], (Kind::Float, Device::Cpu));
    let targets = Tensor::randint(v, [b, t], (Kind::Int64, Device::Cpu));
    let mask = Tensor::ones([b, t], (Kind::Float, Device::Cpu));
    c.bench_function("sequence_log_probs B=64 T=16 V=32", |bench| {
        bench.iter(|| sequence_log_probs(&logits, &targets, &mask).unwrap())
    });
}

fn dpo_loss(c: &mut Criterion) {
    duality_align::tch::set_num_threads(1);
    duality_core::tensor::manual_seed(1);
    let b = 256;
    let lp = |shift: f64| -(Tensor::rand([b], (Kind::Float, Device::Cpu)) * 20.0 + shift);
    let (rc, rr) = (lp(1.0), lp(1.0));
    let config = LossConfig::new(LossKind::Dpo, 0.1).check().unwrap();
    c.bench_function("dpo loss + backward B=256", |bench| {
        bench.iter(|| {
            let pc = lp(1.0).set_requires_grad(true);
            let pr = lp(1.0).set_requires_grad(true);
            let pairs = PairLogProbs::new(
                pc.shallow_clone(),
                pr.shallow_clone(),
                rc.shallow_clone(),
                rr.shallow_clone(),
            );
            config.loss(&pairs).unwrap().backward();
            pc.grad()
        })
    });
}

/// One DPO step on 32 pairs (prompt 1 token, completions 4 tokens).
fn train_step(c: &mut Criterion, name: &str, config: PolicyConfig) {
    duality_align::tch::set_num_threads(1);
    duality_core::tensor::manual_seed(2);
    let policy = Policy::new(&config, 0).unwrap();
    let reference = policy.frozen_copy().unwrap();
    let mut opt = OptimizerConfig::adam(1e-2)
        .build(policy.var_store())
        .unwrap();
    let b = 32;
    let x = Tensor::randint(VOCAB, [b, 1], (Kind::Int64, Device::Cpu));
    let yw = Tensor::randint(VOCAB, [b, 4], (Kind::Int64, Device::Cpu));
    let yl = Tensor::randint(VOCAB, [b, 4], (Kind::Int64, Device::Cpu));
    let mask = Tensor::ones([b, 4], (Kind::Float, Device::Cpu));
    let loss = LossConfig::new(LossKind::Dpo, 0.5).check().unwrap();
    c.bench_function(name, |bench| {
        bench.iter(|| {
            let pc = policy.completion_log_probs(&x, &yw, &mask).unwrap().sum;
            let pr = policy.completion_log_probs(&x, &yl, &mask).unwrap().sum;
            let (rc, rr) = {
                let _g = duality_align::tch::no_grad_guard();
                (
                    reference.completion_log_probs(&x, &yw, &mask).unwrap().sum,
                    reference.completion_log_probs(&x, &yl, &mask).unwrap().sum,
                )
            };
            let l = loss.loss(&PairLogProbs::new(pc, pr, rc, rr)).unwrap();
            opt.backward_step(&l);
        })
    });
}

fn steps(c: &mut Criterion) {
    train_step(
        c,
        "dpo step gru 16/32 B=32",
        PolicyConfig::gru(VOCAB as usize),
    );
    train_step(
        c,
        "dpo step transformer 2x16 B=32",
        PolicyConfig::transformer(VOCAB as usize, 2),
    );
}

criterion_group!(benches, log_probs, dpo_loss, steps);
criterion_main!(benches);
