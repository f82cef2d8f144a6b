//! End-to-end tests of `duality ddp deep-offline` (deep Dual RL on tch,
//! issue 19): a short run reports a loss curve and a normalised return,
//! the same seed gives the same report, bad settings are named, and the
//! build without libtorch refuses with a pointer to the torch build.

mod common;

use common::output;
#[cfg(feature = "torch")]
use common::run;

#[cfg(feature = "torch")]
fn json(args: &[&str]) -> serde_json::Value {
    let (ok, out, err) = run(args);
    assert!(ok, "{args:?}: {err}");
    serde_json::from_str(&out).unwrap()
}

#[cfg(feature = "torch")]
#[test]
fn deep_offline_reports_a_curve_and_a_return() {
    let args = [
        "ddp",
        "deep-offline",
        "--episodes",
        "30",
        "--steps",
        "50",
        "--batch",
        "64",
        "--eval-episodes",
        "20",
        "--seed",
        "4",
        "--format",
        "json",
    ];
    let v = json(&args);
    assert_eq!(v["stable"], true, "{v}");
    assert_eq!(v["curve"].as_array().unwrap().len(), 2, "{v}");
    let r = v["normalised_return"].as_f64().unwrap();
    assert!(r.is_finite(), "{v}");
    assert_eq!(json(&args)["curve"], v["curve"]);
    let (ok, table, err) = run(&args[..args.len() - 2]);
    assert!(ok, "{err}");
    assert!(
        table.contains("value loss") && table.contains("stable"),
        "{table}"
    );
}

#[test]
fn deep_offline_bad_settings_are_named() {
    let err = |extra: &[&str]| {
        let mut a = vec!["ddp", "deep-offline", "--steps", "5"];
        a.extend_from_slice(extra);
        let out = output(&a);
        assert!(!out.status.success(), "{a:?}");
        String::from_utf8_lossy(&out.stderr).to_string()
    };
    if cfg!(feature = "torch") {
        let e = err(&["--lambda", "1.5"]);
        assert!(e.contains("lambda") && e.contains("1.5"), "{e}");
        let e = err(&["--algo", "cql"]);
        assert!(e.contains("cql"), "{e}");
        let e = err(&["--dataset", "great"]);
        assert!(e.contains("great"), "{e}");
        let e = err(&["--gumbel-clip", "7"]);
        assert!(e.contains("--gumbel-clip"), "{e}");
        let e = err(&["--episodes", "1e12"]);
        assert!(e.contains("1e12"), "{e}");
        let e = err(&["--episodes", "1000000000"]);
        assert!(e.contains("episodes"), "{e}");
    } else {
        let e = err(&[]);
        assert!(e.contains("torch build"), "{e}");
    }
}
