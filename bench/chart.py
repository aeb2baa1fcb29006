#!/usr/bin/env python3
"""Draws docs/benchmarks.png from bench/results/latest.tsv (written by bench/suite.py):
throughput per test, one bar per server, and the server's CPU time per request or message.
    python3 bench/chart.py bench/results/latest.tsv docs/benchmarks.png
"""
import csv
import sys

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

COLORS = {"flamecpp": "#d9480f", "drogon": "#7048e8", "crow": "#f59f00", "beast": "#495057",
          "nginx": "#2b8a3e", "starlette": "#1971c2", "epoll floor": "#adb5bd",
          "asio floor": "#868e96"}


def main(tsv, png):
    with open(tsv) as f:
        rows = list(csv.DictReader(f, delimiter="\t"))
    groups = []
    for r in rows:
        g = f"{r['test']}\n{r['connections']} conns"
        if g not in groups:
            groups.append(g)
    targets = [t for t in COLORS if any(r["target"] == t for r in rows)]
    width = 0.8 / len(targets)
    fig, (top, bottom) = plt.subplots(2, 1, figsize=(14, 9), sharex=True)
    for i, t in enumerate(targets):
        xs, rates, cpu = [], [], []
        for r in rows:
            if r["target"] == t:
                x = groups.index(f"{r['test']}\n{r['connections']} conns") + (i - (len(targets)
                                                                                     - 1) / 2) * width
                xs.append(x)
                rates.append(float(r["rate"]) / 1000)
                cpu.append(float(r["cpu_us"]))
        top.bar(xs, rates, width, label=t, color=COLORS[t])
        bottom.bar(xs, cpu, width, label=t, color=COLORS[t])
    top.set_ylabel("thousand requests (messages) / s")
    top.set_title("One server core, load generator on the other (higher is better)")
    top.legend()
    bottom.set_ylabel("server CPU µs per request")
    bottom.set_title("Server CPU per request or message (lower is better)")
    bottom.set_yscale("log")
    bottom.set_xticks(range(len(groups)))
    bottom.set_xticklabels(groups, rotation=30, ha="right", fontsize=8)
    fig.tight_layout()
    fig.savefig(png, dpi=100)


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
