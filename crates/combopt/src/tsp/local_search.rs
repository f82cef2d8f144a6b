//! 2-opt and Or-opt local search with neighbour lists and don't-look bits.
//!
//! The tour is an array with a position index; a 2-opt move reverses the
//! shorter of the two paths it creates (Bentley 1992, "Fast algorithms for
//! geometric TSPs"), so a move costs at most n/2 swaps. Candidate moves only
//! connect a city to one of its k nearest neighbours, and a queue of active
//! cities replaces full sweeps (don't-look bits, Bentley 1992). Or-opt moves a
//! segment of 1-3 cities, optionally reversed, between two adjacent cities
//! (Or 1976); it is executed as two or three 2-opt exchanges so both
//! neighbourhoods share one tour representation.
//!
//! A fixed edge may be declared: moves never remove it. This is how
//! divide-conquer-reunion keeps the end points of an open sub-path fixed.

use std::collections::VecDeque;
use std::time::Instant;

use serde::{Deserialize, Serialize};

use super::knn::Neighbours;

/// Which neighbourhoods the local search uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Neighbourhood {
    /// 2-opt only.
    TwoOpt,
    /// Or-opt only (segments of 1-3 cities).
    OrOpt,
    /// Both, interleaved per city ("Or-2opt").
    Or2Opt,
}

/// Stopping rules and options of the local search.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct LocalSearchParams {
    /// Neighbourhoods used.
    pub neighbourhood: Neighbourhood,
    /// Stop after this many improving moves (`None`: until a local optimum).
    pub max_moves: Option<usize>,
    /// Stop after this many seconds (`None`: no limit).
    pub time_limit: Option<f64>,
    /// Longest segment moved by Or-opt.
    pub max_segment: usize,
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

/// Improvements below this are treated as zero (guards against cycling on
/// floating-point noise).
const EPS: f64 = 1e-9;

/// An array tour with position index, the shared representation of the moves.
pub(crate) struct ArrayTour {
    order: Vec<usize>,
    pos: Vec<usize>,
}

impl ArrayTour {
    pub(crate) fn new(order: Vec<usize>) -> Self {
        let mut pos = vec![0; order.len()];
        for (i, &c) in order.iter().enumerate() {
            pos[c] = i;
        }
        ArrayTour { order, pos }
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
        let (mut i, mut j) = (self.pos[from], self.pos[to]);
        let mut len = if j >= i { j - i + 1 } else { j + n - i + 1 };
        if 2 * len > n {
            // Reverse the complement instead: same cycle, opposite orientation.
            let (ni, nj) = (
                if j + 1 == n { 0 } else { j + 1 },
                if i == 0 { n - 1 } else { i - 1 },
            );
            i = ni;
            j = nj;
            len = n - len;
        }
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

    /// Replaces edges `(a, b)` and `(c, d)` by `(a, c)` and `(b, d)`, where
    /// `a -> b` and `c -> d` run in the same direction around the tour.
    fn exchange(&mut self, a: usize, b: usize, c: usize, d: usize) {
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

/// Runs 2-opt / Or-opt from `order` until a local optimum (or a limit).
///
/// `dist` is the distance on ids `0..order.len()`, `neighbours` their
/// candidate lists, `fixed` an edge that must stay in the tour. Returns the
/// improved order and the number of improving moves made.
pub fn improve(
    order: Vec<usize>,
    dist: &(impl Fn(usize, usize) -> f64 + ?Sized),
    neighbours: &Neighbours,
    fixed: Option<(usize, usize)>,
    params: &LocalSearchParams,
) -> (Vec<usize>, usize) {
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
) -> (Vec<usize>, usize) {
    let n = order.len();
    let mut search = Search {
        tour: ArrayTour::new(order),
        dist,
        neighbours,
        fixed,
        queue: VecDeque::with_capacity(n),
        queued: vec![false; n],
    };
    if n < 5 {
        return (search.tour.into_order(), 0);
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
    let mut moves = 0usize;
    let use_2opt = params.neighbourhood != Neighbourhood::OrOpt;
    let use_or = params.neighbourhood != Neighbourhood::TwoOpt;
    while let Some(a) = search.queue.pop_front() {
        search.queued[a] = false;
        if params.max_moves.is_some_and(|m| moves >= m) {
            break;
        }
        if moves % 64 == 0
            && params
                .time_limit
                .is_some_and(|t| start.elapsed().as_secs_f64() > t)
        {
            break;
        }
        let improved = (use_2opt && search.try_2opt(a))
            || (use_or && search.try_or_opt(a, params.max_segment));
        if improved {
            moves += 1;
            search.push(a);
        }
    }
    (search.tour.into_order(), moves)
}

struct Search<'a, D: Fn(usize, usize) -> f64 + ?Sized> {
    tour: ArrayTour,
    dist: &'a D,
    neighbours: &'a Neighbours,
    fixed: Option<(usize, usize)>,
    queue: VecDeque<usize>,
    queued: Vec<bool>,
}

impl<D: Fn(usize, usize) -> f64 + ?Sized> Search<'_, D> {
    #[inline]
    fn d(&self, a: usize, b: usize) -> f64 {
        (self.dist)(a, b)
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
            for &c in self.neighbours.of(a) {
                let g1 = d1 - self.d(a, c);
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
                    for &c in self.neighbours.of(end) {
                        let g = removal - self.d(end, c);
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
        ] {
            for seed in 0..5 {
                let (inst, order) = random_case(seed, 60);
                let before = tour_length(&order, |a, b| inst.dist(a, b));
                let nb = Neighbours::new(&inst, 8);
                let params = LocalSearchParams {
                    neighbourhood: nh,
                    ..Default::default()
                };
                let (out, moves) = improve(order, &|a, b| inst.dist(a, b), &nb, None, &params);
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
            for len in 1..=3 {
                for c_pos in 0..12 {
                    for flip in [false, true] {
                        let mut s = Search {
                            tour: ArrayTour::new(order.clone()),
                            dist: &dist,
                            neighbours: &nb,
                            fixed: None,
                            queue: VecDeque::new(),
                            queued: vec![false; 12],
                        };
                        let s1 = order[s1_pos];
                        let s2 = order[(s1_pos + len - 1) % 12];
                        let cc = order[c_pos];
                        let p = s.tour.pred(s1);
                        let nx = s.tour.succ(s2);
                        let dd = s.tour.succ(cc);
                        if s.tour.between(s1, cc, s2) || s.tour.between(s1, dd, s2) {
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
    fn fixed_edge_is_never_removed() {
        for seed in 0..5 {
            let (inst, order) = random_case(seed + 20, 40);
            let (a, b) = (order[0], order[39]);
            let nb = Neighbours::new(&inst, 10);
            let (out, _) = improve(
                order,
                &|x, y| inst.dist(x, y),
                &nb,
                Some((a, b)),
                &LocalSearchParams::default(),
            );
            let t = ArrayTour::new(out);
            assert!(t.succ(a) == b || t.pred(a) == b);
        }
    }
}
