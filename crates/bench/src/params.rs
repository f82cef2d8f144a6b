//! Experiment parameters: one TOML file per suite under `fixtures/bench/`,
//! embedded into the binary as the defaults so the bare command works.
//!
//! Layout of `fixtures/bench/<suite>.toml`: one table per experiment whose
//! plain keys are the full-run values, and an optional `quick` sub-table
//! whose keys replace them under `--quick`:
//!
//! ```toml
//! [stochastic-regret]
//! horizon = 100_000
//! repetitions = 100
//!
//! [stochastic-regret.quick]
//! horizon = 10_000
//! ```
//!
//! A user file (`--config FILE`) has the same layout one level down, under
//! the suite's name (`[bandits.stochastic-regret]`, then
//! `[bandits.stochastic-regret.quick]`), and `--set
//! suite.experiment.key=VALUE` overrides a single value last. Overrides may
//! only name experiments and keys that the defaults define, so a typo is an
//! error rather than a silently ignored setting.
//!
//! Precedence, lowest first: default plain keys, file plain keys, then under
//! `--quick` the default and file `quick` keys, then `--set`.

use anyhow::{anyhow, bail, Context as _};
use serde::de::DeserializeOwned;
use toml::{Table, Value};

/// The sub-table holding `--quick` overrides.
const QUICK: &str = "quick";

/// Resolved parameters of one experiment.
#[derive(Debug, Clone, Default)]
pub struct Params {
    /// `suite/experiment`, for error messages.
    id: String,
    /// Whether the values come from the `quick` profile.
    quick: bool,
    values: Table,
}

impl Params {
    /// Parameters of `id` (`suite/experiment`) from an already resolved
    /// table, as a result file records them: `bench merge` rebuilds an
    /// experiment's context from its stored cells with this.
    pub fn from_table(id: impl Into<String>, quick: bool, values: Table) -> Self {
        Self {
            id: id.into(),
            quick,
            values,
        }
    }

    /// The value of `key`, deserialised as `T` (integers, floats, strings,
    /// booleans and arrays of them).
    pub fn get<T: DeserializeOwned>(&self, key: &str) -> anyhow::Result<T> {
        let value = self.values.get(key).ok_or_else(|| {
            let known: Vec<&str> = self.values.keys().map(String::as_str).collect();
            anyhow!(
                "experiment {} has no parameter {key:?} in its TOML ({} profile; known: {})",
                self.id,
                if self.quick { "quick" } else { "full" },
                if known.is_empty() {
                    "none".to_string()
                } else {
                    known.join(", ")
                }
            )
        })?;
        value.clone().try_into().with_context(|| {
            format!(
                "parameter {}.{key} = {value} has the wrong type",
                self.id.replace('/', ".")
            )
        })
    }

    /// The whole table minus `skip`, deserialised as the experiment's typed
    /// parameter struct; errors name the experiment, the profile and the
    /// offending field.
    pub fn deserialize<T: DeserializeOwned>(&self, skip: &[&str]) -> anyhow::Result<T> {
        let mut table = self.values.clone();
        for k in skip {
            table.remove(*k);
        }
        Value::Table(table)
            .try_into()
            .map_err(|e: toml::de::Error| {
                anyhow!(
                    "parameters of experiment {} ({} profile): {}",
                    self.id,
                    if self.quick { "quick" } else { "full" },
                    e.message()
                )
            })
    }

    /// The value of `key`, or `default` if the experiment's TOML omits it.
    pub fn get_or<T: DeserializeOwned>(&self, key: &str, default: T) -> anyhow::Result<T> {
        if self.values.contains_key(key) {
            self.get(key)
        } else {
            Ok(default)
        }
    }

    /// The resolved table, for the report (`results.json` records it so a
    /// run can be repeated exactly).
    pub fn table(&self) -> &Table {
        &self.values
    }
}

/// Overrides given on the command line.
#[derive(Debug, Clone, Default)]
pub struct Overrides {
    /// Parsed `--config` file: suite -> experiment -> keys.
    file: Table,
    /// Parsed `--set` assignments: (suite, experiment, key, value).
    sets: Vec<(String, String, String, Value)>,
}

impl Overrides {
    /// Reads `--config FILE` (if any) and parses the `--set` assignments.
    pub fn load(config: Option<&std::path::Path>, sets: &[String]) -> anyhow::Result<Self> {
        let file = match config {
            None => Table::new(),
            Some(path) => {
                let text = std::fs::read_to_string(path)
                    .with_context(|| format!("cannot read --config {}", path.display()))?;
                parse(&text, &path.display().to_string())?
            }
        };
        let sets = sets
            .iter()
            .map(|s| parse_set(s))
            .collect::<anyhow::Result<Vec<_>>>()?;
        Ok(Self { file, sets })
    }

    /// Checks that every override names a registered suite, one of its
    /// experiments and a key its defaults define.
    pub fn validate(&self, suites: &[(&str, &str)]) -> anyhow::Result<()> {
        let defaults = |suite: &str| -> anyhow::Result<Table> {
            let text = suites
                .iter()
                .find(|(name, _)| *name == suite)
                .map(|(_, text)| *text)
                .ok_or_else(|| {
                    let names: Vec<&str> = suites.iter().map(|(n, _)| *n).collect();
                    anyhow!(
                        "override names suite {suite:?}; registered: {}",
                        names.join(", ")
                    )
                })?;
            parse(text, &format!("fixtures/bench/{suite}.toml"))
        };
        for (suite, experiments) in &self.file {
            let Value::Table(experiments) = experiments else {
                bail!("--config: [{suite}] must be a table of experiments");
            };
            let defaults = defaults(suite)?;
            for (exp, keys) in experiments {
                let Value::Table(keys) = keys else {
                    bail!("--config: [{suite}.{exp}] must be a table of parameters");
                };
                for (key, value) in keys {
                    if key == QUICK {
                        let Value::Table(quick) = value else {
                            bail!("--config: [{suite}.{exp}.quick] must be a table");
                        };
                        for key in quick.keys() {
                            known_key(&defaults, suite, exp, key)?;
                        }
                    } else {
                        known_key(&defaults, suite, exp, key)?;
                    }
                }
            }
        }
        for (suite, exp, key, _) in &self.sets {
            known_key(&defaults(suite)?, suite, exp, key)?;
        }
        Ok(())
    }

    /// The parameters of `suite/experiment` in the chosen profile.
    pub fn resolve(
        &self,
        suite: &str,
        defaults_text: &str,
        experiment: &str,
        quick: bool,
    ) -> anyhow::Result<Params> {
        let defaults = parse(defaults_text, &format!("fixtures/bench/{suite}.toml"))?;
        let empty = Table::new();
        let default = experiment_table(&defaults, experiment).unwrap_or(&empty);
        let file = self
            .file
            .get(suite)
            .and_then(Value::as_table)
            .and_then(|t| experiment_table(t, experiment))
            .unwrap_or(&empty);
        let mut values = Table::new();
        overlay(&mut values, default);
        overlay(&mut values, file);
        if quick {
            for layer in [default, file] {
                if let Some(q) = layer.get(QUICK).and_then(Value::as_table) {
                    overlay(&mut values, q);
                }
            }
        }
        for (s, e, k, v) in &self.sets {
            if s == suite && e == experiment {
                values.insert(k.clone(), v.clone());
            }
        }
        Ok(Params {
            id: format!("{suite}/{experiment}"),
            quick,
            values,
        })
    }
}

/// Checks the embedded defaults of a suite: every table belongs to an
/// experiment, and (with `require_all`, as the unit tests ask) every
/// experiment has a table.
pub fn check_defaults(
    suite: &str,
    text: &str,
    experiments: &[&str],
    require_all: bool,
) -> anyhow::Result<()> {
    let table = parse(text, &format!("fixtures/bench/{suite}.toml"))?;
    for exp in experiments.iter().filter(|_| require_all) {
        if experiment_table(&table, exp).is_none() {
            bail!("fixtures/bench/{suite}.toml has no [{exp}] table");
        }
    }
    for name in table.keys() {
        if !experiments.contains(&name.as_str()) {
            bail!(
                "fixtures/bench/{suite}.toml has a table [{name}] but suite {suite} has no such experiment (experiments: {})",
                experiments.join(", ")
            );
        }
    }
    Ok(())
}

fn parse(text: &str, source: &str) -> anyhow::Result<Table> {
    text.parse::<Table>().map_err(|e| {
        let line = e
            .span()
            .map(|s| text[..s.start.min(text.len())].lines().count().max(1));
        match line {
            Some(l) => anyhow!("{source}: line {l}: {}", e.message()),
            None => anyhow!("{source}: {}", e.message()),
        }
    })
}

fn experiment_table<'a>(table: &'a Table, experiment: &str) -> Option<&'a Table> {
    table.get(experiment).and_then(Value::as_table)
}

/// Copies the plain (non-`quick`) keys of `layer` over `into`.
fn overlay(into: &mut Table, layer: &Table) {
    for (k, v) in layer {
        if k != QUICK {
            into.insert(k.clone(), v.clone());
        }
    }
}

fn known_key(defaults: &Table, suite: &str, exp: &str, key: &str) -> anyhow::Result<()> {
    let Some(table) = experiment_table(defaults, exp) else {
        let names: Vec<&str> = defaults.keys().map(String::as_str).collect();
        bail!(
            "override names experiment {suite}/{exp:?}; suite {suite} has: {}",
            names.join(", ")
        );
    };
    let quick = table.get(QUICK).and_then(Value::as_table);
    if (key != QUICK && table.contains_key(key)) || quick.is_some_and(|q| q.contains_key(key)) {
        return Ok(());
    }
    let mut names: Vec<&str> = table
        .keys()
        .map(String::as_str)
        .filter(|k| *k != QUICK)
        .collect();
    names.extend(quick.into_iter().flat_map(|q| q.keys().map(String::as_str)));
    names.sort_unstable();
    names.dedup();
    bail!(
        "override names parameter {suite}.{exp}.{key:?}, which the defaults do not define (known: {})",
        names.join(", ")
    )
}

/// Parses `suite.experiment.key=VALUE`; VALUE is a TOML value (`1000`,
/// `0.5`, `"text"`, `[1, 2]`), and a bare word is taken as a string.
fn parse_set(text: &str) -> anyhow::Result<(String, String, String, Value)> {
    let (path, raw) = text
        .split_once('=')
        .ok_or_else(|| anyhow!("invalid --set {text:?}: expected suite.experiment.key=VALUE"))?;
    let parts: Vec<&str> = path.trim().splitn(3, '.').collect();
    let [suite, exp, key] = parts[..] else {
        bail!("invalid --set {text:?}: expected suite.experiment.key=VALUE");
    };
    if [suite, exp, key].iter().any(|p| p.is_empty()) {
        bail!("invalid --set {text:?}: empty suite, experiment or key");
    }
    let raw = raw.trim();
    let value = match format!("v = {raw}").parse::<Table>() {
        Ok(mut t) => t.remove("v").unwrap_or(Value::String(raw.to_string())),
        Err(_) => Value::String(raw.to_string()),
    };
    Ok((suite.into(), exp.into(), key.into(), value))
}

#[cfg(test)]
mod tests {
    use super::*;

    const DEFAULTS: &str = r#"
[regret]
horizon = 1000
reps = 10
[regret.quick]
horizon = 100

[speed]
n = 5
"#;

    #[test]
    fn quick_overrides_plain_keys() {
        let o = Overrides::default();
        let full = o.resolve("s", DEFAULTS, "regret", false).unwrap();
        assert_eq!(full.get::<usize>("horizon").unwrap(), 1000);
        let quick = o.resolve("s", DEFAULTS, "regret", true).unwrap();
        assert_eq!(quick.get::<usize>("horizon").unwrap(), 100);
        assert_eq!(quick.get::<usize>("reps").unwrap(), 10);
        assert!(quick.table().get("quick").is_none());
    }

    #[test]
    fn file_then_set_override_in_order() {
        let mut o = Overrides {
            file: parse("[s.regret]\nreps = 3\n[s.regret.quick]\nhorizon = 7\n", "f").unwrap(),
            sets: vec![],
        };
        let full = o.resolve("s", DEFAULTS, "regret", false).unwrap();
        assert_eq!(full.get::<usize>("reps").unwrap(), 3);
        assert_eq!(full.get::<usize>("horizon").unwrap(), 1000);
        let quick = o.resolve("s", DEFAULTS, "regret", true).unwrap();
        assert_eq!(quick.get::<usize>("horizon").unwrap(), 7);
        o.sets.push(parse_set("s.regret.horizon=42").unwrap());
        let quick = o.resolve("s", DEFAULTS, "regret", true).unwrap();
        assert_eq!(quick.get::<usize>("horizon").unwrap(), 42);
        o.validate(&[("s", DEFAULTS)]).unwrap();
    }

    #[test]
    fn unknown_names_are_errors_that_name_them() {
        let o = Overrides {
            file: Table::new(),
            sets: vec![parse_set("s.regret.horizn=1").unwrap()],
        };
        let e = o.validate(&[("s", DEFAULTS)]).unwrap_err().to_string();
        assert!(e.contains("horizn") && e.contains("horizon"), "{e}");
        let o = Overrides {
            file: parse("[s.regrett]\nreps = 1\n", "f").unwrap(),
            sets: vec![],
        };
        let e = o.validate(&[("s", DEFAULTS)]).unwrap_err().to_string();
        assert!(e.contains("regrett"), "{e}");
        let p = Overrides::default()
            .resolve("s", DEFAULTS, "speed", false)
            .unwrap();
        let e = p.get::<usize>("m").unwrap_err().to_string();
        assert!(e.contains("\"m\"") && e.contains("n"), "{e}");
        let e = p.get::<String>("n").unwrap_err().to_string();
        assert!(e.contains("s.speed.n"), "{e}");
        assert_eq!(p.get_or("m", 9usize).unwrap(), 9);
    }

    #[test]
    fn set_values_parse_as_toml() {
        assert_eq!(parse_set("a.b.c=0.5").unwrap().3, Value::Float(0.5));
        assert_eq!(
            parse_set("a.b.c=[1, 2]").unwrap().3,
            Value::Array(vec![Value::Integer(1), Value::Integer(2)])
        );
        assert_eq!(
            parse_set("a.b.c=word").unwrap().3,
            Value::String("word".into())
        );
        assert!(parse_set("a.b=1").is_err());
        assert!(parse_set("a.b.c").is_err());
    }

    #[test]
    fn malformed_defaults_name_the_line() {
        let e = parse("[a]\nx = 1\ny = \n", "f.toml")
            .unwrap_err()
            .to_string();
        assert!(e.contains("f.toml") && e.contains("line 3"), "{e}");
        assert!(check_defaults("s", DEFAULTS, &["regret"], false).is_err());
        assert!(check_defaults("s", DEFAULTS, &["regret", "speed", "x"], true).is_err());
        check_defaults("s", DEFAULTS, &["regret", "speed", "x"], false).unwrap();
        check_defaults("s", DEFAULTS, &["regret", "speed"], true).unwrap();
    }
}
