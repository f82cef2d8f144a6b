//! The multi-item, multi-machine lot-sizing environment with stochastic
//! demand, after the authors' `SimplePlant` (`leokan92/pdppo`,
//! `code/Lot-sizing/envs/simplePlant.py`).
//!
//! One period: every machine `m` picks an action `a_m` in `0..=items`
//! (`0` idle, `i + 1` produce item `i`):
//!
//! 1. **decision** (deterministic): a machine that produces item `i` and was
//!    set up for another item (or idle) pays `setup_cost[m][i]` and loses
//!    `setup_loss[m][i]` units of that period's output; it then adds
//!    `max(production[m][i] - loss, 0)` units to item `i`'s inventory and is
//!    set up for `i`; an idle machine loses its setup. The result is the
//!    **post-decision state** (inventory after production, setups after the
//!    decision), [`LotSizing::post_decision`];
//! 2. **demand** (random): each item's demand `D_i ~ Binomial(n_i, p_i)` is
//!    served from stock; the shortfall is lost at `lost_sales_cost[i]` per
//!    unit; what is left is capped at `max_inventory[i]` and pays
//!    `holding_cost[i]` per unit ([`LotSizing::apply_demand`]).
//!
//! The reward is minus the period's setup + lost-sales + holding cost; an
//! episode has `horizon` periods. With `random_start` every episode starts
//! from inventories uniform on `0..max_inventory[i]` and setups uniform over
//! the items each machine can produce (the authors' `reset`); otherwise from
//! `initial_inventory` / `initial_setup`.
//!
//! Differences from `SimplePlant`, on purpose: production below zero (a
//! setup loss larger than the output) is clamped to zero instead of removing
//! stock, and actions are checked (an out-of-range item is an error).

use duality_core::config::Validate;
use duality_core::{Error, Result};
use rand::Rng;
use rand_distr::{Binomial, Distribution};
use serde::{Deserialize, Serialize};

/// Most items, machines (each) and periods a configuration may have.
pub const MAX_ITEMS: usize = 1024;
/// Most machines.
pub const MAX_MACHINES: usize = 1024;
/// Most periods per episode.
pub const MAX_HORIZON: usize = 1_000_000;
/// Largest production, setup loss, inventory cap and demand trial count.
pub const MAX_QUANTITY: u32 = 1_000_000;

/// A lot-sizing instance (checked by [`Validate`]; build it with
/// [`LotSizing::new`]). Matrices are indexed `[machine][item]`, vectors
/// `[item]`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LotSizingConfig {
    /// Periods per episode.
    pub horizon: usize,
    /// Units machine `m` makes of item `i` in one period (0: it cannot).
    pub production: Vec<Vec<u32>>,
    /// Cost of setting machine `m` up for item `i`.
    pub setup_cost: Vec<Vec<f64>>,
    /// Units lost in the period machine `m` is set up for item `i`.
    pub setup_loss: Vec<Vec<u32>>,
    /// Holding cost per unit left after demand.
    pub holding_cost: Vec<f64>,
    /// Cost per unit of unmet demand (lost sales).
    pub lost_sales_cost: Vec<f64>,
    /// Inventory cap after demand (storage capacity).
    pub max_inventory: Vec<u32>,
    /// Demand of item `i` is `Binomial(demand_trials[i], demand_prob[i])`.
    pub demand_trials: Vec<u32>,
    /// Success probability of each item's binomial demand.
    pub demand_prob: Vec<f64>,
    /// Random start (the authors' `reset`) or the fixed start below.
    pub random_start: bool,
    /// Fixed start inventory (used when `random_start` is false).
    pub initial_inventory: Vec<u32>,
    /// Fixed start setups: `0` idle, `i + 1` set up for item `i`.
    pub initial_setup: Vec<usize>,
}

impl Default for LotSizingConfig {
    /// Three items, two machines, 20 periods: machine 0 makes items 0 and 1
    /// (8 and 6 a period), machine 1 items 1 and 2 (6 and 8); setups cost 2
    /// and lose 1 unit; holding 0.1, lost sales 3 per unit; caps of 20;
    /// demand `Binomial(8, 0.4)` (mean 3.2) per item; random starts. The
    /// scale of the authors' small settings (holding 0.1, lost sales 1-3,
    /// setup 1-2, setup loss 1, binomial demand).
    fn default() -> Self {
        LotSizingConfig {
            horizon: 20,
            production: vec![vec![8, 6, 0], vec![0, 6, 8]],
            setup_cost: vec![vec![2.0; 3], vec![2.0; 3]],
            setup_loss: vec![vec![1; 3], vec![1; 3]],
            holding_cost: vec![0.1; 3],
            lost_sales_cost: vec![3.0; 3],
            max_inventory: vec![20; 3],
            demand_trials: vec![8; 3],
            demand_prob: vec![0.4; 3],
            random_start: true,
            initial_inventory: vec![0; 3],
            initial_setup: vec![0; 2],
        }
    }
}

fn check_len(name: &str, len: usize, expected: usize, of: &str) -> Result<()> {
    if len != expected {
        return Err(Error::invalid(
            format!("{name} length"),
            len,
            format!("{expected} ({of})"),
        ));
    }
    Ok(())
}

fn check_cost(name: String, c: f64) -> Result<()> {
    if !(c.is_finite() && c >= 0.0) {
        return Err(Error::invalid(name, c, "a finite cost >= 0"));
    }
    Ok(())
}

fn check_quantity(name: String, q: u32) -> Result<()> {
    if q > MAX_QUANTITY {
        return Err(Error::invalid(name, q, format!("at most {MAX_QUANTITY}")));
    }
    Ok(())
}

impl Validate for LotSizingConfig {
    /// Horizon in `1..=1e6`; `1..=1024` items and machines; every matrix
    /// `machines x items`, every vector `items` long (setups `machines`);
    /// costs finite and `>= 0`; quantities at most 1e6; caps `>= 1`;
    /// probabilities in [0, 1]; a fixed start within the caps and setups in
    /// `0..=items`.
    fn validate(&self) -> Result<()> {
        if self.horizon == 0 || self.horizon > MAX_HORIZON {
            return Err(Error::invalid(
                "horizon",
                self.horizon,
                format!("a period count in 1..={MAX_HORIZON}"),
            ));
        }
        let machines = self.production.len();
        if machines == 0 || machines > MAX_MACHINES {
            return Err(Error::invalid(
                "machines (rows of production)",
                machines,
                format!("in 1..={MAX_MACHINES}"),
            ));
        }
        let items = self.production[0].len();
        if items == 0 || items > MAX_ITEMS {
            return Err(Error::invalid(
                "items (columns of production)",
                items,
                format!("in 1..={MAX_ITEMS}"),
            ));
        }
        // The policy's output layer is machines x (items + 1) wide.
        duality_core::limits::product(&[("machines", machines), ("items + 1", items + 1)])?;
        for m in 0..machines {
            check_len(
                &format!("production[{m}]"),
                self.production[m].len(),
                items,
                "items",
            )?;
        }
        check_len("setup_cost", self.setup_cost.len(), machines, "machines")?;
        check_len("setup_loss", self.setup_loss.len(), machines, "machines")?;
        for m in 0..machines {
            check_len(
                &format!("setup_cost[{m}]"),
                self.setup_cost[m].len(),
                items,
                "items",
            )?;
            check_len(
                &format!("setup_loss[{m}]"),
                self.setup_loss[m].len(),
                items,
                "items",
            )?;
            for i in 0..items {
                check_quantity(format!("production[{m}][{i}]"), self.production[m][i])?;
                check_quantity(format!("setup_loss[{m}][{i}]"), self.setup_loss[m][i])?;
                check_cost(format!("setup_cost[{m}][{i}]"), self.setup_cost[m][i])?;
            }
        }
        for (name, len) in [
            ("holding_cost", self.holding_cost.len()),
            ("lost_sales_cost", self.lost_sales_cost.len()),
            ("max_inventory", self.max_inventory.len()),
            ("demand_trials", self.demand_trials.len()),
            ("demand_prob", self.demand_prob.len()),
            ("initial_inventory", self.initial_inventory.len()),
        ] {
            check_len(name, len, items, "items")?;
        }
        check_len(
            "initial_setup",
            self.initial_setup.len(),
            machines,
            "machines",
        )?;
        for i in 0..items {
            check_cost(format!("holding_cost[{i}]"), self.holding_cost[i])?;
            check_cost(format!("lost_sales_cost[{i}]"), self.lost_sales_cost[i])?;
            check_quantity(format!("max_inventory[{i}]"), self.max_inventory[i])?;
            if self.max_inventory[i] == 0 {
                return Err(Error::invalid(
                    format!("max_inventory[{i}]"),
                    0,
                    "a cap >= 1",
                ));
            }
            check_quantity(format!("demand_trials[{i}]"), self.demand_trials[i])?;
            duality_core::check::probability(&format!("demand_prob[{i}]"), self.demand_prob[i])?;
            if self.initial_inventory[i] > self.max_inventory[i] {
                return Err(Error::invalid(
                    format!("initial_inventory[{i}]"),
                    self.initial_inventory[i],
                    format!("at most max_inventory[{i}] = {}", self.max_inventory[i]),
                ));
            }
        }
        for (m, &s) in self.initial_setup.iter().enumerate() {
            if s > items {
                return Err(Error::invalid(
                    format!("initial_setup[{m}]"),
                    s,
                    format!("0 (idle) or an item 1..={items}"),
                ));
            }
        }
        Ok(())
    }
}

/// The state before a decision: inventories, machine setups and the period.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LotState {
    /// Units of each item in stock.
    pub inventory: Vec<u32>,
    /// Each machine's setup: `0` idle, `i + 1` set up for item `i`.
    pub setup: Vec<usize>,
    /// Period index, `0..horizon`.
    pub t: usize,
}

/// The post-decision state: inventory after production and before demand,
/// setups after the decision, and the setup cost the decision paid.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PostDecision {
    /// Units of each item after this period's production (may exceed the
    /// cap: the cap applies after demand).
    pub inventory: Vec<u64>,
    /// Setups after the decision.
    pub setup: Vec<usize>,
    /// Setup cost paid by the decision.
    pub setup_cost: f64,
    /// Period index of the decision.
    pub t: usize,
}

/// One period's costs.
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize)]
pub struct PeriodCost {
    /// Setup costs.
    pub setup: f64,
    /// Lost-sales penalties.
    pub lost_sales: f64,
    /// Holding costs.
    pub holding: f64,
}

impl PeriodCost {
    /// Setup + lost sales + holding.
    pub fn total(&self) -> f64 {
        self.setup + self.lost_sales + self.holding
    }
}

/// What [`LotSizing::step`] returns.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Transition {
    /// The post-decision state.
    pub post: PostDecision,
    /// The demand drawn.
    pub demand: Vec<u32>,
    /// The next state.
    pub next: LotState,
    /// The period's costs (the reward is minus their total).
    pub cost: PeriodCost,
    /// Whether the episode ended (`next.t == horizon`).
    pub done: bool,
}

/// A validated lot-sizing environment.
#[derive(Debug, Clone)]
pub struct LotSizing {
    config: LotSizingConfig,
    demand: Vec<Binomial>,
    /// For each machine, the items (1-based) it can produce.
    producible: Vec<Vec<usize>>,
}

impl LotSizing {
    /// Checks `config` and builds the environment.
    pub fn new(config: LotSizingConfig) -> Result<Self> {
        config.validate()?;
        let demand = config
            .demand_trials
            .iter()
            .zip(&config.demand_prob)
            .enumerate()
            .map(|(i, (&n, &p))| {
                Binomial::new(u64::from(n), p)
                    .map_err(|e| Error::invalid(format!("demand_prob[{i}]"), p, e.to_string()))
            })
            .collect::<Result<Vec<_>>>()?;
        let producible = config
            .production
            .iter()
            .map(|row| {
                row.iter()
                    .enumerate()
                    .filter(|(_, &q)| q > 0)
                    .map(|(i, _)| i + 1)
                    .collect()
            })
            .collect();
        Ok(LotSizing {
            config,
            demand,
            producible,
        })
    }

    /// Parses a TOML configuration (the [`LotSizingConfig`] fields) and
    /// builds the environment.
    pub fn from_toml(text: &str) -> Result<Self> {
        let config: LotSizingConfig = toml::from_str(text)
            .map_err(|e| Error::invalid("lot-sizing config", "the TOML given", e.to_string()))?;
        Self::new(config)
    }

    /// Loads a TOML configuration file and builds the environment.
    pub fn load(path: impl AsRef<std::path::Path>) -> Result<Self> {
        Self::new(duality_core::config::load_toml(path.as_ref())?)
    }

    /// The configuration.
    pub fn config(&self) -> &LotSizingConfig {
        &self.config
    }

    /// Items.
    pub fn items(&self) -> usize {
        self.config.max_inventory.len()
    }

    /// Machines.
    pub fn machines(&self) -> usize {
        self.config.production.len()
    }

    /// Periods per episode.
    pub fn horizon(&self) -> usize {
        self.config.horizon
    }

    /// Choices per machine (`items + 1`: idle or one item).
    pub fn choices(&self) -> usize {
        self.items() + 1
    }

    /// Width of [`LotSizing::features`]: the scaled inventories and a
    /// one-hot setup per machine.
    pub fn feature_dim(&self) -> usize {
        self.items() + self.machines() * self.choices()
    }

    /// A cost scale: the expected lost-sales cost of one period with no
    /// stock, `sum_i lost_sales_cost[i] n_i p_i` (1 if that is 0). The
    /// learners divide rewards by it.
    pub fn cost_scale(&self) -> f64 {
        let c = &self.config;
        let s: f64 = (0..self.items())
            .map(|i| c.lost_sales_cost[i] * f64::from(c.demand_trials[i]) * c.demand_prob[i])
            .sum();
        if s > 0.0 && s.is_finite() {
            s
        } else {
            1.0
        }
    }

    /// The start of an episode: random (the authors' `reset`) or fixed.
    pub fn start(&self, rng: &mut impl Rng) -> LotState {
        let c = &self.config;
        if !c.random_start {
            return LotState {
                inventory: c.initial_inventory.clone(),
                setup: c.initial_setup.clone(),
                t: 0,
            };
        }
        let inventory = c
            .max_inventory
            .iter()
            .map(|&cap| rng.random_range(0..cap))
            .collect();
        let setup = self
            .producible
            .iter()
            .map(|items| {
                if items.is_empty() {
                    0
                } else {
                    items[rng.random_range(0..items.len())]
                }
            })
            .collect();
        LotState {
            inventory,
            setup,
            t: 0,
        }
    }

    /// Draws one period's demand, one binomial per item.
    pub fn sample_demand(&self, rng: &mut impl Rng) -> Vec<u32> {
        self.demand
            .iter()
            .map(|d| d.sample(rng).min(u64::from(u32::MAX)) as u32)
            .collect()
    }

    fn check_state(&self, state: &LotState) -> Result<()> {
        duality_core::check::same_len(
            "state inventory",
            state.inventory.len(),
            "items",
            self.items(),
        )?;
        duality_core::check::same_len(
            "state setup",
            state.setup.len(),
            "machines",
            self.machines(),
        )?;
        if let Some((m, &s)) = state
            .setup
            .iter()
            .enumerate()
            .find(|(_, &s)| s > self.items())
        {
            return Err(Error::invalid(
                format!("setup[{m}]"),
                s,
                format!("0 (idle) or an item 1..={}", self.items()),
            ));
        }
        Ok(())
    }

    /// The deterministic half of a period: setups and production
    /// (`action[m]`: `0` idle, `i + 1` produce item `i`).
    pub fn post_decision(&self, state: &LotState, action: &[usize]) -> Result<PostDecision> {
        self.check_state(state)?;
        duality_core::check::same_len("action", action.len(), "machines", self.machines())?;
        let c = &self.config;
        let mut inventory: Vec<u64> = state.inventory.iter().map(|&q| u64::from(q)).collect();
        let mut setup = state.setup.clone();
        let mut setup_cost = 0.0;
        for (m, &a) in action.iter().enumerate() {
            if a > self.items() {
                return Err(Error::invalid(
                    format!("action[{m}]"),
                    a,
                    format!("0 (idle) or an item 1..={}", self.items()),
                ));
            }
            if a == 0 {
                setup[m] = 0;
                continue;
            }
            let i = a - 1;
            let mut loss = 0;
            if setup[m] != a {
                setup_cost += c.setup_cost[m][i];
                loss = c.setup_loss[m][i];
            }
            setup[m] = a;
            inventory[i] += u64::from(c.production[m][i].saturating_sub(loss));
        }
        Ok(PostDecision {
            inventory,
            setup,
            setup_cost,
            t: state.t,
        })
    }

    /// The random half of a period: serve `demand` from the post-decision
    /// inventory, lose the shortfall, cap and hold what is left.
    pub fn apply_demand(
        &self,
        post: &PostDecision,
        demand: &[u32],
    ) -> Result<(LotState, PeriodCost)> {
        duality_core::check::same_len("demand", demand.len(), "items", self.items())?;
        duality_core::check::same_len(
            "post-decision inventory",
            post.inventory.len(),
            "items",
            self.items(),
        )?;
        let c = &self.config;
        let mut cost = PeriodCost {
            setup: post.setup_cost,
            ..PeriodCost::default()
        };
        let mut inventory = Vec::with_capacity(self.items());
        for i in 0..self.items() {
            let stock = post.inventory[i];
            let d = u64::from(demand[i]);
            let left = if stock >= d {
                stock - d
            } else {
                cost.lost_sales += (d - stock) as f64 * c.lost_sales_cost[i];
                0
            };
            let kept = left.min(u64::from(c.max_inventory[i])) as u32;
            cost.holding += f64::from(kept) * c.holding_cost[i];
            inventory.push(kept);
        }
        Ok((
            LotState {
                inventory,
                setup: post.setup.clone(),
                t: post.t + 1,
            },
            cost,
        ))
    }

    /// One period: decision, then a demand drawn from `rng`.
    pub fn step(
        &self,
        state: &LotState,
        action: &[usize],
        rng: &mut impl Rng,
    ) -> Result<Transition> {
        let post = self.post_decision(state, action)?;
        let demand = self.sample_demand(rng);
        let (next, cost) = self.apply_demand(&post, &demand)?;
        let done = next.t >= self.horizon();
        Ok(Transition {
            post,
            demand,
            next,
            cost,
            done,
        })
    }

    /// Network features of a (pre- or post-decision) state into `out`:
    /// `inventory_i / max_inventory_i` for every item (a post-decision
    /// inventory may exceed 1), then a one-hot setup (idle or item) per
    /// machine.
    pub fn features(&self, inventory: &[f64], setup: &[usize], out: &mut Vec<f32>) {
        out.clear();
        out.extend(
            inventory
                .iter()
                .zip(&self.config.max_inventory)
                .map(|(&q, &cap)| (q / f64::from(cap)) as f32),
        );
        let k = self.choices();
        for &s in setup {
            let start = out.len();
            out.resize(start + k, 0.0);
            out[start + s.min(k - 1)] = 1.0;
        }
    }

    /// [`LotSizing::features`] of a state.
    pub fn state_features(&self, state: &LotState, out: &mut Vec<f32>) {
        let inv: Vec<f64> = state.inventory.iter().map(|&q| f64::from(q)).collect();
        self.features(&inv, &state.setup, out);
    }

    /// [`LotSizing::features`] of a post-decision state.
    pub fn post_features(&self, post: &PostDecision, out: &mut Vec<f32>) {
        let inv: Vec<f64> = post.inventory.iter().map(|&q| q as f64).collect();
        self.features(&inv, &post.setup, out);
    }

    /// Mean episode cost of a policy over `episodes` episodes, starts and
    /// demands drawn from `rng`.
    pub fn evaluate(
        &self,
        mut policy: impl FnMut(&LotState) -> Result<Vec<usize>>,
        episodes: usize,
        rng: &mut impl Rng,
    ) -> Result<f64> {
        duality_core::check::at_least("episodes", episodes, 1)?;
        let mut total = 0.0;
        for _ in 0..episodes {
            let mut s = self.start(rng);
            loop {
                let a = policy(&s)?;
                let tr = self.step(&s, &a, rng)?;
                total += tr.cost.total();
                if tr.done {
                    break;
                }
                s = tr.next;
            }
        }
        Ok(total / episodes as f64)
    }
}
