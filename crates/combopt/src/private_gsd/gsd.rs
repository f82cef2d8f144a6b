//! The Private-GSD genetic algorithm (Liu, Vietri & Wu, ICML 2023,
//! "Generating Private Synthetic Data with Genetic Algorithms", Algorithm 1)
//! and the independent-marginals baseline.
//!
//! Followed source: the authors' repository `giusevtr/private_gsd`,
//! `models/gsd.py` (`SimpleGAforSyncData` + `GSD.fit`). A candidate is a
//! synthetic dataset of `synthetic_rows` rows. Each generation:
//!
//! - **mutation** (`mutations` candidates): the best dataset with one cell
//!   (a uniform row, a uniform column) set to a value drawn uniformly from
//!   that column's domain (`get_mutate_fn`, `muta_rate = 1`);
//! - **crossover** (`crossovers` candidates): the best dataset with one
//!   uniform row changed in one uniform column to the value that column has
//!   in a uniform row of a uniform member of the elite archive
//!   (`get_mating_fn`, `mate_rate = 1`; discrete columns, so no Gaussian
//!   jitter);
//! - fitness `||noisy - answers(D)||_2^2`, updated incrementally from the
//!   removed and added row (`fitness_fn`), so a candidate costs
//!   `O(C(d, k))`, not a pass over the data;
//! - the elite archive keeps the `elite` fittest of archive and candidates
//!   (`tell_strategy`), and the best is replaced when a candidate beats it;
//! - it stops after `generations`, or when the best has not improved for
//!   `patience` generations (the authors' early stop).
//!
//! The archive starts as `elite` uniform random datasets (as
//! `initialize_elite_population`).

use duality_core::{Error, Result};
use rand::Rng;

use super::data::{Dataset, Domain};
use super::marginals::Workload;

/// Parameters of the genetic algorithm (defaults: the authors' defaults,
/// except the number of synthetic rows, which they set per experiment).
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct GsdParams {
    /// Rows of the synthetic dataset.
    pub synthetic_rows: usize,
    /// Largest number of generations.
    pub generations: usize,
    /// Mutation candidates per generation (`population_size_muta`, 50).
    pub mutations: usize,
    /// Crossover candidates per generation (`population_size_cross`, 50).
    pub crossovers: usize,
    /// Size of the elite archive (`elite_size`, 5).
    pub elite: usize,
    /// Stop when the best has not improved for this many generations
    /// (0: never stop early).
    pub patience: usize,
}

impl Default for GsdParams {
    fn default() -> Self {
        Self {
            synthetic_rows: 500,
            generations: 20_000,
            mutations: 50,
            crossovers: 50,
            elite: 5,
            patience: 2_000,
        }
    }
}

impl GsdParams {
    /// Checks ranges (sizes before allocating).
    pub fn validate(&self) -> Result<()> {
        if self.synthetic_rows == 0 {
            return Err(Error::invalid("synthetic_rows", 0, "at least 1 row"));
        }
        if self.mutations + self.crossovers == 0 {
            return Err(Error::invalid(
                "mutations + crossovers",
                0,
                "at least 1 candidate per generation",
            ));
        }
        if self.elite == 0 {
            return Err(Error::invalid(
                "elite",
                0,
                "an archive of at least 1 dataset",
            ));
        }
        if self.generations == 0 {
            return Err(Error::invalid("generations", 0, "at least 1 generation"));
        }
        Ok(())
    }
}

/// Result of [`fit`].
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct GsdRun {
    /// The best synthetic dataset.
    pub data: Dataset,
    /// Its fitness `||noisy - answers||^2`.
    pub loss: f64,
    /// The fitness of the best initial (random) dataset.
    pub initial_loss: f64,
    /// Generations run.
    pub generations: usize,
}

/// One archive member: a dataset and its fitness.
struct Member {
    data: Dataset,
    loss: f64,
}

/// A candidate: the best dataset with row `row` replaced by `new`.
struct Candidate {
    row: usize,
    new: Vec<u32>,
    loss: f64,
}

fn squared_error(noisy: &[f64], answers: &[f64]) -> f64 {
    noisy
        .iter()
        .zip(answers)
        .map(|(a, b)| (a - b) * (a - b))
        .sum()
}

/// Runs the genetic algorithm: a synthetic dataset whose `workload` answers
/// are close (squared error) to `noisy`.
pub fn fit(
    workload: &Workload,
    noisy: &[f64],
    params: &GsdParams,
    rng: &mut impl Rng,
) -> Result<GsdRun> {
    params.validate()?;
    duality_core::check::same_len(
        "noisy answers",
        noisy.len(),
        "workload queries",
        workload.queries(),
    )?;
    duality_core::check::finite("noisy answers", noisy)?;
    let domain: &Domain = workload.domain();
    let d = domain.len();
    let n = params.synthetic_rows;
    duality_core::limits::product(&[
        ("elite", params.elite + 1),
        ("synthetic rows", n),
        ("attributes", d),
    ])
    .and_then(|c| {
        duality_core::limits::elements::<u32>("elite x synthetic rows x attributes", c)
    })?;
    let inv_n = 1.0 / n as f64;

    let mut archive: Vec<Member> = Vec::with_capacity(params.elite);
    for _ in 0..params.elite {
        let data = Dataset::uniform(domain, n, rng)?;
        let loss = squared_error(noisy, &workload.answers(&data)?);
        archive.push(Member { data, loss });
    }
    archive.sort_by(|a, b| a.loss.total_cmp(&b.loss));
    let mut best = archive[0].data.clone();
    let mut best_loss = archive[0].loss;
    let initial_loss = best_loss;
    // Residual r = answers(best) - noisy, kept exactly in step with `best`.
    let mut resid: Vec<f64> = workload
        .answers(&best)?
        .iter()
        .zip(noisy)
        .map(|(a, b)| a - b)
        .collect();

    let mut old_cells = Vec::with_capacity(workload.marginals());
    let mut new_cells = Vec::with_capacity(workload.marginals());
    let pop = params.mutations + params.crossovers;
    let mut cands: Vec<Candidate> = Vec::with_capacity(pop);
    let mut since_improved = 0usize;
    let mut generation = 0usize;
    while generation < params.generations {
        generation += 1;
        cands.clear();
        for c in 0..pop {
            let row = rng.random_range(0..n);
            let mut new = best.row(row).to_vec();
            let col = rng.random_range(0..d);
            if c < params.mutations {
                new[col] = rng.random_range(0..domain.sizes()[col] as u32);
            } else {
                let j = rng.random_range(0..archive.len());
                let r = rng.random_range(0..n);
                new[col] = archive[j].data.row(r)[col];
            }
            // Incremental fitness: the old row leaves its cells (-1/n), the
            // new row enters its cells (+1/n).
            workload.row_cells(best.row(row), &mut old_cells);
            workload.row_cells(&new, &mut new_cells);
            let mut loss = best_loss;
            for (&o, &q) in old_cells.iter().zip(&new_cells) {
                if o != q {
                    let (ro, rq) = (resid[o], resid[q]);
                    loss += (ro - inv_n) * (ro - inv_n) - ro * ro + (rq + inv_n) * (rq + inv_n)
                        - rq * rq;
                }
            }
            cands.push(Candidate { row, new, loss });
        }
        // Elite archive: the `elite` fittest of archive + candidates.
        let mut order: Vec<usize> = (0..pop).collect();
        order.sort_by(|&a, &b| cands[a].loss.total_cmp(&cands[b].loss).then(a.cmp(&b)));
        for &ci in order.iter().take(params.elite) {
            let worst = archive.len() - 1;
            if cands[ci].loss < archive[worst].loss {
                let mut data = best.clone();
                data.set_row(cands[ci].row, &cands[ci].new);
                archive[worst] = Member {
                    data,
                    loss: cands[ci].loss,
                };
                archive.sort_by(|a, b| a.loss.total_cmp(&b.loss));
            } else {
                break;
            }
        }
        let top = &cands[order[0]];
        if top.loss < best_loss {
            workload.row_cells(best.row(top.row), &mut old_cells);
            workload.row_cells(&top.new, &mut new_cells);
            for (&o, &q) in old_cells.iter().zip(&new_cells) {
                resid[o] -= inv_n;
                resid[q] += inv_n;
            }
            best.set_row(top.row, &top.new);
            best_loss = top.loss;
            since_improved = 0;
        } else {
            since_improved += 1;
            if params.patience > 0 && since_improved >= params.patience {
                break;
            }
        }
    }
    // Recompute the loss exactly (the incremental sum drifts by rounding).
    let loss = squared_error(noisy, &workload.answers(&best)?);
    Ok(GsdRun {
        data: best,
        loss,
        initial_loss,
        generations: generation,
    })
}

/// Euclidean projection of `v` onto the probability simplex (Duchi,
/// Shalev-Shwartz, Singer & Chandra 2008, Figure 1).
pub fn project_simplex(v: &[f64]) -> Result<Vec<f64>> {
    duality_core::check::finite("vector to project", v)?;
    if v.is_empty() {
        return Err(Error::Empty {
            what: "vector to project".into(),
            min: 1,
        });
    }
    let mut u = v.to_vec();
    u.sort_by(|a, b| b.total_cmp(a));
    let mut cum = 0.0;
    let mut theta = 0.0;
    for (j, &x) in u.iter().enumerate() {
        cum += x;
        let t = (cum - 1.0) / (j + 1) as f64;
        if x - t > 0.0 {
            theta = t;
        }
    }
    Ok(v.iter().map(|&x| (x - theta).max(0.0)).collect())
}

/// The independent-marginals baseline: every one-way marginal measured
/// with the Gaussian mechanism under zCDP budget `rho` (`rho / d` each,
/// sensitivity `sqrt(2) / n`), projected onto the simplex; the synthetic
/// distribution is their product. Returns the per-attribute probabilities.
pub fn independent_marginals(
    data: &Dataset,
    rho: f64,
    rng: &mut impl Rng,
) -> Result<Vec<Vec<f64>>> {
    let one = Workload::all_k_way(data.domain(), 1)?;
    let m = one.measure(data, rho, rng)?;
    let sizes = data.domain().sizes();
    let mut out = Vec::with_capacity(sizes.len());
    let mut off = 0;
    for &s in sizes {
        // Unclipped values would be better for the projection, but the
        // clip is part of the released measurement; both are valid.
        out.push(project_simplex(&m.noisy[off..off + s])?);
        off += s;
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use duality_core::seed::Seeder;

    #[test]
    fn simplex_projection() {
        let p = project_simplex(&[0.5, 0.5, 0.5]).unwrap();
        assert!(p.iter().all(|x| (x - 1.0 / 3.0).abs() < 1e-12));
        assert_eq!(project_simplex(&[2.0, 0.0]).unwrap(), vec![1.0, 0.0]);
        let p = project_simplex(&[0.3, -0.2, 0.6]).unwrap();
        assert!((p.iter().sum::<f64>() - 1.0).abs() < 1e-12 && p[1] == 0.0);
        assert!(project_simplex(&[]).is_err());
    }

    #[test]
    fn ga_fits_exact_answers_and_the_incremental_loss_is_exact() {
        let data = Dataset::parse_csv(
            "a:2,b:3,c:2\n0,1,1\n1,2,0\n0,1,0\n1,0,1\n0,0,0\n1,1,1\n0,2,1\n1,2,1\n",
        )
        .unwrap();
        let w = Workload::all_k_way(data.domain(), 2).unwrap();
        let truth = w.answers(&data).unwrap();
        let params = GsdParams {
            synthetic_rows: 8,
            generations: 3_000,
            patience: 0,
            ..GsdParams::default()
        };
        let run = fit(&w, &truth, &params, &mut Seeder::new(1).rng(0)).unwrap();
        assert!(
            run.loss < 1e-12,
            "loss {} (initial {})",
            run.loss,
            run.initial_loss
        );
        // Same seed, same result.
        let again = fit(&w, &truth, &params, &mut Seeder::new(1).rng(0)).unwrap();
        assert_eq!(run, again);
    }

    #[test]
    fn ga_lowers_the_loss_on_the_bundled_data() {
        let data = Dataset::breast_cancer().unwrap();
        let w = Workload::all_k_way(data.domain(), 2).unwrap();
        let truth = w.answers(&data).unwrap();
        let params = GsdParams {
            synthetic_rows: 200,
            generations: 1_500,
            ..GsdParams::default()
        };
        let run = fit(&w, &truth, &params, &mut Seeder::new(2).rng(0)).unwrap();
        assert!(
            run.loss < 0.2 * run.initial_loss,
            "{} vs {}",
            run.loss,
            run.initial_loss
        );
        let exact = squared_error(&truth, &w.answers(&run.data).unwrap());
        assert!((exact - run.loss).abs() < 1e-12);
    }

    #[test]
    fn bad_parameters_are_errors() {
        let data = Dataset::breast_cancer().unwrap();
        let w = Workload::all_k_way(data.domain(), 1).unwrap();
        let truth = w.answers(&data).unwrap();
        let mut rng = Seeder::new(0).rng(0);
        for p in [
            GsdParams {
                synthetic_rows: 0,
                ..GsdParams::default()
            },
            GsdParams {
                elite: 0,
                ..GsdParams::default()
            },
            GsdParams {
                mutations: 0,
                crossovers: 0,
                ..GsdParams::default()
            },
            GsdParams {
                synthetic_rows: usize::MAX,
                ..GsdParams::default()
            },
        ] {
            assert!(fit(&w, &truth, &p, &mut rng).is_err());
        }
        assert!(fit(&w, &truth[1..], &GsdParams::default(), &mut rng).is_err());
    }
}
