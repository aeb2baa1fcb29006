#!/usr/bin/env python3
"""Paired A/B of two builds of samples/bench: WebSocket echo (bench/tools/ws_load) or an HTTP
path (wrk), alternating A and B run by run, each server pinned to CPU 0 and the load generator
to CPU 1. Prints each pair's rate and server CPU per message, then the medians of the B/A
ratios.

  bench/ab.py OLD_BENCH NEW_BENCH --ws-load build/release/bench/ws_load [--pairs 6]
              [--connections 64] [--seconds 3] [--http /plaintext] [--pipeline 16]
"""
import argparse
import re
import statistics
import subprocess
import time
from pathlib import Path

SERVER_CPU, CLIENT_CPU = "0", "1"


def cpu_seconds(pid):
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / 100.0  # utime + stime, in clock ticks


def start(binary):
    proc = subprocess.Popen(["taskset", "-c", SERVER_CPU, binary, "--port", "0", "--threads",
                             "1", "--log-level", "error"], stdout=subprocess.PIPE, text=True)
    line = proc.stdout.readline()
    port = int(re.search(r":(\d+)\s*$", line).group(1))
    return proc, port


def measure(args, proc, port):
    before = cpu_seconds(proc.pid)
    if args.http or args.pipeline:
        url = f"http://127.0.0.1:{port}{args.http or ''}"
        script = ([ "-s", str(Path(__file__).parent / "pipeline.lua"), url, "--",
                    str(args.pipeline)] if args.pipeline else [url])
        out = subprocess.run(["taskset", "-c", CLIENT_CPU, "wrk", "-t1",
                              f"-c{args.connections}", f"-d{args.seconds}s"] + script,
                             capture_output=True, text=True, check=True).stdout
        count = int(re.search(r"(\d+) requests in", out).group(1))
        rate = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    else:
        out = subprocess.run(["taskset", "-c", CLIENT_CPU, args.ws_load, "--port", str(port),
                              "--connections", str(args.connections), "--duration",
                              str(args.seconds), "--warmup", "1"],
                             capture_output=True, text=True, check=True).stdout
        m = dict(re.findall(r"(\w+)=([\d.]+)", out))
        count, rate = int(m["all"]), float(m["rate"])
    used = cpu_seconds(proc.pid) - before
    return rate, used / count * 1e6


def main():
    p = argparse.ArgumentParser()
    p.add_argument("a")
    p.add_argument("b")
    p.add_argument("--ws-load", default="build/release/bench/ws_load")
    p.add_argument("--http")
    p.add_argument("--pipeline", type=int, help="pipelined /plaintext, this many deep")
    p.add_argument("--pairs", type=int, default=6)
    p.add_argument("--connections", type=int, default=64)
    p.add_argument("--seconds", type=int, default=3)
    args = p.parse_args()
    servers = {"A": start(args.a), "B": start(args.b)}
    rate_ratios, cpu_ratios = [], []
    try:
        for i in range(args.pairs):
            order = ["A", "B"] if i % 2 == 0 else ["B", "A"]
            result = {}
            for name in order:
                proc, port = servers[name]
                result[name] = measure(args, proc, port)
                time.sleep(0.3)
            (ra, ca), (rb, cb) = result["A"], result["B"]
            rate_ratios.append(rb / ra)
            cpu_ratios.append(cb / ca)
            print(f"pair {i + 1}: A {ra:,.0f}/s {ca:.2f} us  B {rb:,.0f}/s {cb:.2f} us  "
                  f"rate B/A {rb / ra:.3f}  cpu B/A {cb / ca:.3f}", flush=True)
    finally:
        for proc, _ in servers.values():
            proc.terminate()
            proc.wait()
    print(f"median rate B/A {statistics.median(rate_ratios):.3f} "
          f"({min(rate_ratios):.3f}-{max(rate_ratios):.3f}); "
          f"median cpu per message B/A {statistics.median(cpu_ratios):.3f} "
          f"({min(cpu_ratios):.3f}-{max(cpu_ratios):.3f})")


if __name__ == "__main__":
    main()
