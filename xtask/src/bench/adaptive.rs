//! `bench --adaptive`: seeds in AdaStop stages.
//!
//! An experiment that names comparison pairs (`Context::report_improvement`)
//! runs `n` seeds per stage. After each stage, one AdaStop study per (task,
//! metric) that the pairs' algorithms all recorded (time metrics left out)
//! decides the pairs from the records so far; once every study has decided
//! every pair, or after the last stage, no more seeds are added. Experiments
//! that name no pairs run their fixed seed count. Experiments that split by
//! seed (`Context::per_seed`) reuse the earlier stages' seed cells, so a
//! stage costs only its new seeds; the others re-run from the start.
//!
//! AdaStop (Mathieu et al. 2023) controls the family-wise error over all of
//! a study's comparisons and stages; studies of different (task, metric)
//! are not corrected against each other, which the report says.

use std::collections::{BTreeMap, BTreeSet};

use duality_core::record::RunRecord;
use duality_eval::adastop::{AdaStop, AdaStopParams, Decision};
use serde::{Deserialize, Serialize};

use super::harness::ExperimentResult;

/// Stage sizes of `--adaptive`.
#[derive(Debug, Clone, Copy)]
pub struct Plan {
    /// Seeds per stage.
    pub n: usize,
    /// Most stages (the cap is `n x stages` seeds).
    pub stages: usize,
}

impl Plan {
    /// `--adaptive-n` / `--adaptive-stages`, or the defaults: 5 seeds x 4
    /// stages (full) and 2 x 3 (quick); the fixed defaults are 10 and 3.
    pub fn new(quick: bool, n: Option<usize>, stages: Option<usize>) -> Self {
        let (dn, ds) = if quick { (2, 3) } else { (5, 4) };
        Self {
            n: n.unwrap_or(dn).clamp(1, 32),
            stages: stages.unwrap_or(ds).max(1),
        }
    }
}

/// Per experiment: how many seeds `--adaptive` used and why.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct AdaptiveRow {
    /// `suite/experiment`.
    pub experiment: String,
    /// Seeds used.
    pub seeds: usize,
    /// The fixed count it is compared with.
    pub fixed: usize,
    /// Why it stopped there.
    pub reason: String,
    /// The decisions, `task/metric: x vs y -> decision`.
    #[serde(default)]
    pub decisions: Vec<String>,
}

/// The comparison pairs an experiment's result names.
pub fn pairs(result: &ExperimentResult) -> Vec<(String, String)> {
    let set: BTreeSet<(String, String)> = result
        .improvements
        .iter()
        .map(|r| (r.x.clone(), r.y.clone()))
        .collect();
    set.into_iter().collect()
}

/// AdaStop's verdict on `pairs` after `stages_done` stages of `plan.n` seeds
/// (records of seeds `0..n x stages_done`): whether every pair of every
/// (task, metric) study is decided, and the decisions as text.
pub fn decide(
    records: &[RunRecord],
    pairs: &[(String, String)],
    plan: Plan,
    stages_done: usize,
    seed: u64,
) -> anyhow::Result<(bool, Vec<String>)> {
    // (task, metric) -> algorithm -> seed -> value
    let mut groups: BTreeMap<(String, String), BTreeMap<String, BTreeMap<u64, f64>>> =
        BTreeMap::new();
    for r in records {
        for (metric, &v) in &r.metrics {
            if metric.contains("second") {
                continue;
            }
            groups
                .entry((r.task.clone(), metric.clone()))
                .or_default()
                .entry(r.algorithm.clone())
                .or_default()
                .insert(r.seed, v);
        }
    }
    let mut all_decided = true;
    let mut text = Vec::new();
    let needed = plan.n * stages_done;
    for ((task, metric), by_alg) in &groups {
        let here: Vec<&(String, String)> = pairs
            .iter()
            .filter(|(x, y)| by_alg.contains_key(x) && by_alg.contains_key(y))
            .collect();
        if here.is_empty() {
            continue;
        }
        let mut agents: Vec<String> = Vec::new();
        for (x, y) in &here {
            for a in [x, y] {
                if !agents.contains(a) {
                    agents.push(a.clone());
                }
            }
        }
        let runs: Vec<Vec<f64>> = agents
            .iter()
            .map(|a| by_alg[a].values().copied().collect())
            .collect();
        // A metric that is not finite for every seed (or recorded for fewer
        // seeds than the stages ran) cannot be tested: it is left out.
        if runs
            .iter()
            .any(|r| r.len() < needed || r.iter().any(|v| !v.is_finite()))
        {
            continue;
        }
        let index = |a: &String| agents.iter().position(|b| b == a).unwrap_or(0);
        let comparisons: Vec<(usize, usize)> =
            here.iter().map(|(x, y)| (index(x), index(y))).collect();
        let mut study = AdaStop::new(
            agents.clone(),
            AdaStopParams {
                n: plan.n,
                stages: plan.stages,
                seed,
                comparisons: Some(comparisons),
                ..AdaStopParams::default()
            },
        )?;
        for k in 0..stages_done {
            if study.is_finished() {
                break;
            }
            let to_run = study.agents_to_run();
            let batch: Vec<Vec<f64>> = runs
                .iter()
                .enumerate()
                .map(|(a, r)| {
                    if to_run.contains(&a) {
                        r[k * plan.n..(k + 1) * plan.n].to_vec()
                    } else {
                        Vec::new()
                    }
                })
                .collect();
            study.update(&batch)?;
        }
        for o in study.outcomes() {
            if o.decision == Decision::Continue {
                all_decided = false;
            }
            text.push(format!(
                "{task}/{metric}: {} vs {} -> {:?}",
                o.agent, o.other, o.decision
            ));
        }
    }
    Ok((all_decided, text))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn records(gap: f64, seeds: u64) -> Vec<RunRecord> {
        let mut out = Vec::new();
        for s in 0..seeds {
            let noise = ((s * 7919) % 13) as f64 / 13.0;
            out.push(RunRecord::new("a", "t", s).with_metric("score", gap + noise));
            out.push(RunRecord::new("b", "t", s).with_metric("score", noise));
            out.push(RunRecord::new("a", "t", s).with_metric("seconds", 1.0));
        }
        out
    }

    #[test]
    fn a_clear_gap_is_decided_at_the_first_stage() {
        let plan = Plan::new(false, Some(5), Some(4));
        let pairs = vec![("a".to_string(), "b".to_string())];
        let (done, text) = decide(&records(10.0, 5), &pairs, plan, 1, 0).unwrap();
        assert!(done, "{text:?}");
        assert_eq!(text.len(), 1, "time metrics are left out: {text:?}");
        assert!(text[0].contains("Larger"), "{text:?}");
    }

    #[test]
    fn no_gap_keeps_adding_stages_until_the_cap() {
        let plan = Plan::new(false, Some(5), Some(4));
        let pairs = vec![("a".to_string(), "b".to_string())];
        let (done, _) = decide(&records(0.0, 5), &pairs, plan, 1, 0).unwrap();
        assert!(!done);
        let (done, text) = decide(&records(0.0, 20), &pairs, plan, 4, 0).unwrap();
        assert!(done, "the last stage always decides: {text:?}");
    }
}
