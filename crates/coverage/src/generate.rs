//! Test topologies, and writing networks back out as CSV or JSON.
//!
//! The random graphs (Erdős–Rényi, random k-regular, Barabási–Albert) are
//! undirected: every link becomes two directed edges. They have known
//! epidemic thresholds and final sizes, which is what the validation tests
//! need. The data-centre shape is the kind of network lockstep's users run.

use crate::engine::unit;
use crate::network::{Host, Network, Role};
use crate::policy::pick;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use serde::Serialize;
use std::collections::HashSet;

/// What to generate.
#[derive(Debug, Clone, PartialEq)]
pub enum Topology {
    /// G(n, p) with p = mean_degree / (n − 1).
    ErdosRenyi { nodes: u32, mean_degree: f64 },
    /// Every host has exactly `degree` links (configuration model; pairings
    /// with self-loops or repeated links are repaired by edge switches).
    Regular { nodes: u32, degree: u32 },
    /// Preferential attachment: each new host links to `m` existing hosts
    /// chosen in proportion to their degree (starting, like networkx, from a
    /// star of m + 1 hosts).
    BarabasiAlbert { nodes: u32, m: u32 },
    /// Clusters of hypervisors hosting VMs, VM subnets, a management network
    /// and domain controllers. See [`DataCentre`].
    DataCentre(DataCentre),
}

/// The data-centre shape. Edges (directed, weight 1 unless said otherwise):
/// * hypervisor → each VM it hosts (control of the host is control of the
///   guest);
/// * hypervisors of one cluster ↔ each other (cluster, live-migration and
///   CSV traffic);
/// * management network: admin workstations ↔ every hypervisor and every
///   domain controller;
/// * VM subnets: each VM sits in one subnet, picked at random; inside a
///   subnet VMs are linked at random with mean degree `subnet_degree`, both
///   ways;
/// * domain controllers ↔ every other host, with weight `dc_weight`
///   (authentication paths; a compromised DC reaches every domain member).
///
/// As-is protection: every host except hypervisors, the situation the
/// coverage question is about. `exposed_percent` of the VMs are
/// internet-facing.
#[derive(Debug, Clone, PartialEq)]
pub struct DataCentre {
    pub clusters: u32,
    pub hypervisors_per_cluster: u32,
    pub vms_per_hypervisor: u32,
    pub subnets: u32,
    pub subnet_degree: f64,
    pub workstations: u32,
    pub domain_controllers: u32,
    pub dc_weight: f64,
    pub exposed_percent: f64,
}

impl Default for DataCentre {
    fn default() -> Self {
        DataCentre {
            clusters: 4,
            hypervisors_per_cluster: 4,
            vms_per_hypervisor: 12,
            subnets: 8,
            subnet_degree: 3.0,
            workstations: 4,
            domain_controllers: 2,
            dc_weight: 0.2,
            exposed_percent: 5.0,
        }
    }
}

#[derive(Debug, thiserror::Error, PartialEq)]
pub enum GenerateError {
    #[error("{0}")]
    Invalid(String),
    #[error(
        "could not build a simple {degree}-regular graph on {nodes} hosts after {tries} attempts"
    )]
    RegularFailed { nodes: u32, degree: u32, tries: u32 },
}

fn server(id: String) -> Host {
    Host {
        id,
        role: Role::Server,
        exposure: String::new(),
        protected: false,
    }
}

fn numbered(nodes: u32) -> Network {
    let mut net = Network::new();
    let width = nodes.saturating_sub(1).to_string().len();
    for i in 0..nodes {
        // Ids are unique by construction.
        let _ = net.add_host(server(format!("n{i:0width$}")));
    }
    net
}

fn link(net: &mut Network, a: u32, b: u32, w: f64) {
    // Indexes come from the generator and are in range and distinct.
    let _ = net.add_edge(a, b, w);
    let _ = net.add_edge(b, a, w);
}

/// Generates a network; the same `seed` gives the same network.
pub fn generate(topology: &Topology, seed: u64) -> Result<Network, GenerateError> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    match topology {
        Topology::ErdosRenyi { nodes, mean_degree } => {
            if *nodes < 2 || !(mean_degree.is_finite() && *mean_degree >= 0.0) {
                return Err(GenerateError::Invalid(
                    "erdos-renyi needs --nodes >= 2 and --mean-degree >= 0".into(),
                ));
            }
            let p = (mean_degree / f64::from(nodes - 1)).min(1.0);
            let mut net = numbered(*nodes);
            erdos_renyi(&mut rng, &(0..*nodes).collect::<Vec<_>>(), p, &mut net);
            Ok(net)
        }
        Topology::Regular { nodes, degree } => regular(&mut rng, *nodes, *degree),
        Topology::BarabasiAlbert { nodes, m } => {
            if *m < 1 || *nodes <= *m {
                return Err(GenerateError::Invalid(
                    "barabasi-albert needs --m >= 1 and --nodes > m".into(),
                ));
            }
            let mut net = numbered(*nodes);
            // Every link appears once per endpoint, so a uniform pick from
            // this list is a pick proportional to degree.
            let mut repeated: Vec<u32> = Vec::with_capacity(2 * (*nodes as usize) * (*m as usize));
            for i in 1..=*m {
                link(&mut net, 0, i, 1.0);
                repeated.extend([0, i]);
            }
            let mut targets: Vec<u32> = Vec::with_capacity(*m as usize);
            for source in (*m + 1)..*nodes {
                targets.clear();
                while targets.len() < *m as usize {
                    let t = repeated[pick(&mut rng, repeated.len())];
                    if !targets.contains(&t) {
                        targets.push(t);
                    }
                }
                for &t in &targets {
                    link(&mut net, source, t, 1.0);
                    repeated.extend([source, t]);
                }
            }
            Ok(net)
        }
        Topology::DataCentre(dc) => data_centre(&mut rng, dc),
    }
}

/// Links each pair of `members` with probability `p`, by geometric skipping
/// over the pairs (Batagelj & Brandes 2005), so sparse graphs cost O(n + m).
fn erdos_renyi(rng: &mut ChaCha8Rng, members: &[u32], p: f64, net: &mut Network) {
    let n = members.len() as i64;
    if p <= 0.0 || n < 2 {
        return;
    }
    if p >= 1.0 {
        for i in 0..members.len() {
            for j in 0..i {
                link(net, members[i], members[j], 1.0);
            }
        }
        return;
    }
    let lp = (1.0 - p).ln();
    let (mut v, mut w) = (1i64, -1i64);
    while v < n {
        let r = unit(rng);
        w += 1 + ((1.0 - r).ln() / lp).floor() as i64;
        while w >= v && v < n {
            w -= v;
            v += 1;
        }
        if v < n {
            link(net, members[v as usize], members[w as usize], 1.0);
        }
    }
}

fn regular(rng: &mut ChaCha8Rng, nodes: u32, degree: u32) -> Result<Network, GenerateError> {
    if degree >= nodes || (u64::from(nodes) * u64::from(degree)) % 2 == 1 {
        return Err(GenerateError::Invalid(format!(
            "a {degree}-regular graph on {nodes} hosts needs degree < nodes and nodes × degree even"
        )));
    }
    const TRIES: u32 = 20;
    for _ in 0..TRIES {
        let mut stubs: Vec<u32> = (0..nodes)
            .flat_map(|u| std::iter::repeat_n(u, degree as usize))
            .collect();
        // Fisher–Yates.
        for i in (1..stubs.len()).rev() {
            let j = pick(rng, i + 1);
            stubs.swap(i, j);
        }
        let mut pairs: Vec<(u32, u32)> = stubs.chunks_exact(2).map(|c| (c[0], c[1])).collect();
        let key = |a: u32, b: u32| (a.min(b), a.max(b));
        let mut seen: HashSet<(u32, u32)> = HashSet::with_capacity(pairs.len());
        let mut bad: Vec<usize> = Vec::new();
        for (i, &(a, b)) in pairs.iter().enumerate() {
            if a == b || !seen.insert(key(a, b)) {
                bad.push(i);
            }
        }
        // Repair each bad pair (a, b) by switching with a random good pair
        // (c, d) into (a, c) and (b, d) when both are new links. Degrees are
        // kept; the switch count is bounded so that hopeless cases restart.
        let mut budget = 100 * pairs.len() + 1000;
        while let Some(&i) = bad.last() {
            if budget == 0 {
                break;
            }
            budget -= 1;
            let j = pick(rng, pairs.len());
            if j == i || bad.contains(&j) {
                continue;
            }
            let ((a, b), (c, d)) = (pairs[i], pairs[j]);
            if a == c
                || b == d
                || seen.contains(&key(a, c))
                || seen.contains(&key(b, d))
                || key(a, c) == key(b, d)
            {
                continue;
            }
            seen.remove(&key(c, d));
            // The bad pair's own key stays in `seen` only if another copy of
            // it is a good pair (a repeated link); a self-loop never entered.
            seen.insert(key(a, c));
            seen.insert(key(b, d));
            pairs[i] = (a, c);
            pairs[j] = (b, d);
            bad.pop();
        }
        if bad.is_empty() {
            let mut net = numbered(nodes);
            for (a, b) in pairs {
                link(&mut net, a, b, 1.0);
            }
            return Ok(net);
        }
    }
    Err(GenerateError::RegularFailed {
        nodes,
        degree,
        tries: TRIES,
    })
}

fn data_centre(rng: &mut ChaCha8Rng, dc: &DataCentre) -> Result<Network, GenerateError> {
    if dc.clusters == 0 || dc.hypervisors_per_cluster == 0 || dc.subnets == 0 {
        return Err(GenerateError::Invalid(
            "datacenter needs at least one cluster, one hypervisor per cluster and one subnet"
                .into(),
        ));
    }
    let valid = |x: f64| x.is_finite() && x >= 0.0;
    if !valid(dc.subnet_degree)
        || !valid(dc.dc_weight)
        || !(0.0..=100.0).contains(&dc.exposed_percent)
    {
        return Err(GenerateError::Invalid(
            "datacenter needs --subnet-degree >= 0, --dc-weight >= 0 and --exposed-percent in 0..100".into(),
        ));
    }
    let mut net = Network::new();
    let add = |net: &mut Network, id: String, role: Role| {
        net.add_host(Host {
            id,
            role,
            exposure: String::new(),
            protected: role != Role::Hypervisor,
        })
        .map_err(|e| GenerateError::Invalid(e.to_string()))
    };
    let mut dcs = Vec::new();
    for d in 1..=dc.domain_controllers {
        dcs.push(add(&mut net, format!("dc{d:02}"), Role::DomainController)?);
    }
    let mut workstations = Vec::new();
    for w in 1..=dc.workstations {
        workstations.push(add(&mut net, format!("adm{w:02}"), Role::Workstation)?);
    }
    let mut hypervisors = Vec::new();
    let mut vms = Vec::new();
    let mut vm_number = 0u32;
    for c in 1..=dc.clusters {
        let mut members = Vec::new();
        for h in 1..=dc.hypervisors_per_cluster {
            let hv = add(&mut net, format!("c{c:02}-hv{h:02}"), Role::Hypervisor)?;
            for other in &members {
                link(&mut net, hv, *other, 1.0);
            }
            members.push(hv);
            for _ in 0..dc.vms_per_hypervisor {
                vm_number += 1;
                let vm = add(&mut net, format!("vm{vm_number:04}"), Role::Vm)?;
                let _ = net.add_edge(hv, vm, 1.0);
                vms.push(vm);
            }
        }
        hypervisors.extend(members);
    }
    for &w in &workstations {
        for &h in hypervisors.iter().chain(&dcs) {
            link(&mut net, w, h, 1.0);
        }
    }
    let mut subnets: Vec<Vec<u32>> = vec![Vec::new(); dc.subnets as usize];
    for &vm in &vms {
        subnets[pick(rng, dc.subnets as usize)].push(vm);
    }
    for members in &subnets {
        if members.len() >= 2 {
            let p = (dc.subnet_degree / (members.len() - 1) as f64).min(1.0);
            erdos_renyi(rng, members, p, &mut net);
        }
    }
    let exposed = ((dc.exposed_percent / 100.0) * vms.len() as f64).round() as usize;
    let mut chosen = 0;
    while chosen < exposed.min(vms.len()) {
        let vm = vms[pick(rng, vms.len())];
        let before = net.host(vm).map(|h| h.is_exposed()).unwrap_or(true);
        if !before {
            net.set_exposure(vm, "internet-facing");
            chosen += 1;
        }
    }
    if dc.dc_weight > 0.0 {
        for &d in &dcs {
            for other in 0..net.len() as u32 {
                if !dcs.contains(&other) {
                    link(&mut net, d, other, dc.dc_weight);
                }
            }
        }
        for (i, &a) in dcs.iter().enumerate() {
            for &b in &dcs[..i] {
                link(&mut net, a, b, 1.0);
            }
        }
    }
    Ok(net)
}

#[derive(Serialize)]
struct HostOut<'a> {
    id: &'a str,
    role: Role,
    exposure: &'a str,
    protected: bool,
}

#[derive(Serialize)]
struct EdgeOut<'a> {
    from: &'a str,
    to: &'a str,
    weight: f64,
}

/// The network as a hosts CSV and an edges CSV, in the format
/// [`crate::input`] reads.
pub fn to_csv(net: &Network) -> (String, String) {
    // CSV cells are quoted by the csv writer when needed; ids from the
    // generator are plain anyway.
    let mut hosts = csv::Writer::from_writer(Vec::new());
    let _ = hosts.write_record(["id", "role", "exposure", "protected"]);
    for h in net.hosts() {
        let _ = hosts.write_record([
            h.id.as_str(),
            h.role.as_str(),
            h.exposure.as_str(),
            if h.protected { "yes" } else { "no" },
        ]);
    }
    let mut edges = csv::Writer::from_writer(Vec::new());
    let _ = edges.write_record(["from", "to", "weight"]);
    for e in net.edges() {
        let (f, t) = (name(net, e.from), name(net, e.to));
        let _ = edges.write_record([f, t, &e.weight.to_string()]);
    }
    let text = |w: csv::Writer<Vec<u8>>| {
        w.into_inner()
            .map(|b| String::from_utf8_lossy(&b).into_owned())
            .unwrap_or_default()
    };
    (text(hosts), text(edges))
}

fn name(net: &Network, i: u32) -> &str {
    net.host(i).map(|h| h.id.as_str()).unwrap_or("")
}

/// The network as a hosts JSON array and an edges JSON array.
pub fn to_json(net: &Network) -> (String, String) {
    let hosts: Vec<HostOut> = net
        .hosts()
        .iter()
        .map(|h| HostOut {
            id: &h.id,
            role: h.role,
            exposure: &h.exposure,
            protected: h.protected,
        })
        .collect();
    let edges: Vec<EdgeOut> = net
        .edges()
        .iter()
        .map(|e| EdgeOut {
            from: name(net, e.from),
            to: name(net, e.to),
            weight: e.weight,
        })
        .collect();
    // One element per line keeps the files diffable and error lines useful.
    let lines = |items: Vec<String>| format!("[\n{}\n]\n", items.join(",\n"));
    (
        lines(
            hosts
                .iter()
                .map(|h| serde_json::to_string(h).unwrap_or_default())
                .collect(),
        ),
        lines(
            edges
                .iter()
                .map(|e| serde_json::to_string(e).unwrap_or_default())
                .collect(),
        ),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn undirected_degrees(net: &Network) -> Vec<u32> {
        let mut d = vec![0u32; net.len()];
        for e in net.edges() {
            d[e.from as usize] += 1;
        }
        d
    }

    #[test]
    fn regular_graphs_are_simple_and_regular() {
        let net = generate(
            &Topology::Regular {
                nodes: 200,
                degree: 3,
            },
            5,
        )
        .unwrap();
        assert!(undirected_degrees(&net).iter().all(|&d| d == 3));
        let mut seen = HashSet::new();
        for e in net.edges() {
            assert_ne!(e.from, e.to);
            assert!(seen.insert((e.from, e.to)), "repeated edge {e:?}");
        }
        assert_eq!(net.edges().len(), 600);
        assert!(
            generate(
                &Topology::Regular {
                    nodes: 5,
                    degree: 3
                },
                1
            )
            .is_err()
        );
    }

    #[test]
    fn erdos_renyi_mean_degree() {
        let net = generate(
            &Topology::ErdosRenyi {
                nodes: 4000,
                mean_degree: 4.0,
            },
            3,
        )
        .unwrap();
        // Links ~ Binomial(n(n-1)/2, p): mean 8000, sd ≈ 89; 5 sd = 450.
        let links = net.edges().len() as f64 / 2.0;
        assert!((links - 8000.0).abs() < 450.0, "{links}");
        let full = generate(
            &Topology::ErdosRenyi {
                nodes: 5,
                mean_degree: 4.0,
            },
            3,
        )
        .unwrap();
        assert_eq!(full.edges().len(), 20);
    }

    #[test]
    fn barabasi_albert_counts() {
        let net = generate(&Topology::BarabasiAlbert { nodes: 1000, m: 3 }, 9).unwrap();
        // Star of m links, then m per new host: 3 + 3 × 996 links.
        assert_eq!(net.edges().len(), 2 * (3 + 3 * 996));
        let d = undirected_degrees(&net);
        assert!(d.iter().all(|&x| x >= 3));
        // Preferential attachment grows hubs far above the mean of 6.
        assert!(
            *d.iter().max().unwrap() > 40,
            "max degree {:?}",
            d.iter().max()
        );
    }

    #[test]
    fn data_centre_shape() {
        let dc = DataCentre::default();
        let net = generate(&Topology::DataCentre(dc.clone()), 1).unwrap();
        let hvs = net
            .hosts()
            .iter()
            .filter(|h| h.role == Role::Hypervisor)
            .count();
        let vms = net.hosts().iter().filter(|h| h.role == Role::Vm).count();
        assert_eq!((hvs, vms), (16, 192));
        assert!(
            net.hosts()
                .iter()
                .all(|h| h.protected == (h.role != Role::Hypervisor))
        );
        assert_eq!(net.hosts().iter().filter(|h| h.is_exposed()).count(), 10);
        let hv = net.find("c01-hv01").unwrap();
        let vm1 = net.find("vm0001").unwrap();
        assert!(
            net.edges()
                .iter()
                .any(|e| e.from == hv && e.to == vm1 && e.weight == 1.0)
        );
        let dc1 = net.find("dc01").unwrap();
        assert!(
            net.edges()
                .iter()
                .any(|e| e.from == dc1 && e.to == vm1 && e.weight == 0.2)
        );
    }

    #[test]
    fn csv_round_trip() {
        let net = generate(&Topology::DataCentre(DataCentre::default()), 2).unwrap();
        let (h, e) = to_csv(&net);
        let mut back = crate::input::parse_hosts("h.csv", &h).unwrap();
        crate::input::parse_edges("e.csv", &e, &mut back).unwrap();
        assert_eq!(back.hosts(), net.hosts());
        assert_eq!(back.edges(), net.edges());
        let (h, e) = to_json(&net);
        let mut back = crate::input::parse_hosts("h.json", &h).unwrap();
        crate::input::parse_edges("e.json", &e, &mut back).unwrap();
        assert_eq!(back.edges(), net.edges());
    }
}
