//! Suite `combopt`: TSP gaps and times, DCR on large instances, assignment,
//! online matching, DAG learning and position auctions (duality-combopt).
//!
//! - `tsp-gaps`: gap to the known optimum (`fixtures/combopt/tsplib/optima.csv`)
//!   and time for every method on every instance (quick: up to 200 cities);
//!   claim checked: 2-opt + Or-opt within 5% up to 1,002 cities, separately
//!   for the plain local optimum (`or2opt`) and the iterated local search
//!   over it (`or2opt-ils`, double-bridge kicks).
//! - `dcr-large`: divide-conquer-reunion on ja9847 and vm22775 (full only);
//!   target: within 8% on vm22775 in under 60 s; per-round trace plotted.
//! - `tsp-vs-lkh`: random uniform 1,000-city instances against LKH (elkai)
//!   with `--compare` for DCR and for `or2opt-ils` (length difference and
//!   time ratio); target within 5% in a tenth of the time.
//! - `assignment`: 2,000 x 2,000 (quick: 200 x 200) uniform and integer
//!   costs vs scipy with `--compare`.
//! - `online-matching`: empirical competitive ratios vs the LP bound, against
//!   the proven 0.5 (greedy) / 0.567-0.576 (balance, ranking) bounds.
//! - `dag-learning`: NOTEARS vs TOPO (random and NOTEARS-initialised) on ER
//!   and SF linear SEMs: least-squares score, SHD, TPR, FDR over seeds.
//! - `auctions`: VCG welfare/revenue and the cascade greedy-vs-optimal ratio.
//!
//! Headlines only use deterministic quantities (no timings, no time limits).

use std::path::PathBuf;
use std::time::Instant;

use crate::assignment::{linear_sum_assignment, CostMatrix};
use crate::auction::{Cascade, PositionAuction};
use crate::dag::{
    accuracy, notears, random_dag, simulate_linear_sem, topo, topo_random_start, Data, GraphType,
    Noise, NotearsParams, TopoParams,
};
use crate::matching::{competitive_ratio, Arrival, MatchingInstance, OnlineAlgorithm};
use crate::tsp::{
    divide_conquer_reunion, gap_percent, read_optima, read_tsp, solve, DcrParams, Instance,
    LocalSearchSubpath, Method, SolveParams,
};
use duality_core::record::RunRecord;
use duality_eval::plot::{LineChart, Series};
use rand::Rng;

use duality_bench::PeerSpec;
use duality_bench::{Context, Experiment, Figure, Headline, Outcome, Suite};

/// The `combopt` suite.
pub fn suite() -> Suite {
    Suite {
        name: "combopt",
        about: "TSP gaps and times, assignment, online matching, DAG learning",
        defaults: include_str!("../../../fixtures/bench/combopt.toml"),
        experiments: vec![
            Experiment {
                name: "tsp-gaps",
                about: "gap to optimum and time per method on fixtures/combopt/tsplib (claim: 2-opt+Or-opt within 5% up to 1,002 cities)",
                run: tsp_gaps,
            },
            Experiment {
                name: "dcr-large",
                about: "divide-conquer-reunion on ja9847 and vm22775 (target: within 8% on vm22775 in < 60 s); full mode only",
                run: dcr_large,
            },
            Experiment {
                name: "tsp-vs-lkh",
                about: "random uniform 1,000-city instances vs LKH via elkai (--compare; target: within 5% in a tenth of the time)",
                run: tsp_vs_lkh,
            },
            Experiment {
                name: "assignment",
                about: "rectangular linear assignment, 2,000 x 2,000 (target: no slower than 1.5x scipy, --compare)",
                run: assignment,
            },
            Experiment {
                name: "online-matching",
                about: "empirical competitive ratios vs the LP bound (proven: greedy 0.5, balance 0.567, ranking 0.576)",
                run: online_matching,
            },
            Experiment {
                name: "dag-learning",
                about: "NOTEARS vs TOPO on linear SEMs (claim: TOPO reaches a lower score than NOTEARS)",
                run: dag_learning,
            },
            Experiment {
                name: "auctions",
                about: "position auctions: VCG welfare and revenue; cascade greedy vs exact DP",
                run: auctions,
            },
        ],
    }
}

fn tsplib_dir() -> PathBuf {
    duality_bench::fixtures_dir().join("combopt/tsplib")
}

/// `(name, cities, optimum)` from `optima.csv`.
/// `(name, cities, optimum)` from `optima.csv`; a missing table is an error
/// naming its path, never an empty experiment.
fn optima() -> anyhow::Result<Vec<(String, usize, f64)>> {
    Ok(read_optima(tsplib_dir().join("optima.csv"))?
        .into_iter()
        .map(|r| (r.name, r.dimension, r.length))
        .collect())
}

fn tsp_gaps(ctx: &Context) -> anyhow::Result<Outcome> {
    let mut out = Outcome::default();
    let max_n: usize = ctx.param("max_cities")?;
    let seed0 = ctx.seeds.first().copied().unwrap_or(0);
    let mut by_method: Vec<(Method, Vec<(f64, f64)>)> =
        Method::ALL.iter().map(|&m| (m, Vec::new())).collect();
    // Worst mean gap up to 1,002 cities: (gap, instance) for or2opt and or2opt-ils.
    let mut worst_plain: (f64, String) = (0.0, String::new());
    let mut worst_ils: (f64, String) = (0.0, String::new());
    let mut ils_max_secs: f64 = 0.0;
    for (name, n, opt) in optima()? {
        if n > max_n {
            continue;
        }
        ctx.progress.set_message(format!("tsp-gaps {name}"));
        let inst = read_tsp(tsplib_dir().join(format!("{name}.tsp")))?;
        for (method, pts) in by_method.iter_mut() {
            // Deterministic methods run once; DCR once per seed.
            let seeds: Vec<u64> = if matches!(*method, Method::Dcr | Method::Or2OptIls) {
                ctx.seeds.clone()
            } else {
                vec![seed0]
            };
            let mut gaps = Vec::new();
            let mut secs = Vec::new();
            for seed in seeds {
                let sol = solve(
                    &inst,
                    &SolveParams::new(*method).seed(ctx.seeder.seed_for(seed)),
                )?;
                let gap = gap_percent(sol.length, opt);
                gaps.push(gap);
                secs.push(sol.seconds);
                out.records.push(
                    RunRecord::new(method.name(), name.as_str(), seed)
                        .with_metric("gap_pct", gap)
                        .with_metric("length", sol.length)
                        .with_metric("seconds", sol.seconds),
                );
            }
            let mean = gaps.iter().sum::<f64>() / gaps.len() as f64;
            pts.push((n as f64, mean));
            if n <= 1_002 {
                let worst = match method {
                    Method::Or2Opt => Some(&mut worst_plain),
                    Method::Or2OptIls => {
                        ils_max_secs = secs.iter().copied().fold(ils_max_secs, f64::max);
                        Some(&mut worst_ils)
                    }
                    _ => None,
                };
                if let Some(w) = worst {
                    if mean > w.0 {
                        *w = (mean, name.clone());
                    }
                }
            }
        }
    }
    for (method, pts) in &by_method {
        if matches!(
            method,
            Method::Greedy | Method::Or2Opt | Method::Or2OptIls | Method::Dcr
        ) && !pts.is_empty()
        {
            let mean = pts.iter().map(|p| p.1).sum::<f64>() / pts.len() as f64;
            out.headlines.push(Headline {
                name: format!("mean_gap_pct_{}", method.name()),
                value: mean,
                digits: 2,
            });
        }
    }
    let file = "tsp_gaps.svg";
    let series: Vec<Series> = by_method
        .iter()
        .filter(|(m, _)| {
            matches!(
                m,
                Method::NearestNeighbour
                    | Method::Greedy
                    | Method::FarthestInsertion
                    | Method::TwoOpt
                    | Method::Or2Opt
                    | Method::Or2OptIls
                    | Method::Dcr
            )
        })
        .map(|(m, pts)| Series::new(m.name(), pts.clone()))
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
    let verdict = |w: &(f64, String)| {
        if w.0 <= 5.0 {
            format!("held (worst {:.2}% on {})", w.0, w.1)
        } else {
            format!("NOT held (worst {:.2}% on {})", w.0, w.1)
        }
    };
    out.notes.push(format!(
        "claim (issue target): 2-opt + Or-opt within 5% of optimal on every instance up to 1,002 cities. Plain local optimum `or2opt` (greedy start, 10-NN + quadrant candidates, don't-look bits): {}. Iterated local search `or2opt-ils` (same local search + {} kicks per city, at least {}, segment-local double bridge, mean over seeds): {}, slowest run {:.3} s",
        verdict(&worst_plain),
        crate::tsp::KICKS_PER_CITY,
        crate::tsp::MIN_KICKS,
        verdict(&worst_ils),
        ils_max_secs,
    ));
    out.notes.push("2opt/oropt/or2opt/or2opt-ils start from the greedy-edge tour; or2opt-ils and dcr are seeded (one run per seed), the others deterministic (one run); dcr adds sub-path iterated local search rounds (see dcr-large)".into());
    if max_n < 2_392 {
        out.notes.push(format!(
            "instances up to {max_n} cities only (parameter max_cities)"
        ));
    }
    Ok(out)
}

fn dcr_large(ctx: &Context) -> anyhow::Result<Outcome> {
    let mut out = Outcome::default();
    let min_n: usize = ctx.param("min_cities")?;
    if min_n == 0 {
        out.notes
            .push("full mode only (10k and 22k-city instances; min_cities = 0 skips)".into());
        return Ok(out);
    }
    let mut series = Vec::new();
    for (name, n, opt) in optima()? {
        if n < min_n {
            continue;
        }
        ctx.progress.set_message(format!("dcr {name}"));
        let inst = read_tsp(tsplib_dir().join(format!("{name}.tsp")))?;
        for &seed in &ctx.seeds {
            let params = DcrParams::default().seed(ctx.seeder.seed_for(seed));
            let start = Instant::now();
            let (tour, trace) =
                divide_conquer_reunion(&inst, &params, &LocalSearchSubpath::default())?;
            let secs = start.elapsed().as_secs_f64();
            let gap = gap_percent(tour.length(&inst), opt);
            out.records.push(
                RunRecord::new("dcr", name.as_str(), seed)
                    .with_metric("gap_pct", gap)
                    .with_metric("gap_pct_initial", gap_percent(trace[0].length, opt))
                    .with_metric("seconds", secs),
            );
            if seed == ctx.seeds[0] {
                series.push(Series {
                    label: name.clone(),
                    points: trace
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
                if name == "vm22775" {
                    out.notes.push(format!(
                        "target: vm22775 within 8% in < 60 s: gap {gap:.2}% in {secs:.1} s -> {}",
                        if gap <= 8.0 && secs < 60.0 {
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

fn tsp_vs_lkh(ctx: &Context) -> anyhow::Result<Outcome> {
    let mut out = Outcome::default();
    let n: usize = ctx.param("cities")?;
    for &seed in &ctx.seeds {
        let mut rng = ctx.seeder.rng(seed);
        let inst = Instance::random_uniform(n, &mut rng)?;
        let mut lengths = Vec::new();
        let methods = [Method::Or2Opt, Method::Or2OptIls, Method::Dcr];
        for method in methods {
            let sol = solve(
                &inst,
                &SolveParams::new(method).seed(ctx.seeder.seed_for(seed)),
            )?;
            lengths.push(sol.length);
            out.records.push(
                RunRecord::new(method.name(), format!("uniform{n}"), seed)
                    .with_metric("length", sol.length)
                    .with_metric("length_over_sqrt_n", sol.length / (n as f64).sqrt())
                    .with_metric("seconds", sol.seconds),
            );
        }
        if seed == ctx.seeds[0] {
            out.headlines.push(Headline {
                name: format!("dcr_length_uniform{n}_seed0"),
                value: lengths[2],
                digits: 4,
            });
            out.headlines.push(Headline {
                name: format!("or2opt_ils_length_uniform{n}_seed0"),
                value: lengths[1],
                digits: 4,
            });
            let coords: Vec<[f64; 2]> = inst.coords().to_vec();
            let inst_ref = &inst;
            let seed_run = ctx.seeder.seed_for(seed);
            // One comparison per method; LKH runs again for each (alternating reps).
            for (method, tag) in [(Method::Dcr, "dcr"), (Method::Or2OptIls, "or2opt-ils")] {
                let spec = PeerSpec {
                    name: format!("{tag}-vs-lkh-uniform{n}"),
                    peer: "elkai".into(),
                    script: "fixtures/combopt/peer_lkh.py".into(),
                    input: serde_json::json!({ "coords": coords, "runs": 1 }),
                    reps: 2,
                };
                ctx.compare_with_peer(&spec, || {
                    let sol = solve(inst_ref, &SolveParams::new(method).seed(seed_run))?;
                    Ok(vec![sol.length])
                });
            }
        }
    }
    out.notes.push("with --compare the report gives the duality/LKH time ratio and the absolute length difference per method (gap to LKH = diff / (our length - diff), our length is the seed-0 `length` record); target: within 5% of LKH's length in a tenth of its time. Last full run (2026-11-28, 2 shared cores, seed 0): LKH 23.084 in 9.5-9.7 s; dcr 23.430 (+1.50%), time ratio 0.011; or2opt-ils 23.210 (+0.55%), time ratio 0.017 -> target held by both. BHH: optimal length ~ 0.7124 sqrt(n) for large n".into());
    Ok(out)
}

fn assignment(ctx: &Context) -> anyhow::Result<Outcome> {
    let mut out = Outcome::default();
    let n: usize = ctx.param("size")?;
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
                    let rows: Vec<Vec<f64>> = (0..n)
                        .map(|i| (0..n).map(|j| m.get(i, j)).collect())
                        .collect();
                    let spec = PeerSpec {
                        name: format!("assignment-{kind}-{n}"),
                        peer: "scipy".into(),
                        script: "fixtures/combopt/peer_assignment.py".into(),
                        input: serde_json::json!({ "costs": rows }),
                        reps: 3,
                    };
                    let mref = &m;
                    ctx.compare_with_peer(&spec, || {
                        Ok(vec![linear_sum_assignment(mref, false)?.cost])
                    });
                }
            }
        }
    }
    out.notes.push("scipy's linear_sum_assignment implements the same algorithm (Crouse 2016) in C++; costs must agree to rounding. Target: no slower than 1.5x scipy at 2,000 x 2,000 (full mode, --compare: uniform [0,1) and integer 0..999 costs, 3 alternating reps each). Last full run (2026-11-28, 2 shared cores under load): median ratio 0.97 (range 0.78-1.37) uniform, 1.15 (1.01-1.16) integer -> target held".into());
    Ok(out)
}

fn online_matching(ctx: &Context) -> anyhow::Result<Outcome> {
    let mut out = Outcome::default();
    let runs: usize = ctx.param("runs")?;
    let tri_n: usize = ctx.param("triangular_size")?;
    let tri = MatchingInstance::upper_triangular(tri_n, 0.1)?;
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
            for (a, alg) in OnlineAlgorithm::ALL.iter().enumerate() {
                let ratio = competitive_ratio(
                    inst,
                    *alg,
                    *arrival,
                    runs,
                    &seeder.child(1 + (k * 8 + a) as u64),
                )?;
                out.records.push(
                    RunRecord::new(alg.name(), *task, seed).with_metric("competitive_ratio", ratio),
                );
                if !headline_done && k == 0 {
                    out.headlines.push(Headline {
                        name: format!("ratio_{}_{task}", alg.name()),
                        value: ratio,
                        digits: 3,
                    });
                }
            }
        }
        headline_done = true;
    }
    out.notes.push("ratios are E[successes] / budget-LP optimum; proven worst-case guarantees: greedy 0.5, (stochastic) balance 0.567 for equal vanishing p, ranking-type 0.576 (Goyal & Udwani 2020), no online algorithm above 0.621 vs this LP; the issue's 0.611 bound is not re-derived here".into());
    out.notes.push("empirical ratios on specific instances can exceed the worst-case bounds; the upper-triangular instance with arrivals in the given order is the classic hard case for greedy".into());
    Ok(out)
}

fn dag_learning(ctx: &Context) -> anyhow::Result<Outcome> {
    let mut out = Outcome::default();
    let d: usize = ctx.param("nodes")?;
    let n: usize = ctx.param("samples")?;
    let mut sums = [[0.0f64; 2]; 3]; // per method: (score, shd)
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
            let nt = notears(&data, &NotearsParams::default())?;
            let nt_secs = start.elapsed().as_secs_f64();
            let start = Instant::now();
            let (tr, _) = topo_random_start(&data, &TopoParams::default(), &mut rng)?;
            let tr_secs = start.elapsed().as_secs_f64();
            let order = nt.w.topological_order().unwrap_or_else(|| (0..d).collect());
            let (tw, _) = topo(&data, &order, &TopoParams::default())?;
            for (k, (name, fit, secs)) in [
                ("notears", &nt, nt_secs),
                ("topo-random", &tr, tr_secs),
                ("topo-from-notears", &tw, f64::NAN),
            ]
            .into_iter()
            .enumerate()
            {
                let acc = accuracy(&truth, &fit.w)?;
                let score = data.loss(&fit.w.w).0;
                let mut rec = RunRecord::new(name, task.as_str(), seed)
                    .with_metric("score", score)
                    .with_metric("shd", acc.shd as f64)
                    .with_metric("tpr", acc.tpr)
                    .with_metric("fdr", acc.fdr);
                if secs.is_finite() {
                    rec = rec.with_metric("seconds", secs);
                }
                out.records.push(rec);
                sums[k][0] += score;
                sums[k][1] += acc.shd as f64;
            }
            count += 1.0;
            if data.loss(&tr.w.w).0 < data.loss(&nt.w.w).0 {
                topo_wins += 1;
            }
        }
    }
    for (k, name) in ["notears", "topo_random", "topo_from_notears"]
        .iter()
        .enumerate()
    {
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
    let held = sums[1][0] < sums[0][0];
    out.notes.push(format!(
        "claim (Deng et al. 2023): TOPO reaches a lower score than NOTEARS. Mean least-squares score of thresholded estimates: NOTEARS {:.4}, TOPO (random start) {:.4}, TOPO from NOTEARS {:.4}; TOPO lower in {topo_wins}/{} runs -> {}",
        sums[0][0] / count,
        sums[1][0] / count,
        sums[2][0] / count,
        count,
        if held { "held on average" } else { "NOT held on average" }
    ));
    out.notes.push("NOTEARS: lambda 0.1, threshold 0.3, projected L-BFGS inner solver (default); an L-BFGS-B inner solver with generalised Cauchy point + subspace minimisation is available (`NotearsParams::inner(InnerSolver::LbfgsB)`; by hand on these setups: same scores and SHD within 0.1%, 2-5x slower); TOPO: least-squares inner fit, exp-trace acyclicity gradient for candidate pairs, threshold 0.3".into());
    Ok(out)
}

fn auctions(ctx: &Context) -> anyhow::Result<Outcome> {
    let mut out = Outcome::default();
    let trials: usize = ctx.param("trials")?;
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
    Ok(out)
}
