//! The one round driver of the crate: every bandit loop (the simulator,
//! tallying bandits, bandits with knapsacks, SOR tuning) is
//! `select -> environment -> update` over an [`Arena`], with an
//! [`Observer`] recording what it needs.
//!
//! One loop means one place where the policy's choice is checked: an arm
//! outside `0..k` is an error naming the policy, the arm and `k` (a bug in
//! the policy, never silently clamped to the last arm).
//!
//! Round `t` (1-based) of [`drive`]:
//!
//! 1. [`Arena::begin`]: the environment fixes what is known before the
//!    choice (a reward table row, a context);
//! 2. [`Policy::select`] with [`Arena::context`];
//! 3. [`Arena::respond`]: the outcome of the chosen arm, the reward the
//!    policy learns from, or [`Response::Stop`] (a budget would be exceeded;
//!    the round does not count);
//! 4. [`Policy::update`] (or [`Policy::update_full`] for full-feedback
//!    policies when the arena knows every arm's reward);
//! 5. [`Arena::played`], then [`Observer::observe`].
//!
//! Random numbers: the driver lends its stream `rng` to the policy *and* to
//! the arena. Arenas that need their own stream (the simulator's common
//! random numbers, where every policy sees the same environment draws) hold
//! it and ignore the lent one; LagrangeBwK draws rewards and costs from the
//! learner's stream right after the choice, as the original algorithm's
//! single generator does.
//!
//! ```
//! use duality_bandits::driver::{drive, EnvironmentArena, Step};
//! use duality_bandits::prelude::*;
//! use duality_core::seed::Seeder;
//!
//! let mut env = StochasticBandit::bernoulli(&[0.2, 0.8]).unwrap();
//! let mut env_rng = Seeder::new(1).named("environment").rng(0);
//! let mut arena = EnvironmentArena::new(&mut env, &mut env_rng);
//! let mut policy = Ucb1::new(2).unwrap();
//! let mut pulls = [0u64; 2];
//! let mut count = |_: &EnvironmentArena<'_>, step: &Step| pulls[step.arm] += 1;
//! let run = drive(&mut policy, &mut arena, 1000, &mut Seeder::new(1).rng(0), &mut count).unwrap();
//! assert_eq!(run.rounds, 1000);
//! assert!(pulls[1] > pulls[0]);
//! ```

use duality_core::{Error, Result};
use rand::RngCore;

use crate::env::{Draw, Environment};
use crate::policy::{Arm, Context, Feedback, Policy, Round};

/// What the environment says about the chosen arm.
#[derive(Debug, Clone, Copy, PartialEq)]
#[non_exhaustive]
pub enum Response {
    /// The round counts; the policy learns from this reward.
    Reward(f64),
    /// The run ends before this round counts (e.g. a knapsack budget would
    /// be exceeded); the policy is not updated.
    Stop,
}

/// The environment side of the round loop (see the module docs for the
/// order of the calls).
pub trait Arena {
    /// Number of arms; the policy must choose in `0..n_arms()`.
    fn n_arms(&self) -> usize;
    /// Starts a run (called once, before the policy is reset).
    fn reset(&mut self) {}
    /// Prepares round `t` before the policy chooses. `rng` is the driver's
    /// stream (see the module docs).
    fn begin(&mut self, t: usize, rng: &mut dyn RngCore);
    /// Side information revealed for the current round.
    fn context(&self) -> Option<&Context> {
        None
    }
    /// The outcome of playing `arm` in round `t`.
    fn respond(&mut self, t: usize, arm: Arm, rng: &mut dyn RngCore) -> Response;
    /// Every arm's reward in the current round, for full-feedback policies;
    /// `None` when only the played arm's reward exists (they then get the
    /// bandit update).
    fn full_rewards(&self) -> Option<&[f64]> {
        None
    }
    /// Called after the policy's update (adaptive adversaries and the
    /// tallying bandit remember the play here).
    fn played(&mut self, _t: usize, _arm: Arm) {}
}

/// One counted round, as observers see it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Step {
    /// 1-based round.
    pub t: usize,
    /// The arm played.
    pub arm: Arm,
    /// The reward the policy learned from.
    pub reward: f64,
}

/// Records a run: called after every counted round with the arena (whose
/// current round is still readable, e.g. [`EnvironmentArena::draw`]).
pub trait Observer<A: ?Sized> {
    /// Sees round `step.t`.
    fn observe(&mut self, arena: &A, step: &Step);
}

impl<A: ?Sized, F: FnMut(&A, &Step)> Observer<A> for F {
    fn observe(&mut self, arena: &A, step: &Step) {
        self(arena, step)
    }
}

/// How a run of [`drive`] ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RunSummary {
    /// Rounds that counted (the horizon unless the arena stopped early).
    pub rounds: usize,
    /// Whether the arena stopped the run before the horizon.
    pub stopped: bool,
}

/// Runs `policy` on `arena` for at most `horizon` rounds (see the module
/// docs). The arena and then the policy are reset first. Errors: the
/// policy and the arena disagree on the number of arms, or the policy
/// chooses an arm outside `0..k` (named with the policy, the round and `k`).
///
/// Generic over the policy, the arena and the observer: with `dyn Policy`
/// and `dyn Environment` it is the dynamically dispatched loop every caller
/// uses; the simulator also instantiates it for concrete types (UCB1 or
/// Thompson sampling on a stochastic bandit), so that the round's calls
/// inline. Both compute the same numbers.
#[inline]
pub fn drive<P: Policy + ?Sized, A: Arena + ?Sized, O: Observer<A> + ?Sized>(
    policy: &mut P,
    arena: &mut A,
    horizon: usize,
    rng: &mut dyn RngCore,
    observer: &mut O,
) -> Result<RunSummary> {
    let k = arena.n_arms();
    if k == 0 {
        return Err(Error::invalid("number of arms", 0, "at least 1 arm"));
    }
    duality_core::check::same_len(
        "environment arms",
        k,
        &format!("arms of policy {}", policy.name()),
        policy.n_arms(),
    )?;
    arena.reset();
    policy.reset();
    let full = policy.feedback() == Feedback::Full;
    let mut rounds = 0;
    for t in 1..=horizon {
        arena.begin(t, rng);
        let arm = policy.select(
            &Round {
                t,
                horizon,
                context: arena.context(),
            },
            rng,
        );
        if arm >= k {
            return Err(out_of_range(&policy.name(), arm, k, t));
        }
        let reward = match arena.respond(t, arm, rng) {
            Response::Reward(r) => r,
            Response::Stop => {
                return Ok(RunSummary {
                    rounds,
                    stopped: true,
                })
            }
        };
        let round = Round {
            t,
            horizon,
            context: arena.context(),
        };
        match arena.full_rewards() {
            Some(all) if full => policy.update_full(&round, arm, all),
            _ => policy.update(&round, arm, reward),
        }
        arena.played(t, arm);
        rounds = t;
        observer.observe(arena, &Step { t, arm, reward });
    }
    Ok(RunSummary {
        rounds,
        stopped: false,
    })
}

#[cold]
fn out_of_range(policy: &str, arm: Arm, k: usize, t: usize) -> Error {
    Error::invalid(
        format!("arm chosen by policy {policy} in round {t}"),
        arm,
        format!("an arm in 0..{k} (k = {k}); a policy bug, never clamped"),
    )
}

/// An [`Environment`] as an arena: [`Environment::draw`] fills every arm's
/// reward and mean before the choice, from the arena's own stream (common
/// random numbers: the stream does not depend on the policy's draws).
/// Generic over the environment (`dyn Environment` by default), so that
/// the simulator's typed loop calls a concrete environment's `draw` inline.
pub struct EnvironmentArena<'a, E: Environment + ?Sized = dyn Environment> {
    env: &'a mut E,
    rng: &'a mut dyn RngCore,
    draw: Draw,
}

impl<'a> EnvironmentArena<'a> {
    /// `env` drawing from `rng` (dynamically dispatched; see
    /// [`EnvironmentArena::typed`]).
    pub fn new(env: &'a mut (dyn Environment + 'static), rng: &'a mut dyn RngCore) -> Self {
        Self::typed(env, rng)
    }
}

impl<'a, E: Environment + ?Sized> EnvironmentArena<'a, E> {
    /// `env` of a concrete type drawing from `rng`: the round loop then
    /// calls its `draw` statically.
    pub fn typed(env: &'a mut E, rng: &'a mut dyn RngCore) -> Self {
        let draw = Draw::new(env.n_arms());
        EnvironmentArena { env, rng, draw }
    }

    /// The current round's draw (rewards and means of every arm).
    pub fn draw(&self) -> &Draw {
        &self.draw
    }
}

impl<E: Environment + ?Sized> Arena for EnvironmentArena<'_, E> {
    fn n_arms(&self) -> usize {
        self.env.n_arms()
    }
    fn reset(&mut self) {
        self.env.reset();
    }
    #[inline]
    fn begin(&mut self, t: usize, _rng: &mut dyn RngCore) {
        // Only a context left from the last round needs dropping (the
        // check keeps the drop glue's call out of context-free rounds).
        if self.draw.context.is_some() {
            self.draw.context = None;
        }
        self.env.draw(t, &mut *self.rng, &mut self.draw);
    }
    fn context(&self) -> Option<&Context> {
        self.draw.context.as_ref()
    }
    #[inline]
    fn respond(&mut self, _t: usize, arm: Arm, _rng: &mut dyn RngCore) -> Response {
        Response::Reward(self.draw.rewards[arm])
    }
    fn full_rewards(&self) -> Option<&[f64]> {
        Some(&self.draw.rewards)
    }
    fn played(&mut self, t: usize, arm: Arm) {
        self.env.played(t, arm);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::env::StochasticBandit;
    use crate::policy::PolicyClone;
    use duality_core::seed::Seeder;

    /// A buggy policy that answers `arm` whatever `k` is.
    #[derive(Clone)]
    struct Fixed {
        k: usize,
        arm: Arm,
    }

    impl Policy for Fixed {
        fn name(&self) -> String {
            format!("fixed-{}", self.arm)
        }
        fn n_arms(&self) -> usize {
            self.k
        }
        fn reset(&mut self) {}
        fn select(&mut self, _round: &Round<'_>, _rng: &mut dyn RngCore) -> Arm {
            self.arm
        }
        fn update(&mut self, _round: &Round<'_>, _arm: Arm, _reward: f64) {}
    }

    /// Stops once `budget` rounds have been paid.
    struct Budgeted {
        budget: usize,
        used: usize,
    }

    impl Arena for Budgeted {
        fn n_arms(&self) -> usize {
            2
        }
        fn begin(&mut self, _t: usize, _rng: &mut dyn RngCore) {}
        fn respond(&mut self, _t: usize, _arm: Arm, _rng: &mut dyn RngCore) -> Response {
            if self.used == self.budget {
                return Response::Stop;
            }
            self.used += 1;
            Response::Reward(1.0)
        }
    }

    #[test]
    fn out_of_range_arm_is_an_error_naming_policy_arm_and_k() {
        let mut env = StochasticBandit::bernoulli(&[0.5, 0.5, 0.5]).unwrap();
        let mut env_rng = Seeder::new(0).rng(0);
        let mut arena = EnvironmentArena::new(&mut env, &mut env_rng);
        let mut policy = Fixed { k: 3, arm: 7 };
        let err = drive(
            &mut policy,
            &mut arena,
            10,
            &mut Seeder::new(0).rng(1),
            &mut |_: &EnvironmentArena<'_>, _: &Step| {},
        )
        .unwrap_err()
        .to_string();
        assert!(
            err.contains("fixed-7") && err.contains("= 7") && err.contains("k = 3"),
            "{err}"
        );
        // A policy with the wrong number of arms is rejected before round 1.
        let mut wrong = Fixed { k: 2, arm: 0 }.clone_box();
        let err = drive(
            wrong.as_mut(),
            &mut arena,
            10,
            &mut Seeder::new(0).rng(1),
            &mut |_: &EnvironmentArena<'_>, _: &Step| {},
        )
        .unwrap_err()
        .to_string();
        assert!(err.contains("fixed-0"), "{err}");
    }

    #[test]
    fn stop_ends_the_run_without_counting_the_round() {
        let mut arena = Budgeted { budget: 5, used: 0 };
        let mut seen = Vec::new();
        let run = drive(
            &mut Fixed { k: 2, arm: 1 },
            &mut arena,
            100,
            &mut Seeder::new(0).rng(0),
            &mut |_: &Budgeted, s: &Step| seen.push(s.t),
        )
        .unwrap();
        assert_eq!(
            run,
            RunSummary {
                rounds: 5,
                stopped: true
            }
        );
        assert_eq!(seen, vec![1, 2, 3, 4, 5]);
        let run = drive(
            &mut Fixed { k: 2, arm: 0 },
            &mut Budgeted {
                budget: 50,
                used: 0,
            },
            20,
            &mut Seeder::new(0).rng(0),
            &mut |_: &Budgeted, _: &Step| {},
        )
        .unwrap();
        assert_eq!(
            run,
            RunSummary {
                rounds: 20,
                stopped: false
            }
        );
    }
}
