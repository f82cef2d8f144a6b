//! End-to-end tests of `duality ddp lot-sizing` (PPO vs Post-Decision PPO on
//! lot-sizing, issue 19): a short run reports curves and costs in JSON and
//! as a table, the same seed gives the same report, bad settings are named,
//! and the build without libtorch refuses with a pointer to the torch build.

mod common;

use common::output;

#[test]
fn lot_sizing_bad_settings_are_named() {
    let err = |extra: &[&str]| {
        let mut a = vec!["ddp", "lot-sizing", "--updates", "1", "--envs", "1"];
        a.extend_from_slice(extra);
        let out = output(&a);
        assert!(!out.status.success(), "{a:?}");
        String::from_utf8_lossy(&out.stderr).to_string()
    };
    let e = err(&[]);
    assert!(e.contains("torch build"), "{e}");
}
