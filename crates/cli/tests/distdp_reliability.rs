//! Issue 25 regression tests of `duality ddp ...`: huge sizes, non-finite
//! parameters and unknown keys end in a clean error (exit 1) naming the
//! field, never a panic, an allocation abort or a non-finite result.

mod common;

use common::run;

/// Runs `duality ARGS`, expects a clean failure and returns stderr.
fn fails(args: &[&str]) -> String {
    let (ok, stdout, stderr) = run(args);
    assert!(!ok, "{args:?} succeeded: {stdout}");
    assert!(!stderr.contains("panicked"), "{args:?} panicked: {stderr}");
    stderr
}

fn write(dir: &tempfile::TempDir, name: &str, text: &str) -> String {
    let path = dir.path().join(name);
    std::fs::write(&path, text).unwrap();
    path.to_str().unwrap().to_string()
}

#[test]
fn huge_mdps_and_default_exact_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let big = write(
        &dir,
        "big.toml",
        "states = 100000\nactions = 100000\ngamma = 0.9\n",
    );
    let e = fails(&["ddp", "solve", "--mdp", &big]);
    assert!(e.contains("states x actions"), "{e}");
    let long = write(
        &dir,
        "long.toml",
        "states = 1\nactions = 1\ngamma = 1.0\nhorizon = 1000000000000\nterminal = [0]\n",
    );
    let e = fails(&["ddp", "solve", "--mdp", &long]);
    assert!(e.contains("horizon"), "{e}");
    // gamma 0.5 over 28 steps with the default `exact` representation: every
    // return is distinct (2^28 atoms); once 10 GB, now refused.
    let halving = write(
        &dir,
        "halving.toml",
        "states = 1\nactions = 2\ngamma = 0.5\nhorizon = 28\n\
         [[transition]]\nstate = 0\naction = 0\noutcomes = [{ next = 0, reward = 0.0, prob = 1.0 }]\n\
         [[transition]]\nstate = 0\naction = 1\noutcomes = [{ next = 0, reward = 1.0, prob = 1.0 }]\n",
    );
    let e = fails(&["ddp", "solve", "--mdp", &halving]);
    assert!(e.contains("representation exact"), "{e}");
    let (ok, out, err) = run(&[
        "ddp",
        "solve",
        "--mdp",
        &halving,
        "--representation",
        "quantile:32",
        "--format",
        "json",
    ]);
    assert!(ok, "{err}");
    assert!(!out.contains("null") && !out.contains("NaN"), "{out}");
    let e = fails(&[
        "ddp",
        "solve",
        "--mdp",
        &halving,
        "--objective",
        "cvar:0.1",
        "--stock",
        "grid:1000000000000",
        "--representation",
        "quantile:8",
    ]);
    assert!(e.contains("buckets"), "{e}");
}

#[test]
fn price_sizes_and_non_finite_values_are_refused() {
    for (args, want) in [
        (vec!["--paths", "1000000000000"], "paths"),
        (vec!["--steps", "1000000000000"], "exercise_dates"),
        (vec!["--basis", "laguerre:1000000000000"], "basis degree"),
        (vec!["--s0", "inf"], "s0"),
        (vec!["--sigma", "NaN"], "sigma"),
        (vec!["--rate", "nan"], "rate"),
        (
            vec!["--lower-paths", "1000000000000", "--steps", "10"],
            "lower paths",
        ),
        (
            vec!["--outer-paths", "1000000000", "--inner-paths", "1000000000"],
            "outer paths",
        ),
    ] {
        let mut all = vec!["ddp", "price", "--paths", "1000"];
        all.extend(args.iter());
        let e = fails(&all);
        assert!(e.contains(want), "{args:?}: {e}");
    }
    let dir = tempfile::tempdir().unwrap();
    let mdp = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../fixtures/distdp/cvar_brute_force.toml"
    );
    let e = fails(&["ddp", "solve", "--mdp", mdp, "--tol", "nan"]);
    assert!(e.contains("tol"), "{e}");
    let huge = write(
        &dir,
        "huge.toml",
        "states = 1\nactions = 1\ngamma = 1.0\nhorizon = 3\n\
         [[transition]]\nstate = 0\naction = 0\noutcomes = [{ next = 0, reward = 1e308, prob = 1.0 }]\n",
    );
    let e = fails(&["ddp", "solve", "--mdp", &huge]);
    assert!(e.contains("return bounds"), "{e}");
}

#[test]
fn unknown_mdp_keys_suggest_the_known_one() {
    let dir = tempfile::tempdir().unwrap();
    let typo = write(
        &dir,
        "typo.toml",
        "states = 1\nactions = 1\ngama = 0.9\nterminal = [0]\n",
    );
    let e = fails(&["ddp", "solve", "--mdp", &typo]);
    assert!(e.contains("gama") && e.contains("gamma"), "{e}");
    let typo = write(
        &dir,
        "typo.json",
        r#"{"states": 1, "actions": 1, "gamma": 0.9, "horizn": 3, "terminal": [0]}"#,
    );
    let e = fails(&["ddp", "solve", "--mdp", &typo]);
    assert!(e.contains("did you mean `horizon`"), "{e}");
}

/// Issue 25, poor messages: an invalid field of an MDP file names the file,
/// and a huge value is quoted short (`1e308`), not as 309 digits.
#[test]
fn mdp_file_errors_name_the_file_and_quote_huge_values_short() {
    let dir = tempfile::tempdir().unwrap();
    for (value, quoted) in [
        ("nan", "NaN"),
        ("inf", "inf"),
        ("1e308", "1e308"),
        ("-1e308", "-1e308"),
        ("1.7e308", "1.7e308"),
    ] {
        let name = format!("gamma-{value}.toml");
        let path = write(
            &dir,
            &name,
            &format!(
                "states = 1\nactions = 1\ngamma = {value}\n[[transition]]\nstate = 0\naction = 0\n\
                 outcomes = [{{ next = 0, reward = 1.0, prob = 1.0 }}]\n"
            ),
        );
        let e = fails(&["ddp", "solve", "--mdp", &path]);
        assert!(e.contains(&name), "{value}: no file name in {e}");
        assert!(e.contains("gamma") && e.contains(quoted), "{value}: {e}");
        assert!(!e.contains("00000000000000000000"), "{value}: {e}");
    }
    let json = write(
        &dir,
        "huge.json",
        r#"{"states": 1, "actions": 1, "gamma": 1e308, "transition": [{"state": 0, "action": 0, "outcomes": [{"next": 0, "reward": 1.0, "prob": 1.0}]}]}"#,
    );
    let e = fails(&["ddp", "solve", "--mdp", &json]);
    assert!(e.contains("huge.json") && e.contains("1e308"), "{e}");
    let big = write(
        &dir,
        "states.toml",
        "states = 1000000000000\nactions = 2\ngamma = 0.9\n",
    );
    let e = fails(&["ddp", "solve", "--mdp", &big]);
    assert!(e.contains("states.toml") && e.contains("states"), "{e}");
}

/// Issue 25, poor messages: `ddp price` with a rate or maturity that breaks
/// the lattice reference names the flag and its value, not the lattice's
/// internal "steps = 2000", and refuses before simulating anything.
#[test]
fn price_lattice_failures_name_the_flag_typed() {
    for (flag, value, quoted) in [
        ("--rate", "1e308", "1e308"),
        ("--rate", "1e12", "1000000000000"),
        ("--rate", "18446744073709551616", "1.8446744073709552e19"),
        ("--rate", "-1e12", "-1000000000000"),
        ("--maturity", "1e308", "1e308"),
        ("--maturity", "1e12", "1000000000000"),
        (
            "--maturity",
            "18446744073709551616",
            "1.8446744073709552e19",
        ),
    ] {
        let arg = format!("{flag}={value}");
        let e = fails(&["ddp", "price", &arg]);
        assert!(e.contains(&format!("{flag} {quoted}")), "{arg}: {e}");
        assert!(!e.contains("steps = 2000"), "{arg}: {e}");
        assert!(!e.contains("00000000000000000000"), "{arg}: {e}");
    }
    // A valid high-rate put still prices.
    let (ok, _, err) = run(&["ddp", "price", "--rate", "0.2", "--paths", "2000"]);
    assert!(ok, "{err}");
}
