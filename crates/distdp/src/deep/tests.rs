use super::*;
use crate::mdp::library;

fn t(v: &[f32], rows: usize) -> Tensor {
    tensor::tensor_from_slice_f32(v, &[rows, v.len() / rows]).unwrap()
}

#[test]
fn quantile_huber_loss_on_hand_cases() {
    // One quantile (tau = 1/2), target 2 above: Huber(2) = 2 - 1/2 with
    // kappa 1, weight 1/2.
    let l = quantile_huber_loss(&t(&[0.0], 1), &t(&[2.0], 1), 1.0).unwrap();
    assert!((l.double_value(&[]) - 0.75).abs() < 1e-6);
    // Inside kappa: quadratic, 0.5 * 0.25 / 1 * 1/2.
    let l = quantile_huber_loss(&t(&[0.0], 1), &t(&[0.5], 1), 1.0).unwrap();
    assert!((l.double_value(&[]) - 0.0625).abs() < 1e-6);
    // kappa 0: plain quantile loss. Two quantiles (tau 1/4, 3/4) at 0, the
    // target 1 below both: weights |tau - 1| = 3/4 and 1/4, |u| = 1.
    let l = quantile_huber_loss(&t(&[0.0, 0.0], 1), &t(&[-1.0], 1), 0.0).unwrap();
    assert!((l.double_value(&[]) - 1.0).abs() < 1e-6);
    // Mean over the batch, mean over target samples, sum over quantiles.
    let l = quantile_huber_loss(
        &t(&[0.0, 0.0, 1.0, 1.0], 2),
        &t(&[-1.0, 1.0, 1.0, 1.0], 2),
        0.0,
    )
    .unwrap();
    // Row 0: i=0 (tau 1/4): (3/4*1 + 1/4*1)/2 = 1/2; i=1 (tau 3/4): (1/4 + 3/4)/2 = 1/2.
    // Row 1: zero. Batch mean: 1/2.
    assert!((l.double_value(&[]) - 0.5).abs() < 1e-6);
    assert!(quantile_huber_loss(&t(&[0.0, 0.0], 2), &t(&[0.0], 1), 1.0).is_err());
    let e = quantile_huber_loss(&t(&[0.0], 1), &t(&[0.0], 1), -1.0)
        .unwrap_err()
        .to_string();
    assert!(e.contains("kappa"), "{e}");
}

#[test]
fn quantile_huber_loss_gradient_drives_quantiles() {
    // Minimising the loss over many samples of a law puts the locations at
    // its quantiles: targets 0 (p 0.7) and 10 (p 0.3), four quantiles at
    // tau 1/8, 3/8, 5/8, 7/8 -> 0, 0, 0, 10.
    let vs = nn::VarStore::new(Device::Cpu);
    let theta = vs.root().zeros("theta", &[1, 4]);
    let mut opt = OptimizerConfig::adam(0.05).build(&vs).unwrap();
    let mut targets = vec![0f32; 7];
    targets.extend([10f32; 3]);
    let target = t(&targets, 1);
    for _ in 0..3000 {
        let loss = quantile_huber_loss(&theta, &target, 0.01).unwrap();
        opt.backward_step(&loss);
    }
    let v = tensor::tensor_to_vec_f64(&theta).unwrap();
    for (got, want) in v.iter().zip([0.0, 0.0, 0.0, 10.0]) {
        assert!((got - want).abs() < 0.2, "{v:?}");
    }
}

#[test]
fn categorical_target_on_hand_cases() {
    let support = [0.0, 1.0, 2.0];
    // Terminal: one atom at r = 0.5, split between 0 and 1.
    assert_eq!(
        categorical_target(&support, 0.5, 0.9, &[0.0, 0.0, 1.0], true),
        vec![0.5, 0.5, 0.0]
    );
    // r + gamma z = 0.5 + 0.5 z: 0.5 (p 0.2), 1.0 (p 0.3), 1.5 (p 0.5).
    let m = categorical_target(&support, 0.5, 0.5, &[0.2, 0.3, 0.5], false);
    let want = [0.1, 0.1 + 0.3 + 0.25, 0.25];
    for (a, b) in m.iter().zip(want) {
        assert!((a - b).abs() < 1e-12, "{m:?}");
    }
    // Mass beyond the support is clipped to the end atoms.
    let m = categorical_target(&support, 5.0, 1.0, &[0.5, 0.5, 0.0], false);
    assert_eq!(m, vec![0.0, 0.0, 1.0]);
    let m = categorical_target(&support, -3.0, 1.0, &[1.0, 0.0, 0.0], false);
    assert_eq!(m, vec![1.0, 0.0, 0.0]);
}

#[test]
fn bad_settings_are_named() {
    let check = |p: DeepParams, name: &str| {
        let e = p.validate().unwrap_err().to_string();
        assert!(e.contains(name), "{e}");
    };
    check(DeepParams::new(Head::Qr, 0, 1), "steps");
    let mut p = DeepParams::new(Head::C51, 10, 1);
    p.atoms = 1;
    check(p, "atoms");
    let mut p = DeepParams::new(Head::Qr, 10, 1);
    p.buffer = 3;
    check(p, "buffer");
    let mut p = DeepParams::new(Head::Qr, 10, 1);
    p.lr = 0.0;
    check(p, "lr");
    let mut p = DeepParams::new(Head::Qr, 10, 1);
    p.hidden = vec![0];
    check(p, "hidden[0]");
    let mut p = DeepParams::new(Head::Qr, 10, 1);
    p.eps_end = 1.5;
    check(p, "eps end");
    let e = "dqn".parse::<Head>().unwrap_err().to_string();
    assert!(e.contains("dqn") && e.contains("c51"), "{e}");
    let e = "cvar:1.5".parse::<Objective>().unwrap_err().to_string();
    assert!(e.contains("alpha") && e.contains("1.5"), "{e}");
    let e = "cvar:0".parse::<Objective>().unwrap_err().to_string();
    assert!(e.contains("alpha"), "{e}");
    // Exponential utility is not optimisable at gamma < 1: refused before training.
    let env =
        MdpEnv::new(with_horizon(&library::chain(3, 0.1, 0.9).unwrap(), 3, 0.9).unwrap()).unwrap();
    let o: Objective = "utility:exp:1".parse().unwrap();
    let e = train_on(
        &env,
        &o,
        &DeepParams::new(Head::Qr, 10, 1),
        Device::Cpu,
        &Progress::hidden(),
    )
    .unwrap_err()
    .to_string();
    assert!(e.contains("exponential"), "{e}");
}

fn tiny() -> MdpEnv {
    // Two rounds, stakes 0..=2 at p 0.7: betting has the higher mean and a
    // CVaR(0.1) of -4; holding back has CVaR 0.
    MdpEnv::new(library::gambling(6, 2, 3, 0.7, 1.0, 2).unwrap()).unwrap()
}

fn quick(head: Head, seed: u64) -> DeepParams {
    let mut p = DeepParams::new(head, 1_500, seed);
    p.hidden = vec![32];
    p.target_period = 100;
    p
}

#[test]
fn short_training_reaches_the_dp_optimum_on_a_tiny_mdp() {
    let env = tiny();
    let o: Objective = "cvar:0.1".parse().unwrap();
    let (optimum, neutral) = tabular_references(env.mdp(), &o).unwrap();
    assert!(optimum > neutral + 1.0, "{optimum} vs {neutral}");
    for head in [Head::Qr, Head::C51] {
        let fit = train_on(&env, &o, &quick(head, 7), Device::Cpu, &Progress::hidden()).unwrap();
        let ev = evaluate_mdp(&fit.agent, &env).unwrap();
        assert!(
            (ev.objective_value - optimum).abs() < 0.05 * optimum.abs().max(1.0),
            "{head}: executed {} vs optimum {optimum} (risk-neutral {neutral})",
            ev.objective_value
        );
    }
}

#[test]
fn same_seed_same_parameters() {
    let env = tiny();
    let o: Objective = "threshold:1".parse().unwrap();
    let mut p = quick(Head::Qr, 3);
    p.steps = 200;
    p.learn_start = 50;
    let a = train_on(&env, &o, &p, Device::Cpu, &Progress::hidden()).unwrap();
    let b = train_on(&env, &o, &p, Device::Cpu, &Progress::hidden()).unwrap();
    assert_eq!(a.agent.parameters().unwrap(), b.agent.parameters().unwrap());
    p.seed = 4;
    let c = train_on(&env, &o, &p, Device::Cpu, &Progress::hidden()).unwrap();
    assert_ne!(a.agent.parameters().unwrap(), c.agent.parameters().unwrap());
}
