//! The workspace error type.
//!
//! Every public function that takes user input returns [`Result`]; area crates
//! wrap [`Error`] in their own `thiserror` enum (or use it directly). Messages
//! always name the offending value and say what was expected, because the
//! person reading them usually has a 10,000-line CSV and no debugger.

use std::path::PathBuf;

/// Errors shared by every duality crate. New variants may be added, so
/// matches outside this crate need a wildcard arm.
///
/// Display cuts every user-derived part however the error was built (a
/// struct literal bypasses [`Error::invalid`] and [`Error::parse`]): names
/// and file names to [`MAX_NAME_CHARS`], values to [`MAX_VALUE_CHARS`],
/// messages to [`MAX_MESSAGE_CHARS`] (issue #25: a 10,000-character key
/// must not come back in full).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A parameter or input value is outside its valid range.
    #[error(
        "invalid {} = {}: expected {}",
        clip(.name, MAX_NAME_CHARS),
        clip(.value, MAX_NAME_CHARS),
        clip(.expected, MAX_MESSAGE_CHARS)
    )]
    InvalidValue {
        /// Name of the parameter or input (e.g. `alpha`, `scores[3][1]`).
        name: String,
        /// The offending value, rendered for humans.
        value: String,
        /// What would have been accepted.
        expected: String,
    },
    /// An input that must contain data was empty.
    #[error("{} is empty: expected at least {min} element(s)", clip(.what, MAX_NAME_CHARS))]
    Empty {
        /// What was empty.
        what: String,
        /// How many elements were needed.
        min: usize,
    },
    /// Two inputs that must agree in length do not.
    #[error("length mismatch: {left_name} has {left} element(s) but {right_name} has {right}")]
    LengthMismatch {
        /// Name of the first input.
        left_name: String,
        /// Its length.
        left: usize,
        /// Name of the second input.
        right_name: String,
        /// Its length.
        right: usize,
    },
    /// A tensor or matrix has the wrong shape.
    #[error("shape mismatch for {what}: expected {expected:?}, got {got:?}")]
    Shape {
        /// What was being shaped.
        what: String,
        /// Expected shape (use `usize::MAX`-free, concrete dims).
        expected: Vec<usize>,
        /// Actual shape.
        got: Vec<usize>,
    },
    /// A configuration file or struct failed validation.
    #[error(
        "invalid config{}: field `{}`: {}",
        source_suffix(.source_name),
        clip(.field, MAX_NAME_CHARS),
        clip(.message, MAX_MESSAGE_CHARS)
    )]
    Config {
        /// Where the config came from (file path), if known.
        source_name: Option<String>,
        /// Dotted path of the offending field (e.g. `policy.epsilon`).
        field: String,
        /// What is wrong with it.
        message: String,
    },
    /// A data file could not be parsed.
    #[error(
        "{}{}: {}",
        shorten(.path, MAX_NAME_CHARS),
        line_suffix(*.line),
        clip(.message, MAX_MESSAGE_CHARS)
    )]
    Parse {
        /// File (or stream) name.
        path: String,
        /// 1-based line number, when known.
        line: Option<usize>,
        /// What is wrong.
        message: String,
    },
    /// An I/O error, with the path that caused it.
    #[error("I/O error on {}: {source}", .path.display())]
    Io {
        /// The path being read or written.
        path: PathBuf,
        /// The underlying error.
        #[source]
        source: std::io::Error,
    },
    /// A JSON (de)serialisation error.
    #[error("JSON error: {0}")]
    Json(#[from] serde_json::Error),
    /// An error reported by libtorch (feature `torch`).
    #[error("torch error: {0}")]
    Torch(String),
    /// Anything else, with a message.
    #[error("{}", clip(.0, MAX_MESSAGE_CHARS))]
    Other(String),
    /// An error from a dependency (statrs, tch, ...), with what duality was
    /// doing; the original error stays reachable through
    /// [`std::error::Error::source`].
    #[error("{}: {source}", clip(.context, MAX_MESSAGE_CHARS))]
    Wrapped {
        /// What duality was doing (e.g. `Student-t with df = 0`).
        context: String,
        /// The dependency's error.
        #[source]
        source: Box<dyn std::error::Error + Send + Sync + 'static>,
    },
}

fn source_suffix(source: &Option<String>) -> String {
    source
        .as_ref()
        .map(|s| format!(" in {s}"))
        .unwrap_or_default()
}

fn line_suffix(line: Option<usize>) -> String {
    line.map(|l| format!(" line {l}")).unwrap_or_default()
}

/// Longest value [`Error::invalid`] quotes in full.
pub const MAX_VALUE_CHARS: usize = 80;

/// Longest message [`Error::parse`] keeps in full.
pub const MAX_MESSAGE_CHARS: usize = 400;

/// Longest field, parameter or file name an error message shows in full
/// (a config key can be as long as the user typed it).
pub const MAX_NAME_CHARS: usize = 160;

/// `text` itself if it has at most `max` characters, else its first `max`
/// characters, an ellipsis and the full length.
///
/// ```
/// use duality_core::error::shorten;
/// assert_eq!(shorten("short", 80), "short");
/// let long = "x".repeat(1000);
/// assert_eq!(shorten(&long, 3), "xxx... (1000 characters)");
/// ```
pub fn shorten(text: &str, max: usize) -> String {
    match text.char_indices().nth(max) {
        None => text.to_string(),
        Some((cut, _)) => format!("{}... ({} characters)", &text[..cut], text.chars().count()),
    }
}

/// A number as an error message quotes it: Rust's shortest round-trip
/// form (`{}`) for ordinary magnitudes, scientific notation (`{:e}`) at or
/// beyond 1e16 and below 1e-5, so that `1e308` is never echoed as 309
/// digits (issue #25). NaN and infinities read `NaN`, `inf`, `-inf`.
///
/// ```
/// use duality_core::error::short_number;
/// assert_eq!(short_number(0.25), "0.25");
/// assert_eq!(short_number(1e12), "1000000000000");
/// assert_eq!(short_number(1e308), "1e308");
/// assert_eq!(short_number(-1.7e308), "-1.7e308");
/// assert_eq!(short_number(18446744073709551616.0), "1.8446744073709552e19");
/// assert_eq!(short_number(1e-300), "1e-300");
/// assert_eq!(short_number(f64::NAN), "NaN");
/// ```
pub fn short_number(x: f64) -> String {
    let a = x.abs();
    if x.is_finite() && x != 0.0 && !(1e-5..1e16).contains(&a) {
        format!("{x:e}")
    } else {
        format!("{x}")
    }
}

/// Longest run of digits (with its sign and decimal point) that
/// [`compact_numbers`] leaves as it is.
const MAX_PLAIN_NUMBER_CHARS: usize = 24;

/// `text` with every long plain decimal number that is the `{}` form of an
/// `f64` (`1e308` formatted with `{}` is a 1 and 308 zeros) rewritten in
/// [`short_number`]'s form. Only numbers that round-trip exactly are
/// rewritten, so an integer the user typed in full (`18446744073709551615`,
/// a 30-digit id) is kept as written.
///
/// ```
/// use duality_core::error::compact_numbers;
/// let long = format!("gamma = {}: expected a discount", 1e308);
/// assert_eq!(compact_numbers(&long), "gamma = 1e308: expected a discount");
/// assert_eq!(compact_numbers("id 123456789012345678901234567"), "id 123456789012345678901234567");
/// assert_eq!(compact_numbers("n = 18446744073709551615"), "n = 18446744073709551615");
/// ```
pub fn compact_numbers(text: &str) -> std::borrow::Cow<'_, str> {
    let bytes = text.as_bytes();
    let is_num = |b: u8| b.is_ascii_digit() || b == b'.';
    // Fast path: no run of digits long enough to need rewriting.
    let mut run = 0usize;
    let mut longest = 0usize;
    for &b in bytes {
        run = if is_num(b) { run + 1 } else { 0 };
        longest = longest.max(run);
    }
    if longest <= MAX_PLAIN_NUMBER_CHARS {
        return std::borrow::Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len());
    let mut i = 0;
    while i < bytes.len() {
        if !is_num(bytes[i]) {
            // Copy one whole character (text is UTF-8).
            let ch_len = text[i..].chars().next().map_or(1, char::len_utf8);
            out.push_str(&text[i..i + ch_len]);
            i += ch_len;
            continue;
        }
        let start = i;
        while i < bytes.len() && is_num(bytes[i]) {
            i += 1;
        }
        // A sign before the number was copied as it is.
        let number = &text[start..i];
        let rewritten = (number.len() > MAX_PLAIN_NUMBER_CHARS)
            .then(|| number.parse::<f64>().ok())
            .flatten()
            .filter(|x| x.is_finite() && format!("{x}") == number)
            .map(short_number);
        out.push_str(rewritten.as_deref().unwrap_or(number));
    }
    std::borrow::Cow::Owned(out)
}

/// [`compact_numbers`], then [`shorten`]: how every user-derived part of
/// an [`Error`] is displayed.
fn clip(text: &str, max: usize) -> String {
    shorten(&compact_numbers(text), max)
}

/// `Result` with the workspace [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    /// Wraps a dependency's error with context, keeping it as the source.
    pub fn wrap(
        context: impl Into<String>,
        source: impl std::error::Error + Send + Sync + 'static,
    ) -> Self {
        Error::Wrapped {
            context: context.into(),
            source: Box::new(source),
        }
    }

    /// Shorthand for [`Error::InvalidValue`]. A value longer than
    /// [`MAX_VALUE_CHARS`] is cut (a 200 MB CSV line must not be echoed to
    /// the terminal), keeping its start and its length.
    pub fn invalid(
        name: impl Into<String>,
        value: impl std::fmt::Display,
        expected: impl Into<String>,
    ) -> Self {
        Error::InvalidValue {
            name: name.into(),
            value: shorten(&compact_numbers(&value.to_string()), MAX_VALUE_CHARS),
            expected: expected.into(),
        }
    }

    /// Shorthand for [`Error::Config`] without a source file.
    pub fn config(field: impl Into<String>, message: impl Into<String>) -> Self {
        Error::Config {
            source_name: None,
            field: field.into(),
            message: message.into(),
        }
    }

    /// The same error seen from an enclosing config: a [`Error::Config`]
    /// field `f` becomes `prefix.f` (a nested config's validation reported
    /// from its parent); any other error is returned unchanged.
    ///
    /// ```
    /// use duality_core::Error;
    /// let e = Error::config("alpha", "must be > 0").in_field("policy");
    /// assert!(e.to_string().contains("`policy.alpha`"));
    /// ```
    pub fn in_field(self, prefix: &str) -> Self {
        match self {
            Error::Config {
                source_name,
                field,
                message,
            } => Error::Config {
                source_name,
                field: format!("{prefix}.{field}"),
                message,
            },
            other => other,
        }
    }

    /// Shorthand for [`Error::Parse`]. A message longer than
    /// [`MAX_MESSAGE_CHARS`] (one that quotes a huge field) is cut.
    pub fn parse(path: impl Into<String>, line: Option<usize>, message: impl Into<String>) -> Self {
        Error::Parse {
            path: path.into(),
            line,
            message: shorten(&message.into(), MAX_MESSAGE_CHARS),
        }
    }

    /// Shorthand for [`Error::Io`].
    pub fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        Error::Io {
            path: path.into(),
            source,
        }
    }
}

#[cfg(feature = "torch")]
impl From<tch::TchError> for Error {
    fn from(e: tch::TchError) -> Self {
        // Keeps libtorch's error as the source; the message reads as before.
        Error::wrap("torch error", e)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_name_the_value() {
        let e = Error::invalid("alpha", 1.5, "a number in (0, 1)");
        assert_eq!(
            e.to_string(),
            "invalid alpha = 1.5: expected a number in (0, 1)"
        );
        let e = Error::Config {
            source_name: Some("run.toml".into()),
            field: "policy.epsilon".into(),
            message: "must be in [0, 1], got 2".into(),
        };
        assert_eq!(
            e.to_string(),
            "invalid config in run.toml: field `policy.epsilon`: must be in [0, 1], got 2"
        );
        let e = Error::parse("a.csv", Some(7), "score is not a number: \"x\"");
        assert_eq!(e.to_string(), "a.csv line 7: score is not a number: \"x\"");
    }

    #[test]
    fn long_values_are_cut() {
        let line = "9".repeat(200_000);
        let msg = Error::invalid("score", &line, "a finite number").to_string();
        assert!(msg.len() < 200, "{}", msg.len());
        assert!(msg.contains("(200000 characters)"), "{msg}");
        let msg = Error::parse("big.csv", Some(2), format!("not a number: {line}")).to_string();
        assert!(msg.len() < 500, "{}", msg.len());
        // Multi-byte characters are cut at a character boundary.
        assert_eq!(shorten("ééé", 2), "éé... (3 characters)");
    }

    #[test]
    fn errors_built_as_literals_are_cut_too() {
        // A 10,000-character config key (found by the align-config fuzz
        // target, issue #25) must not come back in full.
        let key = "offline".repeat(1_500);
        let e = Error::Config {
            source_name: Some("run.toml".into()),
            field: key.clone(),
            message: format!("unknown trainer {key}"),
        };
        let msg = e.to_string();
        assert!(msg.len() < 700, "{}", msg.len());
        assert!(msg.contains("(10500 characters)"), "{msg}");
        let e = Error::Parse {
            path: "m.toml".into(),
            line: Some(23),
            message: format!("unknown field `{key}`"),
        };
        let msg = e.to_string();
        assert!(msg.starts_with("m.toml line 23: unknown field"), "{msg}");
        assert!(msg.len() < 500, "{}", msg.len());
        let e = Error::InvalidValue {
            name: key.clone(),
            value: key.clone(),
            expected: key,
        };
        assert!(e.to_string().len() < 900, "{}", e.to_string().len());
    }

    #[test]
    fn huge_numbers_are_quoted_short() {
        // Issue #25: `--gamma 1e308` was echoed as 309 digits.
        let e = Error::invalid("gamma", 1e308, "a discount in [0, 1]");
        assert_eq!(
            e.to_string(),
            "invalid gamma = 1e308: expected a discount in [0, 1]"
        );
        let e = Error::invalid("gamma", -1.7e308, "a discount in [0, 1]");
        assert!(e.to_string().contains("= -1.7e308:"), "{e}");
        let e = Error::invalid("p", 1e-300, "a probability");
        assert!(e.to_string().contains("= 1e-300:"), "{e}");
        // Built as a literal or inside a message: the same short form.
        let e = Error::InvalidValue {
            name: "steps".into(),
            value: format!("{}", 1e200),
            expected: format!("at most {}", f64::MAX),
        };
        let msg = e.to_string();
        assert!(msg.contains("= 1e200:"), "{msg}");
        assert!(msg.contains("at most 1.7976931348623157e308"), "{msg}");
        let msg = Error::Other(format!("rate {} and rate {}", -1e300, 2.5)).to_string();
        assert_eq!(msg, "rate -1e300 and rate 2.5");
        let msg = Error::parse("m.toml", Some(3), format!("gamma = {}", 1e308)).to_string();
        assert_eq!(msg, "m.toml line 3: gamma = 1e308");
        // Integers typed in full, and numbers that are not an f64's `{}`
        // form, are kept as written.
        for kept in [
            "18446744073709551615",
            "123456789012345678901234567890",
            "1.000000000000000000000000001",
        ] {
            let e = Error::invalid("n", kept, "x");
            assert!(e.to_string().contains(kept), "{e}");
        }
        // Ordinary numbers are untouched.
        assert_eq!(
            Error::invalid("x", 1e12, "y").to_string(),
            "invalid x = 1000000000000: expected y"
        );
    }

    #[test]
    fn wrapped_errors_keep_their_source() {
        use std::error::Error as _;
        let io = std::io::Error::other("disk on fire");
        let e = Error::wrap("reading scores.csv", io);
        assert_eq!(e.to_string(), "reading scores.csv: disk on fire");
        assert_eq!(e.source().unwrap().to_string(), "disk on fire");
    }
}
