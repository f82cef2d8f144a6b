//! The trainer registry's machinery: a type-erased view of a [`Trainer`]
//! whose config is a TOML section of the run config. The list itself is
//! `REGISTRY` in `train/mod.rs`.

use std::marker::PhantomData;

use duality_core::config::Validate;
use duality_core::{Error, Result};
use serde::de::{DeserializeOwned, DeserializeSeed, IgnoredAny, MapAccess, Visitor};
use serde::Serialize;

use super::{TrainContext, TrainLog, Trainer};

/// One registered trainer, its config held as a TOML section.
pub trait RegisteredTrainer: Sync {
    /// [`Trainer::NAME`].
    fn name(&self) -> &'static str;
    /// [`Trainer::ABOUT`].
    fn about(&self) -> &'static str;
    /// [`Trainer::OBSERVED`].
    fn observed(&self) -> bool;
    /// Its default config as JSON (for listings).
    fn default_config(&self) -> Result<serde_json::Value>;
    /// Deserialises and validates `section` (absent = the default config).
    fn check(&self, section: Option<&toml::Value>) -> Result<()>;
    /// Like [`RegisteredTrainer::check`] on the `[NAME]` section of a TOML
    /// document's text, so that type errors carry the line (`source` names
    /// the document in messages).
    fn check_text(&self, text: &str, source: &str) -> Result<()>;
    /// Builds the trainer from `section` and trains `ctx`'s policy.
    fn train(&self, section: Option<&toml::Value>, ctx: &mut TrainContext<'_>) -> Result<TrainLog>;
}

impl std::fmt::Debug for dyn RegisteredTrainer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RegisteredTrainer")
            .field("name", &self.name())
            .finish()
    }
}

/// The registry entry of trainer `T` (`&Registered::<T>::ENTRY`).
pub struct Registered<T>(PhantomData<fn() -> T>);

impl<T> Registered<T> {
    /// The entry.
    pub const ENTRY: Self = Registered(PhantomData);
}

/// `T`'s config from its section (or the default).
pub(crate) fn section_config<T: Trainer>(section: Option<&toml::Value>) -> Result<T::Config> {
    match section {
        None => Ok(T::Config::default()),
        Some(v) => v.clone().try_into().map_err(|e: toml::de::Error| {
            Error::config(
                T::NAME,
                crate::util::with_suggestion(e.message().trim_end()),
            )
        }),
    }
}

/// `T`'s config as a section.
pub(crate) fn to_section<T: Trainer>(config: &T::Config) -> Result<toml::Value> {
    toml::Value::try_from(config)
        .map_err(|e| Error::config(T::NAME, format!("cannot store as TOML: {e}")))
}

/// A validation error of `T`'s config, named by its section.
fn in_section<T: Trainer>(e: Error) -> Error {
    match e {
        e @ Error::Config { .. } => e.in_field(T::NAME),
        other => Error::config(T::NAME, other.to_string()),
    }
}

impl<T: Trainer> RegisteredTrainer for Registered<T> {
    fn name(&self) -> &'static str {
        T::NAME
    }
    fn about(&self) -> &'static str {
        T::ABOUT
    }
    fn observed(&self) -> bool {
        T::OBSERVED
    }
    fn default_config(&self) -> Result<serde_json::Value> {
        Ok(serde_json::to_value(T::Config::default())?)
    }
    fn check(&self, section: Option<&toml::Value>) -> Result<()> {
        section_config::<T>(section)?
            .validate()
            .map_err(in_section::<T>)
    }
    fn check_text(&self, text: &str, source: &str) -> Result<()> {
        let seed = Section::<T::Config> {
            key: T::NAME,
            _config: PhantomData,
        };
        let found = seed
            .deserialize(toml::Deserializer::new(text))
            .map_err(|e| Error::Parse {
                path: source.to_string(),
                line: e
                    .span()
                    .map(|s| text[..s.start.min(text.len())].matches('\n').count() + 1),
                message: crate::util::with_suggestion(e.message().trim_end()),
            })?;
        match found {
            Some(config) => config.validate().map_err(|e| match in_section::<T>(e) {
                Error::Config { field, message, .. } => Error::Config {
                    source_name: Some(source.to_string()),
                    field,
                    message,
                },
                other => other,
            }),
            None => Ok(()),
        }
    }
    fn train(&self, section: Option<&toml::Value>, ctx: &mut TrainContext<'_>) -> Result<TrainLog> {
        let trainer = T::new(section_config::<T>(section)?).map_err(in_section::<T>)?;
        trainer.train(ctx)
    }
}

/// Deserialises one top-level table `key` of a document as `C`, skipping
/// every other key, straight from the document's deserializer so that its
/// errors keep their spans.
struct Section<C> {
    key: &'static str,
    _config: PhantomData<fn() -> C>,
}

impl<'de, C: DeserializeOwned> DeserializeSeed<'de> for Section<C> {
    type Value = Option<C>;

    fn deserialize<D: serde::Deserializer<'de>>(self, d: D) -> Result<Option<C>, D::Error> {
        d.deserialize_map(self)
    }
}

impl<'de, C: DeserializeOwned> Visitor<'de> for Section<C> {
    type Value = Option<C>;

    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "a table with an optional [{}] section", self.key)
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Option<C>, A::Error> {
        let mut found = None;
        while let Some(k) = map.next_key::<String>()? {
            if k == self.key {
                found = Some(map.next_value::<C>()?);
            } else {
                map.next_value::<IgnoredAny>()?;
            }
        }
        Ok(found)
    }
}

/// One row of a trainer listing.
#[derive(Debug, Clone, Serialize)]
pub struct TrainerInfo {
    /// Registry name.
    pub name: &'static str,
    /// What it does.
    pub about: &'static str,
    /// Whether runs can trace its win-rate curve.
    pub observed: bool,
    /// Its default config section.
    pub defaults: serde_json::Value,
}
