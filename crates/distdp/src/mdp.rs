//! Finite Markov decision processes with finite-support rewards.
//!
//! A [`FiniteMdp`] gives, for every state `s` and action `a`, a finite list of
//! [`Outcome`]s `(next state, reward, probability)`: the joint law of
//! `(S', R)` given `(s, a)`. This covers reward distributions with finite
//! support that may depend on the next state. States listed in `terminal`
//! end the episode (their return is 0). A `horizon` makes the problem
//! finite-horizon (then `gamma = 1` is allowed); otherwise `gamma` must lie
//! in `[0, 1)`, unless every policy reaches a terminal state (not checked,
//! so infinite-horizon `gamma = 1` is refused).

use std::path::Path;

use duality_core::config::Validate;
use duality_core::{Error, Result};
use rand::Rng;
use serde::{Deserialize, Serialize};

/// Tolerance for probability rows summing to one.
pub const ROW_TOLERANCE: f64 = 1e-9;

/// The largest finite horizon accepted (issue 25: a horizon of 10^12 must be
/// refused before a solver loops over it or allocates per-time tables).
pub const MAX_HORIZON: usize = 1_000_000;

/// Refuses MDP sizes whose outcome table (`states x actions` rows) would not
/// fit in the memory budget ([`duality_core::limits`]), or a horizon over
/// [`MAX_HORIZON`], before anything is allocated. Errors name the field.
pub fn check_sizes(states: usize, actions: usize, horizon: Option<usize>) -> Result<()> {
    let cells = duality_core::limits::product(&[("states", states), ("actions", actions)])?;
    // One outcome list (a Vec header) and one "listed" flag per cell.
    let bytes = cells as u128 * (std::mem::size_of::<Vec<Outcome>>() as u128 + 1);
    duality_core::limits::check_memory(&format!("states x actions = {states} x {actions}"), bytes)?;
    if let Some(h) = horizon {
        if h > MAX_HORIZON {
            return Err(Error::invalid(
                "horizon",
                h,
                format!("at most {MAX_HORIZON} decisions"),
            ));
        }
    }
    Ok(())
}

/// One possible result of taking an action: next state, reward and probability.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Outcome {
    /// Next state index.
    pub next: usize,
    /// Reward received on this transition.
    pub reward: f64,
    /// Probability of this (next state, reward) pair.
    pub prob: f64,
}

/// A validated finite MDP. Built by [`FiniteMdp::builder`] or loaded from a
/// file ([`FiniteMdp::load`]); the fields are private so that every
/// `FiniteMdp` in existence has passed validation once, and the solvers index
/// it without re-checking.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(try_from = "MdpFile", into = "MdpFile")]
pub struct FiniteMdp {
    name: String,
    n_states: usize,
    n_actions: usize,
    gamma: f64,
    horizon: Option<usize>,
    start: usize,
    terminal: Vec<usize>,
    /// `is_terminal[s]`, so the solvers' hot loops test membership in O(1).
    is_terminal: Vec<bool>,
    outcomes: Vec<Vec<Vec<Outcome>>>,
    state_names: Vec<String>,
    action_names: Vec<String>,
}

/// Smallest and largest value of a return (or reward) over an MDP.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Bounds {
    /// Lower bound.
    pub lo: f64,
    /// Upper bound.
    pub hi: f64,
}

/// Builder of a [`FiniteMdp`]: the outcome table and discount are required,
/// the rest defaults to an unnamed infinite-horizon MDP starting in state 0
/// with no terminal states. [`MdpBuilder::build`] validates everything once.
#[derive(Debug, Clone)]
pub struct MdpBuilder {
    name: String,
    gamma: f64,
    horizon: Option<usize>,
    start: usize,
    terminal: Vec<usize>,
    outcomes: Vec<Vec<Vec<Outcome>>>,
    state_names: Vec<String>,
    action_names: Vec<String>,
}

impl MdpBuilder {
    /// Sets the name (for printing).
    pub fn name(mut self, name: impl Into<String>) -> Self {
        self.name = name.into();
        self
    }
    /// Sets a finite horizon (number of decisions); `None` is infinite.
    pub fn horizon(mut self, horizon: Option<usize>) -> Self {
        self.horizon = horizon;
        self
    }
    /// Sets the start state.
    pub fn start(mut self, start: usize) -> Self {
        self.start = start;
        self
    }
    /// Sets the terminal (absorbing, zero-return) states: their outcome
    /// lists are replaced by a reward-0 self-loop for every action.
    pub fn terminal(mut self, terminal: Vec<usize>) -> Self {
        self.terminal = terminal;
        self
    }
    /// Sets state names (empty, or one per state).
    pub fn state_names(mut self, names: Vec<String>) -> Self {
        self.state_names = names;
        self
    }
    /// Sets action names (empty, or one per action).
    pub fn action_names(mut self, names: Vec<String>) -> Self {
        self.action_names = names;
        self
    }

    /// Validates and builds: sizes, probabilities, rows summing to one,
    /// discount, start and terminal states, name lists; errors name the
    /// offending state and action.
    pub fn build(self) -> Result<FiniteMdp> {
        let n_states = self.outcomes.len();
        let n_actions = self.outcomes.first().map_or(0, Vec::len);
        let mut outcomes = self.outcomes;
        for &t in &self.terminal {
            if let Some(row) = outcomes.get_mut(t) {
                for outs in row.iter_mut() {
                    *outs = vec![Outcome {
                        next: t,
                        reward: 0.0,
                        prob: 1.0,
                    }];
                }
            }
        }
        let mut is_terminal = vec![false; n_states];
        for &t in &self.terminal {
            if let Some(flag) = is_terminal.get_mut(t) {
                *flag = true;
            }
        }
        let mdp = FiniteMdp {
            name: self.name,
            n_states,
            n_actions,
            gamma: self.gamma,
            horizon: self.horizon,
            start: self.start,
            terminal: self.terminal,
            is_terminal,
            outcomes,
            state_names: self.state_names,
            action_names: self.action_names,
        };
        mdp.validate()?;
        Ok(mdp)
    }
}

/// serde's "unknown field `x`, expected one of `a`, `b`" with "(did you
/// mean `a`?)" appended when a known name is within two edits (the TOML
/// route gets the same from `duality_core::config`).
fn suggest_key(message: &str) -> String {
    let Some(start) = message.find("unknown field `").map(|i| i + 15) else {
        return message.to_string();
    };
    let Some(len) = message[start..].find('`') else {
        return message.to_string();
    };
    let wrong = &message[start..start + len];
    let rest = &message[start + len + 1..];
    let best = rest
        .split('`')
        .skip(1)
        .step_by(2)
        .map(|c| (edit_distance(wrong, c), c))
        .filter(|(d, _)| *d <= 2)
        .min_by_key(|(d, _)| *d);
    match best {
        Some((_, name)) => format!("{message} (did you mean `{name}`?)"),
        None => message.to_string(),
    }
}

/// Levenshtein distance between two short keys.
fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut prev = row[0];
        row[0] = i + 1;
        for (j, &cb) in b.iter().enumerate() {
            let cur = row[j + 1];
            row[j + 1] = (prev + usize::from(ca != cb)).min(row[j] + 1).min(cur + 1);
            prev = cur;
        }
    }
    row[b.len()]
}

/// File format of an MDP (TOML or JSON): one `[[transition]]` table per
/// (state, action) pair.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MdpFile {
    /// Name.
    #[serde(default)]
    pub name: String,
    /// Number of states.
    pub states: usize,
    /// Number of actions.
    pub actions: usize,
    /// Discount factor.
    pub gamma: f64,
    /// Optional finite horizon.
    #[serde(default)]
    pub horizon: Option<usize>,
    /// Start state (default 0).
    #[serde(default)]
    pub start: usize,
    /// Terminal states.
    #[serde(default)]
    pub terminal: Vec<usize>,
    /// Optional state names.
    #[serde(default)]
    pub state_names: Vec<String>,
    /// Optional action names.
    #[serde(default)]
    pub action_names: Vec<String>,
    /// Transitions.
    #[serde(default)]
    pub transition: Vec<TransitionEntry>,
}

/// One `[[transition]]` entry of an [`MdpFile`].
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TransitionEntry {
    /// State.
    pub state: usize,
    /// Action.
    pub action: usize,
    /// Outcomes `{ next, reward, prob }`.
    pub outcomes: Vec<Outcome>,
}

impl Validate for MdpFile {
    /// The structure of the file: sizes, every transition's state and
    /// action in range, no (state, action) listed twice, and every
    /// non-terminal pair listed. The numbers (probabilities, rewards,
    /// discount) are checked when the file becomes a [`FiniteMdp`].
    fn validate(&self) -> Result<()> {
        duality_core::check::at_least("states", self.states, 1)?;
        duality_core::check::at_least("actions", self.actions, 1)?;
        check_sizes(self.states, self.actions, self.horizon)?;
        let mut seen = vec![vec![false; self.actions]; self.states];
        for entry in &self.transition {
            if entry.state >= self.states {
                return Err(Error::invalid(
                    "transition.state",
                    entry.state,
                    format!("a state index < {}", self.states),
                ));
            }
            if entry.action >= self.actions {
                return Err(Error::invalid(
                    format!("transition.action (state {})", entry.state),
                    entry.action,
                    format!("an action index < {}", self.actions),
                ));
            }
            let slot = &mut seen[entry.state][entry.action];
            if *slot {
                return Err(Error::config(
                    "transition",
                    format!(
                        "state {}, action {} is listed twice",
                        entry.state, entry.action
                    ),
                ));
            }
            *slot = true;
        }
        for (s, row) in seen.iter().enumerate() {
            if self.terminal.contains(&s) {
                continue;
            }
            if let Some(a) = row.iter().position(|listed| !listed) {
                return Err(Error::config(
                    "transition",
                    format!("no outcomes for state {s}, action {a}"),
                ));
            }
        }
        Ok(())
    }
}

impl TryFrom<MdpFile> for FiniteMdp {
    type Error = Error;

    /// Checks the file's structure ([`Validate`]) and builds the MDP.
    fn try_from(file: MdpFile) -> Result<Self> {
        file.validate()?;
        let mut outcomes = vec![vec![Vec::new(); file.actions]; file.states];
        for entry in file.transition {
            outcomes[entry.state][entry.action] = entry.outcomes;
        }
        FiniteMdp::builder(outcomes, file.gamma)
            .name(file.name)
            .horizon(file.horizon)
            .start(file.start)
            .terminal(file.terminal)
            .state_names(file.state_names)
            .action_names(file.action_names)
            .build()
    }
}

impl From<FiniteMdp> for MdpFile {
    fn from(mdp: FiniteMdp) -> Self {
        mdp.to_file()
    }
}

impl Validate for FiniteMdp {
    /// Checks sizes, probabilities, rows summing to one, discount, start and
    /// terminal states; errors name the offending state and action.
    fn validate(&self) -> Result<()> {
        duality_core::check::at_least("n_states", self.n_states, 1)?;
        duality_core::check::at_least("n_actions", self.n_actions, 1)?;
        check_sizes(self.n_states, self.n_actions, self.horizon)?;
        if !self.gamma.is_finite() || self.gamma < 0.0 || self.gamma > 1.0 {
            return Err(Error::invalid("gamma", self.gamma, "a discount in [0, 1]"));
        }
        if self.horizon.is_none() && self.gamma >= 1.0 {
            return Err(Error::invalid(
                "gamma",
                self.gamma,
                "a discount in [0, 1) for an infinite-horizon MDP (set a horizon to use gamma = 1)",
            ));
        }
        if self.start >= self.n_states {
            return Err(Error::invalid(
                "start",
                self.start,
                format!("a state index < {}", self.n_states),
            ));
        }
        for &t in &self.terminal {
            if t >= self.n_states {
                return Err(Error::invalid(
                    "terminal state",
                    t,
                    format!("a state index < {}", self.n_states),
                ));
            }
        }
        for (what, names, count, n) in [
            ("state_names", &self.state_names, "states", self.n_states),
            (
                "action_names",
                &self.action_names,
                "actions",
                self.n_actions,
            ),
        ] {
            if !names.is_empty() {
                duality_core::check::same_len(what, names.len(), count, n)?;
            }
        }
        for (s, row) in self.outcomes.iter().enumerate() {
            duality_core::check::same_len(
                &format!("outcomes[state {s}]"),
                row.len(),
                "actions",
                self.n_actions,
            )?;
            for (a, outs) in row.iter().enumerate() {
                self.validate_row(s, a, outs)?;
            }
        }
        // Finite rewards can still sum to an infinite return (1e308 over two
        // steps): every mean, quantile and objective would then overflow.
        let b = self.return_bounds();
        if !(b.lo.is_finite() && b.hi.is_finite()) {
            let r = self.reward_range();
            return Err(Error::invalid(
                "return bounds",
                format!("[{}, {}]", b.lo, b.hi),
                format!(
                    "finite discounted returns (rewards in [{:e}, {:e}] over the horizon overflow f64; rescale the rewards)",
                    r.lo, r.hi
                ),
            ));
        }
        Ok(())
    }
}

impl FiniteMdp {
    /// Starts building an MDP from its outcome table `outcomes[s][a]` (the
    /// joint law of (next state, reward) after `a` in `s`; every state has
    /// the same number of actions) and discount `gamma`.
    pub fn builder(outcomes: Vec<Vec<Vec<Outcome>>>, gamma: f64) -> MdpBuilder {
        MdpBuilder {
            name: String::new(),
            gamma,
            horizon: None,
            start: 0,
            terminal: Vec::new(),
            outcomes,
            state_names: Vec::new(),
            action_names: Vec::new(),
        }
    }

    fn validate_row(&self, s: usize, a: usize, outs: &[Outcome]) -> Result<()> {
        let at = format!("state {s}, action {a}");
        if outs.is_empty() {
            return Err(Error::Empty {
                what: format!("outcomes of {at}"),
                min: 1,
            });
        }
        let mut total = 0.0;
        for (k, o) in outs.iter().enumerate() {
            if !(o.prob.is_finite() && (0.0..=1.0).contains(&o.prob)) {
                return Err(Error::invalid(
                    format!("probability of outcome {k} of {at}"),
                    o.prob,
                    "a probability in [0, 1]",
                ));
            }
            if !o.reward.is_finite() {
                return Err(Error::invalid(
                    format!("reward of outcome {k} of {at}"),
                    o.reward,
                    "a finite number",
                ));
            }
            if o.next >= self.n_states {
                return Err(Error::invalid(
                    format!("next state of outcome {k} of {at}"),
                    o.next,
                    format!("a state index < {}", self.n_states),
                ));
            }
            total += o.prob;
        }
        if (total - 1.0).abs() > ROW_TOLERANCE {
            return Err(Error::invalid(
                format!("sum of outcome probabilities of {at}"),
                total,
                format!("1 (within {ROW_TOLERANCE:e})"),
            ));
        }
        Ok(())
    }

    /// Human-readable name.
    pub fn name(&self) -> &str {
        &self.name
    }
    /// Number of states.
    pub fn n_states(&self) -> usize {
        self.n_states
    }
    /// Number of actions (every action is available in every state).
    pub fn n_actions(&self) -> usize {
        self.n_actions
    }
    /// Discount factor.
    pub fn gamma(&self) -> f64 {
        self.gamma
    }
    /// Finite horizon (number of decisions), or `None` for infinite horizon.
    pub fn horizon(&self) -> Option<usize> {
        self.horizon
    }
    /// Start state.
    pub fn start(&self) -> usize {
        self.start
    }
    /// Terminal (absorbing, zero-return) states, as given.
    pub fn terminal(&self) -> &[usize] {
        &self.terminal
    }
    /// State names (empty when not given).
    pub fn state_names(&self) -> &[String] {
        &self.state_names
    }
    /// Action names (empty when not given).
    pub fn action_names(&self) -> &[String] {
        &self.action_names
    }

    /// Whether `s` is terminal (false for an out-of-range `s`).
    pub fn is_terminal(&self, s: usize) -> bool {
        self.is_terminal.get(s).copied().unwrap_or(false)
    }

    /// Outcomes of action `a` in state `s`. Indices are the caller's
    /// invariant (the solvers only use indices below `n_states` and
    /// `n_actions`, which construction checked against the table).
    pub fn outcomes(&self, s: usize, a: usize) -> &[Outcome] {
        &self.outcomes[s][a]
    }

    /// Expected immediate reward of `(s, a)`.
    pub fn expected_reward(&self, s: usize, a: usize) -> f64 {
        self.outcomes[s][a].iter().map(|o| o.prob * o.reward).sum()
    }

    /// Smallest and largest single-step reward (0 included: terminal states
    /// pay 0).
    pub fn reward_range(&self) -> Bounds {
        let mut lo = 0.0f64;
        let mut hi = 0.0f64;
        for row in &self.outcomes {
            for outs in row {
                for o in outs {
                    lo = lo.min(o.reward);
                    hi = hi.max(o.reward);
                }
            }
        }
        Bounds { lo, hi }
    }

    /// Bounds on the discounted return: `[r_min, r_max] * sum_t gamma^t`.
    pub fn return_bounds(&self) -> Bounds {
        let r = self.reward_range();
        let scale = match self.horizon {
            Some(h) => (0..h).map(|t| self.gamma.powi(t as i32)).sum(),
            None => 1.0 / (1.0 - self.gamma),
        };
        Bounds {
            lo: r.lo * scale,
            hi: r.hi * scale,
        }
    }

    /// Samples one outcome of `(s, a)`.
    pub fn step<R: Rng + ?Sized>(&self, s: usize, a: usize, rng: &mut R) -> Outcome {
        let outs = &self.outcomes[s][a];
        let u: f64 = rng.random();
        let mut acc = 0.0;
        for o in outs {
            acc += o.prob;
            if u < acc {
                return *o;
            }
        }
        // Rounding: the row sums to 1 within tolerance, fall back to the last outcome.
        outs[outs.len() - 1]
    }

    /// Parses an MDP from TOML text (through `duality_core::config`, so
    /// errors carry the line or the field); `source` names the file in errors.
    pub fn from_toml_str(text: &str, source: &str) -> Result<Self> {
        let file: MdpFile = duality_core::config::from_toml_str(text, source)?;
        FiniteMdp::try_from(file)
    }

    /// Parses an MDP from JSON text; `source` names the file in errors.
    pub fn from_json_str(text: &str, source: &str) -> Result<Self> {
        let text = text.strip_prefix('\u{feff}').unwrap_or(text);
        let file: MdpFile = serde_json::from_str(text)
            .map_err(|e| Error::parse(source, Some(e.line()), suggest_key(&e.to_string())))?;
        FiniteMdp::try_from(file).map_err(|e| in_file(source, e))
    }

    /// Loads an MDP from a `.json` file, or TOML otherwise.
    pub fn load(path: impl AsRef<Path>) -> Result<Self> {
        let path = path.as_ref();
        if path.extension().is_some_and(|e| e == "json") {
            let text = std::fs::read_to_string(path).map_err(|e| Error::io(path, e))?;
            Self::from_json_str(&text, &path.display().to_string())
        } else {
            let file: MdpFile = duality_core::config::load_toml(path)?;
            FiniteMdp::try_from(file).map_err(|e| in_file(&path.display().to_string(), e))
        }
    }

    /// The file representation (for writing TOML/JSON).
    pub fn to_file(&self) -> MdpFile {
        let mut transition = Vec::new();
        for s in 0..self.n_states {
            if self.is_terminal(s) {
                continue;
            }
            for a in 0..self.n_actions {
                transition.push(TransitionEntry {
                    state: s,
                    action: a,
                    outcomes: self.outcomes[s][a].clone(),
                });
            }
        }
        MdpFile {
            name: self.name.clone(),
            states: self.n_states,
            actions: self.n_actions,
            gamma: self.gamma,
            horizon: self.horizon,
            start: self.start,
            terminal: self.terminal.clone(),
            state_names: self.state_names.clone(),
            action_names: self.action_names.clone(),
            transition,
        }
    }

    /// Serialises to TOML.
    pub fn to_toml_string(&self) -> Result<String> {
        duality_core::config::to_toml_string(&self.to_file())
    }
}

/// A library of instances used in tests, examples and the bench suite.
pub mod library {
    use super::*;

    fn det(next: usize, reward: f64) -> Vec<Outcome> {
        vec![Outcome {
            next,
            reward,
            prob: 1.0,
        }]
    }

    /// A chain of `n` states: action 0 ("left") returns to state 0 with reward
    /// `small`, action 1 ("right") moves one step right (reward 0, slipping back
    /// to 0 with probability `slip`); the last state pays `big` and stays.
    pub fn chain(n: usize, slip: f64, gamma: f64) -> Result<FiniteMdp> {
        duality_core::check::at_least("n", n, 2)?;
        duality_core::check::probability("slip", slip)?;
        let (small, big) = (0.2, 1.0);
        let mut outcomes = Vec::with_capacity(n);
        for s in 0..n {
            let left = det(0, small);
            let right_next = (s + 1).min(n - 1);
            let reward = if s == n - 1 { big } else { 0.0 };
            let mut right = vec![Outcome {
                next: right_next,
                reward,
                prob: 1.0 - slip,
            }];
            if slip > 0.0 {
                right.push(Outcome {
                    next: 0,
                    reward: 0.0,
                    prob: slip,
                });
            }
            outcomes.push(vec![left, right]);
        }
        FiniteMdp::builder(outcomes, gamma)
            .name("chain")
            .action_names(vec!["left".into(), "right".into()])
            .build()
    }

    /// A cliff gridworld `width x height` (start bottom-left, goal bottom-right,
    /// the cliff between them on the bottom row). Moves succeed with probability
    /// `1 - slip` and otherwise go in a uniformly random direction; each step
    /// costs 1, reaching the goal pays `goal_reward`, falling off the cliff costs
    /// `cliff_penalty` and ends the episode. The short path along the cliff is
    /// risky; the long way round is safe. Actions: up, right, down, left.
    pub fn cliff(
        width: usize,
        height: usize,
        slip: f64,
        gamma: f64,
        horizon: Option<usize>,
    ) -> Result<FiniteMdp> {
        duality_core::check::at_least("width", width, 3)?;
        duality_core::check::at_least("height", height, 2)?;
        duality_core::check::probability("slip", slip)?;
        let (step_cost, cliff_penalty, goal_reward) = (-1.0, -20.0, 10.0);
        let n_cells = width * height;
        // Extra absorbing state index n_cells = "done".
        let done = n_cells;
        let idx = |x: usize, y: usize| y * width + x;
        let start = idx(0, 0);
        let goal = idx(width - 1, 0);
        let is_cliff = |x: usize, y: usize| y == 0 && x > 0 && x < width - 1;
        let moves: [(i64, i64); 4] = [(0, 1), (1, 0), (0, -1), (-1, 0)];
        let mut outcomes = vec![vec![Vec::new(); 4]; n_cells + 1];
        for y in 0..height {
            for x in 0..width {
                let s = idx(x, y);
                if s == goal || is_cliff(x, y) {
                    continue; // never entered as a decision state: transitions go to `done`
                }
                for a in 0..4 {
                    let mut outs: Vec<Outcome> = Vec::new();
                    for (d, &(dx, dy)) in moves.iter().enumerate() {
                        let p = if d == a { 1.0 - slip } else { 0.0 } + slip / 4.0;
                        if p <= 0.0 {
                            continue;
                        }
                        let nx = (x as i64 + dx).clamp(0, width as i64 - 1) as usize;
                        let ny = (y as i64 + dy).clamp(0, height as i64 - 1) as usize;
                        let (next, reward) = if is_cliff(nx, ny) {
                            (done, step_cost + cliff_penalty)
                        } else if idx(nx, ny) == goal {
                            (done, step_cost + goal_reward)
                        } else {
                            (idx(nx, ny), step_cost)
                        };
                        match outs
                            .iter_mut()
                            .find(|o| o.next == next && o.reward == reward)
                        {
                            Some(o) => o.prob += p,
                            None => outs.push(Outcome {
                                next,
                                reward,
                                prob: p,
                            }),
                        }
                    }
                    outcomes[s][a] = outs;
                }
            }
        }
        // Unreachable decision cells (goal/cliff) and `done` are absorbing.
        let mut terminal: Vec<usize> = (0..n_cells)
            .filter(|&s| s == goal || is_cliff(s % width, s / width))
            .collect();
        terminal.push(done);
        FiniteMdp::builder(outcomes, gamma)
            .name(format!("cliff{width}x{height}"))
            .horizon(horizon)
            .start(start)
            .terminal(terminal)
            .action_names(vec![
                "up".into(),
                "right".into(),
                "down".into(),
                "left".into(),
            ])
            .build()
    }

    /// A gambling/investment MDP over `horizon` rounds with wealth levels
    /// `0..=max_wealth` (state = wealth). Each round the gambler chooses a stake
    /// `a` in `0..=max_stake` (capped by wealth): with probability `p_win` the
    /// stake is won at `payout` (reward `+payout * a`), otherwise lost (reward
    /// `-a`). With `p_win * (1 + payout) > 1` the bet has positive expectation,
    /// so the risk-neutral policy bets the maximum while risk-averse policies
    /// hold back. Rewards are wealth changes, so the return is final minus
    /// initial wealth; wealth is clipped to `max_wealth`.
    pub fn gambling(
        max_wealth: usize,
        max_stake: usize,
        start_wealth: usize,
        p_win: f64,
        payout: f64,
        horizon: usize,
    ) -> Result<FiniteMdp> {
        duality_core::check::at_least("max_wealth", max_wealth, 1)?;
        duality_core::check::at_least("max_stake", max_stake, 1)?;
        duality_core::check::at_least("horizon", horizon, 1)?;
        duality_core::check::probability("p_win", p_win)?;
        duality_core::check::positive("payout", payout)?;
        if start_wealth > max_wealth {
            return Err(Error::invalid(
                "start_wealth",
                start_wealth,
                format!("at most max_wealth = {max_wealth}"),
            ));
        }
        let n = max_wealth + 1;
        let mut outcomes = Vec::with_capacity(n);
        for w in 0..n {
            let mut row = Vec::with_capacity(max_stake + 1);
            for a in 0..=max_stake {
                let stake = a.min(w);
                if stake == 0 {
                    row.push(det(w, 0.0));
                    continue;
                }
                let gain = (payout * stake as f64).round() as usize;
                let up = (w + gain).min(max_wealth);
                let down = w - stake;
                row.push(vec![
                    Outcome {
                        next: up,
                        reward: up as f64 - w as f64,
                        prob: p_win,
                    },
                    Outcome {
                        next: down,
                        reward: -(stake as f64),
                        prob: 1.0 - p_win,
                    },
                ]);
            }
            outcomes.push(row);
        }
        FiniteMdp::builder(outcomes, 1.0)
            .name("gambling")
            .horizon(Some(horizon))
            .start(start_wealth)
            .build()
    }

    /// A seeded random MDP: each (s, a) has `branching` distinct next states
    /// (Dirichlet(1) weights) and a reward drawn uniformly from `reward_levels`
    /// integer levels in `[-1, 1]` per outcome.
    pub fn random<R: Rng + ?Sized>(
        n_states: usize,
        n_actions: usize,
        branching: usize,
        gamma: f64,
        rng: &mut R,
    ) -> Result<FiniteMdp> {
        duality_core::check::at_least("n_states", n_states, 1)?;
        duality_core::check::at_least("n_actions", n_actions, 1)?;
        duality_core::check::at_least("branching", branching, 1)?;
        let branching = branching.min(n_states);
        let mut outcomes = Vec::with_capacity(n_states);
        for _ in 0..n_states {
            let mut row = Vec::with_capacity(n_actions);
            for _ in 0..n_actions {
                let mut nexts: Vec<usize> = Vec::with_capacity(branching);
                while nexts.len() < branching {
                    let s = rng.random_range(0..n_states);
                    if !nexts.contains(&s) {
                        nexts.push(s);
                    }
                }
                let w: Vec<f64> = (0..branching)
                    .map(|_| -(1.0 - rng.random::<f64>()).ln())
                    .collect();
                let total: f64 = w.iter().sum();
                let mut outs: Vec<Outcome> = nexts
                    .iter()
                    .zip(&w)
                    .map(|(&next, &wi)| Outcome {
                        next,
                        reward: rng.random_range(-2i32..=2) as f64 / 2.0,
                        prob: wi / total,
                    })
                    .collect();
                // Make the row sum to exactly 1 up to rounding.
                let s: f64 = outs.iter().map(|o| o.prob).sum();
                if let Some(last) = outs.last_mut() {
                    last.prob += 1.0 - s;
                }
                row.push(outs);
            }
            outcomes.push(row);
        }
        FiniteMdp::builder(outcomes, gamma).name("random").build()
    }
}

/// A validation error of a loaded MDP, prefixed by its file (issue 25:
/// `ddp solve` named the bad field but not the file it came from). Errors
/// that already name a file (parse and I/O errors) pass unchanged.
fn in_file(source: &str, e: Error) -> Error {
    match e {
        Error::Parse { .. }
        | Error::Io { .. }
        | Error::Config {
            source_name: Some(_),
            ..
        } => e,
        other => Error::parse(source, None, other.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::library::*;
    use super::*;
    use duality_core::seed::Seeder;

    #[test]
    fn library_instances_validate() {
        chain(5, 0.1, 0.9).unwrap();
        cliff(4, 3, 0.1, 0.95, None).unwrap();
        gambling(10, 3, 3, 0.6, 1.0, 4).unwrap();
        let mut rng = Seeder::new(1).rng(0);
        let m = random(20, 3, 4, 0.9, &mut rng).unwrap();
        m.validate().unwrap();
    }

    #[test]
    fn bad_rows_name_state_and_action() {
        let outs = vec![
            vec![vec![Outcome {
                next: 0,
                reward: 0.0,
                prob: 0.7,
            }]],
            vec![vec![Outcome {
                next: 0,
                reward: 0.0,
                prob: 1.0,
            }]],
        ];
        let err = FiniteMdp::builder(outs.clone(), 0.9)
            .build()
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("state 0, action 0") && err.contains("0.7"),
            "{err}"
        );
        let mut neg = outs.clone();
        neg[0][0] = vec![
            Outcome {
                next: 0,
                reward: 0.0,
                prob: -0.5,
            },
            Outcome {
                next: 1,
                reward: 0.0,
                prob: 1.5,
            },
        ];
        let err = FiniteMdp::builder(neg, 0.9)
            .build()
            .unwrap_err()
            .to_string();
        assert!(err.contains("-0.5"), "{err}");
        let mut ok = outs;
        ok[0][0][0].prob = 1.0;
        let err = FiniteMdp::builder(ok.clone(), 1.0)
            .build()
            .unwrap_err()
            .to_string();
        assert!(err.contains("gamma"), "{err}");
        assert!(FiniteMdp::builder(ok.clone(), 1.0)
            .horizon(Some(3))
            .build()
            .is_ok());
        let err = FiniteMdp::builder(ok, 1.0)
            .horizon(Some(3))
            .action_names(vec!["a".into(), "b".into()])
            .build()
            .unwrap_err()
            .to_string();
        assert!(err.contains("action_names"), "{err}");
    }

    #[test]
    fn toml_round_trip_and_line_numbers() {
        let m = cliff(3, 2, 0.0, 0.9, Some(6)).unwrap();
        let text = m.to_toml_string().unwrap();
        let back = FiniteMdp::from_toml_str(&text, "mem").unwrap();
        assert_eq!(back.outcomes, m.outcomes);
        let bad = "states = 1\nactions = 1\ngamma = 0.9\n[[transition]]\nstate = 0\naction = 0\noutcomes = [{ next = 0, reward = 1.0, prob = \"x\" }]\n";
        let err = FiniteMdp::from_toml_str(bad, "bad.toml")
            .unwrap_err()
            .to_string();
        assert!(err.contains("bad.toml line 7"), "{err}");
        let json = serde_json::to_string(&m.to_file()).unwrap();
        assert_eq!(
            FiniteMdp::from_json_str(&json, "m.json").unwrap().outcomes,
            m.outcomes
        );
    }

    #[test]
    fn file_structure_errors_name_the_pair() {
        let head = "states = 2\nactions = 1\ngamma = 0.9\n";
        let row = |s: usize| {
            format!("[[transition]]\nstate = {s}\naction = 0\noutcomes = [{{ next = 0, reward = 1.0, prob = 1.0 }}]\n")
        };
        let twice = format!("{head}{}{}{}", row(0), row(0), row(1));
        let err = FiniteMdp::from_toml_str(&twice, "twice.toml")
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("twice.toml") && err.contains("listed twice"),
            "{err}"
        );
        let missing = format!("{head}{}", row(0));
        let err = FiniteMdp::from_toml_str(&missing, "m.toml")
            .unwrap_err()
            .to_string();
        assert!(err.contains("state 1, action 0"), "{err}");
        // A terminal state needs no transitions.
        let terminal = format!("{head}terminal = [1]\n{}", row(0));
        let m = FiniteMdp::from_toml_str(&terminal, "t.toml").unwrap();
        assert!(m.is_terminal(1) && !m.is_terminal(0) && !m.is_terminal(7));
        assert_eq!(m.outcomes(1, 0)[0].next, 1);
        let bad = format!("{head}{}", row(5));
        let err = FiniteMdp::from_toml_str(&bad, "b.toml")
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("transition.state") && err.contains('5'),
            "{err}"
        );
    }

    #[test]
    fn serde_goes_through_validation() {
        let m = chain(3, 0.1, 0.9).unwrap();
        let json = serde_json::to_string(&m).unwrap();
        let back: FiniteMdp = serde_json::from_str(&json).unwrap();
        assert_eq!(back, m);
        let broken = json.replace("0.9", "1.5");
        assert!(serde_json::from_str::<FiniteMdp>(&broken).is_err());
        let b = m.return_bounds();
        assert!(
            (b.lo - 0.0).abs() < 1e-12 && (b.hi - 10.0).abs() < 1e-9,
            "{b:?}"
        );
        assert_eq!(m.action_names(), &["left".to_string(), "right".to_string()]);
    }
}
