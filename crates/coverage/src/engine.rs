//! One outbreak at a time: stochastic SIR in continuous time and bond
//! percolation, both on the CSR adjacency.
//!
//! **SIR** follows EoN's `fast_SIR` (Kiss, Miller & Simon, *Mathematics of
//! Epidemics on Networks*, 2017, ch. 6 and appendix A.1.2): a priority queue
//! of transmission events ordered by time. When host `u` becomes infected at
//! time `t` it draws its recovery time `t + Exp(γ)`; along each out-edge
//! `u→v` it draws `t + Exp(τ·w·f)` (edge weight `w`, protection factor `f`)
//! and schedules a transmission if that comes before `u` recovers and before
//! any transmission already scheduled into `v`. Events into hosts that are
//! already infected are discarded when popped. Recovery events need no queue
//! entry: nothing happens at a recovery except that the host stops
//! transmitting, and that is already encoded by the cut-off.
//!
//! **Percolation** opens each directed edge independently with probability
//! `T_e` and infects everything reachable from the start hosts by a
//! breadth-first search. Edges are sampled lazily, when the search first
//! reaches their source while the target is still susceptible; every edge is
//! examined at most once, so this is exactly independent bond percolation.
//! For one start host on a symmetric graph this is also undirected bond
//! percolation: the reverse of an examined edge is only ever looked at when
//! its target is already infected.
//!
//! **Weights and protection act on the rate.** The rate along `u→v` is
//! `τ·w·f`, where `f = 1 − efficacy` if `v` is protected and `1` otherwise;
//! efficacy 1.0 makes a protected host immune. In percolation the edge
//! transmissibility is the Markovian `T_e = x/(x + 1)` with `x = (τ/γ)·w·f`;
//! given `--transmissibility T` directly, `τ/γ = T/(1 − T)`. With unit weights
//! and no protection, `T_e = T`.
//!
//! **Start hosts** are infected whatever their protection: the question is how
//! far an attacker spreads from a foothold they already have.

use crate::network::Csr;
use rand::Rng;
use std::cmp::Reverse;
use std::collections::BinaryHeap;

/// The spreading model.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Model {
    /// Continuous-time SIR: transmission rate `tau` per edge, recovery rate
    /// `gamma` per host.
    Sir { tau: f64, gamma: f64 },
    /// Bond percolation with transmissibility `transmissibility` per edge of
    /// weight 1 into an unprotected host.
    Percolation { transmissibility: f64 },
}

#[derive(Debug, thiserror::Error, PartialEq)]
pub enum ModelError {
    #[error("tau must be a finite number >= 0, got {0}")]
    Tau(f64),
    #[error("gamma must be a finite number > 0, got {0}")]
    Gamma(f64),
    #[error("transmissibility must be between 0 and 1, got {0}")]
    Transmissibility(f64),
    #[error("efficacy must be between 0 and 1, got {0}")]
    Efficacy(f64),
}

impl Model {
    pub fn validate(&self) -> Result<(), ModelError> {
        match *self {
            Model::Sir { tau, gamma } => {
                if !(tau.is_finite() && tau >= 0.0) {
                    return Err(ModelError::Tau(tau));
                }
                if !(gamma.is_finite() && gamma > 0.0) {
                    return Err(ModelError::Gamma(gamma));
                }
            }
            Model::Percolation {
                transmissibility: t,
            } => {
                if !(0.0..=1.0).contains(&t) {
                    return Err(ModelError::Transmissibility(t));
                }
            }
        }
        Ok(())
    }

    /// Transmissibility of a unit-weight edge into an unprotected host.
    pub fn transmissibility(&self) -> f64 {
        match *self {
            Model::Sir { tau, gamma } => tau / (tau + gamma),
            Model::Percolation { transmissibility } => transmissibility,
        }
    }

    pub fn name(&self) -> &'static str {
        match self {
            Model::Sir { .. } => "sir",
            Model::Percolation { .. } => "percolation",
        }
    }
}

/// What one run produced; the infected hosts themselves are left in
/// [`Workspace::infected`] until the next run.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RunOutcome {
    pub infected: u32,
    /// SIR: when the last infected host recovered (in the time unit of τ and
    /// γ). Percolation has no time: the number of BFS generations instead.
    pub duration: f64,
}

/// Per-thread scratch memory, reused across runs so that a run costs time in
/// proportion to the hosts it touches, not to the network size.
#[derive(Debug, Default)]
pub struct Workspace {
    infected_flag: Vec<bool>,
    /// Earliest scheduled transmission into each host (SIR).
    predicted: Vec<f64>,
    touched: Vec<u32>,
    heap: BinaryHeap<Reverse<(u64, u32)>>,
    /// The hosts the last run infected, in order of infection.
    pub infected: Vec<u32>,
}

impl Workspace {
    pub fn new(nodes: usize) -> Self {
        Workspace {
            infected_flag: vec![false; nodes],
            predicted: vec![f64::INFINITY; nodes],
            touched: Vec::new(),
            heap: BinaryHeap::new(),
            infected: Vec::new(),
        }
    }

    fn reset(&mut self, nodes: usize) {
        if self.infected_flag.len() != nodes {
            *self = Workspace::new(nodes);
            return;
        }
        for &u in &self.infected {
            self.infected_flag[u as usize] = false;
        }
        for &u in &self.touched {
            self.predicted[u as usize] = f64::INFINITY;
        }
        self.infected.clear();
        self.touched.clear();
        self.heap.clear();
    }
}

/// A uniform number in [0, 1) with 53 random bits.
#[inline]
pub fn unit<R: Rng + ?Sized>(rng: &mut R) -> f64 {
    (rng.next_u64() >> 11) as f64 * (1.0 / (1u64 << 53) as f64)
}

/// An exponential variate with rate 1 (inverse transform; `1 − U` keeps the
/// argument of `ln` in (0, 1]).
#[inline]
fn exp1<R: Rng + ?Sized>(rng: &mut R) -> f64 {
    -(1.0 - unit(rng)).ln()
}

/// The outbreak simulator for one network and one parameter set.
#[derive(Debug, Clone, Copy)]
pub struct Engine<'a> {
    csr: &'a Csr,
    model: Model,
    /// Multiplier of the rate into a protected host: `1 − efficacy`.
    protected_factor: f64,
}

impl<'a> Engine<'a> {
    pub fn new(csr: &'a Csr, model: Model, efficacy: f64) -> Result<Self, ModelError> {
        model.validate()?;
        if !(0.0..=1.0).contains(&efficacy) {
            return Err(ModelError::Efficacy(efficacy));
        }
        Ok(Engine {
            csr,
            model,
            protected_factor: 1.0 - efficacy,
        })
    }

    pub fn csr(&self) -> &Csr {
        self.csr
    }

    pub fn model(&self) -> Model {
        self.model
    }

    /// Runs one outbreak from `starts` with `protected[v]` marking protected
    /// hosts. Start indexes out of range are ignored (callers pick them from
    /// the network).
    pub fn run<R: Rng + ?Sized>(
        &self,
        ws: &mut Workspace,
        protected: &[bool],
        starts: &[u32],
        rng: &mut R,
    ) -> RunOutcome {
        let n = self.csr.nodes();
        ws.reset(n);
        match self.model {
            Model::Sir { tau, gamma } => self.sir(ws, protected, starts, tau, gamma, rng),
            Model::Percolation { transmissibility } => {
                self.percolation(ws, protected, starts, transmissibility, rng)
            }
        }
    }

    fn sir<R: Rng + ?Sized>(
        &self,
        ws: &mut Workspace,
        protected: &[bool],
        starts: &[u32],
        tau: f64,
        gamma: f64,
        rng: &mut R,
    ) -> RunOutcome {
        let n = self.csr.nodes();
        let unit_weights = self.csr.unit_weights();
        for &s in starts {
            if (s as usize) < n && ws.predicted[s as usize] > 0.0 {
                ws.predicted[s as usize] = 0.0;
                ws.touched.push(s);
                ws.heap.push(Reverse((0f64.to_bits(), s)));
            }
        }
        let mut last_recovery = 0.0f64;
        // Times are >= 0, and the bit patterns of non-negative floats sort
        // like the floats themselves, so the heap can order plain integers.
        while let Some(Reverse((bits, u))) = ws.heap.pop() {
            let ui = u as usize;
            if ws.infected_flag[ui] {
                continue;
            }
            let t = f64::from_bits(bits);
            ws.infected_flag[ui] = true;
            ws.infected.push(u);
            let infectious = exp1(rng) / gamma;
            let recovery = t + infectious;
            last_recovery = last_recovery.max(recovery);
            // A transmission along an edge of rate r happens before recovery
            // iff Exp(r) < D, i.e. iff U < 1 − e^(−rD) for the uniform U that
            // the inverse transform would map to Exp(r). Testing U first and
            // taking the logarithm only on success draws the same times as
            // "t + Exp(r), kept if before recovery", with far fewer `ln`s.
            let p_open = -(-tau * infectious).exp_m1();
            let p_protected = -(-tau * self.protected_factor * infectious).exp_m1();
            let (targets, weights) = self.csr.out(u);
            for (i, &v) in targets.iter().enumerate() {
                let vi = v as usize;
                if ws.infected_flag[vi] {
                    continue;
                }
                let is_protected = protected.get(vi).copied().unwrap_or(false);
                let mut rate = if is_protected {
                    tau * self.protected_factor
                } else {
                    tau
                };
                let p = if unit_weights {
                    if is_protected { p_protected } else { p_open }
                } else {
                    rate *= weights[i];
                    -(-rate * infectious).exp_m1()
                };
                let x = unit(rng);
                if x >= p {
                    continue;
                }
                let when = t - (-x).ln_1p() / rate;
                if when < ws.predicted[vi] {
                    if ws.predicted[vi] == f64::INFINITY {
                        ws.touched.push(v);
                    }
                    ws.predicted[vi] = when;
                    ws.heap.push(Reverse((when.to_bits(), v)));
                }
            }
        }
        RunOutcome {
            infected: ws.infected.len() as u32,
            duration: last_recovery,
        }
    }

    fn percolation<R: Rng + ?Sized>(
        &self,
        ws: &mut Workspace,
        protected: &[bool],
        starts: &[u32],
        t: f64,
        rng: &mut R,
    ) -> RunOutcome {
        let n = self.csr.nodes();
        let unit_weights = self.csr.unit_weights();
        // Rate ratio τ/γ of the equivalent Markovian model, so that weights and
        // protection scale a rate, as in SIR.
        let ratio = if t >= 1.0 {
            f64::INFINITY
        } else {
            t / (1.0 - t)
        };
        let t_protected = edge_transmissibility(ratio, self.protected_factor);
        for &s in starts {
            if (s as usize) < n && !ws.infected_flag[s as usize] {
                ws.infected_flag[s as usize] = true;
                ws.infected.push(s);
            }
        }
        let mut head = 0usize;
        let mut generation_end = ws.infected.len();
        let mut generations = 0u32;
        while head < ws.infected.len() {
            if head == generation_end {
                generations += 1;
                generation_end = ws.infected.len();
            }
            let u = ws.infected[head];
            head += 1;
            let (targets, weights) = self.csr.out(u);
            for (i, &v) in targets.iter().enumerate() {
                let vi = v as usize;
                if ws.infected_flag[vi] {
                    continue;
                }
                let is_protected = protected.get(vi).copied().unwrap_or(false);
                let p = if unit_weights {
                    if is_protected { t_protected } else { t }
                } else {
                    let f = if is_protected {
                        self.protected_factor
                    } else {
                        1.0
                    };
                    edge_transmissibility(ratio, f * weights[i])
                };
                if p > 0.0 && unit(rng) < p {
                    ws.infected_flag[vi] = true;
                    ws.infected.push(v);
                }
            }
        }
        if !ws.infected.is_empty() {
            generations += 1;
        }
        RunOutcome {
            infected: ws.infected.len() as u32,
            duration: f64::from(generations),
        }
    }
}

/// `x/(x + 1)` with `x = ratio·scale`, where an infinite ratio (T = 1) stays
/// 1 unless the scale is 0.
fn edge_transmissibility(ratio: f64, scale: f64) -> f64 {
    if scale <= 0.0 {
        return 0.0;
    }
    if ratio.is_infinite() {
        return 1.0;
    }
    let x = ratio * scale;
    x / (x + 1.0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::network::{Edge, Network};
    use rand::SeedableRng;
    use rand_chacha::ChaCha8Rng;

    fn path(n: u32) -> Csr {
        let edges: Vec<Edge> = (0..n - 1)
            .map(|i| Edge {
                from: i,
                to: i + 1,
                weight: 1.0,
            })
            .collect();
        Csr::from_edges(n as usize, &edges)
    }

    #[test]
    fn certain_transmission_walks_the_whole_path() {
        let csr = path(5);
        let e = Engine::new(
            &csr,
            Model::Percolation {
                transmissibility: 1.0,
            },
            1.0,
        )
        .unwrap();
        let mut ws = Workspace::new(5);
        let mut rng = ChaCha8Rng::seed_from_u64(1);
        let out = e.run(&mut ws, &[false; 5], &[0], &mut rng);
        assert_eq!(out.infected, 5);
        assert_eq!(ws.infected, vec![0, 1, 2, 3, 4]);
        assert_eq!(out.duration, 5.0);
        // A protected, immune host in the middle cuts the path.
        let protected = [false, false, true, false, false];
        let out = e.run(&mut ws, &protected, &[0], &mut rng);
        assert_eq!(ws.infected, vec![0, 1]);
        assert_eq!(out.infected, 2);
        // The workspace is reset between runs: starting at 3 reaches 3 and 4.
        e.run(&mut ws, &protected, &[3], &mut rng);
        assert_eq!(ws.infected, vec![3, 4]);
    }

    #[test]
    fn zero_tau_infects_only_the_start_hosts() {
        let csr = path(4);
        let e = Engine::new(
            &csr,
            Model::Sir {
                tau: 0.0,
                gamma: 1.0,
            },
            1.0,
        )
        .unwrap();
        let mut ws = Workspace::new(4);
        let mut rng = ChaCha8Rng::seed_from_u64(7);
        let out = e.run(&mut ws, &[false; 4], &[1, 3, 1], &mut rng);
        assert_eq!(out.infected, 2);
        assert_eq!(ws.infected, vec![1, 3]);
    }

    #[test]
    fn bad_parameters_are_rejected() {
        let csr = path(2);
        assert!(
            Engine::new(
                &csr,
                Model::Sir {
                    tau: 1.0,
                    gamma: 1.0
                },
                f64::NAN
            )
            .is_err()
        );
        let _ = Network::new();
    }

    #[test]
    fn weights_scale_the_rate() {
        assert_eq!(edge_transmissibility(1.0, 1.0), 0.5);
        assert_eq!(edge_transmissibility(1.0, 3.0), 0.75);
        assert_eq!(edge_transmissibility(f64::INFINITY, 0.5), 1.0);
        assert_eq!(edge_transmissibility(f64::INFINITY, 0.0), 0.0);
    }
}
