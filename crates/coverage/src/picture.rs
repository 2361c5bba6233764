//! A picture of a small network (SVG): who can reach whom, each host's role,
//! whether it runs anti-virus today and whether it is exposed. Drawn with a
//! force-directed layout (Fruchterman–Reingold) from fixed starting places,
//! so the same network always gives the same picture.

use crate::network::{Network, Role};
use crate::render::escape;
use std::fmt::Write;

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

/// The picture, or `None` for a network too large to draw.
pub fn svg(net: &Network) -> Option<String> {
    if net.is_empty() || net.len() > MAX_HOSTS {
        return None;
    }
    let pos = layout(net);
    let at = |i: u32| {
        let (x, y) = pos[i as usize];
        (MARGIN + x * SIZE, MARGIN + y * SIZE)
    };
    let (w, h) = (SIZE + 2.0 * MARGIN + 170.0, SIZE + 2.0 * MARGIN);
    let mut s = format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{w}\" height=\"{h}\" role=\"img\" aria-label=\"the network: hosts by role, who can reach whom\">"
    );
    s.push_str("<defs><marker id=\"arrow\" viewBox=\"0 0 10 10\" refX=\"19\" refY=\"5\" markerWidth=\"6\" markerHeight=\"6\" orient=\"auto-start-reverse\"><path d=\"M0,0L10,5L0,10z\" fill=\"#999\"/></marker></defs>");
    for e in net.edges() {
        let ((x1, y1), (x2, y2)) = (at(e.from), at(e.to));
        let _ = write!(
            s,
            "<line x1=\"{x1:.1}\" y1=\"{y1:.1}\" x2=\"{x2:.1}\" y2=\"{y2:.1}\" stroke=\"#bbb\" marker-end=\"url(#arrow)\"/>"
        );
    }
    for (i, host) in net.hosts().iter().enumerate() {
        let (x, y) = at(i as u32);
        let c = colour(host.role);
        let fill = if host.protected { c } else { "#fff" };
        if host.is_exposed() {
            let _ = write!(
                s,
                "<circle cx=\"{x:.1}\" cy=\"{y:.1}\" r=\"13\" fill=\"none\" stroke=\"#000\" stroke-dasharray=\"3 2\"/>"
            );
        }
        let name = escape(&host.id);
        let _ = write!(
            s,
            "<circle cx=\"{x:.1}\" cy=\"{y:.1}\" r=\"9\" fill=\"{fill}\" stroke=\"{c}\" stroke-width=\"3\"><title>{name}: {}{}{}</title></circle><text x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"middle\">{name}</text>",
            host.role,
            if host.protected {
                ", anti-virus"
            } else {
                ", no anti-virus"
            },
            if host.is_exposed() {
                format!(", exposed ({})", escape(host.exposure.trim()))
            } else {
                String::new()
            },
            x,
            y - 14.0
        );
    }
    // The key.
    let lx = SIZE + 2.0 * MARGIN;
    let mut y = MARGIN;
    for role in Role::ALL {
        if !net.hosts().iter().any(|h| h.role == role) {
            continue;
        }
        let c = colour(role);
        let _ = write!(
            s,
            "<circle cx=\"{}\" cy=\"{y}\" r=\"7\" fill=\"{c}\" stroke=\"{c}\" stroke-width=\"3\"/><text x=\"{}\" y=\"{}\">{role}</text>",
            lx + 8.0,
            lx + 22.0,
            y + 4.0
        );
        y += 22.0;
    }
    let _ = write!(
        s,
        "<circle cx=\"{}\" cy=\"{y}\" r=\"7\" fill=\"#fff\" stroke=\"#555\" stroke-width=\"3\"/><text x=\"{}\" y=\"{}\">hollow: no anti-virus today</text>",
        lx + 8.0,
        lx + 22.0,
        y + 4.0
    );
    y += 22.0;
    let _ = write!(
        s,
        "<circle cx=\"{}\" cy=\"{y}\" r=\"10\" fill=\"none\" stroke=\"#000\" stroke-dasharray=\"3 2\"/><text x=\"{}\" y=\"{}\">dashed ring: exposed</text>",
        lx + 8.0,
        lx + 22.0,
        y + 4.0
    );
    y += 22.0;
    let _ = write!(
        s,
        "<text x=\"{lx}\" y=\"{}\">arrow: can reach</text></svg>",
        y + 4.0
    );
    Some(s)
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
        let s = svg(&net(6)).unwrap();
        assert_eq!(s.matches("<line ").count(), 5);
        // Six hosts, two key dots (hypervisor, vm) and the hollow one.
        assert_eq!(s.matches(" r=\"9\"").count(), 6);
        assert!(s.contains("H0&lt;x&gt;: hypervisor, anti-virus"));
        assert!(s.contains("H1&lt;x&gt;: vm, no anti-virus, exposed (dmz)"));
        assert!(!s.contains("<x>"));
        // The same network gives the same picture.
        assert_eq!(s, svg(&net(6)).unwrap());
    }

    #[test]
    fn large_networks_are_not_drawn() {
        assert!(svg(&net(MAX_HOSTS + 1)).is_none());
        assert!(svg(&Network::new()).is_none());
    }
}
