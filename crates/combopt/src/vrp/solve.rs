//! CVRP heuristics: Clarke-Wright savings, sweep, a granular local search
//! (relocate, swap, 2-opt*, intra-route 2-opt and Or-opt) and a
//! divide-conquer-reunion over groups of routes (UDC's CVRP decomposition,
//! with local search in place of the neural conquer).

use std::time::Instant;

use duality_core::config::Validate;
use duality_core::seed::Seeder;
use duality_core::{Error, Result};
use rand::seq::SliceRandom;
use rand::Rng;
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use super::instance::VrpInstance;

/// Routes: each a list of customers (node ids `1..n`), the depot implicit at
/// both ends.
pub type Routes = Vec<Vec<usize>>;

const EPS: f64 = 1e-9;

/// Cost of `routes` (depot -> customers -> depot each).
pub fn routes_cost(instance: &VrpInstance, routes: &[Vec<usize>]) -> f64 {
    routes.iter().map(|r| route_cost(instance, r)).sum()
}

fn route_cost(instance: &VrpInstance, r: &[usize]) -> f64 {
    if r.is_empty() {
        return 0.0;
    }
    let mut c = instance.dist(0, r[0]) + instance.dist(r[r.len() - 1], 0);
    for w in r.windows(2) {
        c += instance.dist(w[0], w[1]);
    }
    c
}

/// Checks that `routes` visit every customer exactly once, never the depot,
/// and respect the capacity; fails naming the first violation.
pub fn check_feasible(instance: &VrpInstance, routes: &[Vec<usize>]) -> Result<()> {
    let n = instance.len();
    let mut seen = vec![false; n];
    for (k, r) in routes.iter().enumerate() {
        let mut load = 0;
        for &v in r {
            if v == 0 || v >= n {
                return Err(Error::invalid(
                    format!("route {} node", k + 1),
                    v,
                    format!("a customer id in 1..{n}"),
                ));
            }
            if std::mem::replace(&mut seen[v], true) {
                return Err(Error::invalid("customer", v, "visited once"));
            }
            load += instance.demand(v);
        }
        if load > instance.capacity() {
            return Err(Error::invalid(
                format!("load of route {}", k + 1),
                load,
                format!("at most the capacity {}", instance.capacity()),
            ));
        }
    }
    if let Some(v) = (1..n).find(|&v| !seen[v]) {
        return Err(Error::invalid("customer", v, "visited by a route"));
    }
    Ok(())
}

/// Clarke & Wright (1964) savings, parallel version: start from one route
/// per customer, merge the two routes with `i` and `j` at their ends in
/// decreasing order of `s_ij = d(0, i) + d(0, j) - d(i, j)` while the merged
/// load fits. Pairs: all of them up to 2,000 customers, else each
/// customer's 100 nearest.
pub fn savings(instance: &VrpInstance) -> Routes {
    let n = instance.len();
    let pairs = candidate_pairs(instance, 100);
    let mut s: Vec<(f64, usize, usize)> = pairs
        .into_iter()
        .map(|(i, j)| {
            (
                instance.dist(0, i) + instance.dist(0, j) - instance.dist(i, j),
                i,
                j,
            )
        })
        .filter(|x| x.0 > 0.0)
        .collect();
    s.sort_by(|a, b| b.0.total_cmp(&a.0).then(a.1.cmp(&b.1)).then(a.2.cmp(&b.2)));
    let mut routes: Vec<Vec<usize>> = (0..n)
        .map(|i| if i == 0 { vec![] } else { vec![i] })
        .collect();
    let mut route_of: Vec<usize> = (0..n).collect();
    let mut load: Vec<u64> = instance.demands().to_vec();
    for (_, i, j) in s {
        let (a, b) = (route_of[i], route_of[j]);
        if a == b || load[a] + load[b] > instance.capacity() {
            continue;
        }
        let end = |r: &Vec<usize>, v: usize| r.first() == Some(&v) || r.last() == Some(&v);
        if !end(&routes[a], i) || !end(&routes[b], j) {
            continue;
        }
        let mut ra = std::mem::take(&mut routes[a]);
        let mut rb = std::mem::take(&mut routes[b]);
        if ra.last() != Some(&i) {
            ra.reverse();
        }
        if rb.first() != Some(&j) {
            rb.reverse();
        }
        for &v in &rb {
            route_of[v] = a;
        }
        ra.extend(rb);
        routes[a] = ra;
        load[a] += load[b];
        load[b] = 0;
    }
    routes.into_iter().filter(|r| !r.is_empty()).collect()
}

/// Unordered customer pairs `(i, j)`, `i < j`: all of them for up to 2,000
/// customers, else each customer with its `k` nearest.
fn candidate_pairs(instance: &VrpInstance, k: usize) -> Vec<(usize, usize)> {
    let n = instance.len();
    if n <= 2_001 {
        return (1..n)
            .flat_map(|i| (i + 1..n).map(move |j| (i, j)))
            .collect();
    }
    let nb = neighbours(instance, k);
    let mut pairs: Vec<(usize, usize)> = nb
        .iter()
        .enumerate()
        .skip(1)
        .flat_map(|(i, list)| list.iter().map(move |&j| (i.min(j), i.max(j))))
        .collect();
    pairs.sort_unstable();
    pairs.dedup();
    pairs
}

/// Each customer's `k` nearest customers (index 0, the depot, has none).
fn neighbours(instance: &VrpInstance, k: usize) -> Vec<Vec<usize>> {
    let n = instance.len();
    let k = k.min(n.saturating_sub(2));
    let c = instance.coords();
    (0..n)
        .into_par_iter()
        .map(|i| {
            if i == 0 {
                return Vec::new();
            }
            let mut d: Vec<(f64, usize)> = (1..n)
                .filter(|&j| j != i)
                .map(|j| ((c[i][0] - c[j][0]).hypot(c[i][1] - c[j][1]), j))
                .collect();
            if d.len() > k {
                d.select_nth_unstable_by(k, |a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)));
                d.truncate(k);
            }
            d.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)));
            d.into_iter().map(|x| x.1).collect()
        })
        .collect()
}

/// Gillett & Miller (1974) sweep: customers sorted by polar angle around
/// the depot are cut into routes greedily by capacity, each route then
/// ordered by intra-route 2-opt and Or-opt; the best of up to 16 evenly
/// spaced starting customers is kept.
pub fn sweep(instance: &VrpInstance) -> Routes {
    let n = instance.len();
    let c = instance.coords();
    let mut by_angle: Vec<(f64, usize)> = (1..n)
        .map(|i| ((c[i][1] - c[0][1]).atan2(c[i][0] - c[0][0]), i))
        .collect();
    by_angle.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)));
    let order: Vec<usize> = by_angle.into_iter().map(|x| x.1).collect();
    let m = order.len();
    let starts = m.min(16);
    (0..starts)
        .into_par_iter()
        .map(|s| {
            let off = s * m / starts;
            let mut routes: Routes = Vec::new();
            let mut cur = Vec::new();
            let mut load = 0;
            for t in 0..m {
                let v = order[(off + t) % m];
                if load + instance.demand(v) > instance.capacity() {
                    routes.push(std::mem::take(&mut cur));
                    load = 0;
                }
                cur.push(v);
                load += instance.demand(v);
            }
            routes.push(cur);
            for r in &mut routes {
                intra_route(instance, r);
            }
            (routes_cost(instance, &routes), s, routes)
        })
        .min_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)))
        .map(|x| x.2)
        .unwrap_or_default()
}

/// Intra-route 2-opt and Or-opt (segments of 1-3 customers moved, possibly
/// reversed) until no move improves; returns whether the route changed.
fn intra_route(instance: &VrpInstance, r: &mut Vec<usize>) -> bool {
    let d = |a: usize, b: usize| instance.dist(a, b);
    let mut changed = false;
    loop {
        let mut improved = false;
        // seq with the depot at both ends.
        let mut seq = Vec::with_capacity(r.len() + 2);
        seq.push(0);
        seq.extend_from_slice(r);
        seq.push(0);
        let len = seq.len();
        // 2-opt: reverse seq[i..=j].
        'two: for i in 1..len - 1 {
            for j in i + 1..len - 1 {
                let delta = d(seq[i - 1], seq[j]) + d(seq[i], seq[j + 1])
                    - d(seq[i - 1], seq[i])
                    - d(seq[j], seq[j + 1]);
                if delta < -EPS {
                    seq[i..=j].reverse();
                    improved = true;
                    break 'two;
                }
            }
        }
        if !improved {
            // Or-opt: move seq[i..i+l] between seq[p] and seq[p+1].
            'or: for l in 1..=3usize {
                for i in 1..len.saturating_sub(l) {
                    let (a, s0, se, b) = (seq[i - 1], seq[i], seq[i + l - 1], seq[i + l]);
                    let removal = d(a, b) - d(a, s0) - d(se, b);
                    for p in 0..len - 1 {
                        if p + 1 >= i && p < i + l {
                            continue;
                        }
                        let (x, y) = (seq[p], seq[p + 1]);
                        let fwd = d(x, s0) + d(se, y) - d(x, y);
                        let rev = d(x, se) + d(s0, y) - d(x, y);
                        let (ins, reversed) = if rev < fwd - EPS {
                            (rev, true)
                        } else {
                            (fwd, false)
                        };
                        if removal + ins < -EPS {
                            let mut seg: Vec<usize> = seq[i..i + l].to_vec();
                            if reversed {
                                seg.reverse();
                            }
                            let mut rest: Vec<usize> = seq[..i].to_vec();
                            rest.extend_from_slice(&seq[i + l..]);
                            let at = if p < i { p + 1 } else { p + 1 - l };
                            rest.splice(at..at, seg);
                            seq = rest;
                            improved = true;
                            break 'or;
                        }
                    }
                }
            }
        }
        if !improved {
            break;
        }
        changed = true;
        *r = seq[1..seq.len() - 1].to_vec();
    }
    changed
}

/// The local search state: routes with positions and loads.
struct Ls<'a> {
    inst: &'a VrpInstance,
    routes: Routes,
    route_of: Vec<usize>,
    pos: Vec<usize>,
    load: Vec<u64>,
}

impl<'a> Ls<'a> {
    fn new(inst: &'a VrpInstance, routes: Routes) -> Self {
        let n = inst.len();
        let mut ls = Ls {
            inst,
            load: vec![0; routes.len()],
            routes,
            route_of: vec![usize::MAX; n],
            pos: vec![0; n],
        };
        for k in 0..ls.routes.len() {
            ls.reindex(k);
        }
        ls
    }
    fn reindex(&mut self, k: usize) {
        let mut load = 0;
        for (p, &v) in self.routes[k].iter().enumerate() {
            self.route_of[v] = k;
            self.pos[v] = p;
            load += self.inst.demand(v);
        }
        self.load[k] = load;
    }
    fn pred(&self, v: usize) -> usize {
        let p = self.pos[v];
        if p == 0 {
            0
        } else {
            self.routes[self.route_of[v]][p - 1]
        }
    }
    fn succ(&self, v: usize) -> usize {
        let r = &self.routes[self.route_of[v]];
        r.get(self.pos[v] + 1).copied().unwrap_or(0)
    }
    fn prefix_load(&self, v: usize) -> u64 {
        self.routes[self.route_of[v]][..=self.pos[v]]
            .iter()
            .map(|&x| self.inst.demand(x))
            .sum()
    }
    fn d(&self, a: usize, b: usize) -> f64 {
        self.inst.dist(a, b)
    }
    fn cap(&self) -> u64 {
        self.inst.capacity()
    }

    /// Moves `u` next to `v` (other route) if that shortens; true if applied.
    fn relocate(&mut self, u: usize, v: usize) -> bool {
        let (ru, rv) = (self.route_of[u], self.route_of[v]);
        if ru == rv || self.load[rv] + self.inst.demand(u) > self.cap() {
            return false;
        }
        let (pu, su) = (self.pred(u), self.succ(u));
        let removal = self.d(pu, su) - self.d(pu, u) - self.d(u, su);
        let (pv, sv) = (self.pred(v), self.succ(v));
        let after = self.d(v, u) + self.d(u, sv) - self.d(v, sv);
        let before = self.d(pv, u) + self.d(u, v) - self.d(pv, v);
        let (ins, at) = if after <= before {
            (after, self.pos[v] + 1)
        } else {
            (before, self.pos[v])
        };
        if removal + ins >= -EPS {
            return false;
        }
        self.routes[ru].remove(self.pos[u]);
        self.routes[rv].insert(at, u);
        self.reindex(ru);
        self.reindex(rv);
        true
    }

    /// Exchanges `u` and `v` (different routes) if that shortens.
    fn swap(&mut self, u: usize, v: usize) -> bool {
        let (ru, rv) = (self.route_of[u], self.route_of[v]);
        if ru == rv {
            return false;
        }
        let (qu, qv) = (self.inst.demand(u), self.inst.demand(v));
        if self.load[ru] - qu + qv > self.cap() || self.load[rv] - qv + qu > self.cap() {
            return false;
        }
        let (pu, su, pv, sv) = (self.pred(u), self.succ(u), self.pred(v), self.succ(v));
        let delta = self.d(pu, v) + self.d(v, su) - self.d(pu, u) - self.d(u, su)
            + self.d(pv, u)
            + self.d(u, sv)
            - self.d(pv, v)
            - self.d(v, sv);
        if delta >= -EPS {
            return false;
        }
        let (a, b) = (self.pos[u], self.pos[v]);
        self.routes[ru][a] = v;
        self.routes[rv][b] = u;
        self.reindex(ru);
        self.reindex(rv);
        true
    }

    /// 2-opt*: new route `ru[..=u] + rv[v..]` and `rv[..v] + ru[u+1..]`
    /// (creates the edge `u -> v`) if loads fit and that shortens.
    fn two_opt_star(&mut self, u: usize, v: usize) -> bool {
        let (ru, rv) = (self.route_of[u], self.route_of[v]);
        if ru == rv {
            return false;
        }
        let (su, pv) = (self.succ(u), self.pred(v));
        let delta = self.d(u, v) + self.d(pv, su) - self.d(u, su) - self.d(pv, v);
        if delta >= -EPS {
            return false;
        }
        let head_u = self.prefix_load(u);
        let head_v = self.prefix_load(v) - self.inst.demand(v);
        let new_u = head_u + (self.load[rv] - head_v);
        let new_v = head_v + (self.load[ru] - head_u);
        if new_u > self.cap() || new_v > self.cap() {
            return false;
        }
        let tail_u = self.routes[ru].split_off(self.pos[u] + 1);
        let tail_v = self.routes[rv].split_off(self.pos[v]);
        self.routes[ru].extend(tail_v);
        self.routes[rv].extend(tail_u);
        self.reindex(ru);
        self.reindex(rv);
        true
    }

    fn run(&mut self, nb: &[Vec<usize>], deadline: Option<Instant>) {
        for k in 0..self.routes.len() {
            if intra_route(self.inst, &mut self.routes[k]) {
                self.reindex(k);
            }
        }
        loop {
            let mut improved = false;
            for u in 1..self.inst.len() {
                if deadline.is_some_and(|t| Instant::now() >= t) {
                    return;
                }
                for &v in &nb[u] {
                    let (ru, rv) = (self.route_of[u], self.route_of[v]);
                    if self.relocate(u, v) || self.swap(u, v) || self.two_opt_star(u, v) {
                        for k in [ru, rv] {
                            if intra_route(self.inst, &mut self.routes[k]) {
                                self.reindex(k);
                            }
                        }
                        improved = true;
                        break;
                    }
                }
            }
            if !improved {
                break;
            }
        }
    }

    fn into_routes(self) -> Routes {
        self.routes.into_iter().filter(|r| !r.is_empty()).collect()
    }
}

/// Granular local search from `routes` (each customer against its `k`
/// nearest): relocate, swap and 2-opt* between routes, intra-route 2-opt and
/// Or-opt after every change, first improvement, until a local optimum (or
/// `deadline`). Never makes a feasible solution infeasible.
pub fn local_search(
    instance: &VrpInstance,
    routes: Routes,
    k: usize,
    deadline: Option<Instant>,
) -> Routes {
    let nb = neighbours(instance, k);
    let mut ls = Ls::new(instance, routes);
    ls.run(&nb, deadline);
    ls.into_routes()
}

/// Ruin (the `size` customers nearest a random one) and recreate (each
/// reinserted, in random order, at its cheapest feasible position, or in a
/// new route).
fn ruin_recreate<R: Rng + ?Sized>(
    instance: &VrpInstance,
    routes: &[Vec<usize>],
    nb: &[Vec<usize>],
    size: usize,
    rng: &mut R,
) -> Routes {
    let n = instance.len();
    let seed = rng.random_range(1..n);
    let mut removed: Vec<usize> = std::iter::once(seed)
        .chain(nb[seed].iter().copied())
        .take(size)
        .collect();
    let mut gone = vec![false; n];
    for &v in &removed {
        gone[v] = true;
    }
    let mut out: Routes = routes
        .iter()
        .map(|r| r.iter().copied().filter(|&v| !gone[v]).collect::<Vec<_>>())
        .filter(|r: &Vec<usize>| !r.is_empty())
        .collect();
    let mut loads: Vec<u64> = out
        .iter()
        .map(|r| r.iter().map(|&v| instance.demand(v)).sum())
        .collect();
    removed.shuffle(rng);
    for v in removed {
        let mut best: Option<(f64, usize, usize)> = None;
        for (k, r) in out.iter().enumerate() {
            if loads[k] + instance.demand(v) > instance.capacity() {
                continue;
            }
            for p in 0..=r.len() {
                let a = if p == 0 { 0 } else { r[p - 1] };
                let b = r.get(p).copied().unwrap_or(0);
                let c = instance.dist(a, v) + instance.dist(v, b) - instance.dist(a, b);
                if best.is_none_or(|x| c < x.0) {
                    best = Some((c, k, p));
                }
            }
        }
        match best {
            Some((c, k, p)) if c < 2.0 * instance.dist(0, v) => {
                out[k].insert(p, v);
                loads[k] += instance.demand(v);
            }
            _ => {
                out.push(vec![v]);
                loads.push(instance.demand(v));
            }
        }
    }
    out
}

/// Iterated local search on one (sub-)instance: `kicks` ruin-and-recreate
/// perturbations, each followed by local search, keeping strict
/// improvements.
fn ils<R: Rng + ?Sized>(
    instance: &VrpInstance,
    routes: Routes,
    k: usize,
    kicks: usize,
    rng: &mut R,
    deadline: Option<Instant>,
) -> Routes {
    let nb = neighbours(instance, k);
    let mut ls = Ls::new(instance, routes);
    ls.run(&nb, deadline);
    let mut best = ls.into_routes();
    let mut best_cost = routes_cost(instance, &best);
    let size = (instance.customers() / 10).clamp(2, 30);
    for _ in 0..kicks {
        if deadline.is_some_and(|t| Instant::now() >= t) {
            break;
        }
        let cand = ruin_recreate(instance, &best, &nb, size, rng);
        let mut ls = Ls::new(instance, cand);
        ls.run(&nb, deadline);
        let cand = ls.into_routes();
        let c = routes_cost(instance, &cand);
        if c < best_cost - EPS {
            best = cand;
            best_cost = c;
        }
    }
    best
}

/// Divide-conquer-reunion over route groups (UDC's CVRP decomposition, Zheng
/// et al. 2024, section 4.2, with iterated local search as the conquer
/// solver): routes sorted by the polar angle of their centroid around the
/// depot are cut into groups of `group` consecutive routes; each group's
/// customers form a sub-CVRP solved by ILS (`kicks` ruin-and-recreate
/// kicks) and replace the group's routes when shorter. Round `t` starts
/// its groups `t * group / 2` routes further round the depot (mod the
/// route count), so consecutive rounds' group boundaries differ by half a
/// group. Groups are solved in parallel, each with its own seeded stream.
pub fn dcr_routes(
    instance: &VrpInstance,
    routes: Routes,
    params: &VrpParams,
    deadline: Option<Instant>,
) -> Routes {
    let seeder = Seeder::new(params.seed).named("vrp-dcr");
    let c = instance.coords();
    let mut routes = routes;
    let mut round = 0usize;
    loop {
        let done = match deadline {
            Some(t) => Instant::now() >= t,
            None => round >= params.rounds,
        };
        if done || routes.is_empty() {
            break;
        }
        let angle = |r: &Vec<usize>| {
            let (sx, sy) = r
                .iter()
                .fold((0.0, 0.0), |(x, y), &v| (x + c[v][0], y + c[v][1]));
            let m = r.len() as f64;
            (sy / m - c[0][1]).atan2(sx / m - c[0][0])
        };
        let mut keyed: Vec<(f64, Vec<usize>)> =
            routes.into_iter().map(|r| (angle(&r), r)).collect();
        keyed.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)));
        let sorted: Routes = keyed.into_iter().map(|x| x.1).collect();
        let nr = sorted.len();
        let g = params.group.min(nr).max(1);
        let shift = (round * g.div_ceil(2)) % nr;
        let rotated: Routes = (0..nr).map(|t| sorted[(t + shift) % nr].clone()).collect();
        let groups: Vec<Routes> = rotated.chunks(g).map(|x| x.to_vec()).collect();
        let round_seeder = seeder.child(round as u64);
        routes = groups
            .into_par_iter()
            .enumerate()
            .map(|(gi, group)| {
                let nodes: Vec<usize> = group.iter().flatten().copied().collect();
                let sub = instance.subset(&nodes);
                // Sub-instance ids: customer t of `nodes` is node t + 1.
                let mut next = 1;
                let local: Routes = group
                    .iter()
                    .map(|r| {
                        let l: Vec<usize> = (next..next + r.len()).collect();
                        next += r.len();
                        l
                    })
                    .collect();
                let before = routes_cost(&sub, &local);
                let mut rng = round_seeder.rng(gi as u64);
                let improved = ils(&sub, local, params.k, params.kicks, &mut rng, deadline);
                if routes_cost(&sub, &improved) < before - EPS {
                    improved
                        .into_iter()
                        .map(|r| r.into_iter().map(|v| nodes[v - 1]).collect())
                        .collect()
                } else {
                    group
                }
            })
            .flatten()
            .collect();
        round += 1;
    }
    local_search(instance, routes, params.k, deadline)
}

/// The CVRP methods [`solve_vrp`] accepts.
pub const VRP_METHODS: [(&str, &str); 5] = [
    ("savings", "Clarke-Wright parallel savings"),
    (
        "sweep",
        "sweep (Gillett-Miller), routes ordered by 2-opt + Or-opt, best of 16 starts",
    ),
    (
        "savings-ls",
        "savings, then local search (relocate, swap, 2-opt*, intra 2-opt/Or-opt)",
    ),
    ("sweep-ls", "sweep, then the same local search"),
    (
        "dcr",
        "savings + local search, then divide-conquer-reunion over route groups (ILS per group)",
    ),
];

/// Options of [`solve_vrp`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct VrpParams {
    /// Method name (one of [`VRP_METHODS`]).
    pub method: String,
    /// Candidate neighbours per customer in the local search.
    pub k: usize,
    /// Wall-clock limit in seconds for the improvement phase; `dcr` keeps
    /// running rounds until it (else it runs `rounds` rounds).
    pub time_limit: Option<f64>,
    /// Seed (read by `dcr`).
    pub seed: u64,
    /// Routes per DCR group.
    pub group: usize,
    /// DCR rounds without a time limit.
    pub rounds: usize,
    /// Ruin-and-recreate kicks per group and round.
    pub kicks: usize,
}

impl Default for VrpParams {
    fn default() -> Self {
        VrpParams {
            method: "dcr".into(),
            k: 20,
            time_limit: None,
            seed: 0,
            group: 5,
            rounds: 4,
            kicks: 30,
        }
    }
}

impl VrpParams {
    /// Defaults with `method`.
    pub fn new(method: impl Into<String>) -> Self {
        VrpParams {
            method: method.into(),
            ..Default::default()
        }
    }
}

impl Validate for VrpParams {
    fn validate(&self) -> Result<()> {
        if !VRP_METHODS.iter().any(|m| m.0 == self.method) {
            let names: Vec<&str> = VRP_METHODS.iter().map(|m| m.0).collect();
            return Err(Error::config(
                "method",
                format!(
                    "unknown method {:?}; one of {}",
                    self.method,
                    names.join(", ")
                ),
            ));
        }
        if let Some(t) = self.time_limit {
            if !(t.is_finite() && t > 0.0) {
                return Err(Error::config(
                    "time_limit",
                    format!("must be a finite number of seconds > 0, got {t:?}"),
                ));
            }
        }
        for (field, v, lo, hi) in [
            ("k", self.k, 1, 1_000),
            ("group", self.group, 1, 10_000),
            ("rounds", self.rounds, 0, 1_000_000),
            ("kicks", self.kicks, 0, 1_000_000),
        ] {
            if !(lo..=hi).contains(&v) {
                return Err(Error::config(
                    field,
                    format!("must be in {lo}..={hi}, got {v}"),
                ));
            }
        }
        Ok(())
    }
}

/// A CVRP solution.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct VrpSolution {
    /// Routes of customer ids (depot 0 implicit at both ends).
    pub routes: Routes,
    /// Total cost.
    pub cost: f64,
    /// Seconds spent.
    pub seconds: f64,
}

/// Solves `instance` with the method of `params`; the solution is checked
/// feasible before it is returned. Same seed, no time limit -> same routes.
pub fn solve_vrp(instance: &VrpInstance, params: &VrpParams) -> Result<VrpSolution> {
    params.validate()?;
    let start = Instant::now();
    // A limit too large for a Duration or an Instant (1e308 s) is no limit.
    let deadline = params
        .time_limit
        .and_then(|t| std::time::Duration::try_from_secs_f64(t).ok())
        .and_then(|d| start.checked_add(d));
    let routes = match params.method.as_str() {
        "savings" => savings(instance),
        "sweep" => sweep(instance),
        "savings-ls" => local_search(instance, savings(instance), params.k, deadline),
        "sweep-ls" => local_search(instance, sweep(instance), params.k, deadline),
        _ => {
            let init = local_search(instance, savings(instance), params.k, deadline);
            dcr_routes(instance, init, params, deadline)
        }
    };
    check_feasible(instance, &routes)?;
    Ok(VrpSolution {
        cost: routes_cost(instance, &routes),
        routes,
        seconds: start.elapsed().as_secs_f64(),
    })
}
