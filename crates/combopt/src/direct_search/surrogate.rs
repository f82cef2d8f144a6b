//! The attack oracle of the hybrid method on tch: an MLP surrogate
//! `Phi(x) ~ f(x)` fitted online to the blackbox evaluations, attacked by
//! FGSM (`d = -r sign(grad_x Phi(x))`, the authors' default attack,
//! `local_attack_step(..., algo = "FGSM")`, with the target direction
//! `grad f(Phi) = -1` for minimisation) or PGD (`algo = "PGD"`, projected
//! signed-gradient steps on the surrogate, [`super::attack_direction`]).
//!
//! Fitting: the network is kept across calls (warm start); before each
//! attack it takes `steps` Adam steps on the mean squared error over the
//! `window` evaluated points nearest to `x`. Inputs are standardised over
//! that window and targets are `ln(1 + f - f_min)` standardised (a
//! monotone transform: it keeps the descent direction and tames
//! Rosenbrock's range). Runs on the default device (CUDA when present).

use duality_core::tensor::tch::{nn, nn::OptimizerConfig as _, Device, Kind, Tensor};
use duality_core::tensor::{default_device, Activation, Mlp, MlpConfig};
use duality_core::{Error, Result};

use super::{attack_direction, AttackKind, AttackOracle};

/// Parameters of [`SurrogateAttack`].
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct SurrogateParams {
    /// Hidden widths of the MLP.
    pub hidden: Vec<usize>,
    /// Adam steps before each attack.
    pub steps: usize,
    /// Adam learning rate.
    pub lr: f64,
    /// Points nearest to `x` used for fitting.
    pub window: usize,
    /// Seed of the initial weights.
    pub seed: u64,
    /// The attack on the fitted surrogate (FGSM by default).
    #[serde(default)]
    pub attack: AttackKind,
}

impl Default for SurrogateParams {
    fn default() -> Self {
        Self {
            hidden: vec![32, 32],
            steps: 20,
            lr: 1e-2,
            window: 64,
            seed: 0,
            attack: AttackKind::Fgsm,
        }
    }
}

/// MLP surrogate fitted online + FGSM attack.
pub struct SurrogateAttack {
    params: SurrogateParams,
    n: usize,
    device: Device,
    /// Owns the network's variables (kept alive with it).
    _vs: nn::VarStore,
    net: Mlp,
    opt: nn::Optimizer,
    xs: Vec<Vec<f64>>,
    fs: Vec<f64>,
}

impl SurrogateAttack {
    /// A fresh surrogate for `n` variables.
    pub fn new(n: usize, params: SurrogateParams) -> Result<Self> {
        if n == 0 {
            return Err(Error::invalid("dimension", n, "at least 1"));
        }
        if params.steps == 0 || params.window < 2 {
            return Err(Error::invalid(
                "surrogate steps / window",
                format!("{} / {}", params.steps, params.window),
                "at least 1 step and a window of at least 2 points",
            ));
        }
        params.attack.validate()?;
        if !(params.lr.is_finite() && params.lr > 0.0) {
            return Err(Error::invalid(
                "surrogate lr",
                params.lr,
                "a finite value > 0",
            ));
        }
        let device = default_device()?;
        let vs = nn::VarStore::new(device);
        // Seeded initialisation under the process-wide generator lock:
        // bench seeds build their surrogates on parallel threads.
        let net = {
            let _guard = duality_core::tensor::lock_seeded(params.seed);
            MlpConfig::new(n, &params.hidden, 1)
                .activation(Activation::Tanh)
                .build(&(vs.root() / "phi"))?
        };
        let opt = nn::Adam::default()
            .build(&vs, params.lr)
            .map_err(|e| Error::Torch(e.to_string()))?;
        Ok(Self {
            params,
            n,
            device,
            _vs: vs,
            net,
            opt,
            xs: Vec::new(),
            fs: Vec::new(),
        })
    }

    /// Number of points seen.
    pub fn points(&self) -> usize {
        self.xs.len()
    }
}

impl AttackOracle for SurrogateAttack {
    fn name(&self) -> &str {
        match self.params.attack {
            AttackKind::Fgsm => "mlp-fgsm",
            AttackKind::Pgd { .. } => "mlp-pgd",
        }
    }

    fn observe(&mut self, x: &[f64], f: f64) {
        if x.len() == self.n && f.is_finite() {
            self.xs.push(x.to_vec());
            self.fs.push(f);
        }
    }

    fn direction(&mut self, x: &[f64], radius: f64) -> Result<Option<Vec<f64>>> {
        let n = self.n;
        if x.len() != n {
            return Err(Error::invalid(
                "attack point length",
                x.len(),
                format!("{n}"),
            ));
        }
        if self.xs.len() < n + 2 {
            return Ok(None);
        }
        // The window: nearest points to x (ties by index: deterministic).
        let mut idx: Vec<usize> = (0..self.xs.len()).collect();
        let dist = |i: usize| -> f64 {
            self.xs[i]
                .iter()
                .zip(x)
                .map(|(a, b)| (a - b) * (a - b))
                .sum()
        };
        idx.sort_by(|&a, &b| dist(a).total_cmp(&dist(b)).then(a.cmp(&b)));
        idx.truncate(self.params.window);
        let m = idx.len();
        let mut mean = vec![0.0; n];
        for &i in &idx {
            for j in 0..n {
                mean[j] += self.xs[i][j] / m as f64;
            }
        }
        let mut sd = vec![0.0; n];
        for &i in &idx {
            for j in 0..n {
                sd[j] += (self.xs[i][j] - mean[j]).powi(2) / m as f64;
            }
        }
        let sd: Vec<f64> = sd.into_iter().map(|v| v.sqrt().max(1e-12)).collect();
        let fmin = idx
            .iter()
            .map(|&i| self.fs[i])
            .fold(f64::INFINITY, f64::min);
        let ys: Vec<f64> = idx.iter().map(|&i| (self.fs[i] - fmin).ln_1p()).collect();
        let ym = ys.iter().sum::<f64>() / m as f64;
        let ysd = (ys.iter().map(|y| (y - ym).powi(2)).sum::<f64>() / m as f64)
            .sqrt()
            .max(1e-12);
        let mut xin = Vec::with_capacity(m * n);
        for &i in &idx {
            for j in 0..n {
                xin.push(((self.xs[i][j] - mean[j]) / sd[j]) as f32);
            }
        }
        let yin: Vec<f32> = ys.iter().map(|y| ((y - ym) / ysd) as f32).collect();
        let xt = Tensor::from_slice(&xin)
            .reshape([m as i64, n as i64])
            .to_device(self.device);
        let yt = Tensor::from_slice(&yin)
            .reshape([m as i64, 1])
            .to_device(self.device);
        for _ in 0..self.params.steps {
            let loss = self.net.try_forward(&xt)?.mse_loss(&yt, tch_reduction());
            self.opt.backward_step(&loss);
        }
        // The attack on the surrogate: its input gradient at x + d in the
        // standardised inputs u = (x + d - mean) / sd; d/dd = (1 / sd) d/du
        // (sd > 0: the signs, all FGSM and PGD use, are the same).
        let (net, device) = (&self.net, self.device);
        attack_direction(self.params.attack, n, radius, |d| {
            let u: Vec<f32> = (0..n)
                .map(|j| ((x[j] + d[j] - mean[j]) / sd[j]) as f32)
                .collect();
            let xq = Tensor::from_slice(&u)
                .reshape([1, n as i64])
                .to_device(device)
                .set_requires_grad(true);
            let out = net.try_forward(&xq)?.sum(Kind::Float);
            let grads = Tensor::run_backward(&[out], &[&xq], false, false);
            let g: Vec<f32> = grads
                .first()
                .ok_or_else(|| Error::Torch("no input gradient".into()))?
                .to_device(Device::Cpu)
                .reshape([-1])
                .try_into()
                .map_err(|e: duality_core::tensor::tch::TchError| Error::Torch(e.to_string()))?;
            Ok(g.iter()
                .zip(&sd)
                .map(|(&v, s)| if v.is_finite() { f64::from(v) / s } else { 0.0 })
                .collect())
        })
    }
}

fn tch_reduction() -> duality_core::tensor::tch::Reduction {
    duality_core::tensor::tch::Reduction::Mean
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fgsm_direction_descends_a_fitted_quadratic() {
        let mut s = SurrogateAttack::new(
            2,
            SurrogateParams {
                steps: 300,
                ..SurrogateParams::default()
            },
        )
        .unwrap();
        assert!(
            s.direction(&[0.0, 0.0], 0.1).unwrap().is_none(),
            "too few points"
        );
        let f = |x: &[f64]| (x[0] - 1.0).powi(2) + 2.0 * (x[1] - 1.0).powi(2);
        for i in -3..=3 {
            for j in -3..=3 {
                let x = [f64::from(i) * 0.3, f64::from(j) * 0.3];
                s.observe(&x, f(&x));
            }
        }
        assert_eq!(s.points(), 49);
        let d = s.direction(&[0.0, 0.0], 0.1).unwrap().unwrap();
        assert_eq!(d, vec![0.1, 0.1]);
        assert!(SurrogateAttack::new(0, SurrogateParams::default()).is_err());
        // PGD on the same fitted surrogate: within the radius, descending.
        let mut p = SurrogateAttack::new(
            2,
            SurrogateParams {
                steps: 300,
                attack: AttackKind::PGD,
                ..SurrogateParams::default()
            },
        )
        .unwrap();
        for i in -3..=3 {
            for j in -3..=3 {
                let x = [f64::from(i) * 0.3, f64::from(j) * 0.3];
                p.observe(&x, f(&x));
            }
        }
        let d = p.direction(&[0.0, 0.0], 0.1).unwrap().unwrap();
        assert!(d.iter().all(|v| *v > 0.0 && *v <= 0.1), "{d:?}");
        assert!(f(&d) < f(&[0.0, 0.0]));
        let e = SurrogateAttack::new(
            2,
            SurrogateParams {
                attack: AttackKind::Pgd {
                    steps: 0,
                    alpha: 0.1,
                },
                ..SurrogateParams::default()
            },
        )
        .err()
        .unwrap()
        .to_string();
        assert!(e.contains("pgd steps"), "{e}");
    }
}
