#!/usr/bin/env python3
"""The side-by-side benchmark suite behind bench/run (see docs/benchmarks.md).

Every server runs pinned to one CPU and every load generator to the other, on 127.0.0.1.
Rounds are interleaved: a round starts every target, then measures each cell's targets back to
back in an order that rotates per round; each cell is the median round.
Writes bench/results/latest.tsv (the medians), prints the table, regenerates the
results section of docs/benchmarks.md and docs/benchmarks.png.
"""
import argparse
import datetime
import os
import platform
import re
import resource
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BUILD = ROOT / "build" / "release"
SERVER_CPU = "0"
CLIENT_CPU = "1"
PYTHON = "/usr/bin/python3"  # Debian's, where python3-uvicorn lives


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_port(port, proc, timeout=10.0):
    end = time.time() + timeout
    while time.time() < end:
        if proc.poll() is not None:
            raise RuntimeError(f"server exited with {proc.returncode}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError(f"nothing listens on {port}")


class Server:
    """One target: started pinned to SERVER_CPU, measured through /proc/PID."""

    pinned = True  # False: server and load generator both float over every CPU

    def __init__(self, name, ws_path):
        self.name = name
        self.ws_path = ws_path  # None: no WebSocket echo
        self.proc = None
        self.port = None
        self.scratch = None

    def command(self, port):
        raise NotImplementedError

    def start(self):
        self.port = free_port()
        self.scratch = tempfile.TemporaryDirectory(prefix=f"bench-{self.name}-")
        cmd = (["taskset", "-c", SERVER_CPU] if self.pinned else []) + self.command(self.port)
        self.proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                                     cwd=ROOT)
        wait_port(self.port, self.proc)
        return self

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        if self.scratch:
            self.scratch.cleanup()

    def cpu_seconds(self):
        return sum(self.cpu_split())

    def cpu_split(self):
        """(user, kernel) CPU seconds so far."""
        fields = Path(f"/proc/{self.proc.pid}/stat").read_text().rsplit(")", 1)[1].split()
        tick = os.sysconf("SC_CLK_TCK")
        return int(fields[11]) / tick, int(fields[12]) / tick

    def rss_kib(self):
        for line in Path(f"/proc/{self.proc.pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
        return 0


class Flamecpp(Server):
    """samples/bench. Pinned with one thread for the main table; unpinned with one or two
    threads for the --threads rows."""

    def __init__(self, threads=1, pinned=True):
        super().__init__("flamecpp" if pinned else f"flamecpp {threads}t", "/ws")
        self.threads = threads
        self.pinned = pinned

    def command(self, port):
        return [str(BUILD / "samples" / "bench"), "--port", str(port), "--threads",
                str(self.threads), "--log-level", "off"]


class FlamecppMiddleware(Flamecpp):
    """samples/bench --middleware: the same routes through RequestID, CORS (no Origin: not a
    preflight) and GZip (13 bytes: below its threshold), for the middleware row."""

    LAYERS = 3

    def __init__(self):
        super().__init__()
        self.name = "flamecpp + 3 middleware"
        self.ws_path = None

    def command(self, port):
        return super().command(port) + ["--middleware"]


class BeastRef(Server):
    """bench/ref: the HTTP reference, and the WebSocket reference for the echo rows."""

    def __init__(self):
        super().__init__("beast", "/ws")

    def command(self, port):
        return [str(BUILD / "bench" / "beast_ref"), str(port)]


class BeastWsRef(Server):
    def __init__(self):
        super().__init__("beast", "/ws")

    def command(self, port):
        return [str(BUILD / "bench" / "beast_ws_ref"), str(port)]


class EpollRef(Server):
    """bench/ref/epoll_ref: plain epoll and canned answers, the machine's floor, in every HTTP
    cell; and its echo of WebSocket frames, in every echo cell."""

    def __init__(self):
        super().__init__("epoll floor", "/ws")

    def command(self, port):
        return [str(BUILD / "bench" / "epoll_ref"), str(port)]


class AsioRef(Server):
    """bench/ref/asio_ref: the epoll floor's canned answers and echo on Asio coroutines, the
    stack's floor: what Asio's reactor and awaitables cost before any HTTP or WebSocket work.
    In every HTTP and echo cell beside the epoll floor."""

    def __init__(self):
        super().__init__("asio floor", "/ws")

    def command(self, port):
        return [str(BUILD / "bench" / "asio_ref"), str(port)]


def nginx_command(scratch, port, http_extra, locations):
    """nginx as every target runs it here: one worker, no master, no logs, `http_extra`
    in the http block and `locations` in the one server on 127.0.0.1:port."""
    d = scratch
    conf = Path(d) / "nginx.conf"
    conf.write_text(f"""
worker_processes 1;
master_process off;
daemon off;
pid {d}/nginx.pid;
error_log stderr error;
worker_rlimit_nofile 20000;
events {{ worker_connections 19000; }}
http {{
    access_log off;
    client_body_temp_path {d}; proxy_temp_path {d}; fastcgi_temp_path {d};
    uwsgi_temp_path {d}; scgi_temp_path {d};
    keepalive_requests 1000000;
    {http_extra}
    server {{
        listen 127.0.0.1:{port} reuseport backlog=4096;
        {locations}
    }}
}}
""")
    return ["nginx", "-p", d, "-c", str(conf)]


class Nginx(Server):
    def __init__(self):
        super().__init__("nginx", None)

    def command(self, port):
        return nginx_command(self.scratch.name, port, "", """
        location = /plaintext { default_type text/plain; return 200 "Hello, World!"; }
        location = /json { default_type application/json;
                           return 200 '{"message":"Hello, World!"}'; }""")


class FilesEvents(Server):
    """bench/apps/files_events: a folder mounted at /static and an endless event stream at
    /events. Named "flamecpp" so the static cells pair it with nginx."""

    def __init__(self, root):
        super().__init__("flamecpp", None)
        self.root = root

    def command(self, port):
        return [str(BUILD / "bench" / "files_events"), "--root", str(self.root), "--port",
                str(port), "--threads", "1", "--log-level", "off"]


class NginxStatic(Server):
    """nginx serving the same folder at /static/, with sendfile, as it ships for files."""

    def __init__(self, root):
        super().__init__("nginx", None)
        self.root = root

    def command(self, port):
        return nginx_command(self.scratch.name, port,
                             "sendfile on; tcp_nopush on; types { application/octet-stream bin; }",
                             f"location /static/ {{ alias {self.root}/; }}")


def tls_files():
    """A self-signed P-256 certificate for both TLS targets (the clients do not check it)."""
    d = Path(tempfile.mkdtemp(prefix="bench-tls-"))
    subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt",
                    "ec_paramgen_curve:prime256v1", "-nodes", "-keyout", str(d / "key.pem"),
                    "-out", str(d / "cert.pem"), "-days", "30", "-subj", "/CN=localhost"],
                   check=True, capture_output=True)
    return d / "cert.pem", d / "key.pem"


class FlamecppTls(Flamecpp):
    """samples/bench with --tls-cert/--tls-key: HTTPS and WSS."""

    def __init__(self, cert, key):
        super().__init__()
        self.cert, self.key = cert, key

    def command(self, port):
        return super().command(port) + ["--tls-cert", str(self.cert), "--tls-key", str(self.key)]


class NginxTls(Server):
    """nginx with the same certificate, TLS 1.2 and 1.3 and the cipher flamecpp picks
    (OpenSSL's first TLS 1.3 suite, TLS_AES_256_GCM_SHA384, for clients that offer it first),
    tickets on, as flamecpp."""

    def __init__(self, cert, key):
        super().__init__("nginx", None)
        self.cert, self.key = cert, key

    def command(self, port):
        cmd = nginx_command(self.scratch.name, port, "", f"""
        ssl_certificate {self.cert}; ssl_certificate_key {self.key};
        ssl_protocols TLSv1.2 TLSv1.3; ssl_session_tickets on;
        location = /plaintext {{ default_type text/plain; return 200 "Hello, World!"; }}""")
        conf = Path(cmd[-1])
        conf.write_text(conf.read_text().replace("reuseport backlog=4096;",
                                                 "reuseport backlog=4096 ssl;"))
        return cmd


def tls_cipher(port):
    """The protocol and cipher a default client gets, as `openssl s_client` reports it."""
    out = subprocess.run(["openssl", "s_client", "-connect", f"127.0.0.1:{port}"], input="",
                         capture_output=True, text=True, timeout=10).stdout
    m = re.search(r"New, (\S+), Cipher is (\S+)", out)
    return f"{m.group(1)} {m.group(2)}" if m else "?"


def static_folder():
    """The files both servers send: 1 KiB and 1 MiB of random bytes (nothing to compress)."""
    folder = Path(tempfile.mkdtemp(prefix="bench-static-"))
    (folder / "1k.bin").write_bytes(os.urandom(1024))
    (folder / "1m.bin").write_bytes(os.urandom(1024 * 1024))
    return folder


def run_sse(server, connections, duration):
    """Events a second delivered to `connections` streams read at once, and the server's CPU
    per event."""
    before = server.cpu_seconds()
    out, load_cpu = measured_client(
        [str(BUILD / "bench" / "sse_load"), "--port", str(server.port), "--connections",
         str(connections), "--duration", str(duration), "--warmup", "1"], server.pinned,
        duration + 1)
    used = server.cpu_seconds() - before
    m = dict(re.findall(r"(\w+)=([\d.]+)", out.stdout))
    if out.returncode != 0 or not m:
        raise RuntimeError(f"{server.name} sse: {out.stdout}{out.stderr}")
    rate = float(m["rate"])
    # The CPU time covers the warm-up second too: divide by every event of both.
    events = rate * (duration + 1)
    return {"rps": rate, "us_per_req": used * 1e6 / max(events, 1), "load_cpu": load_cpu,
            "least": int(m["min_per_conn"]), "most": int(m["max_per_conn"])}


class Peer(Server):
    """A peer framework's hello app (../shared/peers/build.sh: drogon_hello, crow_hello):
    `BINARY PORT THREADS`, serving /plaintext, /json and a /ws echo on 127.0.0.1."""

    def __init__(self, name, binary):
        super().__init__(name, "/ws")
        self.binary = binary

    def command(self, port):
        return [str(self.binary), str(port), "1"]


def peer_targets(folder):
    """The peers built into `folder` (or $FLAMECPP_PEERS), as target factories; none when
    neither is given, and only those whose binary is there."""
    folder = folder or os.environ.get("FLAMECPP_PEERS")
    if not folder:
        return []
    found = []
    for name, binary in (("drogon", "drogon_hello"), ("crow", "crow_hello")):
        path = Path(folder) / binary
        if path.is_file() and os.access(path, os.X_OK):
            found.append(lambda name=name, path=path: Peer(name, path))
        else:
            print(f"peers: no {path}, {name} left out", file=sys.stderr)
    return found


class Room(Server):
    """samples/room, one thread: the broadcast rows' server (`memory://`, or one of two
    processes on one Redis)."""

    def __init__(self, name, broadcast):
        super().__init__(name, None)
        self.broadcast = broadcast

    def command(self, port):
        return [str(BUILD / "samples" / "room"), "--port", str(port), "--threads", "1",
                "--log-level", "warn", "--broadcast", self.broadcast]


class Redis(Server):
    """redis-server for the redis:// broadcast row, on the load generator's CPU: the row's
    server CPU is the room processes'."""

    def __init__(self):
        super().__init__("redis", None)

    def start(self):
        self.port = free_port()
        self.scratch = tempfile.TemporaryDirectory(prefix="bench-redis-")
        self.proc = subprocess.Popen(
            ["taskset", "-c", CLIENT_CPU, "redis-server", "--port", str(self.port), "--bind",
             "127.0.0.1", "--save", "", "--appendonly", "no", "--logfile", "/dev/null"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, cwd=self.scratch.name)
        wait_port(self.port, self.proc)
        return self


def run_fanout(servers, listeners, rate, duration):
    """One publisher and `listeners` WebSocket listeners in one room, spread over `servers`
    (bench/tools/fanout_load on the load generator's CPU): deliveries a second, the servers'
    CPU per delivery (from the end of the warm-up), p99 from publish to delivery."""
    messages = int(rate * duration)
    cmd = ["taskset", "-c", CLIENT_CPU, str(BUILD / "bench" / "fanout_load"), "--ports",
           ",".join(str(s.port) for s in servers), "--listeners", str(listeners),
           "--messages", str(messages), "--rate", str(rate)]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    first = proc.stdout.readline()
    before = [s.cpu_split() for s in servers]
    rest, err = proc.communicate(timeout=duration + 60)
    after = [s.cpu_split() for s in servers]
    user = sum(a[0] - b[0] for a, b in zip(after, before))
    used = sum(a[0] + a[1] - b[0] - b[1] for a, b in zip(after, before))
    m = dict(re.findall(r"(\w+)=([\d.]+)", rest))
    if first.strip() != "warm" or proc.returncode != 0 or not m:
        raise RuntimeError(f"fanout: {first}{rest}{err}")
    delivered = int(m["delivered"])
    return {"rps": float(m["rate"]), "p50_ms": float(m["p50_us"]) / 1000,
            "p99_ms": float(m["p99_us"]) / 1000, "us_per_req": used * 1e6 / max(delivered, 1),
            "user_us": user * 1e6 / max(delivered, 1), "load_cpu": float("nan"),
            "missing": int(m["missing"])}


class Uvicorn(Server):
    def __init__(self):
        super().__init__("starlette", "/ws")

    def command(self, port):
        return [PYTHON, "-m", "uvicorn", "--app-dir", str(ROOT / "bench" / "ref"),
                "starlette_app:app", "--host", "127.0.0.1", "--port", str(port),
                "--log-level", "warning", "--no-access-log", "--backlog", "4096"]


def client(cmd, pinned=True):
    return subprocess.run((["taskset", "-c", CLIENT_CPU] if pinned else []) + cmd,
                          capture_output=True, text=True, check=False)


def measured_client(cmd, pinned, seconds):
    """Runs the load generator; also returns the share of one CPU it used over `seconds`
    (near 1.0: the load generator, not the server, sets the rate)."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    out = client(cmd, pinned)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    used = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return out, used / seconds


def wrk_time(text):
    """wrk's latency ("812.00us", "1.23ms", "2.01s") in milliseconds."""
    m = re.match(r"([\d.]+)(us|ms|s)", text)
    value, unit = float(m.group(1)), m.group(2)
    return value / 1000 if unit == "us" else value * 1000 if unit == "s" else value


def run_wrk(server, path, connections, duration, pipeline=None, scheme="http", close=False):
    url = f"{scheme}://127.0.0.1:{server.port}{path}"
    args = ["wrk", "-t1", f"-c{connections}", "--latency"]
    if close:
        args += ["-H", "Connection: close"]  # a new connection (and handshake) per request
    script = []
    if pipeline:
        script = ["-s", str(ROOT / "bench" / "pipeline.lua"), url, "--", str(pipeline)]
    client(args + ["-d1s"] + (script or [url]), server.pinned)  # warm-up
    before = server.cpu_seconds()
    res, load_cpu = measured_client(args + [f"-d{duration}s"] + (script or [url]),
                                    server.pinned, duration)
    out = res.stdout
    used = server.cpu_seconds() - before
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    total = int(re.search(r"(\d+) requests in", out).group(1))
    p50 = wrk_time(re.search(r"\s50%\s+(\S+)", out).group(1))
    p99 = wrk_time(re.search(r"\s99%\s+(\S+)", out).group(1))
    if pipeline:
        # wrk times only some requests of a pipelined batch and prints zeros for the rest of
        # its histogram: no latency is reported for these rows.
        p50 = p99 = float("nan")
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    if errors or total == 0:
        raise RuntimeError(f"{server.name} {path}: bad answers\n{out}")
    return {"rps": rps, "p50_ms": p50, "p99_ms": p99, "us_per_req": used * 1e6 / total,
            "load_cpu": load_cpu}


def run_ws(server, connections, duration, tls=False):
    user_before = server.cpu_split()[0]
    before = server.cpu_seconds()
    out, load_cpu = measured_client(
        [str(BUILD / "bench" / "ws_load"), "--port", str(server.port), "--path",
         server.ws_path, "--connections", str(connections), "--duration", str(duration),
         "--warmup", "1"] + (["--tls"] if tls else []), server.pinned, duration + 1)
    used = server.cpu_seconds() - before
    user = server.cpu_split()[0] - user_before
    m = dict(re.findall(r"(\w+)=([\d.]+)", out.stdout))
    if out.returncode != 0 or not m:
        raise RuntimeError(f"{server.name} ws: {out.stdout}{out.stderr}")
    echoes = int(m["all"])  # the CPU time covers the warm-up too
    return {"rps": float(m["rate"]), "p50_ms": float(m["p50_us"]) / 1000,
            "p99_ms": float(m["p99_us"]) / 1000,
            "us_per_req": used * 1e6 / max(echoes, 1),
            "user_us": user * 1e6 / max(echoes, 1), "load_cpu": load_cpu}


def idle_memory(server, connections):
    for _ in range(20):
        socket.create_connection(("127.0.0.1", server.port)).close()
    time.sleep(0.3)
    idle = server.rss_kib()
    proc = subprocess.Popen(["taskset", "-c", CLIENT_CPU, str(BUILD / "bench" / "conn_hold"),
                             "--port", str(server.port), "--connections", str(connections),
                             "--hold", "3"], stdout=subprocess.PIPE, text=True)
    line = proc.stdout.readline()
    time.sleep(0.5)
    loaded = server.rss_kib()
    proc.wait()
    opened = int(re.search(r"open=(\d+)", line).group(1)) if "open=" in line else 0
    per_conn = (loaded - idle) * 1024 / opened if opened else float("nan")
    return {"idle_kib": idle, "loaded_kib": loaded, "open": opened, "bytes_per_conn": per_conn}


def callgrind(command, load, seconds=3):
    """User-space instructions per request (or echo) of one server, counted by callgrind
    over a load run after start-up and a warm-up: instrumentation is on only for the load.
    `load(port, seconds)` runs the load generator and returns how many it answered."""
    port = free_port()
    with tempfile.TemporaryDirectory() as d:
        out = Path(d) / "callgrind.out"
        proc = subprocess.Popen(
            ["taskset", "-c", SERVER_CPU, "valgrind", "--tool=callgrind",
             "--instr-atstart=no", f"--callgrind-out-file={out}"] + command(port),
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            wait_port(port, proc, timeout=60)
            load(port, 1)
            subprocess.run(["callgrind_control", "-i", "on", str(proc.pid)],
                           capture_output=True, check=True)
            total = load(port, seconds)
            subprocess.run(["callgrind_control", "-i", "off", str(proc.pid)],
                           capture_output=True, check=True)
        finally:
            proc.send_signal(signal.SIGTERM)
            proc.wait(60)
        instructions = 0
        for f in Path(d).glob("callgrind.out*"):
            m = re.search(r"^totals: (\d+)", f.read_text(), re.M)
            if m:
                instructions = max(instructions, int(m.group(1)))
        return instructions / total


def wrk_load(path):
    def load(port, seconds):
        res = client(["wrk", "-t1", "-c16", f"-d{seconds}s",
                      f"http://127.0.0.1:{port}{path}"]).stdout
        return int(re.search(r"(\d+) requests in", res).group(1))
    return load


def ws_echo_load(port, seconds):
    res = client([str(BUILD / "bench" / "ws_load"), "--port", str(port), "--connections", "16",
                  "--duration", str(seconds), "--warmup", "0"]).stdout
    return int(re.search(r"all=(\d+)", res).group(1))


def instruction_counts():
    """(test, target) -> instructions per request or echo."""
    flamecpp = Flamecpp().command
    beast = BeastRef().command
    beast_ws = BeastWsRef().command
    return {("plaintext", "flamecpp"): callgrind(flamecpp, wrk_load("/plaintext")),
            ("plaintext", "beast"): callgrind(beast, wrk_load("/plaintext")),
            ("plaintext", "epoll floor"): callgrind(EpollRef().command, wrk_load("/plaintext")),
            ("plaintext", "asio floor"): callgrind(AsioRef().command, wrk_load("/plaintext")),
            ("json", "flamecpp"): callgrind(flamecpp, wrk_load("/json")),
            ("json", "beast"): callgrind(beast, wrk_load("/json")),
            ("websocket echo", "flamecpp"): callgrind(flamecpp, ws_echo_load),
            ("websocket echo", "beast"): callgrind(beast_ws, ws_echo_load),
            ("websocket echo", "epoll floor"): callgrind(EpollRef().command, ws_echo_load),
            ("websocket echo", "asio floor"): callgrind(AsioRef().command, ws_echo_load)}


def compile_time(runs=3):
    """Seconds to compile samples/hello/main.cpp, a one-file user app, at -O0."""
    flags = ["-std=c++20", "-O0", "-I", str(ROOT / "include"), "-DBOOST_ASIO_SEPARATE_COMPILATION",
             "-DBOOST_BEAST_SEPARATE_COMPILATION", "-DBOOST_ASIO_NO_DEPRECATED",
             "-DBOOST_ASIO_RECYCLING_ALLOCATOR_CACHE_SIZE=8", "-c",
             str(ROOT / "samples" / "hello" / "main.cpp"), "-o", os.devnull]
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        subprocess.run(["taskset", "-c", SERVER_CPU, "g++"] + flags, check=True)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def fmt_rate(v):
    return f"{v:,.0f}"


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--duration", type=int, default=4, help="seconds per measurement")
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--idle-connections", type=int, default=10000)
    ap.add_argument("--quick", action="store_true", help="1 round, 2 s, no callgrind")
    ap.add_argument("--broadcast-only", action="store_true",
                    help="only the broadcast rows and the echo they compare with; prints them, "
                    "leaves docs/benchmarks.md alone")
    ap.add_argument("--peers", help="folder of drogon_hello and crow_hello (built by "
                    "../shared/peers/build.sh); default $FLAMECPP_PEERS; without: no peers")
    args = ap.parse_args()
    if args.quick:
        args.rounds, args.duration = 1, 2
    started = time.time()

    targets = [Flamecpp, BeastRef, Nginx, Uvicorn] + peer_targets(args.peers)
    if args.broadcast_only:
        targets = [Flamecpp]
    middleware_tests = {"plaintext"}  # cells where FlamecppMiddleware runs too
    http_cells = [("plaintext", "/plaintext", 64, None), ("plaintext", "/plaintext", 256, None),
                  ("json", "/json", 64, None), ("json", "/json", 256, None),
                  ("pipelined 16", "/plaintext", 256, 16)]
    ws_cells = [64] if args.broadcast_only else [64, 256]
    if args.broadcast_only:
        http_cells = []
    static_cells = [("static 1 KiB", "/static/1k.bin", 64), ("static 1 MiB", "/static/1m.bin", 64)]
    sse_connections = 1000
    # Broadcast: one publisher, 1,000 listeners in one room, at 100 messages a second (each
    # message alone in its turn of the loop) and at 1,000 (several per turn: batched).
    fanout_listeners = 1000
    fanout_rates = [100, 1000]
    # TLS: keep-alive HTTPS, a new TLS connection per request, and WSS echo (its cost against
    # the plain echo of the same round).
    tls_cells = [("https plaintext", "/plaintext", 64, False),
                 ("https new connections", "/plaintext", 64, True)]
    tls_ws_conns = 64
    tls_cert, tls_key = tls_files()
    ciphers = {}
    folder = static_folder()
    sse_runs = []
    # The epoll floor runs in every HTTP cell, pipelined too: each target's CPU per request is
    # set against the least this kernel and loopback allow for the same work.
    results = {}  # (target, test, connections) -> list of dicts

    def add(key, value):
        results.setdefault(key, []).append(value)

    # Every target of a round runs at once, idle but for the one under load, so that each
    # cell measures the targets back to back, a few seconds apart; the machine's slow spells
    # then hit a cell's targets alike instead of one target's whole block. The order rotates
    # from round to round.
    for rnd in range(args.rounds):
        http_servers = [cls() for cls in targets]
        beast_ws = BeastWsRef()  # Beast's echo is its own program
        floor = EpollRef()
        stack_floor = AsioRef()
        layered = FlamecppMiddleware()
        ws_servers = [beast_ws if isinstance(s, BeastRef) else s
                      for s in http_servers if s.ws_path] + [floor, stack_floor]
        running = []
        try:
            for server in http_servers + [beast_ws, floor, stack_floor, layered]:
                running.append(server.start())
            for test, path, conns, depth in http_cells:
                cell_servers = http_servers + [floor, stack_floor]
                if test in middleware_tests and not depth:
                    cell_servers.append(layered)
                shift = rnd % len(cell_servers)
                for server in cell_servers[shift:] + cell_servers[:shift]:
                    add((server.name, test, conns), run_wrk(server, path, conns, args.duration,
                                                            depth))
            shift = rnd % len(ws_servers)
            for conns in ws_cells:
                for server in ws_servers[shift:] + ws_servers[:shift]:
                    add((server.name, "websocket echo", conns),
                        run_ws(server, conns, args.duration))
        finally:
            for server in running:
                server.stop()
        # Files and events: flamecpp's files_events app against nginx on the same folder.
        files = [] if args.broadcast_only else [FilesEvents(folder), NginxStatic(folder)]
        running = []
        try:
            for server in files:
                running.append(server.start())
            for test, path, conns in static_cells if files else []:
                for server in files[rnd % 2:] + files[:rnd % 2]:
                    add((server.name, test, conns), run_wrk(server, path, conns, args.duration))
            if files:
                sse_runs.append(run_sse(files[0], sse_connections, args.duration))
        finally:
            for server in running:
                server.stop()
        # TLS: flamecpp against nginx with the same certificate; WSS against flamecpp's echo.
        secure = [] if args.broadcast_only else [FlamecppTls(tls_cert, tls_key),
                                                   NginxTls(tls_cert, tls_key)]
        plain_echo = Flamecpp()
        running = []
        try:
            for server in secure + [plain_echo]:
                running.append(server.start())
            for server in secure:
                ciphers[server.name] = tls_cipher(server.port)
            for test, path, conns, close in tls_cells if secure else []:
                for server in secure[rnd % 2:] + secure[:rnd % 2]:
                    add((server.name, test, conns),
                        run_wrk(server, path, conns, args.duration, scheme="https", close=close))
            pair = [(secure[0], True), (plain_echo, False)] if secure else []
            for server, tls in pair[rnd % 2:] + pair[:rnd % 2]:
                add(("flamecpp", "wss echo" if tls else "ws echo (same round)", tls_ws_conns),
                    run_ws(server, tls_ws_conns, args.duration, tls=tls))
        finally:
            for server in running:
                server.stop()
        # Broadcast fan-out: the room sample, memory:// in one process, then redis:// over
        # two processes (both on the server's CPU) with redis-server on the load's CPU.
        redis = Redis()
        fanout = {"memory://": [Room("room-memory", "memory://")]}
        running = []
        try:
            running.append(redis.start())
            fanout["redis:// (2 processes)"] = [
                Room("room-redis", f"redis://127.0.0.1:{redis.port}") for _ in range(2)]
            for group in fanout.values():
                for server in group:
                    running.append(server.start())
            for kind, group in list(fanout.items())[rnd % 2:] + list(fanout.items())[:rnd % 2]:
                for rate in fanout_rates:
                    add(("flamecpp", f"broadcast {kind} {rate}/s", fanout_listeners),
                        run_fanout(group, fanout_listeners, rate, args.duration))
        finally:
            for server in running:
                server.stop()
        print(f"round {rnd + 1}/{args.rounds} done ({time.time() - started:.0f} s)",
              file=sys.stderr)

    memory = {}
    for cls in [] if args.broadcast_only else targets:
        if cls not in (Flamecpp, BeastRef, Nginx, Uvicorn):
            continue  # the idle-memory table keeps to the targets it always had
        server = cls().start()
        try:
            memory[server.name] = idle_memory(server, args.idle_connections)
        finally:
            server.stop()

    # --threads: flamecpp with one and two event loops, server and wrk both unpinned.
    threads_rows = []
    threads_cells = [("plaintext", "/plaintext", 64), ("plaintext", "/plaintext", 256)]
    # Two runs per row rather than --rounds: these rows keep the suite's time down.
    threads_runs = max(1, min(2, args.rounds))
    for threads in () if args.broadcast_only else (1, 2):
        server = Flamecpp(threads, pinned=False).start()
        try:
            for test, path, conns in threads_cells:
                runs = [run_wrk(server, path, conns, args.duration) for _ in range(threads_runs)]
                threads_rows.append((test, conns, threads,
                                     statistics.median(r["rps"] for r in runs),
                                     statistics.median(r["p99_ms"] for r in runs)))
            runs = [run_ws(server, 256, args.duration) for _ in range(threads_runs)]
            threads_rows.append(("websocket echo", 256, threads,
                                 statistics.median(r["rps"] for r in runs),
                                 statistics.median(r["p99_ms"] for r in runs)))
        finally:
            server.stop()

    instructions = {} if args.quick or args.broadcast_only else instruction_counts()
    seconds_to_compile = float("nan") if args.broadcast_only else compile_time()

    def median(key, field):
        values = [r[field] for r in results.get(key, [])]
        return statistics.median(values) if values else None

    def paired_ratios(test, conns, name):
        """flamecpp's rate over `name`'s, one per round: both were measured seconds apart,
        so a slow spell of the machine cancels out of each ratio."""
        ours = [r["rps"] for r in results.get(("flamecpp", test, conns), [])]
        theirs = [r["rps"] for r in results.get((name, test, conns), [])]
        return [a / b for a, b in zip(ours, theirs) if b]

    names = ["flamecpp", "flamecpp + 3 middleware", "beast", "drogon", "crow", "nginx",
             "starlette", "epoll floor", "asio floor"]
    rows = []
    cells = ([(t, c) for t, _, c, _ in http_cells] + [("websocket echo", c) for c in ws_cells] +
             [(t, c) for t, _, c in static_cells] + [(t, c) for t, _, c, _ in tls_cells])
    for test, conns in cells:
        for name in names:
            key = (name, test, conns)
            if key in results:
                rows.append((test, conns, name, median(key, "rps"), median(key, "p50_ms"),
                             median(key, "p99_ms"), median(key, "us_per_req"),
                             median(key, "load_cpu")))

    out_dir = ROOT / "bench" / "results"
    out_dir.mkdir(exist_ok=True)
    with open(out_dir / "latest.tsv", "w") as f:
        f.write("test\tconnections\ttarget\trate\tp50_ms\tp99_ms\tcpu_us\tload_cpu\n")
        for r in rows:
            f.write("\t".join(str(x) for x in r) + "\n")

    machine = (f"{os.cpu_count()} cores ({platform.processor() or platform.machine()}), "
               f"Linux {platform.release()}, {datetime.date.today().isoformat()}")
    lines = [f"Measured {machine}: `bench/run --duration {args.duration} --rounds {args.rounds}`, "
             f"server on CPU {SERVER_CPU}, load generator on CPU {CLIENT_CPU}, "
             f"median of {args.rounds} interleaved rounds. The ratio column is the median of "
             f"the rounds' own ratios, with their range.", "",
             "| test | conns | target | requests or messages/s | p50 | p99 | server CPU µs each |"
             " load generator CPU | flamecpp / target |",
             "|---|---:|---|---:|---:|---:|---:|---:|---:|"]
    for test, conns, name, rps, p50, p99, us, load in rows:
        ratios = [] if name == "flamecpp" else paired_ratios(test, conns, name)
        ratio = ""
        if ratios:
            ratio = f"{statistics.median(ratios):.2f}"
            if len(ratios) > 1:
                ratio += f" ({min(ratios):.2f}-{max(ratios):.2f})"
        def ms(v):
            return "n/a" if v != v else f"{v:.2f} ms"
        lines.append(f"| {test} | {conns} | {name} | {fmt_rate(rps)} | {ms(p50)} | "
                     f"{ms(p99)} | {us:.2f} | {load:.0%} | {ratio} |")
    floor_cells = [(t, c) for t, _, c, _ in http_cells
                   if results.get(("epoll floor", t, c)) and results.get(("flamecpp", t, c))]
    if floor_cells:
        lines += ["", "Server CPU per request against the floors', from the same rounds (the median "
                  "of the rounds' own ratios, with their range). The epoll floor is the least "
                  "this kernel and loopback allow for the same requests; the Asio floor is the "
                  "least Asio's reactor and coroutines allow (the same canned answers, no HTTP "
                  "work):", "",
                  "| test | conns | flamecpp µs | epoll floor µs | Asio floor µs | "
                  "flamecpp / epoll floor | Asio floor / epoll floor | flamecpp / Asio floor |",
                  "|---|---:|---:|---:|---:|---:|---:|---:|"]

        def cpu_ratio(a_name, b_name, test, conns):
            pairs = zip(results.get((a_name, test, conns), []),
                        results.get((b_name, test, conns), []))
            cpu = [a["us_per_req"] / b["us_per_req"] for a, b in pairs if b["us_per_req"]]
            if not cpu:
                return "n/a"
            return f"{statistics.median(cpu):.2f} ({min(cpu):.2f}-{max(cpu):.2f})"

        def us(name, test, conns):
            key = (name, test, conns)
            return f"{median(key, 'us_per_req'):.2f}" if results.get(key) else "n/a"

        for test, conns in floor_cells:
            lines.append(f"| {test} | {conns} | {us('flamecpp', test, conns)} | "
                         f"{us('epoll floor', test, conns)} | {us('asio floor', test, conns)} | "
                         f"{cpu_ratio('flamecpp', 'epoll floor', test, conns)} | "
                         f"{cpu_ratio('asio floor', 'epoll floor', test, conns)} | "
                         f"{cpu_ratio('flamecpp', 'asio floor', test, conns)} |")
    echo_floor_cells = [c for c in ws_cells if results.get(("epoll floor", "websocket echo", c))
                        and results.get(("flamecpp", "websocket echo", c))]
    if echo_floor_cells:
        others = [p for p in ("flamecpp", "asio floor", "drogon", "crow")
                  if any(results.get((p, "websocket echo", c)) for c in echo_floor_cells)]
        peers = [p for p in ("drogon", "crow") if p in others]
        floors = [f for f in ("epoll floor", "asio floor") if f in others or f == "epoll floor"]
        lines += ["", "WebSocket echo against the floors' echo, from the same rounds (messages per "
                  "second, the median of the rounds' own ratios, with their range). The epoll "
                  "floor spends the least a server can per echo here, so its rate is about the "
                  "most this load generator draws from any server; the Asio floor is the same "
                  "echo on Asio's coroutines:", "",
                  "| conns | epoll floor messages/s | load generator CPU at the floor | "
                  + "".join(f"{o} / epoll floor | " for o in others)
                  + "".join(f"{f} / {p} | " for f in floors for p in peers),
                  "|---:|---:|---:|" + "---:|" * (len(others) + len(floors) * len(peers))]

        def rate_ratio(a_name, b_name, conns):
            pairs = zip(results.get((a_name, "websocket echo", conns), []),
                        results.get((b_name, "websocket echo", conns), []))
            r = [a["rps"] / b["rps"] for a, b in pairs if b["rps"]]
            if not r:
                return "n/a"
            return f"{statistics.median(r):.2f} ({min(r):.2f}-{max(r):.2f})"

        for conns in echo_floor_cells:
            key = ("epoll floor", "websocket echo", conns)
            lines.append(f"| {conns} | {fmt_rate(median(key, 'rps'))} | "
                         f"{median(key, 'load_cpu'):.0%} | "
                         + "".join(f"{rate_ratio(o, 'epoll floor', conns)} | " for o in others)
                         + "".join(f"{rate_ratio(f, p, conns)} | " for f in floors
                                   for p in peers))
    middleware_cells = [(t, c) for t, _, c, d in http_cells if t in middleware_tests and not d]
    if middleware_cells:
        lines += ["", "Middleware: samples/bench `--middleware` (RequestID, CORS without an Origin, "
                  "GZip below its threshold) against the same binary without, measured in the "
                  "same rounds. These cells are bound by the load generator; the server-bound "
                  "cost per layer (`bench/ab.py --pipeline 16`) is in docs/middleware.md.", "",
                  "| test | conns | rate with / without (paired, range) | server CPU µs each, "
                  "without → with | ns per middleware |", "|---|---:|---:|---:|---:|"]
        for test, conns in middleware_cells:
            plain = results.get(("flamecpp", test, conns), [])
            layered_runs = results.get((FlamecppMiddleware().name, test, conns), [])
            ratios = [b["rps"] / a["rps"] for a, b in zip(plain, layered_runs) if a["rps"]]
            if not ratios:
                continue
            us_plain = median(("flamecpp", test, conns), "us_per_req")
            us_layered = median((FlamecppMiddleware().name, test, conns), "us_per_req")
            # The median of the rounds' own differences: a slow spell of one round cancels out.
            per_layer = statistics.median(
                (b["us_per_req"] - a["us_per_req"]) * 1000 / FlamecppMiddleware.LAYERS
                for a, b in zip(plain, layered_runs))
            cost = f"{per_layer:.0f}" if per_layer > 0 else "below the noise"
            lines.append(f"| {test} | {conns} | {statistics.median(ratios):.2f} "
                         f"({min(ratios):.2f}-{max(ratios):.2f}) | {us_plain:.2f} → "
                         f"{us_layered:.2f} | {cost} |")
    wss = results.get(("flamecpp", "wss echo", tls_ws_conns), [])
    ws_plain = results.get(("flamecpp", "ws echo (same round)", tls_ws_conns), [])
    if wss and ws_plain:
        rate_ratios = [a["rps"] / b["rps"] for a, b in zip(wss, ws_plain) if b["rps"]]
        cost = statistics.median(a["us_per_req"] - b["us_per_req"] for a, b in zip(wss, ws_plain))
        lines += ["", f"TLS: the https cells above are samples/bench with `--tls-cert/--tls-key` "
                  f"against nginx with the same self-signed P-256 certificate "
                  f"(flamecpp: {ciphers.get('flamecpp', '?')}; nginx: "
                  f"{ciphers.get('nginx', '?')}); `https new connections` sends "
                  "`Connection: close`, so every request is a new TCP connection and a full "
                  "handshake. WebSocket echo over TLS against the plain echo, same binary, "
                  f"same rounds ({tls_ws_conns} connections, bench/tools/ws_load `--tls`):", "",
                  "| echo | messages/s | p99 | server CPU µs each |", "|---|---:|---:|---:|"]
        for label, key in (("ws", "ws echo (same round)"), ("wss", "wss echo")):
            k = ("flamecpp", key, tls_ws_conns)
            lines.append(f"| {label} | {fmt_rate(median(k, 'rps'))} | "
                         f"{median(k, 'p99_ms'):.2f} ms | {median(k, 'us_per_req'):.2f} |")
        lines += ["", f"WSS / WS messages per second: {statistics.median(rate_ratios):.2f} "
                  f"({min(rate_ratios):.2f}-{max(rate_ratios):.2f}); TLS costs "
                  f"{cost:.2f} µs of server CPU per echo (a record in and a record out)."]
    if sse_runs:
        rate = statistics.median(r["rps"] for r in sse_runs)
        us = statistics.median(r["us_per_req"] for r in sse_runs)
        least = min(r["least"] for r in sse_runs)
        most = max(r["most"] for r in sse_runs)
        lines += ["", f"Server-sent events: bench/apps/files_events pushing `data: {{\"n\":K}}` "
                  f"events to {sse_connections:,} streams at once, each as fast as its client "
                  "(bench/tools/sse_load, one thread) reads it, median of "
                  f"{len(sse_runs)} rounds:", "",
                  "| streams | events/s delivered | server CPU µs per event | "
                  "events per stream per second, least-most |", "|---:|---:|---:|---:|",
                  f"| {sse_connections:,} | {fmt_rate(rate)} | {us:.2f} | "
                  f"{least / args.duration:,.0f}-{most / args.duration:,.0f} |"]
    fanout_rows = [(kind, rate,
                    results.get(("flamecpp", f"broadcast {kind} {rate}/s", fanout_listeners), []))
                   for kind in ("memory://", "redis:// (2 processes)") for rate in fanout_rates]
    echoes = results.get(("flamecpp", "websocket echo", 64), [])
    if any(runs for _, _, runs in fanout_rows) and echoes:
        lines += ["", f"Broadcast fan-out: samples/room (one thread), one publisher and "
                  f"{fanout_listeners:,} WebSocket listeners in one room "
                  "(bench/tools/fanout_load), at 100 messages a second (each alone in its turn "
                  "of the server's loop: one send per delivery) and at 1,000 (several per turn, "
                  "sent to each listener as one write), each delivered to every listener; with "
                  "redis:// the listeners are spread over two processes, both on the server's "
                  "CPU, with redis-server on the load generator's. CPU per delivery is the "
                  "room processes' after the warm-up; against it, the CPU of one WebSocket echo "
                  "(64 connections) of the same rounds, in all and in user space only (the "
                  "rest is the kernel's: on loopback a send(2) also runs the receiving "
                  "socket's TCP input and wakes its reader):", "",
                  "| hub | messages/s | deliveries/s | p50 | p99 | server CPU µs per delivery "
                  "(user) | per delivery / per echo | user space: per delivery / per echo | "
                  "missed |", "|---|---:|---:|---:|---:|---:|---:|---:|---:|"]
        for kind, rate, runs in fanout_rows:
            if not runs:
                continue
            ratios = [r["us_per_req"] / e["us_per_req"] for r, e in zip(runs, echoes)
                      if e["us_per_req"]]
            user_ratios = [r["user_us"] / e["user_us"] for r, e in zip(runs, echoes)
                           if e.get("user_us")]

            def spread(values):
                text = f"{statistics.median(values):.2f}"
                if len(values) > 1:
                    text += f" ({min(values):.2f}-{max(values):.2f})"
                return text

            lines.append(
                f"| {kind} | {rate:,} | {fmt_rate(statistics.median(r['rps'] for r in runs))} | "
                f"{statistics.median(r['p50_ms'] for r in runs):.2f} ms | "
                f"{statistics.median(r['p99_ms'] for r in runs):.2f} ms | "
                f"{statistics.median(r['us_per_req'] for r in runs):.2f} "
                f"({statistics.median(r['user_us'] for r in runs):.2f}) | {spread(ratios)} | "
                f"{spread(user_ratios) if user_ratios else 'n/a'} | "
                f"{sum(r['missing'] for r in runs)} |")
    lines += ["", f"Idle keep-alive connections ({args.idle_connections:,} held after one "
                  "request each, `bench/tools/conn_hold`):", "",
              "| target | RSS idle | RSS with the connections | open | bytes per connection |",
              "|---|---:|---:|---:|---:|"]
    for name in names:
        m = memory.get(name)
        if m:
            lines.append(f"| {name} | {m['idle_kib']:,} KiB | {m['loaded_kib']:,} KiB | "
                         f"{m['open']:,} | {m['bytes_per_conn']:,.0f} |")
    lines += ["", "`--threads`: samples/bench with one and two event loops, with the server "
              "and the load generator both free to use either CPU (no taskset), so the load "
              f"generator competes with the server threads (median of {threads_runs} runs):", "",
              "| test | conns | threads | requests or messages/s | p99 |",
              "|---|---:|---:|---:|---:|"]
    for test, conns, threads, rps, p99 in threads_rows:
        lines.append(f"| {test} | {conns} | {threads} | {fmt_rate(rps)} | {p99:.2f} ms |")
    lines.append("")
    if instructions:
        lines += ["User-space instructions per request or echo (callgrind, 16 connections):",
                  "", "| test | flamecpp | beast | flamecpp / beast |", "|---|---:|---:|---:|"]
        for test in ("plaintext", "json", "websocket echo"):
            ours, ref = instructions[(test, "flamecpp")], instructions[(test, "beast")]
            lines.append(f"| {test} | {ours:,.0f} | {ref:,.0f} | {ours / ref:.2f} |")
        lines += ["", f"The epoll floor (bench/ref/epoll_ref.cpp): "
                  f"{instructions[('plaintext', 'epoll floor')]:,.0f} per /plaintext request; "
                  f"the Asio floor (bench/ref/asio_ref.cpp): "
                  f"{instructions[('plaintext', 'asio floor')]:,.0f}. Per WebSocket echo: "
                  f"{instructions[('websocket echo', 'epoll floor')]:,.0f} and "
                  f"{instructions[('websocket echo', 'asio floor')]:,.0f}.", ""]
    lines.append(f"Compile time of samples/hello/main.cpp (a one-file app) at -O0: "
                 f"{seconds_to_compile:.2f} s.")
    lines.append(f"Suite wall time: {time.time() - started:.0f} s.")
    table = "\n".join(lines)
    print(table)

    doc = ROOT / "docs" / "benchmarks.md"
    text = doc.read_text()
    begin, end = "<!-- bench:begin -->", "<!-- bench:end -->"
    if begin in text and end in text and not args.quick and not args.broadcast_only:
        head, rest = text.split(begin, 1)
        tail = rest.split(end, 1)[1]
        doc.write_text(f"{head}{begin}\n{table}\n{end}{tail}")
        subprocess.run([PYTHON, str(ROOT / "bench" / "chart.py"), str(out_dir / "latest.tsv"),
                        str(ROOT / "docs" / "benchmarks.png")], check=False)


if __name__ == "__main__":
    main()
