//! TOML + serde configuration with validation that names the field.
//!
//! Configs are plain structs with `Default` and serde derives; they implement
//! [`Validate`] so that bad values are caught once, when the config is loaded
//! or built, with an error such as
//! `invalid config in run.toml: field `policy.epsilon`: must be in [0, 1], got 2`.

use std::path::Path;

use serde::de::DeserializeOwned;

use crate::error::{Error, Result};

/// A config that can check its own values.
pub trait Validate {
    /// Returns an [`Error::Config`] naming the first invalid field.
    fn validate(&self) -> Result<()>;
}

/// Parses and validates a config from TOML text. `source_name` (a file name)
/// is quoted in error messages.
///
/// Strict by design: a key the config type does not know is an error naming
/// it (with the closest known name where serde lists them), never silently
/// skipped: a misspelt `rep = 50` must not run the default 2,000 repetitions.
/// This holds for every config type, whether or not it declares
/// `#[serde(deny_unknown_fields)]`. A UTF-8 byte-order mark is skipped.
pub fn from_toml_str<T: DeserializeOwned + Validate>(text: &str, source_name: &str) -> Result<T> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let mut ignored: Vec<String> = Vec::new();
    let value: T = serde_ignored::deserialize(toml::Deserializer::new(text), |path| {
        ignored.push(path.to_string())
    })
    .map_err(|e| {
        let span_line = e.span().map(|span| line_of(text, span.start));
        Error::Parse {
            path: source_name.to_string(),
            line: span_line,
            message: with_suggestion(e.message()),
        }
    })?;
    if let Some(path) = ignored.first() {
        let key = path.rsplit('.').next().unwrap_or(path);
        let line = key_line(text, key);
        return Err(Error::Parse {
            path: source_name.to_string(),
            line,
            message: format!(
                "unknown key `{}`: this config has no such setting (check its spelling and section)",
                crate::error::shorten(path, crate::error::MAX_VALUE_CHARS)
            ),
        });
    }
    value.validate().map_err(|e| match e {
        Error::Config {
            source_name: None,
            field,
            message,
        } => Error::Config {
            source_name: Some(source_name.to_string()),
            field,
            message,
        },
        // Any other validation error (a value or size check) is about this
        // file too: name it, and the line of the key where one is found
        // (issue #25: "invalid gamma = NaN" did not say which file).
        Error::InvalidValue {
            name,
            value,
            expected,
        } => {
            let key = name
                .split(|c: char| !(c.is_alphanumeric() || c == '_' || c == '.'))
                .next()
                .unwrap_or("")
                .rsplit('.')
                .next()
                .unwrap_or("");
            let line = (!key.is_empty()).then(|| key_line(text, key)).flatten();
            Error::Parse {
                path: source_name.to_string(),
                line,
                message: Error::InvalidValue {
                    name,
                    value,
                    expected,
                }
                .to_string(),
            }
        }
        other => Error::Parse {
            path: source_name.to_string(),
            line: None,
            message: other.to_string(),
        },
    })?;
    Ok(value)
}

/// 1-based line of byte offset `at` in `text`.
fn line_of(text: &str, at: usize) -> usize {
    let mut at = at.min(text.len());
    while !text.is_char_boundary(at) {
        at -= 1;
    }
    text[..at].matches('\n').count() + 1
}

/// The first line that assigns `key` (`key = ...`, quoted or not), if any.
fn key_line(text: &str, key: &str) -> Option<usize> {
    text.lines()
        .position(|line| {
            let t = line.trim_start();
            let rest = t
                .strip_prefix(key)
                .or_else(|| t.strip_prefix(&format!("\"{key}\"")))
                .or_else(|| t.strip_prefix(&format!("'{key}'")));
            rest.is_some_and(|r| r.trim_start().starts_with('='))
        })
        .map(|i| i + 1)
}

/// Appends "did you mean `x`?" to serde's "unknown field `a`, expected one of
/// `x`, `y`" (and the same for variants) when one expected name is close.
fn with_suggestion(message: &str) -> String {
    let unknown = ["unknown field `", "unknown variant `"]
        .iter()
        .find_map(|prefix| message.find(prefix).map(|i| i + prefix.len()));
    let Some(start) = unknown else {
        return message.to_string();
    };
    let Some(len) = message[start..].find('`') else {
        return message.to_string();
    };
    let wrong = &message[start..start + len];
    let Some(expected_at) = message[start + len..].find("expected") else {
        return message.to_string();
    };
    let candidates = message[start + len + expected_at..]
        .split('`')
        .skip(1)
        .step_by(2);
    let best = candidates
        .map(|c| (strsim::jaro_winkler(wrong, c), c))
        .filter(|(similarity, _)| *similarity >= 0.8)
        .max_by(|a, b| a.0.total_cmp(&b.0));
    // The unknown name as the user wrote it, cut: a 10,000-character key
    // must not be echoed in full (the suggestion stays visible).
    let short = crate::error::shorten(wrong, crate::error::MAX_VALUE_CHARS);
    let message = message.replacen(&format!("`{wrong}`"), &format!("`{short}`"), 1);
    match best {
        Some((_, name)) => format!("{message} (did you mean `{name}`?)"),
        None => message,
    }
}

/// Reads, parses and validates a TOML config file.
pub fn load_toml<T: DeserializeOwned + Validate>(path: impl AsRef<Path>) -> Result<T> {
    let path = path.as_ref();
    let text = std::fs::read_to_string(path).map_err(|e| Error::io(path, e))?;
    from_toml_str(&text, &path.display().to_string())
}

/// Serialises a config back to TOML (e.g. to record what a run used).
pub fn to_toml_string<T: serde::Serialize>(value: &T) -> Result<String> {
    toml::to_string_pretty(value).map_err(|e| Error::Other(format!("cannot write TOML: {e}")))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::{Deserialize, Serialize};

    #[derive(Debug, Default, Deserialize, Serialize, PartialEq)]
    #[serde(deny_unknown_fields, default)]
    struct Policy {
        epsilon: f64,
    }

    #[derive(Debug, Default, Deserialize, Serialize, PartialEq)]
    #[serde(deny_unknown_fields)]
    struct Run {
        horizon: usize,
        #[serde(default)]
        policy: Policy,
    }

    impl Validate for Run {
        fn validate(&self) -> Result<()> {
            if self.horizon == 0 {
                return Err(Error::config("horizon", "must be > 0, got 0"));
            }
            if !(0.0..=1.0).contains(&self.policy.epsilon) {
                return Err(Error::config(
                    "policy.epsilon",
                    format!("must be in [0, 1], got {}", self.policy.epsilon),
                ));
            }
            Ok(())
        }
    }

    #[test]
    fn valid_config_loads() {
        let run: Run =
            from_toml_str("horizon = 10\n[policy]\nepsilon = 0.1\n", "run.toml").unwrap();
        assert_eq!(run.horizon, 10);
        let back: Run = from_toml_str(&to_toml_string(&run).unwrap(), "again").unwrap();
        assert_eq!(back, run);
    }

    #[test]
    fn validation_error_names_field_and_file() {
        let err = from_toml_str::<Run>("horizon = 10\n[policy]\nepsilon = 2.0\n", "run.toml")
            .unwrap_err()
            .to_string();
        assert!(err.contains("run.toml"), "{err}");
        assert!(err.contains("policy.epsilon"), "{err}");
        assert!(err.contains("got 2"), "{err}");
        let err = from_toml_str::<Run>("horizon = 0\n", "a.toml")
            .unwrap_err()
            .to_string();
        assert!(err.contains("`horizon`"), "{err}");
    }

    /// A config whose validation uses value checks (`Error::invalid`), as
    /// most area configs do.
    #[derive(Debug, Default, Deserialize)]
    #[serde(default, deny_unknown_fields)]
    struct Mdp {
        states: usize,
        gamma: f64,
    }

    impl Validate for Mdp {
        fn validate(&self) -> Result<()> {
            crate::check::probability("gamma", self.gamma)?;
            crate::limits::check_memory_for("states", self.states, "the tables", 1 << 100)
        }
    }

    #[test]
    fn value_errors_name_the_file_and_line() {
        // Issue #25: `invalid gamma = NaN` did not say which file, and
        // `gamma = 1e308` was echoed as 309 digits.
        let msg = from_toml_str::<Mdp>(
            "states = 2
gamma = 1e308
",
            "m.toml",
        )
        .unwrap_err()
        .to_string();
        assert_eq!(
            msg,
            "m.toml line 2: invalid gamma = 1e308: expected a probability in [0, 1]"
        );
        let msg = from_toml_str::<Mdp>(
            "gamma = 0.5
states = 1000000000000
",
            "m.toml",
        )
        .unwrap_err()
        .to_string();
        assert!(
            msg.starts_with("m.toml line 2: invalid states = 1000000000000: expected a size"),
            "{msg}"
        );
    }

    #[test]
    fn parse_error_names_unknown_field_and_line() {
        let err = from_toml_str::<Run>("horizon = 3\nhorizn = 4\n", "b.toml").unwrap_err();
        let msg = err.to_string();
        assert!(msg.contains("horizn"), "{msg}");
        assert!(msg.contains("b.toml line 2"), "{msg}");
        let msg = from_toml_str::<Run>("horizon = \"ten\"\n", "c.toml")
            .unwrap_err()
            .to_string();
        assert!(msg.contains("c.toml line 1"), "{msg}");
    }

    /// Like `Run` but without `deny_unknown_fields`: serde alone would skip
    /// unknown keys silently.
    #[derive(Debug, Default, Deserialize)]
    #[serde(default)]
    struct Lenient {
        reps: usize,
        policy: Policy,
    }

    impl Validate for Lenient {
        fn validate(&self) -> Result<()> {
            Ok(())
        }
    }

    #[test]
    fn unknown_keys_are_errors_even_without_deny_unknown_fields() {
        let msg = from_toml_str::<Lenient>("reps = 3\nrep = 50\n", "d.toml")
            .unwrap_err()
            .to_string();
        assert!(msg.contains("unknown key `rep`"), "{msg}");
        assert!(msg.contains("d.toml line 2"), "{msg}");
        let msg = from_toml_str::<Lenient>("[policy]\nepsilon = 0.1\neps = 2\n", "e.toml")
            .unwrap_err()
            .to_string();
        // `Policy` denies unknown fields itself: serde's message, plus a guess.
        assert!(msg.contains("did you mean `epsilon`?"), "{msg}");
    }

    #[test]
    fn unknown_fields_suggest_the_closest_name() {
        let msg = from_toml_str::<Run>("horizn = 4\n", "f.toml")
            .unwrap_err()
            .to_string();
        assert!(msg.contains("did you mean `horizon`?"), "{msg}");
        // Nothing close: no guess.
        let msg = from_toml_str::<Run>("zzzzzzzz = 4\n", "f.toml")
            .unwrap_err()
            .to_string();
        assert!(!msg.contains("did you mean"), "{msg}");
    }

    #[test]
    fn a_byte_order_mark_is_skipped() {
        let run: Run = from_toml_str("\u{feff}horizon = 10\n", "bom.toml").unwrap();
        assert_eq!(run.horizon, 10);
    }

    #[test]
    fn missing_file_names_path() {
        let err = load_toml::<Run>("/nonexistent/run.toml")
            .unwrap_err()
            .to_string();
        assert!(err.contains("/nonexistent/run.toml"), "{err}");
    }
}
