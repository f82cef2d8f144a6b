//! The fuzz targets: one per parser that reads user files.
//!
//! A target takes arbitrary bytes and must never panic, abort or hang. A
//! parse error is the expected outcome for most inputs and is not a
//! finding; what *is* a finding (returned as `Err`) is an accepted input
//! that breaks an invariant the parser promises (a non-finite TSP length,
//! a failed round trip) or an error message longer than
//! [`MAX_MESSAGE`] characters (a huge value echoed back, issue #25).

use duality_core::Result;

/// Longest error message a parser may return (values are cut to about 80
/// characters; file names and context make up the rest).
pub const MAX_MESSAGE: usize = 2_000;

/// One fuzz target.
#[derive(Clone, Copy)]
pub struct Target {
    /// Name, also the corpus folder `fixtures/fuzz/<name>/` and the
    /// cargo-fuzz target name.
    pub name: &'static str,
    /// The parser it drives.
    pub about: &'static str,
    /// Runs one input: `Ok(true)` when the parser accepted it, `Ok(false)`
    /// when it refused it with a short error, `Err` for a finding (see the
    /// module documentation).
    pub run: fn(&[u8]) -> std::result::Result<bool, String>,
}

impl std::fmt::Debug for Target {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Target").field("name", &self.name).finish()
    }
}

/// Every target, in a fixed order.
pub fn targets() -> &'static [Target] {
    &TARGETS
}

/// The target called `name`; the error lists the known names.
pub fn target(name: &str) -> Result<Target> {
    TARGETS
        .iter()
        .find(|t| t.name == name)
        .copied()
        .ok_or_else(|| {
            let names: Vec<&str> = TARGETS.iter().map(|t| t.name).collect();
            duality_core::Error::invalid("--target", name, format!("one of {}", names.join(", ")))
        })
}

const TARGETS: [Target; 17] = [
    Target {
        name: "scores-csv",
        about: "duality_eval::scores::ScoreSet::read_csv (tidy scores CSV)",
        run: scores_csv,
    },
    Target {
        name: "scores-json",
        about: "duality_eval::scores::ScoreSet::read_json",
        run: scores_json,
    },
    Target {
        name: "tracked-long-csv",
        about: "duality_eval::tracked::TrackedRuns::read_long_csv (import-runs --layout long)",
        run: tracked_long_csv,
    },
    Target {
        name: "tracked-wide-csv",
        about: "duality_eval::tracked::TrackedRuns::read_wide_csv (import-runs --layout wide)",
        run: tracked_wide_csv,
    },
    Target {
        name: "tracked-long-json",
        about: "duality_eval::tracked::TrackedRuns::read_long_json (import-runs --layout json)",
        run: tracked_long_json,
    },
    Target {
        name: "records-json",
        about: "duality_core::record::read_json (run records)",
        run: records_json,
    },
    Target {
        name: "records-csv",
        about: "duality_core::record::read_csv (run records)",
        run: records_csv,
    },
    Target {
        name: "ope-logs",
        about: "duality_bandits::ope::OpeData::from_csv (bandit ope logs)",
        run: ope_logs,
    },
    Target {
        name: "tsplib",
        about: "duality_combopt::tsp::parse_tsp (TSPLIB 95)",
        run: tsplib,
    },
    Target {
        name: "mps",
        about:
            "duality_combopt::milp::parse_mps (MPS; plus: what parses is written and parses again)",
        run: mps,
    },
    Target {
        name: "cvrplib",
        about: "duality_combopt::vrp::parse_vrp and parse_solution (CVRPLIB)",
        run: cvrplib,
    },
    Target {
        name: "mdp-toml",
        about: "duality_distdp::FiniteMdp::from_toml_str",
        run: mdp_toml,
    },
    Target {
        name: "mdp-json",
        about: "duality_distdp::FiniteMdp::from_json_str",
        run: mdp_json,
    },
    Target {
        name: "bandit-config",
        about:
            "duality_bandits::config::SimulationSpec (bandit simulate --config), parsed and built",
        run: bandit_config,
    },
    Target {
        name: "align-config",
        about: "duality_align::run::RunConfig::from_toml_str (align train --config)",
        run: align_config,
    },
    Target {
        name: "adastop-state",
        about: "duality_eval::adastop::AdaStop::from_json_str (eval adastop --state)",
        run: adastop_state,
    },
    Target {
        name: "logit-table",
        about: "duality_eval::poisoning::LogitTable::read_csv (eval roe --votes)",
        run: logit_table,
    },
];

/// A parse result: `Ok` and short errors pass; an error whose message is
/// longer than [`MAX_MESSAGE`] is a finding.
fn outcome<T>(result: Result<T>) -> std::result::Result<Option<T>, String> {
    match result {
        Ok(v) => Ok(Some(v)),
        Err(e) => {
            let msg = e.to_string();
            if msg.chars().count() > MAX_MESSAGE {
                Err(format!(
                    "error message of {} characters (over {MAX_MESSAGE}): {}...",
                    msg.chars().count(),
                    msg.chars().take(200).collect::<String>()
                ))
            } else {
                Ok(None)
            }
        }
    }
}

fn text(data: &[u8]) -> Option<&str> {
    std::str::from_utf8(data).ok()
}

fn scores_csv(data: &[u8]) -> std::result::Result<bool, String> {
    outcome(duality_eval::scores::ScoreSet::read_csv(data, "fuzz.csv")).map(|v| v.is_some())
}

fn scores_json(data: &[u8]) -> std::result::Result<bool, String> {
    outcome(duality_eval::scores::ScoreSet::read_json(data)).map(|v| v.is_some())
}

fn tracked_long_csv(data: &[u8]) -> std::result::Result<bool, String> {
    let columns = duality_eval::tracked::TrackedColumns::default();
    outcome(duality_eval::tracked::TrackedRuns::read_long_csv(
        data, "fuzz.csv", &columns,
    ))
    .map(|v| v.is_some())
}

fn tracked_wide_csv(data: &[u8]) -> std::result::Result<bool, String> {
    outcome(duality_eval::tracked::TrackedRuns::read_wide_csv(
        data, "fuzz.csv",
    ))
    .map(|v| v.is_some())
}

fn tracked_long_json(data: &[u8]) -> std::result::Result<bool, String> {
    let Some(t) = text(data) else {
        return Ok(false);
    };
    let columns = duality_eval::tracked::TrackedColumns::default();
    outcome(duality_eval::tracked::TrackedRuns::read_long_json(
        t,
        "fuzz.jsonl",
        &columns,
    ))
    .map(|v| v.is_some())
}

fn records_json(data: &[u8]) -> std::result::Result<bool, String> {
    outcome(duality_core::record::read_json(data)).map(|v| v.is_some())
}

fn records_csv(data: &[u8]) -> std::result::Result<bool, String> {
    outcome(duality_core::record::read_csv(data, "fuzz.csv")).map(|v| v.is_some())
}

fn ope_logs(data: &[u8]) -> std::result::Result<bool, String> {
    outcome(duality_bandits::ope::OpeData::from_csv(data, "fuzz.csv")).map(|v| v.is_some())
}

fn tsplib(data: &[u8]) -> std::result::Result<bool, String> {
    use duality_combopt::tsp::{parse_tsp, to_tsplib, Tour};
    let Some(t) = text(data) else {
        return Ok(false);
    };
    let Some(inst) = outcome(parse_tsp(t, "fuzz.tsp"))? else {
        return Ok(false);
    };
    // A file that parses gives finite tour lengths (issue #25) ...
    let n = inst.len();
    let tour = Tour::new((0..n).collect(), n).map_err(|e| e.to_string())?;
    let length = tour.length(&inst);
    if !length.is_finite() {
        return Err(format!("accepted instance with tour length {length}"));
    }
    // ... and round-trips through the writer.
    let again = parse_tsp(&to_tsplib(&inst), "again.tsp")
        .map_err(|e| format!("written instance does not parse again: {e}"))?;
    if again.len() != n {
        return Err(format!("round trip changed {n} cities to {}", again.len()));
    }
    Ok(true)
}

fn mps(data: &[u8]) -> std::result::Result<bool, String> {
    use duality_combopt::milp::{parse_mps, write_mps_string};
    let Some(t) = text(data) else {
        return Ok(false);
    };
    let Some(p) = outcome(parse_mps(t, "fuzz.mps"))? else {
        return Ok(false);
    };
    parse_mps(&write_mps_string(&p), "again.mps")
        .map_err(|e| format!("written MPS does not parse again: {e}"))?;
    Ok(true)
}

fn cvrplib(data: &[u8]) -> std::result::Result<bool, String> {
    let Some(t) = text(data) else {
        return Ok(false);
    };
    let instance = outcome(duality_combopt::vrp::parse_vrp(t))?.is_some();
    let solution = outcome(duality_combopt::vrp::parse_solution(t))?.is_some();
    Ok(instance || solution)
}

fn mdp_toml(data: &[u8]) -> std::result::Result<bool, String> {
    let Some(t) = text(data) else {
        return Ok(false);
    };
    outcome(duality_distdp::FiniteMdp::from_toml_str(t, "fuzz.toml")).map(|v| v.is_some())
}

fn mdp_json(data: &[u8]) -> std::result::Result<bool, String> {
    let Some(t) = text(data) else {
        return Ok(false);
    };
    outcome(duality_distdp::FiniteMdp::from_json_str(t, "fuzz.json")).map(|v| v.is_some())
}

fn bandit_config(data: &[u8]) -> std::result::Result<bool, String> {
    use duality_bandits::config::SimulationSpec;
    let Some(t) = text(data) else {
        return Ok(false);
    };
    let Some(spec) = outcome(duality_core::config::from_toml_str::<SimulationSpec>(
        t,
        "fuzz.toml",
    ))?
    else {
        return Ok(false);
    };
    outcome(spec.build()).map(|v| v.is_some())
}

fn align_config(data: &[u8]) -> std::result::Result<bool, String> {
    let Some(t) = text(data) else {
        return Ok(false);
    };
    outcome(duality_align::run::RunConfig::from_toml_str(t, "fuzz.toml")).map(|v| v.is_some())
}

fn adastop_state(data: &[u8]) -> std::result::Result<bool, String> {
    let Some(t) = text(data) else {
        return Ok(false);
    };
    outcome(duality_eval::adastop::AdaStop::from_json_str(
        t,
        "fuzz.json",
    ))
    .map(|v| v.is_some())
}

fn logit_table(data: &[u8]) -> std::result::Result<bool, String> {
    outcome(duality_eval::poisoning::LogitTable::read_csv(
        data, "fuzz.csv",
    ))
    .map(|v| v.is_some())
}
