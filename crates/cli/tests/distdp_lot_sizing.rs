//! End-to-end tests of `duality ddp lot-sizing` (PPO vs Post-Decision PPO on
//! lot-sizing, issue 19): a short run reports curves and costs in JSON and
//! as a table, the same seed gives the same report, bad settings are named,
//! and the build without libtorch refuses with a pointer to the torch build.

mod common;

use common::{output, run};

#[cfg(feature = "torch")]
#[test]
fn lot_sizing_reports_curves_and_costs() {
    let args = [
        "ddp",
        "lot-sizing",
        "--updates",
        "2",
        "--envs",
        "2",
        "--epochs",
        "1",
        "--eval-episodes",
        "3",
        "--seed",
        "4",
        "--format",
        "json",
    ];
    let json = |a: &[&str]| -> serde_json::Value {
        let (ok, out, err) = run(a);
        assert!(ok, "{a:?}: {err}");
        serde_json::from_str(&out).unwrap()
    };
    let v = json(&args);
    let results = v["results"].as_array().unwrap();
    assert_eq!(results.len(), 2, "{v}");
    assert_eq!(results[0]["algo"], "ppo");
    assert_eq!(results[1]["algo"], "pdppo");
    for r in results {
        assert_eq!(r["curve"].as_array().unwrap().len(), 2, "{v}");
        assert!(r["final_cost"].as_f64().unwrap().is_finite(), "{v}");
    }
    assert_eq!(v["curve"], json(&args)["curve"]);
    assert_eq!(json(&args)["results"], v["results"]);
    let (ok, table, err) = run(&args[..args.len() - 2]);
    assert!(ok, "{err}");
    assert!(
        table.contains("pdppo") && table.contains("final cost"),
        "{table}"
    );
}

#[test]
fn lot_sizing_bad_settings_are_named() {
    let err = |extra: &[&str]| {
        let mut a = vec!["ddp", "lot-sizing", "--updates", "1", "--envs", "1"];
        a.extend_from_slice(extra);
        let out = output(&a);
        assert!(!out.status.success(), "{a:?}");
        String::from_utf8_lossy(&out.stderr).to_string()
    };
    if cfg!(feature = "torch") {
        let e = err(&["--algo", "trpo"]);
        assert!(e.contains("trpo"), "{e}");
        let e = err(&["--lambda", "1.5"]);
        assert!(e.contains("lambda") && e.contains("1.5"), "{e}");
        let e = err(&["--eval-episodes", "0"]);
        assert!(e.contains("eval-episodes"), "{e}");
        let e = err(&["--config", "/nonexistent/lot.toml"]);
        assert!(e.contains("lot.toml"), "{e}");
    } else {
        let e = err(&[]);
        assert!(e.contains("torch build"), "{e}");
    }
}
