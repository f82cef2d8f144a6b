//! Start-up structure of the `duality` binary (issue #26, item 2): the
//! front binary never links libtorch, and the commands that need it are
//! handed to the companion `duality-torch` with arguments, standard streams
//! and exit status unchanged. Nothing here is timed: start-up times are
//! measured by `cargo xtask bench --compare` (xtask/src/bench/startup.rs).

use std::path::Path;
use std::process::Command;

/// Shared libraries that mean libtorch is loaded at start.
const TORCH_LIBRARIES: [&str; 4] = ["libtorch", "libc10", "libtorch_cpu", "libtorch_cuda"];

/// The `DT_NEEDED` entries of an ELF file, read with `readelf -d`; `None`
/// (with the reason printed) when `readelf` cannot be run here.
fn needed_libraries(binary: &Path) -> Option<Vec<String>> {
    let out = match Command::new("readelf").arg("-d").arg(binary).output() {
        Ok(out) => out,
        Err(err) => {
            println!("skipped: cannot run readelf ({err})");
            return None;
        }
    };
    if !out.status.success() {
        println!(
            "skipped: readelf -d {} failed: {}",
            binary.display(),
            String::from_utf8_lossy(&out.stderr)
        );
        return None;
    }
    let text = String::from_utf8_lossy(&out.stdout);
    Some(
        text.lines()
            .filter(|l| l.contains("(NEEDED)"))
            .filter_map(|l| {
                let start = l.find('[')? + 1;
                let end = l.rfind(']')?;
                Some(l[start..end].to_string())
            })
            .collect(),
    )
}

fn is_torch_library(name: &str) -> bool {
    TORCH_LIBRARIES
        .iter()
        .any(|t| name.starts_with(&format!("{t}.")) || name.starts_with(&format!("{t}-")))
        || name.starts_with("libtorch")
}

/// The package `duality` (what `cargo install --path crates/cli` builds)
/// has neither tch nor torch-sys anywhere in its normal or build
/// dependencies, so no build of it alone can link libtorch. Checked with
/// `cargo tree`, independently of the features of the current test build.
#[test]
fn the_default_duality_package_has_no_libtorch_dependency() {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let out = match Command::new(&cargo)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .args(["tree", "--offline", "-p", "duality", "-e", "normal,build"])
        .args(["--prefix", "none", "--format", "{p}"])
        .output()
    {
        Ok(out) => out,
        Err(err) => {
            println!("skipped: cannot run {cargo} ({err})");
            return;
        }
    };
    assert!(
        out.status.success(),
        "cargo tree failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let tree = String::from_utf8_lossy(&out.stdout);
    assert!(
        tree.lines().any(|l| l.starts_with("duality-combopt ")),
        "{tree}"
    );
    for line in tree.lines() {
        assert!(
            !line.starts_with("torch-sys ") && !line.starts_with("tch "),
            "`duality` depends on libtorch through {line}:\n{tree}"
        );
    }
}

/// The `duality` binary of this build has no libtorch in `DT_NEEDED`, so
/// the dynamic loader never maps it, in every build of the package: the
/// default one, `cargo test -p duality --features torch`, and a workspace
/// build with unified features (`cargo test --workspace --all-features`,
/// the CI), where the area crates are compiled with their torch parts. Its
/// method lists hold no libtorch method (they are registered at run time,
/// by `duality-torch` only), which is what keeps libtorch unreachable.
#[test]
fn the_duality_binary_does_not_link_libtorch() {
    let binary = Path::new(env!("CARGO_BIN_EXE_duality"));
    let methods = Command::new(binary)
        .args(["tsp", "methods", "--format", "json"])
        .output()
        .expect("run duality tsp methods");
    assert!(methods.status.success());
    let listed = String::from_utf8_lossy(&methods.stdout);
    assert!(
        listed.contains("\"or2opt\"") && !listed.contains("\"udc\""),
        "{listed}"
    );
    let rules = Command::new(binary)
        .args(["milp", "rules", "--format", "json"])
        .output()
        .expect("run duality milp rules");
    assert!(rules.status.success());
    let listed = String::from_utf8_lossy(&rules.stdout);
    assert!(
        listed.contains("reliability") && !listed.contains("\"gnn\""),
        "{listed}"
    );
    if !cfg!(target_os = "linux") {
        println!("skipped: the DT_NEEDED check reads ELF files (Linux)");
        return;
    }
    let Some(needed) = needed_libraries(binary) else {
        return;
    };
    assert!(!needed.is_empty(), "no DT_NEEDED entries read: {needed:?}");
    let torch: Vec<&String> = needed.iter().filter(|n| is_torch_library(n)).collect();
    assert!(
        torch.is_empty(),
        "{} links {torch:?} (all: {needed:?}; torch parts compiled in: {})",
        binary.display(),
        cfg!(feature = "torch")
    );
}

#[test]
fn the_torch_library_names_are_recognised() {
    for name in [
        "libtorch_cpu.so",
        "libc10.so",
        "libtorch.so.2",
        "libtorch_cuda.so",
    ] {
        assert!(is_torch_library(name), "{name}");
    }
    for name in ["libc.so.6", "libm.so.6", "libgcc_s.so.1", "libstdc++.so.6"] {
        assert!(!is_torch_library(name), "{name}");
    }
}

/// `duality --help` lists every command, the torch ones included.
#[test]
fn the_help_lists_every_command() {
    let out = Command::new(env!("CARGO_BIN_EXE_duality"))
        .arg("--help")
        .output()
        .unwrap();
    assert!(out.status.success());
    let help = String::from_utf8_lossy(&out.stdout);
    for command in [
        "eval", "bandit", "tsp", "assign", "dag", "vrp", "ddp", "align",
    ] {
        assert!(
            help.lines().any(|l| l.trim_start().starts_with(command)),
            "{command} missing from:\n{help}"
        );
    }
    let out = Command::new(env!("CARGO_BIN_EXE_duality"))
        .args(["tsp", "--help"])
        .output()
        .unwrap();
    assert!(out.status.success());
    let help = String::from_utf8_lossy(&out.stdout);
    for command in ["solve", "methods", "train-udc"] {
        assert!(help.contains(command), "{command} missing from:\n{help}");
    }
}

#[cfg(unix)]
mod forwarding {
    use std::io::Write as _;
    use std::os::unix::fs::PermissionsExt as _;
    use std::process::{Command, Stdio};

    /// A stand-in companion: prints its arguments and `DUALITY_FORWARDED`,
    /// copies standard input, writes to standard error and exits with 7.
    fn fake_companion(dir: &std::path::Path) -> std::path::PathBuf {
        let path = dir.join("duality-torch");
        std::fs::write(
            &path,
            "#!/bin/sh\nfor a in \"$@\"; do printf 'arg %s\\n' \"$a\"; done\n\
             printf 'forwarded %s\\n' \"$DUALITY_FORWARDED\"\ncat\n\
             echo 'companion stderr' >&2\nexit 7\n",
        )
        .unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
        path
    }

    fn run_with(companion: &std::path::Path, args: &[&str], stdin: &str) -> std::process::Output {
        let mut child = Command::new(env!("CARGO_BIN_EXE_duality"))
            .args(args)
            .env("DUALITY_TORCH", companion)
            .env_remove("DUALITY_FORWARDED")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        child
            .stdin
            .take()
            .unwrap()
            .write_all(stdin.as_bytes())
            .unwrap();
        child.wait_with_output().unwrap()
    }

    /// Each torch command reaches the companion with the same arguments,
    /// standard input, output, error and exit status.
    #[test]
    fn torch_commands_pass_through_unchanged() {
        let dir = tempfile::tempdir().unwrap();
        let companion = fake_companion(dir.path());
        for args in [
            &[
                "align",
                "loss",
                "--input",
                "pairs file.csv",
                "--format",
                "json",
            ][..],
            &["--max-memory", "2G", "align", "--help"],
            &["tsp", "train-udc", "--steps", "2", "--out", "m.ot"],
            &["tsp", "solve", "a.tsp", "--method", "udc"],
            &["ddp", "deep", "--mdp", "m.toml", "--format", "table"],
            &["ddp", "price", "--method=neural-mlp"],
        ] {
            let out = run_with(&companion, args, "from stdin\n");
            let mut want: String = args.iter().map(|a| format!("arg {a}\n")).collect();
            want.push_str("forwarded 1\nfrom stdin\n");
            assert_eq!(String::from_utf8_lossy(&out.stdout), want, "{args:?}");
            assert_eq!(
                String::from_utf8_lossy(&out.stderr),
                "companion stderr\n",
                "{args:?}"
            );
            assert_eq!(out.status.code(), Some(7), "{args:?}");
        }
    }

    /// Commands that do not need libtorch run in process, whatever
    /// `DUALITY_TORCH` says.
    #[test]
    fn other_commands_stay_in_process() {
        let dir = tempfile::tempdir().unwrap();
        let companion = fake_companion(dir.path());
        for args in [
            &["--version"][..],
            &["tsp", "methods", "--format", "json"],
            &["ddp", "price", "--method", "lsmc", "--help"],
            &["ddp", "deep", "--help"],
            &["tsp", "solve", "a.tsp", "--method", "udc", "-h"],
        ] {
            let out = run_with(&companion, args, "");
            assert!(out.status.success(), "{args:?}");
            assert!(
                !String::from_utf8_lossy(&out.stdout).contains("forwarded"),
                "{args:?}"
            );
        }
    }

    /// A missing companion is an error naming the command and the path,
    /// with a failure exit status.
    #[test]
    fn a_missing_companion_is_a_clear_error() {
        let dir = tempfile::tempdir().unwrap();
        let missing = dir.path().join("no-such-duality-torch");
        let out = run_with(&missing, &["ddp", "deep", "--mdp", "m.toml"], "");
        assert_eq!(out.status.code(), Some(1));
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(
            err.contains("`ddp deep` needs the torch build")
                && err.contains("no-such-duality-torch")
                && err.contains("DUALITY_TORCH"),
            "{err}"
        );
    }

    /// `DUALITY_TORCH` naming a `duality` (not `duality-torch`) is refused instead
    /// of `exec`ing itself forever.
    #[test]
    fn a_companion_without_torch_is_refused() {
        let out = run_with(
            std::path::Path::new(env!("CARGO_BIN_EXE_duality")),
            &["align", "trainers"],
            "",
        );
        assert_eq!(out.status.code(), Some(1));
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains("not a `duality-torch` build"), "{err}");
    }
}
