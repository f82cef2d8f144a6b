//! Seeded generators of the four classic learned-branching families of
//! Gasse et al. (2019), *Exact combinatorial optimization with graph
//! convolutional neural networks* (NeurIPS), Sec. 5.1, as in their code
//! (`ds4dm/learn2branch`, `01_generate_instances.py`) and its C++ port in
//! Ecole (`ds4dm/ecole`, `libecole/src/instance/`), which we followed line
//! by line; the random streams are ours (ChaCha8 from a seed), so instances
//! differ from theirs but come from the same distributions.
//!
//! - [`set_cover`]: Balas & Ho (1980) set covering;
//! - [`combinatorial_auction`]: Leyton-Brown et al. (2000) "arbitrary"
//!   relationships;
//! - [`capacitated_facility_location`]: Cornuéjols et al. (1991);
//! - [`independent_set`]: maximum independent set on Barabási-Albert graphs
//!   with the clique-partition formulation (Bergman et al. 2016).

use std::collections::{BTreeMap, BTreeSet};

use duality_core::{limits, Error, Result};
use rand::seq::index::sample;
use rand::Rng;

use super::problem::{Milp, MAX_DIM};

fn check_size(what: &str, v: usize, min: usize, max: usize) -> Result<()> {
    if v < min || v > max {
        return Err(Error::invalid(what, v, format!("between {min} and {max}")));
    }
    Ok(())
}

/// Set cover: `min c^T x` s.t. every row is covered, `x` binary; `density`
/// of the `rows x cols` incidence matrix is nonzero, every column covers at
/// least 2 rows and every row is covered; costs uniform on `1..=max_coef`
/// (learn2branch; Ecole draws `0..max_coef`). Gasse et al.: 500 rows, 1,000
/// columns, density 0.05.
///
/// # Errors
/// Sizes out of range, a density outside `(0, 1]` or too small to give
/// every column 2 rows, or `max_coef < 1`.
pub fn set_cover(
    rows: usize,
    cols: usize,
    density: f64,
    max_coef: u32,
    rng: &mut impl Rng,
) -> Result<Milp> {
    check_size("set cover rows", rows, 3, MAX_DIM)?;
    check_size("set cover columns", cols, 1, MAX_DIM)?;
    if !(density > 0.0 && density <= 1.0) {
        return Err(Error::invalid("set cover density", density, "in (0, 1]"));
    }
    if max_coef < 1 {
        return Err(Error::invalid("set cover max_coef", max_coef, ">= 1"));
    }
    let cells = limits::product(&[("rows", rows), ("columns", cols)])?;
    let nnz = (cells as f64 * density) as usize;
    if nnz < 2 * cols.max(rows) || nnz > cols * (rows - 2) + 2 * cols {
        return Err(Error::invalid(
            "set cover density",
            density,
            format!(
                "one giving between {} and {} nonzeros ({rows} x {cols} matrix)",
                2 * cols.max(rows),
                cols * (rows - 2) + 2 * cols
            ),
        ));
    }
    limits::elements::<usize>("set cover nonzeros", nnz)?;
    // Column index of every nonzero: 2 per column, the rest at random.
    let mut col_of = Vec::with_capacity(nnz);
    col_of.extend((0..2 * cols).map(|k| k % cols));
    col_of.extend(
        sample(rng, cols * (rows - 2), nnz - 2 * cols)
            .into_iter()
            .map(|k| k % cols),
    );
    let mut count = vec![0usize; cols];
    for &c in &col_of {
        count[c] += 1;
    }
    // Row indices in column order: a permutation first (every row covered).
    let mut row_idx = vec![0usize; nnz];
    let perm = sample(rng, rows, rows).into_vec();
    row_idx[..rows].copy_from_slice(&perm);
    let mut i = 0;
    let mut columns: Vec<Vec<usize>> = Vec::with_capacity(cols);
    for &n in &count {
        if i + n <= rows {
        } else if i >= rows {
            let s = sample(rng, rows, n).into_vec();
            row_idx[i..i + n].copy_from_slice(&s);
        } else {
            let taken: BTreeSet<usize> = row_idx[i..rows].iter().copied().collect();
            let remaining: Vec<usize> = (0..rows).filter(|r| !taken.contains(r)).collect();
            let pick = sample(rng, remaining.len(), i + n - rows);
            for (k, idx) in pick.into_iter().enumerate() {
                row_idx[rows + k] = remaining[idx];
            }
        }
        columns.push(row_idx[i..i + n].to_vec());
        i += n;
    }
    let mut p = Milp::new(format!("setcover-{rows}-{cols}"), false);
    for j in 0..cols {
        let c = f64::from(rng.random_range(1..=max_coef));
        p.add_var(format!("x{j}"), c, 0.0, 1.0, true)?;
    }
    let mut by_row: Vec<Vec<(usize, f64)>> = vec![Vec::new(); rows];
    for (j, col) in columns.iter().enumerate() {
        for &r in col {
            by_row[r].push((j, 1.0));
        }
    }
    for (r, coefs) in by_row.into_iter().enumerate() {
        p.add_row(format!("c{r}"), coefs, 1.0, f64::INFINITY)?;
    }
    Ok(p)
}

/// Parameters of [`combinatorial_auction`] (Ecole's defaults, those of
/// Gasse et al.: 100 items, 500 bids).
#[derive(Debug, Clone, PartialEq)]
pub struct AuctionParams {
    /// Items.
    pub items: usize,
    /// Bids.
    pub bids: usize,
    /// Smallest common item value.
    pub min_value: f64,
    /// Largest common item value.
    pub max_value: f64,
    /// Deviation of private values (fraction of `max_value`).
    pub value_deviation: f64,
    /// Probability of adding another item to a bundle.
    pub add_item_prob: f64,
    /// Most substitute bids per bidder.
    pub max_sub_bids: usize,
    /// Bundle price additivity.
    pub additivity: f64,
    /// Budget of substitute bids (times the main bid's price).
    pub budget_factor: f64,
    /// Smallest resale value of substitutes (times the main bundle's value).
    pub resale_factor: f64,
}

impl AuctionParams {
    /// Defaults with `items` items and `bids` bids.
    pub fn new(items: usize, bids: usize) -> Self {
        AuctionParams {
            items,
            bids,
            min_value: 1.0,
            max_value: 100.0,
            value_deviation: 0.5,
            add_item_prob: 0.9,
            max_sub_bids: 5,
            additivity: 0.2,
            budget_factor: 1.5,
            resale_factor: 0.5,
        }
    }
}

/// Index drawn with probability proportional to `weights` (inverse CDF).
fn weighted_choice(weights: &[f64], rng: &mut impl Rng) -> usize {
    let total: f64 = weights.iter().sum();
    let u = rng.random::<f64>() * total;
    let mut acc = 0.0;
    for (k, w) in weights.iter().enumerate() {
        acc += w;
        if u < acc {
            return k;
        }
    }
    weights.iter().rposition(|&w| w > 0.0).unwrap_or(0)
}

/// Combinatorial auction winner determination (Leyton-Brown, Pearson &
/// Shoham 2000, "arbitrary" relationships): `max sum price_b x_b` s.t. each
/// item (and each bidder's dummy item tying its substitute bids) is sold at
/// most once, `x` binary.
///
/// # Errors
/// Sizes out of range or parameters outside their domains.
pub fn combinatorial_auction(ap: &AuctionParams, rng: &mut impl Rng) -> Result<Milp> {
    check_size("auction items", ap.items, 2, 10_000)?;
    check_size("auction bids", ap.bids, 1, MAX_DIM)?;
    if !(ap.min_value <= ap.max_value && ap.min_value.is_finite() && ap.max_value.is_finite()) {
        return Err(Error::invalid(
            "auction min_value, max_value",
            format!("{}, {}", ap.min_value, ap.max_value),
            "finite with min_value <= max_value",
        ));
    }
    if !(0.0..=1.0).contains(&ap.add_item_prob) {
        return Err(Error::invalid(
            "auction add_item_prob",
            ap.add_item_prob,
            "in [0, 1]",
        ));
    }
    let n = ap.items;
    limits::elements::<f64>(
        "auction items x items",
        limits::product(&[("items", n), ("items", n)])?,
    )?;
    let values: Vec<f64> = (0..n)
        .map(|_| ap.min_value + (ap.max_value - ap.min_value) * rng.random::<f64>())
        .collect();
    let mut compats = vec![0.0; n * n];
    for i in 0..n {
        for j in 0..n {
            let u: f64 = rng.random();
            if j > i {
                compats[i * n + j] = u;
            }
        }
    }
    for i in 0..n {
        for j in 0..i {
            compats[i * n + j] = compats[j * n + i];
        }
    }
    let sums: Vec<f64> = (0..n)
        .map(|i| compats[i * n..(i + 1) * n].iter().sum())
        .collect();
    for i in 0..n {
        for j in 0..n {
            compats[i * n + j] /= sums[j];
        }
    }
    let price_of = |bundle: &[usize], pv: &[f64]| -> f64 {
        bundle.iter().map(|&i| pv[i]).sum::<f64>() + (bundle.len() as f64).powf(1.0 + ap.additivity)
    };
    let mut bids: Vec<(Vec<usize>, f64)> = Vec::with_capacity(ap.bids);
    let mut dummies = 0usize;
    let mut attempts = 0usize;
    while bids.len() < ap.bids {
        attempts += 1;
        if attempts > 1000 * ap.bids {
            return Err(Error::invalid(
                "auction parameters",
                format!("{ap:?}"),
                "parameters that give positively priced bundles",
            ));
        }
        let interests: Vec<f64> = (0..n).map(|_| rng.random::<f64>()).collect();
        let pv: Vec<f64> = (0..n)
            .map(|i| values[i] + ap.max_value * ap.value_deviation * (2.0 * interests[i] - 1.0))
            .collect();
        let mut mask = vec![false; n];
        mask[weighted_choice(&interests, rng)] = true;
        loop {
            if rng.random::<f64>() >= ap.add_item_prob || mask.iter().all(|&b| b) {
                break;
            }
            let k = next_item(&mask, &interests, &compats, rng);
            mask[k] = true;
        }
        let bundle: Vec<usize> = (0..n).filter(|&i| mask[i]).collect();
        let price = price_of(&bundle, &pv);
        if price < 0.0 {
            continue;
        }
        let mut bidder: BTreeMap<Vec<usize>, f64> = BTreeMap::new();
        bidder.insert(bundle.clone(), price);
        let mut subs: Vec<(Vec<usize>, f64)> = Vec::new();
        for &item in &bundle {
            let mut m = vec![false; n];
            m[item] = true;
            while m.iter().filter(|&&b| b).count() < bundle.len() {
                let k = next_item(&m, &interests, &compats, rng);
                m[k] = true;
            }
            let sb: Vec<usize> = (0..n).filter(|&i| m[i]).collect();
            let sp = price_of(&sb, &pv);
            subs.push((sb, sp));
        }
        let budget = ap.budget_factor * price;
        let min_resale = ap.resale_factor * bundle.iter().map(|&i| values[i]).sum::<f64>();
        subs.sort_by(|a, b| b.1.total_cmp(&a.1));
        for (sb, sp) in subs {
            if bidder.len() > ap.max_sub_bids || bids.len() + bidder.len() >= ap.bids {
                break;
            }
            if sp < 0.0
                || sp > budget
                || sb.iter().map(|&i| values[i]).sum::<f64>() < min_resale
                || bidder.contains_key(&sb)
            {
                continue;
            }
            bidder.insert(sb, sp);
        }
        let dummy = (bidder.len() > 2).then(|| {
            dummies += 1;
            n + dummies - 1
        });
        for (mut b, pr) in bidder {
            if let Some(d) = dummy {
                b.push(d);
            }
            bids.push((b, pr));
        }
    }
    let mut p = Milp::new(format!("auction-{}-{}", ap.items, ap.bids), true);
    let mut per_item: Vec<Vec<(usize, f64)>> = vec![Vec::new(); n + dummies];
    for (k, (b, pr)) in bids.iter().enumerate() {
        p.add_var(format!("x{k}"), *pr, 0.0, 1.0, true)?;
        for &i in b {
            per_item[i].push((k, 1.0));
        }
    }
    for (i, coefs) in per_item.into_iter().enumerate() {
        if !coefs.is_empty() {
            p.add_row(format!("c{i}"), coefs, f64::NEG_INFINITY, 1.0)?;
        }
    }
    Ok(p)
}

/// The next bundle item: probability proportional to the bidder's interest
/// times the summed compatibility with the items already in (Ecole's
/// `choose_next_item`).
fn next_item(mask: &[bool], interests: &[f64], compats: &[f64], rng: &mut impl Rng) -> usize {
    let n = mask.len();
    let probs: Vec<f64> = (0..n)
        .map(|j| {
            if mask[j] {
                0.0
            } else {
                let s: f64 = (0..n)
                    .filter(|&i| mask[i])
                    .map(|i| compats[i * n + j])
                    .sum();
                interests[j] * s
            }
        })
        .collect();
    weighted_choice(&probs, rng)
}

/// Capacitated facility location (Cornuéjols, Sridharan & Thizy 1991, as
/// generated by Gasse et al.): `min sum f_j y_j + sum c_ij x_ij` s.t. every
/// customer is served (`sum_j x_ij >= 1`), capacities
/// (`sum_i d_i x_ij <= s_j y_j`), total capacity (`sum_j s_j y_j >= sum_i
/// d_i`) and `x_ij <= y_j`; `y` binary, `x` in `[0, 1]`; capacities scaled
/// so they total `ratio` times the demand. Gasse et al.: 100 customers,
/// 100 facilities, ratio 5.
///
/// # Errors
/// Sizes out of range or a non-positive ratio.
pub fn capacitated_facility_location(
    customers: usize,
    facilities: usize,
    ratio: f64,
    rng: &mut impl Rng,
) -> Result<Milp> {
    check_size("customers", customers, 1, 10_000)?;
    check_size("facilities", facilities, 1, 10_000)?;
    if !(ratio > 0.0 && ratio.is_finite()) {
        return Err(Error::invalid(
            "capacity ratio",
            ratio,
            "a finite number > 0",
        ));
    }
    let pairs = limits::product(&[("customers", customers), ("facilities", facilities)])?;
    if pairs > MAX_DIM {
        return Err(Error::invalid(
            "customers x facilities",
            pairs,
            format!("at most {MAX_DIM}"),
        ));
    }
    let cx: Vec<f64> = (0..customers).map(|_| rng.random()).collect();
    let cy: Vec<f64> = (0..customers).map(|_| rng.random()).collect();
    let fx: Vec<f64> = (0..facilities).map(|_| rng.random()).collect();
    let fy: Vec<f64> = (0..facilities).map(|_| rng.random()).collect();
    let demands: Vec<f64> = (0..customers)
        .map(|_| f64::from(rng.random_range(5..=35u32)))
        .collect();
    let caps: Vec<f64> = (0..facilities)
        .map(|_| f64::from(rng.random_range(10..=160u32)))
        .collect();
    let fixed: Vec<f64> = caps
        .iter()
        .map(|c| {
            let a = f64::from(rng.random_range(100..=110u32));
            let b = f64::from(rng.random_range(0..=90u32));
            (a * c.sqrt() + b).trunc()
        })
        .collect();
    let total_demand: f64 = demands.iter().sum();
    let total_cap: f64 = caps.iter().sum();
    let caps: Vec<f64> = caps
        .iter()
        .map(|c| (c * ratio * total_demand / total_cap).trunc())
        .collect();
    let mut p = Milp::new(format!("cfl-{customers}-{facilities}"), false);
    for (j, f) in fixed.iter().enumerate() {
        p.add_var(format!("y{j}"), *f, 0.0, 1.0, true)?;
    }
    for i in 0..customers {
        for j in 0..facilities {
            let dist = ((cx[i] - fx[j]).powi(2) + (cy[i] - fy[j]).powi(2)).sqrt();
            p.add_var(
                format!("x{i}_{j}"),
                dist * 10.0 * demands[i],
                0.0,
                1.0,
                false,
            )?;
        }
    }
    let x = |i: usize, j: usize| facilities + i * facilities + j;
    for i in 0..customers {
        p.add_row(
            format!("demand{i}"),
            (0..facilities).map(|j| (x(i, j), 1.0)).collect(),
            1.0,
            f64::INFINITY,
        )?;
    }
    for j in 0..facilities {
        let mut coefs: Vec<(usize, f64)> = vec![(j, -caps[j])];
        coefs.extend((0..customers).map(|i| (x(i, j), demands[i])));
        p.add_row(format!("capacity{j}"), coefs, f64::NEG_INFINITY, 0.0)?;
    }
    p.add_row(
        "total_capacity",
        (0..facilities).map(|j| (j, caps[j])).collect(),
        total_demand,
        f64::INFINITY,
    )?;
    for i in 0..customers {
        for j in 0..facilities {
            p.add_row(
                format!("tight{i}_{j}"),
                vec![(x(i, j), 1.0), (j, -1.0)],
                f64::NEG_INFINITY,
                0.0,
            )?;
        }
    }
    Ok(p)
}

/// Maximum independent set on a Barabási-Albert graph (`affinity` edges per
/// new node, targets drawn without replacement with probability
/// proportional to degree), with Gasse et al.'s formulation: a greedy
/// clique partition (centres by decreasing degree, neighbours added by
/// decreasing degree while they keep the clique) gives one `sum <= 1` row
/// per clique of 2 or more nodes, and every edge outside the cliques its
/// own row; `max sum x`, `x` binary. Gasse et al.: 500 nodes, affinity 4.
///
/// # Errors
/// Sizes out of range or `affinity` not in `1..nodes`.
pub fn independent_set(nodes: usize, affinity: usize, rng: &mut impl Rng) -> Result<Milp> {
    check_size("independent set nodes", nodes, 2, MAX_DIM)?;
    if affinity < 1 || affinity >= nodes {
        return Err(Error::invalid(
            "affinity",
            affinity,
            format!("between 1 and nodes - 1 = {}", nodes - 1),
        ));
    }
    let mut adj: Vec<BTreeSet<usize>> = vec![BTreeSet::new(); nodes];
    let mut edges: BTreeSet<(usize, usize)> = BTreeSet::new();
    for v in affinity..nodes {
        let targets: Vec<usize> = if v == affinity {
            (0..v).collect()
        } else {
            // Sequential weighted draws without replacement (numpy's choice).
            let mut w: Vec<f64> = (0..v).map(|u| adj[u].len() as f64).collect();
            let mut t = Vec::with_capacity(affinity);
            for _ in 0..affinity {
                let k = weighted_choice(&w, rng);
                w[k] = 0.0;
                t.push(k);
            }
            t
        };
        for u in targets {
            adj[u].insert(v);
            adj[v].insert(u);
            edges.insert((u, v));
        }
    }
    let degree = |u: usize| adj[u].len();
    let mut leftover: Vec<usize> = (0..nodes).collect();
    leftover.sort_by_key(|&u| std::cmp::Reverse(degree(u)));
    let mut cliques: Vec<Vec<usize>> = Vec::new();
    while !leftover.is_empty() {
        let center = leftover.remove(0);
        let left: BTreeSet<usize> = leftover.iter().copied().collect();
        let mut nbrs: Vec<usize> = adj[center]
            .iter()
            .copied()
            .filter(|u| left.contains(u))
            .collect();
        nbrs.sort_by_key(|&u| std::cmp::Reverse(degree(u)));
        let mut clique = vec![center];
        for u in nbrs {
            if clique.iter().all(|&c| adj[u].contains(&c)) {
                clique.push(u);
            }
        }
        let members: BTreeSet<usize> = clique.iter().copied().collect();
        leftover.retain(|u| !members.contains(u));
        cliques.push(clique);
    }
    let mut p = Milp::new(format!("indset-{nodes}-{affinity}"), true);
    for v in 0..nodes {
        p.add_var(format!("x{v}"), 1.0, 0.0, 1.0, true)?;
    }
    let mut in_clique = vec![usize::MAX; nodes];
    let mut k = 0;
    for (c, clique) in cliques.iter().enumerate() {
        if clique.len() > 1 {
            for &u in clique {
                in_clique[u] = c;
            }
            let mut coefs: Vec<(usize, f64)> = clique.iter().map(|&u| (u, 1.0)).collect();
            coefs.sort_by_key(|e| e.0);
            p.add_row(format!("clique{k}"), coefs, f64::NEG_INFINITY, 1.0)?;
            k += 1;
        }
    }
    for &(u, v) in &edges {
        if in_clique[u] == usize::MAX || in_clique[u] != in_clique[v] {
            p.add_row(
                format!("edge{u}_{v}"),
                vec![(u, 1.0), (v, 1.0)],
                f64::NEG_INFINITY,
                1.0,
            )?;
        }
    }
    Ok(p)
}

/// The four family names accepted by [`generate`].
pub const FAMILIES: [&str; 4] = ["setcover", "auction", "facility", "indset"];

/// Generates family `name` (see [`FAMILIES`]) at size `scale`:
/// `setcover` has `scale` rows and `2 scale` columns (density 0.05, at
/// least enough for 2 rows per column), `auction` `scale` items and
/// `5 scale` bids, `facility` `scale` customers and `scale / 2`
/// facilities (ratio 5), `indset` `scale` nodes (affinity 4).
///
/// # Errors
/// An unknown family or a size its generator refuses.
pub fn generate(name: &str, scale: usize, rng: &mut impl Rng) -> Result<Milp> {
    match name {
        "setcover" => {
            let density = (0.05f64).max(2.0 / scale.max(1) as f64 + 1e-9);
            set_cover(scale, 2 * scale, density, 100, rng)
        }
        "auction" => combinatorial_auction(&AuctionParams::new(scale, 5 * scale), rng),
        "facility" => capacitated_facility_location(scale, (scale / 2).max(1), 5.0, rng),
        "indset" => independent_set(scale, 4.min(scale.saturating_sub(1)).max(1), rng),
        other => Err(Error::invalid(
            "instance family",
            other,
            format!("one of {}", FAMILIES.join(", ")),
        )),
    }
}
