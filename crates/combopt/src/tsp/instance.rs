//! TSP instances: coordinates with a TSPLIB distance function, or an explicit matrix.
//!
//! Distances follow the TSPLIB 95 specification (Reinelt 1995, section 2):
//! `EUC_2D` rounds the Euclidean distance to the nearest integer, `CEIL_2D`
//! rounds it up, `ATT` is the pseudo-Euclidean distance of the `att*`
//! instances and `GEO` the geographical distance on an idealised sphere.
//! [`Metric::Euclidean`] (no rounding) is used for random uniform instances.

use duality_core::{Error, Result};
use rand::Rng;
use serde::{Deserialize, Serialize};

/// How the distance between two cities is computed. `Display` writes the
/// TSPLIB `EDGE_WEIGHT_TYPE` keyword (`EUCLIDEAN` for [`Metric::Euclidean`],
/// which is not a TSPLIB type); `FromStr` reads the five TSPLIB keywords.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub enum Metric {
    /// Exact Euclidean distance (not a TSPLIB type; for random instances).
    Euclidean,
    /// TSPLIB `EUC_2D`: `nint(sqrt(dx^2 + dy^2))`.
    Euc2d,
    /// TSPLIB `CEIL_2D`: `ceil(sqrt(dx^2 + dy^2))`.
    Ceil2d,
    /// TSPLIB `ATT` pseudo-Euclidean distance.
    Att,
    /// TSPLIB `GEO` geographical distance (coordinates are DDD.MM degrees).
    Geo,
    /// TSPLIB `EXPLICIT`: a full matrix is given.
    Explicit,
}

impl std::fmt::Display for Metric {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Metric::Euclidean => "EUCLIDEAN",
            Metric::Euc2d => "EUC_2D",
            Metric::Ceil2d => "CEIL_2D",
            Metric::Att => "ATT",
            Metric::Geo => "GEO",
            Metric::Explicit => "EXPLICIT",
        })
    }
}

impl std::str::FromStr for Metric {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        Ok(match s {
            "EUC_2D" => Metric::Euc2d,
            "CEIL_2D" => Metric::Ceil2d,
            "ATT" => Metric::Att,
            "GEO" => Metric::Geo,
            "EXPLICIT" => Metric::Explicit,
            other => {
                return Err(Error::invalid(
                    "EDGE_WEIGHT_TYPE",
                    other,
                    "one of EUC_2D, CEIL_2D, ATT, GEO, EXPLICIT",
                ))
            }
        })
    }
}

impl Metric {
    /// Whether coordinates are planar so a k-d tree gives exact neighbour order
    /// (GEO and explicit matrices fall back to scanning).
    pub fn is_planar(self) -> bool {
        matches!(
            self,
            Metric::Euclidean | Metric::Euc2d | Metric::Ceil2d | Metric::Att
        )
    }
}

/// TSPLIB `nint`: round half up, as the C reference `(int)(x + 0.5)`.
#[inline]
fn nint(x: f64) -> f64 {
    (x + 0.5).floor()
}

/// Latitude/longitude in radians from TSPLIB `DDD.MM` degrees (TSPLIB 95, GEO).
fn geo_radians(x: f64) -> f64 {
    // TSPLIB's reference code truncates pi to 3.141592 on purpose.
    #[allow(clippy::approx_constant)]
    const PI: f64 = 3.141592;
    let deg = x.trunc();
    let min = x - deg;
    PI * (deg + 5.0 * min / 3.0) / 180.0
}

/// A symmetric TSP instance.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Instance {
    /// Instance name (TSPLIB `NAME`).
    pub name: String,
    metric: Metric,
    coords: Vec<[f64; 2]>,
    /// Row-major `n x n` matrix, only for [`Metric::Explicit`].
    matrix: Vec<f64>,
}

impl Instance {
    /// An instance from coordinates and a coordinate metric.
    ///
    /// Fails on fewer than 3 cities, a non-finite coordinate (naming it), or
    /// [`Metric::Explicit`] (use [`Instance::from_matrix`]).
    pub fn from_coords(
        name: impl Into<String>,
        coords: Vec<[f64; 2]>,
        metric: Metric,
    ) -> Result<Self> {
        if metric == Metric::Explicit {
            return Err(Error::invalid(
                "metric",
                "EXPLICIT",
                "a coordinate metric (use Instance::from_matrix for matrices)",
            ));
        }
        if coords.len() < 3 {
            return Err(Error::invalid(
                "number of cities",
                coords.len(),
                "at least 3",
            ));
        }
        for (i, c) in coords.iter().enumerate() {
            for (k, v) in c.iter().enumerate() {
                if !v.is_finite() {
                    return Err(Error::invalid(
                        format!("coords[{i}][{}]", if k == 0 { "x" } else { "y" }),
                        v,
                        "a finite coordinate",
                    ));
                }
            }
        }
        Ok(Instance {
            name: name.into(),
            metric,
            coords,
            matrix: Vec::new(),
        })
    }

    /// An instance from a full symmetric `n x n` distance matrix (rows).
    ///
    /// Fails on non-square or asymmetric matrices, negative or non-finite
    /// entries, naming the entry.
    pub fn from_matrix(name: impl Into<String>, rows: &[Vec<f64>]) -> Result<Self> {
        let n = rows.len();
        if n < 3 {
            return Err(Error::invalid("number of cities", n, "at least 3"));
        }
        let mut matrix = Vec::with_capacity(n * n);
        for (i, row) in rows.iter().enumerate() {
            if row.len() != n {
                return Err(Error::Shape {
                    what: format!("distance matrix row {i}"),
                    expected: vec![n],
                    got: vec![row.len()],
                });
            }
            for (j, &v) in row.iter().enumerate() {
                if !v.is_finite() || v < 0.0 {
                    return Err(Error::invalid(
                        format!("matrix[{i}][{j}]"),
                        v,
                        "a finite distance >= 0",
                    ));
                }
            }
            matrix.extend_from_slice(row);
        }
        for i in 0..n {
            for j in 0..i {
                if matrix[i * n + j] != matrix[j * n + i] {
                    return Err(Error::invalid(
                        format!("matrix[{i}][{j}]"),
                        matrix[i * n + j],
                        format!(
                            "a symmetric matrix (matrix[{j}][{i}] = {})",
                            matrix[j * n + i]
                        ),
                    ));
                }
            }
        }
        Ok(Instance {
            name: name.into(),
            metric: Metric::Explicit,
            coords: Vec::new(),
            matrix,
        })
    }

    /// `n` cities uniform in the unit square, exact Euclidean distances.
    pub fn random_uniform<R: Rng + ?Sized>(n: usize, rng: &mut R) -> Result<Self> {
        if n < 3 {
            return Err(Error::invalid("number of cities", n, "at least 3"));
        }
        let coords = (0..n)
            .map(|_| [rng.random::<f64>(), rng.random::<f64>()])
            .collect();
        Self::from_coords(format!("uniform{n}"), coords, Metric::Euclidean)
    }

    /// Number of cities.
    pub fn len(&self) -> usize {
        if self.metric == Metric::Explicit {
            // Square matrix by construction.
            (self.matrix.len() as f64).sqrt().round() as usize
        } else {
            self.coords.len()
        }
    }

    /// Always false: instances have at least 3 cities.
    pub fn is_empty(&self) -> bool {
        false
    }

    /// The distance metric.
    pub fn metric(&self) -> Metric {
        self.metric
    }

    /// City coordinates (empty for explicit matrices).
    pub fn coords(&self) -> &[[f64; 2]] {
        &self.coords
    }

    /// The explicit matrix, row-major (empty for coordinate instances).
    pub fn matrix(&self) -> &[f64] {
        &self.matrix
    }

    /// Distance between cities `i` and `j` (0-based; callers pass valid indices).
    #[inline]
    pub fn dist(&self, i: usize, j: usize) -> f64 {
        match self.metric {
            Metric::Explicit => {
                let n = self.len();
                self.matrix[i * n + j]
            }
            Metric::Geo => {
                if i == j {
                    return 0.0;
                }
                const RRR: f64 = 6378.388;
                let [xi, yi] = self.coords[i];
                let [xj, yj] = self.coords[j];
                let (lat_i, lon_i) = (geo_radians(xi), geo_radians(yi));
                let (lat_j, lon_j) = (geo_radians(xj), geo_radians(yj));
                let q1 = (lon_i - lon_j).cos();
                let q2 = (lat_i - lat_j).cos();
                let q3 = (lat_i + lat_j).cos();
                let arg = (0.5 * ((1.0 + q1) * q2 - (1.0 - q1) * q3)).clamp(-1.0, 1.0);
                (RRR * arg.acos() + 1.0).trunc()
            }
            metric => {
                let [xi, yi] = self.coords[i];
                let [xj, yj] = self.coords[j];
                let (dx, dy) = (xi - xj, yi - yj);
                match metric {
                    Metric::Euclidean => (dx * dx + dy * dy).sqrt(),
                    Metric::Euc2d => nint((dx * dx + dy * dy).sqrt()),
                    Metric::Ceil2d => (dx * dx + dy * dy).sqrt().ceil(),
                    Metric::Att => {
                        let r = ((dx * dx + dy * dy) / 10.0).sqrt();
                        let t = nint(r);
                        if t < r {
                            t + 1.0
                        } else {
                            t
                        }
                    }
                    Metric::Geo | Metric::Explicit => unreachable!("handled above"),
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tsplib_distance_functions() {
        let c = vec![[0.0, 0.0], [3.0, 4.4], [1.0, 1.0]];
        let e = Instance::from_coords("t", c.clone(), Metric::Euc2d).unwrap();
        assert_eq!(e.dist(0, 1), 5.0); // sqrt(9+19.36)=5.325 -> 5
        let ce = Instance::from_coords("t", c.clone(), Metric::Ceil2d).unwrap();
        assert_eq!(ce.dist(0, 1), 6.0);
        let att = Instance::from_coords("t", c.clone(), Metric::Att).unwrap();
        // r = sqrt(28.36/10)=1.684, nint=2 >= r -> 2
        assert_eq!(att.dist(0, 1), 2.0);
        let ex = Instance::from_coords("t", c, Metric::Euclidean).unwrap();
        assert!((ex.dist(0, 2) - 2f64.sqrt()).abs() < 1e-12);
    }

    #[test]
    fn geo_distance_matches_tsplib_formula() {
        // Two points of burma14 (16.47 96.10) and (16.47 94.44): 153 in TSPLIB.
        let g = Instance::from_coords(
            "burma",
            vec![[16.47, 96.10], [16.47, 94.44], [20.09, 92.54]],
            Metric::Geo,
        )
        .unwrap();
        assert_eq!(g.dist(0, 1), 153.0);
        assert_eq!(g.dist(0, 2), 510.0);
    }

    #[test]
    fn bad_input_names_value() {
        let err = Instance::from_coords(
            "t",
            vec![[0.0, 0.0], [f64::NAN, 1.0], [1.0, 1.0]],
            Metric::Euc2d,
        )
        .unwrap_err()
        .to_string();
        assert!(err.contains("coords[1][x]") && err.contains("NaN"), "{err}");
        let err = Instance::from_matrix("m", &[vec![0.0, 1.0], vec![1.0, 0.0, 2.0], vec![0.0; 3]])
            .unwrap_err()
            .to_string();
        assert!(err.contains("row 0") || err.contains("at least"), "{err}");
        let err = Instance::from_matrix(
            "m",
            &[
                vec![0.0, 1.0, 2.0],
                vec![1.0, 0.0, 2.0],
                vec![2.0, 3.0, 0.0],
            ],
        )
        .unwrap_err()
        .to_string();
        assert!(err.contains("matrix[2][1]"), "{err}");
    }
}
