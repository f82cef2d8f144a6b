//! Splitting the experiment grid over the tasks of a job array.
//!
//! The unit a shard runs is one (experiment, seed) cell for experiments that
//! split their work by seed (`Context::per_seed`; the cost table lists them
//! under `[per_seed.*]` with their seconds per seed), and one whole
//! experiment otherwise. Units are balanced by their measured cost, read from
//! the committed cost table `fixtures/bench/costs.toml` (written by `bench
//! --update-costs`), with longest-processing-time-first assignment: the most
//! expensive unit goes to the least loaded shard, and so on. Without a table
//! the grid is dealt round-robin. Results never depend on the split, because
//! every experiment draws from its own named seed stream and every seed's
//! value from its own seed.
//!
//! `--shard auto` takes the index from the scheduler: Slurm job arrays
//! (`SLURM_ARRAY_TASK_ID` with `SLURM_ARRAY_TASK_COUNT`, or with
//! `SLURM_ARRAY_TASK_MIN`/`_MAX`) or Kubernetes Indexed Jobs
//! (`JOB_COMPLETION_INDEX`, 0-based, with `--shards N`).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use anyhow::{bail, Context as _};
use serde::{Deserialize, Serialize};

/// Parses `I/N` (1-based shard I of N).
pub fn parse_shard(text: &str) -> anyhow::Result<(usize, usize)> {
    let parsed = text.split_once('/').and_then(|(i, n)| {
        Some((
            i.trim().parse::<usize>().ok()?,
            n.trim().parse::<usize>().ok()?,
        ))
    });
    match parsed {
        Some((i, n)) if n >= 1 && (1..=n).contains(&i) => Ok((i, n)),
        _ => bail!("invalid --shard {text:?}: expected I/N with 1 <= I <= N (e.g. 2/8) or `auto`"),
    }
}

/// Resolves `--shard` (`I/N` or `auto`) to a 1-based `(I, N)`, reading the
/// scheduler's variables through `var` for `auto`.
pub fn resolve(
    text: &str,
    shards: Option<usize>,
    var: impl Fn(&str) -> Option<String>,
) -> anyhow::Result<(usize, usize)> {
    if text != "auto" {
        return parse_shard(text);
    }
    let num = |name: &str| -> anyhow::Result<Option<usize>> {
        match var(name) {
            None => Ok(None),
            Some(v) => v
                .trim()
                .parse::<usize>()
                .map(Some)
                .with_context(|| format!("{name} = {v:?} is not a whole number")),
        }
    };
    if let Some(id) = num("SLURM_ARRAY_TASK_ID")? {
        // Array indices may start anywhere (`--array=0-3`, `--array=1-4`).
        let min = num("SLURM_ARRAY_TASK_MIN")?.unwrap_or(1);
        let count = match (num("SLURM_ARRAY_TASK_COUNT")?, num("SLURM_ARRAY_TASK_MAX")?) {
            (Some(c), _) => c,
            (None, Some(max)) if max >= min => max - min + 1,
            _ => bail!(
                "--shard auto: SLURM_ARRAY_TASK_ID = {id} but neither SLURM_ARRAY_TASK_COUNT \
                 nor SLURM_ARRAY_TASK_MIN/MAX is set"
            ),
        };
        if id < min || id - min >= count {
            bail!("--shard auto: SLURM_ARRAY_TASK_ID = {id} is outside {min}..{min}+{count}");
        }
        return Ok((id - min + 1, count));
    }
    if let Some(index) = num("JOB_COMPLETION_INDEX")? {
        let Some(n) = shards else {
            bail!(
                "--shard auto: JOB_COMPLETION_INDEX = {index} (a Kubernetes Indexed Job) needs \
                 --shards N, the job's completions"
            );
        };
        if index >= n {
            bail!("--shard auto: JOB_COMPLETION_INDEX = {index} but --shards {n}");
        }
        return Ok((index + 1, n));
    }
    bail!(
        "--shard auto found no scheduler index: looked for SLURM_ARRAY_TASK_ID (with \
         SLURM_ARRAY_TASK_COUNT or SLURM_ARRAY_TASK_MIN/MAX) and JOB_COMPLETION_INDEX \
         (with --shards N); pass --shard I/N instead"
    )
}

/// Measured seconds per experiment (`suite/experiment`), full and quick mode.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct CostTable {
    /// Full-mode seconds.
    #[serde(default)]
    pub full: BTreeMap<String, f64>,
    /// Quick-mode seconds.
    #[serde(default)]
    pub quick: BTreeMap<String, f64>,
    /// Seconds per seed of the experiments that split by seed.
    #[serde(default)]
    pub per_seed: PerSeedCosts,
}

/// Seconds per seed, full and quick mode, of the experiments whose seeds are
/// separate units of work.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct PerSeedCosts {
    /// Full-mode seconds per seed.
    #[serde(default)]
    pub full: BTreeMap<String, f64>,
    /// Quick-mode seconds per seed.
    #[serde(default)]
    pub quick: BTreeMap<String, f64>,
}

/// The id of seed `seed` of experiment `id` as a unit of the grid.
pub fn seed_unit(id: &str, seed: u64) -> String {
    format!("{id}#seed{seed}")
}

impl CostTable {
    /// `fixtures/bench/costs.toml`.
    pub fn default_path() -> PathBuf {
        crate::cmd::workspace_root().join("fixtures/bench/costs.toml")
    }

    /// Reads a table; a missing file is an empty table.
    pub fn load(path: &Path) -> anyhow::Result<Self> {
        match std::fs::read_to_string(path) {
            Ok(text) => {
                toml::from_str(&text).with_context(|| format!("malformed {}", path.display()))
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Self::default()),
            Err(e) => Err(e).with_context(|| format!("cannot read {}", path.display())),
        }
    }

    /// Writes the table (atomically).
    pub fn save(&self, path: &Path) -> anyhow::Result<()> {
        let text = format!(
            "# Measured seconds per bench experiment, read by `--shard` to balance\n\
             # shards and by `--list` for expected times. Written by\n\
             # `cargo xtask bench --update-costs` from a run; edit freely.\n{}",
            toml::to_string_pretty(self)?
        );
        duality_core::files::write_atomic(path, text)?;
        Ok(())
    }

    /// The mode's map.
    pub fn mode(&self, quick: bool) -> &BTreeMap<String, f64> {
        if quick {
            &self.quick
        } else {
            &self.full
        }
    }

    /// Seconds per seed in the mode, for experiments that split by seed.
    pub fn per_seed(&self, quick: bool) -> &BTreeMap<String, f64> {
        if quick {
            &self.per_seed.quick
        } else {
            &self.per_seed.full
        }
    }

    /// Cost of every unit id (whole experiments and `id#seedK` cells).
    pub fn unit_costs(&self, quick: bool, units: &[String]) -> BTreeMap<String, f64> {
        let mut out = BTreeMap::new();
        for u in units {
            let cost = match u.split_once("#seed") {
                Some((id, _)) => self.per_seed(quick).get(id),
                None => self.mode(quick).get(u),
            };
            if let Some(&c) = cost {
                out.insert(u.clone(), c);
            }
        }
        out
    }

    /// Records (`Some(seconds per seed)`) or forgets (`None`: it ran whole)
    /// that experiment `id` splits by seed.
    pub fn update_per_seed(&mut self, quick: bool, id: &str, per_seed: Option<f64>) {
        let map = if quick {
            &mut self.per_seed.quick
        } else {
            &mut self.per_seed.full
        };
        match per_seed {
            Some(secs) => {
                map.insert(id.to_string(), ((secs * 100.0).round() / 100.0).max(0.01));
            }
            None => {
                map.remove(id);
            }
        }
    }

    /// Records measured seconds for the given experiments.
    pub fn update(&mut self, quick: bool, measured: impl IntoIterator<Item = (String, f64)>) {
        let map = if quick {
            &mut self.quick
        } else {
            &mut self.full
        };
        for (id, secs) in measured {
            // Two decimals: the table is for balancing, not for reporting.
            map.insert(id, (secs * 100.0).round() / 100.0);
        }
    }
}

/// Shard (1-based) of every experiment id in `ids` when split `n` ways.
///
/// With costs for at least one id: longest processing time first (ties in
/// grid order), unknown ids costing the median of the known ones. Without
/// any cost: round-robin in grid order.
pub fn assign(ids: &[String], costs: &BTreeMap<String, f64>, n: usize) -> Vec<usize> {
    let n = n.max(1);
    let mut known: Vec<f64> = ids.iter().filter_map(|id| costs.get(id).copied()).collect();
    if known.is_empty() {
        return (0..ids.len()).map(|k| k % n + 1).collect();
    }
    known.sort_by(f64::total_cmp);
    let median = known[known.len() / 2];
    let cost = |k: usize| costs.get(&ids[k]).copied().unwrap_or(median).max(0.0);
    let mut order: Vec<usize> = (0..ids.len()).collect();
    order.sort_by(|&a, &b| cost(b).total_cmp(&cost(a)).then(a.cmp(&b)));
    let mut load = vec![0.0f64; n];
    let mut shard = vec![0usize; ids.len()];
    for k in order {
        let lightest = (0..n)
            .min_by(|&a, &b| load[a].total_cmp(&load[b]).then(a.cmp(&b)))
            .unwrap_or(0);
        load[lightest] += cost(k);
        shard[k] = lightest + 1;
    }
    shard
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
        let map: BTreeMap<String, String> = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        move |k| map.get(k).cloned()
    }

    #[test]
    fn explicit_shards_parse() {
        assert_eq!(parse_shard("2/8").unwrap(), (2, 8));
        assert!(parse_shard("0/8").is_err());
        assert!(parse_shard("9/8").is_err());
        assert!(parse_shard("x").is_err());
    }

    #[test]
    fn auto_reads_slurm_and_kubernetes() {
        let slurm = env(&[
            ("SLURM_ARRAY_TASK_ID", "3"),
            ("SLURM_ARRAY_TASK_COUNT", "4"),
        ]);
        assert_eq!(resolve("auto", None, slurm).unwrap(), (3, 4));
        // --array=0-3: ids from 0.
        let zero = env(&[
            ("SLURM_ARRAY_TASK_ID", "0"),
            ("SLURM_ARRAY_TASK_MIN", "0"),
            ("SLURM_ARRAY_TASK_MAX", "3"),
        ]);
        assert_eq!(resolve("auto", None, zero).unwrap(), (1, 4));
        let k8s = env(&[("JOB_COMPLETION_INDEX", "0")]);
        assert_eq!(resolve("auto", Some(5), &k8s).unwrap(), (1, 5));
        let msg = resolve("auto", None, &k8s).unwrap_err().to_string();
        assert!(msg.contains("--shards"), "{msg}");
        let msg = resolve("auto", None, env(&[])).unwrap_err().to_string();
        assert!(msg.contains("SLURM_ARRAY_TASK_ID") && msg.contains("JOB_COMPLETION_INDEX"));
        assert_eq!(resolve("2/3", None, env(&[])).unwrap(), (2, 3));
    }

    #[test]
    fn assignment_balances_by_cost_and_covers_every_experiment() {
        let ids: Vec<String> = ["a", "b", "c", "d", "e"]
            .iter()
            .map(|s| s.to_string())
            .collect();
        let costs: BTreeMap<String, f64> = [("a", 100.0), ("b", 1.0), ("c", 1.0), ("d", 1.0)]
            .iter()
            .map(|(k, v)| (k.to_string(), *v))
            .collect();
        let shards = assign(&ids, &costs, 2);
        // The expensive one alone; everything else on the other shard.
        assert_eq!(shards[0], 1);
        assert!(shards[1..].iter().all(|&s| s == 2), "{shards:?}");
        // No table: round-robin.
        assert_eq!(assign(&ids, &BTreeMap::new(), 2), vec![1, 2, 1, 2, 1]);
        // More shards than experiments: some shards are empty, none twice.
        let many = assign(&ids, &costs, 7);
        let mut sorted = many.clone();
        sorted.sort_unstable();
        sorted.dedup();
        assert_eq!(sorted.len(), 5);
    }

    #[test]
    fn seed_units_spread_one_expensive_experiment_over_shards() {
        let mut t = CostTable::default();
        t.update(
            true,
            [("a/big".to_string(), 30.0), ("a/small".to_string(), 1.0)],
        );
        t.update_per_seed(true, "a/big", Some(10.0));
        let units = vec![
            seed_unit("a/big", 0),
            seed_unit("a/big", 1),
            seed_unit("a/big", 2),
            "a/small".to_string(),
        ];
        let costs = t.unit_costs(true, &units);
        assert_eq!(costs[&units[1]], 10.0);
        let owner = assign(&units, &costs, 3);
        let mut seeds: Vec<usize> = owner[..3].to_vec();
        seeds.sort_unstable();
        assert_eq!(seeds, vec![1, 2, 3], "each shard takes one seed: {owner:?}");
        t.update_per_seed(true, "a/big", None);
        assert!(t.per_seed(true).is_empty());
    }

    #[test]
    fn cost_table_round_trips() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("costs.toml");
        assert_eq!(CostTable::load(&path).unwrap(), CostTable::default());
        let mut t = CostTable::default();
        t.update(true, [("eval/auroc".to_string(), 1.234)]);
        t.save(&path).unwrap();
        assert_eq!(CostTable::load(&path).unwrap().quick["eval/auroc"], 1.23);
    }
}
