//! 2-opt and Or-opt local search with neighbour lists and don't-look bits.
//!
//! The tour is an array with a position index; a 2-opt move reverses the
//! shorter of the two paths it creates (Bentley 1992, "Fast algorithms for
//! geometric TSPs"), so a move costs at most n/2 swaps. Candidate moves only
//! connect a city to one of its k nearest neighbours, and a queue of active
//! cities replaces full sweeps (don't-look bits, Bentley 1992). Or-opt moves a
//! segment of 1-3 cities, optionally reversed, between two adjacent cities
//! (Or 1976); it is executed as two or three 2-opt exchanges so both
//! neighbourhoods share one tour representation. Or-3opt
//! ([`Neighbourhood::Or3Opt`]) generalises it to segments of any length: for
//! a city `t1` and its tour neighbour `t2` it tries the sequential 3-opt
//! move remove `(t1, t2), (t3, t4), (t5, t6)`, add `(t2, t3), (t4, t5),
//! (t6, t1)` with `t3` a candidate of `t2` and `t5` a candidate of `t4`,
//! which moves the segment `t4 ..= t1` between `t5` and `t6` (Johnson &
//! McGeoch 1997, section 3.3: the "or3opt" pure segment-insertion case of
//! 3-opt, with the partial-gain pruning `g1 > 0`, `g2 > 0` of Lin &
//! Kernighan 1973).
//!
//! A fixed edge may be declared: moves never remove it. This is how
//! divide-conquer-reunion keeps the end points of an open sub-path fixed.

use std::collections::VecDeque;
use std::time::Instant;

use duality_core::config::Validate;
use duality_core::{Error, Result};
use serde::{Deserialize, Serialize};

use super::knn::Neighbours;

/// Which neighbourhoods the local search uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub enum Neighbourhood {
    /// 2-opt only.
    TwoOpt,
    /// Or-opt only (segments of 1-3 cities).
    OrOpt,
    /// Both, interleaved per city ("Or-2opt").
    Or2Opt,
    /// Or-2opt plus *Or-3opt* segment insertion: the pure sequential 3-opt
    /// move that moves a segment of any length, possibly reversed, between
    /// two other adjacent cities, searched from both tour neighbours of a
    /// city through the candidate lists (Johnson & McGeoch 1997, "The
    /// traveling salesman problem: a case study in local optimization",
    /// section 3.3 on 3-opt with neighbour lists and don't-look bits; Bentley
    /// 1992, "Fast algorithms for geometric traveling salesman problems",
    /// on Or-opt generalised to segment insertion).
    Or3Opt,
}

/// Stopping rules and options of the local search: built with
/// [`LocalSearchParams::new`] and the `with_*` setters, checked once by
/// [`Validate`] when a public entry point receives them.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct LocalSearchParams {
    neighbourhood: Neighbourhood,
    max_moves: Option<usize>,
    time_limit: Option<f64>,
    max_segment: usize,
}

impl Default for LocalSearchParams {
    fn default() -> Self {
        LocalSearchParams {
            neighbourhood: Neighbourhood::Or2Opt,
            max_moves: None,
            time_limit: None,
            max_segment: 3,
        }
    }
}

impl LocalSearchParams {
    /// Defaults (no limits, Or-opt segments up to 3 cities) for `neighbourhood`.
    pub fn new(neighbourhood: Neighbourhood) -> Self {
        LocalSearchParams {
            neighbourhood,
            ..Default::default()
        }
    }
    /// Sets the neighbourhoods used.
    pub fn with_neighbourhood(mut self, neighbourhood: Neighbourhood) -> Self {
        self.neighbourhood = neighbourhood;
        self
    }
    /// Stops after this many improving moves (`None`: until a local optimum).
    pub fn with_max_moves(mut self, moves: Option<usize>) -> Self {
        self.max_moves = moves;
        self
    }
    /// Stops after this many seconds (`None`: no limit; `0` stops at the
    /// first check, so a spent budget passes through unchanged).
    pub fn with_time_limit(mut self, seconds: Option<f64>) -> Self {
        self.time_limit = seconds;
        self
    }
    /// Longest segment moved by Or-opt (at least 1).
    pub fn with_max_segment(mut self, cities: usize) -> Self {
        self.max_segment = cities;
        self
    }
    /// Neighbourhoods used.
    pub fn neighbourhood(&self) -> Neighbourhood {
        self.neighbourhood
    }
    /// Improving-move limit.
    pub fn max_moves(&self) -> Option<usize> {
        self.max_moves
    }
    /// Wall-clock limit in seconds.
    pub fn time_limit(&self) -> Option<f64> {
        self.time_limit
    }
    /// Longest Or-opt segment.
    pub fn max_segment(&self) -> usize {
        self.max_segment
    }
}

/// A time limit must be a finite number of seconds `>= 0`.
pub(crate) fn check_time_limit(field: &str, seconds: Option<f64>) -> Result<()> {
    match seconds {
        Some(t) if !(t.is_finite() && t >= 0.0) => Err(Error::config(
            field,
            format!("must be a finite number of seconds >= 0, got {t}"),
        )),
        _ => Ok(()),
    }
}

impl Validate for LocalSearchParams {
    fn validate(&self) -> Result<()> {
        check_time_limit("time_limit", self.time_limit)?;
        if self.max_segment == 0 {
            return Err(Error::config("max_segment", "must be >= 1, got 0"));
        }
        Ok(())
    }
}

/// Improvements below this are treated as zero (guards against cycling on
/// floating-point noise).
pub(crate) const EPS: f64 = 1e-9;

/// An array tour with position index, the shared representation of the moves.
pub(crate) struct ArrayTour {
    order: Vec<usize>,
    pos: Vec<usize>,
    /// Journal of position reversals `(first position, length)` since the
    /// last [`ArrayTour::start_log`] (`None`: not recording). A reversal of
    /// positions is its own inverse, so replaying the journal backwards undoes it.
    log: Option<Vec<(usize, usize)>>,
}

impl ArrayTour {
    pub(crate) fn new(order: Vec<usize>) -> Self {
        let mut pos = vec![0; order.len()];
        for (i, &c) in order.iter().enumerate() {
            pos[c] = i;
        }
        ArrayTour {
            order,
            pos,
            log: None,
        }
    }

    /// Starts (or restarts) recording reversals for [`ArrayTour::undo_log`].
    fn start_log(&mut self) {
        match &mut self.log {
            Some(log) => log.clear(),
            None => self.log = Some(Vec::new()),
        }
    }

    /// Undoes every reversal recorded since [`ArrayTour::start_log`].
    fn undo_log(&mut self) {
        if let Some(mut log) = self.log.take() {
            for &(i, len) in log.iter().rev() {
                self.swap_positions(i, len);
            }
            log.clear();
            self.log = Some(log);
        }
    }

    /// Reverses the `len` positions starting at position `i` (wrapping).
    fn reverse_positions(&mut self, i: usize, len: usize) {
        if let Some(log) = &mut self.log {
            log.push((i, len));
        }
        self.swap_positions(i, len);
    }

    fn swap_positions(&mut self, mut i: usize, len: usize) {
        let n = self.order.len();
        let mut j = (i + len + n - 1) % n;
        for _ in 0..len / 2 {
            let (a, b) = (self.order[i], self.order[j]);
            self.order[i] = b;
            self.order[j] = a;
            self.pos[b] = i;
            self.pos[a] = j;
            i = if i + 1 == n { 0 } else { i + 1 };
            j = if j == 0 { n - 1 } else { j - 1 };
        }
    }

    #[inline]
    pub(crate) fn succ(&self, c: usize) -> usize {
        let p = self.pos[c] + 1;
        self.order[if p == self.order.len() { 0 } else { p }]
    }

    #[inline]
    pub(crate) fn pred(&self, c: usize) -> usize {
        let p = self.pos[c];
        self.order[if p == 0 { self.order.len() - 1 } else { p - 1 }]
    }

    /// Whether `b` lies on the path from `a` to `c` (following `succ`).
    #[inline]
    fn between(&self, a: usize, b: usize, c: usize) -> bool {
        let (pa, pb, pc) = (self.pos[a], self.pos[b], self.pos[c]);
        if pa <= pc {
            pa <= pb && pb <= pc
        } else {
            pb >= pa || pb <= pc
        }
    }

    /// Reverses the path `from ..= to` (following `succ`), or equivalently
    /// its complement, whichever is shorter.
    fn reverse_path(&mut self, from: usize, to: usize) {
        let n = self.order.len();
        let (mut i, j) = (self.pos[from], self.pos[to]);
        let mut len = if j >= i { j - i + 1 } else { j + n - i + 1 };
        if 2 * len > n {
            // Reverse the complement instead: same cycle, opposite orientation.
            i = if j + 1 == n { 0 } else { j + 1 };
            len = n - len;
        }
        self.reverse_positions(i, len);
    }

    /// Replaces edges `(a, b)` and `(c, d)` by `(a, c)` and `(b, d)`, where
    /// `a -> b` and `c -> d` run in the same direction around the tour.
    pub(crate) fn exchange(&mut self, a: usize, b: usize, c: usize, d: usize) {
        if self.succ(a) == b {
            self.reverse_path(b, c);
        } else {
            // b -> a and d -> c in succ order.
            self.reverse_path(a, d);
        }
    }

    pub(crate) fn into_order(self) -> Vec<usize> {
        self.order
    }

    pub(crate) fn order(&self) -> &[usize] {
        &self.order
    }
}

/// A local optimum reached by [`improve`] / [`improve_from`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LocalOptimum {
    /// The improved visiting order (ids `0..n` of the distance).
    pub order: Vec<usize>,
    /// Improving moves made.
    pub moves: usize,
}

/// Checks what every public entry point receives: `order` a permutation of
/// `0..n`, candidate lists for `n` cities, a fixed edge inside `0..n`.
pub(crate) fn check_inputs(
    order: Vec<usize>,
    neighbours: &Neighbours,
    fixed: Option<(usize, usize)>,
) -> Result<Vec<usize>> {
    let n = order.len();
    let order = super::tour::Tour::new(order, n)?.into_vec();
    duality_core::check::same_len("neighbours", neighbours.len(), "tour cities", n)?;
    if let Some((a, b)) = fixed {
        if a.max(b) >= n {
            return Err(Error::invalid(
                "fixed edge",
                format!("({a}, {b})"),
                format!("two city ids in 0..{n}"),
            ));
        }
    }
    Ok(order)
}

/// Runs 2-opt / Or-opt from `order` until a local optimum (or a limit).
///
/// `dist` is the distance on ids `0..order.len()`, `neighbours` their
/// candidate lists, `fixed` an edge that must stay in the tour. Fails
/// (naming the value) on invalid `params`, an `order` that is not a
/// permutation, candidate lists for another size or a fixed edge out of range.
pub fn improve(
    order: Vec<usize>,
    dist: &(impl Fn(usize, usize) -> f64 + ?Sized),
    neighbours: &Neighbours,
    fixed: Option<(usize, usize)>,
    params: &LocalSearchParams,
) -> Result<LocalOptimum> {
    improve_from(order, dist, neighbours, fixed, params, None)
}

/// Like [`improve`], but only the cities in `active` start with their
/// don't-look bit off (after a local perturbation only its end points can
/// yield improving moves; `None` activates every city).
pub fn improve_from(
    order: Vec<usize>,
    dist: &(impl Fn(usize, usize) -> f64 + ?Sized),
    neighbours: &Neighbours,
    fixed: Option<(usize, usize)>,
    params: &LocalSearchParams,
    active: Option<&[usize]>,
) -> Result<LocalOptimum> {
    params.validate()?;
    let order = check_inputs(order, neighbours, fixed)?;
    if let Some(&c) = active.and_then(|a| a.iter().find(|&&c| c >= order.len())) {
        return Err(Error::invalid(
            "active city",
            c,
            format!("a city id in 0..{}", order.len()),
        ));
    }
    Ok(improve_unchecked(
        order, dist, neighbours, fixed, params, active,
    ))
}

/// [`improve_from`] on inputs the caller has already checked (the hot paths
/// of ILS kicks and DCR sub-paths, which would otherwise re-validate the
/// same parameters thousands of times).
pub(crate) fn improve_unchecked(
    order: Vec<usize>,
    dist: &(impl Fn(usize, usize) -> f64 + ?Sized),
    neighbours: &Neighbours,
    fixed: Option<(usize, usize)>,
    params: &LocalSearchParams,
    active: Option<&[usize]>,
) -> LocalOptimum {
    let n = order.len();
    let mut search = Search::new(order, dist, neighbours, fixed);
    if n < 5 {
        return LocalOptimum {
            order: search.tour.into_order(),
            moves: 0,
        };
    }
    match active {
        Some(cities) => {
            for &c in cities {
                search.push(c);
            }
        }
        None => {
            for c in search.tour.order().to_vec() {
                search.push(c);
            }
        }
    }
    let start = Instant::now();
    let moves = search.run(params, start, 0);
    LocalOptimum {
        order: search.tour.into_order(),
        moves,
    }
}

/// The perturbation ("kick") of [`iterated_local_search`]. Both are
/// double bridges, i.e. two adjacent tour segments swap places
/// (`A B C -> B A C`, three edges replaced; Martin, Otto & Felten 1991);
/// they differ in where the three cut edges are chosen.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub enum Kick {
    /// Segment-local: the two swapped segments are adjacent stretches of at
    /// most [`IlsParams::max_kick_segment`] cities from a random position
    /// (Johnson & McGeoch 1997, section 5, "local" double bridges).
    SegmentSwap,
    /// Geometric: the cuts follow three cities close in the plane, a random
    /// city and the ends of two random walks of `steps` steps from it on the
    /// candidate-list graph (the "random-walk kick" of Applegate, Cook &
    /// Rohe 2003, "Chained Lin-Kernighan for large traveling salesman
    /// problems"). The segments between the cuts may be long; the two
    /// shorter of the three are swapped.
    RandomWalk {
        /// Steps of each walk (at least 1).
        steps: usize,
    },
}

/// Options of [`iterated_local_search`]: [`IlsParams::default`] plus the
/// `with_*` setters, checked once by [`Validate`].
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct IlsParams {
    local: LocalSearchParams,
    kicks: usize,
    max_kick_segment: usize,
    kick: Kick,
    time_limit: Option<f64>,
}

impl Default for IlsParams {
    fn default() -> Self {
        IlsParams {
            local: LocalSearchParams::default(),
            kicks: 1_000,
            max_kick_segment: 50,
            kick: Kick::SegmentSwap,
            time_limit: None,
        }
    }
}

impl IlsParams {
    /// Sets the local search run first and after every kick (its own time
    /// limit is ignored: [`IlsParams::with_time_limit`] bounds the whole run).
    pub fn with_local(mut self, local: LocalSearchParams) -> Self {
        self.local = local;
        self
    }
    /// Sets the number of kicks (perturbation + local search + accept/undo rounds).
    pub fn with_kicks(mut self, kicks: usize) -> Self {
        self.kicks = kicks;
        self
    }
    /// Sets the longest of the two adjacent segments a kick swaps (at least 1).
    pub fn with_max_kick_segment(mut self, cities: usize) -> Self {
        self.max_kick_segment = cities;
        self
    }
    /// Sets the kind of kick (default [`Kick::SegmentSwap`]).
    pub fn with_kick(mut self, kick: Kick) -> Self {
        self.kick = kick;
        self
    }
    /// Sets the wall-clock limit for the whole run in seconds (`None`: only
    /// the kick budget). A run stopped by it is not reproducible across machines.
    pub fn with_time_limit(mut self, seconds: Option<f64>) -> Self {
        self.time_limit = seconds;
        self
    }
    /// The local search.
    pub fn local(&self) -> &LocalSearchParams {
        &self.local
    }
    /// Kick budget.
    pub fn kicks(&self) -> usize {
        self.kicks
    }
    /// Longest kick segment.
    pub fn max_kick_segment(&self) -> usize {
        self.max_kick_segment
    }
    /// Kind of kick.
    pub fn kick(&self) -> Kick {
        self.kick
    }
    /// Wall-clock limit of the whole run.
    pub fn time_limit(&self) -> Option<f64> {
        self.time_limit
    }
}

impl Validate for IlsParams {
    fn validate(&self) -> Result<()> {
        self.local.validate().map_err(|e| e.in_field("local"))?;
        check_time_limit("time_limit", self.time_limit)?;
        if self.max_kick_segment == 0 {
            return Err(Error::config("max_kick_segment", "must be >= 1, got 0"));
        }
        if self.kick == (Kick::RandomWalk { steps: 0 }) {
            return Err(Error::config("kick.steps", "must be >= 1, got 0"));
        }
        Ok(())
    }
}

/// What an [`iterated_local_search`] run did.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct IlsStats {
    /// Kicks tried.
    pub kicks: usize,
    /// Kicks whose local optimum was shorter and was kept.
    pub accepted: usize,
    /// Improving local-search moves, including the initial descent.
    pub moves: usize,
    /// Length of the local optimum before the first kick.
    pub initial_length: f64,
    /// Length of the returned tour.
    pub length: f64,
}

/// The tour an [`iterated_local_search`] returns, with what the run did.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct IlsRun {
    /// The visiting order (ids `0..n` of the distance).
    pub order: Vec<usize>,
    /// Kicks, acceptances, moves and lengths.
    pub stats: IlsStats,
}

/// Iterated local search (Martin, Otto & Felten 1991; Johnson & McGeoch
/// 1997, section 5): descends to a 2-opt / Or-opt local optimum, then
/// repeats `kicks` times: a *segment-local double bridge* (two adjacent
/// segments of at most `max_kick_segment` cities swap places, which replaces
/// three edges: `x A B y -> x B A y`), local search from the six end points
/// of the changed edges only (don't-look bits of all other cities stay on),
/// and the new tour is kept if shorter, otherwise the kick and its repairs
/// are undone from a journal of array reversals (no O(n) copy per kick).
///
/// `fixed` is an edge no move or kick removes. Same `rng` state, same
/// result, unless the time limit stops the run. Fails (naming the value)
/// on invalid `params`, when `order` is not a permutation of `0..n`,
/// `neighbours` was built for another number of cities, or `fixed` names a
/// city outside `0..n`.
pub fn iterated_local_search<R: rand::Rng + ?Sized>(
    order: Vec<usize>,
    dist: &(impl Fn(usize, usize) -> f64 + ?Sized),
    neighbours: &Neighbours,
    fixed: Option<(usize, usize)>,
    params: &IlsParams,
    rng: &mut R,
) -> Result<IlsRun> {
    params.validate()?;
    let order = check_inputs(order, neighbours, fixed)?;
    let n = order.len();
    let start = Instant::now();
    let local = LocalSearchParams {
        time_limit: params.time_limit,
        ..params.local
    };
    let mut search = Search::new(order, dist, neighbours, fixed);
    search.cache_candidates();
    let mut stats = IlsStats {
        kicks: 0,
        accepted: 0,
        moves: 0,
        initial_length: 0.0,
        length: 0.0,
    };
    if n >= 5 {
        for c in search.tour.order().to_vec() {
            search.push(c);
        }
        stats.moves = search.run(&local, start, 0);
    }
    let mut current = super::tour::tour_length(search.tour.order(), |a, b| search.d(a, b));
    stats.initial_length = current;
    let max_seg = params.max_kick_segment.min(n.saturating_sub(2) / 2);
    if n >= 8 && max_seg >= 1 {
        search.tour.start_log();
        for _ in 0..params.kicks {
            if params
                .time_limit
                .is_some_and(|t| start.elapsed().as_secs_f64() > t)
            {
                break;
            }
            if local.max_moves.is_some_and(|m| stats.moves >= m) {
                break;
            }
            stats.kicks += 1;
            if search.kick(
                rng,
                params.kick,
                max_seg,
                &local,
                start,
                &mut stats,
                &mut current,
            ) {
                stats.accepted += 1;
            }
        }
        search.tour.log = None;
    }
    let order = search.tour.into_order();
    // Recompute exactly (the incremental sum carries rounding).
    stats.length = super::tour::tour_length(&order, dist);
    Ok(IlsRun { order, stats })
}

struct Search<'a, D: Fn(usize, usize) -> f64 + ?Sized> {
    tour: ArrayTour,
    dist: &'a D,
    neighbours: &'a Neighbours,
    fixed: Option<(usize, usize)>,
    queue: VecDeque<usize>,
    queued: Vec<bool>,
    /// Sum of the gains of the moves applied so far.
    gain: f64,
    /// Candidate distances, `cand[cand_off[a] + i] = d(a, of(a)[i])`
    /// (empty: not cached).
    cand: Vec<f64>,
    cand_off: Vec<usize>,
}

impl<'a, D: Fn(usize, usize) -> f64 + ?Sized> Search<'a, D> {
    fn new(
        order: Vec<usize>,
        dist: &'a D,
        neighbours: &'a Neighbours,
        fixed: Option<(usize, usize)>,
    ) -> Self {
        let n = order.len();
        Search {
            tour: ArrayTour::new(order),
            dist,
            neighbours,
            fixed,
            queue: VecDeque::with_capacity(n),
            queued: vec![false; n],
            gain: 0.0,
            cand: Vec::new(),
            cand_off: Vec::new(),
        }
    }

    /// Processes the queue of active cities until it is empty (a local
    /// optimum for the cities that were queued) or a limit of `params` is
    /// hit; `done` moves were made before (they count towards
    /// `max_moves`). Returns the number of improving moves made here.
    fn run(&mut self, params: &LocalSearchParams, start: Instant, done: usize) -> usize {
        let mut moves = 0usize;
        let use_2opt = params.neighbourhood != Neighbourhood::OrOpt;
        let use_or = params.neighbourhood != Neighbourhood::TwoOpt;
        let use_or3 = params.neighbourhood == Neighbourhood::Or3Opt;
        while let Some(a) = self.queue.pop_front() {
            self.queued[a] = false;
            if params.max_moves.is_some_and(|m| done + moves >= m) {
                break;
            }
            if moves % 64 == 0
                && params
                    .time_limit
                    .is_some_and(|t| start.elapsed().as_secs_f64() > t)
            {
                break;
            }
            let improved = (use_2opt && self.try_2opt(a))
                || (use_or && self.try_or_opt(a, params.max_segment))
                || (use_or3 && self.try_or3opt(a));
            if improved {
                moves += 1;
                self.push(a);
            }
        }
        // Leave no stale don't-look state behind when a limit stopped the run.
        while let Some(a) = self.queue.pop_front() {
            self.queued[a] = false;
        }
        moves
    }

    /// One ILS kick on a tour of at least 8 cities: a segment-local double
    /// bridge at a random place (`x A B y -> x B A y`, segments of at most
    /// `max_seg` cities), local search from its six end points, and
    /// acceptance if shorter; otherwise the kick and its repairs are undone
    /// from the reversal journal. Updates `current` (the tour length) and
    /// `stats.moves`; returns whether the kick was kept.
    #[allow(clippy::too_many_arguments)]
    fn kick<R: rand::Rng + ?Sized>(
        &mut self,
        rng: &mut R,
        kind: Kick,
        max_seg: usize,
        local: &LocalSearchParams,
        start: Instant,
        stats: &mut IlsStats,
        current: &mut f64,
    ) -> bool {
        let n = self.tour.order.len();
        if let Kick::RandomWalk { steps } = kind {
            return self.walk_kick(rng, steps, local, start, stats, current);
        }
        let s = rng.random_range(0..n);
        let l1 = rng.random_range(1..=max_seg);
        let l2 = rng.random_range(1..=max_seg);
        let at = |k: usize| self.tour.order[(s + k) % n];
        let (x, a0, a1, b0, b1, y) = (
            at(n - 1),
            at(0),
            at(l1 - 1),
            at(l1),
            at(l1 + l2 - 1),
            at(l1 + l2),
        );
        if self.is_fixed(x, a0) || self.is_fixed(a1, b0) || self.is_fixed(b1, y) {
            return false;
        }
        let delta = self.d(x, b0) + self.d(b1, a0) + self.d(a1, y)
            - self.d(x, a0)
            - self.d(a1, b0)
            - self.d(b1, y);
        self.tour.start_log();
        // x A B y -> x rev(B) rev(A) y -> x B rev(A) y -> x B A y.
        self.tour.reverse_positions(s, l1 + l2);
        self.tour.reverse_positions(s, l2);
        self.tour.reverse_positions((s + l2) % n, l1);
        self.repair_or_undo([x, a0, a1, b0, b1, y], delta, local, start, stats, current)
    }

    /// After a kick that changed the length by `delta` (recorded in the
    /// journal): local search from `ends`, then keep the tour if shorter,
    /// otherwise undo the kick and its repairs.
    fn repair_or_undo(
        &mut self,
        ends: [usize; 6],
        delta: f64,
        local: &LocalSearchParams,
        start: Instant,
        stats: &mut IlsStats,
        current: &mut f64,
    ) -> bool {
        self.gain = 0.0;
        for c in ends {
            self.push(c);
        }
        stats.moves += self.run(local, start, stats.moves);
        let candidate = *current + delta - self.gain;
        if candidate < *current - EPS {
            *current = candidate;
            true
        } else {
            self.tour.undo_log();
            false
        }
    }

    /// A [`Kick::RandomWalk`] kick: cuts after a random city `v` and after
    /// the ends of two `steps`-step random walks from `v` on the candidate
    /// graph (a few tries when the three cuts coincide), then swaps the two
    /// shortest of the three segments between the cuts.
    fn walk_kick<R: rand::Rng + ?Sized>(
        &mut self,
        rng: &mut R,
        steps: usize,
        local: &LocalSearchParams,
        start: Instant,
        stats: &mut IlsStats,
        current: &mut f64,
    ) -> bool {
        let n = self.tour.order.len();
        let mut cuts = None;
        for _ in 0..8 {
            let v = rng.random_range(0..n);
            let mut p = [self.tour.pos[v]; 3];
            for slot in p.iter_mut().skip(1) {
                let mut c = v;
                for _ in 0..steps {
                    let nb = self.neighbours.of(c);
                    if nb.is_empty() {
                        break;
                    }
                    c = nb[rng.random_range(0..nb.len())];
                }
                *slot = self.tour.pos[c];
            }
            p.sort_unstable();
            if p[0] == p[1] || p[1] == p[2] {
                continue;
            }
            let at = |i: usize| self.tour.order[i % n];
            let [a, a1, b, b1, c, c1] = [
                at(p[0]),
                at(p[0] + 1),
                at(p[1]),
                at(p[1] + 1),
                at(p[2]),
                at(p[2] + 1),
            ];
            if self.is_fixed(a, a1) || self.is_fixed(b, b1) || self.is_fixed(c, c1) {
                continue;
            }
            // Segments (p1, p2], (p2, p3], (p3, p1]: a A b B c C -> a B A C.
            let delta = self.d(a, b1) + self.d(c, a1) + self.d(b, c1)
                - self.d(a, a1)
                - self.d(b, b1)
                - self.d(c, c1);
            cuts = Some((p, delta));
            break;
        }
        let Some(([p1, p2, p3], delta)) = cuts else {
            return false;
        };
        let at = |i: usize| self.tour.order[i % n];
        let (a, a1, b, b1, c, c1) = (at(p1), at(p1 + 1), at(p2), at(p2 + 1), at(p3), at(p3 + 1));
        let (l1, l2) = (p2 - p1, p3 - p2);
        let l3 = n - l1 - l2;
        // Swapping any two adjacent segments of the three gives the same
        // cycle: swap the cheapest pair (first position, lengths).
        let (s, la, lb) = [(p1 + 1, l1, l2), (p2 + 1, l2, l3), (p3 + 1, l3, l1)]
            .into_iter()
            .min_by_key(|&(_, x, y)| x + y)
            .unwrap_or((p1 + 1, l1, l2));
        let s = s % n;
        self.tour.start_log();
        // A B -> rev(B) rev(A) -> B rev(A) -> B A.
        self.tour.reverse_positions(s, la + lb);
        self.tour.reverse_positions(s, lb);
        self.tour.reverse_positions((s + lb) % n, la);
        self.repair_or_undo([a, a1, b, b1, c, c1], delta, local, start, stats, current)
    }

    #[inline]
    fn d(&self, a: usize, b: usize) -> f64 {
        (self.dist)(a, b)
    }

    /// `d(a, c)` for the `i`-th candidate `c` of `a`, from the cache when
    /// [`Search::cache_candidates`] built one.
    #[inline]
    fn cd(&self, a: usize, i: usize, c: usize) -> f64 {
        if self.cand.is_empty() {
            self.d(a, c)
        } else {
            self.cand[self.cand_off[a] + i]
        }
    }

    /// Stores the distance of every city to each of its candidates (the
    /// same numbers `dist` gives; `n k` evaluations once, against many
    /// repeated square roots in the candidate scans of a long ILS run).
    fn cache_candidates(&mut self) {
        let n = self.tour.order.len();
        self.cand_off = Vec::with_capacity(n + 1);
        self.cand = Vec::new();
        for a in 0..n {
            self.cand_off.push(self.cand.len());
            for &c in self.neighbours.of(a) {
                self.cand.push((self.dist)(a, c));
            }
        }
        self.cand_off.push(self.cand.len());
    }

    #[inline]
    fn is_fixed(&self, a: usize, b: usize) -> bool {
        self.fixed
            .is_some_and(|(x, y)| (a == x && b == y) || (a == y && b == x))
    }

    fn push(&mut self, c: usize) {
        if !self.queued[c] {
            self.queued[c] = true;
            self.queue.push_back(c);
        }
    }

    /// First-improvement 2-opt around city `a`, both tour directions.
    fn try_2opt(&mut self, a: usize) -> bool {
        for forward in [true, false] {
            let an = if forward {
                self.tour.succ(a)
            } else {
                self.tour.pred(a)
            };
            if self.is_fixed(a, an) {
                continue;
            }
            let d1 = self.d(a, an);
            for (i, &c) in self.neighbours.of(a).iter().enumerate() {
                let g1 = d1 - self.cd(a, i, c);
                if g1 <= EPS {
                    break; // neighbours are sorted: no later c can help
                }
                let cn = if forward {
                    self.tour.succ(c)
                } else {
                    self.tour.pred(c)
                };
                if c == an || cn == a || self.is_fixed(c, cn) {
                    continue;
                }
                let gain = g1 + self.d(c, cn) - self.d(an, cn);
                if gain > EPS {
                    self.gain += gain;
                    // Remove (a, an), (c, cn); add (a, c), (an, cn).
                    self.tour.exchange(a, an, c, cn);
                    for x in [a, an, c, cn] {
                        self.push(x);
                    }
                    return true;
                }
            }
        }
        false
    }

    /// First-improvement Or-opt for segments starting or ending at `a`.
    fn try_or_opt(&mut self, a: usize, max_segment: usize) -> bool {
        let n = self.tour.order.len();
        for len in 1..=max_segment.min(n.saturating_sub(4)) {
            for forward in [true, false] {
                // Segment s1 ..= s2 in succ order, containing a at one end.
                let (s1, s2) = {
                    let mut other = a;
                    for _ in 1..len {
                        other = if forward {
                            self.tour.succ(other)
                        } else {
                            self.tour.pred(other)
                        };
                    }
                    if forward {
                        (a, other)
                    } else {
                        (other, a)
                    }
                };
                let p = self.tour.pred(s1);
                let nx = self.tour.succ(s2);
                if self.is_fixed(p, s1) || self.is_fixed(s2, nx) {
                    continue;
                }
                let removal = self.d(p, s1) + self.d(s2, nx) - self.d(p, nx);
                if removal <= EPS {
                    continue;
                }
                for end in [s1, s2] {
                    for (i, &c) in self.neighbours.of(end).iter().enumerate() {
                        let g = removal - self.cd(end, i, c);
                        if g <= EPS {
                            break;
                        }
                        if self.tour.between(s1, c, s2) {
                            continue;
                        }
                        for c_forward in [true, false] {
                            let e = if c_forward {
                                self.tour.succ(c)
                            } else {
                                self.tour.pred(c)
                            };
                            if self.tour.between(s1, e, s2) || self.is_fixed(c, e) {
                                continue;
                            }
                            let other = if end == s1 { s2 } else { s1 };
                            let gain = g + self.d(c, e) - self.d(other, e);
                            if gain > EPS {
                                self.gain += gain;
                                // In succ orientation the insertion edge is cc -> dd.
                                let (cc, dd, cc_end) = if c_forward {
                                    (c, e, end)
                                } else {
                                    (e, c, other)
                                };
                                self.apply_or_move(s1, s2, p, nx, cc, dd, cc_end == s1);
                                for x in [p, nx, s1, s2, c, e] {
                                    self.push(x);
                                }
                                return true;
                            }
                        }
                    }
                }
            }
        }
        false
    }

    /// First-improvement Or-3opt (segment insertion of any length) with
    /// `t1 = a`, both tour directions: remove `(t1, t2)`, add `(t2, t3)` for
    /// a candidate `t3` of `t2`, remove `(t3, t4)` with `t4` after `t3` (so
    /// `t4 ..= t1` is the segment to move), add `(t4, t5)` for a candidate
    /// `t5` of `t4` outside the segment, remove `(t5, t6)` with `t6` on
    /// either side of `t5`, add `(t6, t1)`. The partial gains
    /// `g1 = d(t1,t2) - d(t2,t3)` and `g2 = g1 + d(t3,t4) - d(t4,t5)` must
    /// stay positive (Lin & Kernighan 1973), so the sorted candidate scans
    /// stop early (Johnson & McGeoch 1997, section 3.3).
    fn try_or3opt(&mut self, t1: usize) -> bool {
        let n = self.tour.order.len();
        if n < 8 {
            return false;
        }
        for forward in [true, false] {
            let next = |t: &ArrayTour, c: usize| if forward { t.succ(c) } else { t.pred(c) };
            let prev = |t: &ArrayTour, c: usize| if forward { t.pred(c) } else { t.succ(c) };
            let t2 = next(&self.tour, t1);
            if self.is_fixed(t1, t2) {
                continue;
            }
            let d12 = self.d(t1, t2);
            for (i, &t3) in self.neighbours.of(t2).iter().enumerate() {
                let g1 = d12 - self.cd(t2, i, t3);
                if g1 <= EPS {
                    break;
                }
                if t3 == t1 {
                    continue;
                }
                let t4 = next(&self.tour, t3);
                if t4 == t2 || self.is_fixed(t3, t4) {
                    continue;
                }
                let g1 = g1 + self.d(t3, t4);
                // The segment t4 ..= t1 (in this direction); t2 ..= t3 is the rest.
                let in_segment = |t: &ArrayTour, c: usize| {
                    if forward {
                        t.between(t4, c, t1)
                    } else {
                        t.between(t1, c, t4)
                    }
                };
                for (i, &t5) in self.neighbours.of(t4).iter().enumerate() {
                    let g2 = g1 - self.cd(t4, i, t5);
                    if g2 <= EPS {
                        break;
                    }
                    if in_segment(&self.tour, t5) {
                        continue;
                    }
                    for pure in [true, false] {
                        // Pure: t5 -> t6 in this direction, the segment keeps
                        // its orientation; otherwise t6 -> t5 and it turns.
                        let t6 = if pure {
                            if t5 == t3 {
                                continue;
                            }
                            next(&self.tour, t5)
                        } else {
                            if t5 == t2 {
                                continue;
                            }
                            prev(&self.tour, t5)
                        };
                        // (t5, t6) = (t2, t3) would re-add the edge it removes.
                        if (t5 == t2 && t6 == t3) || (t5 == t3 && t6 == t2) {
                            continue;
                        }
                        if self.is_fixed(t5, t6) {
                            continue;
                        }
                        let gain = g2 + self.d(t5, t6) - self.d(t6, t1);
                        if gain > EPS {
                            self.gain += gain;
                            // In succ orientation: segment s1 ..= s2 between p
                            // and nx, inserted between cc -> dd.
                            let (s1, s2, p, nx) = if forward {
                                (t4, t1, t3, t2)
                            } else {
                                (t1, t4, t2, t3)
                            };
                            let (cc, dd) = if pure == forward { (t5, t6) } else { (t6, t5) };
                            self.apply_or_move(s1, s2, p, nx, cc, dd, pure);
                            for x in [t1, t2, t3, t4, t5, t6] {
                                self.push(x);
                            }
                            return true;
                        }
                    }
                }
            }
        }
        false
    }

    /// Moves segment `s1 ..= s2` (between `p` and `nx`) between `cc -> dd`;
    /// `s1_next_to_cc` selects the orientation. Executed as 2-opt exchanges.
    #[allow(clippy::too_many_arguments)]
    fn apply_or_move(
        &mut self,
        s1: usize,
        s2: usize,
        p: usize,
        nx: usize,
        cc: usize,
        dd: usize,
        s1_next_to_cc: bool,
    ) {
        if dd == p {
            // Insert between pred(p) and p: mirror the tour so the gap is
            // right after the segment, i.e. the `cc == nx` case below.
            self.mirrored_adjacent(s1, s2, p, nx, cc, s1_next_to_cc);
            return;
        }
        // p -> s1..s2 -> nx -> X -> cc -> dd.
        self.tour.exchange(p, s1, cc, dd); // p cc rev(X) nx s2..s1 dd
        if cc != nx {
            self.tour.exchange(p, cc, nx, s2); // p nx X cc s2..s1 dd
        }
        if s1_next_to_cc {
            self.tour.exchange(cc, s2, s1, dd); // cc s1..s2 dd
        }
    }

    /// Or-move into the gap `(cc, p)` just before the segment.
    fn mirrored_adjacent(
        &mut self,
        s1: usize,
        s2: usize,
        p: usize,
        nx: usize,
        cc: usize,
        s1_next_to_cc: bool,
    ) {
        // Reading the tour backwards: nx -> s2..s1 -> p -> cc, and the target
        // gap (p, cc) follows the segment. Result wanted: cc [seg] p nx.
        // One exchange of (nx, s2) and (p, cc) yields nx p s1..s2 cc (read
        // backwards), i.e. s2 next to cc.
        self.tour.exchange(nx, s2, p, cc);
        if s1_next_to_cc {
            // Turn the segment around: cc s1..s2 p.
            self.tour.exchange(cc, s2, s1, p);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tsp::instance::Instance;
    use crate::tsp::tour::tour_length;
    use rand::seq::SliceRandom;
    use rand::SeedableRng;

    fn random_case(seed: u64, n: usize) -> (Instance, Vec<usize>) {
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(seed);
        let inst = Instance::random_uniform(n, &mut rng).unwrap();
        let mut order: Vec<usize> = (0..n).collect();
        order.shuffle(&mut rng);
        (inst, order)
    }

    #[test]
    fn each_neighbourhood_improves_and_keeps_a_permutation() {
        for nh in [
            Neighbourhood::TwoOpt,
            Neighbourhood::OrOpt,
            Neighbourhood::Or2Opt,
            Neighbourhood::Or3Opt,
        ] {
            for seed in 0..5 {
                let (inst, order) = random_case(seed, 60);
                let before = tour_length(&order, |a, b| inst.dist(a, b));
                let nb = Neighbours::new(&inst, 8);
                let params = LocalSearchParams::new(nh);
                let LocalOptimum { order: out, moves } =
                    improve(order, &|a, b| inst.dist(a, b), &nb, None, &params).unwrap();
                let mut sorted = out.clone();
                sorted.sort_unstable();
                assert!(sorted.iter().enumerate().all(|(i, &c)| i == c));
                let after = tour_length(&out, |a, b| inst.dist(a, b));
                assert!(moves > 0 && after < before, "{nh:?} seed {seed}");
            }
        }
    }

    #[test]
    fn or_moves_change_length_by_the_predicted_gain() {
        // Exercise apply_or_move directly on every geometry, including the
        // adjacent-gap special cases, and compare the new length.
        let (inst, order) = random_case(11, 12);
        let dist = |a: usize, b: usize| inst.dist(a, b);
        let nb = Neighbours::from_fn(12, 11, dist);
        for s1_pos in 0..12 {
            // Or-opt segments (1-3) and the longer ones of Or-3opt.
            for len in 1..=9 {
                for c_pos in 0..12 {
                    for flip in [false, true] {
                        let mut s = Search::new(order.clone(), &dist, &nb, None);
                        let s1 = order[s1_pos];
                        let s2 = order[(s1_pos + len - 1) % 12];
                        let cc = order[c_pos];
                        let p = s.tour.pred(s1);
                        let nx = s.tour.succ(s2);
                        let dd = s.tour.succ(cc);
                        if s.tour.between(s1, cc, s2)
                            || s.tour.between(s1, dd, s2)
                            || (cc == nx && dd == p)
                        {
                            continue;
                        }
                        let before = tour_length(s.tour.order(), dist);
                        let (x, y) = if flip { (s1, s2) } else { (s2, s1) };
                        let predicted = before - dist(p, s1) - dist(s2, nx) - dist(cc, dd)
                            + dist(p, nx)
                            + dist(cc, x)
                            + dist(y, dd);
                        s.apply_or_move(s1, s2, p, nx, cc, dd, flip);
                        let after = tour_length(s.tour.order(), dist);
                        assert!(
                            (after - predicted).abs() < 1e-9,
                            "s1_pos {s1_pos} len {len} c_pos {c_pos} flip {flip}"
                        );
                        // Segment sits between cc and dd with the requested orientation.
                        let t = &s.tour;
                        assert!(
                            (t.succ(cc) == x && t.pred(dd) == y)
                                || (t.pred(cc) == x && t.succ(dd) == y),
                            "placement s1_pos {s1_pos} len {len} c_pos {c_pos} flip {flip}"
                        );
                    }
                }
            }
        }
    }

    #[test]
    fn or3opt_moves_shorten_by_their_gain_and_keep_a_tour() {
        // Every Or-3opt move found from random tours: a permutation, the
        // length falls by exactly the gain claimed, and an Or-3opt local
        // optimum is no longer than the Or-2opt one it starts from.
        let mut found = 0;
        for seed in 0..6 {
            let (inst, order) = random_case(70 + seed, 80);
            let dist = |a: usize, b: usize| inst.dist(a, b);
            let nb = Neighbours::new(&inst, 8);
            let mut s = Search::new(order, &dist, &nb, None);
            for round in 0..3 {
                for a in 0..80 {
                    let before = tour_length(s.tour.order(), dist);
                    s.gain = 0.0;
                    if s.try_or3opt(a) {
                        found += 1;
                        let after = tour_length(s.tour.order(), dist);
                        assert!(s.gain > EPS, "seed {seed} round {round} city {a}");
                        assert!(
                            (before - s.gain - after).abs() < 1e-9,
                            "seed {seed} city {a}: {before} - {} != {after}",
                            s.gain
                        );
                        let t = &s.tour;
                        assert!(t.order.iter().enumerate().all(|(p, &c)| t.pos[c] == p));
                        let mut sorted = t.order.clone();
                        sorted.sort_unstable();
                        assert!(sorted.iter().enumerate().all(|(i, &c)| i == c));
                    }
                }
            }
            let or2 = LocalSearchParams::new(Neighbourhood::Or2Opt);
            let or3 = LocalSearchParams::new(Neighbourhood::Or3Opt);
            let start = improve(s.tour.into_order(), &dist, &nb, None, &or2).unwrap();
            let l2 = tour_length(&start.order, dist);
            let out = improve(start.order, &dist, &nb, None, &or3).unwrap().order;
            assert!(tour_length(&out, dist) <= l2 + 1e-12, "seed {seed}");
        }
        assert!(found > 50, "only {found} Or-3opt moves");
    }

    #[test]
    fn reversal_journal_undoes_exactly() {
        let (_, order) = random_case(3, 31);
        let mut t = ArrayTour::new(order.clone());
        t.start_log();
        for (i, len) in [(0, 7), (29, 5), (10, 31), (30, 2), (4, 16)] {
            t.reverse_positions(i, len);
        }
        t.reverse_path(order[3], order[20]);
        assert_ne!(t.order(), &order[..]);
        t.undo_log();
        assert_eq!(t.order(), &order[..]);
        assert!(t.order.iter().enumerate().all(|(p, &c)| t.pos[c] == p));
    }

    #[test]
    fn ils_improves_on_the_local_optimum_and_is_seeded() {
        let kinds = [
            (Neighbourhood::Or2Opt, Kick::SegmentSwap),
            (Neighbourhood::Or3Opt, Kick::SegmentSwap),
            (Neighbourhood::Or2Opt, Kick::RandomWalk { steps: 5 }),
            (Neighbourhood::Or3Opt, Kick::RandomWalk { steps: 15 }),
        ];
        for (seed, (nh, kick)) in (0..8).zip(kinds.into_iter().cycle()) {
            let (inst, order) = random_case(40 + seed, 150);
            let dist = |a: usize, b: usize| inst.dist(a, b);
            let nb = Neighbours::new(&inst, 10);
            let params = IlsParams::default()
                .with_kicks(400)
                .with_kick(kick)
                .with_local(LocalSearchParams::new(nh));
            let run = || {
                let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(seed);
                iterated_local_search(order.clone(), &dist, &nb, None, &params, &mut rng).unwrap()
            };
            let IlsRun { order: out, stats } = run();
            assert_eq!(run().order, out, "same seed, same tour");
            let tour = crate::tsp::Tour::new(out.clone(), 150).unwrap();
            assert!((tour.length(&inst) - stats.length).abs() < 1e-9);
            let plain = improve(order.clone(), &dist, &nb, None, params.local())
                .unwrap()
                .order;
            let plain_len = tour_length(&plain, dist);
            assert!((stats.initial_length - plain_len).abs() < 1e-9);
            assert!(stats.length <= stats.initial_length + 1e-12);
            assert_eq!(stats.kicks, 400);
            assert!(
                stats.accepted > 0 && stats.length < plain_len,
                "seed {seed}"
            );
        }
    }

    #[test]
    fn ils_respects_a_fixed_edge_and_tiny_instances() {
        let (inst, order) = random_case(9, 60);
        let dist = |a: usize, b: usize| inst.dist(a, b);
        let nb = Neighbours::new(&inst, 8);
        let (a, b) = (order[0], order[59]);
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(1);
        for params in [
            IlsParams::default(),
            IlsParams::default()
                .with_local(LocalSearchParams::new(Neighbourhood::Or3Opt))
                .with_kick(Kick::RandomWalk { steps: 10 }),
        ] {
            let out =
                iterated_local_search(order.clone(), &dist, &nb, Some((a, b)), &params, &mut rng)
                    .unwrap()
                    .order;
            let t = ArrayTour::new(out);
            assert!(t.succ(a) == b || t.pred(a) == b);
        }
        for n in 3..8 {
            let (inst, order) = random_case(n as u64, n);
            let nb = Neighbours::new(&inst, 4);
            let IlsRun { order: out, stats } = iterated_local_search(
                order,
                &|x, y| inst.dist(x, y),
                &nb,
                None,
                &IlsParams::default(),
                &mut rng,
            )
            .unwrap();
            assert_eq!(out.len(), n);
            assert_eq!(stats.kicks, 0);
        }
    }

    #[test]
    fn ils_rejects_bad_input_naming_it() {
        let (inst, order) = random_case(2, 20);
        let dist = |a: usize, b: usize| inst.dist(a, b);
        let nb = Neighbours::new(&inst, 5);
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(0);
        let p = IlsParams::default();
        let mut repeated = order.clone();
        repeated[3] = repeated[4];
        let e = iterated_local_search(repeated, &dist, &nb, None, &p, &mut rng).unwrap_err();
        assert!(e.to_string().contains("tour[4]"), "{e}");
        let short: Vec<usize> = (0..10).collect();
        let e = iterated_local_search(short, &dist, &nb, None, &p, &mut rng).unwrap_err();
        assert!(e.to_string().contains("neighbours"), "{e}");
        let e = iterated_local_search(order, &dist, &nb, Some((0, 20)), &p, &mut rng).unwrap_err();
        assert!(e.to_string().contains("(0, 20)"), "{e}");
    }

    #[test]
    fn fixed_edge_is_never_removed() {
        // The default neighbourhood (seeds 20..25, 40 cities) and Or-3opt
        // (seeds 90..95, 50 cities).
        for (nbh, first, n) in [
            (LocalSearchParams::default(), 20, 40),
            (LocalSearchParams::new(Neighbourhood::Or3Opt), 90, 50),
        ] {
            for seed in 0..5 {
                let (inst, order) = random_case(seed + first, n);
                let (a, b) = (order[0], order[n - 1]);
                let nb = Neighbours::new(&inst, 10);
                let out = improve(order, &|x, y| inst.dist(x, y), &nb, Some((a, b)), &nbh)
                    .unwrap()
                    .order;
                let t = ArrayTour::new(out);
                assert!(t.succ(a) == b || t.pred(a) == b);
            }
        }
    }

    #[test]
    fn params_are_checked_once_at_the_entry_point() {
        let (inst, order) = random_case(4, 20);
        let dist = |a: usize, b: usize| inst.dist(a, b);
        let nb = Neighbours::new(&inst, 5);
        let bad = LocalSearchParams::default().with_time_limit(Some(f64::NAN));
        let e = improve(order.clone(), &dist, &nb, None, &bad).unwrap_err();
        assert!(e.to_string().contains("time_limit"), "{e}");
        let e = improve(
            order.clone(),
            &dist,
            &nb,
            None,
            &bad.with_time_limit(None).with_max_segment(0),
        )
        .unwrap_err();
        assert!(e.to_string().contains("max_segment"), "{e}");
        let e = improve_from(
            order.clone(),
            &dist,
            &nb,
            None,
            &LocalSearchParams::default(),
            Some(&[25]),
        )
        .unwrap_err();
        assert!(e.to_string().contains("25"), "{e}");
        let p = IlsParams::default().with_local(bad);
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(0);
        let e = iterated_local_search(order.clone(), &dist, &nb, None, &p, &mut rng).unwrap_err();
        assert!(e.to_string().contains("local.time_limit"), "{e}");
        let p = IlsParams::default().with_kick(Kick::RandomWalk { steps: 0 });
        let e = iterated_local_search(order, &dist, &nb, None, &p, &mut rng).unwrap_err();
        assert!(e.to_string().contains("kick.steps"), "{e}");
    }
}
