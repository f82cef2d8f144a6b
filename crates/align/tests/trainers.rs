//! Each trainer on a small test bed: it runs, is seeded, and moves the
//! policy the way its paper says. Sizes are tiny so the file runs in seconds.

use duality_align::run::{run, RunConfig};
use duality_align::testbed::TestBedKind;
use duality_align::train::constrained::Constrained;
use duality_align::train::curry::Curry;
use duality_align::train::dno::Dno;
use duality_align::train::group::{Group, GroupConfig, GroupMethod, OpmdForm, RecClip, RecWeight};
use duality_align::train::hypo::Hypo;
use duality_align::train::offline::Offline;
use duality_align::train::online::{Online, OnlineMethod};
use duality_align::train::reward_model::RewardModelRlhf;
use duality_align::train::Trainer;

/// The shared small sizes, with the sections each trainer below reads.
fn base(trainer: &str, testbed: TestBedKind) -> RunConfig {
    duality_align::tch::set_num_threads(1);
    let mut c = RunConfig {
        trainer: trainer.to_string(),
        testbed,
        seed: 3,
        eval_samples: 400,
        ..RunConfig::default()
    };
    c.task.pairs = 256;
    c.edit_trainer_config::<Offline>(|o| {
        o.epochs = 6;
        o.loss.beta = 0.5;
    })
    .unwrap();
    c.edit_trainer_config::<Online>(|o| {
        o.steps = 40;
        o.batch_size = 32;
        o.beta = 0.5;
    })
    .unwrap();
    let group = GroupConfig {
        steps: 40,
        group_size: 4,
        prompts_per_step: 8,
        ..GroupConfig::default()
    };
    c.set_trainer_config::<Group>(&group).unwrap();
    c.edit_trainer_config::<RewardModelRlhf>(|r| r.rlhf = group.clone())
        .unwrap();
    c.edit_trainer_config::<Constrained>(|k| k.group = group.clone())
        .unwrap();
    c.edit_trainer_config::<Dno>(|d| {
        d.iterations = 3;
        d.prompts = 24;
    })
    .unwrap();
    c
}

fn show(label: &str, r: &duality_align::run::RunReport) {
    eprintln!(
        "{label}: win {:.3} [{:.3}, {:.3}] reward {:?} ref {:?} kl {:.3}",
        r.win_rate.mean,
        r.win_rate.lo,
        r.win_rate.hi,
        r.true_reward.map(|e| e.mean),
        r.reference_reward.map(|e| e.mean),
        r.kl.mean
    );
}

#[test]
fn offline_dpo_beats_the_reference_with_a_ci_excluding_one_half() {
    let r = run(&base(Offline::NAME, TestBedKind::HiddenReward)).unwrap();
    show("offline dpo", &r);
    assert!(r.win_rate.excludes_below(0.5), "{:?}", r.win_rate);
    assert!(r.true_reward.unwrap().mean > r.reference_reward.unwrap().mean);
    assert!(r.kl.mean > 0.0);
}

#[test]
fn training_is_seeded() {
    let mut c = base(Offline::NAME, TestBedKind::HiddenReward);
    c.edit_trainer_config::<Offline>(|o| o.epochs = 2).unwrap();
    c.eval_samples = 50;
    let a = run(&c).unwrap();
    let b = run(&c).unwrap();
    assert_eq!(a.log, b.log);
    assert_eq!(a.win_rate, b.win_rate);
}

#[test]
fn online_methods_improve_on_the_bt_bed() {
    for method in [OnlineMethod::Ipo, OnlineMethod::IpoMd, OnlineMethod::NashMd] {
        let mut c = base(Online::NAME, TestBedKind::HiddenReward);
        c.edit_trainer_config::<Online>(|o| o.method = method)
            .unwrap();
        let r = run(&c).unwrap();
        show(&format!("{method:?}"), &r);
        assert!(r.win_rate.mean > 0.5, "{method:?}: {:?}", r.win_rate);
    }
}

#[test]
fn curry_and_hypo_run_and_improve() {
    let r = run(&base(Curry::NAME, TestBedKind::HiddenReward)).unwrap();
    show("curry", &r);
    assert!(r.win_rate.mean > 0.5);
    assert_eq!(
        r.log.entries.len(),
        3 * RunConfig::default()
            .trainer_config::<Curry>()
            .unwrap()
            .offline
            .epochs
    );
    let mut c = base(Hypo::NAME, TestBedKind::HiddenReward);
    let offline = c.trainer_config::<Offline>().unwrap();
    c.edit_trainer_config::<Hypo>(|h| h.offline = offline)
        .unwrap();
    let r = run(&c).unwrap();
    show("hypo", &r);
    assert!(r.win_rate.mean > 0.5);
}

#[test]
fn group_methods_learn_countdown_and_hidden_reward() {
    for method in [GroupMethod::Grpo, GroupMethod::Opmd, GroupMethod::AsymRe] {
        let mut c = base(Group::NAME, TestBedKind::HiddenReward);
        c.edit_trainer_config::<Group>(|g| {
            g.method = method;
            g.lag = 2;
        })
        .unwrap();
        let r = run(&c).unwrap();
        show(&format!("{method:?} lag 2"), &r);
        assert!(r.true_reward.unwrap().mean > r.reference_reward.unwrap().mean);
    }
    // The REC family and OPMD's token form on the same stale samples.
    for (clip, weight, form) in [
        (RecClip::OneSided, RecWeight::None, None),
        (RecClip::TwoSided, RecWeight::Token, None),
        (RecClip::None, RecWeight::Sequence, None),
        (RecClip::None, RecWeight::None, Some(OpmdForm::Token)),
    ] {
        let mut c = base(Group::NAME, TestBedKind::HiddenReward);
        c.edit_trainer_config::<Group>(|g| {
            g.method = if form.is_some() {
                GroupMethod::Opmd
            } else {
                GroupMethod::Rec
            };
            g.opmd_form = form.unwrap_or_default();
            g.rec_clip = clip;
            g.rec_weight = weight;
            g.lag = 2;
        })
        .unwrap();
        let r = run(&c).unwrap();
        show(&format!("rec {clip} {weight} {form:?} lag 2"), &r);
        assert!(r.true_reward.unwrap().mean > r.reference_reward.unwrap().mean);
    }
    let mut c = base(Group::NAME, TestBedKind::Countdown);
    c.edit_trainer_config::<Group>(|g| g.steps = 60).unwrap();
    let r = run(&c).unwrap();
    show("grpo countdown", &r);
    assert!(r.true_reward.unwrap().mean > r.reference_reward.unwrap().mean);
}

#[test]
fn dno_and_reward_model_on_the_cyclic_oracle() {
    let r = run(&base(Dno::NAME, TestBedKind::Cyclic)).unwrap();
    show("dno cyclic", &r);
    assert_eq!(r.log.entries.len(), 3);
    assert!(r.true_reward.is_none());
    let r = run(&base(RewardModelRlhf::NAME, TestBedKind::HiddenReward)).unwrap();
    show("rm-rlhf bt", &r);
    assert!(r.win_rate.mean > 0.5);
}

#[test]
fn constrained_rlhf_tracks_thresholds() {
    let mut c = base(Constrained::NAME, TestBedKind::Proxies);
    c.edit_trainer_config::<Constrained>(|k| k.group.steps = 60)
        .unwrap();
    let r = run(&c).unwrap();
    show("constrained", &r);
    c.edit_trainer_config::<Constrained>(|k| k.adapt = false)
        .unwrap();
    let f = run(&c).unwrap();
    show("fixed", &f);
    assert!(r.log.last("mu_0").is_some());
    let mut bad = base(Constrained::NAME, TestBedKind::HiddenReward);
    bad.edit_trainer_config::<Constrained>(|k| k.group.steps = 1)
        .unwrap();
    let e = run(&bad).unwrap_err().to_string();
    assert!(e.contains("reward components"), "{e}");
}

#[test]
fn offline_dpo_trains_a_causal_transformer_too() {
    let mut c = base(Offline::NAME, TestBedKind::HiddenReward);
    c.policy = duality_align::policy::PolicyConfig::transformer(6, 1);
    let r = run(&c).unwrap();
    show("offline dpo transformer", &r);
    assert!(r.win_rate.excludes_below(0.5), "{:?}", r.win_rate);
}

#[test]
fn win_rate_curves_do_not_change_training() {
    for trainer in [Online::NAME, Hypo::NAME] {
        let mut c = base(trainer, TestBedKind::HiddenReward);
        c.edit_trainer_config::<Online>(|o| o.steps = 10).unwrap();
        c.edit_trainer_config::<Hypo>(|h| h.offline.epochs = 2)
            .unwrap();
        c.eval_samples = 100;
        let plain = run(&c).unwrap();
        assert!(plain.curve.is_empty());
        c.curve_every = 5;
        c.curve_samples = 50;
        let traced = run(&c).unwrap();
        assert_eq!(plain.log, traced.log, "{trainer:?}");
        assert_eq!(plain.win_rate, traced.win_rate, "{trainer:?}");
        let steps: Vec<usize> = traced.curve.iter().map(|p| p.step).collect();
        if trainer == Online::NAME {
            assert_eq!(steps, vec![0, 5, 10]);
        } else {
            assert_eq!(steps, vec![0]);
        }
        assert!(traced
            .curve
            .iter()
            .all(|p| (0.0..=1.0).contains(&p.win_rate)));
    }
}

#[test]
fn hypo_needs_two_samples_per_prompt_and_online_labels_are_seeded() {
    let mut c = base(Hypo::NAME, TestBedKind::HiddenReward);
    c.edit_trainer_config::<Hypo>(|h| h.samples_per_prompt = 1)
        .unwrap();
    let e = run(&c).unwrap_err().to_string();
    assert!(e.contains("samples_per_prompt"), "{e}");
    let mut c = base(Online::NAME, TestBedKind::HiddenReward);
    c.edit_trainer_config::<Online>(|o| o.steps = 5).unwrap();
    c.eval_samples = 50;
    let a = run(&c).unwrap();
    let b = run(&c).unwrap();
    assert_eq!(a.log, b.log);
    c.edit_trainer_config::<Online>(|o| {
        o.labels = duality_align::train::online::PreferenceLabels::Expected
    })
    .unwrap();
    let soft = run(&c).unwrap();
    assert_ne!(a.log, soft.log);
}

#[test]
fn warm_started_reference_and_out_of_coverage_penalty() {
    use duality_align::testbed::{covered_tokens, OutOfCoveragePenalty, RewardFn};
    let task = duality_align::testbed::HiddenRewardTask::easy(0);
    let pen = OutOfCoveragePenalty {
        base: task.clone(),
        covered: covered_tokens(0.5, 6).unwrap(),
        penalty: 2.0,
    };
    assert_eq!(pen.covered, 3);
    let (x, y) = (vec![0i64], vec![0i64, 1, 4, 5]);
    assert!((pen.reward(&x, &y) - (task.reward(&x, &y) - 1.0)).abs() < 1e-12);
    assert!(covered_tokens(0.0, 6).is_err());
    let mut c = base(Offline::NAME, TestBedKind::HiddenReward);
    c.task.coverage = 0.5;
    c.task.sft_steps = 30;
    c.task.uncovered_penalty = 1.0;
    c.edit_trainer_config::<Offline>(|o| o.epochs = 1).unwrap();
    c.eval_samples = 200;
    let a = run(&c).unwrap();
    assert_eq!(a.log, run(&c).unwrap().log);
    c.task.uncovered_penalty = -1.0;
    let e = run(&c).unwrap_err().to_string();
    assert!(e.contains("uncovered_penalty"), "{e}");
}

#[test]
fn unknown_trainers_and_sections_are_errors_listing_the_registry() {
    let mut c = base("trpo", TestBedKind::HiddenReward);
    let e = run(&c).unwrap_err().to_string();
    assert!(e.contains("\"trpo\"") && e.contains("kto"), "{e}");
    c.trainer = Offline::NAME.into();
    c.sections
        .insert("ofline".into(), toml::Value::Table(toml::Table::new()));
    let e = run(&c).unwrap_err().to_string();
    assert!(
        e.contains("`ofline`") && e.contains("offline, curry"),
        "{e}"
    );
    let names: Vec<&str> = duality_align::train::trainers()
        .unwrap()
        .iter()
        .map(|t| t.name)
        .collect();
    assert_eq!(
        names,
        [
            "offline",
            "curry",
            "online",
            "dno",
            "hypo",
            "group",
            "reward-model",
            "constrained",
            "nm-ppo",
            "kto",
            "spo",
            "ppo",
            "d3s"
        ]
    );
}

/// SPO (chain with cut points, chain with fixed segments, tree), the
/// token-level PPO baseline and D^3S each improve the hidden reward over
/// the reference on 8-token completions; SPO's log reports its sample
/// budget and trains fewer tokens than it samples (probability mask).
#[test]
fn spo_ppo_and_d3s_learn_the_hidden_reward() {
    use duality_align::train::d3s::D3s;
    use duality_align::train::ppo::Ppo;
    use duality_align::train::spo::{Spo, SpoEstimator, SpoPartition};
    let mut variants: Vec<(&str, RunConfig)> = Vec::new();
    for (estimator, partition, interval) in [
        (SpoEstimator::Chain, SpoPartition::Cutpoint, 2),
        (SpoEstimator::Chain, SpoPartition::Fixed, 3),
        (SpoEstimator::Tree, SpoPartition::Cutpoint, 3),
    ] {
        let mut c = base(Spo::NAME, TestBedKind::HiddenReward);
        c.edit_trainer_config::<Spo>(|s| {
            s.estimator = estimator;
            s.partition = partition;
            s.interval = interval;
            s.steps = 40;
            s.branch_factors = vec![2, 2, 2];
        })
        .unwrap();
        variants.push(("spo", c));
    }
    let mut c = base(Ppo::NAME, TestBedKind::HiddenReward);
    c.edit_trainer_config::<Ppo>(|p| p.steps = 40).unwrap();
    variants.push(("ppo", c));
    let mut c = base(D3s::NAME, TestBedKind::HiddenReward);
    c.edit_trainer_config::<D3s>(|d| d.steps = 40).unwrap();
    variants.push(("d3s", c));
    for (name, mut c) in variants {
        c.task.completion_len = 8;
        let r = run(&c).unwrap();
        show(name, &r);
        assert!(
            r.true_reward.unwrap().mean > r.reference_reward.unwrap().mean,
            "{name}: {:?}",
            r.log.entries.last()
        );
        if name == "spo" {
            let last = &r.log.entries.last().unwrap().metrics;
            assert!(last["samples"] > 0.0 && last["sampled_tokens"] > 0.0);
            assert!(last["trained_fraction"] <= 1.0);
        }
        if name == "d3s" {
            let first = &r.log.entries[0].metrics;
            assert!(first["gradient_token_fraction"] < 0.5, "{first:?}");
            assert!(first["selected_adv_var"] >= first["group_adv_var"]);
        }
    }
}
