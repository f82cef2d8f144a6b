//! End-to-end tests of `duality ddp deep-offline` (deep Dual RL on tch,
//! issue 19): a short run reports a loss curve and a normalised return,
//! the same seed gives the same report, bad settings are named, and the
//! build without libtorch refuses with a pointer to the torch build.

mod common;

use common::output;

#[test]
fn deep_offline_bad_settings_are_named() {
    let err = |extra: &[&str]| {
        let mut a = vec!["ddp", "deep-offline", "--steps", "5"];
        a.extend_from_slice(extra);
        let out = output(&a);
        assert!(!out.status.success(), "{a:?}");
        String::from_utf8_lossy(&out.stderr).to_string()
    };
    let e = err(&[]);
    assert!(e.contains("torch build"), "{e}");
}
