//! Bench experiment `mogfn` (suite `combopt`): Pareto-front quality of
//! the preference-conditional GFlowNet (MOGFN-PC, feature `torch`) against
//! NSGA-II and random search at equal evaluation budgets, on the HyperGrid
//! (Branin/Currin) and the N-grams sequence task.
//!
//! Every method gets the same number of objective evaluations: the
//! GFlowNet's training trajectories plus its final samples (one per
//! Dirichlet preference); NSGA-II's population over its generations; random
//! search's draws. Each method's front is the non-dominated set of every
//! point it evaluated. Per (task, seed): hypervolume (reference 0 on the
//! maximised objectives), R2 (ideal 1, uniform weights), distinct states
//! and distinct non-dominated states. On the HyperGrid, the exact front
//! (enumerated) gives the hypervolume ratio. The claim (MOGFN paper Sec.
//! 6: MOGFNs outperform the baselines in hypervolume) is a paired t CI over
//! seeds of the hypervolume difference per task and baseline.

use duality_bench::{Context, Headline, Outcome};
use duality_core::record::RunRecord;
use serde::Deserialize;

use super::{front_quality, nsga2, random_search, Conditioning, FrontQuality, Nsga2Params, Task};

/// Parameters of `mogfn`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct MogfnParams {
    /// HyperGrid side (2-D) and objectives.
    grid_side: usize,
    grid_objectives: Vec<String>,
    /// N-grams task: alphabet size, longest string, motifs.
    ngram_alphabet: usize,
    ngram_len: usize,
    ngram_motifs: Vec<String>,
    /// GFlowNet training: steps, trajectories per step, hidden width, Adam
    /// rates, reward exponent, Dirichlet concentration, exploration.
    iterations: usize,
    batch: usize,
    hidden: usize,
    lr: f64,
    lr_logz: f64,
    beta: f64,
    reward_floor: f64,
    alpha: f64,
    explore: f64,
    /// Samples drawn from the trained model (one per preference).
    final_samples: usize,
    /// NSGA-II population and crossover probability.
    population: usize,
    crossover: f64,
    /// The 3-objective HyperGrid (Branin, Currin, Shubert): its side, and
    /// the GFlowNet variants run on it (`weighted-sum`, `tchebycheff`,
    /// `goal`), each against the same NSGA-II and random search.
    #[serde(default = "default_grid3_side")]
    grid3_side: usize,
    #[serde(default = "default_grid3_objectives")]
    grid3_objectives: Vec<String>,
    #[serde(default = "default_variants")]
    variants: Vec<String>,
    /// MOGFN-GC focus cone: cosine threshold and the coefficient on its
    /// boundary (the authors' `focus_cosim`, `focus_limit_coef`).
    #[serde(default = "default_focus_cosim")]
    focus_cosim: f64,
    #[serde(default = "default_focus_limit_coef")]
    focus_limit_coef: f64,
    /// `--compare`: points per hypervolume set in 2, 3, 4 and 5 objectives
    /// (timed against moocore) and alternating repetitions.
    #[serde(default = "default_hv_points")]
    hv_points: Vec<usize>,
    #[serde(default = "default_compare_reps")]
    compare_reps: usize,
    /// Optional explicit seed count (the command line's --seeds wins).
    #[serde(default)]
    #[allow(dead_code)]
    seeds: Option<u64>,
}

fn default_grid3_side() -> usize {
    32
}

fn default_grid3_objectives() -> Vec<String> {
    vec!["branin".into(), "currin".into(), "shubert".into()]
}

fn default_variants() -> Vec<String> {
    vec!["weighted-sum".into(), "tchebycheff".into(), "goal".into()]
}

fn default_focus_cosim() -> f64 {
    0.98
}

fn default_focus_limit_coef() -> f64 {
    0.1
}

/// The GFlowNet variant named `name` (record method `mogfn-ws`,
/// `mogfn-tch`, `mogfn-gc`).
fn variant(p: &MogfnParams, name: &str) -> anyhow::Result<(String, Conditioning)> {
    let c = match name {
        "weighted-sum" => ("mogfn-ws", Conditioning::WeightedSum),
        "tchebycheff" => ("mogfn-tch", Conditioning::Tchebycheff),
        "goal" => (
            "mogfn-gc",
            Conditioning::Goal {
                cosim: p.focus_cosim,
                limit_coef: p.focus_limit_coef,
            },
        ),
        other => anyhow::bail!(
            "variants: unknown GFlowNet variant {other:?}; expected weighted-sum, tchebycheff or goal"
        ),
    };
    c.1.validate()?;
    Ok((c.0.to_string(), c.1))
}

fn default_hv_points() -> Vec<usize> {
    vec![2000, 400, 120, 60]
}

fn default_compare_reps() -> usize {
    5
}

/// The `--compare` point sets: in `2 + i` objectives, `sizes[i]` points
/// near the simplex (uniform draws divided by their sum, plus `U(0, 0.05)`
/// noise: many mutually non-dominated points, as in the fixture script),
/// reference `1.1` in every objective.
fn hv_sets(sizes: &[usize], rng: &mut duality_core::seed::DualityRng) -> Vec<HvSet> {
    use rand::Rng;
    sizes
        .iter()
        .enumerate()
        .map(|(i, &n)| {
            let m = 2 + i;
            let points = (0..n)
                .map(|_| {
                    let raw: Vec<f64> = (0..m).map(|_| rng.random::<f64>()).collect();
                    let s: f64 = raw.iter().sum::<f64>().max(1e-12);
                    raw.iter()
                        .map(|x| x / s + 0.05 * rng.random::<f64>())
                        .collect()
                })
                .collect();
            HvSet {
                points,
                reference: vec![1.1; m],
            }
        })
        .collect()
}

/// One hypervolume input of the moocore comparison.
#[derive(Debug, Clone, serde::Serialize)]
struct HvSet {
    points: Vec<Vec<f64>>,
    reference: Vec<f64>,
}

/// With `--compare`: `pareto::hypervolume` against moocore
/// (`fixtures/combopt/moocore_hv.py`) on the same sets, timed alternately;
/// a note with the time ratio and the largest difference.
fn compare_moocore(ctx: &Context, p: &MogfnParams, out: &mut Outcome) -> anyhow::Result<()> {
    if !ctx.compare {
        out.notes.push(
            "hypervolume vs moocore: not run (run with --compare after `cargo xtask peers`); the committed cross-check vectors (fixtures/combopt/hypervolume_moocore.json) are tested in crates/combopt/tests/pareto_moocore.rs".into(),
        );
        return Ok(());
    }
    if p.hv_points.is_empty() || p.hv_points.len() > 4 {
        anyhow::bail!(
            "hv_points has {} sizes; expected 1 to 4 (2 to 5 objectives)",
            p.hv_points.len()
        );
    }
    for &n in &p.hv_points {
        duality_core::limits::elements::<f64>("hv_points", n.saturating_mul(5))?;
    }
    let sets = hv_sets(&p.hv_points, &mut ctx.seeder.named("moocore").rng(0));
    let spec = duality_bench::PeerSpec {
        name: "hypervolume-2to5d".into(),
        peer: "moocore".into(),
        script: "fixtures/combopt/moocore_hv.py".into(),
        input: serde_json::json!({ "sets": sets }),
        reps: p.compare_reps.max(1),
    };
    let sref = &sets;
    let c = ctx.compare_with_peer(&spec, || {
        sref.iter()
            .map(|s| Ok(crate::pareto::hypervolume(&s.points, &s.reference)?))
            .collect()
    });
    let sizes: Vec<String> = p
        .hv_points
        .iter()
        .enumerate()
        .map(|(i, n)| format!("{n} points in {}-D", i + 2))
        .collect();
    let line = match c {
        Some(c) if c.skipped.is_none() => format!(
            "hypervolume vs {} ({}): duality/moocore time ratio median {:.2} (range {:.2}-{:.2}) over {} alternating runs; largest absolute difference {:.3e} (hypervolumes {:?})",
            c.peer,
            sizes.join(", "),
            c.ratio_median.unwrap_or(f64::NAN),
            c.ratio_range.map_or(f64::NAN, |r| r.0),
            c.ratio_range.map_or(f64::NAN, |r| r.1),
            c.duality_seconds.len(),
            c.max_abs_diff.unwrap_or(f64::NAN),
            c.duality_result
        ),
        Some(c) => format!(
            "hypervolume vs moocore: skipped ({})",
            c.skipped.unwrap_or_default()
        ),
        None => "hypervolume vs moocore: not run".into(),
    };
    out.notes.push(line);
    Ok(())
}

/// One (task, method) measurement of a seed.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
struct Cell {
    task: String,
    method: String,
    quality: FrontQuality,
    /// TB loss of the first and last tenth of training (GFlowNet only).
    loss: Option<(f64, f64)>,
}

/// A task of the experiment and the GFlowNet variants run on it (record
/// method name, conditioning).
type TaskRun = (String, Task, Vec<(String, Conditioning)>);

fn tasks(p: &MogfnParams) -> anyhow::Result<Vec<TaskRun>> {
    let ws = vec![("mogfn".to_string(), Conditioning::WeightedSum)];
    let variants = p
        .variants
        .iter()
        .map(|v| variant(p, v))
        .collect::<anyhow::Result<Vec<_>>>()?;
    Ok(vec![
        (
            format!("hypergrid-{}", p.grid_side),
            Task::hypergrid(p.grid_side, 2, &p.grid_objectives)?,
            ws.clone(),
        ),
        (
            format!("ngrams-{}x{}", p.ngram_alphabet, p.ngram_len),
            Task::ngrams(p.ngram_alphabet, p.ngram_len, &p.ngram_motifs)?,
            ws,
        ),
        (
            format!("hypergrid3-{}", p.grid3_side),
            Task::hypergrid(p.grid3_side, 2, &p.grid3_objectives)?,
            variants,
        ),
    ])
}

/// The experiment.
///
/// # Errors
/// Invalid parameters or a failing method.
pub fn mogfn(ctx: &Context) -> anyhow::Result<Outcome> {
    let p: MogfnParams = ctx.params()?;
    let tasks = tasks(&p)?;
    let budget = p.iterations * p.batch + p.final_samples;
    let cells = ctx.per_seed(|seed| -> anyhow::Result<Vec<Cell>> {
        let seeder = ctx.seeder.child(seed);
        let mut out = Vec::new();
        for (ti, (name, task, variants)) in tasks.iter().enumerate() {
            let ti = ti as u64;
            let e = random_search(task, budget, &mut seeder.named("random").rng(ti))?;
            out.push(Cell {
                task: name.clone(),
                method: "random".into(),
                quality: front_quality(&e.states, &e.objectives)?,
                loss: None,
            });
            let np = Nsga2Params {
                population: p.population,
                budget,
                crossover: p.crossover,
            };
            let e = nsga2(task, &np, &mut seeder.named("nsga2").rng(ti))?;
            out.push(Cell {
                task: name.clone(),
                method: "nsga2".into(),
                quality: front_quality(&e.states, &e.objectives)?,
                loss: None,
            });
            #[cfg(not(feature = "torch"))]
            let _ = variants;
            #[cfg(feature = "torch")]
            for (method, conditioning) in variants {
                use super::model::{train, TrainParams};
                // The 2-objective tasks keep their original seed streams.
                let stream = if method == "mogfn" {
                    "mogfn".to_string()
                } else {
                    method.clone()
                };
                let tp = TrainParams {
                    iterations: p.iterations,
                    batch: p.batch,
                    hidden: p.hidden,
                    lr: p.lr,
                    lr_logz: p.lr_logz,
                    beta: p.beta,
                    reward_floor: p.reward_floor,
                    alpha: p.alpha,
                    explore: p.explore,
                    seed: seeder.named(&stream).seed_for(ti),
                    conditioning: *conditioning,
                };
                let (model, rep) = train(task, &tp)?;
                let mut rng = seeder.named(&format!("{stream}-sample")).rng(ti);
                let prefs: Vec<Vec<f64>> = (0..p.final_samples)
                    .map(|_| super::sample_preference(task.objectives(), p.alpha, &mut rng))
                    .collect();
                let xs = model.sample(&prefs, &mut rng)?;
                let mut e = rep.evaluated;
                for x in xs {
                    e.objectives.push(task.evaluate(&x));
                    e.states.push(x);
                }
                out.push(Cell {
                    task: name.clone(),
                    method: method.clone(),
                    quality: front_quality(&e.states, &e.objectives)?,
                    loss: Some((rep.first_loss, rep.last_loss)),
                });
            }
        }
        #[cfg(not(feature = "torch"))]
        let _ = (
            p.hidden,
            p.lr,
            p.lr_logz,
            p.beta,
            p.reward_floor,
            p.alpha,
            p.explore,
        );
        Ok(out)
    })?;
    let mut out = Outcome::default();
    for (si, cs) in cells.iter().enumerate() {
        for c in cs {
            let mut r = RunRecord::new(c.method.as_str(), c.task.as_str(), ctx.seeds[si])
                .with_metric("hypervolume", c.quality.hypervolume)
                .with_metric("r2", c.quality.r2)
                .with_metric("front_size", c.quality.front_size as f64)
                .with_metric("distinct", c.quality.distinct as f64);
            if let Some((a, b)) = c.loss {
                r = r
                    .with_metric("tb_loss_first", a)
                    .with_metric("tb_loss_last", b);
            }
            out.records.push(r);
        }
    }
    let series = |task: &str, method: &str| -> Vec<FrontQuality> {
        cells
            .iter()
            .flat_map(|cs| cs.iter().filter(|c| c.task == task && c.method == method))
            .map(|c| c.quality)
            .collect()
    };
    let mean = |xs: &[f64]| xs.iter().sum::<f64>() / xs.len().max(1) as f64;
    for (name, task, variants) in &tasks {
        let mut methods: Vec<&str> = Vec::new();
        if cfg!(feature = "torch") {
            methods.extend(variants.iter().map(|v| v.0.as_str()));
        }
        methods.extend(["nsga2", "random"]);
        let key = name.split('-').next().unwrap_or(name);
        let exact = if matches!(task, Task::HyperGrid { .. }) {
            let all = task.terminals()?;
            let objs: Vec<Vec<f64>> = all.iter().map(|x| task.evaluate(x)).collect();
            Some(front_quality(&all, &objs)?)
        } else {
            None
        };
        let mut parts = Vec::new();
        for m in &methods {
            let q = series(name, m);
            let hv = mean(&q.iter().map(|x| x.hypervolume).collect::<Vec<_>>());
            let r2 = mean(&q.iter().map(|x| x.r2).collect::<Vec<_>>());
            let fs = mean(&q.iter().map(|x| x.front_size as f64).collect::<Vec<_>>());
            let ds = mean(&q.iter().map(|x| x.distinct as f64).collect::<Vec<_>>());
            out.headlines.push(Headline {
                name: format!("{key}_hv_{}", m.replace('-', "_")),
                value: hv,
                digits: 4,
            });
            out.headlines.push(Headline {
                name: format!("{key}_r2_{}", m.replace('-', "_")),
                value: r2,
                digits: 4,
            });
            let ratio = exact
                .map(|e| format!(", {:.3} of the exact front's", hv / e.hypervolume))
                .unwrap_or_default();
            parts.push(format!(
                "{m}: hypervolume {hv:.4}{ratio}, R2 {r2:.4}, front {fs:.1} states, {ds:.0} distinct states"
            ));
        }
        let exact_note = exact
            .map(|e| {
                format!(
                    " (exact front: hypervolume {:.4}, {} states)",
                    e.hypervolume, e.front_size
                )
            })
            .unwrap_or_default();
        out.notes.push(format!(
            "{name}{exact_note}, {budget} evaluations per method, {} seeds: {}",
            cells.len(),
            parts.join("; ")
        ));
        if cfg!(feature = "torch") {
            for (method, conditioning) in variants {
                let label = match (method.as_str(), conditioning) {
                    ("mogfn", _) => "MOGFN-PC".to_string(),
                    (_, Conditioning::Goal { cosim, limit_coef }) => format!(
                        "MOGFN-GC (goal directions, focus cone cos >= {cosim}, boundary coefficient {limit_coef})"
                    ),
                    (_, c) => format!("MOGFN-PC ({} preferences)", c.name()),
                };
                let g: Vec<f64> = series(name, method).iter().map(|q| q.hypervolume).collect();
                let losses: Vec<String> = cells
                    .iter()
                    .flat_map(|cs| cs.iter().filter(|c| c.task == *name && c.method == *method))
                    .filter_map(|c| c.loss.map(|(a, b)| format!("{a:.2} -> {b:.2}")))
                    .collect();
                let mut verdicts = Vec::new();
                for base in ["nsga2", "random"] {
                    let b: Vec<f64> = series(name, base).iter().map(|q| q.hypervolume).collect();
                    let v = match duality_eval::comparison::PairedScores::new(g.clone(), b) {
                        Ok(pair) => {
                            let iv = pair.analytic_ci(0.95)?;
                            let verdict = if iv.lo > 0.0 {
                                "HELD"
                            } else if iv.hi < 0.0 {
                                "NOT held (the baseline is better)"
                            } else {
                                "NOT shown (CI covers 0)"
                            };
                            format!(
                                "vs {base}: hypervolume difference {:.4} (95% paired t CI over seeds [{:.4}, {:.4}]) -> {verdict}",
                                iv.estimate, iv.lo, iv.hi
                            )
                        }
                        Err(e) => format!("vs {base}: no CI ({e})"),
                    };
                    verdicts.push(v);
                }
                out.notes.push(format!(
                    "claim (MOGFN, Jain et al. 2023): {label} reaches a higher hypervolume than the baselines at equal evaluations on {name}: {}; TB loss first -> last tenth per seed [{}]",
                    verdicts.join("; "),
                    losses.join(", ")
                ));
            }
        }
    }
    if !cfg!(feature = "torch") {
        out.notes.push(
            "the GFlowNet needs feature torch: only the baselines ran and the claim was not checked on this run".into(),
        );
    }
    compare_moocore(ctx, &p, &mut out)?;
    Ok(out)
}
