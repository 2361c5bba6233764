#!/usr/bin/env python3
"""Helper for scripts/bench-coverage.sh: the EoN side of the coverage benchmark.

Subcommands:
  graph    write a Barabasi-Albert graph (networkx) as lockstep hosts/edges CSV
  eon      run EoN.fast_SIR from one random start node per run, time it
  compare  compare EoN's and lockstep's P(major) (two-proportion z-test) and
           size given major (Welch's t-test)
"""
import argparse
import csv
import json
import math
import random
import sys
import time


def cmd_graph(a):
    import networkx as nx

    g = nx.barabasi_albert_graph(a.nodes, a.m, seed=a.seed)
    with open(a.hosts, "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["id", "role", "exposure", "protected"])
        for n in sorted(g.nodes()):
            w.writerow([f"n{n}", "server", "", "no"])
    with open(a.edges, "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["from", "to"])
        for u, v in g.edges():
            w.writerow([f"n{u}", f"n{v}"])
    print(f"graph: {g.number_of_nodes()} nodes, {g.number_of_edges()} edges", file=sys.stderr)


def load_graph(edges_path):
    import networkx as nx

    g = nx.Graph()
    with open(edges_path, newline="") as f:
        r = csv.reader(f)
        next(r)
        for row in r:
            g.add_edge(row[0], row[1])
    return g


def cmd_eon(a):
    import EoN

    g = load_graph(a.edges)
    nodes = sorted(g.nodes())
    rng = random.Random(a.seed)
    sizes = []
    seconds = []
    cpu_seconds = []
    for i in range(a.runs):
        start = rng.choice(nodes)
        t0, c0 = time.perf_counter(), time.process_time()
        t, S, I, R = EoN.fast_SIR(g, a.tau, a.gamma, initial_infecteds=[start])
        seconds.append(time.perf_counter() - t0)
        cpu_seconds.append(time.process_time() - c0)
        # Everybody infected recovers by the end: the final size is R at the end.
        sizes.append(int(R[-1]))
        if (i + 1) % 20 == 0:
            print(f"eon: {i + 1}/{a.runs} runs, {sum(seconds):.1f} s", file=sys.stderr)
    with open(a.out, "w") as f:
        json.dump(
            {"nodes": g.number_of_nodes(), "sizes": sizes, "seconds": seconds, "cpu_seconds": cpu_seconds}, f
        )


def welch(m1, s1, n1, m2, s2, n2):
    from scipy import stats

    v1, v2 = s1 * s1 / n1, s2 * s2 / n2
    t = (m1 - m2) / math.sqrt(v1 + v2)
    df = (v1 + v2) ** 2 / (v1 * v1 / (n1 - 1) + v2 * v2 / (n2 - 1))
    p = 2 * stats.t.sf(abs(t), df)
    return t, df, p


def two_proportion(k1, n1, k2, n2):
    from scipy import stats

    p = (k1 + k2) / (n1 + n2)
    se = math.sqrt(p * (1 - p) * (1 / n1 + 1 / n2))
    z = (k1 / n1 - k2 / n2) / se if se > 0 else 0.0
    return z, 2 * stats.norm.sf(abs(z))


def cmd_compare(a):
    eon = json.load(open(a.eon))
    ls = json.load(open(a.lockstep))
    threshold = ls["major_threshold"]
    pol = ls["policies"][0]
    n_nodes = eon["nodes"]
    majors = [s for s in eon["sizes"] if s >= threshold]
    n1, k1 = len(eon["sizes"]), len(majors)
    m1 = sum(majors) / k1
    s1 = math.sqrt(sum((x - m1) ** 2 for x in majors) / (k1 - 1))
    n2, k2 = pol["runs"], pol["major"]["count"]
    sg = pol["size_given_major"]["hosts"]
    m2, s2 = sg["mean"], sg["sd"]
    z, pz = two_proportion(k1, n1, k2, n2)
    t, df, pt = welch(m1, s1, k1, m2, s2, k2)
    eon_per_run = sum(eon["seconds"]) / n1
    eon_cpu_per_run = sum(eon.get("cpu_seconds", [float("nan")])) / n1
    eon_per_major = sum(sec for sec, s in zip(eon["seconds"], eon["sizes"]) if s >= threshold) / k1
    result = {
        "threshold": threshold,
        "eon": {"runs": n1, "majors": k1, "p_major": k1 / n1, "size_mean": m1, "size_sd": s1,
                "seconds_per_run": eon_per_run, "cpu_seconds_per_run": eon_cpu_per_run,
                "seconds_per_major": eon_per_major},
        "lockstep": {"runs": n2, "majors": k2, "p_major": k2 / n2, "size_mean": m2, "size_sd": s2,
                     "seconds_per_run": a.lockstep_seconds_per_run,
                     "cpu_seconds_per_run": a.lockstep_cpu_seconds_per_run},
        "two_proportion": {"z": z, "p": pz},
        "welch": {"t": t, "df": df, "p": pt},
        "speedup_per_run": eon_per_run / a.lockstep_seconds_per_run,
        "speedup_cpu_per_run": eon_cpu_per_run / a.lockstep_cpu_seconds_per_run,
    }
    json.dump(result, sys.stdout, indent=2)
    print()
    print(
        f"P(major): EoN {k1}/{n1} = {k1 / n1:.3f}, lockstep {k2}/{n2} = {k2 / n2:.3f}; "
        f"two-proportion z = {z:.2f}, p = {pz:.3f}",
        file=sys.stderr,
    )
    print(
        f"size given major: EoN {m1:.0f} ± {s1:.0f} ({m1 / n_nodes:.4f}), lockstep {m2:.0f} ± {s2:.0f} "
        f"({m2 / n_nodes:.4f}); Welch t = {t:.2f}, df = {df:.0f}, p = {pt:.3f}",
        file=sys.stderr,
    )
    print(
        f"wall time per run: EoN {eon_per_run * 1000:.1f} ms, lockstep (1 thread) "
        f"{a.lockstep_seconds_per_run * 1000:.3f} ms: {result['speedup_per_run']:.0f}x",
        file=sys.stderr,
    )
    print(
        f"CPU time per run: EoN {eon_cpu_per_run * 1000:.1f} ms, lockstep (1 thread) "
        f"{a.lockstep_cpu_seconds_per_run * 1000:.3f} ms: {result['speedup_cpu_per_run']:.0f}x",
        file=sys.stderr,
    )


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = p.add_subparsers(dest="cmd", required=True)
    g = sub.add_parser("graph")
    g.add_argument("--nodes", type=int, default=100_000)
    g.add_argument("--m", type=int, default=3)
    g.add_argument("--seed", type=int, default=1)
    g.add_argument("--hosts", required=True)
    g.add_argument("--edges", required=True)
    e = sub.add_parser("eon")
    e.add_argument("--edges", required=True)
    e.add_argument("--runs", type=int, default=200)
    e.add_argument("--tau", type=float, default=0.3)
    e.add_argument("--gamma", type=float, default=1.0)
    e.add_argument("--seed", type=int, default=1)
    e.add_argument("--out", required=True)
    c = sub.add_parser("compare")
    c.add_argument("--eon", required=True)
    c.add_argument("--lockstep", required=True)
    c.add_argument("--lockstep-seconds-per-run", type=float, required=True)
    c.add_argument("--lockstep-cpu-seconds-per-run", type=float, required=True)
    a = p.parse_args()
    {"graph": cmd_graph, "eon": cmd_eon, "compare": cmd_compare}[a.cmd](a)


if __name__ == "__main__":
    main()
