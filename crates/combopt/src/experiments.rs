//! Suite `combopt`: TSP gaps and times, DCR on large instances, assignment,
//! online matching, DAG learning and position auctions (duality-combopt).
//!
//! - `tsp-gaps`: gap to the known optimum (`fixtures/combopt/tsplib/optima.csv`)
//!   and time for every registered method (`tsp::methods()`) on every
//!   instance (quick: up to 200 cities); which methods are headlined, plotted
//!   and checked against the claim (2-opt + Or-opt within 5% up to 1,002
//!   cities: `or2opt` and `or2opt-ils`) are lists in
//!   `fixtures/bench/combopt.toml`.
//! - `tsp-bound`: the Held-Karp 1-tree lower bound (`tsp::held_karp_bound`)
//!   per TSPLIB instance: its gap below the known optimum and its time
//!   (quick: up to 200 cities); target ~1% (Held-Karp's typical gap on
//!   random Euclidean instances), 10,000 cities in seconds.
//! - `dcr-large`: divide-conquer-reunion on ja9847 and vm22775 (full only);
//!   target: within 8% on vm22775 in under 60 s; per-round trace plotted.
//! - `tsp-vs-lkh`: random uniform 1,000-city instances against LKH (elkai)
//!   with `--compare` for DCR and for `or2opt-ils` (length difference and
//!   time ratio); target (issue #26) within 0.5% in a twentieth of the time.
//! - `assignment`: 2,000 x 2,000 (quick: 200 x 200) uniform and integer
//!   costs vs scipy with `--compare`.
//! - `online-matching`: empirical competitive ratios vs the LP bound, against
//!   the proven guarantees (greedy 0.5 and balance 0.567 against the budget
//!   LP; stochastic balance 0.576 against the configuration LP, Huang &
//!   Zhang 2020).
//! - `dag-learning`: NOTEARS vs TOPO (random and NOTEARS-initialised) on ER
//!   and SF linear SEMs: least-squares score, SHD, TPR, FDR over seeds; the
//!   same-objective comparison (both with the L1 term, paired CI); TOPO's
//!   two swap-candidate gradients (log-det, exp).
//! - `milp-branching`: branch-and-bound (`milp`) on seeded instances of
//!   one Gasse et al. family: nodes, LP pivots and time per branching rule
//!   (every instance solved to optimality, objectives checked equal); with
//!   feature `torch`, a GNN policy trained per seed by imitation of strong
//!   branching on smaller instances, and the claim "fewer nodes than
//!   pseudo-cost at similar time" as a paired t CI over (seed, instance);
//!   the same policy after ReviBranch's RL stage (rule `rl`: REINFORCE on
//!   revived trajectories) with paired CIs against pseudo-cost and against
//!   the imitation-only `gnn`.
//! - `auctions`: VCG welfare/revenue, the cascade greedy-vs-optimal ratio,
//!   MNL Myerson vs VCG revenue (the paper's claim) and the cascade model
//!   with position-specific click rates.
//! - `vrp-gaps`: every CVRP method (`vrp::VRP_METHODS`) on the shipped
//!   CVRPLIB instances (gap to the proven optimum, `dcr` once per seed), and
//!   `dcr` vs `savings-ls` vs `savings` on seeded X-style uniform instances
//!   (quick: 100 customers; full: 200 and 500) with paired t CIs.
//! - `udc` (feature `torch`): UDC with the shipped end-to-end checkpoint vs
//!   `dcr` (greedy divide) vs UDC with the shipped divide-only checkpoint, on
//!   seeded uniform instances of each size in `cities` (quick: 200; full:
//!   500 and 1,000), the same DCR conquer + reunion after each divide; paired
//!   t CIs over instances for claim (a) udc < dcr and claim (b) end-to-end <
//!   divide-only. No training in the bench.
//!
//! Headlines only use deterministic quantities (no timings, no time limits).
//! Each experiment reads one typed parameter struct (`ctx.params()`); notes
//! state what this run measured (peer comparisons only under `--compare`)
//! and the target, never numbers from an earlier run.

use std::path::PathBuf;
use std::time::Instant;

use crate::assignment::{linear_sum_assignment, CostMatrix};
use crate::auction::{
    mnl_myerson, mnl_optimal, mnl_virtual_welfare, Cascade, PositionAuction, PositionalCascade,
    ValueDistribution,
};
use crate::dag::{
    accuracy, l1_objective, notears, random_dag, simulate_linear_sem, topo, Data, GraphType, Noise,
    NotearsParams, SwapGradient, TopoParams,
};
use crate::matching::{
    configuration_lp_bound, lp_upper_bound, mean_matches, path_lp_bound, Arrival, Benchmark,
    MatchingInstance, OnlineAlgorithm,
};
use crate::tsp::{
    divide_conquer_reunion, gap_percent, held_karp_bound, methods, read_optima, read_tsp, solve,
    BoundParams, DcrParams, Instance, LocalSearchSubpath, Pipeline, Registry, SolveParams,
};
use duality_core::record::RunRecord;
use duality_eval::comparison::PairedRatio;
use duality_eval::plot::{LineChart, Series};
use rand::Rng;
use serde::Deserialize;

use duality_bench::{
    Context, Experiment, Figure, Headline, Outcome, PeerComparison, PeerSpec, Suite,
};

/// The `combopt` suite.
pub fn suite() -> Suite {
    // `udc` is registered at run time (not in the static table, so binaries
    // that never ask for it do not link libtorch): tsp-gaps runs every
    // registered method and udc runs it by name.
    #[cfg(feature = "torch")]
    crate::tsp::register_torch_methods();
    Suite {
        name: "combopt",
        about: "TSP gaps and times, assignment, online matching, DAG learning",
        defaults: include_str!("../../../fixtures/bench/combopt.toml"),
        experiments: vec![
            Experiment {
                name: "tsp-gaps",
                about: "gap to optimum and time per registered method on fixtures/combopt/tsplib (claim: 2-opt+Or-opt within 5% up to 1,002 cities)",
                run: tsp_gaps,
            },
            Experiment {
                name: "tsp-bound",
                about: "Held-Karp 1-tree lower bound per TSPLIB instance: gap below the optimum (target ~1%) and time (10k cities in seconds)",
                run: tsp_bound,
            },
            Experiment {
                name: "dcr-large",
                about: "divide-conquer-reunion on ja9847 and vm22775 (target: within 8% on vm22775 in < 60 s); full mode only",
                run: dcr_large,
            },
            Experiment {
                name: "tsp-vs-lkh",
                about: "random uniform 1,000-city instances vs LKH via elkai (--compare; target: within 0.5% in a twentieth of the time)",
                run: tsp_vs_lkh,
            },
            Experiment {
                name: "assignment",
                about: "rectangular linear assignment, 2,000 x 2,000 (target: no slower than 1.5x scipy, --compare)",
                run: assignment,
            },
            Experiment {
                name: "online-matching",
                about: "empirical competitive ratios vs the budget LP bound (proven: greedy 0.5 and balance 0.567 vs the budget LP; stochastic balance 0.576 vs the configuration LP)",
                run: online_matching,
            },
            Experiment {
                name: "dag-learning",
                about: "NOTEARS vs TOPO on linear SEMs (claim: TOPO reaches a lower score than NOTEARS)",
                run: dag_learning,
            },
            #[cfg(feature = "torch")]
            Experiment {
                name: "udc",
                about: "UDC (shipped end-to-end checkpoint) vs dcr (greedy divide) vs the divide-only ablation on uniform instances, same conquer budget (claims a and b of the UDC paper), paired CIs",
                run: udc,
            },
            Experiment {
                name: "vrp-gaps",
                about: "CVRP: gap to the proven optimum per method on fixtures/combopt/cvrplib; dcr vs savings-ls on seeded X-style uniform instances (paired CI)",
                run: vrp_gaps,
            },
            Experiment {
                name: "milp-branching",
                about: "branch-and-bound on generated MILPs: nodes per branching rule; claim (ReviBranch/Gasse et al.): the imitation-learned GNN needs fewer nodes than pseudo-cost at similar time on instances larger than its training ones (feature torch), paired CI",
                run: milp_branching,
            },
            crate::private_gsd::bench::experiment(),
            crate::direct_search::bench::experiment(),
            Experiment {
                name: "mogfn",
                about: "multi-objective GFlowNet (preference-conditional, TB; feature torch) vs NSGA-II and random search at equal evaluations on HyperGrid and N-grams: hypervolume and R2 (claim: higher hypervolume), paired CIs",
                run: crate::gflownet::experiment::mogfn,
            },
            Experiment {
                name: "retro-dual",
                about: "Retro* with PDVN's dual value networks (feature torch) vs single-value Retro*, Retro*-0 and BFS on seeded synthetic reaction graphs: solved rate against expansions (claim: higher success within the budget), paired CIs",
                run: crate::retro::experiment::retro_dual,
            },
            Experiment {
                name: "auctions",
                about: "position auctions: VCG welfare and revenue; MNL Myerson vs VCG revenue; cascade greedy and position-specific rates vs exact DP",
                run: auctions,
            },
        ],
    }
}

fn tsplib_dir() -> PathBuf {
    duality_bench::fixtures_dir().join("combopt/tsplib")
}

/// `(name, cities, optimum)` from `optima.csv`; a missing table is an error
/// naming its path, never an empty experiment.
fn optima() -> anyhow::Result<Vec<(String, usize, f64)>> {
    Ok(read_optima(tsplib_dir().join("optima.csv"))?
        .into_iter()
        .map(|r| (r.name, r.dimension, r.length))
        .collect())
}

/// Checks that every name in `names` (parameter `key`) is a registered
/// TSP method, so a typo in the TOML is an error, not a silently empty list.
fn registered(key: &str, names: &[String]) -> anyhow::Result<()> {
    let registry = Registry::builtin();
    for name in names {
        registry
            .get(name)
            .map_err(|e| anyhow::anyhow!("parameter {key}: {e}"))?;
    }
    Ok(())
}

/// Parameters of `tsp-gaps`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct TspGapsParams {
    /// Largest TSPLIB instance solved.
    max_cities: usize,
    /// Methods whose mean gap is a headline.
    headline: Vec<String>,
    /// Methods drawn in the figure.
    plot: Vec<String>,
    /// Methods the claim is checked for.
    claim_methods: Vec<String>,
    /// The claim covers instances up to this many cities...
    claim_max_cities: usize,
    /// ... and asks for a gap of at most this (percent).
    claim_gap_pct: f64,
}

/// Worst mean gap over the claim's instances, and the slowest single run.
#[derive(Debug, Default)]
struct Worst {
    gap: f64,
    instance: String,
    max_seconds: f64,
}

/// Per-method results of `tsp-gaps`: `(cities, mean gap)` per instance.
struct MethodGaps {
    method: Pipeline,
    points: Vec<(f64, f64)>,
    worst: Worst,
}

impl MethodGaps {
    /// Solves one TSPLIB instance `(name, cities, optimum)`: once for a
    /// deterministic method, once per seed for a seeded one; records every
    /// run and updates the mean-gap point and the claim's worst case.
    fn run_on(
        &mut self,
        ctx: &Context,
        inst: &Instance,
        (name, n, opt): (&str, usize, f64),
        claim_max_cities: usize,
        out: &mut Outcome,
    ) -> anyhow::Result<()> {
        let seeds = if self.method.is_seeded() {
            ctx.seeds.clone()
        } else {
            vec![ctx.seeds.first().copied().unwrap_or(0)]
        };
        let mut gaps = Vec::new();
        let mut secs: f64 = 0.0;
        for seed in seeds {
            let params = SolveParams::new(self.method.name()).with_seed(ctx.seeder.seed_for(seed));
            let sol = solve(inst, &params)?;
            let gap = gap_percent(sol.length, opt);
            gaps.push(gap);
            secs = secs.max(sol.seconds);
            out.records.push(
                RunRecord::new(self.method.name(), name, seed)
                    .with_metric("gap_pct", gap)
                    .with_metric("length", sol.length)
                    .with_metric("seconds", sol.seconds),
            );
        }
        let mean = gaps.iter().sum::<f64>() / gaps.len() as f64;
        self.points.push((n as f64, mean));
        if n <= claim_max_cities {
            self.worst.max_seconds = self.worst.max_seconds.max(secs);
            if mean > self.worst.gap {
                self.worst.gap = mean;
                self.worst.instance = name.to_string();
            }
        }
        Ok(())
    }

    /// This method's verdict on the claim, from this run's worst case.
    fn verdict(&self, claim_gap_pct: f64) -> String {
        let w = &self.worst;
        format!(
            "`{}` ({}{}): {} (worst {:.2}% on {}), slowest run {:.3} s",
            self.method.name(),
            self.method.about(),
            if self.method.is_seeded() {
                ", mean over seeds"
            } else {
                ""
            },
            if w.gap <= claim_gap_pct {
                "held"
            } else {
                "NOT held"
            },
            w.gap,
            w.instance,
            w.max_seconds
        )
    }
}

fn tsp_gaps(ctx: &Context) -> anyhow::Result<Outcome> {
    let p: TspGapsParams = ctx.params()?;
    for (key, list) in [
        ("headline", &p.headline),
        ("plot", &p.plot),
        ("claim_methods", &p.claim_methods),
    ] {
        registered(key, list)?;
    }
    let mut out = Outcome::default();
    let mut by_method: Vec<MethodGaps> = methods()
        .iter()
        .map(|&method| MethodGaps {
            method,
            points: Vec::new(),
            worst: Worst::default(),
        })
        .collect();
    for (name, n, opt) in optima()? {
        if n > p.max_cities {
            continue;
        }
        ctx.progress.set_message(format!("tsp-gaps {name}"));
        let inst = read_tsp(tsplib_dir().join(format!("{name}.tsp")))?;
        for m in by_method.iter_mut() {
            m.run_on(ctx, &inst, (&name, n, opt), p.claim_max_cities, &mut out)?;
        }
    }
    for m in &by_method {
        if p.headline.iter().any(|h| m.method.answers_to(h)) && !m.points.is_empty() {
            let mean = m.points.iter().map(|q| q.1).sum::<f64>() / m.points.len() as f64;
            out.headlines.push(Headline {
                name: format!("mean_gap_pct_{}", m.method.name()),
                value: mean,
                digits: 2,
            });
        }
    }
    let file = "tsp_gaps.svg";
    let series: Vec<Series> = by_method
        .iter()
        .filter(|m| p.plot.iter().any(|q| m.method.answers_to(q)))
        .map(|m| Series::new(m.method.name(), m.points.clone()))
        .collect();
    LineChart::new("Gap to optimum per TSPLIB instance", "cities", "gap (%)")
        .log_x(true)
        .markers(true)
        .y_from_zero(true)
        .draw(ctx.figure_dir.join(file), &series)?;
    out.figures.push(Figure {
        title: "TSP gap to optimum by method".into(),
        file: file.into(),
    });
    let verdicts: Vec<String> = by_method
        .iter()
        .filter(|m| p.claim_methods.iter().any(|c| m.method.answers_to(c)))
        .map(|m| m.verdict(p.claim_gap_pct))
        .collect();
    out.notes.push(format!(
        "claim (issue target): 2-opt + Or-opt within {}% of optimal on every instance up to {} cities. {}",
        p.claim_gap_pct,
        p.claim_max_cities,
        verdicts.join("; ")
    ));
    out.notes.push(format!(
        "every registered method runs (`duality tsp methods` lists them); seeded ones ({}) once per seed, the others once; `or2opt-ils` uses {} kicks per city, at least {}; dcr adds sub-path iterated local search rounds (see dcr-large)",
        methods()
            .iter()
            .filter(|m| m.is_seeded())
            .map(|m| m.name())
            .collect::<Vec<_>>()
            .join(", "),
        crate::tsp::KICKS_PER_CITY,
        crate::tsp::MIN_KICKS,
    ));
    if p.max_cities < 2_392 {
        out.notes.push(format!(
            "instances up to {} cities only (parameter max_cities)",
            p.max_cities
        ));
    }
    Ok(out)
}

/// Parameters of `tsp-bound`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct TspBoundParams {
    /// Largest TSPLIB instance bounded.
    max_cities: usize,
    /// Subgradient iterations (see `tsp::BoundParams`).
    iterations: usize,
    /// Target: mean gap below the optimum of at most this (percent) ...
    target_gap_pct: f64,
    /// ... and at most this many seconds on instances of about 10,000 cities.
    target_seconds_10k: f64,
}

fn tsp_bound(ctx: &Context) -> anyhow::Result<Outcome> {
    let p: TspBoundParams = ctx.params()?;
    let params = BoundParams::default().with_iterations(p.iterations);
    let mut out = Outcome::default();
    let mut points = Vec::new();
    let mut slowest_10k: Option<(String, f64)> = None;
    let seed = ctx.seeds.first().copied().unwrap_or(0);
    for (name, n, opt) in optima()? {
        if n > p.max_cities {
            continue;
        }
        ctx.progress.set_message(format!("tsp-bound {name}"));
        let inst = read_tsp(tsplib_dir().join(format!("{name}.tsp")))?;
        let start = Instant::now();
        let bound = held_karp_bound(&inst, &params, None)?;
        let secs = start.elapsed().as_secs_f64();
        anyhow::ensure!(
            bound.value <= opt,
            "{name}: bound {} above the optimum {opt}",
            bound.value
        );
        let gap = (opt - bound.value) / opt * 100.0;
        out.records.push(
            RunRecord::new("held-karp-bound", name.as_str(), seed)
                .with_metric("bound_gap_pct", gap)
                .with_metric("seconds", secs),
        );
        out.headlines.push(Headline {
            name: format!("bound_gap_pct_{name}"),
            value: gap,
            digits: 2,
        });
        points.push((n as f64, gap));
        if (5_000..=15_000).contains(&n) && slowest_10k.as_ref().is_none_or(|s| secs > s.1) {
            slowest_10k = Some((name.clone(), secs));
        }
    }
    anyhow::ensure!(
        !points.is_empty(),
        "no instance up to {} cities",
        p.max_cities
    );
    let mean = points.iter().map(|q| q.1).sum::<f64>() / points.len() as f64;
    let worst = points.iter().map(|q| q.1).fold(0.0, f64::max);
    out.headlines.push(Headline {
        name: "mean_bound_gap_pct".into(),
        value: mean,
        digits: 2,
    });
    out.notes.push(format!(
        "target: Held-Karp's typical ~{}% below the optimum: mean {mean:.2}%, worst {worst:.2}% over {} instances -> {}",
        p.target_gap_pct,
        points.len(),
        if mean <= p.target_gap_pct { "held" } else { "NOT held" }
    ));
    out.notes.push(match slowest_10k {
        Some((name, secs)) => format!(
            "target: ~10,000 cities in <= {} s: {name} in {secs:.1} s -> {}",
            p.target_seconds_10k,
            if secs <= p.target_seconds_10k { "held" } else { "NOT held" }
        ),
        None => format!(
            "no instance of ~10,000 cities up to max_cities = {} (the time target is checked in the full run)",
            p.max_cities
        ),
    });
    out.notes.push(format!(
        "{} subgradient iterations on the k-NN + MST candidate graph, then the exact O(n^2) minimum 1-tree at the best penalties (the certificate); TSPLIB distances are integers, the bound is not rounded up",
        p.iterations
    ));
    let file = "tsp_bound.svg";
    LineChart::new(
        "Held-Karp bound: gap below the optimum",
        "cities",
        "gap (%)",
    )
    .log_x(true)
    .markers(true)
    .y_from_zero(true)
    .draw(
        ctx.figure_dir.join(file),
        &[Series::new("1-tree bound", points)],
    )?;
    out.figures.push(Figure {
        title: "Held-Karp bound gap per TSPLIB instance".into(),
        file: file.into(),
    });
    Ok(out)
}

/// Parameters of `dcr-large`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct DcrLargeParams {
    /// DCR on every instance with at least this many cities (0 = skip).
    min_cities: usize,
    /// The instance the target is checked on ...
    target_instance: String,
    /// ... within this gap (percent) ...
    target_gap_pct: f64,
    /// ... in at most this many seconds.
    target_seconds: f64,
}

fn dcr_large(ctx: &Context) -> anyhow::Result<Outcome> {
    let p: DcrLargeParams = ctx.params()?;
    let mut out = Outcome::default();
    if p.min_cities == 0 {
        out.notes
            .push("full mode only (10k and 22k-city instances; min_cities = 0 skips)".into());
        return Ok(out);
    }
    let mut series = Vec::new();
    for (name, n, opt) in optima()? {
        if n < p.min_cities {
            continue;
        }
        ctx.progress.set_message(format!("dcr {name}"));
        let inst = read_tsp(tsplib_dir().join(format!("{name}.tsp")))?;
        for &seed in &ctx.seeds {
            let params = DcrParams::default().with_seed(ctx.seeder.seed_for(seed));
            let start = Instant::now();
            let run = divide_conquer_reunion(&inst, &params, &LocalSearchSubpath::default())?;
            let secs = start.elapsed().as_secs_f64();
            let gap = gap_percent(run.tour.length(&inst), opt);
            out.records.push(
                RunRecord::new("dcr", name.as_str(), seed)
                    .with_metric("gap_pct", gap)
                    .with_metric("gap_pct_initial", gap_percent(run.trace[0].length, opt))
                    .with_metric("seconds", secs),
            );
            if seed == ctx.seeds[0] {
                series.push(Series {
                    label: name.clone(),
                    points: run
                        .trace
                        .iter()
                        .map(|r| (r.seconds, gap_percent(r.length, opt)))
                        .collect(),
                    band: None,
                });
                out.headlines.push(Headline {
                    name: format!("dcr_gap_pct_{name}"),
                    value: gap,
                    digits: 2,
                });
                if name == p.target_instance {
                    out.notes.push(format!(
                        "target: {name} within {}% in < {} s: gap {gap:.2}% in {secs:.1} s -> {}",
                        p.target_gap_pct,
                        p.target_seconds,
                        if gap <= p.target_gap_pct && secs < p.target_seconds {
                            "held"
                        } else {
                            "NOT held"
                        }
                    ));
                }
            }
        }
    }
    if !series.is_empty() {
        let file = "dcr_rounds.svg";
        LineChart::new("DCR: gap after each round", "seconds", "gap (%)")
            .markers(true)
            .draw(ctx.figure_dir.join(file), &series)?;
        out.figures.push(Figure {
            title: "DCR gap per round".into(),
            file: file.into(),
        });
    }
    out.notes.push("peak memory is not measured here; candidate lists are O(n k), no n x n matrix (run under /usr/bin/time -v to check)".into());
    Ok(out)
}

/// Parameters of `tsp-vs-lkh`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct TspVsLkhParams {
    /// Cities of the uniform random instances.
    cities: usize,
    /// Methods run on every seed.
    methods: Vec<String>,
    /// Methods whose seed-0 length is a headline.
    headline: Vec<String>,
    /// Methods compared with LKH under `--compare` (seed 0).
    compare: Vec<String>,
    /// Alternating repetitions per comparison.
    compare_reps: usize,
    /// Target: within this gap to LKH's length (percent) ...
    target_gap_pct: f64,
    /// ... at most this fraction of LKH's time.
    target_time_ratio: f64,
}

/// What one comparison with LKH measured in this run.
fn lkh_verdict(c: &PeerComparison, p: &TspVsLkhParams) -> String {
    if let Some(why) = &c.skipped {
        return format!("{}: skipped ({why})", c.name);
    }
    match (
        c.duality_result.first(),
        c.peer_result.first(),
        c.ratio_median,
    ) {
        (Some(&ours), Some(&lkh), Some(ratio)) if lkh > 0.0 => {
            let gap = 100.0 * (ours - lkh) / lkh;
            format!(
                "{}: ours {ours:.4} vs {} {lkh:.4} ({gap:+.2}%), median time ratio {ratio:.3} over {} reps -> {}",
                c.name,
                c.peer,
                c.duality_seconds.len(),
                if gap <= p.target_gap_pct && ratio <= p.target_time_ratio {
                    "held"
                } else {
                    "NOT held"
                }
            )
        }
        _ => format!("{}: ran, but returned no comparable lengths", c.name),
    }
}

fn tsp_vs_lkh(ctx: &Context) -> anyhow::Result<Outcome> {
    let p: TspVsLkhParams = ctx.params()?;
    for (key, list) in [
        ("methods", &p.methods),
        ("headline", &p.headline),
        ("compare", &p.compare),
    ] {
        registered(key, list)?;
    }
    let n = p.cities;
    let mut out = Outcome::default();
    let mut comparisons = Vec::new();
    for &seed in &ctx.seeds {
        let mut rng = ctx.seeder.rng(seed);
        let inst = Instance::random_uniform(n, &mut rng)?;
        let seed_run = ctx.seeder.seed_for(seed);
        for method in &p.methods {
            let sol = solve(
                &inst,
                &SolveParams::new(method.as_str()).with_seed(seed_run),
            )?;
            out.records.push(
                RunRecord::new(method.as_str(), format!("uniform{n}"), seed)
                    .with_metric("length", sol.length)
                    .with_metric("length_over_sqrt_n", sol.length / (n as f64).sqrt())
                    .with_metric("seconds", sol.seconds),
            );
            if seed == ctx.seeds[0] && p.headline.contains(method) {
                out.headlines.push(Headline {
                    name: format!("{}_length_uniform{n}_seed0", method.replace('-', "_")),
                    value: sol.length,
                    digits: 4,
                });
            }
        }
        if seed == ctx.seeds[0] {
            let coords: Vec<[f64; 2]> = inst.coords().to_vec();
            let inst_ref = &inst;
            // One comparison per method; LKH runs again for each (alternating reps).
            for method in &p.compare {
                let spec = PeerSpec {
                    name: format!("{method}-vs-lkh-uniform{n}"),
                    peer: "elkai".into(),
                    script: "fixtures/combopt/peer_lkh.py".into(),
                    input: serde_json::json!({ "coords": coords, "runs": 1 }),
                    reps: p.compare_reps,
                };
                let params = SolveParams::new(method.as_str()).with_seed(seed_run);
                comparisons.extend(
                    ctx.compare_with_peer(&spec, || Ok(vec![solve(inst_ref, &params)?.length])),
                );
            }
        }
    }
    out.notes.push(format!(
        "target: within {}% of LKH's length (elkai, one run) in at most {} of its time, on a uniform {n}-city instance (seed 0)",
        p.target_gap_pct, p.target_time_ratio
    ));
    if ctx.compare {
        let verdicts: Vec<String> = comparisons.iter().map(|c| lkh_verdict(c, &p)).collect();
        out.notes.push(format!("this run: {}", verdicts.join("; ")));
    } else {
        out.notes.push(
            "no comparison with LKH ran (run with --compare after `cargo xtask peers`)".into(),
        );
    }
    out.notes.push("BHH: the optimal length of a uniform instance grows like 0.7124 sqrt(n) (record length_over_sqrt_n)".into());
    Ok(out)
}

/// Parameters of `assignment`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct AssignmentParams {
    /// n x n cost matrices.
    size: usize,
    /// Further sizes timed against the peers under `--compare` only (one
    /// uniform and one integer matrix each, seed 0; no records or
    /// headlines, so the snapshot does not depend on them).
    #[serde(default)]
    compare_sizes: Vec<usize>,
    /// Alternating repetitions per comparison with scipy.
    compare_reps: usize,
    /// Target: median duality/scipy time ratio at most this.
    target_time_ratio: f64,
}

/// What one comparison with scipy measured in this run.
fn scipy_verdict(c: &PeerComparison, p: &AssignmentParams) -> String {
    if let Some(why) = &c.skipped {
        return format!("{}: skipped ({why})", c.name);
    }
    match (c.ratio_median, c.ratio_range) {
        (Some(ratio), Some((lo, hi))) => format!(
            "{}: median time ratio to {} {ratio:.2} (range {lo:.2}-{hi:.2}, {} reps), cost difference {} -> {}",
            c.name,
            c.peer,
            c.duality_seconds.len(),
            c.max_abs_diff.map_or("not comparable".to_string(), |d| format!("{d:.1e}")),
            if ratio <= p.target_time_ratio { "held" } else { "NOT held" }
        ),
        _ => format!("{}: ran, but no timings to compare", c.name),
    }
}

/// `--compare`: `m` solved by duality, scipy and `lap` on the same matrix,
/// alternately. The matrix travels to the peers as one little-endian f64
/// file (row-major), read with `numpy.fromfile`: JSON text of a 4,000 x
/// 4,000 matrix would be about 300 MB to write and parse.
fn compare_assignment(
    ctx: &Context,
    m: &CostMatrix,
    kind: &str,
    reps: usize,
) -> anyhow::Result<Vec<PeerComparison>> {
    let n = m.rows();
    let bin = std::env::temp_dir().join(format!(
        "duality-assignment-{}-{kind}-{n}.f64",
        std::process::id()
    ));
    let bytes: Vec<u8> = (0..n)
        .flat_map(|i| (0..n).map(move |j| (i, j)))
        .flat_map(|(i, j)| m.get(i, j).to_le_bytes())
        .collect();
    duality_core::files::write_atomic(&bin, &bytes)?;
    let spec = PeerSpec {
        name: format!("assignment-{kind}-{n}"),
        peer: "scipy".into(),
        script: "fixtures/combopt/peer_assignment.py".into(),
        input: serde_json::json!({ "bin": bin.to_string_lossy(), "n": n }),
        reps,
    };
    let mut out = Vec::new();
    out.extend(ctx.compare_with_peer(&spec, || Ok(vec![linear_sum_assignment(m, false)?.cost])));
    // The same matrix against LAPJV (`lap`).
    let spec = PeerSpec {
        name: format!("assignment-{kind}-{n}-lap"),
        peer: "lap".into(),
        script: "fixtures/combopt/peer_lap.py".into(),
        ..spec
    };
    out.extend(ctx.compare_with_peer(&spec, || Ok(vec![linear_sum_assignment(m, false)?.cost])));
    let _ = std::fs::remove_file(&bin);
    Ok(out)
}

fn assignment(ctx: &Context) -> anyhow::Result<Outcome> {
    let p: AssignmentParams = ctx.params()?;
    let n = p.size;
    let mut out = Outcome::default();
    let mut comparisons = Vec::new();
    for &seed in &ctx.seeds {
        let mut rng = ctx.seeder.rng(seed);
        let uniform: Vec<f64> = (0..n * n).map(|_| rng.random::<f64>()).collect();
        let integer: Vec<f64> = (0..n * n)
            .map(|_| rng.random_range(0..1_000u32) as f64)
            .collect();
        for (kind, data) in [("uniform", uniform), ("int1000", integer)] {
            let m = CostMatrix::new(n, n, data)?;
            let start = Instant::now();
            let a = linear_sum_assignment(&m, false)?;
            let secs = start.elapsed().as_secs_f64();
            out.records.push(
                RunRecord::new("shortest-augmenting-path", format!("{kind}{n}x{n}"), seed)
                    .with_metric("cost", a.cost)
                    .with_metric("seconds", secs),
            );
            if seed == ctx.seeds[0] {
                out.headlines.push(Headline {
                    name: if kind == "uniform" {
                        format!("assignment_cost_{n}_seed0")
                    } else {
                        format!("assignment_cost_{kind}_{n}_seed0")
                    },
                    value: a.cost,
                    digits: 6,
                });
                if ctx.compare {
                    comparisons.extend(compare_assignment(ctx, &m, kind, p.compare_reps)?);
                }
            }
        }
    }
    if ctx.compare {
        for &n2 in &p.compare_sizes {
            duality_core::limits::elements::<f64>("compare_sizes", n2.saturating_mul(n2))?;
            let mut rng = ctx.seeder.named(&format!("compare-{n2}")).rng(0);
            let uniform: Vec<f64> = (0..n2 * n2).map(|_| rng.random::<f64>()).collect();
            let integer: Vec<f64> = (0..n2 * n2)
                .map(|_| rng.random_range(0..1_000u32) as f64)
                .collect();
            for (kind, data) in [("uniform", uniform), ("int1000", integer)] {
                let m = CostMatrix::new(n2, n2, data)?;
                comparisons.extend(compare_assignment(ctx, &m, kind, p.compare_reps)?);
            }
        }
    }
    out.notes.push(format!(
        "scipy's linear_sum_assignment implements the same algorithm (Crouse 2016) in C++, lap's lapjv the Jonker-Volgenant LAPJV; costs must agree to rounding. Target: median duality/peer time ratio at most {} at {n} x {n}{} (uniform [0,1) and integer 0..999 costs, seed 0, --compare); issue 21's target is no slower than the faster of scipy and lap (lap needs `lap` in the peers venv, else skipped)",
        p.target_time_ratio,
        p.compare_sizes
            .iter()
            .map(|k| format!(" and {k} x {k}"))
            .collect::<String>()
    ));
    if ctx.compare {
        let verdicts: Vec<String> = comparisons.iter().map(|c| scipy_verdict(c, &p)).collect();
        out.notes.push(format!("this run: {}", verdicts.join("; ")));
    } else {
        out.notes.push(
            "no comparison with scipy ran (run with --compare after `cargo xtask peers`)".into(),
        );
    }
    Ok(out)
}

/// Parameters of `online-matching`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct OnlineMatchingParams {
    /// Monte Carlo runs per instance.
    runs: usize,
    /// Size of the upper-triangular instance.
    triangular_size: usize,
    /// Algorithms compared (names as `OnlineAlgorithm`'s `Display`).
    algorithms: Vec<String>,
}

/// Random arrival orders over which `online-matching` averages the
/// path-based LP of a random-order case.
const PATH_LP_ORDERS: usize = 8;

fn online_matching(ctx: &Context) -> anyhow::Result<Outcome> {
    let p: OnlineMatchingParams = ctx.params()?;
    let algorithms: Vec<OnlineAlgorithm> = p
        .algorithms
        .iter()
        .map(|a| a.parse())
        .collect::<Result<_, _>>()
        .map_err(|e| anyhow::anyhow!("parameter algorithms: {e}"))?;
    let mut out = Outcome::default();
    let tri = MatchingInstance::upper_triangular(p.triangular_size, 0.1)?;
    // The triangular case runs in its given order, the same for every seed:
    // its path-based LP is solved once.
    let tri_path = path_lp_bound(&tri, &(0..tri.online.len()).collect::<Vec<_>>())?;
    let mut headline_done = false;
    for &seed in &ctx.seeds {
        let seeder = ctx.seeder.child(seed);
        let mut rng = seeder.rng(0);
        let random = MatchingInstance::random(30, 90, 0.1, 0.2, &mut rng)?;
        let cases = [
            ("upper-triangular-p0.1", &tri, Arrival::Given),
            ("random-p0.2", &random, Arrival::RandomOrder),
        ];
        for (k, (task, inst, arrival)) in cases.iter().enumerate() {
            let budget = lp_upper_bound(inst)?;
            let config = configuration_lp_bound(inst)?;
            // Goyal & Udwani's path-based LP depends on the arrival order:
            // the given one, or for random-order runs its mean over
            // `PATH_LP_ORDERS` uniformly random orders (the benchmark of a
            // random-order run is its expectation over orders; Ranking's
            // guarantee holds order by order, so also for the mean).
            // (mean value, mean certified-minus-primal gap, mean columns).
            let (path_lp, path_gap, path_columns) = if k == 0 {
                (
                    tri_path.value,
                    tri_path.value - tri_path.primal,
                    tri_path.columns as f64,
                )
            } else {
                use rand::seq::SliceRandom;
                let n_on = inst.online.len();
                let mut orng = seeder.child(1000 + k as u64).rng(0);
                let (mut total, mut gap, mut cols) = (0.0, 0.0, 0.0);
                for _ in 0..PATH_LP_ORDERS {
                    let mut order: Vec<usize> = (0..n_on).collect();
                    order.shuffle(&mut orng);
                    let b = path_lp_bound(inst, &order)?;
                    total += b.value;
                    gap += b.value - b.primal;
                    cols += b.columns as f64;
                }
                let n = PATH_LP_ORDERS as f64;
                (total / n, gap / n, cols / n)
            };
            if seed == ctx.seeds[0] || k == 1 {
                out.records.push(
                    RunRecord::new("lp-bounds", *task, seed)
                        .with_metric("budget_lp", budget)
                        .with_metric("configuration_lp", config.value)
                        .with_metric("path_lp", path_lp)
                        .with_metric("configuration_lp_columns", config.columns as f64)
                        .with_metric("path_lp_columns", path_columns)
                        .with_metric("path_lp_certificate_gap", path_gap),
                );
            }
            if !headline_done && k == 0 {
                out.headlines.push(Headline {
                    name: format!("configuration_lp_over_budget_lp_{task}"),
                    value: config.value / budget,
                    digits: 4,
                });
                out.headlines.push(Headline {
                    name: format!("path_lp_over_budget_lp_{task}"),
                    value: path_lp / budget,
                    digits: 4,
                });
            }
            for alg in &algorithms {
                // The stream follows the algorithm's canonical index, so
                // reordering or trimming the list moves no other algorithm.
                let mean = mean_matches(
                    inst,
                    *alg,
                    *arrival,
                    p.runs,
                    &seeder.child(1 + (k * 8 + alg.index()) as u64),
                )?;
                let ratio = mean / budget;
                let own = match alg.benchmark() {
                    Benchmark::BudgetLp => ratio,
                    Benchmark::ConfigurationLp => mean / config.value,
                    Benchmark::PathLp => mean / path_lp,
                };
                let record = RunRecord::new(alg.to_string(), *task, seed)
                    .with_metric("competitive_ratio", ratio)
                    .with_metric("ratio_configuration_lp", mean / config.value)
                    .with_metric("ratio_path_lp", mean / path_lp)
                    .with_metric("ratio_own_benchmark", own)
                    .with_metric("proven_ratio", alg.proven_ratio());
                out.records.push(record);
                if !headline_done && k == 0 {
                    out.headlines.push(Headline {
                        name: format!("ratio_{alg}_{task}"),
                        value: ratio,
                        digits: 3,
                    });
                    out.headlines.push(Headline {
                        name: format!("ratio_own_benchmark_{alg}_{task}"),
                        value: own,
                        digits: 3,
                    });
                    if *alg == OnlineAlgorithm::Ranking {
                        let verdict = if mean / path_lp >= alg.proven_ratio() {
                            "at or above it on this instance"
                        } else {
                            "BELOW it on this instance"
                        };
                        out.notes.push(format!(
                            "ranking on {task}: {:.3} of Goyal & Udwani's path-based LP ({path_lp:.3}), against its proven 1 - 1/e = {:.3} -> {verdict}; for reference {:.3} of the configuration LP ({:.3}) and {ratio:.3} of the budget LP ({budget:.3})",
                            mean / path_lp,
                            alg.proven_ratio(),
                            mean / config.value,
                            config.value,
                        ));
                    }
                    if own < alg.proven_ratio() {
                        out.notes.push(format!(
                            "{alg} on {task}: {own:.3} of its benchmark ({}) is BELOW its proven worst case {:.3} (Monte Carlo noise or vanishing-p assumption: p = 0.1 is not infinitesimal)",
                            alg.benchmark(),
                            alg.proven_ratio()
                        ));
                    }
                }
            }
        }
        headline_done = true;
    }
    out.notes.push("each algorithm is compared with the benchmark its guarantee refers to (`ratio_own_benchmark`): greedy 0.5 and balance 0.567 (equal vanishing p) against the budget LP (Mehta & Panigrahi 2012; no online algorithm above 0.621 against it); stochastic balance 0.576 (equal) / 0.572 (unequal vanishing p) against Huang & Zhang's (2020) configuration LP (equal p, as here: exactly, as one assignment problem, since the LP then has an integral optimum; column generation with exact pricing otherwise); ranking 1 - 1/e (factorised p, equal p included) against Goyal & Udwani's path-based LP (`path_lp`: the compact edge LP on small instances, column generation over paths with exact dynamic-programming pricing on large ones, certified by a feasible dual either way; it depends on the arrival order: the given order, or for random-order runs the mean over 8 random orders), which lies between the configuration LP and the budget LP and bounds every clairvoyant adaptive offline algorithm. `competitive_ratio` stays E[successes] / budget LP for every algorithm (the largest benchmark). The 2023 paper's 0.611 (stochastic balance, stochastic configuration LP) is not re-derived here".into());
    out.notes.push("empirical ratios on specific instances can exceed the worst-case bounds; the upper-triangular instance with arrivals in the given order is the classic hard case for greedy".into());
    Ok(out)
}

/// Parameters of `dag-learning`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct DagLearningParams {
    /// Variables of the linear SEM.
    nodes: usize,
    /// Samples drawn.
    samples: usize,
}

fn dag_learning(ctx: &Context) -> anyhow::Result<Outcome> {
    use rand::seq::SliceRandom;
    let p: DagLearningParams = ctx.params()?;
    let (d, n) = (p.nodes, p.samples);
    let np = NotearsParams::default();
    let lambda = np.lambda();
    let mut out = Outcome::default();
    // Least-squares runs: per method (score, shd).
    let names = ["notears", "topo_random", "topo_from_notears", "topo_expsq"];
    let mut sums = [[0.0f64; 2]; 4];
    // Same objective F = LS + lambda L1 on the raw estimates: NOTEARS, TOPO
    // with the lasso inner fit (random start, from NOTEARS' order).
    let (mut f_nt, mut f_tl, mut f_tln) = (Vec::new(), Vec::new(), Vec::new());
    let mut shd_tl = 0.0;
    let mut count = 0.0;
    let mut topo_wins = 0;
    for graph in [GraphType::ErdosRenyi, GraphType::ScaleFree] {
        let gname = if graph == GraphType::ErdosRenyi {
            "ER2"
        } else {
            "SF2"
        };
        for &seed in &ctx.seeds {
            let mut rng = ctx.seeder.child(seed).named(gname).rng(0);
            let truth = random_dag(d, 2 * d, graph, &mut rng)?;
            let x = simulate_linear_sem(&truth, n, Noise::Gaussian, &mut rng)?;
            let data = Data::new(&x, d)?;
            let task = format!("{gname}-d{d}-n{n}-gauss");
            let start = Instant::now();
            let nt = notears(&data, &np)?;
            let nt_secs = start.elapsed().as_secs_f64();
            let mut random_order: Vec<usize> = (0..d).collect();
            random_order.shuffle(&mut rng);
            let start = Instant::now();
            let tr = topo(&data, &random_order, &TopoParams::default())?.fit;
            let tr_secs = start.elapsed().as_secs_f64();
            let order = nt.w.topological_order().unwrap_or_else(|| (0..d).collect());
            let tw = topo(&data, &order, &TopoParams::default())?.fit;
            let expsq = TopoParams::default().with_gradient(SwapGradient::ExpSquare);
            let te = topo(&data, &random_order, &expsq)?.fit;
            let l1 = TopoParams::default().with_lambda(lambda);
            let start = Instant::now();
            let tl = topo(&data, &random_order, &l1)?.fit;
            let tl_secs = start.elapsed().as_secs_f64();
            let tln = topo(&data, &order, &l1)?.fit;
            for (k, (name, fit, secs)) in [
                ("notears", &nt, nt_secs),
                ("topo-random", &tr, tr_secs),
                ("topo-from-notears", &tw, f64::NAN),
                ("topo-expsq", &te, f64::NAN),
                ("topo-l1", &tl, tl_secs),
                ("topo-l1-from-notears", &tln, f64::NAN),
            ]
            .into_iter()
            .enumerate()
            {
                let acc = accuracy(&truth, &fit.w)?;
                let score = data.loss(&fit.w.w).value;
                let mut rec = RunRecord::new(name, task.as_str(), seed)
                    .with_metric("score", score)
                    .with_metric(
                        "objective_l1_raw",
                        l1_objective(&data, &fit.w_raw.w, lambda),
                    )
                    .with_metric("shd", acc.shd as f64)
                    .with_metric("tpr", acc.tpr)
                    .with_metric("fdr", acc.fdr);
                if secs.is_finite() {
                    rec = rec.with_metric("seconds", secs);
                }
                out.records.push(rec);
                if k < 4 {
                    sums[k][0] += score;
                    sums[k][1] += acc.shd as f64;
                } else if k == 4 {
                    shd_tl += acc.shd as f64;
                }
            }
            f_nt.push(l1_objective(&data, &nt.w_raw.w, lambda));
            f_tl.push(l1_objective(&data, &tl.w_raw.w, lambda));
            f_tln.push(l1_objective(&data, &tln.w_raw.w, lambda));
            count += 1.0;
            if data.loss(&tr.w.w).value < data.loss(&nt.w.w).value {
                topo_wins += 1;
            }
        }
    }
    for (k, name) in names.iter().enumerate() {
        out.headlines.push(Headline {
            name: format!("mean_score_{name}"),
            value: sums[k][0] / count,
            digits: 4,
        });
        out.headlines.push(Headline {
            name: format!("mean_shd_{name}"),
            value: sums[k][1] / count,
            digits: 2,
        });
    }
    let mean = |v: &[f64]| v.iter().sum::<f64>() / v.len() as f64;
    for (name, v) in [
        ("mean_objective_l1_notears", &f_nt),
        ("mean_objective_l1_topo", &f_tl),
        ("mean_objective_l1_topo_from_notears", &f_tln),
    ] {
        out.headlines.push(Headline {
            name: name.into(),
            value: mean(v),
            digits: 4,
        });
    }
    out.headlines.push(Headline {
        name: "mean_shd_topo_l1".into(),
        value: shd_tl / count,
        digits: 2,
    });
    let held = sums[1][0] < sums[0][0];
    out.notes.push(format!(
        "least squares (the reference's default, TOPO without L1; NOTEARS with its L1 term): mean score of thresholded estimates NOTEARS {:.4}, TOPO (random start) {:.4}, TOPO from NOTEARS {:.4}; TOPO lower in {topo_wins}/{} runs -> {}. This compares different objectives; the same-objective comparison follows",
        sums[0][0] / count,
        sums[1][0] / count,
        sums[2][0] / count,
        count,
        if held { "held on average" } else { "NOT held on average" }
    ));
    let ci = |a: &[f64], b: &[f64]| -> anyhow::Result<String> {
        let wins = a.iter().zip(b).filter(|(x, y)| x < y).count();
        Ok(
            match duality_eval::comparison::PairedScores::new(a.to_vec(), b.to_vec()) {
                Ok(pair) => {
                    let iv = pair.analytic_ci(0.95)?;
                    let verdict = if iv.hi < 0.0 {
                        "HELD (CI below 0)"
                    } else if iv.lo > 0.0 {
                        "NOT held (CI above 0)"
                    } else {
                        "NOT shown (CI covers 0)"
                    };
                    format!(
                    "mean difference {:+.4} (95% paired t CI [{:+.4}, {:+.4}]), lower in {wins}/{} runs -> {verdict}",
                    iv.estimate,
                    iv.lo,
                    iv.hi,
                    a.len()
                )
                }
                Err(e) => format!("no CI ({e}); lower in {wins}/{} runs", a.len()),
            },
        )
    };
    out.notes.push(format!(
        "claim (Deng et al. 2023) under the same objective F = 1/(2n)||X - XW||^2 + {lambda} ||W||_1 on the raw (unthresholded) estimates: NOTEARS {:.4}, TOPO with lasso inner fits (random start) {:.4}, same from NOTEARS' order {:.4}. TOPO - NOTEARS: {}; TOPO from NOTEARS - NOTEARS: {}",
        mean(&f_nt),
        mean(&f_tl),
        mean(&f_tln),
        ci(&f_tl, &f_nt)?,
        ci(&f_tln, &f_nt)?,
    ));
    out.notes.push(format!(
        "swap-candidate gradient: log-det inv(I - |W|)^T (the reference's TOPO_linear._h; our default) vs exp(W o W): mean least-squares score {:.4} vs {:.4}, SHD {:.2} vs {:.2} (same random start orders)",
        sums[1][0] / count,
        sums[3][0] / count,
        sums[1][1] / count,
        sums[3][1] / count,
    ));
    out.notes.push(format!(
        "NOTEARS: lambda {}, threshold {}, inner solver {:?} (L-BFGS-B with generalised Cauchy point + subspace minimisation is available as `NotearsParams::with_inner(InnerSolver::LbfgsB)`; not run here); TOPO: least-squares (or lasso, lambda {lambda}) inner fits, threshold {}, one enlarged search",
        np.lambda(),
        np.w_threshold(),
        np.inner(),
        TopoParams::default().w_threshold()
    ));
    Ok(out)
}

/// Parameters of `udc`.
#[cfg(feature = "torch")]
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct UdcParams {
    /// Uniform instance sizes; one instance per size and seed.
    cities: Vec<usize>,
    /// The divide-only checkpoint, relative to fixtures/.
    divide_only: String,
}

/// Paired comparison `a` vs `b` (lengths per instance) as relative
/// differences `100 (a / b - 1)`: mean, 95% paired t CI, wins, verdict.
#[cfg(feature = "torch")]
fn paired_pct(a: &[f64], b: &[f64]) -> anyhow::Result<(f64, String)> {
    let pct: Vec<f64> = a
        .iter()
        .zip(b)
        .map(|(x, y)| 100.0 * (x / y - 1.0))
        .collect();
    let zeros = vec![0.0; pct.len()];
    let wins = pct.iter().filter(|v| **v < 0.0).count();
    let mean = pct.iter().sum::<f64>() / pct.len().max(1) as f64;
    let text = match duality_eval::comparison::PairedScores::new(pct.clone(), zeros) {
        Ok(pair) => {
            let iv = pair.analytic_ci(0.95)?;
            let verdict = if iv.hi < 0.0 {
                "HELD (CI below 0)"
            } else if iv.lo > 0.0 {
                "NOT held (CI above 0: the claim is reversed)"
            } else {
                "NOT shown (CI covers 0)"
            };
            format!(
                "{:+.2}% (95% paired t CI [{:+.2}, {:+.2}]), shorter on {wins}/{} -> {verdict}",
                iv.estimate,
                iv.lo,
                iv.hi,
                pct.len()
            )
        }
        Err(e) => format!("{mean:+.2}% (no CI: {e}), shorter on {wins}/{}", pct.len()),
    };
    Ok((mean, text))
}

#[cfg(feature = "torch")]
fn udc(ctx: &Context) -> anyhow::Result<Outcome> {
    use crate::tsp::UdcPolicy;
    let p: UdcParams = ctx.params()?;
    let divide_only = duality_bench::fixtures_dir().join(&p.divide_only);
    if !divide_only.is_file() {
        anyhow::bail!(
            "parameter divide_only: no checkpoint at {}",
            divide_only.display()
        );
    }
    let e2e_policy = UdcPolicy::shipped()?;
    let do_policy = UdcPolicy::load(&divide_only)?;
    let mut out = Outcome::default();
    for &n in &p.cities {
        let task = format!("uniform{n}");
        let (mut dcr, mut e2e, mut dvo) = (Vec::new(), Vec::new(), Vec::new());
        let (mut div_e2e, mut div_do) = (Vec::new(), Vec::new());
        for &seed in &ctx.seeds {
            let inst = Instance::random_uniform(n, &mut ctx.seeder.named(&task).rng(seed))?;
            let seed_run = ctx.seeder.seed_for(seed);
            let runs = [
                ("dcr", SolveParams::new("dcr")),
                ("udc", SolveParams::new("udc")),
                (
                    "udc-divide-only",
                    SolveParams::new("udc").with_udc_model(Some(divide_only.clone())),
                ),
            ];
            for (name, params) in runs {
                let sol = solve(&inst, &params.with_seed(seed_run))?;
                let mut rec = RunRecord::new(name, task.as_str(), seed)
                    .with_metric("length", sol.length)
                    .with_metric("seconds", sol.seconds);
                let divide = match name {
                    "udc" => Some(e2e_policy.divide(&inst, 0)?.length(&inst)),
                    "udc-divide-only" => Some(do_policy.divide(&inst, 0)?.length(&inst)),
                    _ => None,
                };
                if let Some(len) = divide {
                    rec = rec.with_metric("divide_length", len);
                }
                out.records.push(rec);
                match name {
                    "dcr" => dcr.push(sol.length),
                    "udc" => {
                        e2e.push(sol.length);
                        div_e2e.extend(divide);
                    }
                    _ => {
                        dvo.push(sol.length);
                        div_do.extend(divide);
                    }
                }
            }
        }
        let (a_mean, a_text) = paired_pct(&e2e, &dcr)?;
        let (b_mean, b_text) = paired_pct(&e2e, &dvo)?;
        out.headlines.push(Headline {
            name: format!("udc_vs_dcr_pct_{task}"),
            value: a_mean,
            digits: 2,
        });
        out.headlines.push(Headline {
            name: format!("end_to_end_vs_divide_only_pct_{task}"),
            value: b_mean,
            digits: 2,
        });
        let mean = |v: &[f64]| v.iter().sum::<f64>() / v.len().max(1) as f64;
        out.notes.push(format!(
            "{task} ({} instances): claim (a) UDC after conquer + reunion shorter than the heuristic (greedy + Or-2opt) divide at the same DCR budget: udc vs dcr {a_text}. Claim (b) end-to-end reward beats divide-only: {b_text}. Mean divide-tour lengths before conquer: end-to-end policy {:.2}, divide-only policy {:.2}",
            dcr.len(),
            mean(&div_e2e),
            mean(&div_do),
        ));
    }
    out.notes.push(format!(
        "both checkpoints are the shipped 200-city ones (fixtures/combopt/udc, 600 REINFORCE steps each; no training in the bench); the end-to-end one is embedded, the divide-only one read from {}; UDC's divide is greedy decoding from city 0, then the same DCR improver as dcr (default DcrParams), seeds shared per instance",
        p.divide_only
    ));
    Ok(out)
}

/// Parameters of `vrp-gaps`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct VrpGapsParams {
    /// Customers of the generated X-style uniform instances (one per seed).
    generated: Vec<usize>,
    /// DCR rounds and kicks per group.
    rounds: usize,
    kicks: usize,
    /// Equal time budget (seconds) of `dcr` and PyVRP under `--compare`.
    compare_seconds: f64,
}

fn vrp_gaps(ctx: &Context) -> anyhow::Result<Outcome> {
    use crate::vrp::{read_vrp, solve_vrp, write_vrp, VrpParams, XGenerator, VRP_METHODS};
    let p: VrpGapsParams = ctx.params()?;
    let dir = duality_bench::fixtures_dir().join("combopt/cvrplib");
    let table = std::fs::read_to_string(dir.join("optima.csv"))
        .map_err(|e| anyhow::anyhow!("reading {}: {e}", dir.join("optima.csv").display()))?;
    let mut out = Outcome::default();
    let params = |m: &str, seed: u64| VrpParams {
        rounds: p.rounds,
        kicks: p.kicks,
        seed,
        ..VrpParams::new(m)
    };
    let mut gaps: Vec<Vec<f64>> = vec![Vec::new(); VRP_METHODS.len()];
    let mut names = Vec::new();
    let mut comparisons: Vec<(f64, PeerComparison)> = Vec::new();
    for line in table.lines().skip(1).filter(|l| !l.trim().is_empty()) {
        let f: Vec<&str> = line.split(',').collect();
        let (name, opt): (&str, f64) = match f.as_slice() {
            [name, _, _, opt] => (name, opt.trim().parse()?),
            _ => anyhow::bail!("optima.csv: bad line {line:?}"),
        };
        names.push(name.to_string());
        let inst = read_vrp(dir.join(format!("{name}.vrp")))?;
        let spec = PeerSpec {
            name: format!("dcr-vs-pyvrp-{name}"),
            peer: "pyvrp".into(),
            script: "fixtures/combopt/peer_pyvrp.py".into(),
            input: serde_json::json!({
                "vrp_text": write_vrp(&inst),
                "seconds": p.compare_seconds,
                "seed": 0,
            }),
            reps: 1,
        };
        let timed = VrpParams {
            time_limit: Some(p.compare_seconds),
            ..VrpParams::new("dcr")
        };
        if let Some(c) = ctx.compare_with_peer(&spec, || Ok(vec![solve_vrp(&inst, &timed)?.cost])) {
            comparisons.push((opt, c));
        }
        for (k, (method, _)) in VRP_METHODS.iter().enumerate() {
            let seeds: Vec<u64> = if *method == "dcr" {
                ctx.seeds.clone()
            } else {
                vec![0]
            };
            let mut sum = 0.0;
            for &seed in &seeds {
                let sol = solve_vrp(&inst, &params(method, ctx.seeder.seed_for(seed)))?;
                let gap = 100.0 * (sol.cost / opt - 1.0);
                sum += gap;
                out.records.push(
                    RunRecord::new(*method, name, seed)
                        .with_metric("cost", sol.cost)
                        .with_metric("gap_pct", gap)
                        .with_metric("routes", sol.routes.len() as f64)
                        .with_metric("seconds", sol.seconds),
                );
            }
            gaps[k].push(sum / seeds.len() as f64);
        }
    }
    let mut summary = Vec::new();
    for (k, (method, _)) in VRP_METHODS.iter().enumerate() {
        let mean = gaps[k].iter().sum::<f64>() / gaps[k].len().max(1) as f64;
        out.headlines.push(Headline {
            name: format!("mean_gap_pct_{}", method.replace('-', "_")),
            value: mean,
            digits: 2,
        });
        let per: Vec<String> = names
            .iter()
            .zip(&gaps[k])
            .map(|(n, g)| format!("{n} {g:.2}%"))
            .collect();
        summary.push(format!("{method}: mean {mean:.2}% ({})", per.join(", ")));
    }
    out.notes.push(format!(
        "gap to the proven optimum (CVRPLIB rounding) on {} shipped instances; dcr averaged over {} seeds ({} rounds, {} kicks per group): {}",
        names.len(),
        ctx.seeds.len(),
        p.rounds,
        p.kicks,
        summary.join("; ")
    ));
    for &n in &p.generated {
        let task = format!("x-uniform{n}");
        let (mut dcr, mut ls, mut sav) = (Vec::new(), Vec::new(), Vec::new());
        for &seed in &ctx.seeds {
            let inst =
                XGenerator::uniform(n).generate(&mut ctx.seeder.named(&task).rng(seed), &task)?;
            for (method, acc) in [
                ("savings", &mut sav),
                ("savings-ls", &mut ls),
                ("dcr", &mut dcr),
            ] {
                let sol = solve_vrp(&inst, &params(method, ctx.seeder.seed_for(seed)))?;
                acc.push(sol.cost);
                out.records.push(
                    RunRecord::new(method, task.as_str(), seed)
                        .with_metric("cost", sol.cost)
                        .with_metric("routes", sol.routes.len() as f64)
                        .with_metric("seconds", sol.seconds),
                );
            }
        }
        let pct = |a: &[f64], b: &[f64]| -> anyhow::Result<String> {
            let d: Vec<f64> = a
                .iter()
                .zip(b)
                .map(|(x, y)| 100.0 * (x / y - 1.0))
                .collect();
            let mean = d.iter().sum::<f64>() / d.len().max(1) as f64;
            Ok(
                match duality_eval::comparison::PairedScores::new(d.clone(), vec![0.0; d.len()]) {
                    Ok(pair) => {
                        let iv = pair.analytic_ci(0.95)?;
                        format!(
                            "{:+.2}% (95% paired t CI [{:+.2}, {:+.2}])",
                            iv.estimate, iv.lo, iv.hi
                        )
                    }
                    Err(_) => format!("{mean:+.2}% (no CI: fewer than 2 seeds)"),
                },
            )
        };
        let mean_rel = dcr
            .iter()
            .zip(&ls)
            .map(|(a, b)| 100.0 * (a / b - 1.0))
            .sum::<f64>()
            / dcr.len().max(1) as f64;
        out.headlines.push(Headline {
            name: format!("dcr_vs_savings_ls_pct_{}", task.replace('-', "_")),
            value: mean_rel,
            digits: 2,
        });
        out.notes.push(format!(
            "{task} ({} seeds, X-style: uniform depot and customers on the 1000 grid, demands U[1,10], 10 customers per route): dcr vs savings-ls {}; savings-ls vs savings {}",
            dcr.len(),
            pct(&dcr, &ls)?,
            pct(&ls, &sav)?,
        ));
    }
    if ctx.compare {
        let lines: Vec<String> = comparisons
            .iter()
            .map(|(opt, c)| {
                if let Some(why) = &c.skipped {
                    return format!("{}: skipped ({why})", c.name);
                }
                match (c.duality_result.first(), c.peer_result.first()) {
                    (Some(&ours), Some(&peer)) if peer > 0.0 => format!(
                        "{}: dcr {ours} ({:+.2}% vs optimum) vs PyVRP {peer} ({:+.2}%), dcr/PyVRP - 1 = {:+.2}%, time ratio {}",
                        c.name,
                        100.0 * (ours / opt - 1.0),
                        100.0 * (peer / opt - 1.0),
                        100.0 * (ours / peer - 1.0),
                        c.ratio_median.map_or("n/a".into(), |r| format!("{r:.2}")),
                    ),
                    _ => format!("{}: ran, but returned no comparable costs", c.name),
                }
            })
            .collect();
        out.notes.push(format!(
            "--compare, equal time budget of {} s each (dcr with --time-limit, PyVRP MaxRuntime): {}",
            p.compare_seconds,
            lines.join("; ")
        ));
    } else {
        out.notes.push("PyVRP comparison (peer fixtures/combopt/peer_pyvrp.py, pyvrp 0.14.1) only under --compare; the peers venv needs `pyvrp` (see docs/combopt.md)".into());
    }
    Ok(out)
}

/// Parameters of `auctions`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct AuctionsParams {
    /// Random position-auction instances per seed.
    trials: usize,
}

fn auctions(ctx: &Context) -> anyhow::Result<Outcome> {
    let p: AuctionsParams = ctx.params()?;
    let trials = p.trials;
    let mut out = Outcome::default();
    for &seed in &ctx.seeds {
        let mut rng = ctx.seeder.rng(seed);
        let (mut welfare, mut revenue, mut ratio_sum, mut ratio_min) =
            (0.0, 0.0, 0.0, f64::INFINITY);
        for _ in 0..trials {
            let n = 8;
            let bids: Vec<f64> = (0..n).map(|_| rng.random_range(0.0..10.0)).collect();
            let ctr: Vec<Vec<f64>> = (0..4)
                .map(|k| {
                    (0..n)
                        .map(|_| rng.random_range(0.0..0.3) * 0.8f64.powi(k))
                        .collect()
                })
                .collect();
            let o = PositionAuction::new(bids.clone(), ctr)?.vcg()?;
            welfare += o.welfare;
            revenue += o.revenue;
            let c = Cascade::new(
                bids,
                (0..n).map(|_| rng.random_range(0.0..0.5)).collect(),
                (0..n).map(|_| rng.random_range(0.3..1.0)).collect(),
                4,
            )?;
            let opt = c.welfare(&c.optimal());
            let r = if opt > 0.0 {
                c.welfare(&c.greedy()) / opt
            } else {
                1.0
            };
            ratio_sum += r;
            ratio_min = f64::min(ratio_min, r);
        }
        let t = trials as f64;
        out.records.push(
            RunRecord::new("vcg-assignment", "8-creatives-4-slots", seed)
                .with_metric("welfare", welfare / t)
                .with_metric("revenue", revenue / t)
                .with_metric("revenue_share", revenue / welfare),
        );
        out.records.push(
            RunRecord::new("cascade-greedy", "8-creatives-4-slots", seed)
                .with_metric("welfare_ratio_mean", ratio_sum / t)
                .with_metric("welfare_ratio_min", ratio_min),
        );
        if seed == ctx.seeds[0] {
            out.headlines.push(Headline {
                name: "vcg_revenue_share_seed0".into(),
                value: revenue / welfare,
                digits: 4,
            });
            out.headlines.push(Headline {
                name: "cascade_greedy_ratio_seed0".into(),
                value: ratio_sum / t,
                digits: 4,
            });
        }
    }
    out.notes.push("cascade: exact optimum by Kempe & Mahdian's sort-and-DP; greedy ignores externalities (top-K by bid x click)".into());
    auctions_revenue(ctx, trials, &mut out)?;
    Ok(out)
}

/// The paper's revenue claim (Balseiro et al. 2025: under MNL the optimal
/// mechanism is efficiently implementable): on `trials` MNL auctions per
/// seed with values drawn from U[0, 10], the Myerson mechanism
/// (`mnl_myerson`) vs VCG (`mnl_optimal`), and Myerson's identity (expected
/// revenue = expected virtual welfare); plus the cascade model with
/// position-specific click rates: separable approximation vs exact DP.
fn auctions_revenue(ctx: &Context, trials: usize, out: &mut Outcome) -> anyhow::Result<()> {
    let (n, k) = (6, 3);
    let dists = vec![
        ValueDistribution::Uniform {
            low: 0.0,
            high: 10.0
        };
        n
    ];
    let (mut myerson, mut vcg, mut virt) = (Vec::new(), Vec::new(), Vec::new());
    let (mut w_myerson, mut w_vcg) = (0.0, 0.0);
    let (mut cascade_ratio, mut cascade_min) = (Vec::new(), f64::INFINITY);
    for &seed in &ctx.seeds {
        // A stream of its own, so the VCG/cascade draws above do not move.
        let mut rng = ctx.seeder.child(seed).rng(7);
        let (mut m_sum, mut v_sum) = (0.0, 0.0);
        for _ in 0..trials {
            let v: Vec<Vec<f64>> = (0..k)
                .map(|_| (0..n).map(|_| rng.random_range(0.1..1.5)).collect())
                .collect();
            let bids: Vec<f64> = dists.iter().map(|d| d.sample(&mut rng)).collect();
            let m = mnl_myerson(&bids, &v, &dists)?;
            let c = mnl_optimal(&bids, &v)?;
            virt.push(mnl_virtual_welfare(&bids, &v, &dists, &m.slots));
            myerson.push(m.revenue);
            vcg.push(c.revenue);
            w_myerson += m.welfare;
            w_vcg += c.welfare;
            m_sum += m.revenue;
            v_sum += c.revenue;
            let pc = PositionalCascade::new(
                (0..8).map(|_| rng.random_range(0.0..10.0)).collect(),
                (0..4)
                    .map(|_| (0..8).map(|_| rng.random_range(0.0..0.5)).collect())
                    .collect(),
                (0..8).map(|_| rng.random_range(0.3..1.0)).collect(),
            )?;
            let opt = pc.welfare(&pc.optimal()?);
            let r = if opt > 0.0 {
                pc.welfare(&pc.separable_approximation()?) / opt
            } else {
                1.0
            };
            cascade_ratio.push(r);
            cascade_min = cascade_min.min(r);
        }
        let t = trials as f64;
        out.records.push(
            RunRecord::new("mnl-myerson", "6-creatives-3-positions-u0-10", seed)
                .with_metric("revenue", m_sum / t),
        );
        out.records.push(
            RunRecord::new("mnl-vcg", "6-creatives-3-positions-u0-10", seed)
                .with_metric("revenue", v_sum / t),
        );
    }
    let count = myerson.len() as f64;
    let mean = |x: &[f64]| x.iter().sum::<f64>() / x.len().max(1) as f64;
    out.headlines.push(Headline {
        name: "mnl_myerson_over_vcg_revenue".into(),
        value: mean(&myerson) / mean(&vcg),
        digits: 4,
    });
    out.headlines.push(Headline {
        name: "positional_cascade_separable_ratio".into(),
        value: mean(&cascade_ratio),
        digits: 4,
    });
    let ci = |a: &[f64], b: &[f64]| -> anyhow::Result<(f64, f64, f64)> {
        let iv = duality_eval::comparison::PairedScores::new(a.to_vec(), b.to_vec())?
            .analytic_ci(0.95)?;
        Ok((iv.estimate, iv.lo, iv.hi))
    };
    let (d, lo, hi) = ci(&myerson, &vcg)?;
    out.notes.push(format!(
        "claim (Balseiro et al. 2025, MNL: the revenue-optimal mechanism is efficiently implementable; Myerson 1981): Myerson (virtual-value Dinkelbach, reserve 5 for U[0, 10] values) vs VCG on {count} MNL auctions (6 creatives, 3 positions): mean revenue {:.4} vs {:.4}, difference {d:+.4} (95% paired t CI [{lo:+.4}, {hi:+.4}]) -> {}; welfare {:.4} vs {:.4} (the revenue costs welfare)",
        mean(&myerson),
        mean(&vcg),
        if lo > 0.0 { "HELD on this run (CI above 0)" } else if hi < 0.0 { "NOT held (CI below 0)" } else { "NOT shown (CI covers 0)" },
        w_myerson / count,
        w_vcg / count,
    ));
    let (d, lo, hi) = ci(&myerson, &virt)?;
    out.notes.push(format!(
        "Myerson's identity E[revenue] = E[virtual welfare]: revenue - virtual welfare {d:+.4} (95% CI [{lo:+.4}, {hi:+.4}]) -> {}",
        if lo <= 0.0 && hi >= 0.0 { "consistent (CI covers 0)" } else { "NOT consistent (CI excludes 0)" }
    ));
    out.notes.push(format!(
        "cascade with position-specific click rates (8 creatives, 4 positions): Kempe-Mahdian sort-and-DP on position-mean click rates reaches {:.4} of the exact subset-DP welfare on average (worst {:.4}); the paper's own approximation for the cascade model was not reachable (abstract only), so this is not its algorithm",
        mean(&cascade_ratio),
        cascade_min
    ));
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_cover_every_experiment_and_parse_as_typed_params() {
        let suite = suite();
        let names: Vec<&str> = suite.experiments.iter().map(|e| e.name).collect();
        duality_bench::check_defaults(suite.name, suite.defaults, &names, true).unwrap();
        for quick in [false, true] {
            let ctx = |name: &str| Context::for_test(&suite, name, quick).unwrap();
            let gaps: TspGapsParams = ctx("tsp-gaps").params().unwrap();
            for list in [&gaps.headline, &gaps.plot, &gaps.claim_methods] {
                registered("tsp-gaps", list).unwrap();
            }
            let _: DcrLargeParams = ctx("dcr-large").params().unwrap();
            let _: TspBoundParams = ctx("tsp-bound").params().unwrap();
            let lkh: TspVsLkhParams = ctx("tsp-vs-lkh").params().unwrap();
            registered("tsp-vs-lkh", &lkh.methods).unwrap();
            let _: AssignmentParams = ctx("assignment").params().unwrap();
            let m: OnlineMatchingParams = ctx("online-matching").params().unwrap();
            for a in &m.algorithms {
                a.parse::<OnlineAlgorithm>().unwrap();
            }
            let _: DagLearningParams = ctx("dag-learning").params().unwrap();
            let _: AuctionsParams = ctx("auctions").params().unwrap();
        }
        let e = registered("plot", &["or2opt".into(), "bogus".into()]).unwrap_err();
        assert!(
            e.to_string().contains("bogus") && e.to_string().contains("plot"),
            "{e}"
        );
    }

    #[test]
    fn notes_without_compare_say_no_comparison_ran() {
        let suite = suite();
        let ctx = Context::for_test(&suite, "assignment", true).unwrap();
        let out = assignment(&ctx).unwrap();
        assert_eq!(out.headlines.len(), 2);
        assert!(
            out.notes.iter().any(|n| n.contains("no comparison")),
            "{:?}",
            out.notes
        );
        let ctx = Context::for_test(&suite, "auctions", true).unwrap();
        assert_eq!(auctions(&ctx).unwrap().headlines.len(), 4);
    }

    #[test]
    fn verdicts_state_what_the_comparison_measured() {
        let p = TspVsLkhParams {
            cities: 10,
            methods: vec![],
            headline: vec![],
            compare: vec![],
            compare_reps: 1,
            target_gap_pct: 5.0,
            target_time_ratio: 0.1,
        };
        let c = PeerComparison {
            experiment: "combopt/tsp-vs-lkh".into(),
            name: "dcr-vs-lkh-uniform10".into(),
            peer: "elkai 2.0.1".into(),
            skipped: None,
            duality_seconds: vec![0.01, 0.01],
            peer_seconds: vec![1.0, 1.0],
            ratio_median: Some(0.01),
            ratio_range: Some((0.01, 0.01)),
            max_abs_diff: Some(0.2),
            duality_result: vec![10.2],
            peer_result: vec![10.0],
        };
        let v = lkh_verdict(&c, &p);
        assert!(
            v.contains("+2.00%") && v.contains("held") && !v.contains("NOT"),
            "{v}"
        );
        let skipped = PeerComparison {
            skipped: Some("peers venv missing".into()),
            ..c
        };
        assert!(lkh_verdict(&skipped, &p).contains("skipped (peers venv missing)"));
    }
}

/// Parameters of `milp-branching`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct MilpBranchingParams {
    /// Instance family (`milp::generators::FAMILIES`).
    family: String,
    /// Size of the training instances (the learned policy's).
    train_scale: usize,
    /// Training instances per seed.
    train_instances: usize,
    /// Size of the test instances (larger than the training ones).
    test_scale: usize,
    /// Test instances per seed.
    test_instances: usize,
    /// Rules compared besides the learned one (registry names).
    rules: Vec<String>,
    /// Node limit per solve (a solve that hits it is reported).
    max_nodes: u64,
    /// Dual pivots per strong-branching child LP (expert and rules).
    strong_iterations: u64,
    /// Imitation learning: epochs, batch and Adam learning rate.
    epochs: usize,
    batch: usize,
    lr: f64,
    /// RL stage (rule `rl`): policy-gradient iterations on the training
    /// instances (0: no RL stage).
    #[serde(default = "milp_rl_iterations")]
    rl_iterations: usize,
    /// RL stage: episodes per training instance and iteration.
    #[serde(default = "milp_rl_rollouts")]
    rl_rollouts: usize,
    /// RL stage: Adam learning rate.
    #[serde(default = "milp_rl_lr")]
    rl_lr: f64,
    /// RL stage: discount along a revived trajectory.
    #[serde(default = "milp_rl_gamma")]
    rl_gamma: f64,
    /// Optional explicit seed count (the command line's --seeds wins).
    #[serde(default)]
    #[allow(dead_code)]
    seeds: Option<u64>,
}

fn milp_rl_iterations() -> usize {
    4
}
fn milp_rl_rollouts() -> usize {
    2
}
fn milp_rl_lr() -> f64 {
    1e-4
}
fn milp_rl_gamma() -> f64 {
    1.0
}

/// One solve: `(nodes, lp pivots, strong pivots, seconds, objective, optimal)`.
type SolveStats = (u64, u64, u64, f64, f64, bool);

/// One seed of `milp-branching`: per rule, the solves of its test instances;
/// the imitation report when a policy was trained.
#[derive(Debug, serde::Serialize, serde::Deserialize)]
struct MilpSeed {
    rules: Vec<(String, Vec<SolveStats>)>,
    samples: usize,
    accuracy: f64,
    first_loss: f64,
    last_loss: f64,
    /// RL stage: decisions learned from, mean episode nodes of the first
    /// and last iteration.
    rl_decisions: usize,
    rl_first_nodes: f64,
    rl_last_nodes: f64,
}

fn milp_solve(
    p: &crate::milp::Milp,
    rule: &mut dyn crate::milp::BranchingRule,
    max_nodes: u64,
) -> anyhow::Result<SolveStats> {
    use crate::milp::{branch_and_bound, BnbParams, Termination};
    let r = branch_and_bound(
        p,
        rule,
        &BnbParams {
            max_nodes,
            ..BnbParams::default()
        },
    )?;
    Ok((
        r.nodes,
        r.lp_iterations,
        r.strong_iterations,
        r.seconds,
        r.objective.unwrap_or(f64::NAN),
        r.status == Termination::Optimal,
    ))
}

fn milp_branching(ctx: &Context) -> anyhow::Result<Outcome> {
    use crate::milp::{generators, BranchingRegistry, RuleOptions};
    let p: MilpBranchingParams = ctx.params()?;
    if !generators::FAMILIES.contains(&p.family.as_str()) {
        anyhow::bail!(
            "parameter family = {:?}: expected one of {}",
            p.family,
            generators::FAMILIES.join(", ")
        );
    }
    let registry = BranchingRegistry::builtin();
    let opts = RuleOptions {
        strong_iterations: p.strong_iterations,
        ..RuleOptions::default()
    };
    for r in &p.rules {
        registry
            .make(r, &opts)
            .map_err(|e| anyhow::anyhow!("parameter rules: {e}"))?;
    }
    if !p.rules.iter().any(|r| r == "pseudo-cost") {
        anyhow::bail!("parameter rules must include pseudo-cost (the claim's baseline)");
    }
    let seeds = ctx.per_seed(|seed| -> anyhow::Result<MilpSeed> {
        let seeder = ctx.seeder.child(seed);
        let test: Vec<crate::milp::Milp> = (0..p.test_instances as u64)
            .map(|k| {
                generators::generate(&p.family, p.test_scale, &mut seeder.named("test").rng(k))
            })
            .collect::<Result<_, _>>()?;
        let mut out = MilpSeed {
            rules: Vec::new(),
            samples: 0,
            accuracy: f64::NAN,
            first_loss: f64::NAN,
            last_loss: f64::NAN,
            rl_decisions: 0,
            rl_first_nodes: f64::NAN,
            rl_last_nodes: f64::NAN,
        };
        for name in &p.rules {
            let mut stats = Vec::new();
            for inst in &test {
                let mut rule = registry.make(name, &opts)?;
                stats.push(milp_solve(inst, rule.as_mut(), p.max_nodes)?);
            }
            out.rules.push((name.clone(), stats));
        }
        #[cfg(feature = "torch")]
        {
            use crate::milp::features::collect_strong_branching;
            use crate::milp::gnn::{train_imitation, train_rl, ImitationParams, Learned, RlParams};
            use crate::milp::BnbParams;
            let mut samples = Vec::new();
            let mut train = Vec::new();
            for k in 0..p.train_instances as u64 {
                let inst = generators::generate(
                    &p.family,
                    p.train_scale,
                    &mut seeder.named("train").rng(k),
                )?;
                let bp = BnbParams {
                    max_nodes: p.max_nodes,
                    ..BnbParams::default()
                };
                samples.extend(collect_strong_branching(&inst, &bp, p.strong_iterations)?.0);
                train.push(inst);
            }
            let ip = ImitationParams {
                epochs: p.epochs,
                batch: p.batch,
                lr: p.lr,
                seed: seeder.seed_for(7),
            };
            let (policy, rep) = train_imitation(&samples, &ip)?;
            out.samples = rep.samples;
            out.accuracy = rep.accuracy;
            out.first_loss = rep.first_loss;
            out.last_loss = rep.last_loss;
            let mut rule = Learned { policy };
            let stats = test
                .iter()
                .map(|inst| milp_solve(inst, &mut rule, p.max_nodes))
                .collect::<anyhow::Result<Vec<_>>>()?;
            out.rules.push(("gnn".into(), stats));
            if p.rl_iterations > 0 {
                // ReviBranch's RL stage on the same training instances.
                let rp = RlParams {
                    iterations: p.rl_iterations,
                    rollouts: p.rl_rollouts,
                    lr: p.rl_lr,
                    gamma: p.rl_gamma,
                    max_nodes: p.max_nodes,
                    seed: seeder.seed_for(8),
                };
                let (policy, rep) = train_rl(rule.policy, &train, &rp)?;
                out.rl_decisions = rep.decisions;
                out.rl_first_nodes = rep.first_nodes;
                out.rl_last_nodes = rep.last_nodes;
                let mut rule = Learned { policy };
                let stats = test
                    .iter()
                    .map(|inst| milp_solve(inst, &mut rule, p.max_nodes))
                    .collect::<anyhow::Result<Vec<_>>>()?;
                out.rules.push(("rl".into(), stats));
            }
        }
        #[cfg(not(feature = "torch"))]
        let _ = (
            p.train_instances,
            p.train_scale,
            p.epochs,
            p.batch,
            p.lr,
            p.rl_iterations,
            p.rl_rollouts,
            p.rl_lr,
            p.rl_gamma,
        );
        Ok(out)
    })?;
    let mut out = Outcome::default();
    let names: Vec<String> = seeds
        .first()
        .map(|s| s.rules.iter().map(|r| r.0.clone()).collect())
        .unwrap_or_default();
    let mut unsolved = 0usize;
    let mut mismatched = 0usize;
    for (si, s) in seeds.iter().enumerate() {
        let seed = ctx.seeds[si];
        for (name, stats) in &s.rules {
            for (k, st) in stats.iter().enumerate() {
                unsolved += usize::from(!st.5);
                let reference = s.rules[0].1[k].4;
                if st.5
                    && s.rules[0].1[k].5
                    && (st.4 - reference).abs() > 1e-6 * reference.abs().max(1.0)
                {
                    mismatched += 1;
                }
                out.records.push(
                    RunRecord::new(
                        name.as_str(),
                        format!("{}-{}#{k}", p.family, p.test_scale),
                        seed,
                    )
                    .with_metric("nodes", st.0 as f64)
                    .with_metric("lp_iterations", st.1 as f64)
                    .with_metric("strong_iterations", st.2 as f64)
                    .with_metric("seconds", st.3)
                    .with_metric("objective", st.4),
                );
            }
        }
    }
    let per_rule = |name: &str| -> Vec<SolveStats> {
        seeds
            .iter()
            .flat_map(|s| {
                s.rules
                    .iter()
                    .filter(|r| r.0 == name)
                    .flat_map(|r| r.1.clone())
            })
            .collect()
    };
    let mut summary = Vec::new();
    for name in &names {
        let st = per_rule(name);
        let geo = (st.iter().map(|s| (s.0.max(1) as f64).ln()).sum::<f64>()
            / st.len().max(1) as f64)
            .exp();
        let secs = st.iter().map(|s| s.3).sum::<f64>() / st.len().max(1) as f64;
        out.headlines.push(Headline {
            name: format!("geomean_nodes_{}", name.replace('-', "_")),
            value: geo,
            digits: 1,
        });
        summary.push(format!(
            "{name} {geo:.1} nodes (geometric mean), {secs:.3} s mean"
        ));
    }
    out.notes.push(format!(
        "{} test instances of {} at scale {} per seed, {} seeds; per rule: {}; unsolved within {} nodes: {unsolved}; objectives differing from the first rule's: {mismatched}",
        p.test_instances,
        p.family,
        p.test_scale,
        seeds.len(),
        summary.join("; "),
        p.max_nodes
    ));
    // SCIP (PySCIPOpt) on seed 0's test instances under --compare.
    if ctx.compare {
        let seeder = ctx.seeder.child(ctx.seeds.first().copied().unwrap_or(0));
        let mut lines = Vec::new();
        for k in 0..p.test_instances as u64 {
            let inst =
                generators::generate(&p.family, p.test_scale, &mut seeder.named("test").rng(k))?;
            let spec = PeerSpec {
                name: format!("scip-{}-{}-{k}", p.family, p.test_scale),
                peer: "pyscipopt".into(),
                script: "fixtures/combopt/peer_scip.py".into(),
                input: serde_json::json!({
                    "mps_text": crate::milp::write_mps_string(&inst),
                    "time_limit": 60.0,
                    "plain": true,
                }),
                reps: 1,
            };
            let solve_rel = || -> anyhow::Result<Vec<f64>> {
                let mut rule = registry.make("reliability", &opts)?;
                let st = milp_solve(&inst, rule.as_mut(), p.max_nodes)?;
                Ok(vec![st.4, st.0 as f64])
            };
            if let Some(c) = ctx.compare_with_peer(&spec, solve_rel) {
                match (&c.skipped, c.duality_result.as_slice(), c.peer_result.as_slice()) {
                    (None, [ours, our_nodes], [theirs, their_nodes]) => lines.push(format!(
                        "#{k}: objective {ours} vs {theirs} ({}), nodes {our_nodes} vs {their_nodes}, time ratio {:.2}",
                        if (ours - theirs).abs() <= 1e-6 * theirs.abs().max(1.0) { "agree" } else { "DIFFER" },
                        c.ratio_median.unwrap_or(f64::NAN)
                    )),
                    (Some(why), _, _) => lines.push(format!("#{k}: skipped ({why})")),
                    _ => lines.push(format!("#{k}: no result")),
                }
            }
        }
        out.notes.push(format!(
            "SCIP (PySCIPOpt, presolve, cuts and heuristics off) vs duality's reliability branching on seed 0's test instances: {}",
            if lines.is_empty() { "no comparison ran".to_string() } else { lines.join("; ") }
        ));
    } else {
        out.notes.push("no SCIP comparison on this run (run with --compare after `cargo xtask peers` with pyscipopt)".into());
    }
    // Geometric-mean node ratio `a / b` with the paired t CI on its log
    // over (seed, instance), or the reason there is none.
    let ratio_ci = |a: &str, b: &str| -> Result<PairedRatio, String> {
        let ln: Vec<f64> = per_rule(a)
            .iter()
            .zip(&per_rule(b))
            .map(|(x, y)| (x.0.max(1) as f64 / y.0.max(1) as f64).ln())
            .collect();
        PairedRatio::from_log_ratios(&ln, 0.95).map_err(|e| {
            let fewer = ln.iter().filter(|v| **v < 0.0).count();
            format!("no CI ({e}), fewer nodes on {fewer}/{}", ln.len())
        })
    };
    let seconds_ratio = |a: &str, b: &str| {
        per_rule(a).iter().map(|s| s.3).sum::<f64>()
            / per_rule(b).iter().map(|s| s.3).sum::<f64>().max(1e-12)
    };
    let describe = |r: Result<PairedRatio, String>, a: &str, b: &str| {
        match r {
        Ok(r) => format!(
            "node ratio {a} / {b} {:.3} (95% paired t CI on the log ratio over (seed, instance): [{:.3}, {:.3}]), fewer nodes on {}/{} -> {}",
            r.ratio,
            r.lo,
            r.hi,
            r.fewer,
            r.pairs,
            r.verdict("more nodes")
        ),
        Err(note) => note,
    }
    };
    if names.iter().any(|n| n == "gnn") {
        let r = ratio_ci("gnn", "pseudo-cost");
        if let Ok(t) = &r {
            out.headlines.push(Headline {
                name: "gnn_vs_pseudocost_node_ratio".into(),
                value: t.ratio,
                digits: 3,
            });
        }
        let verdict = describe(r, "gnn", "pseudo-cost");
        let acc: Vec<String> = seeds.iter().map(|s| format!("{:.2}", s.accuracy)).collect();
        let samples: Vec<String> = seeds.iter().map(|s| s.samples.to_string()).collect();
        out.notes.push(format!(
            "claim (ReviBranch / Gasse et al.): the learned policy needs fewer nodes than pseudo-cost at similar time on instances larger than its training ones (train scale {}, test scale {}): {verdict}; time ratio gnn / pseudo-cost on this run {:.2} (total seconds, not a headline); imitation of strong branching: samples per seed [{}], training top-1 accuracy [{}]",
            p.train_scale,
            p.test_scale,
            seconds_ratio("gnn", "pseudo-cost"),
            samples.join(", "),
            acc.join(", ")
        ));
        if names.iter().any(|n| n == "rl") {
            let mut parts = Vec::new();
            for (base, head) in [
                ("pseudo-cost", "rl_vs_pseudocost_node_ratio"),
                ("gnn", "rl_vs_gnn_node_ratio"),
            ] {
                let r = ratio_ci("rl", base);
                if let Ok(t) = &r {
                    out.headlines.push(Headline {
                        name: head.into(),
                        value: t.ratio,
                        digits: 3,
                    });
                }
                parts.push(format!(
                    "{}; time ratio rl / {base} {:.2}",
                    describe(r, "rl", base),
                    seconds_ratio("rl", base)
                ));
            }
            let episodes: Vec<String> = seeds
                .iter()
                .map(|s| format!("{:.1} -> {:.1}", s.rl_first_nodes, s.rl_last_nodes))
                .collect();
            let decisions: Vec<String> = seeds.iter().map(|s| s.rl_decisions.to_string()).collect();
            out.notes.push(format!(
                "claim (ReviBranch): RL on revived trajectories (rule rl: the imitation policy after {} REINFORCE iterations of {} episodes per training instance, tree-size reward redistributed by subtree share; as far as the abstract states, see docs/combopt.md) needs fewer nodes than pseudo-cost: {}; and than the imitation-only gnn: {}; decisions learned from per seed [{}], mean sampled-episode nodes first -> last iteration per seed [{}]",
                p.rl_iterations,
                p.rl_rollouts,
                parts[0],
                parts[1],
                decisions.join(", "),
                episodes.join("; ")
            ));
        } else {
            out.notes
                .push("ReviBranch's RL stage was off on this run (rl_iterations = 0)".into());
        }
    } else {
        out.notes.push(
            "the learned policy needs feature torch: the claim was not checked on this run".into(),
        );
    }
    Ok(out)
}
