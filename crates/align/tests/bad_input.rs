//! Issue 25: hostile configs and inputs end in errors that name the field,
//! never in a panic, an allocation abort or a non-finite result. One test
//! per class seen in the sweep of `duality align train` / `loss`.

use duality_align::loss::{loss_values, LossConfig, LossKind, PairLogProbs};
use duality_align::run::{run, RunConfig};

const BASE: &str = "trainer = \"offline\"\neval_samples = 50\n[task]\npairs = 32\n";

fn config_err(text: &str) -> String {
    RunConfig::from_toml_str(text, "bad.toml")
        .map(|_| ())
        .expect_err(text)
        .to_string()
}

fn run_err(text: &str) -> String {
    duality_align::tch::set_num_threads(1);
    let c = RunConfig::from_toml_str(text, "bad.toml").unwrap();
    run(&c).map(|_| ()).expect_err(text).to_string()
}

#[test]
fn absurd_learning_rates_are_refused_before_training() {
    // lr = 1e300 used to panic in an unwrap inside tch's optimizer
    // ("value cannot be converted to type float without overflow").
    for (section, field) in [
        ("offline.optimizer", "optimizer.lr"),
        ("group.optimizer", "optimizer.lr"),
        ("ppo.critic_optimizer", "critic_optimizer.lr"),
    ] {
        for lr in ["1e300", "nan", "inf", "-1", "0", "1e6"] {
            let text = format!("{BASE}[{section}]\nlr = {lr}\n");
            let e = config_err(&text);
            assert!(e.contains(field), "{section} lr {lr}: {e}");
        }
    }
    let e = config_err(&format!("{BASE}[kto.optimizer]\nweight_decay = 1e300\n"));
    assert!(e.contains("weight_decay") && e.contains("1e300"), "{e}");
    // beta = 1e308 made every loss NaN at step 0; now refused up front.
    let e = config_err(&format!("{BASE}[offline.loss]\nbeta = 1e308\n"));
    assert!(e.contains("beta") && e.contains("1e308"), "{e}");
}

#[test]
fn divergence_during_training_is_an_error_naming_the_step() {
    // A large but accepted learning rate with a huge beta: the loss or the
    // weights stop being finite; the run must say so, not evaluate NaNs.
    let text = format!(
        "{BASE}[offline]\nepochs = 3\n[offline.optimizer]\nkind = \"sgd\"\nlr = 10\n[offline.loss]\nkind = \"ipo\"\nbeta = 1e-30\n"
    );
    let e = run_err(&text);
    assert!(
        e.contains("step") && (e.contains("loss") || e.contains("parameter")),
        "{e}"
    );
}

#[test]
fn bad_oracle_scales_are_refused() {
    // oracle_scale = nan used to panic on "p=NaN" while labelling pairs.
    for v in ["nan", "-4", "0", "inf"] {
        let e = config_err(&format!("{BASE}oracle_scale = {v}\n"));
        assert!(e.contains("task.oracle_scale"), "{v}: {e}");
    }
}

#[test]
fn huge_sizes_are_refused_before_allocating() {
    // Each of these used to abort on a failed allocation.
    duality_core::limits::set_memory_budget(4 << 30);
    let cases = [
        (format!("{BASE}vocab = 1000000000000\n"), "vocab"),
        (
            format!("{BASE}completion_len = 1000000000000\n"),
            "completion_len",
        ),
        (
            "trainer = \"offline\"\n[task]\npairs = 1000000000000\n".to_string(),
            "task.pairs",
        ),
        (
            "trainer = \"offline\"\neval_samples = 1000000000000\n".to_string(),
            "eval_samples",
        ),
        (
            "trainer = \"curry\"\n[task]\nranked_prompts = 1000000000000\n".to_string(),
            "task.ranked_prompts",
        ),
        (
            "trainer = \"offline\"\ncurve_every = 1\ncurve_samples = 1000000000000\n".to_string(),
            "curve_samples",
        ),
        (
            format!("{BASE}[policy]\nhidden = 1000000000000\n"),
            "hidden",
        ),
    ];
    // The reward model's widths are its own config's, checked when it is built.
    let e = run_err(
        "trainer = \"reward-model\"\neval_samples = 50\n[task]\npairs = 32\n[reward-model.model]\nhidden = 1000000000000\n",
    );
    assert!(e.contains("reward model") && e.contains("hidden"), "{e}");
    for (text, field) in cases {
        let e = config_err(&text);
        assert!(e.contains(field) && e.contains("memory"), "{field}: {e}");
    }
    // Trainer batch sizes are checked when training starts, before sampling.
    for (text, field) in [
        (
            "trainer = \"group\"\neval_samples = 50\n[group]\nprompts_per_step = 1000000000000\n",
            "prompts_per_step",
        ),
        (
            "trainer = \"online\"\neval_samples = 50\n[online]\nbatch_size = 100000000000000000\n",
            "batch_size",
        ),
        (
            "trainer = \"spo\"\neval_samples = 50\n[spo]\nrollouts = 1000000000000\n",
            "rollouts",
        ),
        (
            "trainer = \"d3s\"\neval_samples = 50\n[d3s]\ngroup_size = 10000000000000\n",
            "group_size",
        ),
        (
            "trainer = \"dno\"\neval_samples = 50\n[dno]\nprompts = 10000000000000\n",
            "prompts",
        ),
        (
            "trainer = \"group\"\neval_samples = 50\n[group]\nprompts_per_step = 9223372036854775807\ngroup_size = 4\n",
            "prompts_per_step x group_size",
        ),
    ] {
        let e = run_err(text);
        assert!(e.contains(field), "{field}: {e}");
    }
}

#[test]
fn unknown_keys_are_errors_with_a_suggestion() {
    let e = config_err(&format!("{BASE}[offline]\nepoch = 3\n"));
    assert!(e.contains("did you mean `epochs`?"), "{e}");
    let e = config_err(&format!("{BASE}[group]\nprompt_per_step = 3\n"));
    assert!(e.contains("did you mean `prompts_per_step`?"), "{e}");
    let e = config_err("evals_samples = 3\n");
    assert!(e.contains("did you mean `eval_samples`?"), "{e}");
    let e = config_err("trainer = \"offline\"\n[offine]\nepochs = 3\n");
    assert!(e.contains("did you mean `offline`?"), "{e}");
    let e = config_err(&format!("{BASE}orcale_scale = 3\n"));
    assert!(e.contains("did you mean `oracle_scale`?"), "{e}");
}

#[test]
fn losses_stay_finite_or_fail_by_name_near_f64_max() {
    // (pc - rc) - (pr - rr) overflowed to inf - inf = NaN in the direct form.
    let big = 1e308;
    let pairs = PairLogProbs::from_slices(&[big], &[big], &[-big], &[-big], None).unwrap();
    for kind in [
        LossKind::Dpo,
        LossKind::Cdpo,
        LossKind::Robust,
        LossKind::Slic,
    ] {
        let loss = LossConfig::new(kind, 0.5)
            .label_smoothing(0.1)
            .check()
            .unwrap();
        let v = loss_values(&loss, &pairs).unwrap();
        assert!(v[0].is_finite(), "{kind}: {v:?}");
        // h = 0: DPO's value is log 2.
        if kind == LossKind::Dpo {
            assert!((v[0] - std::f64::consts::LN_2).abs() < 1e-12, "{v:?}");
        }
    }
    // A margin of -4e308 times beta: the true DPO loss is beyond f64; an
    // error naming the loss and pair, not inf.
    let far = PairLogProbs::from_slices(&[0.0, -big], &[0.0, big], &[0.0, big], &[0.0, -big], None)
        .unwrap();
    let dpo = LossConfig::new(LossKind::Dpo, 0.5).check().unwrap();
    let e = loss_values(&dpo, &far).unwrap_err().to_string();
    assert!(e.contains("dpo loss of pair 1"), "{e}");
    // With a small beta the same margin is representable and finite.
    let tiny = LossConfig::new(LossKind::Dpo, 1e-10).check().unwrap();
    let v = loss_values(&tiny, &far).unwrap();
    assert!(v.iter().all(|x| x.is_finite()), "{v:?}");
    // IPO squares the margin: 1e200 squared overflows -> error.
    let ipo = LossConfig::new(LossKind::Ipo, 0.5).check().unwrap();
    let wide = PairLogProbs::from_slices(&[0.0], &[-1e200], &[0.0], &[0.0], None).unwrap();
    let e = loss_values(&ipo, &wide).unwrap_err().to_string();
    assert!(e.contains("ipo loss of pair 0"), "{e}");
}
