//! Issue #25's message and finite-output classes for the eval commands,
//! end to end: an error about a data file names the file and its line or
//! column, a number the user wrote as 1e308 is never echoed as 309 digits,
//! a 1 MB token is cut, and `eval paired-ci` on scores near the f64 limit
//! prints finite intervals or refuses by item.

mod common;

use common::{json, run, write};

/// Runs a failing command and returns its stderr.
fn error_of(args: &[&str]) -> String {
    let (ok, _, err) = run(args);
    assert!(!ok, "{args:?} succeeded");
    assert!(!err.contains("panicked"), "{err}");
    assert!(err.len() < 600, "{} characters: {err}", err.len());
    err
}

#[test]
fn truncated_or_empty_eval_inputs_name_the_file_and_column() {
    let dir = tempfile::tempdir().unwrap();
    // One agent left (the file was cut): AdaStop needs two.
    let ada = write(dir.path(), "ada-cut.csv", "agent,score\na,1\na,2\n");
    let err = error_of(&[
        "eval",
        "adastop",
        "--results",
        &ada,
        "--n",
        "2",
        "--stages",
        "2",
    ]);
    assert!(
        err.contains("ada-cut.csv") && err.contains("`agent`"),
        "{err}"
    );
    // An empty sequence file.
    let seq = write(dir.path(), "seq-empty.txt", "");
    let err = error_of(&["eval", "sequence", "--input", &seq]);
    assert!(err.contains("seq-empty.txt line 1"), "{err}");
    // A 1 MB token is cut to about 80 characters.
    let seq = write(
        dir.path(),
        "seq-long.txt",
        &format!("1 0 1 {}\n", "9".repeat(1_000_000)),
    );
    let err = error_of(&["eval", "sequence", "--input", &seq]);
    assert!(
        err.contains("seq-long.txt") && err.contains("characters"),
        "{err}"
    );
    // One split left.
    let diff = write(dir.path(), "diff-cut.csv", "difference\n1\n");
    let err = error_of(&[
        "eval",
        "corrected-t",
        "--input",
        &diff,
        "--n-train",
        "90",
        "--n-test",
        "10",
    ]);
    assert!(
        err.contains("diff-cut.csv") && err.contains("`difference`"),
        "{err}"
    );
    // One item left.
    let cl = write(dir.path(), "cl-cut.csv", "correct,cluster\n1,a\n");
    let err = error_of(&["eval", "cluster-accuracy", "--input", &cl]);
    assert!(
        err.contains("cl-cut.csv") && err.contains("`correct`"),
        "{err}"
    );
    // One class left.
    let de = write(
        dir.path(),
        "delong-cut.csv",
        "label,score_a,score_b\n1,0.9,0.6\n1,0.8,0.9\n",
    );
    let err = error_of(&["eval", "delong-ci", "--input", &de]);
    assert!(
        err.contains("delong-cut.csv") && err.contains("`label`"),
        "{err}"
    );
}

#[test]
fn paired_ci_names_the_file_and_line_of_an_unpaired_item() {
    let dir = tempfile::tempdir().unwrap();
    let a = write(dir.path(), "a.csv", "item,score\nq1,1\nq2,0\n");
    let b = write(dir.path(), "b-cut.csv", "item,score\nq1,0\n");
    let err = error_of(&["eval", "paired-ci", "--a", &a, "--b", &b]);
    assert!(
        err.contains("a.csv line 3") && err.contains("\"q2\"") && err.contains("b-cut.csv"),
        "{err}"
    );
    let err = error_of(&["eval", "paired-ci", "--a", &b, "--b", &a]);
    assert!(err.contains("a.csv line 3"), "{err}");
}

#[test]
fn paired_ci_near_the_f64_limit_prints_finite_intervals_or_refuses() {
    let dir = tempfile::tempdir().unwrap();
    let a = write(
        dir.path(),
        "a.csv",
        "item,score\nq1,1e308\nq2,1e308\nq3,1e308\nq4,1\n",
    );
    let b = write(dir.path(), "b.csv", "item,score\nq4,0\nq3,1\nq2,0\nq1,0\n");
    for (x, y) in [(&a, &b), (&b, &a)] {
        let v = json(&[
            "eval",
            "paired-ci",
            "--a",
            x,
            "--b",
            y,
            "--reps",
            "200",
            "--format",
            "json",
        ]);
        for key in ["analytic_ci", "bootstrap_ci"] {
            for end in v[key].as_array().unwrap() {
                assert!(end.as_f64().is_some_and(f64::is_finite), "{v}");
            }
        }
        assert!(v["mean_difference"].as_f64().unwrap().abs() > 1e307, "{v}");
        let (ok, table, _) = run(&["eval", "paired-ci", "--a", x, "--b", y]);
        assert!(ok);
        assert!(!table.contains("inf") && !table.contains("NaN"), "{table}");
    }
    // 1.7e308 - (-1.7e308) is beyond f64: refused, naming the item.
    let c = write(
        dir.path(),
        "c.csv",
        "item,score\nq1,-1.7e308\nq2,-1.7e308\nq3,0\nq4,0\n",
    );
    let d = write(
        dir.path(),
        "d.csv",
        "item,score\nq1,1.7e308\nq2,1.7e308\nq3,0\nq4,0\n",
    );
    let err = error_of(&["eval", "paired-ci", "--a", &d, "--b", &c]);
    assert!(
        err.contains("item \"q") && err.contains("1.7e308") && err.contains("d.csv"),
        "{err}"
    );
}

#[test]
fn huge_values_are_quoted_short() {
    let dir = tempfile::tempdir().unwrap();
    let diff = write(dir.path(), "diff.csv", "difference\n1\n2\n3\n");
    let (ok, _, err) = run(&[
        "eval",
        "corrected-t",
        "--input",
        &diff,
        "--n-train",
        "90",
        "--n-test",
        "10",
        "--format",
        "json",
    ]);
    assert!(ok, "{err}");
    // A value typed as 1e308 comes back as 1e308 wherever it is quoted.
    let a = write(dir.path(), "a.csv", "item,score\nq1,1\nq2,0\n");
    let err = error_of(&[
        "eval",
        "paired-ci",
        "--a",
        &a,
        "--b",
        &a,
        "--confidence",
        "1e308",
    ]);
    assert!(
        err.contains("1e308") && !err.contains("0000000000"),
        "{err}"
    );
}
