//! Run records: what one algorithm scored on one task with one seed.
//!
//! Every area reports its experiments as a list of [`RunRecord`]s; the bench
//! harness and `duality-eval` aggregate them over seeds. Two on-disk forms:
//! JSON (an array of records) and a long, tidy CSV with one row per metric
//! (`algorithm,task,seed,metric,value`), which spreadsheet tools, pandas and
//! `duality eval` all read directly.

use std::collections::BTreeMap;
use std::io::{Read, Write};
use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};

/// The outcome of one run: algorithm x task x seed -> named metrics.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunRecord {
    /// Algorithm (policy, solver, trainer) name.
    pub algorithm: String,
    /// Task (environment, instance, data set) name.
    pub task: String,
    /// The seed of this run.
    pub seed: u64,
    /// Named metrics; ordered so that output is stable. In JSON a
    /// non-finite metric is `null` (serde_json's encoding), read back as NaN;
    /// [`read_json`] refuses it, the bench's own result files keep it.
    #[serde(deserialize_with = "nan_as_null::map")]
    pub metrics: BTreeMap<String, f64>,
}

impl RunRecord {
    /// A record with no metrics yet.
    pub fn new(algorithm: impl Into<String>, task: impl Into<String>, seed: u64) -> Self {
        RunRecord {
            algorithm: algorithm.into(),
            task: task.into(),
            seed,
            metrics: BTreeMap::new(),
        }
    }

    /// Adds (or replaces) a metric, builder-style.
    pub fn with_metric(mut self, name: impl Into<String>, value: f64) -> Self {
        self.metrics.insert(name.into(), value);
        self
    }

    /// The value of a metric, if recorded.
    pub fn metric(&self, name: &str) -> Option<f64> {
        self.metrics.get(name).copied()
    }

    fn check_finite(&self) -> Result<()> {
        for (name, v) in &self.metrics {
            if !v.is_finite() {
                return Err(Error::invalid(
                    format!(
                        "metric `{name}` of {} on {} (seed {})",
                        self.algorithm, self.task, self.seed
                    ),
                    v,
                    "a finite number (JSON and CSV cannot carry NaN/inf faithfully)",
                ));
            }
        }
        Ok(())
    }
}

/// Writes records as a pretty JSON array.
pub fn write_json<W: Write>(records: &[RunRecord], writer: W) -> Result<()> {
    for r in records {
        r.check_finite()?;
    }
    serde_json::to_writer_pretty(writer, records)?;
    Ok(())
}

/// Reads records from a JSON array. Every metric must be finite (`null`,
/// JSON's stand-in for NaN, is an error naming the record and metric).
pub fn read_json<R: Read>(reader: R) -> Result<Vec<RunRecord>> {
    let records: Vec<RunRecord> = serde_json::from_reader(reader)?;
    for r in &records {
        r.check_finite()?;
    }
    Ok(records)
}

/// Serde readers for numbers that serde_json wrote as `null` because they
/// were NaN or infinite (JSON has neither): `null` reads back as NaN, so a
/// result file round-trips. Use them for stored results, not for user input,
/// which must be finite.
pub mod nan_as_null {
    use std::collections::BTreeMap;

    use serde::{Deserialize, Deserializer};

    /// One number; `null` is NaN.
    pub fn f64<'de, D: Deserializer<'de>>(d: D) -> Result<f64, D::Error> {
        Ok(Option::<f64>::deserialize(d)?.unwrap_or(f64::NAN))
    }

    /// A pair of numbers; each `null` is NaN.
    pub fn pair<'de, D: Deserializer<'de>>(d: D) -> Result<(f64, f64), D::Error> {
        let (a, b) = <(Option<f64>, Option<f64>)>::deserialize(d)?;
        Ok((a.unwrap_or(f64::NAN), b.unwrap_or(f64::NAN)))
    }

    /// A list of numbers; each `null` is NaN.
    pub fn vec<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<f64>, D::Error> {
        Ok(Vec::<Option<f64>>::deserialize(d)?
            .into_iter()
            .map(|x| x.unwrap_or(f64::NAN))
            .collect())
    }

    /// Named numbers; each `null` is NaN.
    pub fn map<'de, D: Deserializer<'de>>(d: D) -> Result<BTreeMap<String, f64>, D::Error> {
        Ok(BTreeMap::<String, Option<f64>>::deserialize(d)?
            .into_iter()
            .map(|(k, v)| (k, v.unwrap_or(f64::NAN)))
            .collect())
    }
}

/// Writes records as long-format CSV: `algorithm,task,seed,metric,value`.
pub fn write_csv<W: Write>(records: &[RunRecord], writer: W) -> Result<()> {
    let mut w = csv::Writer::from_writer(writer);
    let csv_err = |e: csv::Error| Error::Other(format!("cannot write CSV: {e}"));
    w.write_record(["algorithm", "task", "seed", "metric", "value"])
        .map_err(csv_err)?;
    for r in records {
        r.check_finite()?;
        for (name, value) in &r.metrics {
            // `{:?}` prints the shortest representation that round-trips.
            w.write_record([
                r.algorithm.as_str(),
                r.task.as_str(),
                &r.seed.to_string(),
                name.as_str(),
                &format!("{value:?}"),
            ])
            .map_err(csv_err)?;
        }
    }
    w.flush()
        .map_err(|e| Error::Other(format!("cannot write CSV: {e}")))?;
    Ok(())
}

/// Reads long-format CSV back into records (grouped by algorithm, task and
/// seed, in order of first appearance). `source_name` is used in errors.
pub fn read_csv<R: Read>(reader: R, source_name: &str) -> Result<Vec<RunRecord>> {
    let (mut rdr, headers) = csv_with_header(reader, source_name)?;
    let col = |name: &str| header_column(&headers, name, source_name, "");
    let (ia, it, is, im, iv) = (
        col("algorithm")?,
        col("task")?,
        col("seed")?,
        col("metric")?,
        col("value")?,
    );
    let mut out: Vec<RunRecord> = Vec::new();
    let mut index: BTreeMap<(String, String, u64), usize> = BTreeMap::new();
    for (row_no, row) in rdr.records().enumerate() {
        let line = row_no + 2;
        let row = row.map_err(|e| Error::parse(source_name, Some(line), e.to_string()))?;
        let field = |i: usize| row.get(i).unwrap_or("").trim();
        let seed: u64 = field(is).parse().map_err(|_| {
            Error::parse(
                source_name,
                Some(line),
                format!("seed is not an integer: {:?}", field(is)),
            )
        })?;
        let value: f64 = field(iv).parse().map_err(|_| {
            Error::parse(
                source_name,
                Some(line),
                format!("value is not a number: {:?}", field(iv)),
            )
        })?;
        let key = (field(ia).to_string(), field(it).to_string(), seed);
        let slot = *index.entry(key.clone()).or_insert_with(|| {
            out.push(RunRecord::new(key.0, key.1, seed));
            out.len() - 1
        });
        out[slot].metrics.insert(field(im).to_string(), value);
    }
    Ok(out)
}

/// A CSV reader over `reader` that tolerates rows of differing lengths (the
/// caller checks the columns it needs), and its header row; an unreadable
/// header is an error naming `source_name` and line 1.
pub fn csv_with_header<R: Read>(
    reader: R,
    source_name: &str,
) -> Result<(csv::Reader<R>, csv::StringRecord)> {
    let mut rdr = csv::ReaderBuilder::new()
        .has_headers(true)
        .flexible(true)
        .from_reader(reader);
    let headers = rdr
        .headers()
        .map_err(|e| Error::parse(source_name, Some(1), e.to_string()))?
        .clone();
    Ok((rdr, headers))
}

/// Opens `path` buffered, for the `read_*` functions that take a reader and
/// a source name; the error names the path.
pub fn open_buffered(path: &std::path::Path) -> Result<std::io::BufReader<std::fs::File>> {
    let file = std::fs::File::open(path).map_err(|e| Error::io(path, e))?;
    Ok(std::io::BufReader::new(file))
}

/// Position of the column `name` in a CSV header (cells compared after
/// trimming whitespace), or an error naming the file, line 1, the column and,
/// when `expected` is not empty, the columns the format needs.
pub fn header_column(
    headers: &csv::StringRecord,
    name: &str,
    source_name: &str,
    expected: &str,
) -> Result<usize> {
    headers
        .iter()
        .position(|h| h.trim() == name)
        .ok_or_else(|| {
            let hint = if expected.is_empty() {
                String::new()
            } else {
                format!(" (expected {expected})")
            };
            Error::parse(
                source_name,
                Some(1),
                format!("missing column `{name}` in header{hint}"),
            )
        })
}

/// Writes records to `path`, choosing JSON or CSV by extension. The file is
/// written atomically (see [`crate::files`]): complete or not at all.
pub fn save(records: &[RunRecord], path: impl AsRef<Path>) -> Result<()> {
    let path = path.as_ref();
    // Render in memory first so that a serialisation error leaves no file.
    let mut buf = Vec::new();
    match path.extension().and_then(|e| e.to_str()) {
        Some("csv") => write_csv(records, &mut buf)?,
        Some("json") => write_json(records, &mut buf)?,
        other => {
            return Err(Error::invalid(
                "file extension",
                format!("{other:?} of {}", path.display()),
                "`.json` or `.csv`",
            ))
        }
    }
    crate::files::write_atomic(path, buf)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> Vec<RunRecord> {
        vec![
            RunRecord::new("ucb1", "bernoulli-10", 0)
                .with_metric("regret", 12.5)
                .with_metric("seconds", 0.1 + 0.2),
            RunRecord::new("thompson, beta", "bernoulli-10", 1).with_metric("regret", -1e-300),
        ]
    }

    #[test]
    fn json_round_trip() {
        let mut buf = Vec::new();
        write_json(&sample(), &mut buf).unwrap();
        assert_eq!(read_json(&buf[..]).unwrap(), sample());
    }

    #[test]
    fn null_metrics_read_as_nan_but_user_json_must_be_finite() {
        let text = r#"[{"algorithm":"a","task":"t","seed":0,"metrics":{"m":null}}]"#;
        let raw: Vec<RunRecord> = serde_json::from_str(text).unwrap();
        assert!(raw[0].metrics["m"].is_nan());
        let msg = read_json(text.as_bytes()).unwrap_err().to_string();
        assert!(msg.contains("metric `m` of a on t"), "{msg}");
    }

    #[test]
    fn csv_round_trip_is_exact() {
        let mut buf = Vec::new();
        write_csv(&sample(), &mut buf).unwrap();
        let text = String::from_utf8(buf.clone()).unwrap();
        assert!(text.starts_with("algorithm,task,seed,metric,value\n"));
        assert_eq!(read_csv(&buf[..], "mem").unwrap(), sample());
    }

    #[test]
    fn non_finite_metric_is_rejected_by_name() {
        let r = RunRecord::new("a", "t", 3).with_metric("loss", f64::NAN);
        let err = write_json(&[r], Vec::new()).unwrap_err().to_string();
        assert!(err.contains("loss") && err.contains("seed 3"), "{err}");
    }

    #[test]
    fn malformed_csv_names_line() {
        let text = "algorithm,task,seed,metric,value\na,t,1,m,0.5\na,t,x,m,1\n";
        let err = read_csv(text.as_bytes(), "r.csv").unwrap_err().to_string();
        assert!(err.contains("r.csv line 3"), "{err}");
        let err = read_csv("algorithm,task\n".as_bytes(), "h.csv")
            .unwrap_err()
            .to_string();
        assert!(err.contains("missing column `seed`"), "{err}");
    }

    #[test]
    fn save_by_extension() {
        let dir = tempfile::tempdir().unwrap();
        save(&sample(), dir.path().join("r.json")).unwrap();
        save(&sample(), dir.path().join("r.csv")).unwrap();
        assert!(save(&sample(), dir.path().join("r.txt")).is_err());
    }
}
