//! `duality-fuzz`: the stable fuzz harness (see the crate documentation).
//!
//! ```text
//! duality-fuzz [--target T]... [--inputs N | --seconds S] [--seed K]
//!              [--corpus DIR] [--save] [--slow-after S] [--trace-dir DIR] [--list]
//! ```
//!
//! Exits 0 when no target has a finding, 1 otherwise (after printing each
//! finding and, with `--save`, writing it to the corpus as `crash-<hash>`).

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use duality_fuzz::{corpus, corpus_root, install_hook, replay, targets, Budget, Target};

struct Args {
    targets: Vec<Target>,
    budget: Budget,
    seed: u64,
    corpus: PathBuf,
    save: bool,
    slow_after: Duration,
    trace_dir: Option<PathBuf>,
    list: bool,
}

fn value<T: std::str::FromStr>(flag: &str, v: Option<String>) -> Result<T, String> {
    let v = v.ok_or_else(|| format!("{flag} needs a value"))?;
    v.parse()
        .map_err(|_| format!("invalid {flag} = {v:?}: expected a non-negative integer"))
}

fn parse_args() -> Result<Args, String> {
    let mut a = Args {
        targets: Vec::new(),
        budget: Budget::Inputs(256),
        seed: 0,
        corpus: corpus_root(),
        save: false,
        slow_after: Duration::from_secs(10),
        trace_dir: None,
        list: false,
    };
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        match flag.as_str() {
            "--target" => {
                let name: String = value("--target", it.next())?;
                a.targets
                    .push(duality_fuzz::target(&name).map_err(|e| e.to_string())?);
            }
            "--inputs" => a.budget = Budget::Inputs(value("--inputs", it.next())?),
            "--seconds" => {
                a.budget = Budget::Time(Duration::from_secs(value("--seconds", it.next())?))
            }
            "--seed" => a.seed = value("--seed", it.next())?,
            "--corpus" => a.corpus = PathBuf::from(value::<String>("--corpus", it.next())?),
            "--save" => a.save = true,
            "--slow-after" => a.slow_after = Duration::from_secs(value("--slow-after", it.next())?),
            "--trace-dir" => {
                a.trace_dir = Some(PathBuf::from(value::<String>("--trace-dir", it.next())?))
            }
            "--list" => a.list = true,
            other => return Err(format!("unknown argument {other:?}: see the crate docs")),
        }
    }
    if a.targets.is_empty() {
        a.targets = targets().to_vec();
    }
    Ok(a)
}

fn main() -> ExitCode {
    let args = match parse_args() {
        Ok(a) => a,
        Err(e) => {
            eprintln!("duality-fuzz: {e}");
            return ExitCode::from(2);
        }
    };
    if args.list {
        for t in targets() {
            println!("{:18} {}", t.name, t.about);
        }
        return ExitCode::SUCCESS;
    }
    install_hook();
    duality_core::limits::set_memory_budget(duality_fuzz::FUZZ_MEMORY_BUDGET);
    let mut failed = false;
    println!(
        "{:18} {:>8} {:>8} {:>9} {:>9} {:>8}",
        "target", "corpus", "mutated", "accepted", "findings", "seconds"
    );
    for t in &args.targets {
        let start = std::time::Instant::now();
        let inputs = match corpus(&args.corpus, t.name) {
            Ok(c) if !c.is_empty() => c,
            Ok(_) | Err(_) => {
                eprintln!(
                    "duality-fuzz: no corpus for {} under {}",
                    t.name,
                    args.corpus.display()
                );
                failed = true;
                continue;
            }
        };
        let trace = args
            .trace_dir
            .as_ref()
            .map(|d| d.join(format!("{}.current", t.name)));
        let summary = match replay(
            t,
            &inputs,
            args.budget,
            args.seed,
            args.slow_after,
            trace.as_deref(),
        ) {
            Ok(s) => s,
            Err(e) => {
                eprintln!("duality-fuzz: {}: {e}", t.name);
                failed = true;
                continue;
            }
        };
        println!(
            "{:18} {:>8} {:>8} {:>9} {:>9} {:>8.1}",
            t.name,
            summary.replayed,
            summary.mutated,
            summary.accepted,
            summary.findings.len(),
            start.elapsed().as_secs_f64()
        );
        for f in &summary.findings {
            failed = true;
            let shown = String::from_utf8_lossy(&f.input);
            let shown: String = shown.chars().take(300).collect();
            eprintln!(
                "FINDING {} {}: {}\n  input ({} bytes): {shown:?}",
                t.name,
                f.file_name(),
                f.kind,
                f.input.len()
            );
            if args.save {
                let path = args.corpus.join(t.name).join(f.file_name());
                if let Err(e) = duality_core::files::write_atomic(&path, &f.input) {
                    eprintln!("duality-fuzz: cannot save {}: {e}", path.display());
                } else {
                    eprintln!("  saved as {}", path.display());
                }
            }
        }
    }
    if failed {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    }
}
