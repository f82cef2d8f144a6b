//! Tracked-run exports (Open RL Benchmark, Huang et al. 2024) into score
//! matrices.
//!
//! Open RL Benchmark keeps every run of CleanRL, Stable-Baselines3 and other
//! libraries as a tracked experiment whose history is a sequence of
//! `(global_step, charts/episodic_return)` points, with the run's `env_id`,
//! `exp_name` and `seed` in its config. This module reads such histories
//! exported to files and turns them into the inputs of this crate:
//!
//! - [`TrackedRuns::final_scores`]: one score per (algorithm, task, run), the
//!   mean episodic return over the run's last episodes, as a [`ScoreSet`]
//!   for aggregate metrics, profiles and probabilities of improvement;
//! - [`TrackedRuns::scores_at`]: a [`ScoreSet`] per common step checkpoint
//!   (for sample-efficiency curves), each run's value at a checkpoint being
//!   the mean of its episodes in the window that ends there.
//!
//! Three file layouts are read:
//!
//! - **long CSV** ([`TrackedRuns::read_long_csv`]): one row per logged point
//!   with columns naming the algorithm, task, run, step and value; the
//!   defaults ([`TrackedColumns::default`]) are Open RL Benchmark's names
//!   `exp_name, env_id, seed, global_step, charts/episodic_return`;
//! - **long JSON** ([`TrackedRuns::read_long_json`]): the same records as
//!   one JSON array or as JSON Lines (a `wandb` history export);
//! - **wide CSV** as the W&B UI exports a chart
//!   ([`TrackedRuns::read_wide_csv`]): a step column (`Step` or
//!   `global_step`) and one column `<run name> - <metric>` per run (the
//!   `__MIN` / `__MAX` companions are ignored, empty cells skipped); run names
//!   follow CleanRL's `{env_id}__{exp_name}__{seed}__{time}` convention.

use std::collections::HashMap;
use std::io::Read;
use std::path::Path;

use duality_core::{Error, Result};
use serde::{Deserialize, Serialize};

use crate::scores::{ScoreMatrix, ScoreSet};

/// Column names of a long tracked-run export.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TrackedColumns {
    /// Column with the algorithm (Open RL Benchmark: `exp_name`).
    pub algorithm: String,
    /// Column with the task (environment id; `env_id`).
    pub task: String,
    /// Column with the run label (`seed`).
    pub run: String,
    /// Column with the step (`global_step`).
    pub step: String,
    /// Column with the logged value (`charts/episodic_return`).
    pub value: String,
}

impl Default for TrackedColumns {
    fn default() -> Self {
        Self {
            algorithm: "exp_name".into(),
            task: "env_id".into(),
            run: "seed".into(),
            step: "global_step".into(),
            value: "charts/episodic_return".into(),
        }
    }
}

/// One run's logged history, sorted by step.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunCurve {
    /// Algorithm.
    pub algorithm: String,
    /// Task (environment).
    pub task: String,
    /// Run label (seed).
    pub run: String,
    /// Steps, non-decreasing.
    pub steps: Vec<f64>,
    /// Logged values (episodic returns), one per step.
    pub values: Vec<f64>,
}

/// How a run's final score is taken from its history.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum FinalScore {
    /// Mean of the last `n` logged episodes (CleanRL and Open RL Benchmark
    /// tables report the average over recent episodes rather than the
    /// noisy last one).
    LastEpisodes(usize),
    /// Mean of the episodes logged in the last `fraction` of the run's
    /// steps, `0 < fraction <= 1`.
    LastFraction(f64),
}

/// A set of tracked runs.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TrackedRuns {
    curves: Vec<RunCurve>,
}

type Key = (String, String, String);

fn parse_number(text: &str, what: &str, source: &str, line: usize) -> Result<Option<f64>> {
    let t = text.trim();
    if t.is_empty() || t.eq_ignore_ascii_case("nan") {
        // Tracked histories log every metric at its own steps: blanks mean
        // "not logged at this step".
        return Ok(None);
    }
    let v: f64 = t
        .parse()
        .map_err(|_| Error::parse(source, Some(line), format!("{what} is not a number: {t:?}")))?;
    if !v.is_finite() {
        return Err(Error::parse(
            source,
            Some(line),
            format!("{what} is {v}: expected a finite number"),
        ));
    }
    Ok(Some(v))
}

/// Accumulates logged points per (algorithm, task, run), in first-appearance
/// order; shared by the long CSV and JSON readers.
#[derive(Default)]
struct PointCollector {
    order: Vec<Key>,
    points: HashMap<Key, (Vec<f64>, Vec<f64>)>,
}

impl PointCollector {
    fn push(&mut self, key: [&str; 3], step: f64, value: f64) {
        let key = (key[0].to_string(), key[1].to_string(), key[2].to_string());
        let order = &mut self.order;
        let entry = self.points.entry(key.clone()).or_insert_with(|| {
            order.push(key);
            (Vec::new(), Vec::new())
        });
        entry.0.push(step);
        entry.1.push(value);
    }

    fn finish(mut self, source_name: &str, columns: &TrackedColumns) -> Result<TrackedRuns> {
        if self.order.is_empty() {
            return Err(Error::parse(
                source_name,
                None,
                format!(
                    "no logged points with both {} and {}",
                    columns.step, columns.value
                ),
            ));
        }
        let curves = std::mem::take(&mut self.order)
            .into_iter()
            .map(|key| {
                let (steps, values) = self.points.remove(&key).unwrap_or_default();
                RunCurve {
                    algorithm: key.0,
                    task: key.1,
                    run: key.2,
                    steps,
                    values,
                }
            })
            .collect();
        TrackedRuns::new(curves)
    }
}

impl TrackedRuns {
    /// Builds the set from curves (each sorted by step here); errors on an
    /// empty set, an empty curve, mismatched lengths, non-finite numbers or
    /// a duplicate (algorithm, task, run).
    pub fn new(mut curves: Vec<RunCurve>) -> Result<Self> {
        duality_core::check::non_empty("tracked runs", &curves)?;
        let mut seen = HashMap::new();
        for (i, c) in curves.iter_mut().enumerate() {
            let name = format!("run {:?} of {:?} on {:?}", c.run, c.algorithm, c.task);
            duality_core::check::same_len(
                &format!("steps of {name}"),
                c.steps.len(),
                &format!("values of {name}"),
                c.values.len(),
            )?;
            duality_core::check::finite_non_empty(&format!("steps of {name}"), &c.steps)?;
            duality_core::check::finite(&format!("values of {name}"), &c.values)?;
            if let Some(j) = seen.insert((c.algorithm.clone(), c.task.clone(), c.run.clone()), i) {
                return Err(Error::invalid(
                    "tracked runs",
                    format!("{name} appears twice (curves {j} and {i})"),
                    "one curve per (algorithm, task, run)",
                ));
            }
            let mut order: Vec<usize> = (0..c.steps.len()).collect();
            order.sort_by(|&a, &b| c.steps[a].total_cmp(&c.steps[b]));
            c.steps = order.iter().map(|&k| c.steps[k]).collect();
            c.values = order.iter().map(|&k| c.values[k]).collect();
        }
        Ok(Self { curves })
    }

    /// The curves, in first-appearance order.
    pub fn curves(&self) -> &[RunCurve] {
        &self.curves
    }

    /// Reads a long CSV file (see [`TrackedRuns::read_long_csv`]).
    pub fn from_long_csv_path(path: impl AsRef<Path>, columns: &TrackedColumns) -> Result<Self> {
        let path = path.as_ref();
        let reader = duality_core::record::open_buffered(path)?;
        Self::read_long_csv(reader, &path.display().to_string(), columns)
    }

    /// Reads a long CSV: a header containing the five `columns` (any order,
    /// other columns ignored), one row per logged point. Rows whose value
    /// or step is empty or `nan` are skipped; other unparsable numbers are
    /// errors naming the line.
    pub fn read_long_csv<R: Read>(
        reader: R,
        source_name: &str,
        columns: &TrackedColumns,
    ) -> Result<Self> {
        let (mut rdr, headers) = duality_core::record::csv_with_header(reader, source_name)?;
        let expected = format!(
            "{},{},{},{},{}",
            columns.algorithm, columns.task, columns.run, columns.step, columns.value
        );
        let col = |name: &str| {
            duality_core::record::header_column(&headers, name, source_name, &expected)
        };
        let idx = [
            col(&columns.algorithm)?,
            col(&columns.task)?,
            col(&columns.run)?,
            col(&columns.step)?,
            col(&columns.value)?,
        ];
        let mut collector = PointCollector::default();
        for (row_no, row) in rdr.records().enumerate() {
            let line = row_no + 2;
            let row = row.map_err(|e| Error::parse(source_name, Some(line), e.to_string()))?;
            let mut field = [""; 5];
            for (f, &i) in field.iter_mut().zip(&idx) {
                *f = row.get(i).map(str::trim).ok_or_else(|| {
                    Error::parse(
                        source_name,
                        Some(line),
                        format!(
                            "row has {} field(s), expected at least {}",
                            row.len(),
                            i + 1
                        ),
                    )
                })?;
            }
            let step = parse_number(field[3], &columns.step, source_name, line)?;
            let value = parse_number(field[4], &columns.value, source_name, line)?;
            if let (Some(step), Some(value)) = (step, value) {
                collector.push([field[0], field[1], field[2]], step, value);
            }
        }
        collector.finish(source_name, columns)
    }

    /// Reads a long JSON file (see [`TrackedRuns::read_long_json`]).
    pub fn from_long_json_path(path: impl AsRef<Path>, columns: &TrackedColumns) -> Result<Self> {
        let path = path.as_ref();
        let text = std::fs::read_to_string(path).map_err(|e| Error::io(path, e))?;
        Self::read_long_json(&text, &path.display().to_string(), columns)
    }

    /// Reads logged points as JSON: either one array of objects or JSON
    /// Lines (one object per line, as `wandb` history exports), each object
    /// carrying the five `columns` as keys. Algorithm, task and run may be
    /// strings or numbers (a seed); a `null` or missing step or value means
    /// "not logged here" and is skipped. Errors name the record (1-based)
    /// and, for JSON Lines, the line.
    pub fn read_long_json(text: &str, source_name: &str, columns: &TrackedColumns) -> Result<Self> {
        let records: Vec<(usize, serde_json::Value)> = if text.trim_start().starts_with('[') {
            let all: Vec<serde_json::Value> = serde_json::from_str(text)
                .map_err(|e| Error::parse(source_name, Some(e.line()), e.to_string()))?;
            all.into_iter()
                .enumerate()
                .map(|(i, v)| (i + 1, v))
                .collect()
        } else {
            text.lines()
                .enumerate()
                .filter(|(_, l)| !l.trim().is_empty())
                .map(|(i, l)| {
                    serde_json::from_str(l)
                        .map(|v| (i + 1, v))
                        .map_err(|e| Error::parse(source_name, Some(i + 1), e.to_string()))
                })
                .collect::<Result<_>>()?
        };
        let mut collector = PointCollector::default();
        for (line, record) in &records {
            let label = |key: &str| -> Result<String> {
                match record.get(key) {
                    Some(serde_json::Value::String(s)) => Ok(s.clone()),
                    Some(serde_json::Value::Number(n)) => Ok(n.to_string()),
                    other => Err(Error::parse(
                        source_name,
                        Some(*line),
                        format!("record {line}: `{key}` is {other:?}, expected a string or number"),
                    )),
                }
            };
            let number = |key: &str| -> Result<Option<f64>> {
                match record.get(key) {
                    None | Some(serde_json::Value::Null) => Ok(None),
                    Some(serde_json::Value::Number(n)) => match n.as_f64() {
                        Some(v) if v.is_finite() => Ok(Some(v)),
                        _ => Err(Error::parse(
                            source_name,
                            Some(*line),
                            format!("record {line}: `{key}` is {n}: expected a finite number"),
                        )),
                    },
                    Some(other) => Err(Error::parse(
                        source_name,
                        Some(*line),
                        format!("record {line}: `{key}` is {other}, expected a number"),
                    )),
                }
            };
            let (alg, task, run) = (
                label(&columns.algorithm)?,
                label(&columns.task)?,
                label(&columns.run)?,
            );
            if let (Some(step), Some(value)) = (number(&columns.step)?, number(&columns.value)?) {
                collector.push([&alg, &task, &run], step, value);
            }
        }
        collector.finish(source_name, columns)
    }

    /// Reads a wide CSV file (see [`TrackedRuns::read_wide_csv`]).
    pub fn from_wide_csv_path(path: impl AsRef<Path>) -> Result<Self> {
        let path = path.as_ref();
        let reader = duality_core::record::open_buffered(path)?;
        Self::read_wide_csv(reader, &path.display().to_string())
    }

    /// Reads a chart export of the W&B UI: a step column (`Step` or
    /// `global_step`) and one column `<run name> - <metric>` per run, where
    /// the run name is `{env_id}__{exp_name}__{seed}[__{time}]` (CleanRL's
    /// convention, used throughout Open RL Benchmark). `__MIN` / `__MAX`
    /// columns are ignored and empty cells skipped.
    pub fn read_wide_csv<R: Read>(reader: R, source_name: &str) -> Result<Self> {
        let (mut rdr, headers) = duality_core::record::csv_with_header(reader, source_name)?;
        let step_col = headers
            .iter()
            .position(|h| matches!(h.trim(), "Step" | "global_step" | "_step"))
            .ok_or_else(|| {
                Error::parse(
                    source_name,
                    Some(1),
                    "missing step column (expected `Step`, `global_step` or `_step`)",
                )
            })?;
        let mut runs: Vec<(usize, RunCurve)> = Vec::new();
        for (i, h) in headers.iter().enumerate() {
            let h = h.trim();
            if i == step_col || h.ends_with("__MIN") || h.ends_with("__MAX") {
                continue;
            }
            let run_name = h.split_once(" - ").map(|(r, _)| r).unwrap_or(h).trim();
            let parts: Vec<&str> = run_name.split("__").collect();
            if parts.len() < 3 {
                return Err(Error::parse(
                    source_name,
                    Some(1),
                    format!(
                        "column {h:?}: run name {run_name:?} does not follow \
                         {{env_id}}__{{exp_name}}__{{seed}}[__{{time}}]"
                    ),
                ));
            }
            runs.push((
                i,
                RunCurve {
                    algorithm: parts[1].to_string(),
                    task: parts[0].to_string(),
                    run: parts[2].to_string(),
                    steps: Vec::new(),
                    values: Vec::new(),
                },
            ));
        }
        if runs.is_empty() {
            return Err(Error::parse(source_name, Some(1), "no run columns"));
        }
        for (row_no, row) in rdr.records().enumerate() {
            let line = row_no + 2;
            let row = row.map_err(|e| Error::parse(source_name, Some(line), e.to_string()))?;
            let Some(step) =
                parse_number(row.get(step_col).unwrap_or(""), "step", source_name, line)?
            else {
                continue;
            };
            for (i, curve) in &mut runs {
                let what = format!("value of run {:?}", curve.run);
                if let Some(v) = parse_number(row.get(*i).unwrap_or(""), &what, source_name, line)?
                {
                    curve.steps.push(step);
                    curve.values.push(v);
                }
            }
        }
        let curves: Vec<RunCurve> = runs
            .into_iter()
            .map(|(_, c)| c)
            .filter(|c| !c.steps.is_empty())
            .collect();
        if curves.is_empty() {
            return Err(Error::parse(source_name, None, "no logged values"));
        }
        Self::new(curves)
    }

    /// One score per (algorithm, task, run) by `rule`, as a [`ScoreSet`]
    /// (tasks in first-appearance order; every algorithm must have the same
    /// runs on every task, as [`ScoreSet`] requires).
    pub fn final_scores(&self, rule: FinalScore) -> Result<ScoreSet> {
        match rule {
            FinalScore::LastEpisodes(0) => {
                return Err(Error::invalid(
                    "last episodes",
                    0,
                    "at least 1 episode to average",
                ))
            }
            FinalScore::LastFraction(f) if !(f > 0.0 && f <= 1.0) => {
                return Err(Error::invalid("last fraction", f, "a fraction in (0, 1]"))
            }
            _ => {}
        }
        self.assemble(|c| {
            let n = c.values.len();
            let from = match rule {
                FinalScore::LastEpisodes(k) => n.saturating_sub(k),
                FinalScore::LastFraction(f) => {
                    let (first, last) = (c.steps[0], c.steps[n - 1]);
                    let cut = last - f * (last - first);
                    c.steps.partition_point(|&s| s < cut).min(n - 1)
                }
            };
            Ok(mean(&c.values[from..]))
        })
    }

    /// A [`ScoreSet`] per checkpoint: a run's score at checkpoint `s` is the
    /// mean of its values logged in the window `(s - window, s]`, or, if it
    /// logged nothing there, its last value before `s` (episodes end
    /// irregularly, so windows may be empty). A run that logged nothing at
    /// or before `s` is an error naming it; choose checkpoints inside every
    /// run's range.
    pub fn scores_at(&self, checkpoints: &[f64], window: f64) -> Result<Vec<ScoreSet>> {
        duality_core::check::finite_non_empty("checkpoints", checkpoints)?;
        if !(window.is_finite() && window >= 0.0) {
            return Err(Error::invalid("window", window, "a finite step count >= 0"));
        }
        checkpoints
            .iter()
            .map(|&s| {
                self.assemble(|c| {
                    let end = c.steps.partition_point(|&x| x <= s);
                    if end == 0 {
                        return Err(Error::invalid(
                            "checkpoint",
                            s,
                            format!(
                                "a step at or after the first logged step {} of run {:?} of {:?} on {:?}",
                                c.steps[0], c.run, c.algorithm, c.task
                            ),
                        ));
                    }
                    let start = c.steps.partition_point(|&x| x <= s - window);
                    Ok(if start < end {
                        mean(&c.values[start..end])
                    } else {
                        c.values[end - 1]
                    })
                })
            })
            .collect()
    }

    /// Builds a [`ScoreSet`] from one number per curve (hash lookups, so
    /// linear in the number of curves).
    fn assemble(&self, score: impl Fn(&RunCurve) -> Result<f64>) -> Result<ScoreSet> {
        let mut algs: Vec<&str> = Vec::new();
        let mut alg_index: HashMap<&str, usize> = HashMap::new();
        let mut tasks: Vec<&str> = Vec::new();
        let mut task_index: HashMap<&str, usize> = HashMap::new();
        // Per algorithm: runs in first-appearance order, and (run, task) -> curve.
        let mut runs: Vec<Vec<&str>> = Vec::new();
        let mut run_index: Vec<HashMap<&str, usize>> = Vec::new();
        let mut cell: Vec<HashMap<(usize, usize), &RunCurve>> = Vec::new();
        for c in &self.curves {
            let a = *alg_index.entry(&c.algorithm).or_insert_with(|| {
                algs.push(&c.algorithm);
                runs.push(Vec::new());
                run_index.push(HashMap::new());
                cell.push(HashMap::new());
                algs.len() - 1
            });
            let t = *task_index.entry(&c.task).or_insert_with(|| {
                tasks.push(&c.task);
                tasks.len() - 1
            });
            let rs = &mut runs[a];
            let r = *run_index[a].entry(&c.run).or_insert_with(|| {
                rs.push(&c.run);
                rs.len() - 1
            });
            cell[a].insert((r, t), c);
        }
        let mut matrices = Vec::with_capacity(algs.len());
        for (a, alg) in algs.iter().enumerate() {
            let mut data = Vec::with_capacity(runs[a].len() * tasks.len());
            for (r, run) in runs[a].iter().enumerate() {
                for (t, task) in tasks.iter().enumerate() {
                    let c = cell[a].get(&(r, t)).ok_or_else(|| {
                        Error::invalid(
                            "tracked runs",
                            format!("algorithm {alg:?} has no run {run:?} on task {task:?}"),
                            "the same runs (seeds) on every task within an algorithm",
                        )
                    })?;
                    data.push(score(c)?);
                }
            }
            matrices.push(ScoreMatrix::from_flat(
                *alg,
                tasks.iter().map(|t| t.to_string()).collect(),
                runs[a].len(),
                data,
            )?);
        }
        ScoreSet::new(matrices)
    }
}

/// Mean that stays finite for finite inputs near the largest f64 (the sum
/// of two values near 1e308 overflows; the sum of their n-ths does not).
fn mean(xs: &[f64]) -> f64 {
    let n = xs.len() as f64;
    let sum = xs.iter().sum::<f64>();
    if sum.is_finite() {
        sum / n
    } else {
        xs.iter().map(|x| x / n).sum()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const LONG: &str = "\
exp_name,env_id,seed,global_step,charts/episodic_return,other
ppo,CartPole-v1,1,300,10,x
ppo,CartPole-v1,1,100,2,x
ppo,CartPole-v1,1,200,,x
ppo,CartPole-v1,1,200,6,x
ppo,CartPole-v1,2,150,4,x
ppo,CartPole-v1,2,350,8,x
dqn,CartPole-v1,1,120,1,x
dqn,CartPole-v1,1,320,3,x
";

    #[test]
    fn long_csv_sorts_skips_blanks_and_scores() {
        let runs = TrackedRuns::read_long_csv(LONG.as_bytes(), "t.csv", &TrackedColumns::default())
            .unwrap();
        assert_eq!(runs.curves().len(), 3);
        let c = &runs.curves()[0];
        assert_eq!(c.steps, vec![100.0, 200.0, 300.0]);
        assert_eq!(c.values, vec![2.0, 6.0, 10.0]);
        let last2 = runs.final_scores(FinalScore::LastEpisodes(2)).unwrap();
        let ppo = last2.get("ppo").unwrap();
        assert_eq!(ppo.runs(), 2);
        assert_eq!(ppo.data(), &[8.0, 6.0]);
        assert_eq!(last2.get("dqn").unwrap().data(), &[2.0]);
        // Last half of run 1's steps (100..300): steps >= 200.
        let half = runs.final_scores(FinalScore::LastFraction(0.5)).unwrap();
        assert_eq!(half.get("ppo").unwrap().data(), &[8.0, 8.0]);
        // Window (150, 250]: run 1 has step 200 (6); run 2 nothing there -> last before (4).
        let at = runs.scores_at(&[250.0], 100.0).unwrap();
        assert_eq!(at[0].get("ppo").unwrap().data(), &[6.0, 4.0]);
        assert_eq!(at[0].get("dqn").unwrap().data(), &[1.0]);
    }

    #[test]
    fn bad_input_is_named() {
        let cols = TrackedColumns::default();
        let e = TrackedRuns::read_long_csv("a,b\n1,2\n".as_bytes(), "f.csv", &cols).unwrap_err();
        assert!(e.to_string().contains("exp_name"), "{e}");
        let bad = LONG.replace("ppo,CartPole-v1,1,300,10", "ppo,CartPole-v1,1,300,ten");
        let e = TrackedRuns::read_long_csv(bad.as_bytes(), "f.csv", &cols).unwrap_err();
        assert!(
            e.to_string().contains("line 2") && e.to_string().contains("ten"),
            "{e}"
        );
        let inf = LONG.replace("ppo,CartPole-v1,1,300,10", "ppo,CartPole-v1,1,300,inf");
        assert!(TrackedRuns::read_long_csv(inf.as_bytes(), "f.csv", &cols).is_err());
        let runs = TrackedRuns::read_long_csv(LONG.as_bytes(), "f.csv", &cols).unwrap();
        assert!(runs.final_scores(FinalScore::LastEpisodes(0)).is_err());
        assert!(runs.final_scores(FinalScore::LastFraction(1.5)).is_err());
        let e = runs.scores_at(&[50.0], 10.0).unwrap_err().to_string();
        assert!(e.contains("50") && e.contains("ppo"), "{e}");
        // Runs missing on a task.
        let gap = format!("{LONG}ppo,Acrobot-v1,1,100,-80,x\n");
        let runs = TrackedRuns::read_long_csv(gap.as_bytes(), "f.csv", &cols).unwrap();
        let e = runs.final_scores(FinalScore::LastEpisodes(1)).unwrap_err();
        assert!(e.to_string().contains("Acrobot-v1"), "{e}");
        assert!(TrackedRuns::new(vec![]).is_err());
    }

    #[test]
    fn json_array_and_lines_match_the_csv() {
        let cols = TrackedColumns::default();
        let csv = TrackedRuns::read_long_csv(LONG.as_bytes(), "t.csv", &cols).unwrap();
        let mut lines = String::new();
        for l in LONG.lines().skip(1) {
            let f: Vec<&str> = l.split(',').collect();
            let value = if f[4].is_empty() {
                "null".to_string()
            } else {
                f[4].to_string()
            };
            lines.push_str(&format!(
                "{{\"exp_name\": \"{}\", \"env_id\": \"{}\", \"seed\": {}, \"global_step\": {}, \"charts/episodic_return\": {value}}}\n",
                f[0], f[1], f[2], f[3]
            ));
        }
        let jsonl = TrackedRuns::read_long_json(&lines, "t.jsonl", &cols).unwrap();
        assert_eq!(jsonl, csv);
        let array = format!("[{}]", lines.trim_end().replace('\n', ","));
        assert_eq!(
            TrackedRuns::read_long_json(&array, "t.json", &cols).unwrap(),
            csv
        );
        let bad = lines.replace("\"global_step\": 300", "\"global_step\": \"late\"");
        let e = TrackedRuns::read_long_json(&bad, "t.jsonl", &cols)
            .unwrap_err()
            .to_string();
        assert!(e.contains("global_step") && e.contains("line 1"), "{e}");
        let missing = "{\"exp_name\": \"a\"}\n";
        assert!(TrackedRuns::read_long_json(missing, "m.jsonl", &cols).is_err());
    }

    #[test]
    fn wide_wandb_export() {
        let wide = "\
Step,CartPole-v1__ppo__1__1680000000 - charts/episodic_return,CartPole-v1__ppo__1__1680000000 - charts/episodic_return__MIN,CartPole-v1__ppo__1__1680000000 - charts/episodic_return__MAX,CartPole-v1__ppo__2__1680000001 - charts/episodic_return
100,2,2,2,
200,6,6,6,5
300,10,10,10,9
";
        let runs = TrackedRuns::read_wide_csv(wide.as_bytes(), "w.csv").unwrap();
        assert_eq!(runs.curves().len(), 2);
        assert_eq!(runs.curves()[1].steps, vec![200.0, 300.0]);
        let s = runs.final_scores(FinalScore::LastEpisodes(1)).unwrap();
        let ppo = s.get("ppo").unwrap();
        assert_eq!(ppo.task_names(), &["CartPole-v1".to_string()]);
        assert_eq!(ppo.data(), &[10.0, 9.0]);
        let e = TrackedRuns::read_wide_csv("Step,oops - x\n1,2\n".as_bytes(), "w.csv")
            .unwrap_err()
            .to_string();
        assert!(e.contains("oops"), "{e}");
        assert!(TrackedRuns::read_wide_csv("x,y\n".as_bytes(), "w.csv").is_err());
    }
}

/// Regression tests of issue #25.
#[cfg(test)]
mod reliability_tests {
    use super::*;

    #[test]
    fn many_curves_assemble_and_huge_values_average_finitely() {
        let curves: Vec<RunCurve> = (0..20_000)
            .map(|i| RunCurve {
                algorithm: format!("alg,{}", i % 4),
                task: format!("task{}", (i / 4) % 50),
                run: format!("seed{}", i / 200),
                steps: vec![1.0, 2.0],
                values: vec![1.7e308, 1.6e308],
            })
            .collect();
        let set = TrackedRuns::new(curves)
            .unwrap()
            .final_scores(FinalScore::LastEpisodes(2))
            .unwrap();
        assert_eq!(set.matrices().len(), 4);
        let m = set.get("alg,1").unwrap();
        assert_eq!((m.runs(), m.tasks()), (100, 50));
        assert!(
            m.data().iter().all(|v| (*v - 1.65e308).abs() < 1e293),
            "{:?}",
            m.get(0, 0)
        );
    }
}
