//! Bench experiment `directional-attacks` (suite `combopt`): evaluations to
//! a target value, cDSM alone vs cDSM + attacks, paired CIs over (seed,
//! problem). On the standard blackboxes the attack goes through an MLP
//! surrogate fitted online (feature `torch`); on the paper's problem class
//! (`network`: `f(Phi(x))` with a given network) it attacks that network
//! with its exact gradient (torch-free).

use duality_bench::{Context, Experiment, Headline, Outcome};
use duality_core::record::RunRecord;
use duality_eval::comparison::PairedRatio;
use serde::Deserialize;

use super::{minimize, problem, AttackKind, Blackbox, DsmParams, DsmRun, NetworkAttack, Poll};

/// The experiment, registered in `experiments::suite()`.
pub(crate) fn experiment() -> Experiment {
    Experiment {
        name: "directional-attacks",
        about: "covering direct search (cDSM) alone vs cDSM + directional attacks (FGSM, PGD; optionally the authors' speculative line search and rotated n+1 poll): through an MLP surrogate fitted online (feature torch) on Rosenbrock, Rastrigin and constrained Rosenbrock, and through the given network of the paper's problem class f(Phi(x)) (torch-free); claim: fewer evaluations to the target, paired CI over (seed, problem)",
        run,
    }
}

/// Parameters of `directional-attacks`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Params {
    /// Problem names (`direct_search::PROBLEMS`) ...
    problems: Vec<String>,
    /// ... their dimensions ...
    dims: Vec<usize>,
    /// ... and targets: reached when `f <= optimum + target`.
    targets: Vec<f64>,
    /// Evaluation budget per run (a run that misses the target counts this).
    max_evals: usize,
    /// Surrogate: hidden widths, Adam steps per attack, learning rate,
    /// fitting window.
    hidden: Vec<usize>,
    steps: usize,
    lr: f64,
    window: usize,
    /// Variants run on `problems` (see [`Variant::parse`]); an attack there
    /// is the surrogate's (feature torch).
    #[serde(default = "default_variants")]
    variants: Vec<String>,
    /// Dimensions of the `network` problems (the paper's class) ...
    #[serde(default)]
    network_dims: Vec<usize>,
    /// ... and their targets.
    #[serde(default)]
    network_targets: Vec<f64>,
    /// Variants run on the `network` problems (exact attack, torch-free).
    #[serde(default = "default_variants")]
    network_variants: Vec<String>,
}

fn default_variants() -> Vec<String> {
    vec!["fgsm".into()]
}

/// A method compared with plain cDSM: `ATTACK[+spec][+rot]`, ATTACK one of
/// `none`, `fgsm`, `pgd`; `+spec` adds the speculative line search, `+rot`
/// the authors' rotated `n+1` poll (instead of the `2n` poll).
#[derive(Debug, Clone, PartialEq)]
struct Variant {
    label: String,
    attack: Option<AttackKind>,
    speculative: bool,
    poll: Poll,
}

impl Variant {
    fn parse(s: &str) -> anyhow::Result<Self> {
        let mut parts = s.split('+');
        let attack = match parts.next() {
            Some("none") => None,
            Some(a) => {
                Some(AttackKind::parse(a).map_err(|e| anyhow::anyhow!("variant {s:?}: {e}"))?)
            }
            None => None,
        };
        let (mut speculative, mut poll) = (false, Poll::TwoN);
        for p in parts {
            match p {
                "spec" => speculative = true,
                "rot" => poll = Poll::NPlusOneRotated,
                other => anyhow::bail!(
                    "variant {s:?}: modifier {other:?} is not spec or rot (expected ATTACK[+spec][+rot], ATTACK none, fgsm or pgd)"
                ),
            }
        }
        if attack.is_none() && !speculative && poll == Poll::TwoN {
            anyhow::bail!("variant {s:?}: identical to the cDSM baseline");
        }
        Ok(Self {
            label: s.to_string(),
            attack,
            speculative,
            poll,
        })
    }

    /// Headline tag: `+` -> `_`.
    fn tag(&self) -> String {
        self.label.replace('+', "_")
    }
}

/// One instance: problem, dimension, target offset, and whether attacks
/// go through its given network (else through the surrogate).
struct Instance {
    name: String,
    dim: usize,
    target: f64,
    network: bool,
}

/// Per variant: (evaluations to the target or the budget, reached, attack
/// successes); `None` where the variant did not run (an attack without
/// torch on a surrogate problem).
type Res = Option<(usize, bool, usize)>;
/// Per instance: the cDSM baseline and each variant.
type Cell = ((usize, bool), Vec<Res>);

fn run(ctx: &Context) -> anyhow::Result<Outcome> {
    let p: Params = ctx.params()?;
    if p.problems.len() != p.dims.len() || p.problems.len() != p.targets.len() {
        anyhow::bail!(
            "parameters problems, dims and targets: expected equal lengths, got {}, {}, {}",
            p.problems.len(),
            p.dims.len(),
            p.targets.len()
        );
    }
    if p.network_dims.len() != p.network_targets.len() {
        anyhow::bail!(
            "parameters network_dims and network_targets: expected equal lengths, got {} and {}",
            p.network_dims.len(),
            p.network_targets.len()
        );
    }
    if p.problems.is_empty() && p.network_dims.is_empty() {
        anyhow::bail!("parameters problems and network_dims: both empty, nothing to run");
    }
    let mut insts = Vec::new();
    for ((name, &dim), &target) in p.problems.iter().zip(&p.dims).zip(&p.targets) {
        let prob = problem(name, dim).map_err(|e| anyhow::anyhow!("parameter problems: {e}"))?;
        insts.push(Instance {
            name: name.clone(),
            dim,
            target,
            network: prob.network().is_some(),
        });
    }
    for (&dim, &target) in p.network_dims.iter().zip(&p.network_targets) {
        problem("network", dim).map_err(|e| anyhow::anyhow!("parameter network_dims: {e}"))?;
        insts.push(Instance {
            name: "network".into(),
            dim,
            target,
            network: true,
        });
    }
    let parse = |v: &[String], key: &str| -> anyhow::Result<Vec<Variant>> {
        let out = v
            .iter()
            .map(|s| Variant::parse(s).map_err(|e| anyhow::anyhow!("parameter {key}: {e}")))
            .collect::<anyhow::Result<Vec<_>>>()?;
        if out.is_empty() {
            anyhow::bail!("parameter {key}: at least one variant");
        }
        Ok(out)
    };
    let surr_variants = parse(&p.variants, "variants")?;
    let net_variants = parse(&p.network_variants, "network_variants")?;
    let torch = cfg!(feature = "torch");

    let seeds = ctx.per_seed(|seed| -> anyhow::Result<Vec<Cell>> {
        let seeder = ctx.seeder.child(seed);
        let mut out = Vec::new();
        for (k, inst) in insts.iter().enumerate() {
            let prob = problem(&inst.name, inst.dim)?;
            let params = DsmParams {
                max_evals: p.max_evals,
                target: Some(prob.optimum().unwrap_or(0.0) + inst.target),
                ..DsmParams::default()
            };
            let summary = |r: &DsmRun| {
                (
                    r.evals_to_target.unwrap_or(p.max_evals),
                    r.evals_to_target.is_some(),
                    r.successes[0],
                )
            };
            // Same random stream for every method of an instance.
            let alone = minimize(prob.as_ref(), &params, None, &mut seeder.rng(k as u64))?;
            let variants = if inst.network {
                &net_variants
            } else {
                &surr_variants
            };
            let mut res = Vec::new();
            for v in variants {
                let vp = DsmParams {
                    speculative: v.speculative,
                    poll: v.poll,
                    ..params.clone()
                };
                let r = match (v.attack, prob.network()) {
                    (None, _) => Some(minimize(
                        prob.as_ref(),
                        &vp,
                        None,
                        &mut seeder.rng(k as u64),
                    )?),
                    (Some(kind), Some(net)) => {
                        let mut oracle = NetworkAttack::new(net, kind)?;
                        Some(minimize(
                            prob.as_ref(),
                            &vp,
                            Some(&mut oracle),
                            &mut seeder.rng(k as u64),
                        )?)
                    }
                    (Some(kind), None) => surrogate_run(
                        prob.as_ref(),
                        &vp,
                        &p,
                        kind,
                        seeder.seed_for(1_000 + k as u64),
                        &mut seeder.rng(k as u64),
                    )?,
                };
                res.push(r.as_ref().map(summary));
            }
            out.push((
                (
                    alone.evals_to_target.unwrap_or(p.max_evals),
                    alone.evals_to_target.is_some(),
                ),
                res,
            ));
        }
        Ok(out)
    })?;

    let mut out = Outcome::default();
    let mut lines = Vec::new();
    // Log ratios variant / cDSM per (variant label, group), group 0 =
    // surrogate problems, 1 = network problems.
    let mut ratios: Vec<(String, usize, Vec<f64>)> = Vec::new();
    let geo = |v: &[usize]| -> f64 {
        (v.iter().map(|&e| (e.max(1) as f64).ln()).sum::<f64>() / v.len().max(1) as f64).exp()
    };
    for (k, inst) in insts.iter().enumerate() {
        let name = format!("{}-{}", inst.name, inst.dim);
        let col: Vec<&Cell> = seeds.iter().map(|s| &s[k]).collect();
        let base: Vec<usize> = col.iter().map(|c| c.0 .0).collect();
        for (si, c) in col.iter().enumerate() {
            out.records.push(
                RunRecord::new("cdsm", name.as_str(), ctx.seeds[si])
                    .with_metric("evals_to_target", c.0 .0 as f64)
                    .with_metric("reached", f64::from(u8::from(c.0 .1))),
            );
        }
        let ga = geo(&base);
        let tag = name.replace('-', "_");
        out.headlines.push(Headline {
            name: format!("evals_cdsm_{tag}"),
            value: ga,
            digits: 1,
        });
        let mut parts = vec![format!(
            "cDSM {ga:.1} (reached {}/{})",
            col.iter().filter(|c| c.0 .1).count(),
            col.len()
        )];
        let variants = if inst.network {
            &net_variants
        } else {
            &surr_variants
        };
        let group = usize::from(inst.network);
        for (vi, v) in variants.iter().enumerate() {
            let rs: Vec<(usize, bool, usize)> = col.iter().filter_map(|c| c.1[vi]).collect();
            if rs.len() != col.len() {
                continue;
            }
            let method = if v.label == "fgsm" && !inst.network {
                // The name of the earlier records.
                "cdsm+attack".to_string()
            } else if v.attack.is_some() && !inst.network {
                format!("cdsm+mlp-{}", v.label)
            } else if v.attack.is_some() {
                format!("cdsm+network-{}", v.label)
            } else {
                format!("cdsm+{}", v.label.trim_start_matches("none+"))
            };
            let mut lr = Vec::new();
            for (si, (r, b)) in rs.iter().zip(&base).enumerate() {
                out.records.push(
                    RunRecord::new(method.as_str(), name.as_str(), ctx.seeds[si])
                        .with_metric("evals_to_target", r.0 as f64)
                        .with_metric("reached", f64::from(u8::from(r.1)))
                        .with_metric("attack_successes", r.2 as f64),
                );
                lr.push((r.0.max(1) as f64 / (*b).max(1) as f64).ln());
            }
            let gv = geo(&rs.iter().map(|r| r.0).collect::<Vec<_>>());
            // The FGSM surrogate headline keeps its earlier name.
            let hname = if v.label == "fgsm" && !inst.network {
                format!("evals_attack_{tag}")
            } else {
                format!("evals_{}_{tag}", v.tag())
            };
            out.headlines.push(Headline {
                name: hname,
                value: gv,
                digits: 1,
            });
            parts.push(format!(
                "{method} {gv:.1} (reached {}/{}, attack successes {})",
                rs.iter().filter(|r| r.1).count(),
                rs.len(),
                rs.iter().map(|r| r.2).sum::<usize>()
            ));
            match ratios
                .iter_mut()
                .find(|(l, g, _)| *l == v.label && *g == group)
            {
                Some(e) => e.2.extend(lr),
                None => ratios.push((v.label.clone(), group, lr)),
            }
        }
        lines.push(format!(
            "{name} (target f* + {}): {}",
            inst.target,
            parts.join(", ")
        ));
    }
    out.notes.push(format!(
        "evaluations to the target (geometric means; a run that misses it counts the budget of {}), {} seeds; {}",
        p.max_evals,
        seeds.len(),
        lines.join("; ")
    ));
    let mut verdicts = Vec::new();
    for (label, group, lr) in &ratios {
        let gname = if *group == 0 { "surrogate" } else { "network" };
        let verdict = match PairedRatio::from_log_ratios(lr, 0.95) {
            Ok(r) => {
                let hname = if label == "fgsm" && *group == 0 {
                    "attack_vs_cdsm_eval_ratio".to_string()
                } else {
                    format!("ratio_{}_{gname}", label.replace('+', "_"))
                };
                out.headlines.push(Headline {
                    name: hname,
                    value: r.ratio,
                    digits: 3,
                });
                format!(
                    "{label} on the {gname} problems: ratio {:.3} (95% paired t CI on the log ratio over (seed, problem): [{:.3}, {:.3}]), fewer on {}/{}, more on {} -> {}",
                    r.ratio,
                    r.lo,
                    r.hi,
                    r.fewer,
                    r.pairs,
                    r.more,
                    r.verdict("more evaluations")
                )
            }
            Err(e) => format!("{label} on the {gname} problems: no CI ({e})"),
        };
        verdicts.push(verdict);
    }
    out.notes.push(format!(
        "claim (Bouchet & Vidal, directional attacks): fewer blackbox evaluations to the target than direct search alone (variant / cDSM): {} on this run; surrogate problems: MLP {:?} (tanh), {} Adam steps (lr {}) per attack on the {} nearest points; network problems: the given network's exact gradient; PGD with the authors' 10 steps of 2/255 of the attack box",
        verdicts.join("; "),
        p.hidden,
        p.steps,
        p.lr,
        p.window
    ));
    if !torch
        && insts.iter().any(|i| !i.network)
        && surr_variants.iter().any(|v| v.attack.is_some())
    {
        out.notes.push(
            "the surrogate attack needs feature torch: its variants did not run on the standard problems".into(),
        );
    }
    Ok(out)
}

/// cDSM + the surrogate attack (feature torch); `None` without torch.
#[cfg(feature = "torch")]
fn surrogate_run(
    prob: &dyn Blackbox,
    params: &DsmParams,
    p: &Params,
    kind: AttackKind,
    seed: u64,
    rng: &mut duality_core::seed::DualityRng,
) -> anyhow::Result<Option<DsmRun>> {
    use super::{SurrogateAttack, SurrogateParams};
    let mut oracle = SurrogateAttack::new(
        prob.dim(),
        SurrogateParams {
            hidden: p.hidden.clone(),
            steps: p.steps,
            lr: p.lr,
            window: p.window,
            seed,
            attack: kind,
        },
    )?;
    Ok(Some(minimize(prob, params, Some(&mut oracle), rng)?))
}

/// cDSM + the surrogate attack (feature torch); `None` without torch.
#[cfg(not(feature = "torch"))]
fn surrogate_run(
    _: &dyn Blackbox,
    _: &DsmParams,
    _: &Params,
    _: AttackKind,
    _: u64,
    _: &mut duality_core::seed::DualityRng,
) -> anyhow::Result<Option<DsmRun>> {
    Ok(None)
}
