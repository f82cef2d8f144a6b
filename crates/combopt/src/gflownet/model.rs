//! The preference-conditional GFlowNet of MOGFN-PC (Jain et al. 2023,
//! Sec. 4.1) on duality-core's tensor layer (feature `torch`).
//!
//! - Forward policy `P_F(. | s, w)`: an MLP over `[one-hot(s),
//!   thermometer(w)]` with one logit per action, masked to the allowed
//!   actions; backward policy uniform over parents (fixed, as in the
//!   paper's HyperGrid and the append-only sequences).
//! - `log Z(w)`: a second MLP over `thermometer(w)` (the paper conditions
//!   the partition function on the preference), in its own parameter group
//!   with a larger learning rate (TB practice: Malkin et al. 2022 train
//!   `log Z` at a higher rate than the policy).
//! - Conditioning ([`Conditioning`]): the vector `w` is a preference
//!   (MOGFN-PC, weighted-sum or Tchebycheff reward) or a goal direction
//!   (MOGFN-GC, focus-region reward); both are drawn from `Dirichlet(alpha)`
//!   (the authors' `focus_type = "dirichlet"` for goals) and enter the
//!   networks as their thermometer encoding.
//! - Training: each iteration samples one preference `w ~ Dirichlet(alpha)`
//!   per trajectory, rolls out a batch (with probability `explore` a
//!   uniformly random allowed action, as the paper's exploration), and
//!   takes one Adam step on the mean squared trajectory-balance
//!   discrepancy (Malkin et al. 2022, Eq. 14; conditional form, MOGFN
//!   Eq. 5) with `log R(x | w) = beta log(sum_i w_i r_i(x))`.
//!
//! Actions are drawn with our seeded generator (not libtorch's), so the
//! same seed gives the same trajectories on CPU; CUDA may differ in the
//! last bits of the logits.

use duality_core::seed::{DualityRng, Seeder};
use duality_core::tensor::default_device;
use duality_core::tensor::mlp::{Mlp, MlpConfig};
use duality_core::tensor::tch::{nn, nn::Module, Device, Kind, Tensor};
use duality_core::{Error, Result};
use rand::Rng;

use super::{
    log_reward, sample_preference, thermometer, Conditioning, Evaluated, State, Task,
    THERMOMETER_BINS,
};

/// Training parameters of [`train`].
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct TrainParams {
    /// Gradient steps.
    pub iterations: usize,
    /// Trajectories per step.
    pub batch: usize,
    /// Hidden width of the two MLPs (two hidden layers each).
    pub hidden: usize,
    /// Adam learning rate of the policy.
    pub lr: f64,
    /// Adam learning rate of `log Z(w)`.
    pub lr_logz: f64,
    /// Reward exponent `beta`.
    pub beta: f64,
    /// Floor of the scalarised reward before the power (`log R = beta
    /// log max(sum_i w_i r_i, floor)`).
    pub reward_floor: f64,
    /// Dirichlet concentration of the preferences.
    pub alpha: f64,
    /// Probability of a uniformly random allowed action while training.
    pub explore: f64,
    /// Seed (initialisation, preferences, actions).
    pub seed: u64,
    /// Reward conditioning: weighted-sum or Tchebycheff preferences
    /// (MOGFN-PC) or goal directions with focus regions (MOGFN-GC).
    #[serde(default)]
    pub conditioning: Conditioning,
}

impl TrainParams {
    fn validate(&self) -> Result<()> {
        duality_core::check::at_least("iterations", self.iterations, 1)?;
        duality_core::check::at_least("batch", self.batch, 1)?;
        duality_core::check::at_least("hidden", self.hidden, 1)?;
        duality_core::check::positive("lr", self.lr)?;
        duality_core::check::positive("lr_logz", self.lr_logz)?;
        duality_core::check::positive("beta", self.beta)?;
        duality_core::check::open_unit("reward_floor", self.reward_floor)?;
        duality_core::check::positive("alpha", self.alpha)?;
        duality_core::check::probability("explore", self.explore)?;
        self.conditioning.validate()?;
        if self.hidden > 4096 {
            return Err(Error::invalid("hidden", self.hidden, "at most 4096"));
        }
        duality_core::limits::product(&[("iterations", self.iterations), ("batch", self.batch)])?;
        Ok(())
    }
}

/// The conditional GFlowNet: policy and `log Z(w)` networks.
pub struct MoGfn {
    vs: nn::VarStore,
    policy: Mlp,
    logz: Mlp,
    task: Task,
    device: Device,
}

impl std::fmt::Debug for MoGfn {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MoGfn")
            .field("task", &self.task)
            .field("device", &self.device)
            .finish()
    }
}

/// One rolled-out batch: per step the network input, the action mask and
/// the action taken, and per trajectory its terminal state and `sum log
/// P_B`.
struct Rollout {
    inputs: Vec<f32>,
    masks: Vec<bool>,
    actions: Vec<i64>,
    owner: Vec<i64>,
    terminals: Vec<State>,
    log_pb: Vec<f64>,
}

impl MoGfn {
    /// A fresh model for `task` (libtorch's generator seeded with `seed`
    /// under a process-wide lock, so models built in parallel stay
    /// reproducible).
    ///
    /// # Errors
    /// No usable device, or a zero or absurd hidden width.
    pub fn new(task: &Task, hidden: usize, seed: u64) -> Result<Self> {
        let _guard = duality_core::tensor::lock_seeded(seed);
        let device = default_device()?;
        let vs = nn::VarStore::new(device);
        let root = vs.root();
        let cond = task.objectives() * THERMOMETER_BINS;
        let policy = MlpConfig::new(
            task.encoding_len() + cond,
            &[hidden, hidden],
            task.actions(),
        )
        .build(&(&root / "policy"))?;
        let logz =
            MlpConfig::new(cond, &[hidden, hidden], 1).build(&(root.set_group(1) / "logz"))?;
        Ok(MoGfn {
            vs,
            policy,
            logz,
            task: task.clone(),
            device,
        })
    }

    /// The task the model generates for.
    pub fn task(&self) -> &Task {
        &self.task
    }

    /// Number of trainable parameters.
    pub fn parameters(&self) -> usize {
        self.vs
            .trainable_variables()
            .iter()
            .map(|t| t.numel())
            .sum()
    }

    fn input(&self, s: &State, cond: &[f32], out: &mut Vec<f32>) {
        let start = out.len();
        out.resize(start + self.task.encoding_len(), 0.0);
        self.task.encode(s, &mut out[start..]);
        out.extend_from_slice(cond);
    }

    fn width(&self) -> usize {
        self.task.encoding_len() + self.task.objectives() * THERMOMETER_BINS
    }

    /// Masked log-probabilities `[n, actions]` of the rows of `inputs`.
    fn log_probs(&self, inputs: &[f32], masks: &[bool]) -> Tensor {
        let a = self.task.actions() as i64;
        let n = (masks.len() / a as usize) as i64;
        let x = Tensor::from_slice(inputs)
            .view([n, self.width() as i64])
            .to_device(self.device);
        let m: Vec<u8> = masks.iter().map(|&b| u8::from(!b)).collect();
        let blocked = Tensor::from_slice(&m)
            .view([n, a])
            .to_kind(Kind::Bool)
            .to_device(self.device);
        self.policy
            .forward(&x)
            .masked_fill(&blocked, -1e9)
            .log_softmax(-1, Kind::Float)
    }

    /// `P_F(. | s, w)` over the actions (zero where not allowed).
    ///
    /// # Errors
    /// A preference of the wrong length, or a torch error.
    pub fn action_probs(&self, s: &State, w: &[f64]) -> Result<Vec<f64>> {
        duality_core::check::same_len("preference", w.len(), "objectives", self.task.objectives())?;
        let mut inp = Vec::new();
        self.input(s, &thermometer(w), &mut inp);
        let mask = self.task.mask(s);
        let lp = duality_core::tensor::tch::no_grad(|| self.log_probs(&inp, &mask));
        let v = duality_core::tensor::convert::tensor_to_vec_f64(&lp.exp().view([-1]))?;
        Ok(v.into_iter()
            .zip(&mask)
            .map(|(p, &ok)| if ok { p } else { 0.0 })
            .collect())
    }

    /// `log Z(w)`.
    ///
    /// # Errors
    /// A preference of the wrong length, or a torch error.
    pub fn log_z(&self, w: &[f64]) -> Result<f64> {
        duality_core::check::same_len("preference", w.len(), "objectives", self.task.objectives())?;
        let t = Tensor::from_slice(&thermometer(w))
            .view([1, -1])
            .to_device(self.device);
        Ok(duality_core::tensor::tch::no_grad(|| self.logz.forward(&t)).double_value(&[0, 0]))
    }

    /// Rolls out one trajectory per preference (`explore`: probability of a
    /// uniformly random allowed action).
    fn rollout(&self, prefs: &[Vec<f64>], explore: f64, rng: &mut DualityRng) -> Result<Rollout> {
        let task = &self.task;
        let conds: Vec<Vec<f32>> = prefs.iter().map(|w| thermometer(w)).collect();
        let mut states: Vec<State> = prefs.iter().map(|_| task.initial()).collect();
        let mut active: Vec<usize> = (0..prefs.len()).collect();
        let mut out = Rollout {
            inputs: Vec::new(),
            masks: Vec::new(),
            actions: Vec::new(),
            owner: Vec::new(),
            terminals: vec![Vec::new(); prefs.len()],
            log_pb: vec![0.0; prefs.len()],
        };
        let a_count = task.actions();
        for _ in 0..task.max_steps() {
            if active.is_empty() {
                break;
            }
            let mut inp = Vec::with_capacity(active.len() * self.width());
            let mut masks = Vec::with_capacity(active.len() * a_count);
            for &i in &active {
                self.input(&states[i], &conds[i], &mut inp);
                masks.extend(task.mask(&states[i]));
            }
            let lp = duality_core::tensor::tch::no_grad(|| self.log_probs(&inp, &masks));
            let probs = duality_core::tensor::convert::tensor_to_vec_f64(&lp.exp().view([-1]))?;
            let mut next = Vec::with_capacity(active.len());
            for (r, &i) in active.iter().enumerate() {
                let mask = &masks[r * a_count..(r + 1) * a_count];
                let allowed: Vec<usize> = (0..a_count).filter(|&a| mask[a]).collect();
                let a = if rng.random::<f64>() < explore {
                    allowed[rng.random_range(0..allowed.len())]
                } else {
                    let u: f64 = rng.random();
                    let row = &probs[r * a_count..(r + 1) * a_count];
                    let total: f64 = allowed.iter().map(|&a| row[a]).sum();
                    let mut acc = 0.0;
                    let mut pick = *allowed.last().unwrap_or(&task.stop());
                    for &a in &allowed {
                        acc += row[a] / total;
                        if u < acc {
                            pick = a;
                            break;
                        }
                    }
                    pick
                };
                out.inputs
                    .extend_from_slice(&inp[r * self.width()..(r + 1) * self.width()]);
                out.masks.extend_from_slice(mask);
                out.actions.push(a as i64);
                out.owner.push(i as i64);
                if a == task.stop() {
                    out.terminals[i] = states[i].clone();
                } else {
                    let s = task.step(&states[i], a);
                    out.log_pb[i] -= (task.parents(&s) as f64).ln();
                    states[i] = s;
                    next.push(i);
                }
            }
            active = next;
        }
        Ok(out)
    }

    /// One terminal state per preference, sampled on-policy.
    ///
    /// # Errors
    /// A preference of the wrong length, or a torch error.
    pub fn sample(&self, prefs: &[Vec<f64>], rng: &mut DualityRng) -> Result<Vec<State>> {
        for w in prefs {
            duality_core::check::same_len(
                "preference",
                w.len(),
                "objectives",
                self.task.objectives(),
            )?;
        }
        Ok(self.rollout(prefs, 0.0, rng)?.terminals)
    }

    /// Mean squared trajectory-balance discrepancy of a rollout (a graph
    /// for backpropagation) and the per-trajectory discrepancies.
    fn tb_loss(
        &self,
        prefs: &[Vec<f64>],
        ro: &Rollout,
        log_r: &[f64],
    ) -> Result<(Tensor, Vec<f64>)> {
        let b = prefs.len() as i64;
        let lp = self.log_probs(&ro.inputs, &ro.masks);
        let actions = Tensor::from_slice(&ro.actions).to_device(self.device);
        let owner = Tensor::from_slice(&ro.owner).to_device(self.device);
        let taken = lp.gather(1, &actions.view([-1, 1]), false).view([-1]);
        let sum_pf = Tensor::zeros([b], (Kind::Float, self.device)).index_add(0, &owner, &taken);
        let cond: Vec<f32> = prefs.iter().flat_map(|w| thermometer(w)).collect();
        let cond = Tensor::from_slice(&cond)
            .view([b, -1])
            .to_device(self.device);
        let log_z = self.logz.forward(&cond).view([-1]);
        let rest: Vec<f32> = log_r
            .iter()
            .zip(&ro.log_pb)
            .map(|(r, pb)| (r + pb) as f32)
            .collect();
        let rest = Tensor::from_slice(&rest).to_device(self.device);
        let delta = log_z + sum_pf - rest;
        let d = duality_core::tensor::convert::tensor_to_vec_f64(&delta.detach())?;
        Ok((delta.square().mean(Kind::Float), d))
    }

    /// The trajectory-balance discrepancy of the model on given
    /// trajectories (action lists from `s_0`, stop included), for checks.
    ///
    /// # Errors
    /// An action not allowed where it is taken, a trajectory without stop,
    /// or a torch error.
    pub fn discrepancy(&self, w: &[f64], actions: &[usize], beta: f64) -> Result<f64> {
        let task = &self.task;
        let cond = thermometer(w);
        let mut ro = Rollout {
            inputs: Vec::new(),
            masks: Vec::new(),
            actions: Vec::new(),
            owner: Vec::new(),
            terminals: vec![Vec::new()],
            log_pb: vec![0.0],
        };
        let mut s = task.initial();
        for (k, &a) in actions.iter().enumerate() {
            let mask = task.mask(&s);
            if a >= task.actions() || !mask[a] {
                return Err(Error::invalid(
                    format!("actions[{k}]"),
                    a,
                    "an allowed action",
                ));
            }
            self.input(&s, &cond, &mut ro.inputs);
            ro.masks.extend(mask);
            ro.actions.push(a as i64);
            ro.owner.push(0);
            if a == task.stop() {
                if k + 1 != actions.len() {
                    return Err(Error::invalid(
                        "actions",
                        format!("{actions:?}"),
                        "stop last",
                    ));
                }
                ro.terminals[0] = s.clone();
                break;
            }
            s = task.step(&s, a);
            ro.log_pb[0] -= (task.parents(&s) as f64).ln();
        }
        if actions.last() != Some(&task.stop()) {
            return Err(Error::invalid(
                "actions",
                format!("{actions:?}"),
                "a trajectory ending with stop",
            ));
        }
        let lr = log_reward(&task.evaluate(&ro.terminals[0]), w, beta);
        let (_, d) =
            duality_core::tensor::tch::no_grad(|| self.tb_loss(&[w.to_vec()], &ro, &[lr]))?;
        Ok(d[0])
    }
}

/// What training did.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct TrainReport {
    /// Mean TB loss over the first tenth of the steps.
    pub first_loss: f64,
    /// Mean TB loss over the last tenth of the steps.
    pub last_loss: f64,
    /// Every terminal state sampled while training (evaluations spent).
    pub evaluated: Evaluated,
}

/// Trains a conditional GFlowNet on `task` with trajectory balance.
///
/// # Errors
/// Invalid parameters or a torch error.
pub fn train(task: &Task, p: &TrainParams) -> Result<(MoGfn, TrainReport)> {
    p.validate()?;
    let model = MoGfn::new(task, p.hidden, p.seed)?;
    let mut opt = duality_core::tensor::optim::OptimizerConfig::adam(p.lr).build(&model.vs)?;
    opt.set_lr_group(1, p.lr_logz);
    let mut rng = Seeder::new(p.seed).rng(1);
    let k = task.objectives();
    let mut losses = Vec::with_capacity(p.iterations);
    let mut evaluated = Evaluated::default();
    for _ in 0..p.iterations {
        let prefs: Vec<Vec<f64>> = (0..p.batch)
            .map(|_| sample_preference(k, p.alpha, &mut rng))
            .collect();
        let ro = model.rollout(&prefs, p.explore, &mut rng)?;
        let mut log_r = Vec::with_capacity(p.batch);
        for (x, w) in ro.terminals.iter().zip(&prefs) {
            let r = task.evaluate(x);
            log_r.push(p.conditioning.log_reward(&r, w, p.beta, p.reward_floor));
            evaluated.states.push(x.clone());
            evaluated.objectives.push(r);
        }
        let (loss, _) = model.tb_loss(&prefs, &ro, &log_r)?;
        opt.zero_grad();
        loss.backward();
        opt.step();
        losses.push(loss.double_value(&[]));
    }
    let tenth = (p.iterations / 10).max(1);
    let mean = |xs: &[f64]| xs.iter().sum::<f64>() / xs.len() as f64;
    let report = TrainReport {
        first_loss: mean(&losses[..tenth]),
        last_loss: mean(&losses[losses.len() - tenth..]),
        evaluated,
    };
    Ok((model, report))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::gflownet::terminal_distribution;

    fn tiny() -> Task {
        Task::hypergrid(3, 2, &["branin".into(), "currin".into()]).unwrap()
    }

    #[test]
    fn discrepancy_matches_the_hand_computation() {
        let task = tiny();
        let m = MoGfn::new(&task, 16, 5).unwrap();
        let w = [0.3, 0.7];
        // (0,0) -> (0,1) -> (1,1) -> stop.
        let traj = [1usize, 0, 2];
        let s0 = task.initial();
        let s1 = task.step(&s0, 1);
        let s2 = task.step(&s1, 0);
        let lpf = [
            m.action_probs(&s0, &w).unwrap()[1].ln(),
            m.action_probs(&s1, &w).unwrap()[0].ln(),
            m.action_probs(&s2, &w).unwrap()[2].ln(),
        ];
        let lpb = [-(1f64).ln(), -(2f64).ln(), 0.0];
        let lr = log_reward(&task.evaluate(&s2), &w, 3.0);
        let expected = crate::gflownet::trajectory_balance(m.log_z(&w).unwrap(), &lpf, lr, &lpb);
        let got = m.discrepancy(&w, &traj, 3.0).unwrap();
        assert!((got - expected).abs() < 1e-4, "{got} vs {expected}");
        assert!(m.discrepancy(&w, &[1, 1, 1], 3.0).is_err());
        assert!(m.discrepancy(&w, &[1], 3.0).is_err());
    }

    #[test]
    fn trained_sampler_is_reward_proportional_for_each_preference() {
        let task = tiny();
        let p = TrainParams {
            iterations: 400,
            batch: 32,
            hidden: 32,
            lr: 1e-2,
            lr_logz: 1e-1,
            beta: 2.0,
            reward_floor: crate::gflownet::REWARD_FLOOR,
            alpha: 1.0,
            explore: 0.1,
            seed: 11,
            conditioning: Conditioning::WeightedSum,
        };
        let (m, rep) = train(&task, &p).unwrap();
        assert!(rep.last_loss < rep.first_loss, "{rep:?}");
        assert_eq!(rep.evaluated.states.len(), 400 * 32);
        for w in [[0.5, 0.5], [0.9, 0.1], [0.2, 0.8]] {
            let d = terminal_distribution(&task, |s| m.action_probs(s, &w)).unwrap();
            let rewards: Vec<f64> = d
                .iter()
                .map(|(x, _)| log_reward(&task.evaluate(x), &w, p.beta).exp())
                .collect();
            let z: f64 = rewards.iter().sum();
            let tv: f64 = d
                .iter()
                .zip(&rewards)
                .map(|((_, q), r)| (q - r / z).abs())
                .sum::<f64>()
                / 2.0;
            assert!(tv < 0.05, "w = {w:?}: total variation {tv}");
            // log Z(w) approaches log sum R.
            assert!(
                (m.log_z(&w).unwrap() - z.ln()).abs() < 0.15,
                "{} vs {}",
                m.log_z(&w).unwrap(),
                z.ln()
            );
        }
    }
}
