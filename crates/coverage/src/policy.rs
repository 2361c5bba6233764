//! Coverage policies: which hosts run anti-virus.
//!
//! Policies other than `as-is` say the whole protected set; they do not add
//! to what the hosts file marks as protected. Random policies (`random:V`,
//! `acquaintance:V`) draw a fresh selection in every run from that run's RNG,
//! so their results average over which hosts the policy happens to pick.

use crate::engine::unit;
use crate::network::{Csr, Network, Role};
use rand::Rng;
use std::fmt;
use std::path::PathBuf;

/// A policy as the user names it on the command line.
#[derive(Debug, Clone, PartialEq)]
pub enum PolicySpec {
    /// The `protected` column of the hosts file.
    AsIs,
    /// Nothing protected.
    None,
    /// Every host protected.
    Full,
    /// Every host except those with role `hypervisor`.
    ExceptHypervisors,
    /// A random `percent` of the hosts.
    Random { percent: f64 },
    /// The `percent` of hosts with the highest degree (in + out), ties broken
    /// by input order.
    TopDegree { percent: f64 },
    /// Every host except the `percent` with the highest degree: the hubs
    /// left unprotected, as when hypervisors are excluded.
    ExceptTopDegree { percent: f64 },
    /// Acquaintance immunization (Cohen, Havlin & ben-Avraham, PRL 91, 247901,
    /// 2003): repeatedly pick a random host and protect a random neighbour of
    /// it, until `percent` of the hosts are protected. Finds hubs without
    /// knowing the degrees.
    Acquaintance { percent: f64 },
    /// The hosts listed in a file, one id per line.
    File { path: PathBuf },
}

pub const POLICY_CHOICES: &str = "as-is, none, full, except-hypervisors, random:PERCENT, top-degree:PERCENT, except-top-degree:PERCENT, acquaintance:PERCENT or file:PATH";

impl PolicySpec {
    pub fn parse(text: &str) -> Result<PolicySpec, String> {
        let t = text.trim();
        let (head, arg) = match t.split_once(':') {
            Some((h, a)) => (h.trim().to_ascii_lowercase(), Some(a.trim())),
            None => (t.to_ascii_lowercase(), None),
        };
        let percent = |arg: Option<&str>| -> Result<f64, String> {
            let a = arg.ok_or_else(|| format!("policy {t:?}: expected {head}:PERCENT"))?;
            let v: f64 = a.trim_end_matches('%').parse().map_err(|_| {
                format!("policy {t:?}: expected a percentage 0..100 after `{head}:`")
            })?;
            if !(0.0..=100.0).contains(&v) {
                return Err(format!(
                    "policy {t:?}: expected a percentage 0..100, got {v}"
                ));
            }
            Ok(v)
        };
        let no_arg = |spec: PolicySpec| {
            if arg.is_some() {
                Err(format!("policy {t:?}: `{head}` takes no argument"))
            } else {
                Ok(spec)
            }
        };
        match head.as_str() {
            "as-is" | "asis" | "current" => no_arg(PolicySpec::AsIs),
            "none" => no_arg(PolicySpec::None),
            "full" | "all" => no_arg(PolicySpec::Full),
            "except-hypervisors" | "all-except-hypervisors" | "no-hypervisors" => {
                no_arg(PolicySpec::ExceptHypervisors)
            }
            "random" => Ok(PolicySpec::Random {
                percent: percent(arg)?,
            }),
            "top-degree" | "top" => Ok(PolicySpec::TopDegree {
                percent: percent(arg)?,
            }),
            "except-top-degree" => Ok(PolicySpec::ExceptTopDegree {
                percent: percent(arg)?,
            }),
            "acquaintance" => Ok(PolicySpec::Acquaintance {
                percent: percent(arg)?,
            }),
            "file" => match arg {
                Some(p) if !p.is_empty() => Ok(PolicySpec::File { path: p.into() }),
                _ => Err(format!("policy {t:?}: expected file:PATH")),
            },
            _ => Err(format!("unknown policy {t:?}: expected {POLICY_CHOICES}")),
        }
    }
}

impl fmt::Display for PolicySpec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PolicySpec::AsIs => f.write_str("as-is"),
            PolicySpec::None => f.write_str("none"),
            PolicySpec::Full => f.write_str("full"),
            PolicySpec::ExceptHypervisors => f.write_str("except-hypervisors"),
            PolicySpec::Random { percent } => write!(f, "random:{percent}"),
            PolicySpec::TopDegree { percent } => write!(f, "top-degree:{percent}"),
            PolicySpec::ExceptTopDegree { percent } => write!(f, "except-top-degree:{percent}"),
            PolicySpec::Acquaintance { percent } => write!(f, "acquaintance:{percent}"),
            PolicySpec::File { path } => write!(f, "file:{}", path.display()),
        }
    }
}

/// A policy bound to a network, ready to hand out a protected set per run.
#[derive(Debug, Clone)]
pub struct Policy {
    pub name: String,
    pub description: String,
    kind: Kind,
}

#[derive(Debug, Clone)]
enum Kind {
    Fixed(Vec<bool>),
    Random { count: usize },
    Acquaintance { count: usize, neighbours: Csr },
}

fn count_of(percent: f64, n: usize) -> usize {
    ((percent / 100.0) * n as f64).round().clamp(0.0, n as f64) as usize
}

impl Policy {
    /// Binds `spec` to `net`; `file_hosts` are the hosts a `file:` policy
    /// lists (the caller reads the file, so that errors name it).
    pub fn new(spec: &PolicySpec, net: &Network, csr: &Csr, file_hosts: &[u32]) -> Policy {
        let n = net.len();
        let hosts = net.hosts();
        let (kind, description) = match spec {
            PolicySpec::AsIs => (
                Kind::Fixed(hosts.iter().map(|h| h.protected).collect()),
                "protection as the hosts file marks it".to_string(),
            ),
            PolicySpec::None => (Kind::Fixed(vec![false; n]), "no host protected".into()),
            PolicySpec::Full => (Kind::Fixed(vec![true; n]), "every host protected".into()),
            PolicySpec::ExceptHypervisors => (
                Kind::Fixed(hosts.iter().map(|h| h.role != Role::Hypervisor).collect()),
                "every host protected except hypervisors".into(),
            ),
            PolicySpec::Random { percent } => (
                Kind::Random {
                    count: count_of(*percent, n),
                },
                format!("{percent}% of hosts protected, picked at random in each run"),
            ),
            PolicySpec::TopDegree { percent } => (
                Kind::Fixed(top_degree(csr, count_of(*percent, n), true)),
                format!("the {percent}% of hosts with the most edges (in + out) protected"),
            ),
            PolicySpec::ExceptTopDegree { percent } => (
                Kind::Fixed(top_degree(csr, count_of(*percent, n), false)),
                format!(
                    "every host protected except the {percent}% with the most edges (in + out)"
                ),
            ),
            PolicySpec::Acquaintance { percent } => {
                let count = count_of(*percent, n);
                let t = csr.transpose();
                let mut edges = Vec::with_capacity(csr.edge_count() * 2);
                for u in 0..n as u32 {
                    for src in [csr, &t] {
                        let (ts, _) = src.out(u);
                        for &v in ts {
                            edges.push(crate::network::Edge {
                                from: u,
                                to: v,
                                weight: 1.0,
                            });
                        }
                    }
                }
                (
                    Kind::Acquaintance {
                        count,
                        neighbours: Csr::from_edges(n, &edges),
                    },
                    format!(
                        "{percent}% of hosts protected by acquaintance immunization (a random neighbour of a random host), drawn in each run"
                    ),
                )
            }
            PolicySpec::File { path } => {
                let mut fixed = vec![false; n];
                for &u in file_hosts {
                    if let Some(slot) = fixed.get_mut(u as usize) {
                        *slot = true;
                    }
                }
                (
                    Kind::Fixed(fixed),
                    format!("the hosts listed in {}", path.display()),
                )
            }
        };
        Policy {
            name: spec.to_string(),
            description,
            kind,
        }
    }

    /// Hosts protected in each run (for acquaintance immunization on a
    /// network with isolated hosts, at most this many).
    pub fn protected_count(&self, _n: usize) -> usize {
        match &self.kind {
            Kind::Fixed(v) => v.iter().filter(|&&b| b).count(),
            Kind::Random { count } | Kind::Acquaintance { count, .. } => *count,
        }
    }

    /// Whether every run sees the same protected set.
    pub fn is_fixed(&self) -> bool {
        matches!(self.kind, Kind::Fixed(_))
    }

    /// The protected set for one run; random policies draw it from `rng`
    /// into `scratch`.
    pub fn protected_for_run<'s, R: Rng + ?Sized>(
        &'s self,
        rng: &mut R,
        scratch: &'s mut [bool],
    ) -> &'s [bool] {
        match &self.kind {
            Kind::Fixed(v) => v,
            Kind::Random { count } => {
                let n = scratch.len();
                // Mark the smaller side by rejection sampling: at most half
                // the draws are repeats, so this is O(count) expected.
                let (mark, k) = if *count <= n / 2 {
                    (true, *count)
                } else {
                    (false, n - *count)
                };
                scratch.iter_mut().for_each(|p| *p = !mark);
                let mut placed = 0;
                while placed < k {
                    let u = pick(rng, n);
                    if scratch[u] != mark {
                        scratch[u] = mark;
                        placed += 1;
                    }
                }
                scratch
            }
            Kind::Acquaintance { count, neighbours } => {
                let n = scratch.len();
                scratch.iter_mut().for_each(|p| *p = false);
                let mut placed = 0;
                // Hosts without neighbours cannot name an acquaintance; cap
                // the attempts so that a sparse network cannot loop forever.
                let mut attempts = 0usize;
                let limit = 100 * n.max(1);
                while placed < *count && attempts < limit {
                    attempts += 1;
                    let u = pick(rng, n) as u32;
                    let (nb, _) = neighbours.out(u);
                    if nb.is_empty() {
                        continue;
                    }
                    let v = nb[pick(rng, nb.len())] as usize;
                    if !scratch[v] {
                        scratch[v] = true;
                        placed += 1;
                    }
                }
                scratch
            }
        }
    }
}

/// `value` for the `k` hosts with the highest degree (in + out), `!value`
/// for the others. Stable sort: equal degrees keep input order, so the
/// choice is reproducible.
fn top_degree(csr: &Csr, k: usize, value: bool) -> Vec<bool> {
    let n = csr.nodes();
    let in_deg = csr.in_degrees();
    let mut order: Vec<u32> = (0..n as u32).collect();
    order.sort_by_key(|&u| std::cmp::Reverse(csr.out_degree(u) + in_deg[u as usize] as usize));
    let mut out = vec![!value; n];
    for &u in order.iter().take(k) {
        out[u as usize] = value;
    }
    out
}

/// A uniform index below `n` (n > 0).
#[inline]
pub fn pick<R: Rng + ?Sized>(rng: &mut R, n: usize) -> usize {
    ((unit(rng) * n as f64) as usize).min(n.saturating_sub(1))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::network::Host;
    use rand::SeedableRng;
    use rand_chacha::ChaCha8Rng;

    fn star(leaves: usize) -> Network {
        let mut n = Network::new();
        for i in 0..=leaves {
            n.add_host(Host {
                id: format!("h{i}"),
                role: if i == 0 { Role::Hypervisor } else { Role::Vm },
                exposure: String::new(),
                protected: i == 1,
            })
            .unwrap();
        }
        for i in 1..=leaves as u32 {
            n.add_edge(0, i, 1.0).unwrap();
        }
        n
    }

    #[test]
    fn parse_specs() {
        assert_eq!(
            PolicySpec::parse("random:30"),
            Ok(PolicySpec::Random { percent: 30.0 })
        );
        assert_eq!(
            PolicySpec::parse("TOP-DEGREE:5%"),
            Ok(PolicySpec::TopDegree { percent: 5.0 })
        );
        assert_eq!(PolicySpec::parse("as-is"), Ok(PolicySpec::AsIs));
        assert!(PolicySpec::parse("random").is_err());
        assert!(PolicySpec::parse("random:120").is_err());
        assert!(PolicySpec::parse("full:3").is_err());
        assert!(
            PolicySpec::parse("everything")
                .unwrap_err()
                .contains("expected as-is")
        );
        assert_eq!(
            PolicySpec::parse("file:p.txt"),
            Ok(PolicySpec::File {
                path: "p.txt".into()
            })
        );
    }

    #[test]
    fn fixed_policies() {
        let net = star(4);
        let csr = net.csr();
        let mut rng = ChaCha8Rng::seed_from_u64(1);
        let mut scratch = vec![false; net.len()];
        let get = |spec: PolicySpec, rng: &mut ChaCha8Rng, scratch: &mut Vec<bool>| {
            Policy::new(&spec, &net, &csr, &[3])
                .protected_for_run(rng, scratch)
                .to_vec()
        };
        assert_eq!(
            get(PolicySpec::AsIs, &mut rng, &mut scratch),
            [false, true, false, false, false]
        );
        assert_eq!(
            get(PolicySpec::ExceptHypervisors, &mut rng, &mut scratch),
            [false, true, true, true, true]
        );
        // 20% of 5 hosts = 1: the centre has degree 4.
        assert_eq!(
            get(
                PolicySpec::TopDegree { percent: 20.0 },
                &mut rng,
                &mut scratch
            ),
            [true, false, false, false, false]
        );
        assert_eq!(
            get(
                PolicySpec::File { path: "p".into() },
                &mut rng,
                &mut scratch
            ),
            [false, false, false, true, false]
        );
    }

    #[test]
    fn random_policies_protect_exactly_the_count() {
        let net = star(9);
        let csr = net.csr();
        let mut rng = ChaCha8Rng::seed_from_u64(2);
        let mut scratch = vec![false; net.len()];
        for pct in [0.0, 30.0, 70.0, 100.0] {
            let p = Policy::new(&PolicySpec::Random { percent: pct }, &net, &csr, &[]);
            let got = p.protected_for_run(&mut rng, &mut scratch);
            assert_eq!(got.iter().filter(|&&b| b).count(), (pct / 10.0) as usize);
        }
        // On a star every acquaintance of a leaf is the centre, so 10% (one
        // host) is almost surely the centre: a leaf is drawn with p = 0.9.
        let p = Policy::new(&PolicySpec::Acquaintance { percent: 10.0 }, &net, &csr, &[]);
        let mut centre = 0;
        for _ in 0..100 {
            let got = p.protected_for_run(&mut rng, &mut scratch);
            assert_eq!(got.iter().filter(|&&b| b).count(), 1);
            centre += usize::from(got[0]);
        }
        // Expected 90; 5 standard deviations (3 each) below is 75.
        assert!(centre >= 75, "centre protected in {centre} of 100 draws");
    }
}
