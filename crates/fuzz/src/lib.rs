//! Fuzzing that stays (issue #25): a fuzz target for every duality parser,
//! run two ways.
//!
//! - **Stable** (CI): [`replay`] runs every input of the committed corpus
//!   `fixtures/fuzz/<target>/`, then [`Mutator`] derives new inputs from it
//!   (bit flips, hostile numbers such as `1e308`, `nan`, `2^64-1`,
//!   duplicated lines and keys, splices, truncations) with a fixed seed, so
//!   `cargo xtask test` runs the same inputs every time. `cargo xtask fuzz
//!   --seconds N [--target T]` runs the same harness for a time budget with
//!   a fresh seed and saves what it finds into the corpus.
//! - **libFuzzer** (nightly, optional): `crates/fuzz/libfuzzer` is a
//!   cargo-fuzz project whose targets call [`run_target`]; `cargo xtask fuzz
//!   --libfuzzer` runs it over the same corpus folders.
//!
//! A *finding* is a panic, an invariant broken by an accepted input, an
//! error message over [`targets::MAX_MESSAGE`] characters, or an input that
//! runs longer than the harness's per-input limit. The process-wide memory
//! budget ([`duality_core::limits`]) is lowered to [`FUZZ_MEMORY_BUDGET`]
//! while fuzzing, so that size checks refuse large requests early; an
//! allocation that skips the checks still aborts the process, which the
//! harness makes findable by writing each input to a trace file first.
//! Found crashes are added to the corpus as `crash-<hash>` files, where they
//! stay as regression inputs.

use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

pub mod targets;

pub use targets::{target, targets, Target};

/// Memory budget while fuzzing: 512 MiB.
pub const FUZZ_MEMORY_BUDGET: u64 = 512 << 20;

/// Longest input the mutator produces (bytes).
pub const MAX_INPUT: usize = 64 << 10;

/// The committed corpus root, `fixtures/fuzz` of this checkout.
pub fn corpus_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../fixtures/fuzz")
}

/// The corpus of `target` under `root`: every regular file of
/// `root/<target>/` (README files excluded), sorted by name.
pub fn corpus(root: &Path, target: &str) -> duality_core::Result<Vec<(String, Vec<u8>)>> {
    let dir = root.join(target);
    let entries = std::fs::read_dir(&dir).map_err(|e| duality_core::Error::io(&dir, e))?;
    let mut out = Vec::new();
    for entry in entries {
        let entry = entry.map_err(|e| duality_core::Error::io(&dir, e))?;
        let path = entry.path();
        let name = entry.file_name().to_string_lossy().into_owned();
        if !path.is_file() || name.starts_with("README") || name.starts_with('.') {
            continue;
        }
        let bytes = std::fs::read(&path).map_err(|e| duality_core::Error::io(&path, e))?;
        out.push((name, bytes));
    }
    out.sort();
    Ok(out)
}

/// Runs `data` through the target called `name` (the libFuzzer entry
/// point): panics on a finding, so that libFuzzer records the input.
pub fn run_target(name: &str, data: &[u8]) {
    let t = target(name).unwrap_or_else(|e| panic!("{e}"));
    if let Err(finding) = (t.run)(data) {
        panic!("{name}: {finding}");
    }
}

/// What went wrong with one input.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FindingKind {
    /// The parser panicked (message).
    Panic(String),
    /// An accepted input broke an invariant, or a message was too long.
    Invariant(String),
    /// The input ran longer than the per-input limit (seconds).
    Slow(u64),
}

impl std::fmt::Display for FindingKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            FindingKind::Panic(m) => write!(f, "panic: {m}"),
            FindingKind::Invariant(m) => write!(f, "{m}"),
            FindingKind::Slow(s) => write!(f, "ran {s} s (over the per-input limit)"),
        }
    }
}

/// One finding: the input and what happened.
#[derive(Debug, Clone)]
pub struct Finding {
    /// The target.
    pub target: &'static str,
    /// The input.
    pub input: Vec<u8>,
    /// What happened.
    pub kind: FindingKind,
}

impl Finding {
    /// A stable file name for the input: `crash-<fnv1a hash>`.
    pub fn file_name(&self) -> String {
        format!("crash-{:016x}", fnv1a(&self.input))
    }
}

fn fnv1a(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325u64, |h, &b| {
        (h ^ u64::from(b)).wrapping_mul(0x0000_0100_0000_01b3)
    })
}

/// The last panic message, captured by the silent hook [`install_hook`]
/// sets (the default hook would print every caught panic).
static LAST_PANIC: Mutex<Option<String>> = Mutex::new(None);

/// Replaces the panic hook by one that records the message and location
/// silently; call once before fuzzing.
pub fn install_hook() {
    std::panic::set_hook(Box::new(|info| {
        let msg = if let Some(s) = info.payload().downcast_ref::<&str>() {
            (*s).to_string()
        } else if let Some(s) = info.payload().downcast_ref::<String>() {
            s.clone()
        } else {
            "non-string panic payload".to_string()
        };
        let at = info
            .location()
            .map(|l| format!(" at {}:{}", l.file(), l.line()))
            .unwrap_or_default();
        if let Ok(mut last) = LAST_PANIC.lock() {
            *last = Some(format!("{msg}{at}"));
        }
    }));
}

/// Runs one input, catching a panic; `Some` is a finding. `slow_after`
/// turns a run that takes longer into a [`FindingKind::Slow`].
pub fn check_one(t: &Target, input: &[u8], slow_after: Duration) -> Option<Finding> {
    check(t, input, slow_after).1
}

/// [`check_one`], also saying whether the parser accepted the input.
fn check(t: &Target, input: &[u8], slow_after: Duration) -> (bool, Option<Finding>) {
    let start = Instant::now();
    let result = std::panic::catch_unwind(|| (t.run)(input));
    let accepted = matches!(result, Ok(Ok(true)));
    let kind = match result {
        Ok(Ok(_)) => None,
        Ok(Err(m)) => Some(FindingKind::Invariant(m)),
        Err(_) => {
            let msg = LAST_PANIC
                .lock()
                .ok()
                .and_then(|mut m| m.take())
                .unwrap_or_else(|| "panic".into());
            Some(FindingKind::Panic(msg))
        }
    };
    let kind = kind.or_else(|| {
        let took = start.elapsed();
        (took > slow_after).then_some(FindingKind::Slow(took.as_secs()))
    });
    let finding = kind.map(|kind| Finding {
        target: t.name,
        input: input.to_vec(),
        kind,
    });
    (accepted, finding)
}

/// Hostile tokens the mutator inserts or substitutes for numbers.
pub const HOSTILE_TOKENS: &[&str] = &[
    "1e308",
    "-1e308",
    "1.7976931348623157e308",
    "nan",
    "NaN",
    "inf",
    "-inf",
    "-1",
    "0",
    "-0",
    "1e-320",
    "1e12",
    "1000000000000",
    "5000000000",
    "4294967296",
    "18446744073709551615",
    "18446744073709551616",
    "9223372036854775807",
    "-9223372036854775808",
    "99999999999999999999999",
    "0.5",
    "2",
    "\u{feff}",
    "\"",
    ",",
    "\n",
    "\r\n",
    "[[",
    "]]",
    "{}",
    "[]",
    "null",
    "true",
    "=",
    ":",
    " ",
    "\t",
    "EOF",
];

/// Deterministic structure-unaware mutations of corpus inputs (seeded).
#[derive(Debug)]
pub struct Mutator {
    rng: ChaCha8Rng,
}

impl Mutator {
    /// A mutator drawing from `seed`.
    pub fn new(seed: u64) -> Self {
        Mutator {
            rng: ChaCha8Rng::seed_from_u64(seed),
        }
    }

    /// A new input: a random corpus entry with 1 to 4 stacked mutations
    /// (the corpus must not be empty).
    pub fn next(&mut self, corpus: &[(String, Vec<u8>)]) -> Vec<u8> {
        let mut data = corpus[self.rng.random_range(0..corpus.len())].1.clone();
        let rounds = self.rng.random_range(1..=4);
        for _ in 0..rounds {
            self.mutate(&mut data, corpus);
        }
        data.truncate(MAX_INPUT);
        data
    }

    fn token(&mut self) -> &'static [u8] {
        HOSTILE_TOKENS[self.rng.random_range(0..HOSTILE_TOKENS.len())].as_bytes()
    }

    fn mutate(&mut self, data: &mut Vec<u8>, corpus: &[(String, Vec<u8>)]) {
        let len = data.len();
        let pos = if len == 0 {
            0
        } else {
            self.rng.random_range(0..len)
        };
        match self.rng.random_range(0..9) {
            0 if len > 0 => data[pos] ^= 1 << self.rng.random_range(0..8),
            1 if len > 0 => {
                data[pos] = *b"\0\xff\n,\":=[{-.e 9"
                    .get(self.rng.random_range(0..15))
                    .unwrap_or(&b'0')
            }
            2 => {
                let t = self.token();
                data.splice(pos..pos, t.iter().copied());
            }
            3 => {
                // Replace the number (or word) around `pos` by a hostile token.
                let is_num = |b: u8| b.is_ascii_alphanumeric() || b"+-.".contains(&b);
                let (mut a, mut b) = (pos, pos);
                while a > 0 && is_num(data[a - 1]) {
                    a -= 1;
                }
                while b < len && is_num(data[b]) {
                    b += 1;
                }
                let t = self.token();
                data.splice(a..b, t.iter().copied());
            }
            4 if len > 0 => {
                let end = (pos + self.rng.random_range(1..=16)).min(len);
                data.drain(pos..end);
            }
            5 if len > 0 => {
                // Duplicate the line holding `pos` (a repeated key, row or section).
                let start = data[..pos]
                    .iter()
                    .rposition(|&b| b == b'\n')
                    .map_or(0, |i| i + 1);
                let end = data[pos..]
                    .iter()
                    .position(|&b| b == b'\n')
                    .map_or(len, |i| pos + i + 1);
                let line = data[start..end].to_vec();
                data.splice(end..end, line);
            }
            6 if len > 0 => {
                // Repeat a chunk many times (long lines, many rows).
                let end = (pos + self.rng.random_range(1..=64)).min(len);
                let chunk = data[pos..end].to_vec();
                let times = self.rng.random_range(2..=256);
                let grown: Vec<u8> = chunk
                    .iter()
                    .copied()
                    .cycle()
                    .take(chunk.len() * times)
                    .collect();
                data.splice(end..end, grown);
            }
            7 => {
                // Splice the tail of another corpus input.
                let other = &corpus[self.rng.random_range(0..corpus.len())].1;
                if !other.is_empty() {
                    let from = self.rng.random_range(0..other.len());
                    data.truncate(pos);
                    data.extend_from_slice(&other[from..]);
                }
            }
            _ => data.truncate(pos),
        }
    }
}

/// Totals of a fuzzing run over one target.
#[derive(Debug, Clone, Default)]
pub struct Summary {
    /// Corpus inputs replayed.
    pub replayed: usize,
    /// Mutated inputs run.
    pub mutated: usize,
    /// Inputs (corpus and mutated) the parser accepted.
    pub accepted: usize,
    /// Findings (each input once).
    pub findings: Vec<Finding>,
}

/// How long a run goes on.
#[derive(Debug, Clone, Copy)]
pub enum Budget {
    /// A fixed number of mutated inputs (deterministic: CI).
    Inputs(usize),
    /// Mutated inputs until the time is up.
    Time(Duration),
}

/// Replays the corpus of `t` and then runs mutated inputs within `budget`,
/// drawn from `seed`. `trace`, when given, receives each input before it
/// runs (so an abort or a hang leaves the culprit on disk). `slow_after` is
/// the per-input limit for a [`FindingKind::Slow`].
pub fn replay(
    t: &Target,
    corpus: &[(String, Vec<u8>)],
    budget: Budget,
    seed: u64,
    slow_after: Duration,
    trace: Option<&Path>,
) -> duality_core::Result<Summary> {
    let mut summary = Summary::default();
    let mut seen = std::collections::HashSet::new();
    let mut run = |input: &[u8], summary: &mut Summary| -> duality_core::Result<()> {
        if let Some(path) = trace {
            std::fs::write(path, input).map_err(|e| duality_core::Error::io(path, e))?;
        }
        let (accepted, finding) = check(t, input, slow_after);
        summary.accepted += usize::from(accepted);
        if let Some(f) = finding {
            if seen.insert(fnv1a(&f.input)) {
                summary.findings.push(f);
            }
        }
        Ok(())
    };
    for (_, input) in corpus {
        run(input, &mut summary)?;
        summary.replayed += 1;
    }
    if corpus.is_empty() {
        return Ok(summary);
    }
    let mut m = Mutator::new(seed);
    let start = Instant::now();
    loop {
        let more = match budget {
            Budget::Inputs(n) => summary.mutated < n,
            Budget::Time(d) => start.elapsed() < d,
        };
        if !more {
            break;
        }
        let input = m.next(corpus);
        run(&input, &mut summary)?;
        summary.mutated += 1;
    }
    Ok(summary)
}
