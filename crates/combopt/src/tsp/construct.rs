//! Tour construction heuristics (Johnson & McGeoch 1997, "The TSP: a case
//! study in local optimization", section 2; Rosenkrantz, Stearns & Lewis 1977
//! for insertion; Bartholdi & Platzman 1982 for space-filling curves).

use super::instance::Instance;
use super::knn::{KdTree, Neighbours};
use super::tour::Tour;

/// Nearest neighbour from `start`: always go to the closest unvisited city.
/// O(n log n) expected on planar instances (2-d tree with deletions), O(n^2)
/// otherwise.
pub fn nearest_neighbour(instance: &Instance, start: usize) -> Tour {
    let n = instance.len();
    let start = start % n;
    let mut order = Vec::with_capacity(n);
    order.push(start);
    if instance.metric().is_planar() {
        let mut tree = KdTree::new(instance.coords());
        tree.remove(start);
        let mut cur = start;
        while let Some(next) = tree.nearest_alive(instance.coords()[cur]) {
            tree.remove(next);
            order.push(next);
            cur = next;
        }
    } else {
        let mut visited = vec![false; n];
        visited[start] = true;
        let mut cur = start;
        for _ in 1..n {
            let next = (0..n)
                .filter(|&j| !visited[j])
                .min_by(|&a, &b| instance.dist(cur, a).total_cmp(&instance.dist(cur, b)))
                .unwrap_or(cur);
            visited[next] = true;
            order.push(next);
            cur = next;
        }
    }
    Tour::from_permutation(order)
}

fn find(parent: &mut [usize], mut x: usize) -> usize {
    while parent[x] != x {
        parent[x] = parent[parent[x]];
        x = parent[x];
    }
    x
}

/// Greedy edge matching: scan candidate edges (the k-NN graph) by length
/// and keep an edge when both ends have degree < 2 and it closes no cycle;
/// the remaining path fragments are joined end to end by nearest free end.
/// This is the sparse k-NN-graph initial solution of divide-conquer-reunion.
pub fn greedy_edge(instance: &Instance, neighbours: &Neighbours) -> Tour {
    let n = instance.len();
    let mut edges: Vec<(f64, usize, usize)> = Vec::with_capacity(n * neighbours.k());
    for i in 0..n {
        for &j in neighbours.nearest(i) {
            if i < j || !neighbours.nearest(j).contains(&i) {
                edges.push((instance.dist(i, j), i.min(j), i.max(j)));
            }
        }
    }
    edges.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)).then(a.2.cmp(&b.2)));
    edges.dedup_by(|a, b| a.1 == b.1 && a.2 == b.2);
    let mut adj = vec![[usize::MAX; 2]; n];
    let mut degree = vec![0u8; n];
    let mut parent: Vec<usize> = (0..n).collect();
    let link = |adj: &mut Vec<[usize; 2]>, degree: &mut Vec<u8>, a: usize, b: usize| {
        adj[a][degree[a] as usize] = b;
        adj[b][degree[b] as usize] = a;
        degree[a] += 1;
        degree[b] += 1;
    };
    let mut added = 0;
    for &(_, a, b) in &edges {
        if degree[a] < 2 && degree[b] < 2 {
            let (ra, rb) = (find(&mut parent, a), find(&mut parent, b));
            if ra != rb {
                parent[ra] = rb;
                link(&mut adj, &mut degree, a, b);
                added += 1;
                if added == n - 1 {
                    break;
                }
            }
        }
    }
    // Join fragments: continue the greedy matching on the complete graph of
    // free fragment ends (O(f^2 log f) for f ends), so the result is the
    // classical greedy tour restricted to candidate edges first.
    let ends: Vec<usize> = (0..n).filter(|&i| degree[i] < 2).collect();
    if added < n - 1 {
        let mut pairs: Vec<(f64, usize, usize)> = Vec::with_capacity(ends.len() * ends.len() / 2);
        for (x, &a) in ends.iter().enumerate() {
            for &b in &ends[x + 1..] {
                pairs.push((instance.dist(a, b), a, b));
            }
        }
        pairs.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)).then(a.2.cmp(&b.2)));
        for &(_, a, b) in &pairs {
            if added == n - 1 {
                break;
            }
            if degree[a] < 2 && degree[b] < 2 {
                let (ra, rb) = (find(&mut parent, a), find(&mut parent, b));
                if ra != rb {
                    parent[ra] = rb;
                    link(&mut adj, &mut degree, a, b);
                    added += 1;
                }
            }
        }
    }
    // Walk the Hamiltonian path from one of its two ends.
    let start = (0..n).find(|&i| degree[i] < 2).unwrap_or(0);
    let mut order = Vec::with_capacity(n);
    let (mut prev, mut cur) = (usize::MAX, start);
    loop {
        order.push(cur);
        match adj[cur]
            .iter()
            .copied()
            .find(|&x| x != usize::MAX && x != prev)
        {
            Some(x) if order.len() < n => {
                prev = cur;
                cur = x;
            }
            _ => break,
        }
    }
    if order.len() < n {
        // Unreachable for a valid matching; keep a valid tour regardless.
        let mut seen = vec![false; n];
        order.iter().for_each(|&c| seen[c] = true);
        order.extend((0..n).filter(|&c| !seen[c]));
    }
    Tour::from_permutation(order)
}

/// Which city an insertion heuristic adds next.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[non_exhaustive]
pub enum InsertionRule {
    /// The city whose cheapest insertion is cheapest overall.
    Cheapest,
    /// The city farthest from the current tour, inserted at its cheapest place.
    Farthest,
}

/// Insertion heuristics, O(n^2) time and O(n) memory (for n up to a few
/// thousand). Starts from city 0 and its farthest (farthest insertion) or
/// nearest (cheapest insertion) city.
pub fn insertion(instance: &Instance, rule: InsertionRule) -> Tour {
    let n = instance.len();
    let d = |a: usize, b: usize| instance.dist(a, b);
    // Tour as successor array.
    let mut next = vec![usize::MAX; n];
    let mut in_tour = vec![false; n];
    let second = (1..n)
        .max_by(|&a, &b| {
            let (da, db) = (d(0, a), d(0, b));
            match rule {
                InsertionRule::Farthest => da.total_cmp(&db),
                InsertionRule::Cheapest => db.total_cmp(&da),
            }
        })
        .unwrap_or(1);
    next[0] = second;
    next[second] = 0;
    in_tour[0] = true;
    in_tour[second] = true;
    // min distance to the tour (farthest) / best insertion (cheapest).
    let mut key: Vec<f64> = (0..n).map(|c| d(c, 0).min(d(c, second))).collect();
    let mut best_edge: Vec<(f64, usize)> = (0..n)
        .map(|c| (d(0, c) + d(c, second) - d(0, second), 0))
        .collect();
    for _ in 2..n {
        let c = match rule {
            InsertionRule::Farthest => (0..n)
                .filter(|&c| !in_tour[c])
                .max_by(|&a, &b| key[a].total_cmp(&key[b]).then(b.cmp(&a))),
            InsertionRule::Cheapest => (0..n)
                .filter(|&c| !in_tour[c])
                .min_by(|&a, &b| best_edge[a].0.total_cmp(&best_edge[b].0).then(a.cmp(&b))),
        };
        let Some(c) = c else { break };
        let a = match rule {
            InsertionRule::Cheapest if best_edge[c].1 != usize::MAX => best_edge[c].1,
            _ => cheapest_edge(&next, c, 0, &d).1,
        };
        let b = next[a];
        next[a] = c;
        next[c] = b;
        in_tour[c] = true;
        for x in 0..n {
            if in_tour[x] {
                continue;
            }
            match rule {
                InsertionRule::Farthest => key[x] = key[x].min(d(x, c)),
                InsertionRule::Cheapest => {
                    if best_edge[x].1 == a {
                        // Its best edge (a, b) is gone: rescan the tour.
                        best_edge[x] = cheapest_edge(&next, x, 0, &d);
                    } else {
                        for (u, v) in [(a, c), (c, b)] {
                            let cost = d(u, x) + d(x, v) - d(u, v);
                            if cost < best_edge[x].0 {
                                best_edge[x] = (cost, u);
                            }
                        }
                    }
                }
            }
        }
    }
    let mut order = Vec::with_capacity(n);
    let mut cur = 0;
    for _ in 0..n {
        order.push(cur);
        cur = next[cur];
    }
    Tour::from_permutation(order)
}

/// Cheapest place to insert `x`: (cost, a) for edge (a, next[a]).
fn cheapest_edge(
    next: &[usize],
    x: usize,
    start: usize,
    d: &impl Fn(usize, usize) -> f64,
) -> (f64, usize) {
    let mut best = (f64::INFINITY, usize::MAX);
    let mut a = start;
    loop {
        let b = next[a];
        let cost = d(a, x) + d(x, b) - d(a, b);
        if cost < best.0 {
            best = (cost, a);
        }
        a = b;
        if a == start {
            return best;
        }
    }
}

/// Hilbert-curve order of the cities (Bartholdi & Platzman 1982): O(n log n),
/// within 25% of optimal on uniform instances. Explicit instances without
/// coordinates get the identity order.
pub fn space_filling_curve(instance: &Instance) -> Tour {
    let coords = instance.coords();
    if coords.is_empty() {
        return Tour::from_permutation((0..instance.len()).collect());
    }
    let (mut lo, mut hi) = ([f64::INFINITY; 2], [f64::NEG_INFINITY; 2]);
    for c in coords {
        for k in 0..2 {
            lo[k] = lo[k].min(c[k]);
            hi[k] = hi[k].max(c[k]);
        }
    }
    let span = (hi[0] - lo[0]).max(hi[1] - lo[1]).max(f64::MIN_POSITIVE);
    const SIDE: u64 = 1 << 16;
    let mut keyed: Vec<(u64, usize)> = coords
        .iter()
        .enumerate()
        .map(|(i, c)| {
            let x = (((c[0] - lo[0]) / span) * (SIDE - 1) as f64) as u64;
            let y = (((c[1] - lo[1]) / span) * (SIDE - 1) as f64) as u64;
            (hilbert_index(SIDE, x, y), i)
        })
        .collect();
    keyed.sort_unstable();
    Tour::from_permutation(keyed.into_iter().map(|(_, i)| i).collect())
}

/// Position of cell (x, y) along the Hilbert curve filling a `side x side` grid.
fn hilbert_index(side: u64, mut x: u64, mut y: u64) -> u64 {
    let mut d = 0;
    let mut s = side / 2;
    while s > 0 {
        let rx = u64::from(x & s > 0);
        let ry = u64::from(y & s > 0);
        d += s * s * ((3 * rx) ^ ry);
        if ry == 0 {
            if rx == 1 {
                x = side - 1 - x;
                y = side - 1 - y;
            }
            std::mem::swap(&mut x, &mut y);
        }
        s /= 2;
    }
    d
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;

    #[test]
    fn constructions_give_valid_reasonable_tours() {
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(5);
        let inst = Instance::random_uniform(400, &mut rng).unwrap();
        let nb = Neighbours::new(&inst, 10);
        // Beardwood-Halton-Hammersley: optimum ~ 0.7124 sqrt(n A) ~ 14.2.
        let bhh = 0.7124 * (400f64).sqrt();
        let tours = [
            ("nn", nearest_neighbour(&inst, 0), 1.40),
            ("greedy", greedy_edge(&inst, &nb), 1.35),
            ("cheapest", insertion(&inst, InsertionRule::Cheapest), 1.45),
            ("farthest", insertion(&inst, InsertionRule::Farthest), 1.35),
            ("sfc", space_filling_curve(&inst), 1.60),
        ];
        for (name, t, factor) in tours {
            let t = Tour::new(t.into_vec(), 400).unwrap();
            let len = t.length(&inst);
            assert!(
                len < factor * bhh,
                "{name}: {len} vs bound {}",
                factor * bhh
            );
        }
    }

    #[test]
    fn nn_on_explicit_matrix() {
        let m = vec![
            vec![0.0, 1.0, 5.0, 2.0],
            vec![1.0, 0.0, 1.0, 5.0],
            vec![5.0, 1.0, 0.0, 1.0],
            vec![2.0, 5.0, 1.0, 0.0],
        ];
        let inst = Instance::from_matrix("m", &m).unwrap();
        assert_eq!(nearest_neighbour(&inst, 0).cities(), &[0, 1, 2, 3]);
        assert_eq!(space_filling_curve(&inst).len(), 4);
    }
}
