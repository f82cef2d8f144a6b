//! 2h-opt (Bentley 1992, "Fast algorithms for geometric traveling salesman
//! problems", ORSA J. Computing 4(4), section 5: "2h-opt", also called
//! 2.5-opt): the 2-opt neighbourhood plus *node insertion*, moving one city
//! from between its tour neighbours to between two adjacent cities
//! elsewhere (the cheapest special case of a 3-opt move).
//!
//! First improvement over candidate lists with a queue of active cities
//! (don't-look bits). Unlike [`super::local_search`] it does not prune a
//! candidate scan by the partial gain, so with complete candidate lists
//! (`k = n - 1`) the result is a local optimum of the full 2h-opt
//! neighbourhood, which the tests check by brute force.
//!
//! This module is also the worked example of adding a TSP improver: one
//! type implementing [`TourImprover`] and one line in the method table of
//! [`super::methods`].

use std::collections::VecDeque;

use duality_core::Result;

use super::knn::Neighbours;
use super::local_search::{ArrayTour, EPS};
use super::pipeline::{SolveContext, TourImprover};
use super::tour::Tour;

/// The 2h-opt improver: [`two_h_opt`] on the context's candidate lists.
#[derive(Debug, Clone, Copy, Default)]
pub struct TwoHOptImprover;

impl TourImprover for TwoHOptImprover {
    fn name(&self) -> &str {
        "2hopt"
    }
    fn improve(&self, tour: Tour, ctx: &SolveContext<'_>) -> Result<Tour> {
        let instance = ctx.instance();
        let order = two_h_opt(
            tour.into_vec(),
            &|a, b| instance.dist(a, b),
            ctx.neighbours(),
            ctx.time_left(),
        );
        Ok(Tour::from_permutation(order))
    }
}

/// Runs 2h-opt from `order` (a permutation of `0..n`; `neighbours` built
/// for `n` cities, as [`TwoHOptImprover`] guarantees) until no 2-opt or
/// node-insertion move over the candidate lists shortens the tour by more
/// than `1e-9`, or `time_limit` seconds have passed. Never lengthens it.
pub(crate) fn two_h_opt(
    order: Vec<usize>,
    dist: &(impl Fn(usize, usize) -> f64 + ?Sized),
    neighbours: &Neighbours,
    time_limit: Option<f64>,
) -> Vec<usize> {
    let n = order.len();
    if n < 5 {
        return order;
    }
    let start = std::time::Instant::now();
    let mut tour = ArrayTour::new(order);
    let mut queue: VecDeque<usize> = tour.order().iter().copied().collect();
    let mut queued = vec![true; n];
    let mut steps = 0usize;
    while let Some(a) = queue.pop_front() {
        queued[a] = false;
        steps += 1;
        if steps % 64 == 0 && time_limit.is_some_and(|t| start.elapsed().as_secs_f64() > t) {
            break;
        }
        let touched = try_two_opt(&mut tour, dist, neighbours, a)
            .or_else(|| try_node_insertion(&mut tour, dist, neighbours, a));
        if let Some(cities) = touched {
            for c in cities.into_iter().chain([a]) {
                if !queued[c] {
                    queued[c] = true;
                    queue.push_back(c);
                }
            }
        }
    }
    tour.into_order()
}

/// First improving 2-opt move removing an edge at `a` (either direction):
/// edges `(a, an)`, `(c, cn)` become `(a, c)`, `(an, cn)`. Returns the
/// end points of the changed edges (`a` twice, to match node insertion).
fn try_two_opt(
    tour: &mut ArrayTour,
    dist: &(impl Fn(usize, usize) -> f64 + ?Sized),
    neighbours: &Neighbours,
    a: usize,
) -> Option<[usize; 5]> {
    for forward in [true, false] {
        let step = |t: &ArrayTour, c: usize| if forward { t.succ(c) } else { t.pred(c) };
        let an = step(tour, a);
        for &c in neighbours.of(a) {
            let cn = step(tour, c);
            if c == an || cn == a {
                continue;
            }
            let gain = dist(a, an) + dist(c, cn) - dist(a, c) - dist(an, cn);
            if gain > EPS {
                tour.exchange(a, an, c, cn);
                return Some([a, an, c, cn, a]);
            }
        }
    }
    None
}

/// First improving node insertion involving `a`: `a` itself moving next to
/// a candidate, or a candidate of `a` moving into an edge at `a` (the
/// second kind is what makes the result a local optimum when an edge is
/// created after the moved city was last scanned). Returns the end points
/// of the changed edges.
fn try_node_insertion(
    tour: &mut ArrayTour,
    dist: &(impl Fn(usize, usize) -> f64 + ?Sized),
    neighbours: &Neighbours,
    a: usize,
) -> Option<[usize; 5]> {
    for &c in neighbours.of(a) {
        for e in [tour.succ(c), tour.pred(c)] {
            if let Some(touched) = try_insert(tour, dist, a, c, e) {
                return Some(touched);
            }
        }
    }
    for e in [tour.succ(a), tour.pred(a)] {
        for &v in neighbours.of(a) {
            if let Some(touched) = try_insert(tour, dist, v, a, e) {
                return Some(touched);
            }
        }
    }
    None
}

/// Moves `v` between the adjacent cities `c` and `e` if that shortens the
/// tour by more than `EPS`; returns the end points of the changed edges.
fn try_insert(
    tour: &mut ArrayTour,
    dist: &(impl Fn(usize, usize) -> f64 + ?Sized),
    v: usize,
    c: usize,
    e: usize,
) -> Option<[usize; 5]> {
    if v == c || v == e {
        return None;
    }
    let (p, nx) = (tour.pred(v), tour.succ(v));
    let gain = dist(p, v) + dist(v, nx) - dist(p, nx) + dist(c, e) - dist(c, v) - dist(v, e);
    if gain <= EPS {
        return None;
    }
    // The insertion edge in succ order: cc -> dd.
    let (cc, dd) = if tour.succ(c) == e { (c, e) } else { (e, c) };
    insert_node(tour, v, p, nx, cc, dd);
    Some([v, p, nx, c, e])
}

/// Moves `v` (between `p -> v -> nx`) to between `cc -> dd`, as one or two
/// 2-opt exchanges on the array tour.
fn insert_node(tour: &mut ArrayTour, v: usize, p: usize, nx: usize, cc: usize, dd: usize) {
    if cc == nx {
        // p v nx dd -> p nx v dd.
        tour.exchange(p, v, nx, dd);
    } else if dd == p {
        // cc p v nx -> cc v p nx.
        tour.exchange(cc, p, v, nx);
    } else {
        // p v nx X cc dd -> p cc rev(X) nx v dd -> p nx X cc v dd.
        tour.exchange(p, v, cc, dd);
        tour.exchange(p, cc, nx, v);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tsp::exact::held_karp_tour;
    use crate::tsp::instance::Instance;
    use crate::tsp::tour::tour_length;
    use crate::tsp::{solve, SolveParams};
    use rand::seq::SliceRandom;
    use rand::SeedableRng;

    fn case(seed: u64, n: usize) -> (Instance, Vec<usize>) {
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(seed);
        let inst = Instance::random_uniform(n, &mut rng).unwrap();
        let mut order: Vec<usize> = (0..n).collect();
        order.shuffle(&mut rng);
        (inst, order)
    }

    /// The best 2-opt or node-insertion neighbour of `order`, by enumeration.
    fn best_neighbour(order: &[usize], d: &impl Fn(usize, usize) -> f64) -> f64 {
        let n = order.len();
        let mut best = f64::INFINITY;
        for i in 0..n {
            for j in i + 1..n {
                let mut t = order.to_vec();
                t[i..=j].reverse();
                best = best.min(tour_length(&t, d));
                let mut t = order.to_vec();
                let v = t.remove(i);
                t.insert(j, v);
                best = best.min(tour_length(&t, d));
                let mut t = order.to_vec();
                let v = t.remove(j);
                t.insert(i, v);
                best = best.min(tour_length(&t, d));
            }
        }
        best
    }

    #[test]
    fn insertion_changes_length_by_the_gain() {
        let (inst, order) = case(5, 11);
        let d = |a: usize, b: usize| inst.dist(a, b);
        for vi in 0..11 {
            for ci in 0..11 {
                let mut t = ArrayTour::new(order.clone());
                let v = order[vi];
                let (p, nx) = (t.pred(v), t.succ(v));
                let cc = order[ci];
                let dd = t.succ(cc);
                if cc == v || dd == v {
                    continue;
                }
                let before = tour_length(t.order(), d);
                let gain = d(p, v) + d(v, nx) - d(p, nx) + d(cc, dd) - d(cc, v) - d(v, dd);
                insert_node(&mut t, v, p, nx, cc, dd);
                let after = tour_length(t.order(), d);
                assert!((before - gain - after).abs() < 1e-9, "v {vi} c {ci}");
                assert!(
                    (t.pred(v) == cc && t.succ(v) == dd) || (t.succ(v) == cc && t.pred(v) == dd)
                );
            }
        }
    }

    #[test]
    fn never_lengthens_and_reaches_a_brute_force_local_optimum() {
        for seed in 0..12 {
            let n = 6 + (seed as usize % 4);
            let (inst, order) = case(seed, n);
            let d = |a: usize, b: usize| inst.dist(a, b);
            let before = tour_length(&order, d);
            // Complete candidate lists: the full 2h-opt neighbourhood.
            let nb = Neighbours::from_fn(n, n - 1, d);
            let out = two_h_opt(order, &d, &nb, None);
            let after = tour_length(&out, d);
            assert!(after <= before + 1e-12, "seed {seed}");
            assert!(Tour::new(out.clone(), n).is_ok());
            assert!(
                best_neighbour(&out, &d) >= after - 1e-9,
                "seed {seed}: an improving 2h-opt move is left"
            );
            let opt = held_karp_tour(n, d).unwrap().length;
            assert!(after >= opt - 1e-9);
        }
    }

    #[test]
    fn registered_pipeline_improves_greedy_and_is_deterministic() {
        let (inst, _) = case(21, 300);
        let greedy = solve(&inst, &SolveParams::new("greedy")).unwrap();
        let p = SolveParams::new("2hopt");
        let a = solve(&inst, &p).unwrap();
        assert!(a.length < greedy.length);
        assert_eq!(solve(&inst, &p.clone().with_seed(9)).unwrap().tour, a.tour);
        for seed in 0..5 {
            let (inst, order) = case(40 + seed, 80);
            let d = |a: usize, b: usize| inst.dist(a, b);
            let nb = Neighbours::new(&inst, 8);
            let before = tour_length(&order, d);
            let out = two_h_opt(order, &d, &nb, None);
            assert!(tour_length(&out, d) < before);
        }
    }
}
