use duality_core::seed::Seeder;

use super::env::{LotSizing, LotSizingConfig, LotState};

/// One item, one machine, fixed start: every number checkable by hand.
fn tiny() -> LotSizingConfig {
    LotSizingConfig {
        horizon: 3,
        production: vec![vec![5]],
        setup_cost: vec![vec![10.0]],
        setup_loss: vec![vec![2]],
        holding_cost: vec![0.5],
        lost_sales_cost: vec![4.0],
        max_inventory: vec![6],
        demand_trials: vec![4],
        demand_prob: vec![0.5],
        random_start: false,
        initial_inventory: vec![1],
        initial_setup: vec![0],
    }
}

/// Two items, two machines.
fn two() -> LotSizingConfig {
    LotSizingConfig {
        horizon: 2,
        production: vec![vec![4, 3], vec![0, 7]],
        setup_cost: vec![vec![1.0, 2.0], vec![3.0, 5.0]],
        setup_loss: vec![vec![1, 1], vec![0, 2]],
        holding_cost: vec![0.25, 1.0],
        lost_sales_cost: vec![2.0, 3.0],
        max_inventory: vec![10, 8],
        demand_trials: vec![5, 5],
        demand_prob: vec![0.5, 0.5],
        random_start: false,
        initial_inventory: vec![2, 6],
        initial_setup: vec![1, 0],
    }
}

#[test]
fn one_item_by_hand() {
    let env = LotSizing::new(tiny()).unwrap();
    let s0 = env.start(&mut Seeder::new(0).rng(0));
    assert_eq!(s0.inventory, vec![1]);
    // Produce from idle: setup 10, loss 2, 5 - 2 = 3 made: post 4.
    let post = env.post_decision(&s0, &[1]).unwrap();
    assert_eq!(post.inventory, vec![4]);
    assert_eq!(post.setup, vec![1]);
    assert_eq!(post.setup_cost, 10.0);
    // Demand 3: 1 left, holding 0.5.
    let (s1, c) = env.apply_demand(&post, &[3]).unwrap();
    assert_eq!(s1.inventory, vec![1]);
    assert_eq!(s1.t, 1);
    assert_eq!((c.setup, c.lost_sales, c.holding), (10.0, 0.0, 0.5));
    // Produce again (already set up): no setup cost, no loss: post 6.
    let post = env.post_decision(&s1, &[1]).unwrap();
    assert_eq!((post.inventory[0], post.setup_cost), (6, 0.0));
    // Demand 9 > 6: 3 lost at 4 each.
    let (s2, c) = env.apply_demand(&post, &[9]).unwrap();
    assert_eq!(s2.inventory, vec![0]);
    assert_eq!((c.setup, c.lost_sales, c.holding), (0.0, 12.0, 0.0));
    // Idle: the setup is lost; producing afterwards pays it again.
    let post = env.post_decision(&s2, &[0]).unwrap();
    assert_eq!(post.setup, vec![0]);
    assert_eq!(post.inventory, vec![0]);
    let again = env
        .post_decision(
            &LotState {
                inventory: vec![5],
                setup: vec![0],
                t: 2,
            },
            &[1],
        )
        .unwrap();
    // 5 + 3 = 8 after production (above the cap of 6: the cap is after demand).
    assert_eq!((again.inventory[0], again.setup_cost), (8, 10.0));
    let (s3, c) = env.apply_demand(&again, &[0]).unwrap();
    assert_eq!(s3.inventory, vec![6]);
    assert_eq!(c.holding, 3.0);
    assert_eq!(c.total(), 13.0);
}

#[test]
fn two_machines_by_hand() {
    let env = LotSizing::new(two()).unwrap();
    let s0 = env.start(&mut Seeder::new(0).rng(0));
    // Machine 0 keeps item 1 (no setup): +4; machine 1 switches from idle
    // to item 2: cost 5, loss 2, +5.
    let post = env.post_decision(&s0, &[1, 2]).unwrap();
    assert_eq!(post.inventory, vec![6, 11]);
    assert_eq!(post.setup, vec![1, 2]);
    assert_eq!(post.setup_cost, 5.0);
    let (s1, c) = env.apply_demand(&post, &[7, 1]).unwrap();
    // Item 1: 1 lost (2), item 2: 10 left, capped at 8 (holding 8).
    assert_eq!(s1.inventory, vec![0, 8]);
    assert_eq!((c.setup, c.lost_sales, c.holding), (5.0, 2.0, 8.0));
    // Both on item 2: machine 0 switches (cost 2, loss 1: +2), machine 1
    // stays (+7).
    let post = env.post_decision(&s1, &[2, 2]).unwrap();
    assert_eq!(post.inventory, vec![0, 17]);
    assert_eq!(post.setup_cost, 2.0);
}

#[test]
fn post_decision_is_the_deterministic_half_of_step() {
    for config in [tiny(), two(), LotSizingConfig::default()] {
        let env = LotSizing::new(config).unwrap();
        let mut rng = Seeder::new(7).rng(0);
        let mut twin = Seeder::new(7).rng(0);
        let mut s = env.start(&mut rng);
        let _ = env.start(&mut twin);
        let mut act_rng = Seeder::new(8).rng(0);
        loop {
            let a: Vec<usize> = (0..env.machines())
                .map(|_| rand::Rng::random_range(&mut act_rng, 0..env.choices()))
                .collect();
            let tr = env.step(&s, &a, &mut rng).unwrap();
            // The post-decision state depends on (state, action) only ...
            assert_eq!(tr.post, env.post_decision(&s, &a).unwrap());
            // ... inventory after production, before demand: production
            // never removes stock and the demand step starts from it.
            for i in 0..env.items() {
                assert!(tr.post.inventory[i] >= u64::from(s.inventory[i]));
            }
            let demand = env.sample_demand(&mut twin);
            assert_eq!(demand, tr.demand);
            let (next, cost) = env.apply_demand(&tr.post, &demand).unwrap();
            assert_eq!((next.clone(), cost), (tr.next.clone(), tr.cost));
            // The next state's setups are the post-decision ones.
            assert_eq!(tr.next.setup, tr.post.setup);
            if tr.done {
                assert_eq!(tr.next.t, env.horizon());
                break;
            }
            s = tr.next;
        }
    }
}

#[test]
fn random_starts_within_caps_and_producible_setups() {
    let env = LotSizing::new(LotSizingConfig::default()).unwrap();
    let mut rng = Seeder::new(3).rng(0);
    for _ in 0..200 {
        let s = env.start(&mut rng);
        assert!(s.inventory.iter().all(|&q| q < 20));
        assert!([1, 2].contains(&s.setup[0]));
        assert!([2, 3].contains(&s.setup[1]));
    }
}

#[test]
fn demand_is_binomial() {
    let env = LotSizing::new(LotSizingConfig::default()).unwrap();
    let mut rng = Seeder::new(4).rng(0);
    let n = 20_000;
    let mut sum = [0.0; 3];
    for _ in 0..n {
        let d = env.sample_demand(&mut rng);
        for i in 0..3 {
            assert!(d[i] <= 8);
            sum[i] += f64::from(d[i]);
        }
    }
    for s in sum {
        // Mean 3.2, sd of the mean sqrt(1.92 / n) ~ 0.0098.
        assert!((s / n as f64 - 3.2).abs() < 0.05, "{}", s / n as f64);
    }
}

#[test]
fn same_seed_same_episode() {
    let env = LotSizing::new(LotSizingConfig::default()).unwrap();
    let run = |seed| {
        let mut rng = Seeder::new(seed).rng(0);
        env.evaluate(|s| Ok(vec![s.t % 3, 0]), 5, &mut rng).unwrap()
    };
    assert_eq!(run(11), run(11));
    assert_ne!(run(11), run(12));
}

#[test]
fn features_layout() {
    let env = LotSizing::new(two()).unwrap();
    let mut f = Vec::new();
    env.state_features(
        &LotState {
            inventory: vec![5, 4],
            setup: vec![1, 0],
            t: 0,
        },
        &mut f,
    );
    assert_eq!(f.len(), env.feature_dim());
    assert_eq!(f, vec![0.5, 0.5, 0.0, 1.0, 0.0, 1.0, 0.0, 0.0]);
}

#[test]
fn bad_configs_refused() {
    type Edit = Box<dyn Fn(&mut LotSizingConfig)>;
    let cases: Vec<(Edit, &str)> = vec![
        (Box::new(|c| c.horizon = 0), "horizon"),
        (Box::new(|c| c.production.clear()), "machines"),
        (Box::new(|c| c.production[0].clear()), "items"),
        (Box::new(|c| c.production[1].push(1)), "production[1]"),
        (
            Box::new(|c| c.setup_cost[0][1] = f64::NAN),
            "setup_cost[0][1]",
        ),
        (Box::new(|c| c.setup_cost[1][0] = -1.0), "setup_cost[1][0]"),
        (
            Box::new(|c| c.holding_cost[1] = f64::INFINITY),
            "holding_cost[1]",
        ),
        (
            Box::new(|c| c.lost_sales_cost.pop().map(|_| ()).unwrap_or(())),
            "lost_sales_cost",
        ),
        (Box::new(|c| c.max_inventory[0] = 0), "max_inventory[0]"),
        (Box::new(|c| c.demand_prob[1] = 1.5), "demand_prob[1]"),
        (
            Box::new(|c| c.demand_trials[0] = u32::MAX),
            "demand_trials[0]",
        ),
        (
            Box::new(|c| c.production[0][0] = 2_000_000),
            "production[0][0]",
        ),
        (
            Box::new(|c| c.initial_inventory[1] = 9),
            "initial_inventory[1]",
        ),
        (Box::new(|c| c.initial_setup[0] = 3), "initial_setup[0]"),
        (Box::new(|c| c.initial_setup.push(0)), "initial_setup"),
    ];
    for (edit, name) in cases {
        let mut c = two();
        edit(&mut c);
        let e = LotSizing::new(c).unwrap_err().to_string();
        assert!(e.contains(name), "{name}: {e}");
    }
    // Bad actions and states are errors, not panics.
    let env = LotSizing::new(two()).unwrap();
    let s = env.start(&mut Seeder::new(0).rng(0));
    assert!(env
        .post_decision(&s, &[0])
        .unwrap_err()
        .to_string()
        .contains("action"));
    let e = env.post_decision(&s, &[0, 3]).unwrap_err().to_string();
    assert!(e.contains("action[1]"), "{e}");
    let bad = LotState {
        inventory: vec![0],
        setup: vec![0, 0],
        t: 0,
    };
    assert!(env.post_decision(&bad, &[0, 0]).is_err());
    // TOML: unknown keys and bad values are refused with the name.
    let e = LotSizing::from_toml("horizon = 3\nbogus = 1")
        .unwrap_err()
        .to_string();
    assert!(e.contains("bogus") || e.contains("unknown"), "{e}");
    let text = toml::to_string(&tiny()).unwrap();
    assert_eq!(LotSizing::from_toml(&text).unwrap().config(), &tiny());
}

#[cfg(feature = "torch")]
mod torch {
    use duality_core::progress::Progress;
    use duality_core::tensor::tch::Device;

    use super::super::env::{LotSizing, LotSizingConfig};
    use super::super::ppo::{gae, train_on, Algo, PpoParams};

    #[test]
    fn gae_matches_monte_carlo_at_lambda_one() {
        // Two episodes of three steps, time-major rows.
        let r = [1.0, 0.0, 2.0, 1.0, 3.0, -1.0];
        let v = [0.5, 0.1, 0.2, 0.3, 0.4, 0.6];
        let g = 0.9;
        let adv = gae(&r, &v, 2, 3, g, 1.0);
        // Episode 0: rewards 1, 2, 3.
        let ret0 = [1.0 + g * 2.0 + g * g * 3.0, 2.0 + g * 3.0, 3.0];
        for t in 0..3 {
            assert!((adv[t * 2] - (ret0[t] - v[t * 2])).abs() < 1e-12);
        }
        // lambda 0: one-step TD errors.
        let td = gae(&r, &v, 2, 3, g, 0.0);
        assert!((td[1] - (0.0 + g * 0.3 - 0.1)).abs() < 1e-12);
        assert!((td[5] - (-1.0 - 0.6)).abs() < 1e-12);
    }

    fn small(algo: Algo, seed: u64) -> PpoParams {
        PpoParams {
            hidden: vec![16],
            envs: 4,
            epochs: 2,
            ..PpoParams::new(algo, 3, seed)
        }
    }

    #[test]
    fn same_seed_same_result() {
        let env = LotSizing::new(LotSizingConfig::default()).unwrap();
        for algo in Algo::ALL {
            let a = train_on(&env, &small(algo, 5), Device::Cpu, &Progress::hidden()).unwrap();
            let b = train_on(&env, &small(algo, 5), Device::Cpu, &Progress::hidden()).unwrap();
            assert_eq!(a.curve, b.curve);
            assert_eq!(
                a.policy.parameters().unwrap(),
                b.policy.parameters().unwrap()
            );
            assert_eq!(
                a.policy.evaluate(5, 1).unwrap(),
                b.policy.evaluate(5, 1).unwrap()
            );
            assert_eq!(
                a.policy.evaluate_sampled(5, 1).unwrap(),
                b.policy.evaluate_sampled(5, 1).unwrap()
            );
            let c = train_on(&env, &small(algo, 6), Device::Cpu, &Progress::hidden()).unwrap();
            assert_ne!(
                a.policy.parameters().unwrap(),
                c.policy.parameters().unwrap()
            );
            assert_eq!(a.curve.len(), 3);
            assert_eq!(a.curve[2].steps, 3 * 4 * 20);
        }
        // PPO and PDPPO see the same starts and demands: the first update's
        // rollouts differ only through their (identical) actors.
        let p = train_on(&env, &small(Algo::Ppo, 5), Device::Cpu, &Progress::hidden()).unwrap();
        let q = train_on(
            &env,
            &small(Algo::Pdppo, 5),
            Device::Cpu,
            &Progress::hidden(),
        )
        .unwrap();
        assert_eq!(p.curve[0], q.curve[0]);
    }

    #[test]
    fn bad_params_refused() {
        let env = LotSizing::new(LotSizingConfig::default()).unwrap();
        let cases: Vec<(PpoParams, &str)> = vec![
            (
                PpoParams {
                    envs: 0,
                    ..small(Algo::Ppo, 0)
                },
                "envs",
            ),
            (
                PpoParams {
                    updates: 0,
                    ..small(Algo::Ppo, 0)
                },
                "updates",
            ),
            (
                PpoParams {
                    clip: 1.5,
                    ..small(Algo::Ppo, 0)
                },
                "clip",
            ),
            (
                PpoParams {
                    lambda: f64::NAN,
                    ..small(Algo::Ppo, 0)
                },
                "lambda",
            ),
            (
                PpoParams {
                    lr_actor: 0.0,
                    ..small(Algo::Ppo, 0)
                },
                "lr actor",
            ),
            (
                PpoParams {
                    hidden: vec![0],
                    ..small(Algo::Ppo, 0)
                },
                "hidden[0]",
            ),
            (
                PpoParams {
                    entropy: -1.0,
                    ..small(Algo::Ppo, 0)
                },
                "entropy",
            ),
            (
                PpoParams {
                    envs: usize::MAX / 2,
                    ..small(Algo::Ppo, 0)
                },
                "envs",
            ),
        ];
        for (p, name) in cases {
            let e = train_on(&env, &p, Device::Cpu, &Progress::hidden())
                .unwrap_err()
                .to_string();
            assert!(e.contains(name), "{name}: {e}");
        }
        assert!("ppo2"
            .parse::<Algo>()
            .unwrap_err()
            .to_string()
            .contains("ppo2"));
    }
}
