#!/usr/bin/env python3
"""HTTPS and WSS for the samples, checked with Python's ssl module, `openssl s_client` and
testssl.sh (ctest label `tls`).

Each test starts a sample with --tls-cert/--tls-key on a free port, with certificates made
here by `openssl`: a root CA, an intermediate, and a server certificate for localhost and
127.0.0.1 whose file holds the chain. The samples' binaries come from the environment
(FLAMECPP_HELLO, FLAMECPP_CHAT, ...), set by test/CMakeLists.txt.

Run one test: tls_test.py TlsTest.test_alpn
"""

import base64
import http.client
import json
import os
import re
import shutil
import signal
import socket
import ssl
import struct
import subprocess
import sys
import tempfile
import time
import unittest

SAMPLES = {
    name: os.environ.get("FLAMECPP_" + name.upper(), "")
    for name in ("hello", "chat", "endpoints", "site", "bench", "room", "todo")
}
# A path each sample answers with 200.
HOME = {"hello": "/", "chat": "/", "endpoints": "/foo/", "site": "/", "bench": "/plaintext",
        "room": "/", "todo": "/todos"}
NOWHERE = "/no/such/path/anywhere"


def run(*args, **kwargs):
    return subprocess.run(args, check=True, capture_output=True, text=True, **kwargs)


def make_certificates(folder, cn="localhost", days=90):
    """A root CA, an intermediate CA and a server certificate (chain in server.pem)."""
    def key(name):
        run("openssl", "genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256",
            "-out", os.path.join(folder, name + ".key"))

    ext = os.path.join(folder, "ext.cnf")
    with open(ext, "w") as f:
        f.write("[ca]\nbasicConstraints=critical,CA:true\nkeyUsage=critical,keyCertSign,cRLSign\n"
                "[server]\nbasicConstraints=critical,CA:false\n"
                "keyUsage=critical,digitalSignature\nextendedKeyUsage=serverAuth\n"
                "subjectAltName=DNS:localhost,IP:127.0.0.1\n"
                # A revocation list's address, as a real certificate has (never fetched).
                "crlDistributionPoints=URI:http://127.0.0.1:9/test.crl\n")
    path = lambda name: os.path.join(folder, name)
    if not os.path.exists(path("root.pem")):
        key("root")
        run("openssl", "req", "-x509", "-new", "-key", path("root.key"), "-out", path("root.pem"),
            "-days", "365", "-subj", "/CN=flamecpp test root", "-addext",
            "basicConstraints=critical,CA:true", "-addext", "keyUsage=critical,keyCertSign,cRLSign")
        key("intermediate")
        run("openssl", "req", "-new", "-key", path("intermediate.key"), "-out",
            path("intermediate.csr"), "-subj", "/CN=flamecpp test intermediate")
        run("openssl", "x509", "-req", "-in", path("intermediate.csr"), "-CA", path("root.pem"),
            "-CAkey", path("root.key"), "-CAcreateserial", "-out", path("intermediate.pem"),
            "-days", "365", "-extfile", ext, "-extensions", "ca")
    key("server")
    run("openssl", "req", "-new", "-key", path("server.key"), "-out", path("server.csr"),
        "-subj", "/CN=" + cn)
    run("openssl", "x509", "-req", "-in", path("server.csr"), "-CA", path("intermediate.pem"),
        "-CAkey", path("intermediate.key"), "-CAcreateserial", "-out", path("leaf.pem"),
        "-days", str(days), "-extfile", ext, "-extensions", "server")
    with open(path("server.pem"), "w") as out:
        for part in ("leaf.pem", "intermediate.pem"):
            with open(path(part)) as f:
                out.write(f.read())
    return path("server.pem"), path("server.key"), path("root.pem")


class Server:
    """A sample started with TLS on a free port; stopped with SIGTERM."""

    def __init__(self, binary, cert, key, *extra):
        self.proc = subprocess.Popen(
            [binary, "--port", "0", "--threads", "2", "--tls-cert", cert, "--tls-key", key,
             *extra], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        line = self.proc.stdout.readline()
        m = re.match(r"listening on (https?)://127\.0\.0\.1:(\d+)", line)
        if not m:
            self.proc.kill()
            raise AssertionError("no listening line: %r %s" % (line, self.proc.stderr.read()))
        self.scheme, self.port = m.group(1), int(m.group(2))

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        return self.proc.returncode

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.stop()
        self.proc.stdout.close()
        self.proc.stderr.close()


def read_response(sock):
    """One HTTP/1.1 response from a socket: (status, headers, body)."""
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(65536)
        if not chunk:
            raise AssertionError("connection closed before a response head: %r" % data)
        data += chunk
    head, rest = data.split(b"\r\n\r\n", 1)
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split()[1])
    headers = {}
    for line in lines[1:]:
        name, value = line.split(":", 1)
        headers[name.strip().lower()] = value.strip()
    length = int(headers.get("content-length", "0"))
    while len(rest) < length:
        chunk = sock.recv(65536)
        if not chunk:
            break
        rest += chunk
    return status, headers, rest[:length], rest[length:]


class WebSocket:
    """Just enough of a WebSocket client (RFC 6455) over a TLS socket."""

    def __init__(self, sock, path):
        self.sock = sock
        key = base64.b64encode(os.urandom(16)).decode()
        sock.sendall(("GET %s HTTP/1.1\r\nHost: localhost\r\nUpgrade: websocket\r\n"
                      "Connection: Upgrade\r\nSec-WebSocket-Key: %s\r\n"
                      "Sec-WebSocket-Version: 13\r\n\r\n" % (path, key)).encode())
        data = b""
        while b"\r\n\r\n" not in data:
            chunk = sock.recv(4096)
            if not chunk:
                raise AssertionError("closed during the WebSocket handshake")
            data += chunk
        head, self.buffer = data.split(b"\r\n\r\n", 1)
        if not head.startswith(b"HTTP/1.1 101"):
            raise AssertionError("not upgraded: %r" % head)

    def send(self, payload, opcode=1):
        mask = os.urandom(4)
        n = len(payload)
        if n < 126:
            header = struct.pack("!BB", 0x80 | opcode, 0x80 | n)
        elif n < 65536:
            header = struct.pack("!BBH", 0x80 | opcode, 0x80 | 126, n)
        else:
            header = struct.pack("!BBQ", 0x80 | opcode, 0x80 | 127, n)
        masked = bytes(b ^ mask[i % 4] for i, b in enumerate(payload))
        self.sock.sendall(header + mask + masked)

    def _need(self, n):
        while len(self.buffer) < n:
            chunk = self.sock.recv(65536)
            if not chunk:
                raise AssertionError("closed while a frame was expected")
            self.buffer += chunk
        out, self.buffer = self.buffer[:n], self.buffer[n:]
        return out

    def receive(self):
        b0, b1 = self._need(2)
        n = b1 & 0x7F
        if n == 126:
            n = struct.unpack("!H", self._need(2))[0]
        elif n == 127:
            n = struct.unpack("!Q", self._need(8))[0]
        return b0 & 0x0F, self._need(n)


class TlsTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.folder = tempfile.mkdtemp(prefix="flamecpp-tls-")
        cls.cert, cls.key, cls.ca = make_certificates(cls.folder)

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.folder, ignore_errors=True)

    def context(self, **versions):
        ctx = ssl.create_default_context(cafile=self.ca)
        for name, value in versions.items():
            setattr(ctx, name, value)
        return ctx

    def connect(self, port, ctx=None, session=None):
        ctx = ctx or self.context()
        raw = socket.create_connection(("127.0.0.1", port), timeout=10)
        return ctx.wrap_socket(raw, server_hostname="localhost", session=session)

    def sample(self, name):
        binary = SAMPLES[name]
        if not binary:
            self.skipTest("FLAMECPP_%s is not set" % name.upper())
        return binary

    def get(self, sock, path="/", extra=""):
        sock.sendall(("GET %s HTTP/1.1\r\nHost: localhost\r\n%s\r\n" % (path, extra)).encode())
        return read_response(sock)

    # -- every sample over HTTPS ---------------------------------------------------------

    def test_every_sample_serves_https_with_keep_alive_and_pipelining(self):
        for name in SAMPLES:
            with self.subTest(sample=name), Server(self.sample(name), self.cert, self.key) as s:
                self.assertEqual(s.scheme, "https")
                home = HOME[name].encode()
                with self.connect(s.port) as sock:
                    status, headers, body, _ = self.get(sock, HOME[name])
                    self.assertEqual(status, 200)
                    self.assertIn("server", headers)
                    self.assertIn("date", headers)
                    self.assertEqual(len(body), int(headers["content-length"]))
                    # Keep-alive: the same connection again; then three pipelined requests.
                    status, _, _, _ = self.get(sock, HOME[name])
                    self.assertEqual(status, 200)
                    sock.sendall((b"GET " + home + b" HTTP/1.1\r\nHost: localhost\r\n\r\n") * 2 +
                                 b"GET " + NOWHERE.encode() +
                                 b" HTTP/1.1\r\nHost: localhost\r\n\r\n")
                    statuses = []
                    rest = b""
                    for _ in range(3):
                        if rest:
                            # What the previous read took of the next response.
                            sock_data = rest
                            status, headers, body, rest = read_response(_Prefixed(sock, sock_data))
                        else:
                            status, headers, body, rest = read_response(sock)
                        statuses.append(status)
                    self.assertEqual(statuses, [200, 200, 404])
                # http.client over the same TLS setup, as a user's client would.
                conn = http.client.HTTPSConnection("localhost", s.port, context=self.context(),
                                                   timeout=10)
                conn.request("GET", HOME[name])
                self.assertEqual(conn.getresponse().status, 200)
                conn.close()
                self.assertEqual(s.stop(), 0)

    def test_wss_chat_and_bench_echo(self):
        with Server(self.sample("chat"), self.cert, self.key) as s, self.connect(s.port) as sock:
            ws = WebSocket(sock, "/ws")
            ws.send(b"over tls")
            self.assertEqual(ws.receive(), (1, b"Message text was: over tls"))
        with Server(self.sample("bench"), self.cert, self.key) as s, self.connect(s.port) as sock:
            ws = WebSocket(sock, "/ws")
            # Messages of one byte to several TLS records, text and binary, back in order.
            for size in (1, 125, 126, 20000, 70000, 300000):
                payload = os.urandom(size)
                ws.send(payload, opcode=2)
                self.assertEqual(ws.receive(), (2, payload))
            for i in range(50):
                ws.send(b"m%d" % i)
            for i in range(50):
                self.assertEqual(ws.receive(), (1, b"m%d" % i))

    # -- protocol versions, ALPN, resumption ---------------------------------------------

    def test_tls_1_2_and_1_3_are_served(self):
        with Server(self.sample("hello"), self.cert, self.key) as s:
            for version, name in ((ssl.TLSVersion.TLSv1_2, "TLSv1.2"),
                                  (ssl.TLSVersion.TLSv1_3, "TLSv1.3")):
                ctx = self.context(minimum_version=version, maximum_version=version)
                with self.connect(s.port, ctx) as sock:
                    self.assertEqual(sock.version(), name)
                    self.assertEqual(self.get(sock)[0], 200)

    def test_tls_1_0_and_1_1_are_refused(self):
        with Server(self.sample("hello"), self.cert, self.key) as s:
            for flag in ("-tls1", "-tls1_1"):
                # SECLEVEL=0 so that the client really offers the old version.
                out = subprocess.run(
                    ["openssl", "s_client", "-connect", "127.0.0.1:%d" % s.port, flag,
                     "-cipher", "DEFAULT@SECLEVEL=0", "-CAfile", self.ca],
                    input="", capture_output=True, text=True, timeout=20)
                text = out.stdout + out.stderr
                self.assertIn("alert protocol version", text, text)
                self.assertIn("Cipher is (NONE)", text, text)

    def test_alpn(self):
        with Server(self.sample("hello"), self.cert, self.key) as s:
            ctx = self.context()
            ctx.set_alpn_protocols(["h2", "http/1.1"])
            with self.connect(s.port, ctx) as sock:
                self.assertEqual(sock.selected_alpn_protocol(), "http/1.1")
                self.assertEqual(self.get(sock)[0], 200)
            out = subprocess.run(
                ["openssl", "s_client", "-connect", "127.0.0.1:%d" % s.port, "-alpn",
                 "http/1.1", "-CAfile", self.ca, "-verify_return_error"],
                input="", capture_output=True, text=True, timeout=20)
            self.assertIn("ALPN protocol: http/1.1", out.stdout)
            self.assertIn("Verify return code: 0 (ok)", out.stdout)
            # A client that speaks only h2 gets RFC 7301's no_application_protocol alert.
            out = subprocess.run(
                ["openssl", "s_client", "-connect", "127.0.0.1:%d" % s.port, "-alpn", "h2",
                 "-CAfile", self.ca], input="", capture_output=True, text=True, timeout=20)
            self.assertIn("no application protocol", out.stdout + out.stderr)

    def test_sessions_resume(self):
        with Server(self.sample("hello"), self.cert, self.key) as s:
            for version in (ssl.TLSVersion.TLSv1_2, ssl.TLSVersion.TLSv1_3):
                ctx = self.context(maximum_version=version)
                with self.connect(s.port, ctx) as sock:
                    self.assertEqual(self.get(sock)[0], 200)  # TLS 1.3 tickets come after
                    session = sock.session
                with self.connect(s.port, ctx, session=session) as sock:
                    self.assertTrue(sock.session_reused, version)
                    self.assertEqual(self.get(sock)[0], 200)

    # -- what is not TLS -----------------------------------------------------------------

    def test_plain_http_gets_a_plain_400(self):
        with Server(self.sample("hello"), self.cert, self.key) as s:
            with socket.create_connection(("127.0.0.1", s.port), timeout=5) as sock:
                sock.sendall(b"GET / HTTP/1.1\r\nHost: localhost\r\n\r\n")
                status, headers, body, _ = read_response(sock)
                self.assertEqual(status, 400)
                self.assertEqual(headers["content-type"], "text/plain; charset=utf-8")
                self.assertIn(b"HTTPS", body)
                self.assertEqual(sock.recv(100), b"")  # then closed

    def test_garbage_is_closed_at_once(self):
        with Server(self.sample("hello"), self.cert, self.key) as s:
            for junk in (b"\x00\x01\x02\x03 not tls", b"\x16\x03\x01\x00\x05hello",
                         b"\x80\x2e\x01\x00\x02"):
                with socket.create_connection(("127.0.0.1", s.port), timeout=3) as sock:
                    start = time.monotonic()
                    sock.sendall(junk)
                    try:
                        while sock.recv(4096):
                            pass  # a TLS alert may come first
                    except ConnectionResetError:
                        pass
                    self.assertLess(time.monotonic() - start, 2.0, junk)
            with self.connect(s.port) as sock:  # and the server still serves
                self.assertEqual(self.get(sock)[0], 200)

    def test_a_handshake_not_finished_in_10_s_is_closed(self):
        with Server(self.sample("hello"), self.cert, self.key) as s:
            with socket.create_connection(("127.0.0.1", s.port), timeout=20) as sock:
                # The first bytes of a ClientHello record, then nothing.
                sock.sendall(b"\x16\x03\x01\x02\x00\x01")
                start = time.monotonic()
                try:
                    self.assertEqual(sock.recv(100), b"")
                except ConnectionResetError:
                    pass
                elapsed = time.monotonic() - start
                self.assertGreater(elapsed, 9.0)
                self.assertLess(elapsed, 12.0)

    # -- flags and reload ----------------------------------------------------------------

    def test_flag_errors_exit_2_naming_the_file(self):
        binary = self.sample("hello")
        other_key = os.path.join(self.folder, "root.key")
        missing = os.path.join(self.folder, "missing.pem")
        cases = [
            (["--tls-cert", self.cert], "needs --tls-key"),
            (["--tls-key", self.key], "needs --tls-cert"),
            (["--tls-cert", missing, "--tls-key", self.key], missing),
            (["--tls-cert", self.cert, "--tls-key", missing], missing),
            (["--tls-cert", self.cert, "--tls-key", other_key], other_key),
            (["--tls-cert", self.key, "--tls-key", self.key], self.key),
        ]
        for args, needle in cases:
            with self.subTest(args=args):
                out = subprocess.run([binary, "--port", "0", *args], capture_output=True,
                                     text=True, timeout=20)
                self.assertEqual(out.returncode, 2, out.stderr)
                self.assertNotIn("listening on", out.stdout)
                first = out.stderr.splitlines()[0]
                self.assertIn(needle, first)
                self.assertTrue(first.startswith("error: "), first)

    def test_sighup_reloads_the_certificate_and_keeps_connections(self):
        folder = tempfile.mkdtemp(prefix="flamecpp-tls-reload-")
        try:
            shutil.copy(os.path.join(self.folder, "root.pem"), folder)
            for name in ("root.key", "intermediate.pem", "intermediate.key", "root.srl"):
                if os.path.exists(os.path.join(self.folder, name)):
                    shutil.copy(os.path.join(self.folder, name), folder)
            cert, key, ca = make_certificates(folder, cn="before")
            with Server(self.sample("hello"), cert, key) as s:
                ctx = self.context()
                kept = self.connect(s.port, ctx)
                self.assertEqual(self.get(kept)[0], 200)
                session = kept.session
                subject = lambda sock: dict(x[0] for x in sock.getpeercert()["subject"])
                self.assertEqual(subject(kept)["commonName"], "before")

                make_certificates(folder, cn="after")  # new files in place
                s.proc.send_signal(signal.SIGHUP)
                deadline = time.monotonic() + 5
                while True:
                    with self.connect(s.port, ctx) as fresh:
                        if subject(fresh)["commonName"] == "after":
                            self.assertEqual(self.get(fresh)[0], 200)
                            break
                    self.assertLess(time.monotonic(), deadline, "the reload did not happen")
                    time.sleep(0.1)
                # The connection open across the reload still works, and a ticket from
                # before it still resumes.
                self.assertEqual(self.get(kept)[0], 200)
                kept.close()
                with self.connect(s.port, ctx, session=session) as resumed:
                    self.assertTrue(resumed.session_reused)

                # A reload that fails keeps the certificate in use, and the server up.
                with open(key, "w") as f:
                    f.write("not a key\n")
                s.proc.send_signal(signal.SIGHUP)
                time.sleep(0.5)
                with self.connect(s.port, ctx) as fresh:
                    self.assertEqual(subject(fresh)["commonName"], "after")
                    self.assertEqual(self.get(fresh)[0], 200)
                self.assertEqual(s.stop(), 0)
                err = s.proc.stderr.read()
                self.assertIn("TLS certificates reloaded", err)
                self.assertIn("TLS reload failed", err)
        finally:
            shutil.rmtree(folder, ignore_errors=True)

    # -- files ---------------------------------------------------------------------------

    def test_static_files_over_tls(self):
        folder = tempfile.mkdtemp(prefix="flamecpp-tls-static-")
        try:
            small, large = os.urandom(1000), os.urandom(3 * 1024 * 1024 + 17)
            for name, data in (("small.bin", small), ("large.bin", large)):
                with open(os.path.join(folder, name), "wb") as f:
                    f.write(data)
            with Server(self.sample("site"), self.cert, self.key, "--static", folder) as s, \
                    self.connect(s.port) as sock:
                for name, data in (("small.bin", small), ("large.bin", large)):
                    status, headers, body, _ = self.get(sock, "/static/" + name)
                    self.assertEqual(status, 200)
                    self.assertEqual(body, data)
                status, headers, body, _ = self.get(sock, "/static/large.bin",
                                                    "Range: bytes=1000000-1999999\r\n")
                self.assertEqual(status, 206)
                self.assertEqual(body, large[1000000:2000000])
        finally:
            shutil.rmtree(folder, ignore_errors=True)

    # -- testssl.sh ----------------------------------------------------------------------

    def test_testssl_finds_nothing_high_or_critical(self):
        testssl = shutil.which("testssl") or shutil.which("testssl.sh")
        if testssl is None:
            self.skipTest("testssl.sh is not installed (scripts/install-deps)")
        report = os.path.join(self.folder, "testssl.json")
        with Server(self.sample("hello"), self.cert, self.key) as s:
            subprocess.run(
                [testssl, "--quiet", "--color", "0", "--warnings", "off", "--add-ca", self.ca,
                 "--jsonfile", report, "--sneaky", "127.0.0.1:%d" % s.port],
                capture_output=True, text=True, timeout=900)
        with open(report) as f:
            findings = json.load(f)
        bad = [f for f in findings if f.get("severity") in ("HIGH", "CRITICAL")]
        self.assertTrue(findings, "testssl.sh reported nothing")
        self.assertEqual(bad, [], json.dumps(bad, indent=1))


class _Prefixed:
    """A socket whose next reads start with bytes already received."""

    def __init__(self, sock, prefix):
        self.sock, self.prefix = sock, prefix

    def recv(self, n):
        if self.prefix:
            out, self.prefix = self.prefix, b""
            return out
        return self.sock.recv(n)


if __name__ == "__main__":
    unittest.main(verbosity=2)
