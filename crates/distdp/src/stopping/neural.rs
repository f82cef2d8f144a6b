//! Neural optimal stopping on tch (feature `torch`): an MLP on (time, price)
//! and a 1-D CNN over the last `L` log-returns, trained to maximise the
//! expected discounted stopped payoff.
//!
//! **Source followed.** Felizardo et al. ("Solving the optimal stopping
//! problem with reinforcement learning: an application in financial option
//! exercise", 2022) are available to this project as an abstract only (a CNN
//! over the price history, trained on Monte Carlo paths, against LSMC on
//! autocorrelated prices), and their code could not be found. The training
//! method is therefore deep optimal stopping as in Becker, Cheridito &
//! Jentzen (2019, "Deep optimal stopping", JMLR 20(74)), in its variant with
//! **one shared network with a time input** for all exercise dates:
//!
//! - a stopping decision at date `n` is `f_n = 1{F^theta(n, x_n) >= 1/2}`
//!   with `F^theta = sigmoid(network)` (BCJ §2.2, eq. (10)-(11): the
//!   soft decision `F^theta` replaces the 0/1 decision in training, the hard
//!   decision is used afterwards);
//! - the stopping time is `tau = sum_n n f_n prod_{j<n} (1 - f_j)` with
//!   `f_N = 1` (BCJ §2.1, eq. (5)-(6)), so the stopped payoff is
//!   `sum_n Z_n f_n prod_{j<n} (1 - f_j)`;
//! - training maximises the Monte Carlo mean of that soft stopped payoff over
//!   **fresh simulated paths at every step** (BCJ §2.3: new paths each
//!   step), by Adam. BCJ train one network per date backwards (eq. (12));
//!   with a shared network all dates are trained at once through the product
//!   above, which is the same objective `E[Z_tau]` (their eq. (4)).
//!
//! Out of the money a put pays 0, so stopping there never beats continuing;
//! as in LSMC the decision is only taken in the money (`f_n = 0` when
//! `Z_n = 0`, before maturity). The trained network is exported to a plain
//! Rust forward pass ([`NeuralPolicy`], an [`ExercisePolicy`]) so that the
//! out-of-sample lower bound ([`super::policy_value`]) and the
//! Andersen-Broadie dual ([`super::andersen_broadie`]) price it as an
//! interval exactly like the LSMC rule (BCJ §3 do the same: a lower bound
//! from the trained rule on fresh paths, an upper bound from the dual).
//!
//! Inputs (both networks): `t = n / N` and the log-moneyness
//! `ln(S_n / K) / (sigma sqrt(T))`. The CNN also sees the last `L` one-date
//! log-returns standardised as `(r - m) / (sigma sqrt(dt))` (`m` the
//! risk-neutral mean return; dates before the first are padded with 0, the
//! process's own start value), through two valid 1-D convolutions with
//! ReLU, flattened, concatenated with `(t, moneyness)` and fed to an MLP
//! head. Under GBM the history carries no information and both networks
//! can reach the optimum; under AR(1) returns the last returns predict the
//! next ones and only the CNN can use them.

use duality_core::config::Validate;
use duality_core::progress::Progress;
use duality_core::seed::Seeder;
use duality_core::tensor::{self, tch, Mlp, MlpConfig, OptimizerConfig};
use duality_core::{Error, Result};
use serde::{Deserialize, Serialize};
use tch::nn::{self, Module};
use tch::{Device, Kind, Tensor};

use super::dual::{bounds, DualParams, PriceBounds};
use super::process::{simulate_paths, PriceProcess};
use super::{ExercisePolicy, PutOption};

/// Architecture of a neural stopping rule.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
#[non_exhaustive]
pub enum StoppingNet {
    /// An MLP on (time, log-moneyness) with the given hidden widths.
    Mlp {
        /// Hidden-layer widths.
        hidden: Vec<usize>,
    },
    /// A 1-D CNN over the last `window` log-returns (two valid convolutions
    /// of `channels` channels and width `kernel`, ReLU), concatenated with
    /// (time, log-moneyness), then one hidden layer of `hidden` units.
    Cnn {
        /// Number of past log-returns seen (`L`).
        window: usize,
        /// Channels of each convolution.
        channels: usize,
        /// Kernel width of each convolution.
        kernel: usize,
        /// Width of the hidden layer of the head.
        hidden: usize,
    },
}

impl StoppingNet {
    /// The default MLP: two hidden layers of 32 units.
    pub fn mlp() -> Self {
        StoppingNet::Mlp {
            hidden: vec![32, 32],
        }
    }

    /// The default CNN over the last `window` log-returns: 8 channels,
    /// kernel 3, a head of 32 units.
    pub fn cnn(window: usize) -> Self {
        StoppingNet::Cnn {
            window,
            channels: 8,
            kernel: 3,
            hidden: 32,
        }
    }

    /// Number of past log-returns the network sees (0 for the MLP).
    pub fn window(&self) -> usize {
        match self {
            StoppingNet::Mlp { .. } => 0,
            StoppingNet::Cnn { window, .. } => *window,
        }
    }
}

impl std::fmt::Display for StoppingNet {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            StoppingNet::Mlp { hidden } => {
                let h: Vec<String> = hidden.iter().map(|h| h.to_string()).collect();
                write!(f, "mlp[{}]", h.join(","))
            }
            StoppingNet::Cnn {
                window,
                channels,
                kernel,
                hidden,
            } => write!(f, "cnn[L={window},c={channels},k={kernel},h={hidden}]"),
        }
    }
}

const MAX_WIDTH: usize = 4096;
const MAX_WINDOW: usize = 512;

impl Validate for StoppingNet {
    /// Widths in `1..=4096`; a window in `1..=512` long enough for two
    /// convolutions (`window >= 2 (kernel - 1) + 1`).
    fn validate(&self) -> Result<()> {
        let width = |name: String, w: usize| {
            if w == 0 || w > MAX_WIDTH {
                Err(Error::invalid(
                    name,
                    w,
                    format!("a width in 1..={MAX_WIDTH}"),
                ))
            } else {
                Ok(())
            }
        };
        match self {
            StoppingNet::Mlp { hidden } => {
                for (i, &h) in hidden.iter().enumerate() {
                    width(format!("hidden[{i}]"), h)?;
                }
            }
            StoppingNet::Cnn {
                window,
                channels,
                kernel,
                hidden,
            } => {
                width("channels".into(), *channels)?;
                width("hidden".into(), *hidden)?;
                if *kernel == 0 || *kernel > MAX_WINDOW {
                    return Err(Error::invalid("kernel", kernel, "a width in 1..=512"));
                }
                let need = 2 * (kernel - 1) + 1;
                if *window < need || *window > MAX_WINDOW {
                    return Err(Error::invalid(
                        "window",
                        window,
                        format!(
                            "in {need}..={MAX_WINDOW} (two convolutions of kernel {kernel} need \
                             {need} returns)"
                        ),
                    ));
                }
            }
        }
        Ok(())
    }
}

/// Training settings of a neural stopping rule (checked at construction).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(try_from = "NeuralStopFile")]
pub struct NeuralStopParams {
    net: StoppingNet,
    exercise_dates: usize,
    batch_paths: usize,
    steps: usize,
    lr: f64,
    seed: u64,
}

/// The serialised form of [`NeuralStopParams`], checked on the way in.
#[derive(Deserialize)]
struct NeuralStopFile {
    net: StoppingNet,
    exercise_dates: usize,
    batch_paths: usize,
    steps: usize,
    lr: f64,
    seed: u64,
}

impl TryFrom<NeuralStopFile> for NeuralStopParams {
    type Error = Error;
    fn try_from(f: NeuralStopFile) -> Result<Self> {
        NeuralStopParams::new(
            f.net,
            f.exercise_dates,
            f.batch_paths,
            f.steps,
            f.lr,
            f.seed,
        )
    }
}

/// Largest number of (path, date) rows in one training batch: refuses
/// absurd sizes before anything is allocated.
const MAX_BATCH_ROWS: usize = 20_000_000;

impl Validate for NeuralStopParams {
    /// A valid network, at least one exercise date, two paths per batch
    /// (one antithetic pair), at least one training step, a positive finite
    /// learning rate, and at most 2e7 (path, date) rows per batch.
    fn validate(&self) -> Result<()> {
        self.net.validate()?;
        duality_core::check::at_least("exercise_dates", self.exercise_dates, 1)?;
        super::check_dates_limit("exercise_dates", self.exercise_dates)?;
        duality_core::check::at_least("batch paths", self.batch_paths, 2)?;
        duality_core::check::at_least("steps", self.steps, 1)?;
        duality_core::check::positive("lr", self.lr)?;
        let rows = self.batch_paths.saturating_mul(self.exercise_dates);
        if rows > MAX_BATCH_ROWS {
            return Err(Error::invalid(
                "batch paths",
                self.batch_paths,
                format!(
                    "at most {MAX_BATCH_ROWS} (path, date) rows per batch ({} dates)",
                    self.exercise_dates
                ),
            ));
        }
        Ok(())
    }
}

impl NeuralStopParams {
    /// Checked settings: `net`, `exercise_dates` dates, `batch_paths` fresh
    /// paths per step (rounded up to even: antithetic pairs), `steps` Adam
    /// steps of learning rate `lr`, and the seed of the initialisation and
    /// of the training paths.
    pub fn new(
        net: StoppingNet,
        exercise_dates: usize,
        batch_paths: usize,
        steps: usize,
        lr: f64,
        seed: u64,
    ) -> Result<Self> {
        let p = NeuralStopParams {
            net,
            exercise_dates,
            batch_paths,
            steps,
            lr,
            seed,
        };
        p.validate()?;
        Ok(p)
    }
    /// The architecture.
    pub fn net(&self) -> &StoppingNet {
        &self.net
    }
    /// Number of exercise dates.
    pub fn exercise_dates(&self) -> usize {
        self.exercise_dates
    }
    /// Fresh paths per training step.
    pub fn batch_paths(&self) -> usize {
        self.batch_paths
    }
    /// Adam steps.
    pub fn steps(&self) -> usize {
        self.steps
    }
    /// Learning rate.
    pub fn lr(&self) -> f64 {
        self.lr
    }
    /// Seed of the initialisation and the training paths.
    pub fn seed(&self) -> u64 {
        self.seed
    }
}

/// The inputs of the network at one date, shared by training (tch) and the
/// exported rule (plain Rust), so both see exactly the same numbers.
#[derive(Debug, Clone, Copy, PartialEq)]
struct Featurizer {
    s0: f64,
    log_strike: f64,
    /// `1 / (sigma sqrt(T))`.
    money_scale: f64,
    /// Risk-neutral mean one-date log-return.
    ret_mean: f64,
    /// `1 / (sigma sqrt(dt))`.
    ret_scale: f64,
    dates: usize,
    window: usize,
}

impl Featurizer {
    fn new(opt: &PutOption, dates: usize, window: usize) -> Self {
        let dt = opt.maturity / dates as f64;
        Featurizer {
            s0: opt.s0,
            log_strike: opt.strike.ln(),
            money_scale: 1.0 / (opt.sigma * opt.maturity.sqrt()),
            ret_mean: (opt.rate - 0.5 * opt.sigma * opt.sigma) * dt,
            ret_scale: 1.0 / (opt.sigma * dt.sqrt()),
            dates,
            window,
        }
    }

    fn width(&self) -> usize {
        2 + self.window
    }

    /// Writes the features at date `k` (`path.len() == k`, `path[k - 1]`
    /// the spot at date `k`) into `out` (length `width()`).
    fn write(&self, k: usize, path: &[f64], out: &mut [f64]) {
        let spot = path[k - 1];
        out[0] = k as f64 / self.dates as f64;
        out[1] = (spot.ln() - self.log_strike) * self.money_scale;
        // Window slot w (0 = oldest) holds the return into date k - window + 1 + w.
        for w in 0..self.window {
            let date = (k + w + 1) as isize - self.window as isize;
            out[2 + w] = if date >= 1 {
                let d = date as usize;
                let prev = if d == 1 { self.s0 } else { path[d - 2] };
                ((path[d - 1] / prev).ln() - self.ret_mean) * self.ret_scale
            } else {
                0.0
            };
        }
    }
}

/// The network in tch, for training.
#[derive(Debug)]
enum TorchNet {
    Mlp(Mlp),
    Cnn {
        convs: Vec<nn::Conv1D>,
        head: Mlp,
        window: i64,
    },
}

impl TorchNet {
    fn build(net: &StoppingNet, path: &nn::Path<'_>) -> Result<Self> {
        Ok(match net {
            StoppingNet::Mlp { hidden } => {
                TorchNet::Mlp(MlpConfig::new(2, hidden, 1).build(&(path / "mlp"))?)
            }
            StoppingNet::Cnn {
                window,
                channels,
                kernel,
                hidden,
            } => {
                let (c, k) = (*channels as i64, *kernel as i64);
                let convs = vec![
                    nn::conv1d(path / "conv0", 1, c, k, Default::default()),
                    nn::conv1d(path / "conv1", c, c, k, Default::default()),
                ];
                let flat = channels * (window - 2 * (kernel - 1));
                let head = MlpConfig::new(flat + 2, &[*hidden], 1).build(&(path / "head"))?;
                TorchNet::Cnn {
                    convs,
                    head,
                    window: *window as i64,
                }
            }
        })
    }

    /// Logits `[rows]` of features `[rows, 2 + window]`.
    fn logits(&self, xs: &Tensor) -> Tensor {
        match self {
            TorchNet::Mlp(mlp) => mlp.forward(xs).squeeze_dim(-1),
            TorchNet::Cnn {
                convs,
                head,
                window,
            } => {
                let rows = xs.size()[0];
                let mut h = xs.narrow(1, 2, *window).unsqueeze(1);
                for conv in convs {
                    h = conv.forward(&h).relu();
                }
                let h = Tensor::cat(&[xs.narrow(1, 0, 2), h.view([rows, -1])], 1);
                head.forward(&h).squeeze_dim(-1)
            }
        }
    }
}

/// A dense layer in plain Rust: `weight` row-major `[out, in]`.
#[derive(Debug, Clone, PartialEq)]
struct Dense {
    weight: Vec<f64>,
    bias: Vec<f64>,
    input: usize,
}

impl Dense {
    fn apply(&self, x: &[f64], out: &mut Vec<f64>) {
        out.clear();
        out.extend(self.bias.iter().enumerate().map(|(o, b)| {
            let row = &self.weight[o * self.input..(o + 1) * self.input];
            b + row.iter().zip(x).map(|(w, v)| w * v).sum::<f64>()
        }));
    }
}

/// A valid 1-D convolution in plain Rust: `weight` `[out, in, kernel]`.
#[derive(Debug, Clone, PartialEq)]
struct Conv {
    weight: Vec<f64>,
    bias: Vec<f64>,
    input: usize,
    kernel: usize,
}

impl Conv {
    /// `x` is `[in, len]` row-major; the output `[out, len - kernel + 1]`.
    fn apply(&self, x: &[f64], len: usize, out: &mut Vec<f64>) -> usize {
        let olen = len + 1 - self.kernel;
        out.clear();
        for (o, b) in self.bias.iter().enumerate() {
            for p in 0..olen {
                let mut acc = *b;
                for i in 0..self.input {
                    let w = &self.weight[(o * self.input + i) * self.kernel..][..self.kernel];
                    let xs = &x[i * len + p..][..self.kernel];
                    acc += w.iter().zip(xs).map(|(a, b)| a * b).sum::<f64>();
                }
                out.push(acc);
            }
        }
        olen
    }
}

/// The trained network's weights in f64, for a forward pass without
/// libtorch (`Sync`, so paths are priced in parallel).
#[derive(Debug, Clone, PartialEq)]
struct FrozenNet {
    convs: Vec<Conv>,
    layers: Vec<Dense>,
    window: usize,
}

fn relu(v: &mut [f64]) {
    for x in v {
        *x = x.max(0.0);
    }
}

impl FrozenNet {
    fn export(net: &TorchNet, vs: &nn::VarStore) -> Result<Self> {
        let vars = vs.variables();
        let get = |name: &str| -> Result<(Vec<f64>, Vec<i64>)> {
            let t = vars
                .get(name)
                .ok_or_else(|| Error::Torch(format!("missing network variable {name}")))?;
            Ok((tensor::tensor_to_vec_f64(t)?, t.size()))
        };
        let dense = |prefix: &str, n: usize| -> Result<Vec<Dense>> {
            (0..n)
                .map(|i| {
                    let (weight, shape) = get(&format!("{prefix}.layer{i}.weight"))?;
                    let (bias, _) = get(&format!("{prefix}.layer{i}.bias"))?;
                    Ok(Dense {
                        weight,
                        bias,
                        input: shape[1] as usize,
                    })
                })
                .collect()
        };
        let count = |prefix: &str| {
            (0..)
                .take_while(|i| vars.contains_key(&format!("{prefix}.layer{i}.weight")))
                .count()
        };
        Ok(match net {
            TorchNet::Mlp(_) => FrozenNet {
                convs: Vec::new(),
                layers: dense("mlp", count("mlp"))?,
                window: 0,
            },
            TorchNet::Cnn { window, .. } => {
                let convs = (0..2)
                    .map(|i| {
                        let (weight, shape) = get(&format!("conv{i}.weight"))?;
                        let (bias, _) = get(&format!("conv{i}.bias"))?;
                        Ok(Conv {
                            weight,
                            bias,
                            input: shape[1] as usize,
                            kernel: shape[2] as usize,
                        })
                    })
                    .collect::<Result<Vec<_>>>()?;
                FrozenNet {
                    convs,
                    layers: dense("head", count("head"))?,
                    window: *window as usize,
                }
            }
        })
    }

    /// The logit of features `x` (`[2 + window]`).
    fn logit(&self, x: &[f64]) -> f64 {
        let mut h: Vec<f64>;
        let mut tmp = Vec::new();
        if self.convs.is_empty() {
            h = x.to_vec();
        } else {
            let mut len = self.window;
            h = x[2..].to_vec();
            for conv in &self.convs {
                len = conv.apply(&h, len, &mut tmp);
                relu(&mut tmp);
                std::mem::swap(&mut h, &mut tmp);
            }
            let mut joined = Vec::with_capacity(2 + h.len());
            joined.extend_from_slice(&x[..2]);
            joined.extend_from_slice(&h);
            h = joined;
        }
        let last = self.layers.len() - 1;
        for (i, layer) in self.layers.iter().enumerate() {
            layer.apply(&h, &mut tmp);
            if i < last {
                relu(&mut tmp);
            }
            std::mem::swap(&mut h, &mut tmp);
        }
        h[0]
    }
}

/// A trained neural exercise rule: at date `n < N`, exercise an
/// in-the-money put when the network's logit is `>= 0` (`F^theta >= 1/2`,
/// BCJ eq. (11)); at maturity, exercise when in the money.
#[derive(Debug, Clone, PartialEq)]
pub struct NeuralPolicy {
    option: PutOption,
    net: StoppingNet,
    features: Featurizer,
    frozen: FrozenNet,
}

impl NeuralPolicy {
    /// The option the rule was trained for.
    pub fn option(&self) -> &PutOption {
        &self.option
    }
    /// The architecture.
    pub fn net(&self) -> &StoppingNet {
        &self.net
    }
    /// The network's logit at date `k` (`1..=dates`) after the spots
    /// `path` of dates `1..=k`; `None` for a date or path out of range.
    pub fn logit(&self, k: usize, path: &[f64]) -> Option<f64> {
        if k == 0 || k > self.features.dates || path.len() != k {
            return None;
        }
        let mut x = vec![0.0; self.features.width()];
        self.features.write(k, path, &mut x);
        Some(self.frozen.logit(&x))
    }
}

impl ExercisePolicy for NeuralPolicy {
    fn dates(&self) -> usize {
        self.features.dates
    }
    fn exercise(&self, k: usize, path: &[f64]) -> bool {
        let Some(&spot) = path.last() else {
            return false;
        };
        if self.option.payoff(spot) <= 0.0 {
            return false;
        }
        if k >= self.features.dates {
            return true;
        }
        self.logit(k, path).is_some_and(|l| l >= 0.0)
    }
}

/// What [`neural_fit`] returns.
#[derive(Debug, Clone, PartialEq)]
pub struct NeuralFit {
    /// The trained exercise rule.
    pub policy: NeuralPolicy,
    /// The soft stopped payoff (the training objective) on the last batch.
    pub final_objective: f64,
    /// Mean soft objective over the last tenth of the steps.
    pub tail_objective: f64,
    /// The device it trained on (`DUALITY_DEVICE`, else CUDA if available).
    pub device: String,
}

/// Trains a neural stopping rule for `opt` under `process` (module docs:
/// BCJ deep optimal stopping with one shared network, fresh antithetic
/// paths every step). The device is duality-core's default (`DUALITY_DEVICE`,
/// else CUDA when present, else CPU). Same seed, same device: same rule.
///
/// ```
/// use duality_distdp::prelude::*;
///
/// # fn main() -> duality_core::Result<()> {
/// let put = PutOption::default();
/// let params = NeuralStopParams::new(StoppingNet::mlp(), 5, 256, 30, 1e-2, 1)?;
/// let fit = neural_fit(&put, &PriceProcess::Gbm, &params, &duality_core::progress::Progress::hidden())?;
/// let value = policy_value(&put, &PriceProcess::Gbm, &fit.policy, 2_000, 7)?;
/// assert!(value.price >= put.payoff(put.s0));
/// # Ok(())
/// # }
/// ```
pub fn neural_fit(
    opt: &PutOption,
    process: &PriceProcess,
    params: &NeuralStopParams,
    progress: &Progress,
) -> Result<NeuralFit> {
    opt.validate()?;
    process.validate()?;
    params.validate()?;
    let device = tensor::default_device()?;
    fit_on(opt, process, params, device, progress)
}

fn fit_on(
    opt: &PutOption,
    process: &PriceProcess,
    params: &NeuralStopParams,
    device: Device,
    progress: &Progress,
) -> Result<NeuralFit> {
    train(opt, process, params, device, progress).map(|(fit, _, _)| fit)
}

/// The training loop; also hands back the tch network and its variables.
fn train(
    opt: &PutOption,
    process: &PriceProcess,
    params: &NeuralStopParams,
    device: Device,
    progress: &Progress,
) -> Result<(NeuralFit, TorchNet, nn::VarStore)> {
    let dates = params.exercise_dates;
    let features = Featurizer::new(opt, dates, params.net.window());
    // Seeding libtorch's global generator and drawing the initial weights
    // from it must not interleave with another thread's (the bench runs
    // seeds in parallel, #24): one lock around both.
    let (vs, net) = {
        let _guard = tensor::lock_seeded(params.seed);
        let vs = nn::VarStore::new(device);
        let net = TorchNet::build(&params.net, &vs.root())?;
        (vs, net)
    };
    let mut adam = OptimizerConfig::adam(params.lr).build(&vs)?;
    // Stream 0 of the seed is libtorch's; training batch s draws from stream s + 1.
    let seeder = Seeder::new(params.seed);
    let dt = opt.maturity / dates as f64;
    let disc: Vec<f64> = (1..=dates)
        .map(|k| (-opt.rate * dt * k as f64).exp())
        .collect();
    // At maturity the rule exercises in the money: f_N = 1.
    let last = Tensor::zeros([1, dates as i64], (Kind::Float, device));
    let _ = last.narrow(1, dates as i64 - 1, 1).fill_(1.0);
    let not_last = Tensor::ones([1, dates as i64], (Kind::Float, device)) - &last;
    let tail_from = params.steps - params.steps.div_ceil(10);
    let (mut final_objective, mut tail) = (0.0, Vec::new());
    for step in 0..params.steps {
        let spots = simulate_paths(
            process,
            opt,
            dates,
            params.batch_paths,
            seeder.seed_for(step as u64 + 1),
        );
        let n = spots.len() / dates;
        let width = features.width();
        let mut xs = vec![0f32; n * dates * width];
        let mut z = vec![0f32; n * dates];
        let mut path = vec![0.0; dates];
        let mut row = vec![0.0; width];
        for i in 0..n {
            for k in 0..dates {
                path[k] = spots[k * n + i];
            }
            for k in 1..=dates {
                features.write(k, &path[..k], &mut row);
                let at = (i * dates + k - 1) * width;
                for (dst, src) in xs[at..at + width].iter_mut().zip(&row) {
                    *dst = *src as f32;
                }
                z[i * dates + k - 1] = (opt.payoff(path[k - 1]) * disc[k - 1]) as f32;
            }
        }
        let xs = tensor::tensor_from_slice_f32(&xs, &[n * dates, width])?.to_device(device);
        let z = tensor::tensor_from_slice_f32(&z, &[n, dates])?.to_device(device);
        let itm = z.gt(0.0).to_kind(Kind::Float);
        let f = net.logits(&xs).view([n as i64, dates as i64]).sigmoid() * &itm * &not_last + &last;
        // prod_{j<n} (1 - f_j): shift the cumulative product right by one.
        let survive = (Tensor::ones_like(&f) - &f).cumprod(1, Kind::Float);
        let before = Tensor::cat(
            &[
                Tensor::ones([n as i64, 1], (Kind::Float, device)),
                survive.narrow(1, 0, dates as i64 - 1),
            ],
            1,
        );
        let objective = (&z * &f * &before)
            .sum_dim_intlist(1, false, Kind::Float)
            .mean(Kind::Float);
        // Scale by the strike so the learning rate does not depend on units.
        let loss = -&objective / opt.strike;
        adam.backward_step(&loss);
        final_objective = objective.double_value(&[]);
        if !final_objective.is_finite() {
            return Err(Error::Torch(format!(
                "training diverged at step {step}: objective {final_objective} (lower lr {})",
                params.lr
            )));
        }
        if step >= tail_from {
            tail.push(final_objective);
        }
        progress.inc(1);
    }
    let frozen = FrozenNet::export(&net, &vs)?;
    let fit = NeuralFit {
        policy: NeuralPolicy {
            option: *opt,
            net: params.net.clone(),
            features,
            frozen,
        },
        final_objective,
        tail_objective: tail.iter().sum::<f64>() / tail.len().max(1) as f64,
        device: format!("{device:?}"),
    };
    Ok((fit, net, vs))
}

/// What [`neural_price_interval`] returns.
#[derive(Debug, Clone, PartialEq)]
pub struct NeuralInterval {
    /// The trained rule.
    pub fit: NeuralFit,
    /// Lower bound (out of sample), dual upper bound and 95% interval.
    pub bounds: PriceBounds,
}

/// Trains a neural rule ([`neural_fit`]) and prices it as an interval
/// ([`bounds`]: fresh paths for the lower bound, Andersen-Broadie dual with
/// nested simulation for the upper bound).
pub fn neural_price_interval(
    opt: &PutOption,
    process: &PriceProcess,
    params: &NeuralStopParams,
    dual: &DualParams,
    progress: &Progress,
) -> Result<NeuralInterval> {
    let fit = neural_fit(opt, process, params, progress)?;
    let bounds = bounds(opt, process, &fit.policy, dual)?;
    Ok(NeuralInterval { fit, bounds })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::stopping::{binomial_price, lsmc_fit, policy_value, Exercise, LsmcParams};

    fn put() -> PutOption {
        PutOption::default()
    }

    fn tiny(net: StoppingNet, dates: usize, steps: usize, seed: u64) -> NeuralStopParams {
        NeuralStopParams::new(net, dates, 256, steps, 1e-2, seed).unwrap()
    }

    /// The exported plain-Rust forward pass gives the trained tch network's
    /// logits (f32 in tch, f64 exported: within 1e-4).
    #[test]
    fn frozen_forward_matches_tch() {
        let process = PriceProcess::Ar1 { phi: 0.5 };
        for net in [StoppingNet::mlp(), StoppingNet::cnn(6)] {
            let params = tiny(net.clone(), 8, 3, 2);
            let (fit, tnet, _vs) =
                train(&put(), &process, &params, Device::Cpu, &Progress::hidden()).unwrap();
            let features = fit.policy.features;
            let width = features.width();
            let spots = simulate_paths(&process, &put(), 8, 4, 99);
            let n = spots.len() / 8;
            let (mut rows, mut frozen) = (Vec::new(), Vec::new());
            for i in 0..n {
                let path: Vec<f64> = (0..8).map(|k| spots[k * n + i]).collect();
                for k in 1..=8 {
                    let mut x = vec![0.0; width];
                    features.write(k, &path[..k], &mut x);
                    rows.extend_from_slice(&x);
                    frozen.push(fit.policy.logit(k, &path[..k]).unwrap());
                }
            }
            let xs = tensor::tensor_from_slice(&rows, &[rows.len() / width, width])
                .unwrap()
                .to_kind(Kind::Float);
            let torch = tensor::tensor_to_vec_f64(&tnet.logits(&xs)).unwrap();
            assert_eq!(torch.len(), frozen.len());
            for (f, t) in frozen.iter().zip(&torch) {
                assert!((f - t).abs() < 1e-4 * (1.0 + t.abs()), "{net}: {f} vs {t}");
            }
        }
    }

    #[test]
    fn features_are_time_moneyness_and_standardised_returns() {
        let opt = put();
        let f = Featurizer::new(&opt, 4, 3);
        let path = [36.0 * 1.01, 36.0 * 1.01 * 0.98];
        let mut x = vec![0.0; f.width()];
        f.write(2, &path, &mut x);
        assert!((x[0] - 0.5).abs() < 1e-12);
        let m = (path[1] / 40.0f64).ln() / 0.2;
        assert!((x[1] - m).abs() < 1e-12);
        // Oldest slot before date 1 is padding; then the returns into dates 1, 2.
        assert_eq!(x[2], 0.0);
        let z = |r: f64| (r - f.ret_mean) * f.ret_scale;
        assert!((x[3] - z(1.01f64.ln())).abs() < 1e-12);
        assert!((x[4] - z(0.98f64.ln())).abs() < 1e-12);
    }

    /// A short training run already beats exercising at maturity only (the
    /// European value) and stays below the lattice price plus noise, on
    /// 10 dates; same seed, same rule.
    #[test]
    fn short_training_learns_early_exercise() {
        let dates = 10;
        let params = NeuralStopParams::new(StoppingNet::mlp(), dates, 512, 100, 1e-2, 3).unwrap();
        let fit = fit_on(
            &put(),
            &PriceProcess::Gbm,
            &params,
            Device::Cpu,
            &Progress::hidden(),
        )
        .unwrap();
        let v = policy_value(&put(), &PriceProcess::Gbm, &fit.policy, 20_000, 11).unwrap();
        let lattice = binomial_price(&put(), Exercise::Bermudan { dates }, 2000).unwrap();
        let european = crate::stopping::black_scholes_put(&put()).unwrap();
        assert!(v.price > european + 0.3, "{v:?} vs European {european}");
        assert!(v.price < lattice + 3.0 * v.std_error, "{v:?} vs {lattice}");
        let lsmc = lsmc_fit(
            &put(),
            &LsmcParams::default().exercise_dates(dates).paths(20_000),
        )
        .unwrap();
        let l = policy_value(&put(), &PriceProcess::Gbm, &lsmc.policy, 20_000, 11).unwrap();
        assert!(v.price > l.price - 0.08, "neural {v:?} vs lsmc {l:?}");
        let again = fit_on(
            &put(),
            &PriceProcess::Gbm,
            &params,
            Device::Cpu,
            &Progress::hidden(),
        )
        .unwrap();
        assert_eq!(again.policy, fit.policy);
    }

    #[test]
    fn bad_settings_are_named() {
        let e = NeuralStopParams::new(StoppingNet::mlp(), 10, 64, 0, 1e-2, 0)
            .unwrap_err()
            .to_string();
        assert!(e.contains("steps"), "{e}");
        let e = NeuralStopParams::new(StoppingNet::mlp(), 0, 64, 1, 1e-2, 0)
            .unwrap_err()
            .to_string();
        assert!(e.contains("exercise_dates"), "{e}");
        let e = NeuralStopParams::new(StoppingNet::mlp(), 10, 1, 1, 1e-2, 0)
            .unwrap_err()
            .to_string();
        assert!(e.contains("batch paths"), "{e}");
        let e = NeuralStopParams::new(StoppingNet::cnn(3), 10, 64, 1, 1e-2, 0)
            .unwrap_err()
            .to_string();
        assert!(e.contains("window") && e.contains('3'), "{e}");
        let e = NeuralStopParams::new(StoppingNet::mlp(), 10, 64, 1, -1.0, 0)
            .unwrap_err()
            .to_string();
        assert!(e.contains("lr"), "{e}");
        let e = NeuralStopParams::new(StoppingNet::mlp(), 10_000, 1_000_000, 1, 1e-2, 0)
            .unwrap_err()
            .to_string();
        assert!(e.contains("batch paths"), "{e}");
        let bad = PutOption {
            sigma: 0.0,
            ..put()
        };
        let p = tiny(StoppingNet::mlp(), 3, 1, 0);
        let e = neural_fit(&bad, &PriceProcess::Gbm, &p, &Progress::hidden())
            .unwrap_err()
            .to_string();
        assert!(e.contains("sigma"), "{e}");
    }
}
