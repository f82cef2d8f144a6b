//! Stock-augmented deep distributional agents on tch (feature `torch`):
//! QR-DQN and C51 heads over `(features, stock)`, acting greedily on a
//! [`StockObjective`] of stock plus predicted return (Pires, Rowland, Borsa
//! et al., "Optimizing Return Distributions with Distributional Dynamic
//! Programming", 2025, §6, the DηN agent).
//!
//! **Sources followed.** The paper's §6 text and DeepMind's agent code were
//! not reachable from this project (only the abstract, which says the agent
//! "combines DQN and the core ideas of distributional DP"). What is built is
//! therefore the stock augmentation of the crate's tabular DP (same
//! objectives, same stock recursion, same greedy rule) on top of the two
//! deep distributional agents followed exactly:
//!
//! - **QR-DQN** (Dabney, Rowland, Bellemare & Munos 2018, "Distributional
//!   reinforcement learning with quantile regression", Alg. 1 and eq. (9)-(10)):
//!   `N` quantile locations per action at the midpoints
//!   `tau_i = (2i - 1) / 2N`, trained by the quantile Huber loss
//!   `sum_i E_j [ |tau_i - 1{u_ij < 0}| L_kappa(u_ij) / kappa ]` with
//!   `u_ij = T theta_j - theta_i` ([`quantile_huber_loss`]);
//! - **C51** (Bellemare, Dabney & Munos 2017, "A distributional perspective
//!   on reinforcement learning", Alg. 1): a softmax over `K` fixed atoms,
//!   the target `r + gamma z_k` projected onto the support (the crate's
//!   Cramér projection [`crate::dist::cramer_project`], which is Alg. 1's
//!   projection), trained by cross-entropy ([`categorical_target`]).
//!
//! Both use DQN's machinery (Mnih et al. 2015): a replay buffer sampled
//! uniformly, a target network copied every `target_period` steps, the
//! target's greedy next action (as in both papers), epsilon-greedy
//! exploration decayed linearly, Adam through duality-core's
//! [`OptimizerConfig`].
//!
//! **Stock augmentation** (the tabular DP's, see [`crate::stock`]): the
//! network's input is the environment's features and the stock `c`
//! (rescaled); its output is the law of the return-to-go `G_t` from that
//! augmented state. The stock follows `C_{t+1} = (C_t + R_{t+1}) / gamma`
//! ([`crate::stock::next_stock`]). Acting and the target's next action are
//! `argmax_a E f(c + Z(x, c, a))` with the objective's utility `f`
//! ([`StockObjective::expected_utility`], the same call the tabular greedy
//! step makes). Episodes start from a stock drawn uniformly from the
//! negated start-return range, so one network serves every start stock.
//! The executed policy starts at the objective's initial stock: fixed (the
//! threshold's `-x`, 0 for expectations) or, for CVaR's Rockafellar-Uryasev
//! form, the best of 201 candidate stocks by the **network's own**
//! prediction `value_from_inner(c0, max_a E f(c0 + Z))` ([`DeepAgent::start_stock`]).
//!
//! Quantile outputs are in units of the return range (`theta = center +
//! scale * output`, the targets rescaled the same way), so `kappa` is a
//! fraction of the return range's half-width; Dabney et al.'s `kappa = 1`
//! is in clipped-reward units, and a `kappa` near the return scale would make
//! the loss quadratic (expectiles rather than quantiles).
//!
//! Parameters are initialised from the seed's own stream (not libtorch's
//! global generator) and every random draw (exploration, replay sampling,
//! environment, initial stocks) comes from [`Seeder`] streams: the same seed
//! gives the same parameters on one device.

use std::cell::RefCell;
use std::fmt;
use std::str::FromStr;

use duality_core::config::Validate;
use duality_core::progress::Progress;
use duality_core::seed::Seeder;
use duality_core::tensor::{self, tch, Mlp, MlpConfig, OptimizerConfig};
use duality_core::{Error, Result};
use rand::Rng;
use serde::Serialize;
use tch::nn::{self, Module};
use tch::{Device, Kind, Tensor};

use crate::dist::{cramer_project, uniform_support, FiniteSupport, Representation};
use crate::mdp::FiniteMdp;
use crate::objective::{InitialStock, Objective};
use crate::solve::{solve, SolveSpec, StockModel};
use crate::stock::{executed_law, next_stock, AugmentedPolicy};

pub mod env;

pub use env::{with_horizon, DeepEnv, Inventory, MdpEnv};

/// The distributional head.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Head {
    /// QR-DQN: quantile locations.
    Qr,
    /// C51: categorical logits on a fixed support.
    C51,
}

impl fmt::Display for Head {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Head::Qr => "qr",
            Head::C51 => "c51",
        })
    }
}

impl FromStr for Head {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        match s.trim().to_ascii_lowercase().as_str() {
            "qr" | "qr-dqn" => Ok(Head::Qr),
            "c51" | "categorical" => Ok(Head::C51),
            other => Err(Error::invalid("head", other, "qr | c51")),
        }
    }
}

/// Training settings of a deep agent (checked by [`Validate`] once, when
/// training starts).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DeepParams {
    /// QR-DQN or C51.
    pub head: Head,
    /// Quantiles (QR) or atoms (C51) per action.
    pub atoms: usize,
    /// Hidden widths of the MLP.
    pub hidden: Vec<usize>,
    /// Environment steps (one gradient step each once `learn_start` is reached).
    pub steps: usize,
    /// Minibatch size.
    pub batch: usize,
    /// Replay capacity (transitions; oldest overwritten).
    pub buffer: usize,
    /// Adam learning rate.
    pub lr: f64,
    /// Steps between target-network copies.
    pub target_period: usize,
    /// Exploration rate at the start ...
    pub eps_start: f64,
    /// ... decayed linearly to this ...
    pub eps_end: f64,
    /// ... over this fraction of the steps.
    pub eps_fraction: f64,
    /// Transitions collected before the first gradient step.
    pub learn_start: usize,
    /// Quantile Huber threshold in units of the return range's half-width (QR).
    pub kappa: f64,
    /// Seed of everything random.
    pub seed: u64,
}

impl DeepParams {
    /// Defaults for `head`: 32 quantiles or 51 atoms, two hidden layers of
    /// 64, batch 64, replay 20,000, lr 1e-3, target copy every 200 steps,
    /// epsilon 1 -> 0.05 over half the steps, learning after 500
    /// transitions (at most a tenth of the steps), kappa 0.02.
    pub fn new(head: Head, steps: usize, seed: u64) -> Self {
        DeepParams {
            head,
            atoms: match head {
                Head::Qr => 32,
                Head::C51 => 51,
            },
            hidden: vec![64, 64],
            steps,
            batch: 64,
            buffer: 20_000,
            lr: 1e-3,
            target_period: 200,
            eps_start: 1.0,
            eps_end: 0.05,
            eps_fraction: 0.5,
            learn_start: 500.min(steps / 10).max(1),
            kappa: 0.02,
            seed,
        }
    }
}

const MAX_WIDTH: usize = 4096;
const MAX_ATOMS: usize = 1024;
const MAX_BUFFER: usize = 10_000_000;
const MAX_STEPS: usize = 100_000_000;

impl Validate for DeepParams {
    /// Steps in `1..=1e8`; atoms in `1..=1024` (C51: at least 2); widths in
    /// `1..=4096`; batch >= 1; buffer in `batch..=1e7`; lr > 0; target
    /// period >= 1; epsilons in [0, 1]; fraction in (0, 1]; kappa >= 0.
    fn validate(&self) -> Result<()> {
        if self.steps == 0 || self.steps > MAX_STEPS {
            return Err(Error::invalid(
                "steps",
                self.steps,
                format!("a step count in 1..={MAX_STEPS}"),
            ));
        }
        let min_atoms = if self.head == Head::C51 { 2 } else { 1 };
        if self.atoms < min_atoms || self.atoms > MAX_ATOMS {
            return Err(Error::invalid(
                "atoms",
                self.atoms,
                format!("in {min_atoms}..={MAX_ATOMS} for the {} head", self.head),
            ));
        }
        for (i, &h) in self.hidden.iter().enumerate() {
            if h == 0 || h > MAX_WIDTH {
                return Err(Error::invalid(
                    format!("hidden[{i}]"),
                    h,
                    format!("a width in 1..={MAX_WIDTH}"),
                ));
            }
        }
        duality_core::check::at_least("batch", self.batch, 1)?;
        if self.buffer < self.batch || self.buffer > MAX_BUFFER {
            return Err(Error::invalid(
                "buffer",
                self.buffer,
                format!("in {}..={MAX_BUFFER} (at least the batch)", self.batch),
            ));
        }
        duality_core::check::positive("lr", self.lr)?;
        duality_core::check::at_least("target period", self.target_period, 1)?;
        duality_core::check::probability("eps start", self.eps_start)?;
        duality_core::check::probability("eps end", self.eps_end)?;
        if !(self.eps_fraction > 0.0 && self.eps_fraction <= 1.0) {
            return Err(Error::invalid(
                "eps fraction",
                self.eps_fraction,
                "a fraction in (0, 1]",
            ));
        }
        if !(self.kappa.is_finite() && self.kappa >= 0.0) {
            return Err(Error::invalid("kappa", self.kappa, "a threshold >= 0"));
        }
        Ok(())
    }
}

/// The quantile Huber loss of QR-DQN (Dabney et al. 2018, eq. (9)-(10)):
/// `pred` holds `[B, N]` quantile locations at `tau_i = (2i - 1) / 2N`,
/// `target` `[B, M]` target samples; returns the batch mean of
/// `sum_i mean_j |tau_i - 1{u_ij < 0}| L_kappa(u_ij) / kappa` with
/// `u_ij = target_j - pred_i` and the Huber loss `L_kappa` (`kappa = 0`:
/// the plain quantile loss `|tau_i - 1{u_ij < 0}| |u_ij|`).
pub fn quantile_huber_loss(pred: &Tensor, target: &Tensor, kappa: f64) -> Result<Tensor> {
    let (ps, ts) = (pred.size(), target.size());
    if ps.len() != 2 || ts.len() != 2 || ps[0] != ts[0] {
        return Err(Error::Shape {
            what: "quantile Huber loss: pred [B, N] and target [B, M]".into(),
            expected: ps.iter().map(|&d| d as usize).collect(),
            got: ts.iter().map(|&d| d as usize).collect(),
        });
    }
    if !(kappa.is_finite() && kappa >= 0.0) {
        return Err(Error::invalid("kappa", kappa, "a threshold >= 0"));
    }
    let n = ps[1];
    let (kind, device) = (pred.kind(), pred.device());
    // u[b, i, j] = target[b, j] - pred[b, i].
    let u = target.unsqueeze(1) - pred.unsqueeze(2);
    let abs = u.abs();
    let elementwise = if kappa > 0.0 {
        let small = abs.le(kappa).to_kind(kind);
        let quad = &u * &u * 0.5;
        let lin = (&abs - 0.5 * kappa) * kappa;
        (&small * quad + (Tensor::ones_like(&small) - &small) * lin) / kappa
    } else {
        abs
    };
    let tau = (Tensor::arange(n, (kind, device)) * 2.0 + 1.0) / (2.0 * n as f64);
    let weight = (tau.view([1, n, 1]) - u.lt(0.0).to_kind(kind)).abs();
    let per_sample = (weight * elementwise)
        .mean_dim(Some([2i64].as_slice()), false, kind)
        .sum_dim_intlist(Some([1i64].as_slice()), false, kind);
    Ok(per_sample.mean(kind))
}

/// C51's target distribution (Bellemare et al. 2017, Alg. 1): the atoms
/// `r + gamma z_k` with the next state's probabilities `next_probs`
/// (a terminal transition: one atom at `r`), projected onto `support` by
/// the Cramér projection [`cramer_project`].
pub fn categorical_target(
    support: &[f64],
    reward: f64,
    gamma: f64,
    next_probs: &[f64],
    done: bool,
) -> Vec<f64> {
    if done {
        return cramer_project(support, &[(reward, 1.0)]);
    }
    let pairs: Vec<(f64, f64)> = support
        .iter()
        .zip(next_probs)
        .map(|(&z, &p)| (reward + gamma * z, p))
        .collect();
    cramer_project(support, &pairs)
}

/// The value map of the head: QR outputs are `center + scale * output`,
/// C51 outputs are logits on `support`.
#[derive(Debug, Clone, PartialEq)]
struct ValueMap {
    head: Head,
    atoms: usize,
    center: f64,
    scale: f64,
    support: Vec<f64>,
}

impl ValueMap {
    /// The weighted atoms of one action from its `atoms` raw outputs.
    fn pairs(&self, raw: &[f32], out: &mut Vec<(f64, f64)>) {
        out.clear();
        match self.head {
            Head::Qr => {
                let w = 1.0 / self.atoms as f64;
                out.extend(
                    raw.iter()
                        .map(|&u| (self.center + self.scale * u as f64, w)),
                );
            }
            Head::C51 => {
                let m = raw.iter().fold(f32::NEG_INFINITY, |m, &x| m.max(x)) as f64;
                let e: Vec<f64> = raw.iter().map(|&x| (x as f64 - m).exp()).collect();
                let total: f64 = e.iter().sum();
                out.extend(self.support.iter().zip(&e).map(|(&z, &p)| (z, p / total)));
            }
        }
    }
}

/// A trained agent: the online network, its head and the objective it acts on.
pub struct DeepAgent {
    net: Mlp,
    vs: nn::VarStore,
    map: ValueMap,
    objective: Objective,
    n_actions: usize,
    feature_dim: usize,
    stock_center: f64,
    stock_scale: f64,
    stock_range: (f64, f64),
}

impl fmt::Debug for DeepAgent {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DeepAgent")
            .field("head", &self.map.head)
            .field("atoms", &self.map.atoms)
            .field("objective", &self.objective.to_string())
            .field("n_actions", &self.n_actions)
            .finish()
    }
}

/// The argmax with ties to the lowest index (relative tolerance 1e-12, as
/// the tabular greedy step).
fn argmax(scores: &[f64]) -> usize {
    let mut best = 0;
    for (a, &s) in scores.iter().enumerate().skip(1) {
        if s > scores[best] + 1e-12 * (1.0 + scores[best].abs()) {
            best = a;
        }
    }
    best
}

impl DeepAgent {
    /// The objective it acts on.
    pub fn objective(&self) -> &Objective {
        &self.objective
    }

    /// The head.
    pub fn head(&self) -> Head {
        self.map.head
    }

    /// The network's variables (for checkpoints:
    /// [`duality_core::tensor::save_checkpoint`]).
    pub fn var_store(&self) -> &nn::VarStore {
        &self.vs
    }

    /// All parameters, flattened in name order (for reproducibility checks).
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

    fn input_row(&self, features: &[f32], c: f64, row: &mut Vec<f32>) {
        row.clear();
        row.extend_from_slice(features);
        row.push(((c - self.stock_center) / self.stock_scale) as f32);
    }

    /// The predicted return-to-go law of every action at features
    /// `features` and stock `c`, as weighted atoms.
    pub fn distributions(&self, features: &[f32], c: f64) -> Result<Vec<Vec<(f64, f64)>>> {
        duality_core::check::same_len("features", features.len(), "feature_dim", self.feature_dim)?;
        let mut row = Vec::with_capacity(self.feature_dim + 1);
        self.input_row(features, c, &mut row);
        let x = tensor::tensor_from_slice_f32(&row, &[1, row.len()])?.to_device(self.vs.device());
        let out = tch::no_grad(|| self.net.forward(&x));
        let raw = tensor::tensor_to_vec_f32(&out)?;
        let k = self.map.atoms;
        let mut laws = Vec::with_capacity(self.n_actions);
        for a in 0..self.n_actions {
            let mut pairs = Vec::with_capacity(k);
            self.map.pairs(&raw[a * k..(a + 1) * k], &mut pairs);
            laws.push(pairs);
        }
        Ok(laws)
    }

    /// The greedy action at `(features, c)` and its score
    /// `E f(c + Z(x, c, a))`.
    pub fn greedy(&self, features: &[f32], c: f64) -> Result<(usize, f64)> {
        let laws = self.distributions(features, c)?;
        let scores: Vec<f64> = laws
            .iter()
            .map(|p| self.objective.expected_utility(c, p))
            .collect();
        let a = argmax(&scores);
        Ok((a, scores[a]))
    }

    /// The executed policy's initial stock and the network's predicted
    /// objective value there, at start features `features`: the objective's
    /// fixed stock, or (outer search, CVaR) the best of 201 stocks over the
    /// training range by `value_from_inner(c0, max_a E f(c0 + Z))`.
    pub fn start_stock(&self, features: &[f32]) -> Result<(f64, f64)> {
        match self.objective.initial_stock() {
            InitialStock::Fixed(c0) => {
                let (_, inner) = self.greedy(features, c0)?;
                Ok((c0, self.objective.value_from_inner(c0, inner)))
            }
            _ => {
                let (lo, hi) = self.stock_range;
                let mut best: Option<(f64, f64)> = None;
                for i in 0..=200 {
                    let c0 = lo + (hi - lo) * i as f64 / 200.0;
                    let (_, inner) = self.greedy(features, c0)?;
                    let v = self.objective.value_from_inner(c0, inner);
                    if best.is_none_or(|(_, b)| v > b + 1e-12 * (1.0 + b.abs())) {
                        best = Some((c0, v));
                    }
                }
                Ok(best.unwrap_or((lo, f64::NAN)))
            }
        }
    }
}

/// What [`train`] returns.
#[derive(Debug)]
pub struct DeepFit {
    /// The trained agent.
    pub agent: DeepAgent,
    /// Mean training loss over the last tenth of the gradient steps.
    pub tail_loss: f64,
    /// Episodes started.
    pub episodes: usize,
    /// The device it trained on.
    pub device: String,
}

/// The replay buffer: rows (features with the stock appended) before and
/// after each transition, the stock, action, reward and end flag.
struct Replay {
    capacity: usize,
    dim: usize,
    x: Vec<f32>,
    c: Vec<f64>,
    a: Vec<i64>,
    r: Vec<f64>,
    x2: Vec<f32>,
    done: Vec<bool>,
    len: usize,
    next: usize,
}

impl Replay {
    fn new(capacity: usize, dim: usize) -> Self {
        Replay {
            capacity,
            dim,
            x: vec![0.0; capacity * dim],
            c: vec![0.0; capacity],
            a: vec![0; capacity],
            r: vec![0.0; capacity],
            x2: vec![0.0; capacity * dim],
            done: vec![false; capacity],
            len: 0,
            next: 0,
        }
    }

    fn push(&mut self, x: &[f32], c: f64, a: usize, r: f64, x2: &[f32], done: bool) {
        let i = self.next;
        self.x[i * self.dim..(i + 1) * self.dim].copy_from_slice(x);
        self.x2[i * self.dim..(i + 1) * self.dim].copy_from_slice(x2);
        self.c[i] = c;
        self.a[i] = a as i64;
        self.r[i] = r;
        self.done[i] = done;
        self.next = (i + 1) % self.capacity;
        self.len = (self.len + 1).min(self.capacity);
    }
}

/// Overwrites every variable of `vs` with draws of the seed's own stream:
/// weights and biases uniform on `+-1/sqrt(fan_in)` (libtorch's default
/// linear initialisation, drawn from [`Seeder`] so that no other code's use
/// of libtorch's global generator can change it).
pub(crate) fn init_from_seed(vs: &nn::VarStore, seed: u64) -> Result<()> {
    let vars = vs.variables();
    let mut names: Vec<&String> = vars.keys().collect();
    names.sort();
    let mut rng = Seeder::new(seed).rng(1);
    for name in names {
        let t = &vars[name];
        let fan_in = if name.ends_with(".weight") {
            t.size()[1]
        } else {
            let w = name.trim_end_matches(".bias").to_string() + ".weight";
            vars.get(&w).map(|w| w.size()[1]).unwrap_or(1)
        };
        let bound = 1.0 / (fan_in.max(1) as f64).sqrt();
        let numel: i64 = t.size().iter().product();
        let values: Vec<f32> = (0..numel)
            .map(|_| rng.random_range(-bound..bound) as f32)
            .collect();
        let src = Tensor::from_slice(&values)
            .view(t.size().as_slice())
            .to_device(t.device());
        tch::no_grad(|| {
            let mut t = t.shallow_clone();
            t.copy_(&src);
        });
    }
    Ok(())
}

/// Runs libtorch's CPU kernels on one thread while alive, restoring the
/// previous count on drop: the networks are tiny and the per-step batches
/// small, and on a loaded 2-core machine libtorch's intra-op thread pool
/// made training six times slower (13.8 s vs 2.2 s for 600 steps here).
/// One thread also fixes the summation order, so results do not depend on
/// the machine's core count.
///
/// libtorch's count is per thread (`at::set_num_threads` sets the calling
/// thread's OpenMP and MKL counts), so every training thread takes its own
/// guard and restores its own count. (A process-wide, reference-counted
/// guard left the second of two parallel seeds (#24) on whatever count its
/// rayon thread had from earlier work: its results then depended on
/// scheduling.)
pub(crate) struct OneThread(i32);

impl OneThread {
    pub(crate) fn new() -> Self {
        let before = tch::get_num_threads();
        tch::set_num_threads(1);
        OneThread(before)
    }
}

impl Drop for OneThread {
    fn drop(&mut self) {
        tch::set_num_threads(self.0.max(1));
    }
}

/// Trains a stock-augmented deep agent for `objective` on `env` (see the
/// module documentation), on duality-core's default device
/// (`DUALITY_DEVICE`, else CUDA if available, else CPU).
pub fn train<E: DeepEnv>(
    env: &E,
    objective: &Objective,
    params: &DeepParams,
    progress: &Progress,
) -> Result<DeepFit> {
    train_on(env, objective, params, tensor::default_device()?, progress)
}

/// [`train`] on a given device (on the CPU with one libtorch thread).
pub fn train_on<E: DeepEnv>(
    env: &E,
    objective: &Objective,
    params: &DeepParams,
    device: Device,
    progress: &Progress,
) -> Result<DeepFit> {
    params.validate()?;
    objective.check_optimisable(env.gamma())?;
    let _threads = (device == Device::Cpu).then(OneThread::new);
    let (n_actions, dim, gamma) = (env.n_actions(), env.feature_dim(), env.gamma());
    duality_core::check::at_least("actions", n_actions, 1)?;
    let k = params.atoms;
    let (v_lo, v_hi) = env.value_range();
    let (g_lo, g_hi) = env.start_return_range();
    for (name, v) in [
        ("value range lo", v_lo),
        ("value range hi", v_hi),
        ("start return lo", g_lo),
        ("start return hi", g_hi),
    ] {
        duality_core::check::finite_scalar(name, v)?;
    }
    let support = match params.head {
        Head::C51 => uniform_support(v_lo, v_hi, k)?,
        Head::Qr => Vec::new(),
    };
    let map = ValueMap {
        head: params.head,
        atoms: k,
        center: 0.5 * (v_lo + v_hi),
        scale: (0.5 * (v_hi - v_lo)).max(1e-9),
        support,
    };
    let stock_range = (-g_hi, -g_lo);
    let stock_center = 0.5 * (stock_range.0 + stock_range.1);
    let stock_scale = (0.5 * (stock_range.1 - stock_range.0)).max(1e-9);

    tensor::manual_seed(params.seed);
    let config = MlpConfig::new(dim + 1, &params.hidden, n_actions * k);
    let vs = nn::VarStore::new(device);
    let net = config.build(&vs.root())?;
    init_from_seed(&vs, params.seed)?;
    let mut target_vs = nn::VarStore::new(device);
    let target_net = config.build(&target_vs.root())?;
    target_vs.copy(&vs)?;
    let mut adam = OptimizerConfig::adam(params.lr).build(&vs)?;

    let mut agent = DeepAgent {
        net,
        vs,
        map,
        objective: objective.clone(),
        n_actions,
        feature_dim: dim,
        stock_center,
        stock_scale,
        stock_range,
    };
    let seeder = Seeder::new(params.seed);
    let mut env_rng = seeder.rng(2);
    let mut act_rng = seeder.rng(3);
    let mut replay_rng = seeder.rng(4);
    let mut replay = Replay::new(params.buffer.min(params.steps.max(params.batch)), dim + 1);

    let mut feats = vec![0f32; dim];
    let mut feats2 = vec![0f32; dim];
    let mut state = env.start();
    let (mut t, mut episodes) = (0usize, 1usize);
    let mut c = env_rng.random_range(stock_range.0..=stock_range.1);
    env.features(t, &state, &mut feats);
    let decay_steps = (params.eps_fraction * params.steps as f64).max(1.0);
    let learn_start = params.learn_start.max(params.batch);
    let tail_from = params.steps - params.steps.div_ceil(10);
    let (mut tail_sum, mut tail_n) = (0.0, 0usize);

    let b = params.batch;
    let mut xb = vec![0f32; b * (dim + 1)];
    let mut x2b = vec![0f32; b * (dim + 1)];
    let mut ab = vec![0i64; b];
    let mut targets = vec![0f32; b * k];
    let mut pairs = Vec::with_capacity(k);
    let mut scores = vec![0.0; n_actions];
    let mut probs = vec![0.0; k];
    for step in 0..params.steps {
        let frac = (step as f64 / decay_steps).min(1.0);
        let eps = params.eps_start + (params.eps_end - params.eps_start) * frac;
        let action = if act_rng.random::<f64>() < eps {
            act_rng.random_range(0..n_actions)
        } else {
            agent.greedy(&feats, c)?.0
        };
        let (r, next, done) = env.step(t, &state, action, &mut env_rng);
        let c2 = next_stock(c, r, gamma);
        if done {
            feats2.fill(0.0);
        } else {
            env.features(t + 1, &next, &mut feats2);
        }
        let mut row = feats.clone();
        row.push(((c - stock_center) / stock_scale) as f32);
        let mut row2 = feats2.clone();
        row2.push(((c2 - stock_center) / stock_scale) as f32);
        // The replay stores rows with the stock appended, and the stock
        // itself (for the target's greedy score).
        replay.push(&row, c, action, r, &row2, done);
        if done {
            state = env.start();
            t = 0;
            c = env_rng.random_range(stock_range.0..=stock_range.1);
            episodes += 1;
        } else {
            state = next;
            t += 1;
            c = c2;
        }
        env.features(t, &state, &mut feats);

        if replay.len >= learn_start {
            let w = dim + 1;
            let mut stocks2 = vec![0.0; b];
            let mut rewards = vec![0.0; b];
            let mut dones = vec![false; b];
            for j in 0..b {
                let i = replay_rng.random_range(0..replay.len);
                xb[j * w..(j + 1) * w].copy_from_slice(&replay.x[i * w..(i + 1) * w]);
                x2b[j * w..(j + 1) * w].copy_from_slice(&replay.x2[i * w..(i + 1) * w]);
                ab[j] = replay.a[i];
                rewards[j] = replay.r[i];
                dones[j] = replay.done[i];
                stocks2[j] = next_stock(replay.c[i], replay.r[i], gamma);
            }
            let x2 = tensor::tensor_from_slice_f32(&x2b, &[b, w])?.to_device(device);
            let next_out = tch::no_grad(|| target_net.forward(&x2));
            let next_raw = tensor::tensor_to_vec_f32(&next_out)?;
            for j in 0..b {
                let row = &next_raw[j * n_actions * k..(j + 1) * n_actions * k];
                let tj = &mut targets[j * k..(j + 1) * k];
                // The target's greedy next action on the stock-augmented score.
                let a_star = if dones[j] {
                    0
                } else {
                    for (a, s) in scores.iter_mut().enumerate() {
                        agent.map.pairs(&row[a * k..(a + 1) * k], &mut pairs);
                        *s = objective.expected_utility(stocks2[j], &pairs);
                    }
                    argmax(&scores)
                };
                agent
                    .map
                    .pairs(&row[a_star * k..(a_star + 1) * k], &mut pairs);
                match params.head {
                    Head::Qr => {
                        for (dst, &(z, _)) in tj.iter_mut().zip(&pairs) {
                            let g = if dones[j] {
                                rewards[j]
                            } else {
                                rewards[j] + gamma * z
                            };
                            *dst = ((g - agent.map.center) / agent.map.scale) as f32;
                        }
                    }
                    Head::C51 => {
                        for (p, &(_, q)) in probs.iter_mut().zip(&pairs) {
                            *p = q;
                        }
                        let m = categorical_target(
                            &agent.map.support,
                            rewards[j],
                            gamma,
                            &probs,
                            dones[j],
                        );
                        for (dst, v) in tj.iter_mut().zip(m) {
                            *dst = v as f32;
                        }
                    }
                }
            }
            let x = tensor::tensor_from_slice_f32(&xb, &[b, w])?.to_device(device);
            let target = tensor::tensor_from_slice_f32(&targets, &[b, k])?.to_device(device);
            let index = Tensor::from_slice(&ab)
                .to_device(device)
                .view([b as i64, 1, 1])
                .expand([b as i64, 1, k as i64], false);
            let out = agent
                .net
                .forward(&x)
                .view([b as i64, n_actions as i64, k as i64])
                .gather(1, &index, false)
                .squeeze_dim(1);
            let loss = match params.head {
                Head::Qr => quantile_huber_loss(&out, &target, params.kappa)?,
                Head::C51 => -(target * out.log_softmax(-1, Kind::Float))
                    .sum_dim_intlist(Some([1i64].as_slice()), false, Kind::Float)
                    .mean(Kind::Float),
            };
            adam.backward_step(&loss);
            let value = loss.double_value(&[]);
            if !value.is_finite() {
                return Err(Error::Torch(format!(
                    "training diverged at step {step}: loss {value} (lower lr {})",
                    params.lr
                )));
            }
            if step >= tail_from {
                tail_sum += value;
                tail_n += 1;
            }
        }
        if (step + 1) % params.target_period == 0 {
            target_vs.copy(&agent.vs)?;
        }
        progress.inc(1);
    }
    // Keep the agent's variables on the training device.
    agent.vs.freeze();
    Ok(DeepFit {
        agent,
        tail_loss: if tail_n > 0 {
            tail_sum / tail_n as f64
        } else {
            f64::NAN
        },
        episodes,
        device: format!("{device:?}"),
    })
}

/// The deep agent's policy on an [`MdpEnv`], as an [`AugmentedPolicy`] on
/// (time, state, stock): what [`executed_law`] and the rollouts execute.
/// A forward-pass error (none is expected: shapes are fixed at training)
/// is kept and reported by [`MdpPolicy::take_error`]; the action is then 0.
pub struct MdpPolicy<'a> {
    agent: &'a DeepAgent,
    env: &'a MdpEnv,
    error: RefCell<Option<Error>>,
}

impl<'a> MdpPolicy<'a> {
    /// The policy of `agent` on `env`.
    pub fn new(agent: &'a DeepAgent, env: &'a MdpEnv) -> Self {
        MdpPolicy {
            agent,
            env,
            error: RefCell::new(None),
        }
    }

    /// The first forward-pass error met while acting, if any.
    pub fn take_error(&self) -> Option<Error> {
        self.error.borrow_mut().take()
    }
}

impl AugmentedPolicy for MdpPolicy<'_> {
    fn act(&self, t: usize, s: usize, c: f64) -> usize {
        let mut f = vec![0f32; self.env.feature_dim()];
        self.env.features(t, &s, &mut f);
        match self.agent.greedy(&f, c) {
            Ok((a, _)) => a,
            Err(e) => {
                self.error.borrow_mut().get_or_insert(e);
                0
            }
        }
    }
}

/// The executed deep policy on a tabular MDP, evaluated exactly.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct MdpEvaluation {
    /// The objective on the exact return law of the executed policy.
    pub objective_value: f64,
    /// The network's own prediction of that value at the start.
    pub predicted_value: f64,
    /// The initial stock the policy was executed from.
    pub initial_stock: f64,
    /// Mean of the executed return law.
    pub mean_return: f64,
    /// The exact return law of the executed policy.
    #[serde(skip)]
    pub law: FiniteSupport,
}

/// Executes `agent` on `env` from its start stock ([`DeepAgent::start_stock`])
/// and evaluates its objective on the exact return law
/// ([`executed_law`], which tracks the true stock).
pub fn evaluate_mdp(agent: &DeepAgent, env: &MdpEnv) -> Result<MdpEvaluation> {
    let mut f = vec![0f32; env.feature_dim()];
    env.features(0, &env.start(), &mut f);
    let (c0, predicted) = agent.start_stock(&f)?;
    let policy = MdpPolicy::new(agent, env);
    let law = executed_law(env.mdp(), &policy, c0)?;
    if let Some(e) = policy.take_error() {
        return Err(e);
    }
    Ok(MdpEvaluation {
        objective_value: agent.objective.evaluate(&law)?,
        predicted_value: predicted,
        initial_stock: c0,
        mean_return: crate::dist::ReturnDistribution::mean(&law),
        law,
    })
}

/// The tabular references for `objective` on a finite-horizon `mdp`: the
/// stock-augmented DP optimum (exact stock model, exact atoms) and the same
/// objective evaluated on the exact law of the risk-neutral greedy policy
/// (the expectation's exact-model solution).
pub fn tabular_references(mdp: &FiniteMdp, objective: &Objective) -> Result<(f64, f64)> {
    let exact = Representation::Exact { budget: None };
    let opt = solve(
        mdp,
        &SolveSpec::new(objective.clone(), StockModel::Exact, exact.clone())?,
    )?;
    let neutral = solve(
        mdp,
        &SolveSpec::new("expectation".parse()?, StockModel::Exact, exact)?,
    )?;
    let law = executed_law(mdp, &neutral.policy, neutral.initial_stock)?;
    Ok((opt.value, objective.evaluate(&law)?))
}

/// Returns of `episodes` Monte Carlo episodes of `agent` on any
/// environment, executed from the start stock `c0` (the stock tracked
/// exactly); seeded by `seed`.
pub fn rollouts<E: DeepEnv>(
    agent: &DeepAgent,
    env: &E,
    c0: f64,
    episodes: usize,
    seed: u64,
) -> Result<Vec<f64>> {
    duality_core::check::at_least("episodes", episodes, 1)?;
    duality_core::check::finite_scalar("initial stock", c0)?;
    let mut rng = Seeder::new(seed).rng(0);
    let mut f = vec![0f32; env.feature_dim()];
    let mut out = Vec::with_capacity(episodes);
    for _ in 0..episodes {
        let (mut s, mut c, mut g, mut disc) = (env.start(), c0, 0.0, 1.0);
        for t in 0..env.horizon() {
            env.features(t, &s, &mut f);
            let (a, _) = agent.greedy(&f, c)?;
            let (r, next, done) = env.step(t, &s, a, &mut rng);
            g += disc * r;
            disc *= env.gamma();
            c = next_stock(c, r, env.gamma());
            s = next;
            if done {
                break;
            }
        }
        out.push(g);
    }
    Ok(out)
}

/// The objective on the empirical law of `returns` (equal weights).
pub fn empirical_objective(objective: &Objective, returns: &[f64]) -> Result<f64> {
    duality_core::check::finite_non_empty("returns", returns)?;
    let w = 1.0 / returns.len() as f64;
    let law = FiniteSupport::from_weighted(returns.iter().map(|&x| (x, w)).collect());
    objective.evaluate(&law)
}

#[cfg(test)]
mod tests;
