//! Compressed sparse row matrices, for iterative solvers on large sparse
//! systems (bandits' SOR tuning on 2-D Laplacians).

use serde::{Deserialize, Serialize};

use crate::check;
use crate::error::{Error, Result};

/// A square sparse matrix in compressed sparse row (CSR) form.
///
/// Column indices within a row are sorted and unique; the diagonal is also
/// kept as a dense vector (zero where the matrix has no diagonal entry),
/// because splitting methods (Jacobi, Gauss-Seidel, SOR) divide by it in
/// their inner loop.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CsrMatrix {
    n: usize,
    indptr: Vec<usize>,
    indices: Vec<usize>,
    values: Vec<f64>,
    diag: Vec<f64>,
}

impl CsrMatrix {
    /// Builds an `n x n` matrix from `(row, col, value)` triplets.
    /// Duplicates are summed (the usual COO -> CSR convention, as in scipy).
    ///
    /// # Errors
    /// `n == 0`, an index outside `0..n` or a non-finite value; the message
    /// names the offending triplet.
    pub fn from_triplets(n: usize, triplets: &[(usize, usize, f64)]) -> Result<Self> {
        check::at_least("matrix size", n, 1)?;
        let mut rows: Vec<Vec<(usize, f64)>> = vec![Vec::new(); n];
        for (k, &(i, j, v)) in triplets.iter().enumerate() {
            if i >= n || j >= n {
                return Err(Error::invalid(
                    format!("triplets[{k}]"),
                    format!("({i}, {j})"),
                    format!("indices < {n}"),
                ));
            }
            check::finite_scalar(&format!("triplets[{k}].value"), v)?;
            rows[i].push((j, v));
        }
        let mut indptr = Vec::with_capacity(n + 1);
        indptr.push(0);
        let mut indices = Vec::with_capacity(triplets.len());
        let mut values = Vec::with_capacity(triplets.len());
        let mut diag = vec![0.0; n];
        for (i, mut row) in rows.into_iter().enumerate() {
            // A stable sort keeps duplicates in input order, so their sum is
            // the same for the same triplets.
            row.sort_by_key(|&(j, _)| j);
            let mut last: Option<usize> = None;
            for (j, v) in row {
                if last == Some(j) {
                    if let Some(x) = values.last_mut() {
                        *x += v;
                    }
                } else {
                    indices.push(j);
                    values.push(v);
                    last = Some(j);
                }
            }
            indptr.push(indices.len());
            for p in indptr[i]..indptr[i + 1] {
                if indices[p] == i {
                    diag[i] = values[p];
                }
            }
        }
        Ok(CsrMatrix {
            n,
            indptr,
            indices,
            values,
            diag,
        })
    }

    /// Size `n` of the `n x n` matrix.
    pub fn n(&self) -> usize {
        self.n
    }

    /// Number of stored entries.
    pub fn nnz(&self) -> usize {
        self.values.len()
    }

    /// Row `i` as (sorted column indices, values). Panics only for `i >= n`,
    /// which callers iterate as `0..n()`.
    pub fn row(&self, i: usize) -> (&[usize], &[f64]) {
        let span = self.indptr[i]..self.indptr[i + 1];
        (&self.indices[span.clone()], &self.values[span])
    }

    /// The diagonal (zero where no entry is stored).
    pub fn diagonal(&self) -> &[f64] {
        &self.diag
    }

    /// `y = A x`.
    ///
    /// # Errors
    /// `x` or `y` not of length `n`.
    pub fn matvec(&self, x: &[f64], y: &mut [f64]) -> Result<()> {
        check::same_len("x", x.len(), "matrix size", self.n)?;
        check::same_len("y", y.len(), "matrix size", self.n)?;
        for (i, yi) in y.iter_mut().enumerate() {
            let (cols, vals) = self.row(i);
            *yi = cols.iter().zip(vals).map(|(&j, &v)| v * x[j]).sum();
        }
        Ok(())
    }

    /// Dense row-major copy (`n * n` values).
    pub fn to_dense(&self) -> Vec<f64> {
        let mut a = vec![0.0; self.n * self.n];
        for i in 0..self.n {
            let (cols, vals) = self.row(i);
            for (&j, &v) in cols.iter().zip(vals) {
                a[i * self.n + j] = v;
            }
        }
        a
    }

    /// `A + c I`. A missing diagonal entry is inserted.
    ///
    /// # Errors
    /// A non-finite `c`.
    pub fn shifted(&self, c: f64) -> Result<Self> {
        check::finite_scalar("shift c", c)?;
        if (0..self.n).all(|i| self.row(i).0.binary_search(&i).is_ok()) {
            let mut m = self.clone();
            for i in 0..m.n {
                let (cols, _) = self.row(i);
                if let Ok(k) = cols.binary_search(&i) {
                    let p = m.indptr[i] + k;
                    m.values[p] += c;
                    m.diag[i] = m.values[p];
                }
            }
            return Ok(m);
        }
        let mut t = Vec::with_capacity(self.nnz() + self.n);
        for i in 0..self.n {
            let (cols, vals) = self.row(i);
            t.extend(cols.iter().zip(vals).map(|(&j, &v)| (i, j, v)));
            t.push((i, i, c));
        }
        CsrMatrix::from_triplets(self.n, &t)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn triplets_sum_duplicates_and_sort_columns() {
        let a = CsrMatrix::from_triplets(2, &[(0, 1, 2.0), (0, 0, 1.0), (0, 1, 3.0), (1, 1, 4.0)])
            .unwrap();
        assert_eq!(a.row(0), (&[0, 1][..], &[1.0, 5.0][..]));
        assert_eq!(a.diagonal(), &[1.0, 4.0]);
        assert_eq!(a.to_dense(), vec![1.0, 5.0, 0.0, 4.0]);
        let mut y = vec![0.0; 2];
        a.matvec(&[1.0, 1.0], &mut y).unwrap();
        assert_eq!(y, vec![6.0, 4.0]);
    }

    #[test]
    fn shift_inserts_missing_diagonal() {
        let a = CsrMatrix::from_triplets(2, &[(0, 1, 2.0), (1, 1, 4.0)]).unwrap();
        let b = a.shifted(0.5).unwrap();
        assert_eq!(b.to_dense(), vec![0.5, 2.0, 0.0, 4.5]);
        assert_eq!(b.diagonal(), &[0.5, 4.5]);
    }

    #[test]
    fn bad_input_is_named() {
        let e = CsrMatrix::from_triplets(2, &[(0, 2, 1.0)]).unwrap_err();
        assert!(e.to_string().contains("triplets[0]"), "{e}");
        let e = CsrMatrix::from_triplets(2, &[(0, 0, f64::NAN)]).unwrap_err();
        assert!(e.to_string().contains("triplets[0].value"), "{e}");
        let a = CsrMatrix::from_triplets(2, &[(0, 0, 1.0)]).unwrap();
        assert!(a.matvec(&[1.0], &mut [0.0; 2]).is_err());
    }
}
