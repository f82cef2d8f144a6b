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

use duality_core::{Error, Result};
use rand::Rng;
use serde::{Deserialize, Serialize};

/// Tolerance for probability rows summing to one.
pub const ROW_TOLERANCE: f64 = 1e-9;

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

/// A validated finite MDP.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FiniteMdp {
    /// Human-readable name.
    pub name: String,
    /// Number of states.
    pub n_states: usize,
    /// Number of actions (every action is available in every state).
    pub n_actions: usize,
    /// Discount factor.
    pub gamma: f64,
    /// Finite horizon (number of decisions), or `None` for infinite horizon.
    pub horizon: Option<usize>,
    /// Start state.
    pub start: usize,
    /// Terminal (absorbing, zero-return) states.
    #[serde(default)]
    pub terminal: Vec<usize>,
    /// `outcomes[s][a]`: joint law of (next state, reward) after `a` in `s`.
    pub outcomes: Vec<Vec<Vec<Outcome>>>,
    /// Optional state names (for printing).
    #[serde(default)]
    pub state_names: Vec<String>,
    /// Optional action names (for printing).
    #[serde(default)]
    pub action_names: Vec<String>,
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

impl FiniteMdp {
    /// Builds and validates an MDP. Terminal states get a self-loop with reward 0
    /// for every action if their outcome lists are empty.
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        name: impl Into<String>,
        n_states: usize,
        n_actions: usize,
        gamma: f64,
        horizon: Option<usize>,
        start: usize,
        terminal: Vec<usize>,
        mut outcomes: Vec<Vec<Vec<Outcome>>>,
    ) -> Result<Self> {
        for &t in &terminal {
            if t < outcomes.len() {
                for a in 0..outcomes[t].len() {
                    outcomes[t][a] = vec![Outcome {
                        next: t,
                        reward: 0.0,
                        prob: 1.0,
                    }];
                }
            }
        }
        let mdp = FiniteMdp {
            name: name.into(),
            n_states,
            n_actions,
            gamma,
            horizon,
            start,
            terminal,
            outcomes,
            state_names: Vec::new(),
            action_names: Vec::new(),
        };
        mdp.validate()?;
        Ok(mdp)
    }

    /// Checks sizes, probabilities, rows summing to one, discount and start state;
    /// errors name the offending state and action.
    pub fn validate(&self) -> Result<()> {
        duality_core::check::at_least("n_states", self.n_states, 1)?;
        duality_core::check::at_least("n_actions", self.n_actions, 1)?;
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
        duality_core::check::same_len("outcomes", self.outcomes.len(), "states", self.n_states)?;
        for (s, row) in self.outcomes.iter().enumerate() {
            duality_core::check::same_len(
                &format!("outcomes[state {s}]"),
                row.len(),
                "actions",
                self.n_actions,
            )?;
            for (a, outs) in row.iter().enumerate() {
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
            }
        }
        Ok(())
    }

    /// Whether `s` is terminal.
    pub fn is_terminal(&self, s: usize) -> bool {
        self.terminal.contains(&s)
    }

    /// Outcomes of action `a` in state `s` (indices assumed valid: checked at construction).
    pub fn outcomes(&self, s: usize, a: usize) -> &[Outcome] {
        &self.outcomes[s][a]
    }

    /// Expected immediate reward of `(s, a)`.
    pub fn expected_reward(&self, s: usize, a: usize) -> f64 {
        self.outcomes[s][a].iter().map(|o| o.prob * o.reward).sum()
    }

    /// Smallest and largest single-step reward.
    pub fn reward_range(&self) -> (f64, f64) {
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
        (lo, hi)
    }

    /// Bounds on the discounted return: `[r_min, r_max] * sum_t gamma^t`.
    pub fn return_bounds(&self) -> (f64, f64) {
        let (lo, hi) = self.reward_range();
        let scale = match self.horizon {
            Some(h) => (0..h).map(|t| self.gamma.powi(t as i32)).sum(),
            None => 1.0 / (1.0 - self.gamma),
        };
        (lo * scale, hi * scale)
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

    /// Parses an MDP from TOML text; `source` names the file in errors.
    pub fn from_toml_str(text: &str, source: &str) -> Result<Self> {
        let file: MdpFile = toml::from_str(text).map_err(|e| {
            let line = e
                .span()
                .map(|sp| text[..sp.start.min(text.len())].lines().count().max(1));
            Error::parse(source, line, e.message().to_string())
        })?;
        Self::from_file(file)
    }

    /// Parses an MDP from JSON text.
    pub fn from_json_str(text: &str, source: &str) -> Result<Self> {
        let file: MdpFile = serde_json::from_str(text)
            .map_err(|e| Error::parse(source, Some(e.line()), e.to_string()))?;
        Self::from_file(file)
    }

    /// Loads an MDP from a `.toml` or `.json` file.
    pub fn load(path: impl AsRef<Path>) -> Result<Self> {
        let path = path.as_ref();
        let text = std::fs::read_to_string(path).map_err(|e| Error::io(path, e))?;
        let src = path.display().to_string();
        if path.extension().is_some_and(|e| e == "json") {
            Self::from_json_str(&text, &src)
        } else {
            Self::from_toml_str(&text, &src)
        }
    }

    /// Converts the file representation, checking every (state, action) appears once.
    pub fn from_file(file: MdpFile) -> Result<Self> {
        duality_core::check::at_least("states", file.states, 1)?;
        duality_core::check::at_least("actions", file.actions, 1)?;
        let mut outcomes: Vec<Vec<Option<Vec<Outcome>>>> =
            vec![vec![None; file.actions]; file.states];
        for entry in file.transition {
            if entry.state >= file.states {
                return Err(Error::invalid(
                    "transition.state",
                    entry.state,
                    format!("a state index < {}", file.states),
                ));
            }
            if entry.action >= file.actions {
                return Err(Error::invalid(
                    format!("transition.action (state {})", entry.state),
                    entry.action,
                    format!("an action index < {}", file.actions),
                ));
            }
            let slot = &mut outcomes[entry.state][entry.action];
            if slot.is_some() {
                return Err(Error::config(
                    "transition",
                    format!(
                        "state {}, action {} is listed twice",
                        entry.state, entry.action
                    ),
                ));
            }
            *slot = Some(entry.outcomes);
        }
        let mut full = Vec::with_capacity(file.states);
        for (s, row) in outcomes.into_iter().enumerate() {
            let mut r = Vec::with_capacity(file.actions);
            for (a, o) in row.into_iter().enumerate() {
                match o {
                    Some(o) => r.push(o),
                    None if file.terminal.contains(&s) => r.push(Vec::new()),
                    None => {
                        return Err(Error::config(
                            "transition",
                            format!("no outcomes for state {s}, action {a}"),
                        ))
                    }
                }
            }
            full.push(r);
        }
        let mut mdp = FiniteMdp::new(
            file.name,
            file.states,
            file.actions,
            file.gamma,
            file.horizon,
            file.start,
            file.terminal,
            full,
        )?;
        mdp.state_names = file.state_names;
        mdp.action_names = file.action_names;
        Ok(mdp)
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
        toml::to_string(&self.to_file()).map_err(|e| Error::Other(e.to_string()))
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
        let mut m = FiniteMdp::new("chain", n, 2, gamma, None, 0, vec![], outcomes)?;
        m.action_names = vec!["left".into(), "right".into()];
        Ok(m)
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
        let mut m = FiniteMdp::new(
            format!("cliff{width}x{height}"),
            n_cells + 1,
            4,
            gamma,
            horizon,
            start,
            terminal,
            outcomes,
        )?;
        m.action_names = vec!["up".into(), "right".into(), "down".into(), "left".into()];
        Ok(m)
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
        FiniteMdp::new(
            "gambling",
            n,
            max_stake + 1,
            1.0,
            Some(horizon),
            start_wealth,
            vec![],
            outcomes,
        )
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
        FiniteMdp::new(
            "random",
            n_states,
            n_actions,
            gamma,
            None,
            0,
            vec![],
            outcomes,
        )
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
        let err = FiniteMdp::new("x", 2, 1, 0.9, None, 0, vec![], outs.clone())
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
        let err = FiniteMdp::new("x", 2, 1, 0.9, None, 0, vec![], neg)
            .unwrap_err()
            .to_string();
        assert!(err.contains("-0.5"), "{err}");
        let mut ok = outs;
        ok[0][0][0].prob = 1.0;
        let err = FiniteMdp::new("x", 2, 1, 1.0, None, 0, vec![], ok.clone())
            .unwrap_err()
            .to_string();
        assert!(err.contains("gamma"), "{err}");
        assert!(FiniteMdp::new("x", 2, 1, 1.0, Some(3), 0, vec![], ok).is_ok());
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
}
