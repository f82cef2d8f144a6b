//! Progress bars that stay quiet when nobody is watching.
//!
//! Long runs (bootstraps, simulations, training) show an indicatif bar on a
//! terminal. When stderr is not a terminal (CI logs, pipes) or
//! `DUALITY_NO_PROGRESS` is set, the bar is hidden, so logs stay readable.

use std::io::IsTerminal;
use std::time::Duration;

use indicatif::{ProgressBar, ProgressStyle};

/// A progress bar (or nothing, when hidden).
#[derive(Debug, Clone)]
pub struct Progress {
    bar: ProgressBar,
}

/// Whether progress bars should be drawn in this process.
pub fn progress_enabled() -> bool {
    std::env::var_os("DUALITY_NO_PROGRESS").is_none() && std::io::stderr().is_terminal()
}

impl Progress {
    /// A bar for `len` steps labelled `label`; hidden off a terminal.
    pub fn new(len: u64, label: &str) -> Self {
        Self::with_visibility(len, label, progress_enabled())
    }

    /// A bar that is never drawn (for library callers that want silence).
    pub fn hidden() -> Self {
        Progress {
            bar: ProgressBar::hidden(),
        }
    }

    /// A bar with explicit visibility.
    pub fn with_visibility(len: u64, label: &str, visible: bool) -> Self {
        if !visible {
            return Self::hidden();
        }
        let bar = ProgressBar::new(len);
        let style = ProgressStyle::with_template(
            "{prefix:>12.cyan.bold} [{bar:30}] {pos}/{len} {msg} ({elapsed}, eta {eta})",
        )
        .unwrap_or_else(|_| ProgressStyle::default_bar())
        .progress_chars("=> ");
        bar.set_style(style);
        bar.set_prefix(label.to_string());
        bar.enable_steady_tick(Duration::from_millis(200));
        Progress { bar }
    }

    /// Advances by `n` steps.
    pub fn inc(&self, n: u64) {
        self.bar.inc(n);
    }

    /// Sets the trailing message (e.g. the current experiment).
    pub fn set_message(&self, msg: impl Into<String>) {
        self.bar.set_message(msg.into());
    }

    /// Whether the bar is hidden.
    pub fn is_hidden(&self) -> bool {
        self.bar.is_hidden()
    }

    /// Finishes and clears the bar.
    pub fn finish(&self) {
        self.bar.finish_and_clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hidden_bar_counts_silently() {
        let p = Progress::with_visibility(10, "test", false);
        assert!(p.is_hidden());
        p.inc(3);
        p.set_message("x");
        p.finish();
        // Under `cargo test` stderr is captured, so `new` must also be hidden.
        if !std::io::stderr().is_terminal() {
            assert!(Progress::new(5, "t").is_hidden());
        }
    }
}
