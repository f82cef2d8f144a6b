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
pub fn from_toml_str<T: DeserializeOwned + Validate>(text: &str, source_name: &str) -> Result<T> {
    let value: T = toml::from_str(text).map_err(|e| {
        let span_line = e
            .span()
            .map(|span| text[..span.start.min(text.len())].matches('\n').count() + 1);
        Error::Parse {
            path: source_name.to_string(),
            line: span_line,
            message: e.message().to_string(),
        }
    })?;
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
        other => other,
    })?;
    Ok(value)
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

    #[test]
    fn missing_file_names_path() {
        let err = load_toml::<Run>("/nonexistent/run.toml")
            .unwrap_err()
            .to_string();
        assert!(err.contains("/nonexistent/run.toml"), "{err}");
    }
}
