//! Hostile input to DAG learning (issue #25): sizes refused before
//! allocating, non-finite thresholds refused, overflow reported by name.

use super::*;
use rand::SeedableRng;

fn sample(d: usize, n: usize, scale: f64) -> Vec<f64> {
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(3);
    let truth = random_dag(d, d, GraphType::ErdosRenyi, &mut rng).unwrap();
    let x = simulate_linear_sem(&truth, n, Noise::Gaussian, &mut rng).unwrap();
    x.into_iter().map(|v| v * scale).collect()
}

#[test]
fn a_wide_file_is_refused_before_allocating_its_matrices() {
    // One row of 100,000 columns: no covariance from one sample.
    let e = Data::new(&vec![1.0; 100_000], 100_000)
        .unwrap_err()
        .to_string();
    assert!(e.contains("samples") && e.contains("100000"), "{e}");
    let e = Data::from_rows(&[vec![1.0; 100_000]])
        .unwrap_err()
        .to_string();
    assert!(e.contains("samples"), "{e}");
    // Two rows: 100,000 x 100,000 matrices exceed any memory budget.
    let e = Data::new(&vec![1.0; 200_000], 100_000)
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("100000 variables") && e.contains("memory"),
        "{e}"
    );
    // d^2 that overflows a 64-bit size is an error, not a wrap.
    let e = matrix_bytes(usize::MAX).unwrap_err().to_string();
    assert!(e.contains("variables x variables"), "{e}");
}

#[test]
fn thresholds_must_be_finite_and_non_negative() {
    let data = Data::new(&sample(4, 50, 1.0), 4).unwrap();
    for t in [f64::NAN, -1.0, f64::INFINITY] {
        let tp = TopoParams::default().with_w_threshold(Some(t));
        let e = topo(&data, &[0, 1, 2, 3], &tp).unwrap_err().to_string();
        assert!(e.contains("w_threshold"), "TOPO {t}: {e}");
        let np = NotearsParams::default().with_w_threshold(t);
        let e = notears(&data, &np).unwrap_err().to_string();
        assert!(e.contains("w_threshold"), "NOTEARS {t}: {e}");
    }
}

#[test]
fn overflowing_data_is_an_error_naming_the_quantity() {
    // Values near 1e200 overflow the covariance.
    let e = Data::new(&sample(4, 50, 1e200), 4).unwrap_err().to_string();
    assert!(
        e.contains("covariance of data columns") && e.contains("rescale"),
        "{e}"
    );
    // Near the edge: either a finite fit or an error that names what overflowed.
    let data = Data::new(&sample(4, 50, 1e152), 4).unwrap();
    for fit in [
        notears(&data, &NotearsParams::default()),
        topo(&data, &[0, 1, 2, 3], &TopoParams::default()).map(|t| t.fit),
    ] {
        match fit {
            Ok(f) => {
                assert!(f.loss.is_finite() && f.w.w.iter().all(|v| v.is_finite()));
            }
            Err(e) => {
                let e = e.to_string();
                assert!(
                    e.contains("loss") || e.contains("weight") || e.contains("h(W)"),
                    "{e}"
                );
            }
        }
    }
}
