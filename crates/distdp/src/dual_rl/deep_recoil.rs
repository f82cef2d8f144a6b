//! Deep ReCOIL on tch (feature `torch`): imitation from mostly non-expert
//! offline data plus a few expert trajectories, with no discriminator —
//! "Dual RL: Unification and New Methods for Reinforcement and Imitation
//! Learning" (Sikchi, Zheng, Zhang & Niekum, ICLR 2024), ReCOIL, issue 19,
//! section 1 "then deep".
//!
//! **Objective.** ReCOIL matches mixtures, `beta d + (1 - beta) d^S`
//! against `beta d^E + (1 - beta) d^S` (see the tabular [`super::recoil`]),
//! so its dual needs no density ratio and no discriminator: in the Q form
//! the expert's state-actions carry an implicit reward pushing `Q` up, the
//! mixed data's (`d^S`, expert and suboptimal together) a reward pushing it
//! down, and `V` is the f-implicit maximum of `Q` over the data's actions.
//!
//! **Source followed.** The paper's text was available as an abstract only.
//! The authors' repository named in the brief, `hari-sikchi/DualRL`, could
//! not be fetched here; the code followed is `chufanchen/ReCOIL`, a copy of
//! the authors' ReCOIL code base (its README is the authors' "Official code
//! base for Dual RL ... ReCOIL" README): `offline/learner_imitate.py`
//! (`_update_jit`: value, actor, critic, target steps in that order),
//! `offline/critic_imitate.py` (`update_v_imitate` / `update_v_recoil`,
//! `rkl_loss_imitate`, `update_q_imitate` with `fixed_target_loss`,
//! `reward_gap = 2`, `target_Q_gap = 200`), `offline/actor.py`
//! (`update_imitate`), `offline/train_offline_imitate.py` (one minibatch of
//! the combined data and one of the expert data per step, the data's
//! rewards multiplied by 0) and `offline/configs/mujoco_config.py`
//! (advantage temperature 3, tau 0.005). Each minibatch is `batch`
//! transitions of the combined data (suboptimal + expert, the authors'
//! mixed dataset) followed by `batch` expert transitions (the authors'
//! first and second halves):
//!
//! 1. **value step** (`update_v_recoil`): `V(s)` minimises the mean value
//!    loss of `d = min(Q1', Q2')(s, a) - V(s)` over the *combined* half
//!    only, with the target critics. The authors' active choice is the
//!    reverse-KL (Gumbel) loss with their clip/rescale stabilisers; the
//!    issue asks for the chi-square `f`, whose implicit maximiser is f-DVL's
//!    `lambda max(d + d^2/4, 0) - (1 - lambda) d` ([`FDivergence::ChiSquare`],
//!    the default here). [`DeepFdvlParams::divergence`] =
//!    [`FDivergence::Gumbel`] with `gumbel_clip` is the authors' loss.
//! 2. **policy step** (`update_imitate`): advantage-weighted regression on
//!    the combined half only, `-mean(min(e^{beta (Q' - V)}, 100) log pi(a |
//!    s))` with the target critics and the new `V` — the same extraction as
//!    [`super::deep`]; a softmax policy over the discrete actions instead of
//!    the authors' Gaussian.
//! 3. **critic step** (`update_q_imitate`, the authors' "LS-IQ stability
//!    trick", `fixed_target_loss`; `ls_iq_loss` in another version of the
//!    file): with `r` the reward scale (the authors' `reward_gap` 2) and
//!    `q_max = r / (1 - gamma)` (their `target_Q_gap` 200 at gamma 0.99),
//!    each critic minimises `0.5 mean_E (Q - q_max)^2 + 0.5 mean_S (Q -
//!    y)^2`: on the expert half `Q` regresses to the fixed `q_max`, on the
//!    combined half to `y = -r + gamma mask V(s') + gamma (1 - mask) a
//!    q_max`, where `a` is the absorbing state's value in units of `q_max`
//!    ([`DeepRecoilParams::absorbing`]). The authors' `a` is `-1` (their
//!    tasks terminate on failure); the default here is `+1`, because the
//!    point mass terminates at the goal the expert reaches, so its absorbing
//!    state belongs to the expert's support (docs/distdp.md has both
//!    measured). `V` is the value network just updated, without gradient
//!    (the authors' `target_value` argument is the new value). No
//!    environment reward is used: the data's rewards are ignored.
//! 4. **target step**: Polyak averaging of the critics.
//!
//! Adam on every network with one shared rate; divergence is detected as in
//! [`super::deep`] with the bound `value_bound * q_max`.
//!
//! **Baselines**: behaviour cloning ([`train_bc_on`]) — maximum likelihood of
//! the data's actions under the same softmax network.

use duality_core::seed::Seeder;
use duality_core::tensor::{self, tch, MlpConfig, OptimizerConfig};
use duality_core::{Error, Result};
use rand::Rng;
use serde::Serialize;
use tch::nn::{self, Module};
use tch::{Device, Kind, Tensor};

use super::deep::{
    collect_with, CurveLog, DeepFdvlFit, DeepFdvlParams, DualNets, LossPoint, Minibatch,
    OfflineData, OfflineTensors, PointMass, POINT_MASS_ACTIONS,
};
use super::FDivergence;
use crate::deep::{init_from_seed, OneThread};

/// Settings of deep ReCOIL (checked by [`DeepRecoilParams::validate`]):
/// the deep Dual RL settings it shares with f-DVL (value loss, networks,
/// optimiser, steps, seed) and ReCOIL's two own.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DeepRecoilParams {
    /// The shared settings. The value loss is chi-square by default;
    /// Gumbel is the authors' RKL. `batch` is the size of each half
    /// minibatch (combined and expert); the divergence bound is in units of
    /// `q_max`.
    #[serde(flatten)]
    pub dual: DeepFdvlParams,
    /// Implicit reward scale `r > 0` (the authors' 2): expert `Q` targets
    /// `r / (1 - gamma)`, the combined data's rewards are `-r`.
    pub reward_scale: f64,
    /// Value of the absorbing (terminal) state in units of `q_max`, in
    /// `[-1, 1]`: the authors' `-1` (their tasks terminate on failure), `+1`
    /// here by default (the point mass terminates at the expert's goal).
    pub absorbing: f64,
}

impl DeepRecoilParams {
    /// Defaults: f-DVL's deep defaults ([`DeepFdvlParams::new`]) with
    /// chi-square and lambda 0.7 (as the deep f-DVL experiment), reward
    /// scale 2 (the authors'), absorbing value `+1`.
    pub fn new(steps: usize, seed: u64) -> Self {
        DeepRecoilParams {
            dual: DeepFdvlParams::new(FDivergence::ChiSquare, 0.7, steps, seed),
            reward_scale: 2.0,
            absorbing: 1.0,
        }
    }

    /// Checks every field, naming the bad one (the shared ones as
    /// [`DeepFdvlParams::validate`], plus an absorbing value in `[-1, 1]`
    /// and a finite reward scale in `(0, 1e6]`).
    pub fn validate(&self) -> Result<()> {
        self.dual.validate()?;
        if !(-1.0..=1.0).contains(&self.absorbing) {
            return Err(Error::invalid(
                "absorbing",
                self.absorbing,
                "a value in [-1, 1] (units of r / (1 - gamma))",
            ));
        }
        if !(self.reward_scale > 0.0 && self.reward_scale <= 1e6) {
            return Err(Error::invalid(
                "reward scale",
                self.reward_scale,
                "a finite scale in (0, 1e6]",
            ));
        }
        Ok(())
    }
}

/// The critic loss of one critic (the authors' `ls_iq_loss`):
/// `0.5 mean((q_expert - q_max)^2) + 0.5 mean((q_mixed - target)^2)`.
pub fn recoil_critic_loss(
    q_mixed: &Tensor,
    q_expert: &Tensor,
    target: &Tensor,
    q_max: f64,
) -> Tensor {
    let e = (q_expert - q_max).square().mean(Kind::Float);
    let m = (q_mixed - target).square().mean(Kind::Float);
    (e + m) * 0.5
}

/// The combined half's critic target
/// `-r + gamma mask V(s') + gamma (1 - mask) absorbing q_max`,
/// `q_max = r / (1 - gamma)` (the authors' `absorbing = -1`).
pub fn recoil_target(
    v_next: &Tensor,
    mask: &Tensor,
    reward_scale: f64,
    absorbing: f64,
    gamma: f64,
) -> Tensor {
    let q_max = reward_scale / (1.0 - gamma);
    (v_next * mask) * gamma + (mask.ones_like() - mask) * (gamma * absorbing * q_max) - reward_scale
}

/// The "other task" behaviour of [`collect_suboptimal`]: the scripted
/// expert's rule toward the goal mirrored in the horizontal axis
/// (`(goal_x, 1 - goal_y)`), with probability 1/2, else uniform.
pub fn other_goal_action<R: Rng + ?Sized>(env: &PointMass, s: &[f64; 2], rng: &mut R) -> usize {
    if rng.random::<f64>() < 0.5 {
        let mut mirrored = *env;
        mirrored.goal = [env.goal[0], 1.0 - env.goal[1]];
        mirrored.expert_action(s)
    } else {
        rng.random_range(0..POINT_MASS_ACTIONS)
    }
}

/// Suboptimal data for imitation: even episodes uniform-random, odd ones
/// medium-quality episodes of another task ([`other_goal_action`]). Unlike
/// the f-DVL `medium` data (the expert half the time, uniform otherwise,
/// whose most frequent action is already the expert's), this data is
/// biased away from the expert, so that cloning it cannot recover the
/// expert by majority vote.
pub fn collect_suboptimal<R: Rng + ?Sized>(
    env: &PointMass,
    episodes: usize,
    rng: &mut R,
) -> Result<OfflineData> {
    collect_with(env, episodes, rng, |e, s, rng| {
        if e % 2 == 0 {
            rng.random_range(0..POINT_MASS_ACTIONS)
        } else {
            other_goal_action(env, s, rng)
        }
    })
}

/// Concatenation of two datasets (the authors' `combined_dataset`).
pub fn concat(a: &OfflineData, b: &OfflineData) -> OfflineData {
    let join = |x: &[f32], y: &[f32]| [x, y].concat();
    OfflineData {
        obs: join(&a.obs, &b.obs),
        actions: [a.actions.as_slice(), b.actions.as_slice()].concat(),
        rewards: join(&a.rewards, &b.rewards),
        next_obs: join(&a.next_obs, &b.next_obs),
        masks: join(&a.masks, &b.masks),
        episode_returns: [a.episode_returns.as_slice(), b.episode_returns.as_slice()].concat(),
    }
}

/// Trains deep ReCOIL on duality-core's default device (`DUALITY_DEVICE`,
/// else CUDA if available, else CPU); see the module documentation.
/// `combined` is all the offline data (suboptimal and expert), `expert` the
/// expert trajectories alone.
pub fn train_deep_recoil(
    env: &PointMass,
    combined: &OfflineData,
    expert: &OfflineData,
    params: &DeepRecoilParams,
) -> Result<DeepFdvlFit> {
    train_deep_recoil_on(env, combined, expert, params, tensor::default_device()?)
}

/// [`train_deep_recoil`] on a given device (one libtorch thread on the CPU).
pub fn train_deep_recoil_on(
    env: &PointMass,
    combined: &OfflineData,
    expert: &OfflineData,
    params: &DeepRecoilParams,
    device: Device,
) -> Result<DeepFdvlFit> {
    params.validate()?;
    combined.validate("combined", false)?;
    expert.validate("expert", false)?;
    let _threads = (device == Device::Cpu).then(OneThread::new);
    tensor::manual_seed(params.dual.seed);
    let seeder = Seeder::new(params.dual.seed);
    let mut nets = DualNets::new(&params.dual.hidden, params.dual.lr, &seeder, device)?;

    let mixed = OfflineTensors::new(combined, false, device)?;
    let exp = OfflineTensors::new(expert, false, device)?;
    let q_max = params.reward_scale / (1.0 - env.gamma);
    let bound = params.dual.value_bound * q_max;
    let mut rng = seeder.rng(3);
    let mut log = CurveLog::new(bound, params.dual.log_every, params.dual.steps);
    for step in 0..params.dual.steps {
        let Minibatch {
            obs,
            next,
            mask,
            actions: a,
            ..
        } = mixed.sample(params.dual.batch, &mut rng);
        let expert_half = exp.sample(params.dual.batch, &mut rng);
        let (e_obs, e_a) = (expert_half.obs, expert_half.actions);

        // 1. Value step on the combined half, target critics' min.
        let (q_t, v_loss_value, v_mean) = nets.value_step(
            &obs,
            &a,
            params.dual.divergence,
            params.dual.lambda,
            params.dual.gumbel_clip,
        );

        // 2. Policy step: advantage-weighted regression on the combined half.
        nets.policy_step(&obs, &a, &q_t, params.dual.beta);

        // 3. Critic step: expert Q to q_max, combined Q to -r + gamma V(s').
        let target = tch::no_grad(|| {
            recoil_target(
                &nets.value.forward(&next),
                &mask,
                params.reward_scale,
                params.absorbing,
                env.gamma,
            )
        });
        let mut q_loss = Tensor::zeros([], (Kind::Float, device));
        for q in [&nets.q1, &nets.q2] {
            q_loss += recoil_critic_loss(
                &q.forward(&obs).gather(1, &a, false),
                &q.forward(&e_obs).gather(1, &e_a, false),
                &target,
                q_max,
            );
        }
        nets.critic_opt.backward_step(&q_loss);
        let q_loss_value = q_loss.double_value(&[]);

        // 4. Target step.
        nets.update_targets(params.dual.tau);

        if log.record(step, v_loss_value, q_loss_value, v_mean) {
            break;
        }
    }
    Ok(nets.into_fit(log, device))
}

/// Behaviour cloning on `data`: the same softmax network as ReCOIL's
/// actor, `steps` Adam steps (rate `lr`) on the mean negative
/// log-likelihood of minibatches of `batch` data actions. The fit's curve
/// holds the mean loss in `value_loss` (critic loss and mean V are 0).
pub fn train_bc_on(
    data: &OfflineData,
    hidden: &[usize],
    steps: usize,
    batch: usize,
    lr: f64,
    seed: u64,
    device: Device,
) -> Result<DeepFdvlFit> {
    // The shared checks (widths, steps, batch, lr).
    let mut p = DeepRecoilParams::new(steps, seed).dual;
    p.hidden = hidden.to_vec();
    p.batch = batch;
    p.lr = lr;
    p.validate()?;
    data.validate("behaviour cloning", false)?;
    let _threads = (device == Device::Cpu).then(OneThread::new);
    tensor::manual_seed(seed);
    let seeder = Seeder::new(seed);
    let actor_vs = nn::VarStore::new(device);
    let actor = MlpConfig::new(2, hidden, POINT_MASS_ACTIONS).build(&actor_vs.root())?;
    init_from_seed(&actor_vs, seeder.seed_for(12))?;
    let mut opt = OptimizerConfig::adam(lr).build(&actor_vs)?;
    let t = OfflineTensors::new(data, false, device)?;
    let mut rng = seeder.rng(3);
    let (mut acc, mut k) = (0.0, 0usize);
    let mut curve = Vec::new();
    for step in 0..steps {
        let Minibatch {
            obs, actions: a, ..
        } = t.sample(batch, &mut rng);
        let loss = -actor
            .forward(&obs)
            .log_softmax(-1, Kind::Float)
            .gather(1, &a, false)
            .mean(Kind::Float);
        opt.backward_step(&loss);
        acc += loss.double_value(&[]);
        k += 1;
        if (step + 1) % p.log_every == 0 || step + 1 == steps {
            curve.push(LossPoint {
                step: step + 1,
                value_loss: acc / k as f64,
                critic_loss: 0.0,
                v_mean: 0.0,
            });
            (acc, k) = (0.0, 0);
        }
    }
    Ok(DeepFdvlFit {
        actor,
        actor_vs,
        curve,
        diverged_at: None,
        device: format!("{device:?}"),
    })
}

#[cfg(test)]
mod tests {
    use super::super::deep::{collect, value_loss, Dataset};
    use super::*;

    #[test]
    fn critic_loss_and_target_on_a_hand_computed_batch() {
        // gamma 0.5, r 2: q_max = 4. Targets: mask 1, V' 3 -> -2 + 1.5 = -0.5;
        // mask 0 -> -2 - 0.5 * 4 = -4.
        let v_next = Tensor::from_slice(&[3.0f32, 10.0]);
        let mask = Tensor::from_slice(&[1.0f32, 0.0]);
        let target = recoil_target(&v_next, &mask, 2.0, -1.0, 0.5);
        let t = tensor::tensor_to_vec_f64(&target).unwrap();
        assert!(
            (t[0] + 0.5).abs() < 1e-6 && (t[1] + 4.0).abs() < 1e-6,
            "{t:?}"
        );
        // Absorbing +q_max: -2 + 0.5 * 4 = 0 at the terminal.
        let up = recoil_target(&v_next, &mask, 2.0, 1.0, 0.5);
        let up = tensor::tensor_to_vec_f64(&up).unwrap();
        assert!(up[1].abs() < 1e-6, "{up:?}");
        // Expert Q (3, 5) to 4: squares 1, 1 -> mean 1. Mixed Q (0, -4) to
        // (-0.5, -4): squares 0.25, 0 -> mean 0.125. Loss 0.5 * 1.125.
        let q_mixed = Tensor::from_slice(&[0.0f32, -4.0]);
        let q_expert = Tensor::from_slice(&[3.0f32, 5.0]);
        let loss = recoil_critic_loss(&q_mixed, &q_expert, &target, 4.0).double_value(&[]);
        assert!((loss - 0.5625).abs() < 1e-6, "{loss}");
        // The value loss on d = Q - V: chi-square, lambda 0.5, d = (2, -4):
        // 0.5 * max(2 + 1, 0) - 0.5 * 2 = 0.5; 0.5 * max(-4 + 4, 0) + 2 = 2.
        let d = Tensor::from_slice(&[2.0f32, -4.0]);
        let l =
            tensor::tensor_to_vec_f64(&value_loss(&d, FDivergence::ChiSquare, 0.5, None)).unwrap();
        assert!(
            (l[0] - 0.5).abs() < 1e-6 && (l[1] - 2.0).abs() < 1e-6,
            "{l:?}"
        );
    }

    #[test]
    fn params_and_data_are_checked() {
        let mut p = DeepRecoilParams::new(10, 0);
        p.validate().unwrap();
        p.absorbing = 2.0;
        assert!(p.validate().unwrap_err().to_string().contains("absorbing"));
        p.absorbing = 1.0;
        p.reward_scale = -1.0;
        assert!(p
            .validate()
            .unwrap_err()
            .to_string()
            .contains("reward scale"));
        p.reward_scale = 2.0;
        p.dual.lambda = 1.5;
        assert!(p.validate().unwrap_err().to_string().contains("lambda"));
        let env = PointMass::standard();
        let mut data = collect(&env, Dataset::Expert, 2, &mut Seeder::new(1).rng(0)).unwrap();
        data.actions[0] = 9;
        let err = train_deep_recoil_on(
            &env,
            &data,
            &data,
            &DeepRecoilParams::new(5, 0),
            Device::Cpu,
        )
        .unwrap_err()
        .to_string();
        assert!(err.contains("combined action of transition 0"), "{err}");
    }

    #[test]
    fn recoil_and_bc_are_reproducible() {
        let env = PointMass::standard();
        let mut rng = Seeder::new(4).rng(0);
        let sub = collect_suboptimal(&env, 20, &mut rng).unwrap();
        let expert = collect(&env, Dataset::Expert, 2, &mut rng).unwrap();
        let all = concat(&sub, &expert);
        assert_eq!(all.len(), sub.len() + expert.len());
        let mut p = DeepRecoilParams::new(40, 7);
        p.dual.batch = 32;
        p.dual.log_every = 20;
        let a = train_deep_recoil_on(&env, &all, &expert, &p, Device::Cpu).unwrap();
        let b = train_deep_recoil_on(&env, &all, &expert, &p, Device::Cpu).unwrap();
        assert!(a.stable(), "{:?}", a.diverged_at);
        assert_eq!(a.curve.len(), 2);
        assert_eq!(a.curve, b.curve);
        assert_eq!(a.act(&[0.3, 0.2]).unwrap(), b.act(&[0.3, 0.2]).unwrap());
        let c = train_bc_on(&all, &[16], 30, 32, 1e-3, 3, Device::Cpu).unwrap();
        let d = train_bc_on(&all, &[16], 30, 32, 1e-3, 3, Device::Cpu).unwrap();
        assert_eq!(c.curve, d.curve);
    }
    #[test]
    fn losses_are_finite_and_fall_on_a_tiny_dataset() {
        let env = PointMass::standard();
        let mut rng = Seeder::new(2).rng(0);
        let sub = collect_suboptimal(&env, 10, &mut rng).unwrap();
        let expert = collect(&env, Dataset::Expert, 2, &mut rng).unwrap();
        let all = concat(&sub, &expert);
        let mut p = DeepRecoilParams::new(300, 1);
        p.dual.batch = 32;
        p.dual.hidden = vec![32];
        p.dual.log_every = 50;
        let fit = train_deep_recoil_on(&env, &all, &expert, &p, Device::Cpu).unwrap();
        assert!(fit.stable(), "{:?}", fit.diverged_at);
        assert_eq!(fit.curve.len(), 6);
        for pt in &fit.curve {
            assert!(
                pt.value_loss.is_finite() && pt.critic_loss.is_finite() && pt.v_mean.is_finite(),
                "{pt:?}"
            );
        }
        // Q starts near 0 against expert targets q_max = 40: the critic
        // loss starts near 2 x 0.5 x 40^2 and must fall.
        let (first, last) = (fit.curve[0].critic_loss, fit.curve[5].critic_loss);
        assert!(first > 100.0 && last < 0.9 * first, "{first} -> {last}");
        // The authors' Gumbel loss with their clip runs too.
        p.dual.divergence = FDivergence::Gumbel;
        p.dual.lambda = 1.0;
        p.dual.gumbel_clip = Some(7.0);
        p.dual.steps = 50;
        let g = train_deep_recoil_on(&env, &all, &expert, &p, Device::Cpu).unwrap();
        assert!(
            g.curve.iter().all(|pt| pt.value_loss.is_finite()),
            "{:?}",
            g.curve
        );
        // Behaviour cloning's negative log-likelihood starts near ln 5.
        let bc = train_bc_on(&expert, &[32], 200, 32, 1e-3, 0, Device::Cpu).unwrap();
        let (b0, b1) = (bc.curve[0].value_loss, bc.curve.last().unwrap().value_loss);
        assert!(b1 < b0 && b0 < 2.0, "{b0} -> {b1}");
    }

    #[test]
    fn suboptimal_data_is_biased_away_from_the_expert() {
        let env = PointMass::standard();
        // At (0.7, 0.7) the expert moves right (1); the mirrored goal
        // (0.8, 0.2) is below, so the other task's rule moves down (4).
        assert_eq!(env.expert_action(&[0.7, 0.7]), 1);
        let mut rng = Seeder::new(3).rng(0);
        let n = 4000;
        let down = (0..n)
            .filter(|_| other_goal_action(&env, &[0.7, 0.7], &mut rng) == 4)
            .count() as f64
            / n as f64;
        // 1/2 + 1/2 x 1/5 = 0.6.
        assert!((down - 0.6).abs() < 0.03, "{down}");
        let a = collect_suboptimal(&env, 6, &mut Seeder::new(5).rng(0)).unwrap();
        let b = collect_suboptimal(&env, 6, &mut Seeder::new(5).rng(0)).unwrap();
        assert_eq!(a, b);
        assert_eq!(a.episode_returns.len(), 6);
        assert!(a
            .actions
            .iter()
            .all(|&x| (0..POINT_MASS_ACTIONS as i64).contains(&x)));
        assert!(collect_suboptimal(&env, 0, &mut Seeder::new(5).rng(0)).is_err());
    }

    #[test]
    fn empty_data_and_bad_bc_settings_are_named() {
        let env = PointMass::standard();
        let expert = collect(&env, Dataset::Expert, 2, &mut Seeder::new(1).rng(0)).unwrap();
        let empty = OfflineData {
            obs: vec![],
            actions: vec![],
            rewards: vec![],
            next_obs: vec![],
            masks: vec![],
            episode_returns: vec![],
        };
        let p = DeepRecoilParams::new(5, 0);
        let err = train_deep_recoil_on(&env, &expert, &empty, &p, Device::Cpu)
            .unwrap_err()
            .to_string();
        assert!(err.contains("expert transitions"), "{err}");
        let mut short = expert.clone();
        short.masks.pop();
        let err = train_deep_recoil_on(&env, &short, &expert, &p, Device::Cpu)
            .unwrap_err()
            .to_string();
        assert!(err.contains("combined masks"), "{err}");
        let err = train_bc_on(&expert, &[16], 5, 0, 1e-3, 0, Device::Cpu)
            .unwrap_err()
            .to_string();
        assert!(err.contains("batch"), "{err}");
        let err = train_bc_on(&expert, &[16], 5, 8, -1.0, 0, Device::Cpu)
            .unwrap_err()
            .to_string();
        assert!(err.contains("learning rate") || err.contains("lr"), "{err}");
    }
}
