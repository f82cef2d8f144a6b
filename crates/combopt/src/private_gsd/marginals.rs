//! k-way marginal queries and their Gaussian-mechanism measurement.
//!
//! A k-way marginal on attributes `(a_1, ..., a_k)` is the vector of the
//! fractions of rows in each cell of `a_1 x ... x a_k`; the workload is all
//! `C(d, k)` of them, one query per cell (Private-GSD, Liu, Vietri & Wu 2023,
//! Section 2: "k-way marginal queries", measured with the Gaussian mechanism
//! as in the authors' `private_measure_all_statistics`).

use duality_core::{limits, Error, Result};
use rand_distr::{Distribution, StandardNormal};

use super::data::{Dataset, Domain};
use super::privacy::gaussian_sigma;

/// The largest workload (number of queries) accepted.
pub const MAX_QUERIES: usize = 1 << 24;

/// All k-way marginals of a domain: attribute sets and their cell offsets.
#[derive(Debug, Clone, PartialEq)]
pub struct Workload {
    domain: Domain,
    k: usize,
    /// Attribute sets, in lexicographic order.
    sets: Vec<Vec<usize>>,
    /// First query index of each set's cells.
    offsets: Vec<usize>,
    queries: usize,
}

impl Workload {
    /// Every k-way marginal of `domain` (`1 <= k <= d`).
    pub fn all_k_way(domain: &Domain, k: usize) -> Result<Self> {
        let d = domain.len();
        if k == 0 || k > d {
            return Err(Error::invalid(
                "k",
                k,
                format!("a marginal order in 1..={d}"),
            ));
        }
        let mut sets = Vec::new();
        let mut current: Vec<usize> = (0..k).collect();
        loop {
            sets.push(current.clone());
            if sets.len() > MAX_QUERIES {
                return Err(Error::invalid(
                    "k",
                    k,
                    format!("at most {MAX_QUERIES} marginals"),
                ));
            }
            // Next combination.
            let mut i = k;
            while i > 0 && current[i - 1] == d - k + i - 1 {
                i -= 1;
            }
            if i == 0 {
                break;
            }
            current[i - 1] += 1;
            for j in i..k {
                current[j] = current[j - 1] + 1;
            }
        }
        let mut offsets = Vec::with_capacity(sets.len());
        let mut queries = 0usize;
        for s in &sets {
            offsets.push(queries);
            let cells = s
                .iter()
                .try_fold(1usize, |acc, &a| acc.checked_mul(domain.sizes()[a]));
            queries = cells
                .and_then(|c| queries.checked_add(c))
                .filter(|&q| q <= MAX_QUERIES)
                .ok_or_else(|| {
                    Error::invalid(
                        "k",
                        k,
                        format!("a workload of at most {MAX_QUERIES} queries"),
                    )
                })?;
        }
        limits::elements::<f64>("k-way marginal queries", queries)?;
        Ok(Self {
            domain: domain.clone(),
            k,
            sets,
            offsets,
            queries,
        })
    }

    /// The marginal order k.
    pub fn k(&self) -> usize {
        self.k
    }

    /// Number of marginals (`C(d, k)`).
    pub fn marginals(&self) -> usize {
        self.sets.len()
    }

    /// Number of queries (cells over all marginals).
    pub fn queries(&self) -> usize {
        self.queries
    }

    /// The attribute sets.
    pub fn sets(&self) -> &[Vec<usize>] {
        &self.sets
    }

    /// The domain.
    pub fn domain(&self) -> &Domain {
        &self.domain
    }

    /// Writes into `out` (cleared) the query index each marginal's cell
    /// takes for `row`: one per marginal.
    pub fn row_cells(&self, row: &[u32], out: &mut Vec<usize>) {
        out.clear();
        let sizes = self.domain.sizes();
        for (s, &off) in self.sets.iter().zip(&self.offsets) {
            let mut idx = 0usize;
            for &a in s {
                idx = idx * sizes[a] + row[a] as usize;
            }
            out.push(off + idx);
        }
    }

    /// Cell counts of `data` (not normalised).
    pub fn counts(&self, data: &Dataset) -> Result<Vec<f64>> {
        self.check_domain(data)?;
        let mut c = vec![0.0; self.queries];
        let mut cells = Vec::with_capacity(self.sets.len());
        for i in 0..data.rows() {
            self.row_cells(data.row(i), &mut cells);
            for &q in &cells {
                c[q] += 1.0;
            }
        }
        Ok(c)
    }

    /// Answers on `data`: fractions of rows per cell.
    pub fn answers(&self, data: &Dataset) -> Result<Vec<f64>> {
        let n = data.rows() as f64;
        Ok(self.counts(data)?.into_iter().map(|c| c / n).collect())
    }

    /// Answers of the product distribution with per-attribute probabilities
    /// `marginals[a]` (the independent-marginals baseline).
    pub fn product_answers(&self, marginals: &[Vec<f64>]) -> Result<Vec<f64>> {
        duality_core::check::same_len(
            "one-way marginals",
            marginals.len(),
            "attributes",
            self.domain.len(),
        )?;
        for (a, m) in marginals.iter().enumerate() {
            duality_core::check::same_len(
                &format!("one-way marginal of {}", self.domain.names()[a]),
                m.len(),
                "its domain size",
                self.domain.sizes()[a],
            )?;
        }
        let mut out = vec![0.0; self.queries];
        let sizes = self.domain.sizes();
        for (s, &off) in self.sets.iter().zip(&self.offsets) {
            let cells: usize = s.iter().map(|&a| sizes[a]).product();
            for (c, slot) in out[off..off + cells].iter_mut().enumerate() {
                // Decode the mixed-radix cell index, last attribute fastest.
                let mut rest = c;
                let mut p = 1.0;
                for &a in s.iter().rev() {
                    p *= marginals[a][rest % sizes[a]];
                    rest /= sizes[a];
                }
                *slot = p;
            }
        }
        Ok(out)
    }

    /// L2 sensitivity of one marginal's normalised answers when one of `n`
    /// rows is replaced (the size `n` is public): one cell loses `1/n`,
    /// another gains it, so `sqrt(2) / n`.
    pub fn marginal_sensitivity(n: usize) -> Result<f64> {
        if n == 0 {
            return Err(Error::invalid("rows", n, "at least 1 row"));
        }
        Ok(std::f64::consts::SQRT_2 / n as f64)
    }

    /// Measures every marginal with the Gaussian mechanism under total
    /// zCDP budget `rho`, split evenly over the marginals (`rho / m` each,
    /// zCDP composition), and clips the answers to `[0, 1]`
    /// (post-processing, as the authors' code).
    pub fn measure(
        &self,
        data: &Dataset,
        rho: f64,
        rng: &mut impl rand::Rng,
    ) -> Result<Measurement> {
        let truth = self.answers(data)?;
        let sigma = gaussian_sigma(
            Self::marginal_sensitivity(data.rows())?,
            rho / self.sets.len() as f64,
        )?;
        let noisy = truth
            .iter()
            .map(|&t| {
                let z: f64 = StandardNormal.sample(rng);
                (t + sigma * z).clamp(0.0, 1.0)
            })
            .collect();
        Ok(Measurement { noisy, sigma, rho })
    }

    fn check_domain(&self, data: &Dataset) -> Result<()> {
        if data.domain() != &self.domain {
            return Err(Error::invalid(
                "dataset domain",
                format!("{:?}", data.domain().names()),
                "the workload's domain",
            ));
        }
        Ok(())
    }
}

/// Noisy answers of a [`Workload`].
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Measurement {
    /// One noisy answer per query, clipped to `[0, 1]`.
    pub noisy: Vec<f64>,
    /// Standard deviation of the noise per query.
    pub sigma: f64,
    /// The zCDP budget spent.
    pub rho: f64,
}

/// `(max, mean)` absolute error of `estimate` against `truth`.
pub fn query_errors(truth: &[f64], estimate: &[f64]) -> Result<(f64, f64)> {
    duality_core::check::same_len(
        "true answers",
        truth.len(),
        "estimated answers",
        estimate.len(),
    )?;
    if truth.is_empty() {
        return Err(Error::Empty {
            what: "answers".into(),
            min: 1,
        });
    }
    let mut max = 0.0_f64;
    let mut sum = 0.0;
    for (t, e) in truth.iter().zip(estimate) {
        let d = (t - e).abs();
        max = max.max(d);
        sum += d;
    }
    Ok((max, sum / truth.len() as f64))
}

#[cfg(test)]
mod tests {
    use super::*;
    use duality_core::seed::Seeder;

    fn small() -> Dataset {
        Dataset::parse_csv("a:2,b:3,c:2\n0,1,1\n1,2,0\n0,1,0\n1,0,1\n").unwrap()
    }

    #[test]
    fn workload_counts_cells_of_every_marginal() {
        let data = small();
        let w = Workload::all_k_way(data.domain(), 2).unwrap();
        assert_eq!(w.marginals(), 3);
        assert_eq!(w.queries(), 6 + 4 + 6);
        let c = w.counts(&data).unwrap();
        // Each marginal's counts sum to the rows.
        assert_eq!(c[0..6].iter().sum::<f64>(), 4.0);
        // (a, b) = (0, 1) twice: cell 0 * 3 + 1.
        assert_eq!(c[1], 2.0);
        let one = Workload::all_k_way(data.domain(), 1).unwrap();
        assert_eq!(
            one.answers(&data).unwrap(),
            vec![0.5, 0.5, 0.25, 0.5, 0.25, 0.5, 0.5]
        );
        assert_eq!(
            Workload::all_k_way(data.domain(), 3).unwrap().marginals(),
            1
        );
        assert!(Workload::all_k_way(data.domain(), 4).is_err());
        assert!(Workload::all_k_way(data.domain(), 0).is_err());
    }

    #[test]
    fn product_answers_of_the_empirical_one_ways() {
        let data = small();
        let w = Workload::all_k_way(data.domain(), 2).unwrap();
        let m = vec![vec![0.5, 0.5], vec![0.25, 0.5, 0.25], vec![0.5, 0.5]];
        let p = w.product_answers(&m).unwrap();
        assert!((p[1] - 0.25).abs() < 1e-15); // P(a=0) P(b=1)
        assert!((p[0..6].iter().sum::<f64>() - 1.0).abs() < 1e-12);
    }

    #[test]
    fn measurement_noise_has_the_budgets_scale() {
        let data = Dataset::breast_cancer().unwrap();
        let w = Workload::all_k_way(data.domain(), 2).unwrap();
        let rho = 0.5;
        let m = w.measure(&data, rho, &mut Seeder::new(3).rng(0)).unwrap();
        let expect = (2.0_f64).sqrt() / 569.0 / (2.0 * rho / 55.0).sqrt();
        assert!((m.sigma - expect).abs() < 1e-15);
        // Unclipped cells (true answer well inside [0, 1]) have the noise sd.
        let truth = w.answers(&data).unwrap();
        let inner: Vec<f64> = truth
            .iter()
            .zip(&m.noisy)
            .filter(|(t, n)| **n > 0.0 && **n < 1.0 && **t > 4.0 * expect)
            .map(|(t, n)| n - t)
            .collect();
        let sd = (inner.iter().map(|x| x * x).sum::<f64>() / inner.len() as f64).sqrt();
        assert!((sd / expect - 1.0).abs() < 0.15, "sd {sd} vs {expect}");
    }
}
