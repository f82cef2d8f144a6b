//! PPO and Post-Decision PPO (PDPPO) on [`LotSizing`], on duality-core's
//! tensor layer (feature `torch`).
//!
//! **PPO** (Schulman, Wolski, Dhariwal, Radford & Klimov 2017): the clipped
//! surrogate `E[min(rho A, clip(rho, 1 - eps, 1 + eps) A)]` (their eq. (7)),
//! advantages by GAE (Schulman, Moritz, Levine, Jordan & Abbeel 2016,
//! eq. (16): `A_t = sum_l (gamma lambda)^l delta_{t+l}`,
//! `delta_t = r_t + gamma v_{t+1} - v_t`), a value critic regressed on
//! `A_t + v_t`, an entropy bonus, Adam with weight decay and the gradient
//! norm clipped. The policy is factored as in the authors' code: one
//! softmax over `idle, item 1, ..., item I` per machine from one network,
//! one ratio per machine, the advantage shared by the machines.
//!
//! **PDPPO** (Felizardo et al. 2025; the authors' `PDPPO.py` in its later
//! form, the same in their lot-sizing and frozen-lake agents): a second
//! critic `V^x` on the post-decision state `s^x_t` (inventory after
//! production, before demand: a deterministic function of `(s_t, a_t)`, see
//! [`LotSizing::post_decision`]). The state critic `V` learns the return of
//! the rewards `r_t`; the post-decision critic learns the return of the
//! *post-decision rewards* `r^x_t`, the deterministic part of the reward paid
//! on the way to `s^x_t` (here minus the setup cost). Each critic gives an
//! advantage (`A^s_t` from `r, V`; `A^x_t` from `r^x, V^x`) and the actor
//! uses their maximum, `A_t = max(A^s_t, A^x_t)` (the authors'
//! `torch.max(advantages_current, advantages_post)`); each critic is
//! regressed on its own target. The authors use Monte Carlo returns
//! (`R_t - V`); here both advantages are GAE(lambda), which is that at
//! lambda 1. An earlier version of the same file used one combined estimate
//! `min(V(s), V^x(s^x))` against the full return instead; the later,
//! max-of-advantages form is the one followed. Everything else (policy,
//! GAE, clipping, optimiser, seeds, the demands seen) is the same as PPO's,
//! so the comparison isolates the critic.
//!
//! Hyper-parameters default to the authors' (`PDPPOAgent.py`): clip 0.2,
//! gamma 0.99, actor lr 5.5e-4, critic lr 1e-3, entropy 0.012, value
//! coefficient 0.5, weight decay 1e-3, gradient norm 1, full-batch epochs;
//! smaller networks (64 x 64 instead of 128 x 128), 10 epochs instead of 60
//! and GAE lambda 0.95 keep CPU training at seconds. Rewards are divided by
//! [`LotSizing::cost_scale`]. Advantages are normalised per batch.
//!
//! Every random draw comes from [`Seeder`] streams of the seed (network
//! initialisation, action sampling, starts and demands), libtorch runs on one
//! CPU thread during training, and the device is duality-core's default
//! (`DUALITY_DEVICE`, else CUDA, else CPU): the same seed gives the same
//! result on one device. PPO and PDPPO with the same seed see the same
//! starts and demands (common random numbers).

use std::fmt;
use std::str::FromStr;

use duality_core::config::Validate;
use duality_core::progress::Progress;
use duality_core::seed::Seeder;
use duality_core::tensor::{self, tch, Activation, Mlp, MlpConfig, OptimizerConfig};
use duality_core::{Error, Result};
use rand::Rng;
use serde::{Deserialize, Serialize};
use tch::nn::{self, Module};
use tch::{Device, Kind, Tensor};

use super::env::{LotSizing, LotState, PostDecision};
// The deep trainer's seeded initialisation and its reference-counted
// one-thread guard (seeds train in parallel under `Context::per_seed`).
use crate::deep::{init_from_seed, OneThread};

/// Seeder streams (stream 1 is `init_from_seed`'s).
const ENV_STREAM: u64 = 2;
const ACT_STREAM: u64 = 3;
const SHUFFLE_STREAM: u64 = 4;
/// The evaluation stream ([`evaluation_rng`]).
const EVAL_STREAM: u64 = 5;
/// The action stream of [`LotPolicy::evaluate_sampled`].
const EVAL_ACT_STREAM: u64 = 6;

/// Which learner.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Algo {
    /// PPO with one critic on the state.
    Ppo,
    /// PDPPO: critics on the state and on the post-decision state.
    Pdppo,
}

impl Algo {
    /// Both, PPO first.
    pub const ALL: [Algo; 2] = [Algo::Ppo, Algo::Pdppo];
}

impl fmt::Display for Algo {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Algo::Ppo => "ppo",
            Algo::Pdppo => "pdppo",
        })
    }
}

impl FromStr for Algo {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        match s.trim().to_ascii_lowercase().as_str() {
            "ppo" => Ok(Algo::Ppo),
            "pdppo" | "post-decision-ppo" => Ok(Algo::Pdppo),
            other => Err(Error::invalid("algo", other, "ppo | pdppo")),
        }
    }
}

/// Training settings (checked by [`Validate`] when training starts).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PpoParams {
    /// PPO or PDPPO.
    pub algo: Algo,
    /// Hidden widths of the actor and of each critic.
    pub hidden: Vec<usize>,
    /// Episodes collected per update (run side by side).
    pub envs: usize,
    /// Updates (each: `envs` episodes, then the epochs).
    pub updates: usize,
    /// Epochs over each batch.
    pub epochs: usize,
    /// Minibatch rows (0: the whole batch, as the authors).
    pub minibatch: usize,
    /// Clip range `eps` of the ratio.
    pub clip: f64,
    /// Discount.
    pub gamma: f64,
    /// GAE lambda (1: Monte Carlo returns).
    pub lambda: f64,
    /// Actor learning rate.
    pub lr_actor: f64,
    /// Critic learning rate (both critics).
    pub lr_critic: f64,
    /// Entropy bonus coefficient.
    pub entropy: f64,
    /// Value-loss coefficient.
    pub value_coef: f64,
    /// Gradient-norm clip.
    pub max_grad_norm: f64,
    /// Adam's L2 weight decay.
    pub weight_decay: f64,
    /// Seed of everything random.
    pub seed: u64,
}

impl PpoParams {
    /// The defaults (see the module documentation) for `algo`.
    pub fn new(algo: Algo, updates: usize, seed: u64) -> Self {
        PpoParams {
            algo,
            hidden: vec![64, 64],
            envs: 16,
            updates,
            epochs: 10,
            minibatch: 0,
            clip: 0.2,
            gamma: 0.99,
            lambda: 0.95,
            lr_actor: 5.5e-4,
            lr_critic: 1e-3,
            entropy: 0.012,
            value_coef: 0.5,
            max_grad_norm: 1.0,
            weight_decay: 1e-3,
            seed,
        }
    }
}

const MAX_WIDTH: usize = 4096;
const MAX_UPDATES: usize = 10_000_000;
const MAX_EPOCHS: usize = 10_000;

impl Validate for PpoParams {
    /// Widths in `1..=4096`; envs >= 1; updates in `1..=1e7`; epochs in
    /// `1..=1e4`; clip in (0, 1); gamma and lambda in [0, 1]; learning rates
    /// and the gradient clip > 0; coefficients and weight decay finite and
    /// >= 0.
    fn validate(&self) -> Result<()> {
        for (i, &h) in self.hidden.iter().enumerate() {
            if h == 0 || h > MAX_WIDTH {
                return Err(Error::invalid(
                    format!("hidden[{i}]"),
                    h,
                    format!("a width in 1..={MAX_WIDTH}"),
                ));
            }
        }
        duality_core::check::at_least("envs", self.envs, 1)?;
        if self.updates == 0 || self.updates > MAX_UPDATES {
            return Err(Error::invalid(
                "updates",
                self.updates,
                format!("in 1..={MAX_UPDATES}"),
            ));
        }
        if self.epochs == 0 || self.epochs > MAX_EPOCHS {
            return Err(Error::invalid(
                "epochs",
                self.epochs,
                format!("in 1..={MAX_EPOCHS}"),
            ));
        }
        duality_core::check::open_unit("clip", self.clip)?;
        duality_core::check::probability("gamma", self.gamma)?;
        duality_core::check::probability("lambda", self.lambda)?;
        duality_core::check::positive("lr actor", self.lr_actor)?;
        duality_core::check::positive("lr critic", self.lr_critic)?;
        duality_core::check::positive("max grad norm", self.max_grad_norm)?;
        for (name, v) in [
            ("entropy", self.entropy),
            ("value coef", self.value_coef),
            ("weight decay", self.weight_decay),
        ] {
            if !(v.is_finite() && v >= 0.0) {
                return Err(Error::invalid(name, v, "a finite value >= 0"));
            }
        }
        Ok(())
    }
}

/// One point of the learning curve.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct CurvePoint {
    /// Environment steps (periods) collected so far.
    pub steps: usize,
    /// Mean episode cost of the update's training episodes.
    pub cost: f64,
}

/// A trained policy: the actor, acting greedily (the most likely choice of
/// every machine).
pub struct LotPolicy {
    actor: Mlp,
    vs: nn::VarStore,
    env: LotSizing,
}

impl fmt::Debug for LotPolicy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LotPolicy")
            .field("items", &self.env.items())
            .field("machines", &self.env.machines())
            .finish()
    }
}

impl LotPolicy {
    /// Choice probabilities `[machine][choice]` at `state`.
    pub fn probabilities(&self, state: &LotState) -> Result<Vec<Vec<f64>>> {
        let mut row = Vec::new();
        self.env.state_features(state, &mut row);
        let x = tensor::tensor_from_slice_f32(&row, &[1, row.len()])?.to_device(self.vs.device());
        let (m, k) = (self.env.machines(), self.env.choices());
        let p = tch::no_grad(|| {
            self.actor
                .forward(&x)
                .view([m as i64, k as i64])
                .softmax(-1, Kind::Float)
        });
        let flat = tensor::tensor_to_vec_f64(&p)?;
        Ok(flat.chunks(k).map(|c| c.to_vec()).collect())
    }

    /// The greedy action (ties to the lowest choice).
    pub fn act(&self, state: &LotState) -> Result<Vec<usize>> {
        Ok(self
            .probabilities(state)?
            .iter()
            .map(|p| {
                let mut best = 0;
                for (j, &q) in p.iter().enumerate() {
                    if q > p[best] {
                        best = j;
                    }
                }
                best
            })
            .collect())
    }

    /// An action drawn from the policy (one choice per machine).
    pub fn sample(&self, state: &LotState, rng: &mut impl Rng) -> Result<Vec<usize>> {
        Ok(self
            .probabilities(state)?
            .iter()
            .map(|p| {
                let u: f64 = rng.random();
                let mut acc = 0.0;
                for (j, &q) in p.iter().enumerate() {
                    acc += q;
                    if u < acc {
                        return j;
                    }
                }
                p.len() - 1
            })
            .collect())
    }

    /// All actor parameters, flattened in name order.
    pub fn parameters(&self) -> Result<Vec<f64>> {
        let vars = self.vs.variables();
        let mut names: Vec<&String> = vars.keys().collect();
        names.sort();
        let mut out = Vec::new();
        for name in names {
            out.extend(tensor::tensor_to_vec_f64(&vars[name])?);
        }
        Ok(out)
    }

    /// Mean episode cost of the greedy policy over `episodes` episodes of
    /// the [`evaluation_rng`] of `seed` (the same starts and demands for
    /// every policy evaluated with that seed).
    pub fn evaluate(&self, episodes: usize, seed: u64) -> Result<f64> {
        let mut rng = evaluation_rng(seed);
        self.env.evaluate(|s| self.act(s), episodes, &mut rng)
    }

    /// Mean episode cost of the stochastic policy (actions sampled as in
    /// training, from a stream of `seed` apart from the environment's) over
    /// the same episodes as [`LotPolicy::evaluate`].
    pub fn evaluate_sampled(&self, episodes: usize, seed: u64) -> Result<f64> {
        let mut rng = evaluation_rng(seed);
        let mut act_rng = Seeder::new(seed).rng(EVAL_ACT_STREAM);
        self.env
            .evaluate(|s| self.sample(s, &mut act_rng), episodes, &mut rng)
    }
}

/// The evaluation stream of `seed`: starts and demands of
/// [`LotPolicy::evaluate`] (use it for reference policies too).
pub fn evaluation_rng(seed: u64) -> duality_core::seed::DualityRng {
    Seeder::new(seed).rng(EVAL_STREAM)
}

/// Mean episode cost of the uniform random policy (every machine's choice
/// uniform) over the episodes of [`evaluation_rng`] of `seed`, the same
/// episodes [`LotPolicy::evaluate`] uses.
pub fn random_policy_cost(env: &LotSizing, episodes: usize, seed: u64) -> Result<f64> {
    let mut act_rng = Seeder::new(seed).rng(EVAL_ACT_STREAM);
    let mut rng = evaluation_rng(seed);
    env.evaluate(
        |_| {
            Ok((0..env.machines())
                .map(|_| act_rng.random_range(0..env.choices()))
                .collect())
        },
        episodes,
        &mut rng,
    )
}

/// What [`train`] returns.
#[derive(Debug)]
pub struct PpoFit {
    /// The trained policy.
    pub policy: LotPolicy,
    /// Mean training-episode cost after each update's rollouts.
    pub curve: Vec<CurvePoint>,
    /// The device it trained on.
    pub device: String,
}

/// Samples index `j` with probability `exp(logp[j])`.
fn sample(logp: &[f32], rng: &mut impl Rng) -> usize {
    let u: f64 = rng.random();
    let mut acc = 0.0;
    for (j, &l) in logp.iter().enumerate() {
        acc += f64::from(l).exp();
        if u < acc {
            return j;
        }
    }
    logp.len() - 1
}

/// GAE (Schulman et al. 2016, eq. (16)) over `n` episodes of `horizon`
/// steps stored time-major (`row = t * n + j`), every episode ending at the
/// horizon (value 0 after it). Returns the advantages.
pub fn gae(
    rewards: &[f64],
    values: &[f64],
    n: usize,
    horizon: usize,
    gamma: f64,
    lambda: f64,
) -> Vec<f64> {
    let mut adv = vec![0.0; rewards.len()];
    for j in 0..n {
        let mut acc = 0.0;
        for t in (0..horizon).rev() {
            let row = t * n + j;
            let next = if t + 1 < horizon {
                values[(t + 1) * n + j]
            } else {
                0.0
            };
            let delta = rewards[row] + gamma * next - values[row];
            acc = delta + gamma * lambda * acc;
            adv[row] = acc;
        }
    }
    adv
}

/// Trains `params.algo` on `env` on duality-core's default device
/// (`DUALITY_DEVICE`, else CUDA if available, else CPU).
pub fn train(env: &LotSizing, params: &PpoParams, progress: &Progress) -> Result<PpoFit> {
    train_on(env, params, tensor::default_device()?, progress)
}

/// [`train`] on a given device (on the CPU with one libtorch thread).
pub fn train_on(
    env: &LotSizing,
    params: &PpoParams,
    device: Device,
    progress: &Progress,
) -> Result<PpoFit> {
    params.validate()?;
    let (n, horizon) = (params.envs, env.horizon());
    let (machines, choices, dim) = (env.machines(), env.choices(), env.feature_dim());
    // The batch's rows and what each row holds, refused before allocating.
    let rows = duality_core::limits::product(&[("envs", n), ("horizon", horizon)])?;
    let per_row = 2 * dim + 2 * machines + 4;
    duality_core::limits::elements::<f32>(
        "envs x horizon x (2 features + 2 machines + 4)",
        duality_core::limits::product(&[("rows", rows), ("row width", per_row)])?,
    )?;
    let _threads = (device == Device::Cpu).then(OneThread::new);
    let pdppo = params.algo == Algo::Pdppo;

    tensor::manual_seed(params.seed);
    let vs = nn::VarStore::new(device);
    let actor_vs = nn::VarStore::new(device);
    let actor = MlpConfig::new(dim, &params.hidden, machines * choices).build(&actor_vs.root())?;
    let critic_cfg = MlpConfig::new(dim, &params.hidden, 1).activation(Activation::Tanh);
    let critic_root = vs.root();
    let critic = critic_cfg.build(&(&critic_root / "critic"))?;
    let critic_post = if pdppo {
        Some(critic_cfg.build(&(&critic_root / "critic_post"))?)
    } else {
        None
    };
    init_from_seed(&actor_vs, params.seed)?;
    init_from_seed(&vs, params.seed.wrapping_add(1))?;
    let opt_cfg = OptimizerConfig {
        weight_decay: params.weight_decay,
        ..OptimizerConfig::adam(params.lr_actor)
    };
    let mut actor_opt = opt_cfg.build(&actor_vs)?;
    let mut critic_opt = OptimizerConfig {
        lr: params.lr_critic,
        ..opt_cfg
    }
    .build(&vs)?;

    let seeder = Seeder::new(params.seed);
    let mut env_rng = seeder.rng(ENV_STREAM);
    let mut act_rng = seeder.rng(ACT_STREAM);
    let mut shuffle_rng = seeder.rng(SHUFFLE_STREAM);
    let scale = env.cost_scale();

    let mut curve = Vec::with_capacity(params.updates);
    let mut x = vec![0f32; rows * dim];
    let mut xp = vec![0f32; rows * dim];
    let mut acts = vec![0i64; rows * machines];
    let mut old_logp = vec![0f32; rows * machines];
    let mut values = vec![0.0f64; rows];
    let mut values_post = vec![0.0f64; rows];
    let mut rewards = vec![0.0f64; rows];
    let mut post_rewards = vec![0.0f64; rows];
    let mut row_buf = Vec::with_capacity(dim);
    let mut action = vec![0usize; machines];
    let mut posts: Vec<PostDecision> = Vec::with_capacity(n);
    for update in 0..params.updates {
        let mut states: Vec<LotState> = (0..n).map(|_| env.start(&mut env_rng)).collect();
        let mut episode_cost = 0.0;
        for t in 0..horizon {
            let base = t * n;
            for (j, s) in states.iter().enumerate() {
                env.state_features(s, &mut row_buf);
                x[(base + j) * dim..(base + j + 1) * dim].copy_from_slice(&row_buf);
            }
            let xs = tensor::tensor_from_slice_f32(&x[base * dim..(base + n) * dim], &[n, dim])?
                .to_device(device);
            let logp = tch::no_grad(|| {
                actor
                    .forward(&xs)
                    .view([n as i64, machines as i64, choices as i64])
                    .log_softmax(-1, Kind::Float)
            });
            let logp = tensor::tensor_to_vec_f32(&logp)?;
            posts.clear();
            for (j, s) in states.iter().enumerate() {
                for (m, a) in action.iter_mut().enumerate() {
                    let off = (j * machines + m) * choices;
                    let lp = &logp[off..off + choices];
                    *a = sample(lp, &mut act_rng);
                    acts[(base + j) * machines + m] = *a as i64;
                    old_logp[(base + j) * machines + m] = lp[*a];
                }
                let post = env.post_decision(s, &action)?;
                env.post_features(&post, &mut row_buf);
                xp[(base + j) * dim..(base + j + 1) * dim].copy_from_slice(&row_buf);
                posts.push(post);
            }
            let v = tch::no_grad(|| critic.forward(&xs).view([n as i64]));
            let v = tensor::tensor_to_vec_f64(&v)?;
            let vx = match &critic_post {
                Some(cp) => {
                    let xps = tensor::tensor_from_slice_f32(
                        &xp[base * dim..(base + n) * dim],
                        &[n, dim],
                    )?
                    .to_device(device);
                    let vx = tch::no_grad(|| cp.forward(&xps).view([n as i64]));
                    tensor::tensor_to_vec_f64(&vx)?
                }
                None => vec![0.0; n],
            };
            for (j, post) in posts.iter().enumerate() {
                let demand = env.sample_demand(&mut env_rng);
                let (next, cost) = env.apply_demand(post, &demand)?;
                let c = cost.total();
                episode_cost += c;
                rewards[base + j] = -c / scale;
                post_rewards[base + j] = -post.setup_cost / scale;
                values[base + j] = v[j];
                values_post[base + j] = vx[j];
                states[j] = next;
            }
        }
        curve.push(CurvePoint {
            steps: (update + 1) * rows,
            cost: episode_cost / n as f64,
        });

        // Advantages, each critic's targets, normalised advantages.
        let mut adv = gae(&rewards, &values, n, horizon, params.gamma, params.lambda);
        let ret: Vec<f32> = adv
            .iter()
            .zip(&values)
            .map(|(a, v)| (a + v) as f32)
            .collect();
        let mut ret_post = vec![0f32; rows];
        if pdppo {
            let adv_x = gae(
                &post_rewards,
                &values_post,
                n,
                horizon,
                params.gamma,
                params.lambda,
            );
            for (((a, &ax), rx), &vx) in adv
                .iter_mut()
                .zip(&adv_x)
                .zip(ret_post.iter_mut())
                .zip(&values_post)
            {
                *rx = (ax + vx) as f32;
                *a = a.max(ax);
            }
        }
        let mean = adv.iter().sum::<f64>() / rows as f64;
        let sd = (adv.iter().map(|a| (a - mean).powi(2)).sum::<f64>() / rows as f64).sqrt();
        let adv_n: Vec<f32> = adv
            .iter()
            .map(|a| ((a - mean) / (sd + 1e-8)) as f32)
            .collect();

        let to = |data: &[f32], shape: &[usize]| -> Result<Tensor> {
            Ok(tensor::tensor_from_slice_f32(data, shape)?.to_device(device))
        };
        let xt = to(&x, &[rows, dim])?;
        let xpt = to(&xp, &[rows, dim])?;
        let at = Tensor::from_slice(&acts)
            .view([rows as i64, machines as i64])
            .to_device(device);
        let lpt = to(&old_logp, &[rows, machines])?;
        let advt = to(&adv_n, &[rows])?;
        let rett = to(&ret, &[rows])?;
        let retxt = to(&ret_post, &[rows])?;
        let mb = if params.minibatch == 0 {
            rows
        } else {
            params.minibatch.min(rows)
        };
        let mut order: Vec<i64> = (0..rows as i64).collect();
        for _ in 0..params.epochs {
            if mb < rows {
                for i in (1..rows).rev() {
                    order.swap(i, shuffle_rng.random_range(0..=i));
                }
            }
            for chunk in order.chunks(mb) {
                let pick = |t: &Tensor| -> Tensor {
                    if mb == rows {
                        t.shallow_clone()
                    } else {
                        t.index_select(0, &Tensor::from_slice(chunk).to_device(device))
                    }
                };
                let (xb, xpb, ab, lpb, advb, retb, retxb) = (
                    pick(&xt),
                    pick(&xpt),
                    pick(&at),
                    pick(&lpt),
                    pick(&advt),
                    pick(&rett),
                    pick(&retxt),
                );
                let b = chunk.len() as i64;
                let logp_all = actor
                    .forward(&xb)
                    .view([b, machines as i64, choices as i64])
                    .log_softmax(-1, Kind::Float);
                let logp = logp_all.gather(2, &ab.unsqueeze(2), false).squeeze_dim(2);
                let ratio = (logp - lpb).exp();
                let a = advb.unsqueeze(1);
                let s1 = &ratio * &a;
                let s2 = ratio.clamp(1.0 - params.clip, 1.0 + params.clip) * &a;
                let policy_loss = -s1.minimum(&s2).mean(Kind::Float);
                let entropy = -(logp_all.exp() * &logp_all)
                    .sum_dim_intlist(Some([2i64].as_slice()), false, Kind::Float)
                    .mean(Kind::Float);
                let v = critic.forward(&xb).view([b]);
                let mut value_loss = (v - retb).square().mean(Kind::Float);
                if let Some(cp) = &critic_post {
                    let vx = cp.forward(&xpb).view([b]);
                    value_loss += (vx - retxb).square().mean(Kind::Float);
                }
                let loss = policy_loss + params.value_coef * value_loss - params.entropy * entropy;
                actor_opt.zero_grad();
                critic_opt.zero_grad();
                loss.backward();
                clip_joint(&actor_vs, &vs, params.max_grad_norm);
                actor_opt.step();
                critic_opt.step();
            }
        }
        progress.inc(1);
    }
    if curve.iter().any(|p| !p.cost.is_finite()) {
        return Err(Error::invalid(
            "training cost",
            "a non-finite episode cost",
            "finite costs (check the configuration's scale)",
        ));
    }
    Ok(PpoFit {
        policy: LotPolicy {
            actor,
            vs: actor_vs,
            env: env.clone(),
        },
        curve,
        device: format!("{device:?}"),
    })
}

/// Clips the gradient norm over the actor's and the critics' variables
/// together (the authors clip all parameters jointly).
fn clip_joint(a: &nn::VarStore, c: &nn::VarStore, max: f64) {
    tch::no_grad(|| {
        let grads: Vec<Tensor> = a
            .trainable_variables()
            .into_iter()
            .chain(c.trainable_variables())
            .map(|v| v.grad())
            .filter(|g| g.defined())
            .collect();
        if grads.is_empty() {
            return;
        }
        let norms: Vec<Tensor> = grads.iter().map(|g| g.norm()).collect();
        let total = f64::try_from(Tensor::stack(&norms, 0).norm()).unwrap_or(f64::NAN);
        let coef = max / (total + 1e-6);
        if coef < 1.0 {
            for g in &grads {
                let mut g = g.shallow_clone();
                let _ = g.g_mul_scalar_(coef);
            }
        }
    })
}
