//! Pareto tools for minimisation problems: non-dominated sorting (Deb et al.
//! 2002, NSGA-II "fast non-dominated sort"), exact hypervolume (2-D sweep,
//! 3-D by slicing into 2-D sweeps, n-D by WFG: While, Bradstreet & Barone
//! 2012) and the unary R2 indicator (Hansen & Jaszkiewicz 1998; Brockhoff,
//! Wagner & Trautmann 2012).

use duality_core::{Error, Result};

fn validate(points: &[Vec<f64>], name: &str) -> Result<usize> {
    let m = points.first().map_or(0, Vec::len);
    if m == 0 && !points.is_empty() {
        return Err(Error::invalid(
            format!("{name}[0]"),
            "[]",
            "a point with at least one objective",
        ));
    }
    for (i, p) in points.iter().enumerate() {
        if p.len() != m {
            return Err(Error::LengthMismatch {
                left_name: format!("{name}[{i}]"),
                left: p.len(),
                right_name: format!("{name}[0]"),
                right: m,
            });
        }
        duality_core::check::finite(&format!("{name}[{i}]"), p)?;
    }
    Ok(m)
}

/// `a` dominates `b` (minimisation): no worse everywhere, better somewhere.
pub fn dominates(a: &[f64], b: &[f64]) -> bool {
    let mut strictly = false;
    for (x, y) in a.iter().zip(b) {
        if x > y {
            return false;
        }
        if x < y {
            strictly = true;
        }
    }
    strictly
}

/// Fronts of indices: front 0 is non-dominated, front 1 is non-dominated
/// once front 0 is removed, and so on. O(M N^2).
pub fn non_dominated_sort(points: &[Vec<f64>]) -> Result<Vec<Vec<usize>>> {
    validate(points, "points")?;
    let n = points.len();
    let mut dominated_by = vec![0usize; n];
    let mut dominates_list: Vec<Vec<usize>> = vec![Vec::new(); n];
    for i in 0..n {
        for j in i + 1..n {
            if dominates(&points[i], &points[j]) {
                dominates_list[i].push(j);
                dominated_by[j] += 1;
            } else if dominates(&points[j], &points[i]) {
                dominates_list[j].push(i);
                dominated_by[i] += 1;
            }
        }
    }
    let mut fronts = Vec::new();
    let mut current: Vec<usize> = (0..n).filter(|&i| dominated_by[i] == 0).collect();
    while !current.is_empty() {
        let mut next = Vec::new();
        for &i in &current {
            for &j in &dominates_list[i] {
                dominated_by[j] -= 1;
                if dominated_by[j] == 0 {
                    next.push(j);
                }
            }
        }
        next.sort_unstable();
        fronts.push(current);
        current = next;
    }
    Ok(fronts)
}

/// Exact hypervolume dominated by `points` and bounded by `reference`
/// (minimisation; points not strictly better than the reference in every
/// objective contribute nothing). 2-D by a sweep, 3-D by slicing, more
/// objectives by WFG.
pub fn hypervolume(points: &[Vec<f64>], reference: &[f64]) -> Result<f64> {
    let m = validate(points, "points")?;
    duality_core::check::finite("reference", reference)?;
    if !points.is_empty() && m != reference.len() {
        return Err(Error::LengthMismatch {
            left_name: "points[0]".into(),
            left: m,
            right_name: "reference".into(),
            right: reference.len(),
        });
    }
    let pts: Vec<Vec<f64>> = points
        .iter()
        .filter(|p| p.iter().zip(reference).all(|(x, r)| x < r))
        .cloned()
        .collect();
    Ok(hv(pts, reference))
}

fn hv(pts: Vec<Vec<f64>>, reference: &[f64]) -> f64 {
    if pts.is_empty() {
        return 0.0;
    }
    match reference.len() {
        1 => reference[0] - pts.iter().map(|p| p[0]).fold(f64::INFINITY, f64::min),
        2 => hv2d(
            pts.iter().map(|p| [p[0], p[1]]).collect(),
            [reference[0], reference[1]],
        ),
        3 => hv3d(pts, reference),
        _ => wfg(nondominated(pts), reference),
    }
}

/// 2-D sweep: sort by the first objective, accumulate the staircase.
fn hv2d(mut pts: Vec<[f64; 2]>, r: [f64; 2]) -> f64 {
    pts.sort_by(|a, b| a[0].total_cmp(&b[0]).then(a[1].total_cmp(&b[1])));
    let mut area = 0.0;
    let mut best_y = r[1];
    for p in pts {
        if p[1] < best_y {
            area += (r[0] - p[0]) * (best_y - p[1]);
            best_y = p[1];
        }
    }
    area
}

/// 3-D: sweep along the third objective; between consecutive z-values the
/// slice is the 2-D hypervolume of the points seen so far (O(n^2 log n)).
fn hv3d(mut pts: Vec<Vec<f64>>, r: &[f64]) -> f64 {
    pts.sort_by(|a, b| a[2].total_cmp(&b[2]));
    let mut vol = 0.0;
    let mut slice: Vec<[f64; 2]> = Vec::with_capacity(pts.len());
    for (i, p) in pts.iter().enumerate() {
        slice.push([p[0], p[1]]);
        let next_z = pts.get(i + 1).map_or(r[2], |q| q[2]);
        if next_z > p[2] {
            vol += hv2d(slice.clone(), [r[0], r[1]]) * (next_z - p[2]);
        }
    }
    vol
}

fn nondominated(pts: Vec<Vec<f64>>) -> Vec<Vec<f64>> {
    let mut keep: Vec<Vec<f64>> = Vec::with_capacity(pts.len());
    for (i, p) in pts.iter().enumerate() {
        let dominated = pts
            .iter()
            .enumerate()
            .any(|(j, q)| j != i && (dominates(q, p) || (q == p && j < i)));
        if !dominated {
            keep.push(p.clone());
        }
    }
    keep
}

/// WFG: HV(S) = sum_k exclusive(s_k, {s_{k+1}, ...}), where the exclusive
/// volume of `p` is its box minus the hypervolume of the other points
/// "limited" to p (componentwise max), computed recursively.
fn wfg(mut pts: Vec<Vec<f64>>, r: &[f64]) -> f64 {
    // Sorting by the last objective makes limited sets small (WFG paper, 4.1).
    pts.sort_by(|a, b| b[r.len() - 1].total_cmp(&a[r.len() - 1]));
    let mut total = 0.0;
    for k in 0..pts.len() {
        total += exclusive(&pts[k], &pts[k + 1..], r);
    }
    total
}

fn exclusive(p: &[f64], rest: &[Vec<f64>], r: &[f64]) -> f64 {
    let boxv: f64 = p.iter().zip(r).map(|(x, y)| y - x).product();
    if rest.is_empty() {
        return boxv;
    }
    let limited: Vec<Vec<f64>> = rest
        .iter()
        .map(|q| {
            q.iter()
                .zip(p)
                .map(|(a, b)| a.max(*b))
                .collect::<Vec<f64>>()
        })
        .filter(|q: &Vec<f64>| q.iter().zip(r).all(|(x, y)| x < y))
        .collect();
    boxv - hv(nondominated(limited), r)
}

/// Unary R2 indicator (weighted Tchebycheff utility, lower is better):
/// `R2(A) = 1/|W| sum_w min_{a in A} max_j w_j |z*_j - a_j|` with ideal point `z*`.
pub fn r2_indicator(points: &[Vec<f64>], weights: &[Vec<f64>], ideal: &[f64]) -> Result<f64> {
    let m = validate(points, "points")?;
    duality_core::check::non_empty("points", points)?;
    duality_core::check::non_empty("weights", weights)?;
    validate(weights, "weights")?;
    duality_core::check::same_len("points[0]", m, "ideal", ideal.len())?;
    duality_core::check::finite("ideal", ideal)?;
    let mut total = 0.0;
    for (wi, w) in weights.iter().enumerate() {
        duality_core::check::same_len(&format!("weights[{wi}]"), w.len(), "ideal", m)?;
        if let Some(j) = w.iter().position(|&x| x < 0.0) {
            return Err(Error::invalid(
                format!("weights[{wi}][{j}]"),
                w[j],
                "a weight >= 0",
            ));
        }
        let best = points
            .iter()
            .map(|a| {
                a.iter()
                    .zip(ideal)
                    .zip(w)
                    .map(|((x, z), wj)| wj * (z - x).abs())
                    .fold(0.0, f64::max)
            })
            .fold(f64::INFINITY, f64::min);
        total += best;
    }
    Ok(total / weights.len() as f64)
}

/// `count` evenly spaced weight vectors on the 2-D simplex (for R2).
pub fn uniform_weights_2d(count: usize) -> Result<Vec<Vec<f64>>> {
    duality_core::check::at_least("count", count, 2)?;
    Ok((0..count)
        .map(|i| {
            let a = i as f64 / (count - 1) as f64;
            vec![a, 1.0 - a]
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// Brute force: union volume on the grid spanned by all coordinates.
    fn grid_volume(points: &[Vec<f64>], r: &[f64]) -> f64 {
        let m = r.len();
        let axes: Vec<Vec<f64>> = (0..m)
            .map(|j| {
                let mut v: Vec<f64> = points.iter().map(|p| p[j]).filter(|&x| x < r[j]).collect();
                v.push(r[j]);
                v.sort_by(f64::total_cmp);
                v.dedup();
                v
            })
            .collect();
        let mut idx = vec![0usize; m];
        let mut vol = 0.0;
        loop {
            if idx.iter().enumerate().all(|(j, &i)| i + 1 < axes[j].len()) {
                let lo: Vec<f64> = (0..m).map(|j| axes[j][idx[j]]).collect();
                if points
                    .iter()
                    .any(|p| p.iter().zip(&lo).all(|(a, b)| a <= b))
                {
                    vol += (0..m)
                        .map(|j| axes[j][idx[j] + 1] - axes[j][idx[j]])
                        .product::<f64>();
                }
            }
            let mut j = 0;
            loop {
                if j == m {
                    return vol;
                }
                idx[j] += 1;
                if idx[j] < axes[j].len() {
                    break;
                }
                idx[j] = 0;
                j += 1;
            }
        }
    }

    proptest! {
        #[test]
        fn hypervolume_equals_grid_brute_force(m in 2usize..5, n in 1usize..7, seed in 0u64..500) {
            use rand::{Rng, SeedableRng};
            let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(seed);
            let pts: Vec<Vec<f64>> = (0..n).map(|_| (0..m).map(|_| rng.random_range(0..10) as f64 / 10.0).collect()).collect();
            let r = vec![1.0; m];
            let hv = hypervolume(&pts, &r).unwrap();
            prop_assert!((hv - grid_volume(&pts, &r)).abs() < 1e-9, "hv {} grid {}", hv, grid_volume(&pts, &r));
        }

        #[test]
        fn fronts_partition_and_are_non_dominated(n in 1usize..30, seed in 0u64..500) {
            use rand::{Rng, SeedableRng};
            let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(seed);
            let pts: Vec<Vec<f64>> = (0..n).map(|_| vec![rng.random_range(0..5) as f64, rng.random_range(0..5) as f64]).collect();
            let fronts = non_dominated_sort(&pts).unwrap();
            let mut all: Vec<usize> = fronts.concat();
            all.sort_unstable();
            prop_assert_eq!(all, (0..n).collect::<Vec<_>>());
            for (k, f) in fronts.iter().enumerate() {
                for &i in f {
                    for &j in f {
                        prop_assert!(!dominates(&pts[i], &pts[j]));
                    }
                    if k > 0 {
                        prop_assert!(fronts[k - 1].iter().any(|&j| dominates(&pts[j], &pts[i])));
                    }
                }
            }
        }
    }

    #[test]
    fn r2_and_errors() {
        let pts = vec![vec![0.0, 1.0], vec![1.0, 0.0]];
        let w = uniform_weights_2d(3).unwrap();
        let r2 = r2_indicator(&pts, &w, &[0.0, 0.0]).unwrap();
        // w=(0,1): min(1,0)=0; w=(.5,.5): 0.5; w=(1,0): 0 -> mean 1/6.
        assert!((r2 - 0.5 / 3.0).abs() < 1e-12);
        assert!(hypervolume(&[vec![0.0, f64::NAN]], &[1.0, 1.0]).is_err());
        assert!(hypervolume(&[vec![0.0, 0.0]], &[1.0, 1.0, 1.0]).is_err());
        assert!(hypervolume(&[vec![0.0, 0.0], vec![0.0]], &[1.0, 1.0]).is_err());
    }
}
