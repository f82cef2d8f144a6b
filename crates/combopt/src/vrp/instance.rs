//! CVRP instances: the CVRPLIB/VRPLIB text format (reader and writer), the
//! CVRPLIB solution format, and an X-style seeded generator.
//!
//! Format (CVRPLIB, as in Uchoa et al. 2017's X set): `KEY : VALUE` header
//! lines (`NAME`, `COMMENT`, `TYPE`, `DIMENSION`, `EDGE_WEIGHT_TYPE`,
//! `CAPACITY`), then `NODE_COORD_SECTION` (`id x y`), `DEMAND_SECTION`
//! (`id q`), `DEPOT_SECTION` (depot ids ended by `-1`) and `EOF`. Only
//! `EUC_2D` is read, with the CVRPLIB/TSPLIB rounding convention: the cost of
//! an edge is `nint(sqrt(dx^2 + dy^2))`, the Euclidean distance rounded to
//! the nearest integer (the published optima of the A, E, P and X sets use
//! it). Internally the depot is node 0 and the customers keep file order, so
//! with the depot at file id 1 (every CVRPLIB instance) node `i` is file id
//! `i + 1`, the numbering of CVRPLIB `.sol` files.

use std::fmt::Write as _;
use std::path::Path;

use duality_core::{Error, Result};
use rand::Rng;
use serde::{Deserialize, Serialize};

/// Largest number of nodes (depot included) read or generated.
pub const MAX_NODES: usize = 100_000;

/// A CVRP instance: node 0 is the depot.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct VrpInstance {
    name: String,
    coords: Vec<[f64; 2]>,
    demands: Vec<u64>,
    capacity: u64,
    rounded: bool,
}

impl VrpInstance {
    /// Builds an instance from the depot's and customers' coordinates (depot
    /// first), demands (the depot's must be 0) and the vehicle capacity.
    /// `rounded`: edge costs rounded to the nearest integer (CVRPLIB's
    /// `EUC_2D`). Fails naming the bad value: fewer than 2 nodes, more than
    /// [`MAX_NODES`], mismatched lengths, non-finite coordinates, zero
    /// capacity, a customer demand above the capacity or a depot demand.
    pub fn new(
        name: impl Into<String>,
        coords: Vec<[f64; 2]>,
        demands: Vec<u64>,
        capacity: u64,
        rounded: bool,
    ) -> Result<Self> {
        let n = coords.len();
        if !(2..=MAX_NODES).contains(&n) {
            return Err(Error::invalid(
                "nodes (DIMENSION)",
                n,
                format!("between 2 and {MAX_NODES} (depot included)"),
            ));
        }
        duality_core::check::same_len("demands", demands.len(), "coordinates", n)?;
        if capacity == 0 {
            return Err(Error::invalid("CAPACITY", 0, "at least 1"));
        }
        for (i, c) in coords.iter().enumerate() {
            if !(c[0].is_finite() && c[1].is_finite()) {
                return Err(Error::invalid(
                    format!("coordinates of node {}", i + 1),
                    format!("{c:?}"),
                    "finite numbers",
                ));
            }
        }
        if demands[0] != 0 {
            return Err(Error::invalid("depot demand", demands[0], "0"));
        }
        if let Some((i, &q)) = demands.iter().enumerate().find(|(_, &q)| q > capacity) {
            return Err(Error::invalid(
                format!("demand of node {}", i + 1),
                q,
                format!("at most the capacity {capacity} (no vehicle could serve it)"),
            ));
        }
        Ok(VrpInstance {
            name: name.into(),
            coords,
            demands,
            capacity,
            rounded,
        })
    }

    /// The instance name.
    pub fn name(&self) -> &str {
        &self.name
    }
    /// Nodes, depot included.
    pub fn len(&self) -> usize {
        self.coords.len()
    }
    /// Always false (at least the depot and one customer).
    pub fn is_empty(&self) -> bool {
        self.coords.is_empty()
    }
    /// Customers (`len() - 1`).
    pub fn customers(&self) -> usize {
        self.coords.len() - 1
    }
    /// Coordinates, depot first.
    pub fn coords(&self) -> &[[f64; 2]] {
        &self.coords
    }
    /// Demands, depot (0) first.
    pub fn demands(&self) -> &[u64] {
        &self.demands
    }
    /// Demand of node `i`.
    pub fn demand(&self, i: usize) -> u64 {
        self.demands[i]
    }
    /// Vehicle capacity.
    pub fn capacity(&self) -> u64 {
        self.capacity
    }
    /// Whether edge costs are rounded to the nearest integer.
    pub fn rounded(&self) -> bool {
        self.rounded
    }
    /// Edge cost between nodes `a` and `b`.
    #[inline]
    pub fn dist(&self, a: usize, b: usize) -> f64 {
        let (p, q) = (self.coords[a], self.coords[b]);
        let d = (p[0] - q[0]).hypot(p[1] - q[1]);
        if self.rounded {
            (d + 0.5).floor()
        } else {
            d
        }
    }
    /// The lower bound `ceil(sum q / Q)` on the number of routes.
    pub fn min_routes(&self) -> u64 {
        self.demands.iter().sum::<u64>().div_ceil(self.capacity)
    }

    /// The sub-instance on `nodes` (customers of `self`; the depot is added
    /// as node 0), same capacity and rounding.
    pub(crate) fn subset(&self, nodes: &[usize]) -> VrpInstance {
        let mut coords = vec![self.coords[0]];
        let mut demands = vec![0];
        for &v in nodes {
            coords.push(self.coords[v]);
            demands.push(self.demands[v]);
        }
        VrpInstance {
            name: format!("{}-sub", self.name),
            coords,
            demands,
            capacity: self.capacity,
            rounded: self.rounded,
        }
    }
}

/// Parses CVRPLIB text (see the module docs). Fails naming the line or the
/// field on anything it cannot read: a missing section or key, an edge
/// weight type other than `EUC_2D`, several depots, a node listed twice.
pub fn parse_vrp(text: &str) -> Result<VrpInstance> {
    let mut name = String::from("unnamed");
    let mut dimension: Option<usize> = None;
    let mut capacity: Option<u64> = None;
    let mut coords: Vec<Option<[f64; 2]>> = Vec::new();
    let mut demands: Vec<Option<u64>> = Vec::new();
    let mut depots: Vec<usize> = Vec::new();
    #[derive(PartialEq)]
    enum Section {
        Header,
        Coords,
        Demands,
        Depots,
    }
    let mut section = Section::Header;
    let bad = |line: usize, what: &str, got: &str| {
        Error::invalid(format!("line {line}: {what}"), got, "a CVRPLIB value")
    };
    let id_of = |line: usize, tok: &str, dim: usize| -> Result<usize> {
        let id: usize = tok.parse().map_err(|_| bad(line, "node id", tok))?;
        if id == 0 || id > dim {
            return Err(Error::invalid(
                format!("line {line}: node id"),
                id,
                format!("in 1..={dim} (DIMENSION)"),
            ));
        }
        Ok(id - 1)
    };
    for (k, raw) in text.lines().enumerate() {
        let ln = k + 1;
        let line = raw.trim();
        if line.is_empty() {
            continue;
        }
        let upper = line.to_ascii_uppercase();
        let head = upper.split_whitespace().next().unwrap_or("");
        match head {
            "NODE_COORD_SECTION" | "DEMAND_SECTION" | "DEPOT_SECTION" => {
                let dim = dimension.ok_or_else(|| {
                    Error::invalid(
                        format!("line {ln}: {head}"),
                        "before DIMENSION",
                        "DIMENSION first",
                    )
                })?;
                if coords.is_empty() {
                    coords = vec![None; dim];
                    demands = vec![None; dim];
                }
                section = match head {
                    "NODE_COORD_SECTION" => Section::Coords,
                    "DEMAND_SECTION" => Section::Demands,
                    _ => Section::Depots,
                };
                continue;
            }
            "EOF" => break,
            _ => {}
        }
        if section == Section::Header
            || line.contains(':') && !head.starts_with(|c: char| c.is_ascii_digit() || c == '-')
        {
            let (key, value) = line
                .split_once(':')
                .ok_or_else(|| bad(ln, "header line (KEY : VALUE)", line))?;
            let key = key.trim().to_ascii_uppercase();
            let value = value.trim().trim_matches('"').trim();
            match key.as_str() {
                "NAME" => name = value.to_string(),
                "DIMENSION" => {
                    let d: usize = value.parse().map_err(|_| bad(ln, "DIMENSION", value))?;
                    if !(2..=MAX_NODES).contains(&d) {
                        return Err(Error::invalid(
                            "DIMENSION",
                            d,
                            format!("between 2 and {MAX_NODES}"),
                        ));
                    }
                    dimension = Some(d);
                }
                "CAPACITY" => {
                    capacity = Some(value.parse().map_err(|_| bad(ln, "CAPACITY", value))?);
                }
                "EDGE_WEIGHT_TYPE" if !value.eq_ignore_ascii_case("EUC_2D") => {
                    return Err(Error::invalid(
                        "EDGE_WEIGHT_TYPE",
                        value,
                        "EUC_2D (the only type read)",
                    ));
                }
                "TYPE" if !value.eq_ignore_ascii_case("CVRP") => {
                    return Err(Error::invalid("TYPE", value, "CVRP"));
                }
                _ => {} // COMMENT and keys this reader does not need
            }
            continue;
        }
        let dim = coords.len();
        let toks: Vec<&str> = line.split_whitespace().collect();
        match section {
            Section::Coords => {
                if toks.len() < 3 {
                    return Err(bad(ln, "coordinate line (id x y)", line));
                }
                let i = id_of(ln, toks[0], dim)?;
                let x: f64 = toks[1].parse().map_err(|_| bad(ln, "x", toks[1]))?;
                let y: f64 = toks[2].parse().map_err(|_| bad(ln, "y", toks[2]))?;
                if coords[i].replace([x, y]).is_some() {
                    return Err(Error::invalid(
                        format!("line {ln}: node"),
                        i + 1,
                        "listed once",
                    ));
                }
            }
            Section::Demands => {
                if toks.len() < 2 {
                    return Err(bad(ln, "demand line (id q)", line));
                }
                let i = id_of(ln, toks[0], dim)?;
                let q: u64 = toks[1].parse().map_err(|_| bad(ln, "demand", toks[1]))?;
                if demands[i].replace(q).is_some() {
                    return Err(Error::invalid(
                        format!("line {ln}: node"),
                        i + 1,
                        "listed once",
                    ));
                }
            }
            Section::Depots => {
                for t in toks {
                    if t == "-1" {
                        continue;
                    }
                    depots.push(id_of(ln, t, dim)?);
                }
            }
            Section::Header => unreachable!("handled above"),
        }
    }
    let capacity = capacity.ok_or_else(|| Error::invalid("CAPACITY", "missing", "present"))?;
    if coords.is_empty() {
        return Err(Error::invalid("NODE_COORD_SECTION", "missing", "present"));
    }
    let depot = match depots.as_slice() {
        [] => 0,
        [d] => *d,
        more => {
            return Err(Error::invalid(
                "DEPOT_SECTION",
                format!("{} depots", more.len()),
                "one depot",
            ))
        }
    };
    let mut order: Vec<usize> = vec![depot];
    order.extend((0..coords.len()).filter(|&i| i != depot));
    let mut c = Vec::with_capacity(order.len());
    let mut q = Vec::with_capacity(order.len());
    for &i in &order {
        c.push(coords[i].ok_or_else(|| {
            Error::invalid(
                "NODE_COORD_SECTION",
                format!("node {} missing", i + 1),
                "every node",
            )
        })?);
        q.push(demands[i].ok_or_else(|| {
            Error::invalid(
                "DEMAND_SECTION",
                format!("node {} missing", i + 1),
                "every node",
            )
        })?);
    }
    VrpInstance::new(name, c, q, capacity, true)
}

/// Reads a CVRPLIB `.vrp` file (see [`parse_vrp`]).
pub fn read_vrp(path: impl AsRef<Path>) -> Result<VrpInstance> {
    let path = path.as_ref();
    let text = std::fs::read_to_string(path)
        .map_err(|e| Error::wrap(format!("reading {}", path.display()), e))?;
    parse_vrp(&text).map_err(|e| Error::wrap(format!("parsing {}", path.display()), e))
}

/// CVRPLIB text for `instance` (depot written as node 1, coordinates with
/// their shortest exact decimal form).
pub fn write_vrp(instance: &VrpInstance) -> String {
    let mut s = String::new();
    let _ = writeln!(s, "NAME : {}", instance.name);
    let _ = writeln!(s, "COMMENT : written by duality-combopt");
    let _ = writeln!(s, "TYPE : CVRP");
    let _ = writeln!(s, "DIMENSION : {}", instance.len());
    let _ = writeln!(s, "EDGE_WEIGHT_TYPE : EUC_2D");
    let _ = writeln!(s, "CAPACITY : {}", instance.capacity);
    s.push_str("NODE_COORD_SECTION\n");
    for (i, c) in instance.coords.iter().enumerate() {
        let _ = writeln!(s, "{} {} {}", i + 1, c[0], c[1]);
    }
    s.push_str("DEMAND_SECTION\n");
    for (i, q) in instance.demands.iter().enumerate() {
        let _ = writeln!(s, "{} {q}", i + 1);
    }
    s.push_str("DEPOT_SECTION\n 1\n -1\nEOF\n");
    s
}

/// CVRPLIB `.sol` text: `Route #k: customers...` (node ids, depot 0 not
/// written) and `Cost C`.
pub fn write_solution(routes: &[Vec<usize>], cost: f64) -> String {
    let mut s = String::new();
    for (k, r) in routes.iter().enumerate() {
        let ids: Vec<String> = r.iter().map(|v| v.to_string()).collect();
        let _ = writeln!(s, "Route #{}: {}", k + 1, ids.join(" "));
    }
    let _ = writeln!(s, "Cost {cost}");
    s
}

/// Parses CVRPLIB `.sol` text into routes and the stated cost (`None` when
/// there is no `Cost` line).
pub fn parse_solution(text: &str) -> Result<(Vec<Vec<usize>>, Option<f64>)> {
    let mut routes = Vec::new();
    let mut cost = None;
    for (k, line) in text.lines().enumerate() {
        let line = line.trim();
        if let Some(rest) = line.strip_prefix("Route") {
            let (_, ids) = rest
                .split_once(':')
                .ok_or_else(|| Error::invalid(format!("line {}", k + 1), line, "Route #k: ids"))?;
            routes.push(
                ids.split_whitespace()
                    .map(|t| {
                        t.parse::<usize>().map_err(|_| {
                            Error::invalid(format!("line {}: customer", k + 1), t, "an integer")
                        })
                    })
                    .collect::<Result<Vec<_>>>()?,
            );
        } else if let Some(rest) = line.strip_prefix("Cost") {
            let v = rest.trim();
            cost = Some(
                v.parse()
                    .map_err(|_| Error::invalid(format!("line {}: cost", k + 1), v, "a number"))?,
            );
        }
    }
    Ok((routes, cost))
}

/// Where the X generator puts the depot (Uchoa et al. 2017, section 3).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum DepotPosition {
    /// Uniform in the grid.
    #[default]
    Random,
    /// The centre of the grid (500, 500).
    Centre,
    /// The corner (0, 0).
    Eccentric,
}

/// How the X generator places customers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum CustomerPosition {
    /// Uniform in the grid (X's "R").
    #[default]
    Random,
    /// Clustered around `U[3, 8]` seeds with attraction `exp(-d / 40)`
    /// (X's "C").
    Clustered,
    /// Half clustered, half uniform (X's "RC").
    RandomClustered,
}

/// Demand distribution of the X generator.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum DemandDistribution {
    /// Every demand 1.
    Unitary,
    /// Uniform integers in `[lo, hi]`.
    Uniform {
        /// Smallest demand (at least 1).
        lo: u64,
        /// Largest demand.
        hi: u64,
    },
}

impl Default for DemandDistribution {
    fn default() -> Self {
        DemandDistribution::Uniform { lo: 1, hi: 10 }
    }
}

/// An X-style generator (Uchoa, Pecin, Pessoa, Poggi, Vidal & Subramanian
/// 2017, "New benchmark instances for the CVRP", section 3): integer points
/// of the `[0, 1000]^2` grid, the depot and customer positioning and the
/// demand distribution chosen here, and the capacity
/// `Q = ceil(r * sum(q) / n)` for `r` customers per route on average.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct XGenerator {
    /// Customers.
    pub customers: usize,
    /// Depot position.
    pub depot: DepotPosition,
    /// Customer positioning.
    pub placement: CustomerPosition,
    /// Demands.
    pub demand: DemandDistribution,
    /// Average customers per route `r` (capacity scale).
    pub route_size: f64,
}

impl XGenerator {
    /// Uniform depot and customers, demands `U[1, 10]`, 10 customers per
    /// route on average.
    pub fn uniform(customers: usize) -> Self {
        XGenerator {
            customers,
            depot: DepotPosition::Random,
            placement: CustomerPosition::Random,
            demand: DemandDistribution::default(),
            route_size: 10.0,
        }
    }

    /// Draws an instance with `rng` (same seed, same instance). Fails naming
    /// the field on 0 customers, more than [`MAX_NODES`], a route size
    /// outside `[1, customers]` or an empty demand range.
    pub fn generate<R: Rng + ?Sized>(&self, rng: &mut R, name: &str) -> Result<VrpInstance> {
        let n = self.customers;
        if n == 0 || n >= MAX_NODES {
            return Err(Error::invalid(
                "customers",
                n,
                format!("between 1 and {}", MAX_NODES - 1),
            ));
        }
        if !(self.route_size >= 1.0 && self.route_size <= n as f64) {
            return Err(Error::invalid(
                "route_size",
                self.route_size,
                format!("between 1 and the customers ({n})"),
            ));
        }
        if let DemandDistribution::Uniform { lo, hi } = self.demand {
            if lo == 0 || lo > hi {
                return Err(Error::invalid(
                    "demand range",
                    format!("[{lo}, {hi}]"),
                    "1 <= lo <= hi",
                ));
            }
        }
        let grid = |rng: &mut R| {
            [
                rng.random_range(0..=1000) as f64,
                rng.random_range(0..=1000) as f64,
            ]
        };
        let depot = match self.depot {
            DepotPosition::Random => grid(rng),
            DepotPosition::Centre => [500.0, 500.0],
            DepotPosition::Eccentric => [0.0, 0.0],
        };
        let clustered = match self.placement {
            CustomerPosition::Random => 0,
            CustomerPosition::Clustered => n,
            CustomerPosition::RandomClustered => n / 2,
        };
        let mut coords = vec![depot];
        if clustered > 0 {
            let seeds: Vec<[f64; 2]> = (0..rng.random_range(3..=8usize).min(clustered))
                .map(|_| grid(rng))
                .collect();
            coords.extend(seeds.iter().copied());
            // Rejection sampling: accept a grid point with probability
            // min(1, sum_s exp(-d(p, s) / 40)).
            while coords.len() < 1 + clustered {
                let p = grid(rng);
                let w: f64 = seeds
                    .iter()
                    .map(|s| (-((p[0] - s[0]).hypot(p[1] - s[1])) / 40.0).exp())
                    .sum();
                if rng.random::<f64>() < w.min(1.0) {
                    coords.push(p);
                }
            }
        }
        while coords.len() < n + 1 {
            coords.push(grid(rng));
        }
        let mut demands = vec![0u64];
        for _ in 0..n {
            demands.push(match self.demand {
                DemandDistribution::Unitary => 1,
                DemandDistribution::Uniform { lo, hi } => rng.random_range(lo..=hi),
            });
        }
        let total: u64 = demands.iter().sum();
        let capacity = ((self.route_size * total as f64 / n as f64).ceil() as u64)
            .max(*demands.iter().max().unwrap_or(&1));
        VrpInstance::new(name, coords, demands, capacity, true)
    }
}
