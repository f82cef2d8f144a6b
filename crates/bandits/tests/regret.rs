//! Statistical tests of the regret claims, with Monte Carlo margins.

use duality_bandits::prelude::*;

fn sim(horizon: usize, reps: usize, seed: u64) -> Simulator {
    Simulator::new(
        SimulatorConfig::default()
            .horizon(horizon)
            .repetitions(reps)
            .seed(seed),
    )
    .unwrap()
}

fn mean(v: &[f64]) -> f64 {
    v.iter().sum::<f64>() / v.len() as f64
}

#[test]
fn stochastic_policies_have_far_below_linear_regret() {
    // Easy instance: gaps 0.4. Uniform play has regret 0.32 T = 1600 at
    // T = 5000; logarithmic-regret policies should be below 10% of that.
    let means = [0.9, 0.5, 0.5, 0.5, 0.5];
    let env = StochasticBandit::bernoulli(&means).unwrap();
    let k = means.len();
    let policies: Vec<Box<dyn Policy>> = vec![
        Box::new(Ucb1::new(k).unwrap()),
        Box::new(KlUcb::new(k, KlFamily::Bernoulli, 0.0).unwrap()),
        Box::new(Moss::new(k).unwrap()),
        Box::new(BetaThompson::new(k).unwrap()),
        Box::new(GaussianThompson::new(k, 0.5).unwrap()),
        Box::new(SuccessiveElimination::new(k).unwrap()),
        Box::new(EpsilonGreedy::new(k, EpsilonSchedule::Decaying).unwrap()),
        Box::new(TsallisInf::with_defaults(k).unwrap()),
        Box::new(ExploreFirst::new(k, 1).unwrap()),
    ];
    let horizon = 5000;
    let r = sim(horizon, 20, 11).run(&env, &policies).unwrap();
    let linear = 0.32 * horizon as f64;
    let regrets: Vec<f64> = r
        .policies
        .iter()
        .map(|p| mean(&p.final_pseudo_regrets()))
        .collect();
    for (p, reg) in r.policies.iter().zip(&regrets).take(5) {
        assert!(
            *reg < 0.1 * linear,
            "{}: regret {reg} vs linear {linear}",
            p.name
        );
    }
    // Successive elimination needs ~8 ln T / (gap/2)^2 pulls per arm before
    // eliminating (regret ~700 here, still logarithmic); decaying
    // epsilon-greedy is O(T^{2/3}); Tsallis-INF pays for its adversarial
    // robustness with a larger constant.
    for (p, reg) in r.policies.iter().zip(&regrets).skip(5).take(3) {
        assert!(
            *reg < 0.5 * linear,
            "{}: regret {reg} vs linear {linear}",
            p.name
        );
    }
    // Explore-first with one pull per arm commits wrongly with constant
    // probability: after its 5 exploration rounds its regret grows linearly
    // (10x from T/10 to T), UCB1's logarithmically.
    let growth = |p: usize| {
        let curve = r.policies[p].mean_pseudo_curve();
        let i = r
            .checkpoints
            .iter()
            .position(|&c| c >= horizon / 10)
            .unwrap();
        curve.last().unwrap() / curve[i]
    };
    assert!(growth(8) > 7.0, "explore-first(1) growth {}", growth(8));
    assert!(growth(0) < 3.0, "ucb1 growth {}", growth(0));
    // Thompson and KL-UCB beat UCB1 on Bernoulli arms (tighter confidence).
    assert!(
        regrets[3] < regrets[0] && regrets[1] < regrets[0],
        "{regrets:?}"
    );
}

#[test]
fn ucb_regret_grows_logarithmically() {
    // Regret between T = 1000 and T = 8000 grows by far less than 8x.
    let env = StochasticBandit::bernoulli(&[0.7, 0.5, 0.4]).unwrap();
    let policies: Vec<Box<dyn Policy>> = vec![Box::new(Ucb1::new(3).unwrap())];
    let r = sim(8000, 20, 3).run(&env, &policies).unwrap();
    let cps = &r.checkpoints;
    let curve = r.policies[0].mean_pseudo_curve();
    let at = |t: usize| curve[cps.iter().position(|&c| c >= t).unwrap()];
    let ratio = at(8000) / at(1000);
    assert!(
        ratio < 2.5,
        "regret ratio {ratio} between T=8000 and T=1000"
    );
}

#[test]
fn exp3_regret_is_within_its_bound_on_an_adversarial_table() {
    let k = 5;
    let horizon = 4000;
    let env = ObliviousAdversary::doubling_switch(k, horizon).unwrap();
    let policies: Vec<Box<dyn Policy>> = vec![
        Box::new(Exp3::new(k, None, 0.0).unwrap()),
        Box::new(Exp3Ix::new(k, None, None).unwrap()),
        Box::new(TsallisInf::new(k, 2.0, TsallisEstimator::ImportanceWeighted).unwrap()),
        Box::new(Hedge::new(k, None).unwrap()),
        Box::new(Ucb1::new(k).unwrap()),
    ];
    let r = sim(horizon, 10, 5).run(&env, &policies).unwrap();
    // Lattimore & Szepesvári Thm 11.2: E[regret] <= sqrt(2 K T ln K).
    let bound = (2.0 * k as f64 * horizon as f64 * (k as f64).ln()).sqrt();
    for p in &r.policies[..3] {
        let reg = mean(&p.final_realised_regrets());
        assert!(reg < bound, "{}: {reg} vs bound {bound}", p.name);
    }
    // Hedge (full information): <= sqrt(T ln K / 2).
    let hedge = mean(&r.policies[3].final_realised_regrets());
    assert!(
        hedge < (horizon as f64 * (k as f64).ln() / 2.0).sqrt() + 1e-9,
        "hedge {hedge}"
    );
}

#[test]
fn exp4_follows_the_good_expert() {
    // Experts: expert 0 always advises the best arm, others a bad arm.
    #[derive(Clone)]
    struct Advised(StochasticBandit);
    impl Environment for Advised {
        fn name(&self) -> String {
            "advised".into()
        }
        fn n_arms(&self) -> usize {
            self.0.n_arms()
        }
        fn draw(&mut self, t: usize, rng: &mut dyn rand::RngCore, out: &mut Draw) {
            self.0.draw(t, rng, out);
            let k = self.n_arms();
            let one_hot = |a: usize| {
                (0..k)
                    .map(|b| f64::from(u8::from(a == b)))
                    .collect::<Vec<_>>()
            };
            out.context = Some(Context {
                features: Vec::new(),
                advice: vec![one_hot(0), one_hot(1), one_hot(2)],
            });
        }
    }
    let env = Advised(StochasticBandit::bernoulli(&[0.8, 0.3, 0.2]).unwrap());
    let policies: Vec<Box<dyn Policy>> = vec![Box::new(Exp4::new(3, 3, None, 0.0).unwrap())];
    let r = sim(3000, 10, 2).run(&env, &policies).unwrap();
    let reg = mean(&r.policies[0].final_pseudo_regrets());
    assert!(reg < 0.25 * 0.5 * 3000.0, "exp4 regret {reg}");
}
