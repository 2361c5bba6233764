//! A picture of a small network (SVG): who can reach whom, each host's role,
//! whether it runs anti-virus today and whether it is exposed. Drawn with a
//! force-directed layout (Fruchterman–Reingold) from fixed starting places,
//! so the same network always gives the same picture.

use crate::network::{Network, Role};
use serde::Serialize;

/// Larger networks are not drawn: the picture would be a hairball.
pub const MAX_HOSTS: usize = 80;

const SIZE: f64 = 560.0;
const MARGIN: f64 = 40.0;
const ITERATIONS: usize = 300;

fn colour(role: Role) -> &'static str {
    match role {
        Role::Hypervisor => "#c0504d",
        Role::Vm => "#4f81bd",
        Role::Server => "#8064a2",
        Role::Workstation => "#f79646",
        Role::DomainController => "#4bacc6",
    }
}

/// Positions in [0, 1]², hosts of a role starting together on a circle.
fn layout(net: &Network) -> Vec<(f64, f64)> {
    let n = net.len();
    let mut order: Vec<usize> = (0..n).collect();
    order.sort_by_key(|&i| (net.hosts()[i].role, i));
    let mut pos = vec![(0.5, 0.5); n];
    for (k, &i) in order.iter().enumerate() {
        let a = std::f64::consts::TAU * k as f64 / n.max(1) as f64;
        pos[i] = (0.5 + 0.4 * a.cos(), 0.5 + 0.4 * a.sin());
    }
    let k = (1.0 / n.max(1) as f64).sqrt();
    let mut temperature = 0.1;
    for _ in 0..ITERATIONS {
        let mut disp = vec![(0.0f64, 0.0f64); n];
        for i in 0..n {
            for j in (i + 1)..n {
                let (dx, dy) = (pos[i].0 - pos[j].0, pos[i].1 - pos[j].1);
                let d = (dx * dx + dy * dy).sqrt().max(1e-4);
                let f = k * k / d;
                disp[i].0 += dx / d * f;
                disp[i].1 += dy / d * f;
                disp[j].0 -= dx / d * f;
                disp[j].1 -= dy / d * f;
            }
        }
        for e in net.edges() {
            let (a, b) = (e.from as usize, e.to as usize);
            let (dx, dy) = (pos[a].0 - pos[b].0, pos[a].1 - pos[b].1);
            let d = (dx * dx + dy * dy).sqrt().max(1e-4);
            let f = d * d / k;
            disp[a].0 -= dx / d * f;
            disp[a].1 -= dy / d * f;
            disp[b].0 += dx / d * f;
            disp[b].1 += dy / d * f;
        }
        for i in 0..n {
            let (dx, dy) = disp[i];
            let d = (dx * dx + dy * dy).sqrt().max(1e-9);
            let step = d.min(temperature);
            pos[i].0 = (pos[i].0 + dx / d * step).clamp(0.0, 1.0);
            pos[i].1 = (pos[i].1 + dy / d * step).clamp(0.0, 1.0);
        }
        temperature *= 0.985;
    }
    pos
}

/// One reachability edge, its ends' coordinates.
#[derive(Serialize)]
struct Line {
    x1: String,
    y1: String,
    x2: String,
    y2: String,
}

/// One host: where, its colours and what its tooltip says.
#[derive(Serialize)]
struct Dot {
    x: String,
    y: String,
    label_y: String,
    fill: &'static str,
    colour: &'static str,
    name: String,
    role: &'static str,
    protected: bool,
    /// Where it is exposed (`dmz`, `internet-facing`), empty when not.
    exposure: String,
}

/// One line of the key, `y` from the top.
#[derive(Serialize)]
struct KeyRow {
    y: String,
    text_y: String,
    colour: &'static str,
    role: &'static str,
}

/// The picture as the template draws it (templates/network.svg.j2).
#[derive(Serialize)]
struct Drawing {
    width: String,
    height: String,
    edges: Vec<Line>,
    hosts: Vec<Dot>,
    /// The left of the key, its dots' and texts' x.
    key_x: String,
    key_dot_x: String,
    key_text_x: String,
    key: Vec<KeyRow>,
    /// The key's last three lines: hollow, dashed ring, arrow.
    hollow_y: String,
    hollow_text_y: String,
    ring_y: String,
    ring_text_y: String,
    arrow_text_y: String,
}

/// The picture, `Ok(None)` for a network too large to draw; `Err` only if
/// the template fails (a bug).
pub fn svg(net: &Network) -> Result<Option<String>, String> {
    if net.is_empty() || net.len() > MAX_HOSTS {
        return Ok(None);
    }
    let pos = layout(net);
    let at = |i: u32| {
        let (x, y) = pos[i as usize];
        (MARGIN + x * SIZE, MARGIN + y * SIZE)
    };
    let (w, h) = (SIZE + 2.0 * MARGIN + 170.0, SIZE + 2.0 * MARGIN);
    let edges = net
        .edges()
        .iter()
        .map(|e| {
            let ((x1, y1), (x2, y2)) = (at(e.from), at(e.to));
            Line {
                x1: format!("{x1:.1}"),
                y1: format!("{y1:.1}"),
                x2: format!("{x2:.1}"),
                y2: format!("{y2:.1}"),
            }
        })
        .collect();
    let hosts = net
        .hosts()
        .iter()
        .enumerate()
        .map(|(i, host)| {
            let (x, y) = at(i as u32);
            let c = colour(host.role);
            Dot {
                x: format!("{x:.1}"),
                y: format!("{y:.1}"),
                label_y: format!("{:.1}", y - 14.0),
                fill: if host.protected { c } else { "#fff" },
                colour: c,
                name: host.id.clone(),
                role: host.role.as_str(),
                protected: host.protected,
                exposure: if host.is_exposed() {
                    host.exposure.trim().to_string()
                } else {
                    String::new()
                },
            }
        })
        .collect();
    // The key.
    let lx = SIZE + 2.0 * MARGIN;
    let mut y = MARGIN;
    let mut key = Vec::new();
    for role in Role::ALL {
        if !net.hosts().iter().any(|h| h.role == role) {
            continue;
        }
        key.push(KeyRow {
            y: format!("{y}"),
            text_y: format!("{}", y + 4.0),
            colour: colour(role),
            role: role.as_str(),
        });
        y += 22.0;
    }
    let drawing = Drawing {
        width: format!("{w}"),
        height: format!("{h}"),
        edges,
        hosts,
        key_x: format!("{lx}"),
        key_dot_x: format!("{}", lx + 8.0),
        key_text_x: format!("{}", lx + 22.0),
        key,
        hollow_y: format!("{y}"),
        hollow_text_y: format!("{}", y + 4.0),
        ring_y: format!("{}", y + 22.0),
        ring_text_y: format!("{}", y + 26.0),
        arrow_text_y: format!("{}", y + 48.0),
    };
    crate::html::render("network.svg", drawing).map(Some)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::network::Host;

    fn net(n: usize) -> Network {
        let mut net = Network::new();
        for i in 0..n {
            net.add_host(Host {
                id: format!("H{i}<x>"),
                role: if i == 0 { Role::Hypervisor } else { Role::Vm },
                exposure: if i == 1 { "dmz".into() } else { String::new() },
                protected: i % 2 == 0,
            })
            .unwrap();
        }
        for i in 1..n as u32 {
            net.add_edge(0, i, 1.0).unwrap();
        }
        net
    }

    #[test]
    fn every_host_and_edge_is_drawn_once_names_escaped() {
        let s = svg(&net(6)).unwrap().unwrap();
        assert_eq!(s.matches("<line ").count(), 5);
        // The six hosts (the key's dots are drawn smaller, r="7").
        assert_eq!(s.matches(" r=\"9\"").count(), 6);
        assert!(s.contains("H0&lt;x&gt;: hypervisor, anti-virus"));
        assert!(s.contains("H1&lt;x&gt;: vm, no anti-virus, exposed (dmz)"));
        assert!(!s.contains("<x>"));
        // The same network gives the same picture.
        assert_eq!(s, svg(&net(6)).unwrap().unwrap());
    }

    #[test]
    fn large_networks_are_not_drawn() {
        assert!(svg(&net(MAX_HOSTS + 1)).unwrap().is_none());
        assert!(svg(&Network::new()).unwrap().is_none());
    }
}
