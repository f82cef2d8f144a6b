//! Multi-objective GFlowNets (Jain, Raparthy, Hernández-García, Rector-Brooks,
//! Bengio, Miret & Bengio, "Multi-Objective GFlowNets", ICML 2023) and the
//! baselines they are measured against.
//!
//! - Tasks ([`Task`]): the HyperGrid with the Branin and Currin (and
//!   Shubert) objectives of the MOGFN paper's Sec. 6.1, and the N-grams
//!   sequence task (Stanton et al. 2022, used in MOGFN's Sec. 6.2): strings
//!   over a small alphabet built left to right, one objective per motif
//!   (its occurrence count, normalised).
//! - The scalarised, preference-conditioned reward of MOGFN-PC (their
//!   Eq. 4 with the weighted-sum scalarisation): `R(x | w) = (sum_i w_i
//!   r_i(x))^beta`, preferences `w ~ Dirichlet(alpha)` ([`log_reward`],
//!   [`sample_preference`]).
//! - The trajectory-balance loss (Malkin et al. 2022, Eq. 14; conditional
//!   form MOGFN Eq. 5): `(log Z(w) + sum log P_F(s'|s, w) - log R(x|w) - sum
//!   log P_B(s|s'))^2` ([`trajectory_balance`]), the exact terminating
//!   distribution of a forward policy on an enumerable task
//!   ([`terminal_distribution`]), used to check reward-proportional sampling.
//! - Baselines at equal evaluation budgets: NSGA-II (Deb, Pratap, Agarwal &
//!   Meyarivan 2002: fast non-dominated sort, crowding distance, binary
//!   tournament, crossover and mutation; [`nsga2`]) and uniform random search
//!   ([`random_search`]).
//! - With the `torch` feature, the conditional GFlowNet itself
//!   (`model::MoGfn`, `model::train`): an MLP policy over (state, thermometer
//!   encoding of `w`) and a `log Z(w)` MLP on duality-core's tensor layer.
//!
//! Sources followed: the paper's text (Sec. 3-4: conditional GFlowNet,
//! Dirichlet preferences, thermometer encoding of the preference,
//! preference-conditioned `log Z`; App. C for the HyperGrid objectives).
//! The authors' code (`GFNOrg/multi-objective-gfn`) was not in the code
//! index searched for this work, so the objective normalisation is ours:
//! each test function divided by its range on its domain. Objectives are
//! maximised everywhere in this module; Pareto tools in [`crate::pareto`]
//! minimise, so fronts are measured on `-r(x)`.

#[cfg(feature = "experiments")]
pub mod experiment;
#[cfg(feature = "torch")]
pub mod model;

use std::collections::BTreeMap;

use duality_core::seed::DualityRng;
use duality_core::{Error, Result};
use rand::Rng;

/// A state: grid coordinates (HyperGrid) or the tokens so far (N-grams).
pub type State = Vec<usize>;

/// Largest number of states a task may have when it is enumerated.
pub const MAX_ENUMERATED: usize = 1 << 20;

/// A multi-objective generation task: a DAG of states from one initial
/// state, forward actions (the last one is "stop"), and objectives in
/// `[0, 1]` (to be maximised) on terminal states.
#[derive(Debug, Clone, PartialEq)]
pub enum Task {
    /// HyperGrid of side `side` in `dim` dimensions; each objective is a
    /// named test function on `[0, 1]^dim` (coordinates `x / (side - 1)`).
    HyperGrid {
        /// Cells per side (>= 2).
        side: usize,
        /// Dimensions (2 for Branin/Currin/Shubert).
        dim: usize,
        /// Objective names: `branin`, `currin`, `shubert`.
        objectives: Vec<String>,
    },
    /// Strings of 1 to `max_len` tokens over an alphabet of `alphabet`
    /// letters (`A`, `B`, ...), built by appending; objective `i` counts
    /// occurrences of `motifs[i]` (letters), divided by the most possible.
    NGrams {
        /// Alphabet size (2 to 26).
        alphabet: usize,
        /// Longest string.
        max_len: usize,
        /// One motif per objective, e.g. `["AB", "CD"]`.
        motifs: Vec<String>,
    },
}

/// HyperGrid objective names.
pub const GRID_OBJECTIVES: [&str; 3] = ["branin", "currin", "shubert"];

impl Task {
    /// A HyperGrid task, validated.
    ///
    /// # Errors
    /// A side below 2, a dimension other than 2, no objective or an unknown
    /// one, or more than [`MAX_ENUMERATED`] cells.
    pub fn hypergrid(side: usize, dim: usize, objectives: &[String]) -> Result<Self> {
        duality_core::check::at_least("side", side, 2)?;
        if dim != 2 {
            return Err(Error::invalid(
                "dim",
                dim,
                "2 (the Branin, Currin and Shubert objectives are 2-D)",
            ));
        }
        check_objective_count(objectives.len())?;
        for o in objectives {
            if !GRID_OBJECTIVES.contains(&o.as_str()) {
                return Err(Error::invalid(
                    "objective",
                    o,
                    format!("one of {}", GRID_OBJECTIVES.join(", ")),
                ));
            }
        }
        let cells = duality_core::limits::product(&[("side", side), ("side", side)])?;
        if cells > MAX_ENUMERATED {
            return Err(Error::invalid(
                "side",
                side,
                format!("at most {MAX_ENUMERATED} cells"),
            ));
        }
        Ok(Task::HyperGrid {
            side,
            dim,
            objectives: objectives.to_vec(),
        })
    }

    /// An N-grams task, validated.
    ///
    /// # Errors
    /// An alphabet outside 2..=26, a length outside 1..=64, no motif, or a
    /// motif empty, longer than `max_len` or using letters outside the
    /// alphabet.
    pub fn ngrams(alphabet: usize, max_len: usize, motifs: &[String]) -> Result<Self> {
        if !(2..=26).contains(&alphabet) {
            return Err(Error::invalid("alphabet", alphabet, "2 to 26 letters"));
        }
        if !(1..=64).contains(&max_len) {
            return Err(Error::invalid("max_len", max_len, "1 to 64 tokens"));
        }
        check_objective_count(motifs.len())?;
        for m in motifs {
            if m.is_empty() || m.len() > max_len {
                return Err(Error::invalid(
                    "motif",
                    format!("{m:?}"),
                    format!("1 to max_len = {max_len} letters"),
                ));
            }
            if let Some(c) = m
                .bytes()
                .find(|c| !(b'A'..b'A' + alphabet as u8).contains(c))
            {
                return Err(Error::invalid(
                    "motif",
                    format!("{m:?}"),
                    format!(
                        "letters A to {} (found {:?})",
                        (b'A' + alphabet as u8 - 1) as char,
                        c as char
                    ),
                ));
            }
        }
        Ok(Task::NGrams {
            alphabet,
            max_len,
            motifs: motifs.to_vec(),
        })
    }

    /// Number of objectives.
    pub fn objectives(&self) -> usize {
        match self {
            Task::HyperGrid { objectives, .. } => objectives.len(),
            Task::NGrams { motifs, .. } => motifs.len(),
        }
    }

    /// Number of forward actions, "stop" included (the last index).
    pub fn actions(&self) -> usize {
        match self {
            Task::HyperGrid { dim, .. } => dim + 1,
            Task::NGrams { alphabet, .. } => alphabet + 1,
        }
    }

    /// Index of the stop action.
    pub fn stop(&self) -> usize {
        self.actions() - 1
    }

    /// Length of a state's encoding (the policy's input besides `w`).
    pub fn encoding_len(&self) -> usize {
        match self {
            Task::HyperGrid { side, dim, .. } => side * dim,
            Task::NGrams {
                alphabet, max_len, ..
            } => alphabet * max_len + max_len + 1,
        }
    }

    /// Most forward actions in one trajectory (stop included).
    pub fn max_steps(&self) -> usize {
        match self {
            Task::HyperGrid { side, dim, .. } => (side - 1) * dim + 1,
            Task::NGrams { max_len, .. } => max_len + 1,
        }
    }

    /// The initial state `s_0`.
    pub fn initial(&self) -> State {
        match self {
            Task::HyperGrid { dim, .. } => vec![0; *dim],
            Task::NGrams { .. } => Vec::new(),
        }
    }

    /// One-hot encoding of `s` into `out` (length [`Task::encoding_len`]):
    /// per grid coordinate a one-hot of its value (as in the HyperGrid of
    /// Bengio et al. 2021); for strings a one-hot per position plus a
    /// one-hot of the length.
    pub fn encode(&self, s: &State, out: &mut [f32]) {
        out.iter_mut().for_each(|x| *x = 0.0);
        match self {
            Task::HyperGrid { side, .. } => {
                for (d, &x) in s.iter().enumerate() {
                    out[d * side + x] = 1.0;
                }
            }
            Task::NGrams {
                alphabet, max_len, ..
            } => {
                for (i, &t) in s.iter().enumerate() {
                    out[i * alphabet + t] = 1.0;
                }
                out[alphabet * max_len + s.len()] = 1.0;
            }
        }
    }

    /// Which forward actions are allowed in `s`.
    pub fn mask(&self, s: &State) -> Vec<bool> {
        match self {
            Task::HyperGrid { side, .. } => {
                let mut m: Vec<bool> = s.iter().map(|&x| x + 1 < *side).collect();
                m.push(true);
                m
            }
            Task::NGrams {
                alphabet, max_len, ..
            } => {
                let grow = s.len() < *max_len;
                let mut m = vec![grow; *alphabet];
                m.push(!s.is_empty());
                m
            }
        }
    }

    /// The state after the non-stop action `a` in `s`.
    pub fn step(&self, s: &State, a: usize) -> State {
        let mut t = s.clone();
        match self {
            Task::HyperGrid { .. } => t[a] += 1,
            Task::NGrams { .. } => t.push(a),
        }
        t
    }

    /// Number of parents of `s` in the DAG: the uniform backward policy is
    /// `P_B(s | s') = 1 / parents(s')` (HyperGrid: one per non-zero
    /// coordinate; strings: one, the prefix).
    pub fn parents(&self, s: &State) -> usize {
        match self {
            Task::HyperGrid { .. } => s.iter().filter(|&&x| x > 0).count(),
            Task::NGrams { .. } => usize::from(!s.is_empty()),
        }
    }

    /// Objective values of the terminal state `x`, each in `[0, 1]`
    /// (larger is better).
    pub fn evaluate(&self, x: &State) -> Vec<f64> {
        match self {
            Task::HyperGrid {
                side, objectives, ..
            } => {
                let u: Vec<f64> = x.iter().map(|&c| c as f64 / (*side - 1) as f64).collect();
                objectives
                    .iter()
                    .map(|o| grid_objective(o, u[0], u[1]))
                    .collect()
            }
            Task::NGrams {
                max_len, motifs, ..
            } => motifs
                .iter()
                .map(|m| {
                    let m: Vec<usize> = m.bytes().map(|b| usize::from(b - b'A')).collect();
                    let count = x.windows(m.len()).filter(|w| *w == m.as_slice()).count();
                    count as f64 / (max_len - m.len() + 1) as f64
                })
                .collect(),
        }
    }

    /// Every terminal state (each state that may stop), in a fixed order.
    ///
    /// # Errors
    /// More than [`MAX_ENUMERATED`] of them.
    pub fn terminals(&self) -> Result<Vec<State>> {
        match self {
            Task::HyperGrid { side, .. } => {
                Ok((0..side * side).map(|k| vec![k / side, k % side]).collect())
            }
            Task::NGrams {
                alphabet, max_len, ..
            } => {
                let mut total = 0usize;
                let mut level = 1usize;
                for _ in 0..*max_len {
                    level = level.saturating_mul(*alphabet);
                    total = total.saturating_add(level);
                }
                if total > MAX_ENUMERATED {
                    return Err(Error::invalid(
                        "alphabet^max_len",
                        format!("{alphabet}^{max_len}"),
                        format!("at most {MAX_ENUMERATED} strings to enumerate"),
                    ));
                }
                let mut out = Vec::with_capacity(total);
                let mut frontier: Vec<State> = vec![Vec::new()];
                for _ in 0..*max_len {
                    let mut next = Vec::new();
                    for s in &frontier {
                        for a in 0..*alphabet {
                            let t = self.step(s, a);
                            out.push(t.clone());
                            next.push(t);
                        }
                    }
                    frontier = next;
                }
                Ok(out)
            }
        }
    }

    /// A uniformly random terminal state (random search, NSGA-II's initial
    /// population). Strings: a uniform length, then uniform letters.
    pub fn random_terminal(&self, rng: &mut DualityRng) -> State {
        match self {
            Task::HyperGrid { side, dim, .. } => {
                (0..*dim).map(|_| rng.random_range(0..*side)).collect()
            }
            Task::NGrams {
                alphabet, max_len, ..
            } => {
                let len = rng.random_range(1..=*max_len);
                (0..len).map(|_| rng.random_range(0..*alphabet)).collect()
            }
        }
    }

    /// NSGA-II mutation: each coordinate (grid: a step of +-1..=2, clipped;
    /// string: a letter replaced) with probability `1 / length`, at least
    /// one; strings also grow or shrink by one letter with probability 0.2.
    pub fn mutate(&self, x: &State, rng: &mut DualityRng) -> State {
        let mut y = x.clone();
        match self {
            Task::HyperGrid { side, .. } => {
                let forced = rng.random_range(0..y.len());
                for (d, c) in y.iter_mut().enumerate() {
                    if d == forced || rng.random::<f64>() < 1.0 / x.len() as f64 {
                        let delta = rng.random_range(1..=2i64) * if rng.random() { 1 } else { -1 };
                        *c = (*c as i64 + delta).clamp(0, *side as i64 - 1) as usize;
                    }
                }
            }
            Task::NGrams {
                alphabet, max_len, ..
            } => {
                let forced = rng.random_range(0..y.len());
                for (i, c) in y.iter_mut().enumerate() {
                    if i == forced || rng.random::<f64>() < 1.0 / x.len() as f64 {
                        *c = rng.random_range(0..*alphabet);
                    }
                }
                if rng.random::<f64>() < 0.2 {
                    if rng.random() && y.len() < *max_len {
                        y.push(rng.random_range(0..*alphabet));
                    } else if y.len() > 1 {
                        y.pop();
                    }
                }
            }
        }
        y
    }

    /// NSGA-II crossover: uniform per coordinate (grid) or one-point
    /// (strings: a prefix of one parent and a suffix of the other, cut to
    /// `max_len`).
    pub fn crossover(&self, a: &State, b: &State, rng: &mut DualityRng) -> State {
        match self {
            Task::HyperGrid { .. } => a
                .iter()
                .zip(b)
                .map(|(&x, &y)| if rng.random() { x } else { y })
                .collect(),
            Task::NGrams { max_len, .. } => {
                let i = rng.random_range(0..=a.len());
                let j = rng.random_range(0..=b.len());
                let mut c: State = a[..i].iter().chain(&b[j..]).copied().collect();
                c.truncate(*max_len);
                if c.is_empty() {
                    c = a.clone();
                }
                c
            }
        }
    }
}

fn check_objective_count(n: usize) -> Result<()> {
    if !(2..=5).contains(&n) {
        return Err(Error::invalid("objectives", n, "2 to 5 objectives"));
    }
    Ok(())
}

/// The HyperGrid objectives of MOGFN (App. C), each mapped to `[0, 1]`
/// (larger is better) by its range on its domain (our normalisation):
/// Branin on `[-5, 10] x [0, 15]`, `1 - f / 308.13`; Currin,
/// `f / 13.77`; Shubert on `[-10, 10]^2`, `(f + 186.73) / (210.48 +
/// 186.73)`.
pub fn grid_objective(name: &str, u: f64, v: f64) -> f64 {
    use std::f64::consts::PI;
    match name {
        "branin" => {
            let x1 = 15.0 * u - 5.0;
            let x2 = 15.0 * v;
            let t = x2 - 5.1 / (4.0 * PI * PI) * x1 * x1 + 5.0 / PI * x1 - 6.0;
            let f = t * t + 10.0 * (1.0 - 1.0 / (8.0 * PI)) * x1.cos() + 10.0;
            (1.0 - f / 308.13).clamp(0.0, 1.0)
        }
        "currin" => {
            let v = v.max(1e-9);
            let f = (1.0 - (-0.5 / v).exp())
                * (2300.0 * u.powi(3) + 1900.0 * u * u + 2092.0 * u + 60.0)
                / (100.0 * u.powi(3) + 500.0 * u * u + 4.0 * u + 20.0);
            (f / 13.77).clamp(0.0, 1.0)
        }
        "shubert" => {
            let (x1, x2) = (20.0 * u - 10.0, 20.0 * v - 10.0);
            let s = |x: f64| {
                (1..=5)
                    .map(|i| {
                        let i = f64::from(i);
                        i * ((i + 1.0) * x + i).cos()
                    })
                    .sum::<f64>()
            };
            ((s(x1) * s(x2) + 186.73) / (210.48 + 186.73)).clamp(0.0, 1.0)
        }
        _ => 0.0,
    }
}

/// Smallest scalarised reward before the power (keeps `log R` finite).
pub const REWARD_FLOOR: f64 = 1e-6;

/// `log R(x | w) = beta * log(max(sum_i w_i r_i, REWARD_FLOOR))`: MOGFN-PC's
/// weighted-sum scalarisation raised to the power `beta` (their Eq. 4).
pub fn log_reward(objectives: &[f64], w: &[f64], beta: f64) -> f64 {
    log_reward_floored(objectives, w, beta, REWARD_FLOOR)
}

/// [`log_reward`] with the scalarised reward floored at `floor` (> 0)
/// instead of [`REWARD_FLOOR`]: `beta * log(max(sum_i w_i r_i, floor))`.
pub fn log_reward_floored(objectives: &[f64], w: &[f64], beta: f64, floor: f64) -> f64 {
    let s: f64 = objectives.iter().zip(w).map(|(r, w)| r * w).sum();
    beta * s.max(floor.max(f64::MIN_POSITIVE)).ln()
}

/// How the GFlowNet's reward is conditioned (MOGFN Sec. 4; the authors'
/// code, `recursionpharma/gflownet`: `utils/conditioning.py`,
/// `utils/metrics.py` and `tasks/seh_frag_moo.py`'s
/// `cond_info_to_logreward`). The conditioning vector `c` (a preference or
/// a goal direction, both drawn from `Dirichlet(alpha)` on the simplex) is
/// given to the policy and `log Z` as its thermometer encoding.
#[derive(Debug, Clone, Copy, Default, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum Conditioning {
    /// MOGFN-PC with the weighted sum: `R(x | w) = (sum_i w_i r_i(x))^beta`
    /// (MOGFN Eq. 4; the code's `MultiObjectiveWeightedPreferences`).
    #[default]
    WeightedSum,
    /// MOGFN-PC with the weighted Tchebycheff scalarisation of the paper's
    /// Sec. 3 (objectives maximised): `R(x | w) = (min_i w_i
    /// r_i(x))^beta`.
    Tchebycheff,
    /// MOGFN-GC, goal-direction conditioning with focus regions (the code's
    /// `FocusRegionConditional` with `focus_type = "dirichlet"` and no
    /// preferences, i.e. unit weights): the goal is a direction `d`; the
    /// focus region is the cone `cos(r(x), d) >= cosim`; inside it `log R =
    /// beta (log sum_i r_i(x) + gamma log cos(r(x), d))` with `gamma = ln
    /// limit_coef / ln cosim` (the code's `compute_focus_coef`: the
    /// coefficient is 1 on the axis and `limit_coef` on the cone's
    /// boundary); outside it the smallest log reward (the code's
    /// `illegal_action_logreward`; here `beta ln floor`, the same floor
    /// as the other scalarisations).
    Goal {
        /// Cosine-similarity threshold of the focus cone, in `(0, 1)`.
        cosim: f64,
        /// Focus coefficient on the cone's boundary, in `(0, 1]`.
        limit_coef: f64,
    },
}

impl Conditioning {
    /// Short name (`weighted-sum`, `tchebycheff`, `goal`).
    pub fn name(&self) -> &'static str {
        match self {
            Conditioning::WeightedSum => "weighted-sum",
            Conditioning::Tchebycheff => "tchebycheff",
            Conditioning::Goal { .. } => "goal",
        }
    }

    /// Checks the focus parameters.
    ///
    /// # Errors
    /// `cosim` outside `(0, 1)` or `limit_coef` outside `(0, 1]`.
    pub fn validate(&self) -> Result<()> {
        if let Conditioning::Goal { cosim, limit_coef } = *self {
            if !(cosim > 0.0 && cosim < 1.0) {
                return Err(Error::invalid("focus cosim", cosim, "in (0, 1)"));
            }
            if !(limit_coef > 0.0 && limit_coef <= 1.0) {
                return Err(Error::invalid("focus limit_coef", limit_coef, "in (0, 1]"));
            }
        }
        Ok(())
    }

    /// `log R(x | c)` of objectives `r` under conditioning vector `c`
    /// (preference or goal direction), reward exponent `beta`, floor
    /// `floor` on the scalarised reward (see the variants).
    pub fn log_reward(&self, r: &[f64], c: &[f64], beta: f64, floor: f64) -> f64 {
        let floor = floor.max(f64::MIN_POSITIVE);
        match *self {
            Conditioning::WeightedSum => log_reward_floored(r, c, beta, floor),
            Conditioning::Tchebycheff => {
                let s = r
                    .iter()
                    .zip(c)
                    .map(|(r, w)| r * w)
                    .fold(f64::INFINITY, f64::min);
                beta * s.max(floor).ln()
            }
            Conditioning::Goal { cosim, limit_coef } => {
                let cos = cosine_similarity(r, c);
                if cos < cosim {
                    return beta * floor.ln();
                }
                let gamma = limit_coef.ln() / cosim.ln();
                let s: f64 = r.iter().sum();
                let focused = beta * (s.max(floor).ln() + gamma * cos.max(floor).ln());
                focused.max(beta * floor.ln())
            }
        }
    }
}

/// Cosine similarity of two vectors (0 when either is zero).
pub fn cosine_similarity(a: &[f64], b: &[f64]) -> f64 {
    let dot: f64 = a.iter().zip(b).map(|(x, y)| x * y).sum();
    let na = a.iter().map(|x| x * x).sum::<f64>().sqrt();
    let nb = b.iter().map(|x| x * x).sum::<f64>().sqrt();
    if na == 0.0 || nb == 0.0 {
        0.0
    } else {
        dot / (na * nb)
    }
}

/// A preference vector `w ~ Dirichlet(alpha, ..., alpha)` of length `k`
/// (normalised Gamma draws).
pub fn sample_preference(k: usize, alpha: f64, rng: &mut DualityRng) -> Vec<f64> {
    use rand_distr::{Distribution, Gamma};
    let g = Gamma::new(alpha, 1.0).unwrap_or_else(|_| Gamma::new(1.0, 1.0).expect("gamma(1, 1)"));
    let mut w: Vec<f64> = (0..k).map(|_| g.sample(rng).max(1e-12)).collect();
    let s: f64 = w.iter().sum();
    w.iter_mut().for_each(|x| *x /= s);
    w
}

/// Bins of the thermometer encoding of each preference weight.
pub const THERMOMETER_BINS: usize = 16;

/// Thermometer encoding of a preference vector (MOGFN, App. B: each weight
/// in `[0, 1]` becomes `THERMOMETER_BINS` values `clamp(w * bins - j, 0,
/// 1)`).
pub fn thermometer(w: &[f64]) -> Vec<f32> {
    let b = THERMOMETER_BINS as f64;
    w.iter()
        .flat_map(|&x| {
            (0..THERMOMETER_BINS).map(move |j| ((x * b - j as f64).clamp(0.0, 1.0)) as f32)
        })
        .collect()
}

/// The trajectory-balance discrepancy of one trajectory (Malkin et al.
/// 2022, Eq. 14): `log Z + sum log P_F - log R - sum log P_B`; its square
/// is the loss.
pub fn trajectory_balance(log_z: f64, log_pf: &[f64], log_r: f64, log_pb: &[f64]) -> f64 {
    log_z + log_pf.iter().sum::<f64>() - log_r - log_pb.iter().sum::<f64>()
}

/// The exact terminating distribution of a forward policy on an enumerable
/// task: `policy(s)` gives `P_F(. | s)` over [`Task::actions`] (zero on
/// masked actions); flows are pushed through the DAG in order of depth.
/// Returns `(terminal state, probability)` for every state that stops with
/// positive probability.
///
/// # Errors
/// A policy row of the wrong length, or more than [`MAX_ENUMERATED`] states.
pub fn terminal_distribution<F>(task: &Task, mut policy: F) -> Result<Vec<(State, f64)>>
where
    F: FnMut(&State) -> Result<Vec<f64>>,
{
    let mut level: BTreeMap<State, f64> = BTreeMap::new();
    level.insert(task.initial(), 1.0);
    let mut out: BTreeMap<State, f64> = BTreeMap::new();
    let mut seen = 0usize;
    while !level.is_empty() {
        seen += level.len();
        if seen > MAX_ENUMERATED {
            return Err(Error::invalid(
                "task states",
                seen,
                format!("at most {MAX_ENUMERATED} to enumerate"),
            ));
        }
        let mut next: BTreeMap<State, f64> = BTreeMap::new();
        for (s, flow) in level {
            let p = policy(&s)?;
            duality_core::check::same_len("policy row", p.len(), "actions", task.actions())?;
            let mask = task.mask(&s);
            for (a, &pa) in p.iter().enumerate() {
                if pa <= 0.0 || !mask[a] {
                    continue;
                }
                if a == task.stop() {
                    *out.entry(s.clone()).or_insert(0.0) += flow * pa;
                } else {
                    *next.entry(task.step(&s, a)).or_insert(0.0) += flow * pa;
                }
            }
        }
        level = next;
    }
    Ok(out.into_iter().collect())
}

/// Points evaluated by a method: terminal states and their objectives.
#[derive(Debug, Clone, Default, serde::Serialize, serde::Deserialize)]
pub struct Evaluated {
    /// Terminal states, in evaluation order.
    pub states: Vec<State>,
    /// Their objective vectors.
    pub objectives: Vec<Vec<f64>>,
}

impl Evaluated {
    fn push(&mut self, task: &Task, x: State) {
        self.objectives.push(task.evaluate(&x));
        self.states.push(x);
    }
}

/// Uniform random search: `budget` random terminal states.
pub fn random_search(task: &Task, budget: usize, rng: &mut DualityRng) -> Result<Evaluated> {
    duality_core::limits::elements::<f64>("random search budget", budget)?;
    let mut e = Evaluated::default();
    for _ in 0..budget {
        let x = task.random_terminal(rng);
        e.push(task, x);
    }
    Ok(e)
}

/// NSGA-II parameters.
#[derive(Debug, Clone, Copy)]
pub struct Nsga2Params {
    /// Population size (even, >= 4).
    pub population: usize,
    /// Objective evaluations in all (initial population included).
    pub budget: usize,
    /// Probability of crossover before mutation.
    pub crossover: f64,
}

/// Crowding distances of the points of one front (Deb et al. 2002, Sec.
/// III-B): per objective, the normalised gap between a point's neighbours;
/// boundary points get infinity.
pub fn crowding_distance(points: &[&[f64]]) -> Vec<f64> {
    let n = points.len();
    let mut d = vec![0.0; n];
    if n == 0 {
        return d;
    }
    let m = points[0].len();
    for k in 0..m {
        let mut idx: Vec<usize> = (0..n).collect();
        idx.sort_by(|&a, &b| points[a][k].total_cmp(&points[b][k]).then(a.cmp(&b)));
        let (lo, hi) = (points[idx[0]][k], points[idx[n - 1]][k]);
        d[idx[0]] = f64::INFINITY;
        d[idx[n - 1]] = f64::INFINITY;
        if hi - lo <= 0.0 {
            continue;
        }
        for w in 1..n.saturating_sub(1) {
            d[idx[w]] += (points[idx[w + 1]][k] - points[idx[w - 1]][k]) / (hi - lo);
        }
    }
    d
}

/// (rank, crowding) of every point of a population (objectives maximised).
fn rank_and_crowd(objs: &[Vec<f64>]) -> Result<(Vec<usize>, Vec<f64>)> {
    let neg: Vec<Vec<f64>> = objs
        .iter()
        .map(|o| o.iter().map(|x| -x).collect())
        .collect();
    let fronts = crate::pareto::non_dominated_sort(&neg)?;
    let mut rank = vec![0; objs.len()];
    let mut crowd = vec![0.0; objs.len()];
    for (r, f) in fronts.iter().enumerate() {
        let pts: Vec<&[f64]> = f.iter().map(|&i| objs[i].as_slice()).collect();
        for (&i, c) in f.iter().zip(crowding_distance(&pts)) {
            rank[i] = r;
            crowd[i] = c;
        }
    }
    Ok((rank, crowd))
}

/// NSGA-II (Deb et al. 2002) on a task: random initial population, then
/// generations of binary-tournament selection on (rank, crowding),
/// crossover and mutation ([`Task::crossover`], [`Task::mutate`]), and
/// elitist (mu + lambda) survival by non-dominated sorting and crowding,
/// until `budget` evaluations. Every evaluated point is returned.
///
/// # Errors
/// A population below 4 or above the budget, or a crossover probability
/// outside `[0, 1]`.
pub fn nsga2(task: &Task, p: &Nsga2Params, rng: &mut DualityRng) -> Result<Evaluated> {
    duality_core::check::at_least("population", p.population, 4)?;
    duality_core::check::probability("crossover", p.crossover)?;
    if p.budget < p.population {
        return Err(Error::invalid(
            "budget",
            p.budget,
            format!("at least the population ({})", p.population),
        ));
    }
    duality_core::limits::elements::<f64>("NSGA-II budget", p.budget)?;
    let mut all = Evaluated::default();
    let mut pop: Vec<(State, Vec<f64>)> = (0..p.population)
        .map(|_| {
            let x = task.random_terminal(rng);
            let o = task.evaluate(&x);
            all.states.push(x.clone());
            all.objectives.push(o.clone());
            (x, o)
        })
        .collect();
    while all.states.len() < p.budget {
        let objs: Vec<Vec<f64>> = pop.iter().map(|q| q.1.clone()).collect();
        let (rank, crowd) = rank_and_crowd(&objs)?;
        let better = |a: usize, b: usize| {
            if rank[a] != rank[b] {
                rank[a] < rank[b]
            } else {
                crowd[a] > crowd[b]
            }
        };
        let tournament = |rng: &mut DualityRng| {
            let a = rng.random_range(0..pop.len());
            let b = rng.random_range(0..pop.len());
            if better(a, b) {
                a
            } else {
                b
            }
        };
        let children = p.population.min(p.budget - all.states.len());
        let mut offspring = Vec::with_capacity(children);
        for _ in 0..children {
            let a = tournament(rng);
            let b = tournament(rng);
            let c = if rng.random::<f64>() < p.crossover {
                task.crossover(&pop[a].0, &pop[b].0, rng)
            } else {
                pop[a].0.clone()
            };
            let c = task.mutate(&c, rng);
            let o = task.evaluate(&c);
            all.states.push(c.clone());
            all.objectives.push(o.clone());
            offspring.push((c, o));
        }
        pop.extend(offspring);
        let objs: Vec<Vec<f64>> = pop.iter().map(|q| q.1.clone()).collect();
        let (rank, crowd) = rank_and_crowd(&objs)?;
        let mut order: Vec<usize> = (0..pop.len()).collect();
        order.sort_by(|&a, &b| {
            rank[a]
                .cmp(&rank[b])
                .then(crowd[b].total_cmp(&crowd[a]))
                .then(a.cmp(&b))
        });
        let keep: Vec<(State, Vec<f64>)> = order
            .into_iter()
            .take(p.population)
            .map(|i| pop[i].clone())
            .collect();
        pop = keep;
    }
    Ok(all)
}

/// Pareto-front quality of a set of evaluated points (objectives
/// maximised).
#[derive(Debug, Clone, Copy, serde::Serialize, serde::Deserialize)]
pub struct FrontQuality {
    /// Hypervolume of `-r` against the reference `0` (the origin of the
    /// objective box), exact ([`crate::pareto::hypervolume`]).
    pub hypervolume: f64,
    /// R2 indicator of `-r` with ideal point `-1` and uniform weights
    /// (lower is better).
    pub r2: f64,
    /// Distinct non-dominated states found.
    pub front_size: usize,
    /// Distinct states among all points (candidate diversity).
    pub distinct: usize,
}

/// Hypervolume, R2 and front size of `points` (each in `[0, 1]^k`).
///
/// # Errors
/// No points, ragged or non-finite objectives.
pub fn front_quality(states: &[State], points: &[Vec<f64>]) -> Result<FrontQuality> {
    duality_core::check::non_empty("points", points)?;
    let k = points[0].len();
    let neg: Vec<Vec<f64>> = points
        .iter()
        .map(|o| o.iter().map(|x| -x).collect())
        .collect();
    let hv = crate::pareto::hypervolume(&neg, &vec![0.0; k])?;
    let weights = r2_weights(k);
    let r2 = crate::pareto::r2_indicator(&neg, &weights, &vec![-1.0; k])?;
    let fronts = crate::pareto::non_dominated_sort(&neg)?;
    let mut front: Vec<&State> = fronts[0].iter().map(|&i| &states[i]).collect();
    front.sort();
    front.dedup();
    let mut all: Vec<&State> = states.iter().collect();
    all.sort();
    all.dedup();
    Ok(FrontQuality {
        hypervolume: hv,
        r2,
        front_size: front.len(),
        distinct: all.len(),
    })
}

/// Uniform weight vectors for R2: a simplex lattice with 20 divisions in 2
/// objectives, fewer in more.
pub fn r2_weights(k: usize) -> Vec<Vec<f64>> {
    let h = match k {
        2 => 20,
        3 => 10,
        _ => 4,
    };
    let mut out = Vec::new();
    let mut cur = vec![0usize; k];
    fn rec(i: usize, left: usize, h: usize, cur: &mut Vec<usize>, out: &mut Vec<Vec<f64>>) {
        if i + 1 == cur.len() {
            cur[i] = left;
            out.push(cur.iter().map(|&c| c as f64 / h as f64).collect());
            return;
        }
        for c in 0..=left {
            cur[i] = c;
            rec(i + 1, left - c, h, cur, out);
        }
    }
    rec(0, h, h, &mut cur, &mut out);
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use duality_core::seed::Seeder;

    fn grid(side: usize) -> Task {
        Task::hypergrid(side, 2, &["branin".into(), "currin".into()]).unwrap()
    }

    #[test]
    fn trajectory_balance_by_hand_on_a_tiny_dag() {
        // 2x2 grid, trajectory s0=(0,0) -> (1,0) -> (1,1) -> stop.
        // Uniform P_F over allowed actions: at (0,0) 3 actions, at (1,0) 2
        // (right blocked), at (1,1) only stop. P_B: (1,0) has 1 parent,
        // (1,1) has 2 parents; the stop transition has P_B = 1.
        let task = grid(2);
        let s0 = task.initial();
        assert_eq!(task.mask(&s0), vec![true, true, true]);
        let s1 = task.step(&s0, 0);
        assert_eq!(task.mask(&s1), vec![false, true, true]);
        let s2 = task.step(&s1, 1);
        assert_eq!(task.parents(&s1), 1);
        assert_eq!(task.parents(&s2), 2);
        let log_pf = [(1.0f64 / 3.0).ln(), 0.5f64.ln(), 0.0];
        let log_pb = [0.0, 0.5f64.ln(), 0.0];
        let r = task.evaluate(&s2);
        let lr = log_reward(&r, &[0.5, 0.5], 2.0);
        let expected =
            0.3 + (1.0f64 / 6.0).ln() - 2.0 * (0.5 * r[0] + 0.5 * r[1]).ln() - 0.5f64.ln();
        let got = trajectory_balance(0.3, &log_pf, lr, &log_pb);
        assert!((got - expected).abs() < 1e-12, "{got} vs {expected}");
    }

    #[test]
    fn uniform_policy_distribution_sums_to_one() {
        let task = grid(3);
        let d = terminal_distribution(&task, |s| {
            let m = task.mask(s);
            let n = m.iter().filter(|&&b| b).count() as f64;
            Ok(m.iter().map(|&b| if b { 1.0 / n } else { 0.0 }).collect())
        })
        .unwrap();
        assert_eq!(d.len(), 9);
        let total: f64 = d.iter().map(|x| x.1).sum();
        assert!((total - 1.0).abs() < 1e-12);
        // (0,0) stops first with probability 1/3.
        assert!((d[0].1 - 1.0 / 3.0).abs() < 1e-12);
        let words = Task::ngrams(2, 2, &["AB".into(), "BA".into()]).unwrap();
        assert_eq!(words.terminals().unwrap().len(), 6);
        let d = terminal_distribution(&words, |s| {
            let m = words.mask(s);
            let n = m.iter().filter(|&&b| b).count() as f64;
            Ok(m.iter().map(|&b| if b { 1.0 / n } else { 0.0 }).collect())
        })
        .unwrap();
        assert_eq!(d.len(), 6);
        assert!((d.iter().map(|x| x.1).sum::<f64>() - 1.0).abs() < 1e-12);
    }

    #[test]
    fn objectives_are_normalised_and_conflict() {
        let task = grid(32);
        let pts: Vec<Vec<f64>> = task
            .terminals()
            .unwrap()
            .iter()
            .map(|x| task.evaluate(x))
            .collect();
        assert!(pts.iter().flatten().all(|v| (0.0..=1.0).contains(v)));
        let best0 = pts.iter().map(|p| p[0]).fold(0.0, f64::max);
        let best1 = pts.iter().map(|p| p[1]).fold(0.0, f64::max);
        assert!(best0 > 0.95 && best1 > 0.95, "{best0} {best1}");
        // No single cell is best at both.
        assert!(!pts
            .iter()
            .any(|p| p[0] > best0 - 1e-9 && p[1] > best1 - 1e-9));
        let w = Task::ngrams(4, 6, &["AB".into(), "CD".into()]).unwrap();
        assert_eq!(w.evaluate(&vec![0, 1, 0, 1, 0, 1]), vec![3.0 / 5.0, 0.0]);
        assert!(Task::ngrams(4, 6, &["AE".into(), "CD".into()]).is_err());
        assert!(Task::hypergrid(8, 3, &["branin".into(), "currin".into()]).is_err());
        assert!(Task::hypergrid(8, 2, &["bogus".into(), "currin".into()]).is_err());
    }

    #[test]
    fn crowding_marks_boundaries_infinite() {
        let p = [vec![0.0, 1.0], vec![0.5, 0.5], vec![1.0, 0.0]];
        let refs: Vec<&[f64]> = p.iter().map(|v| v.as_slice()).collect();
        let d = crowding_distance(&refs);
        assert!(d[0].is_infinite() && d[2].is_infinite());
        assert!((d[1] - 2.0).abs() < 1e-12);
    }

    #[test]
    fn nsga2_beats_nothing_and_is_seeded() {
        let task = grid(32);
        let p = Nsga2Params {
            population: 20,
            budget: 400,
            crossover: 0.9,
        };
        let a = nsga2(&task, &p, &mut Seeder::new(3).rng(0)).unwrap();
        let b = nsga2(&task, &p, &mut Seeder::new(3).rng(0)).unwrap();
        assert_eq!(a.states, b.states);
        assert_eq!(a.states.len(), 400);
        let all = task.terminals().unwrap();
        let objs: Vec<Vec<f64>> = all.iter().map(|x| task.evaluate(x)).collect();
        let best = front_quality(&all, &objs).unwrap();
        let got = front_quality(&a.states, &a.objectives).unwrap();
        assert!(got.hypervolume <= best.hypervolume + 1e-12);
        assert!(got.hypervolume > 0.8 * best.hypervolume, "{got:?} {best:?}");
        assert!(nsga2(
            &task,
            &Nsga2Params { population: 2, ..p },
            &mut Seeder::new(3).rng(0)
        )
        .is_err());
    }

    #[test]
    fn scalarisations_and_focus_regions_by_hand() {
        let r = [0.6, 0.2];
        let (beta, floor) = (2.0, 0.01);
        let ws = Conditioning::WeightedSum.log_reward(&r, &[0.5, 0.5], beta, floor);
        assert!((ws - 2.0 * 0.4f64.ln()).abs() < 1e-12);
        // Tchebycheff: min(0.5 * 0.6, 0.5 * 0.2) = 0.1.
        let tch = Conditioning::Tchebycheff.log_reward(&r, &[0.5, 0.5], beta, floor);
        assert!((tch - 2.0 * 0.1f64.ln()).abs() < 1e-12);
        let gc = Conditioning::Goal {
            cosim: 0.9,
            limit_coef: 0.1,
        };
        // Direction (3, 1) is r's own: cos = 1, coefficient 1, R = sum r.
        let on_axis = gc.log_reward(&r, &[0.75, 0.25], beta, floor);
        assert!((on_axis - 2.0 * 0.8f64.ln()).abs() < 1e-12);
        // cos(r, (1, 1)) = 0.8 / (sqrt(0.4) sqrt(2)) = 0.894 < 0.9: outside.
        let outside = gc.log_reward(&r, &[0.5, 0.5], beta, floor);
        assert!((outside - 2.0 * floor.ln()).abs() < 1e-12);
        // Inside but off-axis: coefficient cos^gamma, gamma = ln 0.1 / ln 0.9.
        let d = [0.7, 0.3];
        let cos = cosine_similarity(&r, &d);
        assert!(cos > 0.9 && cos < 1.0);
        let gamma = 0.1f64.ln() / 0.9f64.ln();
        let inside = gc.log_reward(&r, &d, beta, floor);
        assert!((inside - 2.0 * (0.8f64.ln() + gamma * cos.ln())).abs() < 1e-12);
        // On the boundary the coefficient is limit_coef.
        assert!((0.9f64.powf(gamma) - 0.1).abs() < 1e-12);
        assert!(Conditioning::Goal {
            cosim: 1.0,
            limit_coef: 0.1
        }
        .validate()
        .is_err());
        assert!(Conditioning::Goal {
            cosim: 0.9,
            limit_coef: 0.0
        }
        .validate()
        .is_err());
        let t3 =
            Task::hypergrid(8, 2, &["branin".into(), "currin".into(), "shubert".into()]).unwrap();
        assert_eq!(t3.objectives(), 3);
        assert!(t3
            .evaluate(&vec![3, 5])
            .iter()
            .all(|v| (0.0..=1.0).contains(v)));
    }

    #[test]
    fn preferences_and_thermometer() {
        let mut rng = Seeder::new(1).rng(0);
        let w = sample_preference(3, 1.0, &mut rng);
        assert!((w.iter().sum::<f64>() - 1.0).abs() < 1e-12);
        let t = thermometer(&[0.5, 0.5]);
        assert_eq!(t.len(), 2 * THERMOMETER_BINS);
        assert_eq!(t.iter().filter(|&&x| x == 1.0).count(), THERMOMETER_BINS);
        assert_eq!(r2_weights(2).len(), 21);
        assert_eq!(r2_weights(3).len(), 66);
    }
}
