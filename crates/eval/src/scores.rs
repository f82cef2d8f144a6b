//! Score data: one (runs x tasks) matrix per algorithm.
//!
//! The layout follows rliable (Agarwal et al. 2021, "Deep RL at the Edge of
//! the Statistical Precipice"): `scores[run][task]`, one matrix per algorithm.
//! Different algorithms may have different numbers of runs (probability of
//! improvement allows it), but within one algorithm every task has the same
//! number of runs.
//!
//! Two file forms are read:
//! - tidy CSV with a header containing `algorithm,task,run,score` (any order,
//!   extra columns ignored), one row per (algorithm, task, run);
//! - JSON `{"<algorithm>": [[run x task]]}` (tasks are then named `task_0`, ...).

use std::collections::HashMap;
use std::io::Read;
use std::path::Path;

use duality_core::{Error, Result};

/// A user-given label cut to about 80 characters for an error message.
fn cut(text: &str) -> String {
    duality_core::error::shorten(text, duality_core::error::MAX_VALUE_CHARS)
}

/// A JSON object's entries in order, rejecting a key that appears twice
/// (serde_json's map keeps the last one silently).
struct UniqueEntries(Vec<(String, serde_json::Value)>);

impl<'de> Deserialize<'de> for UniqueEntries {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        struct Visitor;
        impl<'de> serde::de::Visitor<'de> for Visitor {
            type Value = UniqueEntries;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("an object {\"<algorithm>\": [[run x task]]}")
            }
            fn visit_map<M: serde::de::MapAccess<'de>>(
                self,
                mut map: M,
            ) -> std::result::Result<UniqueEntries, M::Error> {
                let mut seen = std::collections::HashSet::new();
                let mut out = Vec::new();
                while let Some((k, v)) = map.next_entry::<String, serde_json::Value>()? {
                    if !seen.insert(k.clone()) {
                        return Err(serde::de::Error::custom(format!(
                            "duplicate algorithm key {:?}",
                            cut(&k)
                        )));
                    }
                    out.push((k, v));
                }
                Ok(UniqueEntries(out))
            }
        }
        d.deserialize_map(Visitor)
    }
}
use serde::{Deserialize, Serialize};

/// A borrowed (runs x tasks) matrix, row-major (`data[run * tasks + task]`).
///
/// This is what aggregate metrics see; the bootstrap hands them views of its
/// reusable resampling buffers so that no replicate allocates.
#[derive(Debug, Clone, Copy)]
pub struct MatrixRef<'a> {
    /// Row-major scores, `runs * tasks` of them.
    pub data: &'a [f64],
    /// Number of runs (rows).
    pub runs: usize,
    /// Number of tasks (columns).
    pub tasks: usize,
}

impl<'a> MatrixRef<'a> {
    /// Score of `run` on `task` (callers guarantee the indices are in range).
    #[inline]
    pub fn get(&self, run: usize, task: usize) -> f64 {
        self.data[run * self.tasks + task]
    }
}

/// The scores of one algorithm: `runs x tasks`, all finite.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ScoreMatrix {
    algorithm: String,
    task_names: Vec<String>,
    runs: usize,
    data: Vec<f64>,
}

impl ScoreMatrix {
    /// Builds a matrix from rows (one per run, each with one score per task).
    ///
    /// Errors on no runs, no tasks, ragged rows, or a non-finite score (the
    /// message names the algorithm, run and task).
    pub fn from_rows(algorithm: impl Into<String>, rows: &[Vec<f64>]) -> Result<Self> {
        let algorithm = algorithm.into();
        let first = rows.first().ok_or_else(|| Error::Empty {
            what: format!("score matrix of {algorithm}"),
            min: 1,
        })?;
        let tasks = first.len();
        let task_names = (0..tasks).map(|t| format!("task_{t}")).collect();
        let mut data = Vec::with_capacity(rows.len() * tasks);
        for (r, row) in rows.iter().enumerate() {
            if row.len() != tasks {
                return Err(Error::LengthMismatch {
                    left_name: format!("run 0 of {algorithm}"),
                    left: tasks,
                    right_name: format!("run {r} of {algorithm}"),
                    right: row.len(),
                });
            }
            data.extend_from_slice(row);
        }
        Self::from_flat(algorithm, task_names, rows.len(), data)
    }

    /// Builds a matrix from row-major data (`data[run * tasks + task]`) and
    /// task names.
    pub fn from_flat(
        algorithm: impl Into<String>,
        task_names: Vec<String>,
        runs: usize,
        data: Vec<f64>,
    ) -> Result<Self> {
        let algorithm = algorithm.into();
        let tasks = task_names.len();
        if runs == 0 || tasks == 0 {
            return Err(Error::Empty {
                what: format!("score matrix of {algorithm} ({runs} runs x {tasks} tasks)"),
                min: 1,
            });
        }
        if data.len() != runs * tasks {
            return Err(Error::Shape {
                what: format!("score matrix of {algorithm}"),
                expected: vec![runs, tasks],
                got: vec![data.len()],
            });
        }
        if let Some(i) = data.iter().position(|v| !v.is_finite()) {
            return Err(Error::invalid(
                format!(
                    "score of algorithm {algorithm:?}, run {}, task {:?}",
                    i / tasks,
                    task_names[i % tasks]
                ),
                data[i],
                "a finite number",
            ));
        }
        Ok(ScoreMatrix {
            algorithm,
            task_names,
            runs,
            data,
        })
    }

    /// The algorithm's name.
    pub fn algorithm(&self) -> &str {
        &self.algorithm
    }

    /// Task names, in column order.
    pub fn task_names(&self) -> &[String] {
        &self.task_names
    }

    /// Number of runs (rows).
    pub fn runs(&self) -> usize {
        self.runs
    }

    /// Number of tasks (columns).
    pub fn tasks(&self) -> usize {
        self.task_names.len()
    }

    /// Row-major scores.
    pub fn data(&self) -> &[f64] {
        &self.data
    }

    /// A borrowed view for the metric functions.
    pub fn view(&self) -> MatrixRef<'_> {
        MatrixRef {
            data: &self.data,
            runs: self.runs,
            tasks: self.tasks(),
        }
    }

    /// Score of `run` on `task`, or `None` out of range.
    pub fn get(&self, run: usize, task: usize) -> Option<f64> {
        if run < self.runs && task < self.tasks() {
            self.data.get(run * self.tasks() + task).copied()
        } else {
            None
        }
    }

    /// The scores of one task (all runs), copied.
    pub fn task_column(&self, task: usize) -> Vec<f64> {
        let t = self.tasks();
        self.data.iter().skip(task).step_by(t).copied().collect()
    }

    /// Renames the algorithm, builder-style.
    pub fn with_algorithm(mut self, name: impl Into<String>) -> Self {
        self.algorithm = name.into();
        self
    }

    /// Renames the tasks (must be one per column).
    pub fn with_task_names(mut self, names: Vec<String>) -> Result<Self> {
        if names.len() != self.tasks() {
            return Err(Error::LengthMismatch {
                left_name: "task names".into(),
                left: names.len(),
                right_name: format!("tasks of {}", self.algorithm),
                right: self.tasks(),
            });
        }
        self.task_names = names;
        Ok(self)
    }

    /// Min-max normalises each task: `(score - low[t]) / (high[t] - low[t])`,
    /// e.g. with random and human scores as on Atari (human-normalised scores).
    pub fn normalized(&self, low: &[f64], high: &[f64]) -> Result<Self> {
        let t = self.tasks();
        duality_core::check::same_len("low", low.len(), "tasks", t)?;
        duality_core::check::same_len("high", high.len(), "tasks", t)?;
        duality_core::check::finite("low", low)?;
        duality_core::check::finite("high", high)?;
        for j in 0..t {
            if high[j] == low[j] {
                return Err(Error::invalid(
                    format!("high[{j}] (task {:?})", self.task_names[j]),
                    high[j],
                    format!("a value different from low[{j}] = {}", low[j]),
                ));
            }
        }
        let data = self
            .data
            .iter()
            .enumerate()
            .map(|(i, &s)| {
                let j = i % t;
                (s - low[j]) / (high[j] - low[j])
            })
            .collect();
        ScoreMatrix::from_flat(
            self.algorithm.clone(),
            self.task_names.clone(),
            self.runs,
            data,
        )
    }

    /// Normalises with the per-task observed minimum and maximum over the
    /// given matrices (all must share the task list), mapping to `[0, 1]`.
    pub fn min_max_bounds(matrices: &[&ScoreMatrix]) -> Result<(Vec<f64>, Vec<f64>)> {
        let first = matrices.first().ok_or_else(|| Error::Empty {
            what: "matrices".into(),
            min: 1,
        })?;
        let t = first.tasks();
        let mut low = vec![f64::INFINITY; t];
        let mut high = vec![f64::NEG_INFINITY; t];
        for m in matrices {
            duality_core::check::same_len("tasks", m.tasks(), "tasks of the first matrix", t)?;
            for (i, &s) in m.data.iter().enumerate() {
                let j = i % t;
                low[j] = low[j].min(s);
                high[j] = high[j].max(s);
            }
        }
        Ok((low, high))
    }
}

/// The scores of several algorithms on the same tasks, in the order the
/// algorithms first appeared.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ScoreSet {
    matrices: Vec<ScoreMatrix>,
}

impl ScoreSet {
    /// A set from matrices, which must have distinct names and the same tasks.
    pub fn new(matrices: Vec<ScoreMatrix>) -> Result<Self> {
        let first = matrices.first().ok_or_else(|| Error::Empty {
            what: "score set".into(),
            min: 1,
        })?;
        let mut names = std::collections::HashSet::with_capacity(matrices.len());
        for m in &matrices {
            if m.task_names != first.task_names {
                return Err(Error::invalid(
                    format!("tasks of algorithm {:?}", m.algorithm),
                    format!("{:?}", m.task_names),
                    format!("the tasks of {:?}: {:?}", first.algorithm, first.task_names),
                ));
            }
            if !names.insert(m.algorithm.as_str()) {
                return Err(Error::invalid(
                    "algorithm name",
                    &m.algorithm,
                    "names that are unique within a score set",
                ));
            }
        }
        Ok(ScoreSet { matrices })
    }

    /// The matrices, in order.
    pub fn matrices(&self) -> &[ScoreMatrix] {
        &self.matrices
    }

    /// Algorithm names, in order.
    pub fn algorithms(&self) -> Vec<&str> {
        self.matrices.iter().map(|m| m.algorithm()).collect()
    }

    /// The matrix of `algorithm`, or an error listing the known names.
    pub fn get(&self, algorithm: &str) -> Result<&ScoreMatrix> {
        self.matrices
            .iter()
            .find(|m| m.algorithm == algorithm)
            .ok_or_else(|| {
                Error::invalid(
                    "algorithm",
                    algorithm,
                    format!("one of {:?}", self.algorithms()),
                )
            })
    }

    /// Task names (shared by every algorithm).
    pub fn task_names(&self) -> &[String] {
        self.matrices.first().map(|m| m.task_names()).unwrap_or(&[])
    }

    /// Reads a tidy CSV file (see [`ScoreSet::read_csv`]).
    pub fn from_csv_path(path: impl AsRef<Path>) -> Result<Self> {
        let path = path.as_ref();
        let reader = duality_core::record::open_buffered(path)?;
        Self::read_csv(reader, &path.display().to_string())
    }

    /// Reads tidy CSV: a header naming `algorithm`, `task`, `run` and `score`
    /// (any order; other columns ignored), then one row per (algorithm, task,
    /// run). Runs are labels (any text); within an algorithm every task must
    /// have the same runs. Errors name the file and line.
    pub fn read_csv<R: Read>(reader: R, source_name: &str) -> Result<Self> {
        let (mut rdr, headers) = duality_core::record::csv_with_header(reader, source_name)?;
        let col = |name: &str| {
            duality_core::record::header_column(
                &headers,
                name,
                source_name,
                "algorithm,task,run,score",
            )
        };
        let (ia, it, ir, is) = (col("algorithm")?, col("task")?, col("run")?, col("score")?);

        // Algorithm -> (task, run) -> score, remembering first-appearance
        // order. Every lookup is a hash lookup, so reading is linear in the
        // number of rows (10^6 rows read in about a second).
        let mut algs: Vec<String> = Vec::new();
        let mut alg_index: HashMap<String, usize> = HashMap::new();
        let mut tasks: Vec<String> = Vec::new();
        let mut task_index: HashMap<String, usize> = HashMap::new();
        let mut cells: Vec<HashMap<(usize, usize), (f64, usize)>> = Vec::new();
        let mut runs_per_alg: Vec<Vec<String>> = Vec::new();
        let mut run_index: Vec<HashMap<String, usize>> = Vec::new();
        for (row_no, row) in rdr.records().enumerate() {
            let line = row_no + 2;
            let row = row.map_err(|e| Error::parse(source_name, Some(line), e.to_string()))?;
            let field = |i: usize| {
                row.get(i).map(str::trim).ok_or_else(|| {
                    Error::parse(
                        source_name,
                        Some(line),
                        format!(
                            "row has {} field(s), expected at least {}",
                            row.len(),
                            i + 1
                        ),
                    )
                })
            };
            let (alg, task, run, score) = (field(ia)?, field(it)?, field(ir)?, field(is)?);
            let value: f64 = score.parse().map_err(|_| {
                Error::parse(
                    source_name,
                    Some(line),
                    format!("score is not a number: {:?}", cut(score)),
                )
            })?;
            if !value.is_finite() {
                return Err(Error::parse(
                    source_name,
                    Some(line),
                    format!(
                        "score of algorithm {:?}, run {:?}, task {:?} is {value}: expected a finite number",
                        cut(alg),
                        cut(run),
                        cut(task)
                    ),
                ));
            }
            let a = match alg_index.get(alg) {
                Some(&a) => a,
                None => {
                    algs.push(alg.to_string());
                    alg_index.insert(alg.to_string(), algs.len() - 1);
                    cells.push(HashMap::new());
                    runs_per_alg.push(Vec::new());
                    run_index.push(HashMap::new());
                    algs.len() - 1
                }
            };
            let t = match task_index.get(task) {
                Some(&t) => t,
                None => {
                    tasks.push(task.to_string());
                    task_index.insert(task.to_string(), tasks.len() - 1);
                    tasks.len() - 1
                }
            };
            let r = match run_index[a].get(run) {
                Some(&r) => r,
                None => {
                    runs_per_alg[a].push(run.to_string());
                    run_index[a].insert(run.to_string(), runs_per_alg[a].len() - 1);
                    runs_per_alg[a].len() - 1
                }
            };
            if let Some((_, prev)) = cells[a].insert((t, r), (value, line)) {
                return Err(Error::parse(
                    source_name,
                    Some(line),
                    format!(
                        "duplicate score for algorithm {:?}, task {:?}, run {:?} (first on line {prev})",
                        cut(alg),
                        cut(task),
                        cut(run)
                    ),
                ));
            }
        }
        if algs.is_empty() {
            return Err(Error::parse(source_name, None, "no score rows"));
        }
        let mut matrices = Vec::with_capacity(algs.len());
        for (a, alg) in algs.iter().enumerate() {
            let runs = &runs_per_alg[a];
            let mut data = Vec::with_capacity(runs.len() * tasks.len());
            for (r, run) in runs.iter().enumerate() {
                for (t, task) in tasks.iter().enumerate() {
                    let (v, _) = cells[a].get(&(t, r)).ok_or_else(|| {
                        Error::parse(
                            source_name,
                            None,
                            format!(
                                "algorithm {alg:?} has no score for task {task:?}, run {run:?} \
                                 (every task needs the same runs within an algorithm)"
                            ),
                        )
                    })?;
                    data.push(*v);
                }
            }
            matrices.push(ScoreMatrix::from_flat(
                alg.clone(),
                tasks.clone(),
                runs.len(),
                data,
            )?);
        }
        ScoreSet::new(matrices)
    }

    /// Reads JSON `{"<algorithm>": [[run x task]]}`; tasks are named `task_0`, ...
    pub fn read_json<R: Read>(reader: R) -> Result<Self> {
        let UniqueEntries(raw) = serde_json::from_reader(reader)?;
        let mut matrices = Vec::with_capacity(raw.len());
        for (alg, value) in raw {
            // NaN cannot appear in JSON; null is the usual stand-in, so name it.
            let rows: Vec<Vec<Option<f64>>> = serde_json::from_value(value)?;
            let mut clean = Vec::with_capacity(rows.len());
            for (r, row) in rows.iter().enumerate() {
                let mut out = Vec::with_capacity(row.len());
                for (t, v) in row.iter().enumerate() {
                    out.push(v.ok_or_else(|| {
                        Error::invalid(
                            format!("score of algorithm {alg:?}, run {r}, task \"task_{t}\""),
                            "null",
                            "a finite number",
                        )
                    })?);
                }
                clean.push(out);
            }
            matrices.push(ScoreMatrix::from_rows(alg, &clean)?);
        }
        ScoreSet::new(matrices)
    }

    /// Reads a `.csv` or `.json` file by extension.
    pub fn from_path(path: impl AsRef<Path>) -> Result<Self> {
        let path = path.as_ref();
        match path.extension().and_then(|e| e.to_str()) {
            Some("json") => {
                let file = std::fs::File::open(path).map_err(|e| Error::io(path, e))?;
                Self::read_json(std::io::BufReader::new(file))
            }
            _ => Self::from_csv_path(path),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_reads_tidy_rows_with_extra_columns() {
        let text = "seed,algorithm,task,run,score,note\n\
                    0,a,pong,0,1.0,x\n0,a,pong,1,2.0,y\n0,a,breakout,0,3.0,\n0,a,breakout,1,4.0,\n\
                    0,b,pong,r0,5.0,\n0,b,breakout,r0,6.0,\n";
        let set = ScoreSet::read_csv(text.as_bytes(), "s.csv").unwrap();
        assert_eq!(set.algorithms(), vec!["a", "b"]);
        let a = set.get("a").unwrap();
        assert_eq!(a.runs(), 2);
        assert_eq!(
            a.task_names(),
            &["pong".to_string(), "breakout".to_string()]
        );
        assert_eq!(a.data(), &[1.0, 3.0, 2.0, 4.0]);
        assert_eq!(set.get("b").unwrap().runs(), 1);
        assert!(set.get("c").unwrap_err().to_string().contains("\"a\""));
    }

    #[test]
    fn csv_errors_name_line_and_cell() {
        let err = ScoreSet::read_csv("algorithm,task,score\n".as_bytes(), "h.csv")
            .unwrap_err()
            .to_string();
        assert!(err.contains("missing column `run`"), "{err}");
        let err = ScoreSet::read_csv(
            "algorithm,task,run,score\na,t,0,1\na,t,1,nan\n".as_bytes(),
            "n.csv",
        )
        .unwrap_err()
        .to_string();
        assert!(err.contains("n.csv line 3") && err.contains("NaN"), "{err}");
        let err = ScoreSet::read_csv(
            "algorithm,task,run,score\na,t,0,1\na,t,0,2\n".as_bytes(),
            "d.csv",
        )
        .unwrap_err()
        .to_string();
        assert!(err.contains("duplicate") && err.contains("line 3"), "{err}");
        let err = ScoreSet::read_csv(
            "algorithm,task,run,score\na,t,0,1\na,u,1,2\n".as_bytes(),
            "m.csv",
        )
        .unwrap_err()
        .to_string();
        assert!(err.contains("no score for task"), "{err}");
        let err = ScoreSet::read_csv("algorithm,task,run,score\na,t,0,x\n".as_bytes(), "x.csv")
            .unwrap_err()
            .to_string();
        assert!(err.contains("line 2") && err.contains("\"x\""), "{err}");
    }

    #[test]
    fn nan_is_rejected_naming_algorithm_run_task() {
        let err = ScoreMatrix::from_rows("dqn", &[vec![1.0, 2.0], vec![3.0, f64::NAN]])
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("dqn") && err.contains("run 1") && err.contains("task_1"),
            "{err}"
        );
        assert!(ScoreMatrix::from_rows("e", &[]).is_err());
        assert!(ScoreMatrix::from_rows("r", &[vec![1.0], vec![1.0, 2.0]]).is_err());
    }

    #[test]
    fn json_and_normalisation() {
        let set = ScoreSet::read_json(r#"{"x": [[0.0, 10.0], [5.0, 20.0]]}"#.as_bytes()).unwrap();
        let x = set.get("x").unwrap();
        let n = x.normalized(&[0.0, 10.0], &[10.0, 20.0]).unwrap();
        assert_eq!(n.data(), &[0.0, 0.0, 0.5, 1.0]);
        assert!(x.normalized(&[0.0, 1.0], &[0.0, 2.0]).is_err());
        let (lo, hi) = ScoreMatrix::min_max_bounds(&[x]).unwrap();
        assert_eq!((lo, hi), (vec![0.0, 10.0], vec![5.0, 20.0]));
        let err = ScoreSet::read_json(r#"{"x": [[0.0, null]]}"#.as_bytes())
            .unwrap_err()
            .to_string();
        assert!(err.contains("run 0") && err.contains("task_1"), "{err}");
    }
}

/// Regression tests of issue #25.
#[cfg(test)]
mod reliability_tests {
    use super::*;

    #[test]
    fn a_duplicate_json_key_is_refused() {
        let e = ScoreSet::read_json(r#"{"a": [[1.0]], "b": [[2.0]], "a": [[3.0]]}"#.as_bytes())
            .unwrap_err()
            .to_string();
        assert!(e.contains("duplicate") && e.contains("\"a\""), "{e}");
    }

    #[test]
    fn many_rows_read_in_linear_time() {
        // 10^5 rows: 10 algorithms x 100 tasks x 100 runs (the old reader
        // scanned every run per row; no time is asserted here).
        let mut text = String::from("algorithm,task,run,score\n");
        for a in 0..10 {
            for t in 0..100 {
                for r in 0..100 {
                    text.push_str(&format!("alg{a},task{t},seed{r},{}\n", a + t + r));
                }
            }
        }
        let set = ScoreSet::read_csv(text.as_bytes(), "big.csv").unwrap();
        assert_eq!(set.matrices().len(), 10);
        let m = set.get("alg3").unwrap();
        assert_eq!((m.runs(), m.tasks()), (100, 100));
        assert_eq!(m.get(7, 5), Some(3.0 + 5.0 + 7.0));
    }
}
