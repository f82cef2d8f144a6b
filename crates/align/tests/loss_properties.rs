//! Property tests of the loss family's invariants.

use duality_align::loss::{loss_values, Loss, LossConfig, LossKind, PairLogProbs};
use proptest::prelude::*;

fn logp() -> impl Strategy<Value = f64> {
    -500.0..-1e-6f64
}

fn loss(kind: LossKind, beta: f64) -> Loss {
    LossConfig::new(kind, beta).check().unwrap()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn losses_are_finite_and_reduce_to_dpo(
        pc in logp(), pr in logp(), rc in logp(), rr in logp(),
        beta in 0.01..10.0f64, e in 0.0..0.49f64,
        nc in 1.0..50.0f64, nr in 1.0..50.0f64,
    ) {
        let pairs = PairLogProbs::from_slices(&[pc], &[pr], &[rc], &[rr], Some((&[nc], &[nr]))).unwrap();
        for name in ["dpo", "cdpo", "ipo", "slic", "slic-hf", "robust", "simpo", "orpo"] {
            let kind: LossKind = name.parse().unwrap();
            let l = LossConfig::new(kind, beta).label_smoothing(e).check().unwrap();
            let v = loss_values(&l, &pairs).unwrap();
            prop_assert!(v[0].is_finite(), "{:?} gave {}", kind, v[0]);
        }
        let plain = PairLogProbs::from_slices(&[pc], &[pr], &[rc], &[rr], None).unwrap();
        let dpo = loss_values(&loss(LossKind::Dpo, beta), &plain).unwrap()[0];
        prop_assert!(dpo >= 0.0);
        for kind in [LossKind::Cdpo, LossKind::Robust] {
            let v = loss_values(&loss(kind, beta), &plain).unwrap()[0];
            prop_assert!((v - dpo).abs() <= 1e-9 * (1.0 + dpo.abs()));
        }
        // Swapping chosen and rejected: DPO(h) - DPO(-h) = -beta h.
        let swapped = PairLogProbs::from_slices(&[pr], &[pc], &[rr], &[rc], None).unwrap();
        let back = loss_values(&loss(LossKind::Dpo, beta), &swapped).unwrap()[0];
        let h = (pc - rc) - (pr - rr);
        prop_assert!((dpo - back + beta * h).abs() <= 1e-7 * (1.0 + (beta * h).abs()));
    }
}
