//! Every committed corpus input (crash regressions included) runs clean,
//! and so do 64 seeded mutations per target: the part of the fuzzing that
//! `cargo test` runs on stable (`cargo xtask test` runs more).

use std::time::Duration;

use duality_fuzz::{corpus, corpus_root, install_hook, replay, targets, Budget};

#[test]
fn every_target_has_a_corpus_and_no_findings() {
    install_hook();
    duality_core::limits::set_memory_budget(duality_fuzz::FUZZ_MEMORY_BUDGET);
    let mut failures = Vec::new();
    for t in targets() {
        let inputs = corpus(&corpus_root(), t.name).unwrap();
        assert!(!inputs.is_empty(), "no corpus for {}", t.name);
        let s = replay(
            t,
            &inputs,
            Budget::Inputs(64),
            1,
            Duration::from_secs(30),
            None,
        )
        .unwrap();
        assert_eq!(s.replayed, inputs.len());
        for f in s.findings {
            failures.push(format!(
                "{} {}: {} (input {:?})",
                t.name,
                f.file_name(),
                f.kind,
                String::from_utf8_lossy(&f.input)
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn mutations_are_deterministic() {
    let corpus = vec![("a".to_string(), b"a,b\n1,2\n".to_vec())];
    let mut m1 = duality_fuzz::Mutator::new(9);
    let mut m2 = duality_fuzz::Mutator::new(9);
    for _ in 0..50 {
        assert_eq!(m1.next(&corpus), m2.next(&corpus));
    }
}

#[test]
fn a_panicking_input_is_a_finding() {
    install_hook();
    let t = duality_fuzz::Target {
        name: "test",
        about: "panics on 'x'",
        run: |d| {
            assert!(!d.contains(&b'x'), "found x");
            Ok(true)
        },
    };
    let f = duality_fuzz::check_one(&t, b"abc", Duration::from_secs(5));
    assert!(f.is_none());
    let f = duality_fuzz::check_one(&t, b"xyz", Duration::from_secs(5)).unwrap();
    assert!(
        matches!(&f.kind, duality_fuzz::FindingKind::Panic(m) if m.contains("found x")),
        "{:?}",
        f.kind
    );
}
