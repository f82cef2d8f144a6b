//! Bit-identical training: every registered trainer, run twice from the
//! same config and seed on CPU, ends with the same parameters (bit for bit)
//! and the same logged metrics and evaluation. The conditions are those
//! of `docs/align.md` ("Reproducibility"): CPU tensors, a fixed libtorch
//! thread count (1 here), the same libtorch build and machine.

use duality_align::run::{run_trained, RunConfig, TrainedRun};
use duality_align::testbed::TestBedKind;
use duality_align::train::constrained::Constrained;
use duality_align::train::curry::Curry;
use duality_align::train::dno::Dno;
use duality_align::train::group::Group;
use duality_align::train::hypo::Hypo;
use duality_align::train::kto::Kto;
use duality_align::train::offline::Offline;
use duality_align::train::online::Online;
use duality_align::train::registered;
use duality_align::train::reward_model::RewardModelRlhf;
use duality_align::train::{TrainLog, Trainer};

/// A small run of `trainer` (a bed it accepts; a few steps of every known
/// trainer, defaults for any other).
fn small(trainer: &str) -> RunConfig {
    let testbed = if trainer == Constrained::NAME {
        TestBedKind::Proxies
    } else {
        TestBedKind::HiddenReward
    };
    let mut c = RunConfig {
        trainer: trainer.to_string(),
        testbed,
        seed: 11,
        eval_samples: 64,
        ..RunConfig::default()
    };
    c.task.pairs = 64;
    c.task.ranked_prompts = 16;
    c.edit_trainer_config::<Offline>(|o| o.epochs = 2).unwrap();
    c.edit_trainer_config::<Curry>(|k| k.offline.epochs = 1)
        .unwrap();
    c.edit_trainer_config::<Hypo>(|h| h.offline.epochs = 1)
        .unwrap();
    c.edit_trainer_config::<Online>(|o| {
        o.steps = 4;
        o.batch_size = 8;
    })
    .unwrap();
    c.edit_trainer_config::<Dno>(|d| {
        d.iterations = 2;
        d.prompts = 8;
    })
    .unwrap();
    c.edit_trainer_config::<Kto>(|k| k.epochs = 2).unwrap();
    let mut group = c.trainer_config::<Group>().unwrap();
    group.steps = 4;
    group.group_size = 2;
    group.prompts_per_step = 4;
    group.lag = 1;
    c.set_trainer_config::<Group>(&group).unwrap();
    c.edit_trainer_config::<RewardModelRlhf>(|r| {
        r.model.epochs = 1;
        r.rlhf = group.clone();
    })
    .unwrap();
    c.edit_trainer_config::<Constrained>(|k| k.group = group.clone())
        .unwrap();
    c
}

/// Every parameter of the trained policy as bits, by variable name.
fn parameter_bits(run: &TrainedRun) -> Vec<(String, Vec<u64>)> {
    let mut vars: Vec<(String, Vec<u64>)> = run
        .policy
        .var_store()
        .variables()
        .into_iter()
        .map(|(name, t)| {
            let v = duality_core::tensor::tensor_to_vec_f64(&t).unwrap();
            (name, v.into_iter().map(f64::to_bits).collect())
        })
        .collect();
    vars.sort();
    vars
}

/// Every logged metric as bits, in step order.
fn log_bits(log: &TrainLog) -> Vec<(usize, String, u64)> {
    log.entries
        .iter()
        .flat_map(|e| {
            e.metrics
                .iter()
                .map(move |(k, v)| (e.step, k.clone(), v.to_bits()))
        })
        .collect()
}

#[test]
fn every_registered_trainer_is_bit_identical_for_one_seed_on_cpu() {
    duality_align::tch::set_num_threads(1);
    let names: Vec<&str> = registered().iter().map(|t| t.name()).collect();
    assert!(names.len() >= 9, "{names:?}");
    for name in names {
        let config = small(name);
        let a = run_trained(&config).unwrap();
        let b = run_trained(&config).unwrap();
        let pa = parameter_bits(&a);
        assert!(!pa.is_empty(), "{name}: no parameters");
        assert_eq!(pa, parameter_bits(&b), "{name}: parameters differ");
        assert!(!a.report.log.entries.is_empty(), "{name}: empty log");
        assert_eq!(
            log_bits(&a.report.log),
            log_bits(&b.report.log),
            "{name}: logged metrics differ"
        );
        let eval = |r: &TrainedRun| {
            [
                Some(r.report.win_rate.mean),
                Some(r.report.kl.mean),
                r.report.true_reward.map(|e| e.mean),
            ]
            .map(|x| x.map(f64::to_bits))
        };
        assert_eq!(eval(&a), eval(&b), "{name}: evaluation differs");
    }
}
