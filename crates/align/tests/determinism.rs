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
use duality_align::train::nm_ppo::NmPpo;
use duality_align::train::offline::Offline;
use duality_align::train::online::Online;
use duality_align::train::registered;
use duality_align::train::reward_model::RewardModelRlhf;
use duality_align::train::{TrainLog, Trainer};

/// libtorch's default generator is process-wide (policy initialisation
/// seeds it), so the tests of this file run one at a time.
static SERIAL: std::sync::Mutex<()> = std::sync::Mutex::new(());

/// A small run of `trainer` (a bed it accepts; a few steps of every known
/// trainer, defaults for any other).
fn small(trainer: &str) -> RunConfig {
    let testbed = if trainer == Constrained::NAME || trainer == NmPpo::NAME {
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
    c.edit_trainer_config::<NmPpo>(|k| {
        k.constrained.group = group.clone();
        k.segment_steps = 2;
        k.eval_every = 1;
    })
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
    let _serial = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
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

/// Cached reference log-probs (`[offline] reference_cache`): training that
/// writes the cache, training that reads it back, and training that runs
/// the reference every step end bit-identical on CPU (one thread); a cache
/// made for other pairs is refused.
#[test]
fn offline_training_on_cached_reference_log_probs_equals_recomputing() {
    let _serial = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    duality_align::tch::set_num_threads(1);
    let path = std::env::temp_dir().join(format!(
        "duality-align-refcache-{}.json",
        std::process::id()
    ));
    let _ = std::fs::remove_file(&path);
    let plain = small(Offline::NAME);
    let mut cached = plain.clone();
    cached
        .edit_trainer_config::<Offline>(|o| o.reference_cache = path.display().to_string())
        .unwrap();
    let a = run_trained(&plain).unwrap();
    let b = run_trained(&cached).unwrap();
    assert!(path.exists(), "the first cached run writes the file");
    let c = run_trained(&cached).unwrap();
    for (label, r) in [("writing", &b), ("reading", &c)] {
        assert_eq!(
            parameter_bits(&a),
            parameter_bits(r),
            "{label}: parameters differ"
        );
        assert_eq!(
            log_bits(&a.report.log),
            log_bits(&r.report.log),
            "{label}: logged metrics differ"
        );
    }
    // The cached values are what training reads: shift one and the result moves.
    let mut file = duality_align::train::reference_cache::ReferenceLogProbs::load(&path).unwrap();
    file.chosen[0] += 1.0;
    file.save(&path).unwrap();
    let d = run_trained(&cached).unwrap();
    assert_ne!(
        parameter_bits(&a),
        parameter_bits(&d),
        "the cache was not read"
    );
    // Another seed draws other pairs (and initialises another reference).
    let mut other = cached.clone();
    other.seed += 1;
    let Err(e) = run_trained(&other) else {
        panic!("a stale cache is refused")
    };
    let e = e.to_string();
    assert!(e.contains("fingerprint") && e.contains("refcache"), "{e}");
    let _ = std::fs::remove_file(&path);
}
