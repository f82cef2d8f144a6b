//! Nearest-neighbour structures: a 2-d tree (Bentley 1975) for planar
//! instances and the k-nearest-neighbour candidate lists used by the local
//! searches (O(n k) memory: no dense n x n matrix).

use super::instance::Instance;

/// A static 2-d tree over points with deletable points (for nearest-neighbour
/// tour construction): each subtree keeps a count of its live points so
/// queries skip emptied subtrees.
#[derive(Debug, Clone)]
pub struct KdTree {
    points: Vec<[f64; 2]>,
    /// Point ids in tree order; subtree `[lo, hi)` splits at `(lo + hi) / 2`.
    order: Vec<usize>,
    /// Position of each point id in `order`.
    position: Vec<usize>,
    /// Live points in the subtree whose split is at this position.
    live: Vec<usize>,
    alive: Vec<bool>,
}

#[inline]
fn sq(a: [f64; 2], b: [f64; 2]) -> f64 {
    let (dx, dy) = (a[0] - b[0], a[1] - b[1]);
    dx * dx + dy * dy
}

impl KdTree {
    /// Builds the tree in O(n log n).
    pub fn new(points: &[[f64; 2]]) -> Self {
        let n = points.len();
        let mut order: Vec<usize> = (0..n).collect();
        build(points, &mut order, 0);
        let mut position = vec![0; n];
        for (p, &id) in order.iter().enumerate() {
            position[id] = p;
        }
        let mut tree = KdTree {
            points: points.to_vec(),
            order,
            position,
            live: vec![0; n],
            alive: vec![true; n],
        };
        tree.init_counts(0, n);
        tree
    }

    fn init_counts(&mut self, lo: usize, hi: usize) -> usize {
        if lo >= hi {
            return 0;
        }
        let mid = (lo + hi) / 2;
        let c = 1 + self.init_counts(lo, mid) + self.init_counts(mid + 1, hi);
        self.live[mid] = c;
        c
    }

    /// Marks point `id` as removed (it is no longer returned by [`KdTree::nearest_alive`]).
    pub fn remove(&mut self, id: usize) {
        if !self.alive[id] {
            return;
        }
        self.alive[id] = false;
        let target = self.position[id];
        let (mut lo, mut hi) = (0, self.order.len());
        while lo < hi {
            let mid = (lo + hi) / 2;
            self.live[mid] -= 1;
            if target == mid {
                break;
            } else if target < mid {
                hi = mid;
            } else {
                lo = mid + 1;
            }
        }
    }

    /// The live point nearest to `q`, if any.
    pub fn nearest_alive(&self, q: [f64; 2]) -> Option<usize> {
        let mut best = (f64::INFINITY, usize::MAX);
        self.nearest_rec(q, 0, self.order.len(), 0, &mut best);
        (best.1 != usize::MAX).then_some(best.1)
    }

    fn nearest_rec(
        &self,
        q: [f64; 2],
        lo: usize,
        hi: usize,
        depth: usize,
        best: &mut (f64, usize),
    ) {
        if lo >= hi {
            return;
        }
        let mid = (lo + hi) / 2;
        if self.live[mid] == 0 {
            return;
        }
        let id = self.order[mid];
        let p = self.points[id];
        if self.alive[id] {
            let d = sq(p, q);
            if d < best.0 || (d == best.0 && id < best.1) {
                *best = (d, id);
            }
        }
        let axis = depth % 2;
        let diff = q[axis] - p[axis];
        let (first, second) = if diff < 0.0 {
            ((lo, mid), (mid + 1, hi))
        } else {
            ((mid + 1, hi), (lo, mid))
        };
        self.nearest_rec(q, first.0, first.1, depth + 1, best);
        if diff * diff <= best.0 {
            self.nearest_rec(q, second.0, second.1, depth + 1, best);
        }
    }

    /// The `k` points nearest to point `id` (excluding itself), nearest first.
    pub fn k_nearest(&self, id: usize, k: usize) -> Vec<usize> {
        self.k_nearest_where(id, k, |_| true)
    }

    /// The `k` points nearest to point `id` among those accepted by `keep`.
    pub fn k_nearest_where(
        &self,
        id: usize,
        k: usize,
        keep: impl Fn([f64; 2]) -> bool,
    ) -> Vec<usize> {
        let q = self.points[id];
        let mut heap: Vec<(f64, usize)> = Vec::with_capacity(k + 1);
        self.knn_rec(q, id, k, 0, self.order.len(), 0, &mut heap, &keep);
        heap.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)));
        heap.into_iter().map(|(_, i)| i).collect()
    }

    #[allow(clippy::too_many_arguments)]
    fn knn_rec(
        &self,
        q: [f64; 2],
        skip: usize,
        k: usize,
        lo: usize,
        hi: usize,
        depth: usize,
        heap: &mut Vec<(f64, usize)>,
        keep: &dyn Fn([f64; 2]) -> bool,
    ) {
        if lo >= hi || k == 0 {
            return;
        }
        let mid = (lo + hi) / 2;
        let id = self.order[mid];
        let p = self.points[id];
        if id != skip && keep(p) {
            let d = sq(p, q);
            if heap.len() < k {
                heap.push((d, id));
            } else if let Some(worst) = worst_index(heap) {
                if d < heap[worst].0 {
                    heap[worst] = (d, id);
                }
            }
        }
        let axis = depth % 2;
        let diff = q[axis] - p[axis];
        let (first, second) = if diff < 0.0 {
            ((lo, mid), (mid + 1, hi))
        } else {
            ((mid + 1, hi), (lo, mid))
        };
        self.knn_rec(q, skip, k, first.0, first.1, depth + 1, heap, keep);
        let bound = if heap.len() < k {
            f64::INFINITY
        } else {
            worst_index(heap).map_or(f64::INFINITY, |w| heap[w].0)
        };
        if diff * diff <= bound {
            self.knn_rec(q, skip, k, second.0, second.1, depth + 1, heap, keep);
        }
    }
}

/// Index of the largest distance in a small candidate list (k is ~10, a
/// linear scan beats a heap).
fn worst_index(heap: &[(f64, usize)]) -> Option<usize> {
    heap.iter()
        .enumerate()
        .max_by(|a, b| a.1 .0.total_cmp(&b.1 .0))
        .map(|(i, _)| i)
}

fn build(points: &[[f64; 2]], ids: &mut [usize], depth: usize) {
    if ids.len() <= 1 {
        return;
    }
    let axis = depth % 2;
    let mid = ids.len() / 2;
    ids.select_nth_unstable_by(mid, |&a, &b| points[a][axis].total_cmp(&points[b][axis]));
    let (left, right) = ids.split_at_mut(mid);
    build(points, left, depth + 1);
    build(points, &mut right[1..], depth + 1);
}

/// Candidate lists (O(n k) memory): the k nearest cities plus, on planar
/// instances, the nearest few in each of the four quadrants around the
/// city (Johnson & McGeoch 1997, section 3.3) so that clustered instances
/// keep candidate edges between clusters.
#[derive(Debug, Clone)]
pub struct Neighbours {
    k: usize,
    offsets: Vec<usize>,
    lists: Vec<usize>,
}

/// Quadrant neighbours added per quadrant on planar instances.
const PER_QUADRANT: usize = 2;

impl Neighbours {
    /// Candidate lists for `instance`: a 2-d tree for planar metrics,
    /// sorting each distance row otherwise (explicit matrices and GEO, where
    /// instances are small).
    pub fn new(instance: &Instance, k: usize) -> Self {
        let n = instance.len();
        let k = k.min(n - 1);
        if !instance.metric().is_planar() {
            return Self::from_fn(n, k, |i, j| instance.dist(i, j));
        }
        let tree = KdTree::new(instance.coords());
        let coords = instance.coords();
        let mut offsets = Vec::with_capacity(n + 1);
        let mut lists = Vec::with_capacity(n * (k + 4));
        offsets.push(0);
        for i in 0..n {
            let mut cand = tree.k_nearest(i, k);
            let c = coords[i];
            for quadrant in 0..4 {
                let keep = |p: [f64; 2]| {
                    let (east, north) = (p[0] >= c[0], p[1] >= c[1]);
                    let in_quadrant = match quadrant {
                        0 => east && north,
                        1 => !east && north,
                        2 => !east && !north,
                        _ => east && !north,
                    };
                    in_quadrant && p != c
                };
                for j in tree.k_nearest_where(i, PER_QUADRANT, keep) {
                    if !cand.contains(&j) {
                        cand.push(j);
                    }
                }
            }
            cand.sort_by(|&a, &b| {
                instance
                    .dist(i, a)
                    .total_cmp(&instance.dist(i, b))
                    .then(a.cmp(&b))
            });
            lists.extend(cand);
            offsets.push(lists.len());
        }
        Neighbours { k, offsets, lists }
    }

    /// The k nearest under any distance over `n` points (O(n^2), for sub-problems).
    pub fn from_fn(n: usize, k: usize, dist: impl Fn(usize, usize) -> f64) -> Self {
        let k = k.min(n.saturating_sub(1));
        let mut lists = Vec::with_capacity(n * k);
        let mut offsets = Vec::with_capacity(n + 1);
        offsets.push(0);
        for i in 0..n {
            lists.extend(k_smallest(n, k, i, |j| dist(i, j)));
            offsets.push(lists.len());
        }
        Neighbours { k, offsets, lists }
    }

    /// The candidates of city `i`, nearest first.
    #[inline]
    pub fn of(&self, i: usize) -> &[usize] {
        &self.lists[self.offsets[i]..self.offsets[i + 1]]
    }

    /// The (up to) `k` nearest cities of `i`, nearest first, without the
    /// quadrant extras.
    #[inline]
    pub fn nearest(&self, i: usize) -> &[usize] {
        let list = self.of(i);
        &list[..self.k.min(list.len())]
    }

    /// Number of cities with a candidate list.
    pub fn len(&self) -> usize {
        self.offsets.len().saturating_sub(1)
    }

    /// True when there are no cities.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Nearest neighbours per city (quadrant candidates come on top).
    pub fn k(&self) -> usize {
        self.k
    }
}

fn k_smallest(n: usize, k: usize, skip: usize, d: impl Fn(usize) -> f64) -> Vec<usize> {
    let mut row: Vec<(f64, usize)> = (0..n).filter(|&j| j != skip).map(|j| (d(j), j)).collect();
    let cmp = |a: &(f64, usize), b: &(f64, usize)| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1));
    if k < row.len() {
        row.select_nth_unstable_by(k, cmp);
        row.truncate(k);
    }
    row.sort_by(cmp);
    row.into_iter().map(|(_, j)| j).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tsp::instance::Metric;
    use rand::SeedableRng;

    #[test]
    fn kd_tree_matches_brute_force() {
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(3);
        let inst = Instance::random_uniform(300, &mut rng).unwrap();
        let nb = Neighbours::new(&inst, 8);
        let brute = Neighbours::from_fn(300, 8, |i, j| inst.dist(i, j));
        for i in 0..300 {
            assert_eq!(&nb.of(i)[..8], brute.of(i), "city {i}");
            assert!(nb.of(i).len() <= 8 + 4 * PER_QUADRANT);
            let c = inst.coords()[i];
            for q in 0..4 {
                let count = (0..300)
                    .filter(|&j| {
                        let p = inst.coords()[j];
                        j != i
                            && match q {
                                0 => p[0] >= c[0] && p[1] >= c[1],
                                1 => p[0] < c[0] && p[1] >= c[1],
                                2 => p[0] < c[0] && p[1] < c[1],
                                _ => p[0] >= c[0] && p[1] < c[1],
                            }
                    })
                    .count();
                let have = nb
                    .of(i)
                    .iter()
                    .filter(|&&j| {
                        let p = inst.coords()[j];
                        match q {
                            0 => p[0] >= c[0] && p[1] >= c[1],
                            1 => p[0] < c[0] && p[1] >= c[1],
                            2 => p[0] < c[0] && p[1] < c[1],
                            _ => p[0] >= c[0] && p[1] < c[1],
                        }
                    })
                    .count();
                assert!(have >= count.min(PER_QUADRANT), "city {i} quadrant {q}");
            }
        }
        let mut tree = KdTree::new(inst.coords());
        let q = inst.coords()[5];
        assert_eq!(tree.nearest_alive(q), Some(5));
        tree.remove(5);
        assert_eq!(tree.nearest_alive(q), Some(brute.of(5)[0]));
        for i in 0..300 {
            tree.remove(i);
        }
        assert_eq!(tree.nearest_alive(q), None);
        let _ = Metric::Euclidean;
    }
}
