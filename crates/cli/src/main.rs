//! `duality`: the command-line front of the duality crates.
//!
//! Every command reads CSV/TOML, prints a human table by default or JSON with
//! `--format json`, and can write SVG plots where a picture reads better.
//! The commands are thin: parsing and printing live here, the work in the
//! area crates. One module per area mirrors the crates.
//!
//! # Two binaries from these sources
//!
//! Linking libtorch costs every start-up about 0.6 s (the dynamic loader maps
//! and relocates `libtorch_cpu.so` and runs its static initialisers before
//! `main`), even for `duality --version`. So the commands that need libtorch
//! live in a companion binary, as git runs its external subcommands:
//!
//! - `duality` (package `duality`) runs every other command in process and
//!   never links libtorch;
//! - `duality-torch` (package `duality-torch`, `crates/cli-torch`) is these
//!   same sources built with libtorch: every command, in process.
//!
//! For `align ...`, `tsp train-udc`, `tsp solve --method udc`, `ddp deep`,
//! `ddp deep-offline` and
//! `ddp price --method neural-mlp|neural-cnn`, `duality` replaces itself
//! (`exec`) with `duality-torch` and the same arguments, so standard
//! input/output/error, the exit status and `--format` pass through
//! unchanged. The companion is looked up as `$DUALITY_TORCH`, then next to
//! the running executable, then on `PATH`; a missing one is an error naming
//! the command and where it looked.
//!
//! The two halves are chosen by the cfg `duality_torch`, which
//! `crates/cli/build.rs` sets only when it builds the package
//! `duality-torch`, not by a Cargo feature: features are unified across a
//! workspace build (`cargo test --workspace --all-features`), a package name
//! is not. The area crates list their libtorch methods (TSP `udc`, MILP
//! branching `gnn`) only once registered at run time, which only
//! `duality-torch` does; so `duality` reaches no libtorch code in any build
//! (with `--features torch` too, or when Cargo compiled the area crates
//! with their torch parts), and the linker leaves libtorch out of its
//! `DT_NEEDED`. See `crates/cli/README.md`.

use std::process::ExitCode;

use clap::{CommandFactory, FromArgMatches, Parser, Subcommand};

mod output;

#[cfg(duality_torch)]
mod align;
mod bandit;
mod combopt;
mod dfo;
mod distdp;
mod eval;
mod gflownet;
mod retro;
mod synth;

/// duality: research algorithms from recent papers, from the command line.
#[derive(Debug, Parser)]
#[command(name = "duality", version, about, long_about = None)]
struct Cli {
    /// Largest memory a request may ask for before it is refused, e.g. `16G`
    /// (default: 3/4 of the memory available at start; also
    /// `DUALITY_MAX_MEMORY`). Sizes are checked before allocating, so a typo
    /// such as `--reps 1e12` is an error instead of an out-of-memory abort.
    #[arg(long, global = true, value_name = "SIZE", value_parser = parse_memory)]
    max_memory: Option<u64>,
    #[command(subcommand)]
    command: Command,
}

fn parse_memory(text: &str) -> Result<u64, String> {
    duality_core::limits::parse_bytes(text).map_err(|e| e.to_string())
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Evaluation statistics: aggregates with bootstrap CIs, profiles, AdaStop, AUROC, McNemar.
    #[command(subcommand)]
    Eval(eval::EvalCommand),
    /// Bandits: simulate policies, evaluate logged feedback off-policy.
    #[command(subcommand)]
    Bandit(bandit::BanditCommand),
    /// Travelling salesman: solve TSPLIB instances.
    #[command(subcommand)]
    Tsp(combopt::TspCommand),
    /// Linear assignment from a cost matrix.
    Assign(combopt::AssignArgs),
    /// DAG structure learning (NOTEARS, topological swaps).
    #[command(subcommand)]
    Dag(combopt::DagCommand),
    /// Capacitated vehicle routing: solve CVRPLIB instances.
    #[command(subcommand)]
    Vrp(combopt::VrpCommand),
    /// Mixed-integer linear programs: branch and bound on MPS files.
    #[command(subcommand)]
    Milp(combopt::MilpCommand),
    /// Blackbox optimisation: covering direct search, with directional attacks
    /// through a neural surrogate (`--attack`, libtorch).
    #[command(subcommand)]
    Dfo(dfo::DfoCommand),
    /// Private synthetic data: Private-GSD (genetic algorithm, zCDP).
    #[command(subcommand)]
    Synth(synth::SynthCommand),
    /// Distributional dynamic programming and optimal stopping.
    #[command(subcommand)]
    Ddp(distdp::DdpCommand),
    /// Multi-objective GFlowNets, NSGA-II and random search on HyperGrid and N-grams (`--method mogfn` runs in `duality-torch`).
    #[command(subcommand)]
    Gflownet(gflownet::GflownetCommand),
    /// Retrosynthetic planning on synthetic reaction graphs: Retro*, BFS, dual value networks (`--method retro|dual` run in `duality-torch`).
    #[command(subcommand)]
    Retro(retro::RetroCommand),
    /// Preference alignment: losses, trainers and training runs (libtorch: run
    /// by `duality-torch`).
    #[cfg(duality_torch)]
    #[command(subcommand)]
    Align(align::AlignCommand),
    /// Preference alignment: losses, trainers and training runs (libtorch: run
    /// by `duality-torch`).
    #[cfg(not(duality_torch))]
    #[command(disable_help_flag = true)]
    Align(companion::Forwarded),
}

fn run(cli: Cli) -> anyhow::Result<()> {
    if let Some(bytes) = cli.max_memory {
        duality_core::limits::set_memory_budget(bytes);
    }
    match cli.command {
        Command::Eval(cmd) => eval::run(cmd),
        Command::Bandit(cmd) => bandit::run(cmd),
        Command::Tsp(cmd) => combopt::run_tsp(cmd),
        Command::Assign(args) => combopt::run_assign(args),
        Command::Dag(cmd) => combopt::run_dag(cmd),
        Command::Vrp(cmd) => combopt::run_vrp(cmd),
        Command::Milp(cmd) => combopt::run_milp(cmd),
        Command::Dfo(cmd) => dfo::run(cmd),
        Command::Synth(cmd) => synth::run(cmd),
        Command::Ddp(cmd) => distdp::run(cmd),
        Command::Gflownet(cmd) => gflownet::run(cmd),
        Command::Retro(cmd) => retro::run(cmd),
        #[cfg(duality_torch)]
        Command::Align(cmd) => align::run(cmd),
        // Reached only when the argument scan in `main` did not forward
        // (it always does for `align`); forward now.
        #[cfg(not(duality_torch))]
        Command::Align(_) => Err(companion::exec("align")),
    }
}

fn main() -> ExitCode {
    // Every command prints with `println!`, which panics when stdout fails:
    // a closed pipe (`duality ... | head -1`) or a full disk (`> /dev/full`).
    // Threading a writer through every command would touch each area module;
    // instead the panic is caught here, once. A closed pipe means the reader
    // has all it wants, so it ends quietly with success (as `cat` does); any
    // other stdout failure is an ordinary error message. Other panics are bugs
    // and keep Rust's default report and exit code 101.
    let default_hook = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        if stdout_failure(info.payload()).is_none() {
            default_hook(info);
        }
    }));
    #[cfg(not(duality_torch))]
    if let Some(what) = companion::route(&std::env::args_os().skip(1).collect::<Vec<_>>()) {
        let err = companion::exec(what);
        eprintln!("error: {err:#}");
        return ExitCode::FAILURE;
    }
    // The torch half lists the libtorch methods (they are registered at run
    // time so that `duality` never reaches them).
    #[cfg(duality_torch)]
    {
        duality_combopt::tsp::register_torch_methods();
        duality_combopt::milp::branching::register_torch_rules();
    }
    let outcome = std::panic::catch_unwind(|| {
        let result = parse().and_then(run);
        // Flush what is still buffered so a late write error is seen here.
        result.and_then(|()| std::io::Write::flush(&mut std::io::stdout()).map_err(Into::into))
    });
    match outcome {
        Ok(Ok(())) => ExitCode::SUCCESS,
        Ok(Err(err)) if is_broken_pipe(&err) => ExitCode::SUCCESS,
        Ok(Err(err)) => {
            eprintln!("error: {}", render(&err));
            ExitCode::FAILURE
        }
        Err(payload) => match stdout_failure(payload.as_ref()) {
            Some(message) if message.contains("Broken pipe") => ExitCode::SUCCESS,
            Some(message) => {
                eprintln!("error: cannot write the output: {message}");
                ExitCode::FAILURE
            }
            None => std::panic::resume_unwind(payload),
        },
    }
}

/// An error and its causes on one line, `a: b: c`, leaving out a cause
/// whose text its parent already ends with (duality-core's I/O error shows
/// its cause and also passes it on, so `{:#}` printed "(os error 2)" twice).
/// Numbers formatted with `{}` in the CLI's own messages get core's short
/// form too (`1e308`, not 309 digits).
fn render(err: &anyhow::Error) -> String {
    duality_core::error::compact_numbers(&render_chain(err)).into_owned()
}

fn render_chain(err: &anyhow::Error) -> String {
    let mut out = String::new();
    for cause in err.chain() {
        let text = cause.to_string();
        if out.is_empty() {
            out = text;
        } else if !out.ends_with(&text) {
            out.push_str(": ");
            out.push_str(&text);
        }
    }
    out
}

/// Parses the command line (clap prints help, version and usage errors
/// itself and exits). In `duality` (not the torch half) the help also lists the
/// companion's subcommands that have no in-process variant here.
fn parse() -> anyhow::Result<Cli> {
    let command = Cli::command();
    #[cfg(not(duality_torch))]
    let command = companion::describe(command);
    let mut matches = command.get_matches();
    Cli::from_arg_matches_mut(&mut matches).map_err(|e| e.exit())
}

/// The message of a panic raised by `print!`/`println!` when stdout fails,
/// or `None` for any other panic.
fn stdout_failure(payload: &(dyn std::any::Any + Send)) -> Option<String> {
    let message = payload
        .downcast_ref::<String>()
        .map(String::as_str)
        .or_else(|| payload.downcast_ref::<&str>().copied())?;
    message
        .strip_prefix("failed printing to stdout: ")
        .map(str::to_string)
}

/// Whether an error chain ends in a closed pipe (the reader went away).
fn is_broken_pipe(err: &anyhow::Error) -> bool {
    err.chain().any(|cause| {
        cause
            .downcast_ref::<std::io::Error>()
            .is_some_and(|io| io.kind() == std::io::ErrorKind::BrokenPipe)
    })
}

/// The companion binary `duality-torch` and the commands forwarded to it
/// (only in `duality`, not in the torch half `duality-torch`).
#[cfg(not(duality_torch))]
mod companion {
    use std::ffi::{OsStr, OsString};
    use std::path::{Path, PathBuf};

    /// File name of the companion (with `.exe` on Windows).
    fn file_name() -> String {
        format!("duality-torch{}", std::env::consts::EXE_SUFFIX)
    }

    /// Environment variable naming the companion's path explicitly.
    pub const PATH_VAR: &str = "DUALITY_TORCH";

    /// Set in the companion's environment by `exec`: a `duality` that finds
    /// it set was itself started as the companion, so `DUALITY_TORCH` (or
    /// the file found) is a `duality`, not `duality-torch`; refusing
    /// then stops an endless chain of `exec`s.
    const FORWARDED_VAR: &str = "DUALITY_FORWARDED";

    /// Everything after `duality align` (never parsed here: the companion
    /// parses it, `--help` included).
    #[derive(Debug, clap::Args)]
    pub struct Forwarded {
        /// Arguments for `duality-torch align`.
        // Parsed only to describe `align` in the help: the companion gets
        // this process's own arguments.
        #[allow(dead_code)]
        #[arg(trailing_var_arg = true, allow_hyphen_values = true, num_args = 0..)]
        args: Vec<OsString>,
    }

    /// The commands that need libtorch, from the raw arguments (after the
    /// program name): `Some(command)` for those forwarded to the companion.
    /// The scan only decides where a command runs; both binaries parse the
    /// arguments the same way, so forwarding changes no result, only the
    /// start-up cost.
    pub fn route(args: &[OsString]) -> Option<&'static str> {
        // Positional words, skipping the one global option with a value.
        let mut words = Vec::new();
        let mut iter = args.iter().map(OsString::as_os_str);
        while let Some(arg) = iter.next() {
            if arg == "--max-memory" {
                iter.next();
            } else if arg == "--" {
                break;
            } else if !arg.to_string_lossy().starts_with('-') {
                words.push(arg);
                if words.len() == 2 {
                    break;
                }
            } else if words.is_empty() {
                // A flag before any command (`--help`, `--version`):
                // clap answers it here.
                if !arg.to_string_lossy().starts_with("--max-memory=") {
                    return None;
                }
            }
        }
        let word = |i: usize| words.get(i).and_then(|w: &&OsStr| w.to_str());
        let option = |name: &str| option_value(args, name);
        // `ddp deep`, `ddp price` and `tsp solve` are defined here too, so
        // their help is the same here (and needs no libtorch).
        let help = args
            .iter()
            .take_while(|a| *a != "--")
            .any(|a| a == "--help" || a == "-h");
        if help
            && !matches!(
                (word(0)?, word(1)),
                ("align", _) | ("tsp", Some("train-udc"))
            )
        {
            return None;
        }
        match (word(0)?, word(1)) {
            ("align", _) => Some("align"),
            ("tsp", Some("train-udc")) => Some("tsp train-udc"),
            ("tsp", Some("solve")) if option("--method").as_deref() == Some("udc") => {
                Some("tsp solve --method udc")
            }
            ("gflownet", Some("front"))
                if option("--method").as_deref().unwrap_or("mogfn") == "mogfn" =>
            {
                Some("gflownet front --method mogfn")
            }
            ("retro", Some("search"))
                if matches!(
                    option("--method").as_deref().unwrap_or("dual"),
                    "retro" | "dual"
                ) =>
            {
                Some("retro search --method retro|dual")
            }
            ("dfo", Some("solve")) if args.iter().any(|a| a == "--attack") => {
                Some("dfo solve --attack")
            }
            ("ddp", Some("deep")) => Some("ddp deep"),
            ("ddp", Some("lot-sizing")) => Some("ddp lot-sizing"),
            ("ddp", Some("deep-offline")) => Some("ddp deep-offline"),
            ("ddp", Some("price")) => match option("--method").as_deref() {
                Some("neural-mlp") => Some("ddp price --method neural-mlp"),
                Some("neural-cnn") => Some("ddp price --method neural-cnn"),
                _ => None,
            },
            _ => None,
        }
    }

    /// The last value of `--name VALUE` or `--name=VALUE` (clap would refuse
    /// a repeated one; the companion reports that).
    fn option_value(args: &[OsString], name: &str) -> Option<String> {
        let mut value = None;
        let mut iter = args.iter().map(|a| a.to_string_lossy());
        while let Some(arg) = iter.next() {
            if arg == "--" {
                break;
            }
            if arg == name {
                value = iter.next().map(|v| v.into_owned());
            } else if let Some(v) = arg.strip_prefix(name).and_then(|r| r.strip_prefix('=')) {
                value = Some(v.to_string());
            }
        }
        value
    }

    /// Where the companion is: `$DUALITY_TORCH`, next to this executable,
    /// then on `PATH`; else an error naming `what` and where it looked.
    fn locate(what: &str) -> anyhow::Result<PathBuf> {
        if let Some(path) = std::env::var_os(PATH_VAR).filter(|p| !p.is_empty()) {
            let path = PathBuf::from(path);
            if path.is_file() {
                return Ok(path);
            }
            anyhow::bail!(
                "`{what}` needs the torch build of duality: {PATH_VAR}={} is not a file",
                path.display()
            );
        }
        let name = file_name();
        let here = std::env::current_exe()
            .ok()
            .and_then(|exe| exe.parent().map(|dir| dir.to_path_buf()));
        if let Some(candidate) = here.as_ref().map(|dir| dir.join(&name)) {
            if candidate.is_file() {
                return Ok(candidate);
            }
        }
        if let Some(paths) = std::env::var_os("PATH") {
            if let Some(found) = std::env::split_paths(&paths)
                .map(|dir| dir.join(&name))
                .find(|candidate| candidate.is_file())
            {
                return Ok(found);
            }
        }
        let beside = here.map_or_else(
            || "next to this executable".to_string(),
            |dir| format!("in {}", dir.display()),
        );
        anyhow::bail!(
            "`{what}` needs the torch build of duality: this `duality` does not link \
             libtorch and runs such commands in the companion binary `{name}`, which is \
             neither {beside} nor on PATH. Build it with `cargo build --release -p \
             duality-torch` (it lands next to `duality`), or install it with `cargo install \
             --path crates/cli-torch`, or set {PATH_VAR} to its path"
        )
    }

    /// Replaces this process with the companion, given this process's own
    /// arguments, and returns only on failure (the error to print). On
    /// platforms without `exec` the companion runs as a child and this
    /// process exits with its status.
    pub fn exec(what: &str) -> anyhow::Error {
        if std::env::var_os(FORWARDED_VAR).is_some() {
            return anyhow::anyhow!(
                "`{what}` needs the torch build of duality, but this program was itself started \
                 as the companion `duality-torch` ({PATH_VAR} or the file found is a `duality`, \
                 not a `duality-torch` build)"
            );
        }
        let path = match locate(what) {
            Ok(path) => path,
            Err(err) => return err,
        };
        let mut args = std::env::args_os();
        let argv0 = args.next().unwrap_or_else(|| OsString::from("duality"));
        let mut command = std::process::Command::new(&path);
        command.args(args).env(FORWARDED_VAR, "1");
        run(command, argv0, &path)
    }

    #[cfg(unix)]
    fn run(mut command: std::process::Command, argv0: OsString, path: &Path) -> anyhow::Error {
        use std::os::unix::process::CommandExt as _;
        // The companion's clap then names itself as the user typed it.
        let err = command.arg0(argv0).exec();
        anyhow::anyhow!("cannot run {}: {err}", path.display())
    }

    #[cfg(not(unix))]
    fn run(mut command: std::process::Command, _argv0: OsString, path: &Path) -> anyhow::Error {
        match command.status() {
            Ok(status) => std::process::exit(status.code().unwrap_or(1)),
            Err(err) => anyhow::anyhow!("cannot run {}: {err}", path.display()),
        }
    }

    /// Adds the companion-only subcommands to the help (they are forwarded
    /// before parsing, so these entries only describe them).
    pub fn describe(command: clap::Command) -> clap::Command {
        command.mut_subcommand("tsp", |tsp| {
            tsp.subcommand(
                clap::Command::new("train-udc")
                    .about(
                        "Train UDC's neural divide policy and save a checkpoint for \
                         `tsp solve --method udc` (libtorch: run by `duality-torch`)",
                    )
                    .disable_help_flag(true)
                    .arg(
                        clap::Arg::new("args")
                            .num_args(0..)
                            .trailing_var_arg(true)
                            .allow_hyphen_values(true),
                    ),
            )
        })
    }

    #[cfg(test)]
    mod tests {
        use super::*;

        fn routed(line: &str) -> Option<&'static str> {
            let args: Vec<OsString> = line.split_whitespace().map(OsString::from).collect();
            route(&args)
        }

        #[test]
        fn torch_commands_are_routed_and_the_rest_run_here() {
            assert_eq!(routed("align loss --input x.csv"), Some("align"));
            assert_eq!(routed("--max-memory 1G align trainers"), Some("align"));
            assert_eq!(routed("--max-memory=1G align --help"), Some("align"));
            assert_eq!(routed("tsp train-udc --out m.ot"), Some("tsp train-udc"));
            assert_eq!(routed("tsp train-udc --help"), Some("tsp train-udc"));
            assert_eq!(
                routed("tsp solve a.tsp --method udc"),
                Some("tsp solve --method udc")
            );
            assert_eq!(
                routed("tsp solve a.tsp --method=udc"),
                Some("tsp solve --method udc")
            );
            assert_eq!(routed("ddp deep --mdp m.toml"), Some("ddp deep"));
            assert_eq!(routed("ddp lot-sizing --updates 2"), Some("ddp lot-sizing"));
            assert_eq!(routed("ddp deep-offline"), Some("ddp deep-offline"));
            assert_eq!(
                routed("ddp price --method neural-cnn"),
                Some("ddp price --method neural-cnn")
            );
            for here in [
                "",
                "--version",
                "--help",
                "help align",
                "tsp solve a.tsp",
                "tsp solve a.tsp --method or2opt --udc-model m.ot",
                "tsp methods",
                "ddp price --method lsmc",
                "ddp price --method neural-rnn",
                "eval aggregate --input udc",
                "tsp solve a.tsp -- --method udc",
                "ddp deep --help",
                "ddp price --method neural-mlp -h",
                "tsp solve a.tsp --method udc --help",
            ] {
                assert_eq!(routed(here), None, "{here}");
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_cause_already_in_its_parents_text_is_printed_once() {
        let io = std::io::Error::new(std::io::ErrorKind::NotFound, "gone (os error 2)");
        let err =
            anyhow::Error::new(duality_core::Error::io("x.csv", io)).context("reading scores");
        let text = render(&err);
        assert_eq!(text.matches("os error 2").count(), 1, "{text}");
        assert!(
            text.starts_with("reading scores: ") && text.contains("x.csv"),
            "{text}"
        );
    }

    #[test]
    fn huge_numbers_in_the_clis_own_messages_are_short() {
        let err = anyhow::anyhow!("--rate {}: expected a rate", 1e308);
        assert_eq!(render(&err), "--rate 1e308: expected a rate");
    }
}
