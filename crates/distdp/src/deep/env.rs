//! Environments of the deep distributional agents: any finite-horizon
//! [`FiniteMdp`] with one-hot features ([`MdpEnv`]), and an inventory-control
//! problem with a continuous stock level and stochastic demand
//! ([`Inventory`]), where tabular DP is not possible.

use duality_core::config::Validate;
use duality_core::{Error, Result};
use rand::Rng;
use rand_distr::{Distribution, LogNormal};

use crate::mdp::FiniteMdp;

/// An episodic environment the deep agents train on. Episodes start in
/// [`DeepEnv::start`] and last at most [`DeepEnv::horizon`] steps; the
/// network sees [`DeepEnv::features`] of `(t, state)` plus the stock.
pub trait DeepEnv {
    /// The environment's state.
    type State: Clone;
    /// A short name for reports.
    fn name(&self) -> String;
    /// Number of actions.
    fn n_actions(&self) -> usize;
    /// Width of [`DeepEnv::features`].
    fn feature_dim(&self) -> usize;
    /// Discount.
    fn gamma(&self) -> f64;
    /// Episode length cap (the time feature runs over `0..horizon`).
    fn horizon(&self) -> usize;
    /// The start state (deterministic).
    fn start(&self) -> Self::State;
    /// Writes the features of `state` at time `t` into `out`
    /// (`out.len() == feature_dim()`).
    fn features(&self, t: usize, state: &Self::State, out: &mut [f32]);
    /// One step: the reward, the next state, and whether the episode ends
    /// (terminal state or horizon reached).
    fn step<R: Rng + ?Sized>(
        &self,
        t: usize,
        state: &Self::State,
        action: usize,
        rng: &mut R,
    ) -> (f64, Self::State, bool);
    /// An interval holding every return-to-go (the categorical head's
    /// support, the quantile head's output scale).
    fn value_range(&self) -> (f64, f64);
    /// An interval holding the return `G_0` from the start state: training
    /// draws initial stocks uniformly from its negation `[-hi, -lo]` (the
    /// stocks an outer CVaR search or a threshold can start from).
    fn start_return_range(&self) -> (f64, f64);
}

/// A finite-horizon [`FiniteMdp`] as a deep-agent environment: features are
/// one-hot of the state followed by one-hot of the time step (the optimal
/// stock-augmented policy of a finite horizon depends on time).
#[derive(Debug, Clone)]
pub struct MdpEnv {
    mdp: FiniteMdp,
    horizon: usize,
    value_range: (f64, f64),
    start_range: (f64, f64),
}

/// Largest `states + horizon` one-hot width accepted.
const MAX_ONE_HOT: usize = 100_000;

impl MdpEnv {
    /// Wraps `mdp`, which must have a finite horizon (the executed policy is
    /// evaluated exactly, by forward enumeration, which needs one).
    pub fn new(mdp: FiniteMdp) -> Result<Self> {
        let Some(horizon) = mdp.horizon() else {
            return Err(Error::invalid(
                "horizon",
                "none",
                "a finite horizon (the deep agent's executed policy is evaluated exactly; set \
                 one with with_horizon / --horizon)",
            ));
        };
        duality_core::check::at_least("horizon", horizon, 1)?;
        let width = mdp.n_states().saturating_add(horizon);
        if width > MAX_ONE_HOT {
            return Err(Error::invalid(
                "states + horizon",
                width,
                format!("at most {MAX_ONE_HOT} one-hot features"),
            ));
        }
        // Backward recursion of the smallest and largest return-to-go over
        // every (t, state) and every policy.
        let n = mdp.n_states();
        let (mut lo, mut hi) = (vec![0.0f64; n], vec![0.0f64; n]);
        let (mut all_lo, mut all_hi) = (0.0f64, 0.0f64);
        for _ in 0..horizon {
            let (mut nlo, mut nhi) = (vec![0.0f64; n], vec![0.0f64; n]);
            for s in 0..n {
                if mdp.is_terminal(s) {
                    continue;
                }
                let (mut l, mut h) = (f64::INFINITY, f64::NEG_INFINITY);
                for a in 0..mdp.n_actions() {
                    for o in mdp.outcomes(s, a) {
                        if o.prob > 0.0 {
                            l = l.min(o.reward + mdp.gamma() * lo[o.next]);
                            h = h.max(o.reward + mdp.gamma() * hi[o.next]);
                        }
                    }
                }
                nlo[s] = l;
                nhi[s] = h;
            }
            lo = nlo;
            hi = nhi;
            all_lo = lo.iter().fold(all_lo, |m, &x| m.min(x));
            all_hi = hi.iter().fold(all_hi, |m, &x| m.max(x));
        }
        let start = (lo[mdp.start()], hi[mdp.start()]);
        Ok(MdpEnv {
            mdp,
            horizon,
            value_range: widen(all_lo, all_hi),
            start_range: widen(start.0, start.1),
        })
    }

    /// The wrapped MDP.
    pub fn mdp(&self) -> &FiniteMdp {
        &self.mdp
    }
}

/// `[lo, hi]`, widened to a unit interval around `lo` when degenerate.
fn widen(lo: f64, hi: f64) -> (f64, f64) {
    if hi - lo < 1e-9 {
        (lo - 0.5, lo + 0.5)
    } else {
        (lo, hi)
    }
}

/// `mdp` with its horizon set to `horizon` and its discount to `gamma`
/// (everything else unchanged): the finite-horizon version of an
/// infinite-horizon instance.
pub fn with_horizon(mdp: &FiniteMdp, horizon: usize, gamma: f64) -> Result<FiniteMdp> {
    duality_core::check::at_least("horizon", horizon, 1)?;
    let outcomes = (0..mdp.n_states())
        .map(|s| {
            (0..mdp.n_actions())
                .map(|a| mdp.outcomes(s, a).to_vec())
                .collect()
        })
        .collect();
    FiniteMdp::builder(outcomes, gamma)
        .name(mdp.name())
        .horizon(Some(horizon))
        .start(mdp.start())
        .terminal(mdp.terminal().to_vec())
        .state_names(mdp.state_names().to_vec())
        .action_names(mdp.action_names().to_vec())
        .build()
}

impl DeepEnv for MdpEnv {
    type State = usize;

    fn name(&self) -> String {
        format!("{}-h{}", self.mdp.name(), self.horizon)
    }
    fn n_actions(&self) -> usize {
        self.mdp.n_actions()
    }
    fn feature_dim(&self) -> usize {
        self.mdp.n_states() + self.horizon
    }
    fn gamma(&self) -> f64 {
        self.mdp.gamma()
    }
    fn horizon(&self) -> usize {
        self.horizon
    }
    fn start(&self) -> usize {
        self.mdp.start()
    }
    fn features(&self, t: usize, state: &usize, out: &mut [f32]) {
        out.fill(0.0);
        out[*state] = 1.0;
        out[self.mdp.n_states() + t.min(self.horizon - 1)] = 1.0;
    }
    fn step<R: Rng + ?Sized>(
        &self,
        t: usize,
        state: &usize,
        action: usize,
        rng: &mut R,
    ) -> (f64, usize, bool) {
        let o = self.mdp.step(*state, action, rng);
        let done = self.mdp.is_terminal(o.next) || t + 1 >= self.horizon;
        (o.reward, o.next, done)
    }
    fn value_range(&self) -> (f64, f64) {
        self.value_range
    }
    fn start_return_range(&self) -> (f64, f64) {
        self.start_range
    }
}

/// A periodic-review inventory problem with a continuous stock level and
/// lost sales: at each of `horizon` periods the manager holds `x` units
/// (`0 <= x <= capacity`), orders `q = action * order_unit` (delivered at
/// once, stock capped at `capacity`), and sells `min(y, D)` of the
/// post-order stock `y` to a log-normal demand `D` (mean `demand_mean`,
/// log-standard deviation `demand_sigma`). The period's reward is
/// `price * sales - cost * q - holding * leftover`; stock left after the
/// last period is worthless. Ordering much has the higher mean and a long
/// lower tail (unsold units bought at `cost`), so the CVaR-optimal orders
/// are smaller than the risk-neutral ones. Features: `x / capacity` and
/// one-hot of the period.
#[derive(Debug, Clone, PartialEq)]
pub struct Inventory {
    capacity: f64,
    order_unit: f64,
    actions: usize,
    horizon: usize,
    price: f64,
    cost: f64,
    holding: f64,
    demand: LogNormal<f64>,
    demand_mean: f64,
    demand_sigma: f64,
    start_range: (f64, f64),
}

impl Inventory {
    /// A checked instance: capacity, order unit, price, cost, demand mean
    /// and sigma > 0; holding >= 0; 2..=64 actions; horizon 1..=1000.
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        capacity: f64,
        order_unit: f64,
        actions: usize,
        horizon: usize,
        price: f64,
        cost: f64,
        holding: f64,
        demand_mean: f64,
        demand_sigma: f64,
    ) -> Result<Self> {
        for (name, v) in [
            ("capacity", capacity),
            ("order unit", order_unit),
            ("price", price),
            ("cost", cost),
            ("demand mean", demand_mean),
            ("demand sigma", demand_sigma),
        ] {
            duality_core::check::positive(name, v)?;
        }
        duality_core::check::finite_scalar("holding", holding)?;
        if holding < 0.0 {
            return Err(Error::invalid("holding", holding, "a cost >= 0"));
        }
        if !(2..=64).contains(&actions) {
            return Err(Error::invalid("actions", actions, "in 2..=64"));
        }
        if !(1..=1000).contains(&horizon) {
            return Err(Error::invalid("horizon", horizon, "in 1..=1000"));
        }
        // E D = exp(mu + sigma^2 / 2).
        let mu = demand_mean.ln() - 0.5 * demand_sigma * demand_sigma;
        let demand = LogNormal::new(mu, demand_sigma)
            .map_err(|e| Error::invalid("demand sigma", demand_sigma, e.to_string()))?;
        let mut env = Inventory {
            capacity,
            order_unit,
            actions,
            horizon,
            price,
            cost,
            holding,
            demand,
            demand_mean,
            demand_sigma,
            start_range: (0.0, 0.0),
        };
        env.start_range = env.simulated_start_range();
        Ok(env)
    }

    /// The range of `G_0` seen in 1,000 seeded episodes of every constant
    /// order and of uniformly random orders, widened by a tenth of its width
    /// on each side.
    fn simulated_start_range(&self) -> (f64, f64) {
        let mut rng = duality_core::seed::Seeder::new(0).rng(0);
        let (mut lo, mut hi) = (f64::INFINITY, f64::NEG_INFINITY);
        for policy in 0..=self.actions {
            for _ in 0..1_000 {
                let (mut x, mut g) = (0.0, 0.0);
                for t in 0..self.horizon {
                    let a = if policy < self.actions {
                        policy
                    } else {
                        rng.random_range(0..self.actions)
                    };
                    let (r, next, _) = self.step(t, &x, a, &mut rng);
                    g += r;
                    x = next;
                }
                lo = lo.min(g);
                hi = hi.max(g);
            }
        }
        let pad = 0.1 * (hi - lo);
        widen(lo - pad, hi + pad)
    }

    /// The instance of the bench and the docs: capacity 10, orders
    /// 0, 2, 4, 6, 8, six periods, price 2, cost 1, holding 0.1, demand
    /// mean 3 with log-sigma 1.
    pub fn standard() -> Self {
        Inventory::new(10.0, 2.0, 5, 6, 2.0, 1.0, 0.1, 3.0, 1.0)
            .expect("the standard inventory instance is valid")
    }

    /// The largest order `(actions - 1) * order_unit`.
    fn max_order(&self) -> f64 {
        (self.actions - 1) as f64 * self.order_unit
    }
}

impl Validate for Inventory {
    fn validate(&self) -> Result<()> {
        Inventory::new(
            self.capacity,
            self.order_unit,
            self.actions,
            self.horizon,
            self.price,
            self.cost,
            self.holding,
            self.demand_mean,
            self.demand_sigma,
        )
        .map(|_| ())
    }
}

impl DeepEnv for Inventory {
    type State = f64;

    fn name(&self) -> String {
        format!("inventory-h{}", self.horizon)
    }
    fn n_actions(&self) -> usize {
        self.actions
    }
    fn feature_dim(&self) -> usize {
        1 + self.horizon
    }
    fn gamma(&self) -> f64 {
        1.0
    }
    fn horizon(&self) -> usize {
        self.horizon
    }
    fn start(&self) -> f64 {
        0.0
    }
    fn features(&self, t: usize, state: &f64, out: &mut [f32]) {
        out.fill(0.0);
        out[0] = (*state / self.capacity) as f32;
        out[1 + t.min(self.horizon - 1)] = 1.0;
    }
    fn step<R: Rng + ?Sized>(
        &self,
        t: usize,
        state: &f64,
        action: usize,
        rng: &mut R,
    ) -> (f64, f64, bool) {
        let q = action as f64 * self.order_unit;
        let y = (state + q).min(self.capacity);
        let d = self.demand.sample(rng);
        let sales = y.min(d);
        let left = y - sales;
        let reward = self.price * sales - self.cost * q - self.holding * left;
        (reward, left, t + 1 >= self.horizon)
    }
    /// The simulated range of `G_0` ([`DeepEnv::start_return_range`]),
    /// stretched to hold one period's extremes `[-(cost q_max + holding
    /// cap), price cap]` (the last period's return-to-go).
    fn value_range(&self) -> (f64, f64) {
        let (lo, hi) = self.start_range;
        (
            lo.min(-(self.cost * self.max_order() + self.holding * self.capacity)),
            hi.max(self.price * self.capacity),
        )
    }
    /// Narrower than [`DeepEnv::value_range`]: the range of `G_0` in
    /// seeded simulations of constant and random orders, widened by 10% on
    /// each side (computed once at construction).
    fn start_return_range(&self) -> (f64, f64) {
        self.start_range
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::mdp::library;
    use duality_core::seed::Seeder;

    #[test]
    fn mdp_env_features_and_ranges() {
        let mdp = library::gambling(10, 1, 3, 0.6, 1.0, 2).unwrap();
        let env = MdpEnv::new(mdp.clone()).unwrap();
        assert_eq!(env.feature_dim(), mdp.n_states() + 2);
        let mut f = vec![9.0f32; env.feature_dim()];
        env.features(1, &3, &mut f);
        assert_eq!(f.iter().sum::<f32>(), 2.0);
        assert_eq!(f[3], 1.0);
        assert_eq!(f[mdp.n_states() + 1], 1.0);
        // Two bets of 1: returns in [-2, 2].
        assert_eq!(env.start_return_range(), (-2.0, 2.0));
        let inf = library::chain(3, 0.1, 0.9).unwrap();
        let e = MdpEnv::new(inf.clone()).unwrap_err().to_string();
        assert!(e.contains("horizon"), "{e}");
        let finite = with_horizon(&inf, 4, 1.0).unwrap();
        assert_eq!(finite.horizon(), Some(4));
        assert!(MdpEnv::new(finite).is_ok());
        assert!(with_horizon(&inf, 0, 1.0).is_err());
        assert!(with_horizon(&inf, 3, 1.5).is_err());
    }

    #[test]
    fn inventory_steps_within_its_range() {
        let env = Inventory::standard();
        let (lo, hi) = env.value_range();
        let (slo, shi) = env.start_return_range();
        assert!(
            lo <= slo && shi <= hi && slo < 0.0 && shi > 0.0,
            "{slo} {shi}"
        );
        assert!(lo <= -9.0 && hi >= 20.0);
        let mut rng = Seeder::new(3).rng(0);
        for a in 0..env.n_actions() {
            let (mut x, mut g) = (env.start(), 0.0);
            for t in 0..env.horizon() {
                let (r, next, done) = env.step(t, &x, a, &mut rng);
                assert!((0.0..=10.0).contains(&next));
                g += r;
                x = next;
                assert_eq!(done, t + 1 == env.horizon());
            }
            assert!(lo <= g && g <= hi, "{g}");
        }
        assert!(Inventory::new(0.0, 1.0, 3, 4, 1.0, 1.0, 0.0, 1.0, 1.0).is_err());
        let e = Inventory::new(10.0, 1.0, 1, 4, 1.0, 1.0, 0.0, 1.0, 1.0)
            .unwrap_err()
            .to_string();
        assert!(e.contains("actions"), "{e}");
        assert!(Inventory::new(10.0, 1.0, 3, 4, 1.0, 1.0, -1.0, 1.0, 1.0).is_err());
    }
}
