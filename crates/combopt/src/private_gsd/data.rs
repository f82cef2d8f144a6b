//! Discrete tabular data: a public domain (attribute names and sizes) and
//! rows of category indices.

use duality_core::{limits, Error, Result};

/// The bundled dataset (`fixtures/combopt/private_gsd/breast_cancer.csv`,
/// exported by `export_breast_cancer.py` from scikit-learn 1.5.2's
/// `load_breast_cancer`: the ten "mean" features in quartile bins and the
/// diagnosis; 569 rows).
pub const BREAST_CANCER_CSV: &str =
    include_str!("../../../../fixtures/combopt/private_gsd/breast_cancer.csv");

/// The largest domain size of one attribute.
pub const MAX_DOMAIN_SIZE: usize = 1 << 16;

/// Attribute names and their (public) numbers of categories.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Domain {
    names: Vec<String>,
    sizes: Vec<usize>,
}

impl Domain {
    /// A domain; every size in `1..=MAX_DOMAIN_SIZE`, at least one attribute.
    pub fn new(names: Vec<String>, sizes: Vec<usize>) -> Result<Self> {
        duality_core::check::same_len("attribute names", names.len(), "domain sizes", sizes.len())?;
        if names.is_empty() {
            return Err(Error::Empty {
                what: "domain".into(),
                min: 1,
            });
        }
        for (name, &s) in names.iter().zip(&sizes) {
            if s == 0 || s > MAX_DOMAIN_SIZE {
                return Err(Error::invalid(
                    format!("domain size of {name}"),
                    s,
                    format!("1..={MAX_DOMAIN_SIZE} categories"),
                ));
            }
        }
        Ok(Self { names, sizes })
    }

    /// Number of attributes.
    pub fn len(&self) -> usize {
        self.sizes.len()
    }

    /// Always false (a domain has at least one attribute).
    pub fn is_empty(&self) -> bool {
        self.sizes.is_empty()
    }

    /// Categories per attribute.
    pub fn sizes(&self) -> &[usize] {
        &self.sizes
    }

    /// Attribute names.
    pub fn names(&self) -> &[String] {
        &self.names
    }
}

/// Rows over a [`Domain`], stored row-major (`rows x attributes`).
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Dataset {
    domain: Domain,
    cells: Vec<u32>,
}

impl Dataset {
    /// A dataset from row-major `cells`; every value must be inside the
    /// domain.
    pub fn new(domain: Domain, cells: Vec<u32>) -> Result<Self> {
        let d = domain.len();
        if cells.len() % d != 0 {
            return Err(Error::invalid(
                "dataset cells",
                cells.len(),
                format!("a multiple of the {d} attributes"),
            ));
        }
        for (i, &v) in cells.iter().enumerate() {
            if v as usize >= domain.sizes[i % d] {
                return Err(Error::invalid(
                    format!("row {} attribute {}", i / d, domain.names[i % d]),
                    v,
                    format!("a category in 0..{}", domain.sizes[i % d]),
                ));
            }
        }
        Ok(Self { domain, cells })
    }

    /// Parses CSV text whose header names each column `name:size` and whose
    /// rows are category indices. Errors carry the line number.
    pub fn parse_csv(text: &str) -> Result<Self> {
        let mut lines = text
            .lines()
            .enumerate()
            .filter(|(_, l)| !l.trim().is_empty());
        let (_, header) = lines.next().ok_or(Error::Empty {
            what: "CSV".into(),
            min: 1,
        })?;
        let mut names = Vec::new();
        let mut sizes = Vec::new();
        for col in header.split(',') {
            let (name, size) = col.trim().rsplit_once(':').ok_or_else(|| {
                Error::parse(
                    "CSV",
                    Some(1),
                    format!("header column {col:?}: expected name:size"),
                )
            })?;
            let size: usize = size.parse().map_err(|_| {
                Error::parse(
                    "CSV",
                    Some(1),
                    format!("header column {col:?}: size {size:?} is not a count"),
                )
            })?;
            names.push(name.to_string());
            sizes.push(size);
        }
        let domain = Domain::new(names, sizes)?;
        let d = domain.len();
        let mut cells = Vec::new();
        for (i, line) in lines {
            let before = cells.len();
            for (j, v) in line.split(',').enumerate() {
                if j >= d {
                    return Err(Error::parse(
                        "CSV",
                        Some(i + 1),
                        format!("more than {d} columns"),
                    ));
                }
                let value: u32 = v.trim().parse().map_err(|_| {
                    Error::parse(
                        "CSV",
                        Some(i + 1),
                        format!("value {v:?} is not a category index"),
                    )
                })?;
                if value as usize >= domain.sizes[j] {
                    return Err(Error::parse(
                        "CSV",
                        Some(i + 1),
                        format!(
                            "{} = {value} outside 0..{}",
                            domain.names[j], domain.sizes[j]
                        ),
                    ));
                }
                cells.push(value);
            }
            if cells.len() - before != d {
                return Err(Error::parse(
                    "CSV",
                    Some(i + 1),
                    format!("{} columns, expected {d}", cells.len() - before),
                ));
            }
        }
        if cells.is_empty() {
            return Err(Error::Empty {
                what: "CSV rows".into(),
                min: 1,
            });
        }
        Ok(Self { domain, cells })
    }

    /// Reads [`Dataset::parse_csv`] from a file.
    pub fn read_csv(path: impl AsRef<std::path::Path>) -> Result<Self> {
        let path = path.as_ref();
        let text = std::fs::read_to_string(path).map_err(|e| Error::io(path, e))?;
        Self::parse_csv(&text).map_err(|e| Error::wrap(format!("reading {}", path.display()), e))
    }

    /// The bundled breast-cancer table ([`BREAST_CANCER_CSV`]).
    pub fn breast_cancer() -> Result<Self> {
        Self::parse_csv(BREAST_CANCER_CSV)
    }

    /// `n` rows drawn uniformly from the domain.
    pub fn uniform(domain: &Domain, n: usize, rng: &mut impl rand::Rng) -> Result<Self> {
        let total = limits::product(&[("synthetic rows", n), ("attributes", domain.len())])?;
        limits::elements::<u32>("synthetic rows x attributes", total)?;
        let d = domain.len();
        let cells = (0..total)
            .map(|i| rng.random_range(0..domain.sizes[i % d] as u32))
            .collect();
        Ok(Self {
            domain: domain.clone(),
            cells,
        })
    }

    /// The domain.
    pub fn domain(&self) -> &Domain {
        &self.domain
    }

    /// Number of rows.
    pub fn rows(&self) -> usize {
        self.cells.len() / self.domain.len()
    }

    /// Row `i`.
    pub fn row(&self, i: usize) -> &[u32] {
        let d = self.domain.len();
        &self.cells[i * d..(i + 1) * d]
    }

    /// All cells, row-major.
    pub fn cells(&self) -> &[u32] {
        &self.cells
    }

    /// Replaces row `i` (crate-internal; values are checked by the caller).
    pub(crate) fn set_row(&mut self, i: usize, row: &[u32]) {
        let d = self.domain.len();
        self.cells[i * d..(i + 1) * d].copy_from_slice(row);
    }

    /// Writes the dataset as CSV in the [`Dataset::parse_csv`] format.
    pub fn to_csv(&self) -> String {
        let mut s: String = self
            .domain
            .names
            .iter()
            .zip(&self.domain.sizes)
            .map(|(n, k)| format!("{n}:{k}"))
            .collect::<Vec<_>>()
            .join(",");
        s.push('\n');
        for i in 0..self.rows() {
            let row: Vec<String> = self.row(i).iter().map(u32::to_string).collect();
            s.push_str(&row.join(","));
            s.push('\n');
        }
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bundled_dataset_parses() {
        let d = Dataset::breast_cancer().unwrap();
        assert_eq!(d.rows(), 569);
        assert_eq!(d.domain().len(), 11);
        assert_eq!(d.domain().sizes()[10], 2);
        // 212 malignant rows in WDBC.
        let malignant = (0..d.rows()).filter(|&i| d.row(i)[10] == 1).count();
        assert_eq!(malignant, 212);
        assert_eq!(Dataset::parse_csv(&d.to_csv()).unwrap(), d);
    }

    #[test]
    fn bad_csv_names_the_line() {
        let e = Dataset::parse_csv("a:2,b:3\n0,1\n1,3\n")
            .unwrap_err()
            .to_string();
        assert!(e.contains("line 3") && e.contains("b = 3"), "{e}");
        let e = Dataset::parse_csv("a:2,b\n0,1\n").unwrap_err().to_string();
        assert!(e.contains("name:size"), "{e}");
        let e = Dataset::parse_csv("a:2,b:2\n0\n").unwrap_err().to_string();
        assert!(e.contains("1 columns"), "{e}");
        assert!(Dataset::parse_csv("a:0\n").is_err());
        assert!(Dataset::parse_csv("a:2\n").is_err());
    }
}
