//! The reachability network: hosts with a role, an exposure and a protection
//! flag, directed edges with a weight, and the compressed sparse row (CSR)
//! adjacency the engine walks.

use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::fmt;

/// What a host is. Roles drive the "all except hypervisors" policy and the
/// per-role infection probabilities in the report.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Role {
    Hypervisor,
    Vm,
    Server,
    Workstation,
    DomainController,
}

impl Role {
    pub const ALL: [Role; 5] = [
        Role::Hypervisor,
        Role::Vm,
        Role::Server,
        Role::Workstation,
        Role::DomainController,
    ];

    /// The spelling used in input files and reports.
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Hypervisor => "hypervisor",
            Role::Vm => "vm",
            Role::Server => "server",
            Role::Workstation => "workstation",
            Role::DomainController => "domain-controller",
        }
    }

    /// Parses a role as written in a hosts file; case-insensitive, with the
    /// common short forms admins write (`dc`, `hyper-v`, `guest`).
    pub fn parse(text: &str) -> Option<Role> {
        let t = text.trim().to_ascii_lowercase();
        Some(match t.as_str() {
            "hypervisor" | "hyper-v" | "hyperv" | "host" => Role::Hypervisor,
            "vm" | "guest" | "virtual-machine" => Role::Vm,
            "server" => Role::Server,
            "workstation" | "client" => Role::Workstation,
            "domain-controller" | "dc" | "domaincontroller" => Role::DomainController,
            _ => return None,
        })
    }

    pub fn index(self) -> usize {
        self as usize
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The values the `role` column accepts, for error messages.
pub const ROLE_CHOICES: &str = "hypervisor, vm, server, workstation or domain-controller";

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Host {
    pub id: String,
    pub role: Role,
    /// Free text such as `internet-facing`, `dmz`, `vpn`; empty, `none` and
    /// `internal` mean not exposed.
    #[serde(default)]
    pub exposure: String,
    /// Whether the host runs anti-virus today (the "as-is" policy).
    #[serde(default)]
    pub protected: bool,
}

impl Host {
    /// Exposed hosts are where an attacker gets a foothold first; they are the
    /// starting points with `--start exposed`.
    pub fn is_exposed(&self) -> bool {
        let e = self.exposure.trim();
        !(e.is_empty() || e.eq_ignore_ascii_case("none") || e.eq_ignore_ascii_case("internal"))
    }
}

/// A directed reachability edge between host indexes: `from` can reach `to`.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Edge {
    pub from: u32,
    pub to: u32,
    /// Multiplies the transmission rate along this edge (1.0 by default).
    pub weight: f64,
}

/// Hosts and edges. Host ids are matched case-insensitively, as Windows
/// computer names are.
#[derive(Debug, Clone, Default)]
pub struct Network {
    hosts: Vec<Host>,
    edges: Vec<Edge>,
    index: HashMap<String, u32>,
}

#[derive(Debug, thiserror::Error, PartialEq)]
pub enum NetworkError {
    #[error("duplicate host id {0:?} (host ids are case-insensitive)")]
    DuplicateHost(String),
    #[error("too many hosts (the engine indexes hosts with 32 bits)")]
    TooManyHosts,
    #[error("host index {0} out of range")]
    BadIndex(u32),
    #[error("edge weight {0} is not a finite number >= 0")]
    BadWeight(f64),
    #[error("an edge from a host to itself ({0:?}) means nothing for spreading")]
    SelfLoop(String),
}

fn key(id: &str) -> String {
    id.trim().to_lowercase()
}

impl Network {
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds a host and returns its index.
    pub fn add_host(&mut self, host: Host) -> Result<u32, NetworkError> {
        let k = key(&host.id);
        if self.index.contains_key(&k) {
            return Err(NetworkError::DuplicateHost(host.id));
        }
        let idx = u32::try_from(self.hosts.len()).map_err(|_| NetworkError::TooManyHosts)?;
        if idx == u32::MAX {
            return Err(NetworkError::TooManyHosts);
        }
        self.index.insert(k, idx);
        self.hosts.push(host);
        Ok(idx)
    }

    /// Adds a directed edge. Repeated edges between the same pair are kept as
    /// separate paths (e.g. SMB and RDP): their rates add up in the engine.
    pub fn add_edge(&mut self, from: u32, to: u32, weight: f64) -> Result<(), NetworkError> {
        let n = self.hosts.len();
        for i in [from, to] {
            if i as usize >= n {
                return Err(NetworkError::BadIndex(i));
            }
        }
        if !(weight.is_finite() && weight >= 0.0) {
            return Err(NetworkError::BadWeight(weight));
        }
        if from == to {
            let id = self
                .hosts
                .get(from as usize)
                .map(|h| h.id.clone())
                .unwrap_or_default();
            return Err(NetworkError::SelfLoop(id));
        }
        self.edges.push(Edge { from, to, weight });
        Ok(())
    }

    /// Sets a host's exposure (generators mark internet-facing hosts).
    pub fn set_exposure(&mut self, idx: u32, exposure: &str) {
        if let Some(h) = self.hosts.get_mut(idx as usize) {
            h.exposure = exposure.to_string();
        }
    }

    /// The index of a host by id, case-insensitively.
    pub fn find(&self, id: &str) -> Option<u32> {
        self.index.get(&key(id)).copied()
    }

    pub fn hosts(&self) -> &[Host] {
        &self.hosts
    }

    pub fn edges(&self) -> &[Edge] {
        &self.edges
    }

    pub fn host(&self, idx: u32) -> Option<&Host> {
        self.hosts.get(idx as usize)
    }

    pub fn len(&self) -> usize {
        self.hosts.len()
    }

    pub fn is_empty(&self) -> bool {
        self.hosts.is_empty()
    }

    /// Adds the reverse of every edge, for inputs that describe symmetric
    /// reachability (`--undirected`) such as generated test graphs.
    pub fn symmetrize(&mut self) {
        let reversed: Vec<Edge> = self
            .edges
            .iter()
            .map(|e| Edge {
                from: e.to,
                to: e.from,
                weight: e.weight,
            })
            .collect();
        self.edges.extend(reversed);
    }

    /// Compressed sparse rows over out-edges, for the engine.
    pub fn csr(&self) -> Csr {
        Csr::from_edges(self.hosts.len(), &self.edges)
    }
}

/// Out-adjacency in compressed sparse row form: the out-edges of host `u` are
/// `targets[offsets[u]..offsets[u + 1]]` with the matching `weights`. One
/// contiguous array keeps the inner loop of the engine cache-friendly.
#[derive(Debug, Clone)]
pub struct Csr {
    offsets: Vec<u32>,
    targets: Vec<u32>,
    weights: Vec<f64>,
    /// All weights are 1.0: the engine can skip the multiplication.
    unit_weights: bool,
}

impl Csr {
    /// Builds the rows with a counting sort, keeping each row in input order
    /// so that results do not depend on hash-map iteration.
    pub fn from_edges(nodes: usize, edges: &[Edge]) -> Csr {
        let mut offsets = vec![0u32; nodes + 1];
        for e in edges {
            if let Some(slot) = offsets.get_mut(e.from as usize + 1) {
                *slot += 1;
            }
        }
        for i in 1..offsets.len() {
            offsets[i] += offsets[i - 1];
        }
        let mut cursor: Vec<u32> = offsets[..nodes].to_vec();
        let mut targets = vec![0u32; edges.len()];
        let mut weights = vec![0f64; edges.len()];
        for e in edges {
            if let Some(c) = cursor.get_mut(e.from as usize) {
                targets[*c as usize] = e.to;
                weights[*c as usize] = e.weight;
                *c += 1;
            }
        }
        let unit_weights = weights.iter().all(|&w| w == 1.0);
        Csr {
            offsets,
            targets,
            weights,
            unit_weights,
        }
    }

    pub fn nodes(&self) -> usize {
        self.offsets.len() - 1
    }

    pub fn edge_count(&self) -> usize {
        self.targets.len()
    }

    /// Out-neighbours of `u` and the weights of those edges.
    #[inline]
    pub fn out(&self, u: u32) -> (&[u32], &[f64]) {
        let u = u as usize;
        let (start, end) = (self.offsets[u] as usize, self.offsets[u + 1] as usize);
        (&self.targets[start..end], &self.weights[start..end])
    }

    pub fn out_degree(&self, u: u32) -> usize {
        let u = u as usize;
        (self.offsets[u + 1] - self.offsets[u]) as usize
    }

    pub fn unit_weights(&self) -> bool {
        self.unit_weights
    }

    /// In-degree of every host.
    pub fn in_degrees(&self) -> Vec<u32> {
        let mut d = vec![0u32; self.nodes()];
        for &t in &self.targets {
            d[t as usize] += 1;
        }
        d
    }

    /// The reverse adjacency (in-edges as rows), for undirected views.
    pub fn transpose(&self) -> Csr {
        let mut edges = Vec::with_capacity(self.targets.len());
        for u in 0..self.nodes() as u32 {
            let (ts, ws) = self.out(u);
            for (&v, &w) in ts.iter().zip(ws) {
                edges.push(Edge {
                    from: v,
                    to: u,
                    weight: w,
                });
            }
        }
        Csr::from_edges(self.nodes(), &edges)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn host(id: &str) -> Host {
        Host {
            id: id.into(),
            role: Role::Server,
            exposure: String::new(),
            protected: false,
        }
    }

    #[test]
    fn csr_rows_keep_input_order() {
        let mut n = Network::new();
        for id in ["a", "b", "c"] {
            n.add_host(host(id)).unwrap();
        }
        n.add_edge(2, 0, 1.0).unwrap();
        n.add_edge(0, 2, 0.5).unwrap();
        n.add_edge(0, 1, 1.0).unwrap();
        let csr = n.csr();
        assert_eq!(csr.out(0), (&[2u32, 1][..], &[0.5, 1.0][..]));
        assert_eq!(csr.out(1), (&[][..], &[][..]));
        assert_eq!(csr.out(2), (&[0u32][..], &[1.0][..]));
        assert!(!csr.unit_weights());
        assert_eq!(csr.in_degrees(), vec![1, 1, 1]);
        let t = csr.transpose();
        assert_eq!(t.out(0).0, &[2u32]);
        assert_eq!(t.out(2).0, &[0u32]);
    }

    #[test]
    fn ids_are_case_insensitive_and_unique() {
        let mut n = Network::new();
        n.add_host(host("HV01")).unwrap();
        assert_eq!(n.find("hv01"), Some(0));
        assert_eq!(
            n.add_host(host("hv01")),
            Err(NetworkError::DuplicateHost("hv01".into()))
        );
        assert_eq!(
            n.add_edge(0, 0, 1.0),
            Err(NetworkError::SelfLoop("HV01".into()))
        );
        assert_eq!(n.add_edge(0, 5, 1.0), Err(NetworkError::BadIndex(5)));
    }

    #[test]
    fn exposure_words() {
        let mut h = host("x");
        assert!(!h.is_exposed());
        h.exposure = "Internal".into();
        assert!(!h.is_exposed());
        h.exposure = "internet-facing".into();
        assert!(h.is_exposed());
    }
}
