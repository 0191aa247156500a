#!/usr/bin/python3
"""https_server.py - an HTTPS receiver on loopback for the delivery tests.

Usage: https_server.py CERT KEY PORTFILE LOGFILE [POLICYDIR]
Listens on 127.0.0.1 on a free port (written to PORTFILE once listening),
records every request as one JSON line in LOGFILE (method, path, host,
content type, body length and sha256, body hex), and answers by path:
  POST /ok           200            POST /fail         500
  POST /busy         429            POST /hang         sleeps 30 s
  POST /redir-same   307 to /ok on the same host and port
  POST /redir-other  307 to https://other.test:PORT/ok
  POST /moved        301 to /ok (never to be followed for a POST)
  POST /flaky        500 the first time, 200 after
  GET /.well-known/mta-sts.txt, by Host name:
    mta-sts.good.test     200 text/plain, a valid policy
    mta-sts.json.test     200 application/json
    mta-sts.big.test      200 text/plain, 100 KiB
    mta-sts.redir.test    301 to mta-sts.good.test
    mta-sts.DOMAIN        POLICYDIR/DOMAIN.txt when it exists
    anything else         404
Stops on SIGTERM.
"""
import hashlib
import json
import os
import signal
import ssl
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

CERT, KEY, PORTFILE, LOGFILE = sys.argv[1:5]
POLICYDIR = sys.argv[5] if len(sys.argv) > 5 else None
LOCK = threading.Lock()
FLAKY = [0]
POLICY = b"version: STSv1\r\nmode: enforce\r\nmx: mx.good.test\r\nmax_age: 86400\r\n"


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def record(self, body):
        entry = {
            "method": self.command,
            "path": self.path,
            "host": self.headers.get("Host", ""),
            "content_type": self.headers.get("Content-Type", ""),
            "length": len(body),
            "sha256": hashlib.sha256(body).hexdigest(),
            "body_hex": body.hex(),
        }
        with LOCK, open(LOGFILE, "a") as f:
            f.write(json.dumps(entry) + "\n")

    def answer(self, status, body=b"", ctype="text/plain", location=None):
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        if location:
            self.send_header("Location", location)
        self.end_headers()
        self.wfile.write(body)

    def do_POST(self):
        n = int(self.headers.get("Content-Length", "0"))
        body = self.rfile.read(n) if n > 0 else b""
        self.record(body)
        port = self.server.server_address[1]
        host = self.headers.get("Host", "").split(":")[0]
        if self.path == "/ok":
            self.answer(200, b"stored\n")
        elif self.path == "/fail":
            self.answer(500, b"broken\n")
        elif self.path == "/busy":
            self.answer(429, b"later\n")
        elif self.path == "/hang":
            time.sleep(30)
            self.answer(200)
        elif self.path == "/redir-same":
            self.answer(307, location="https://%s:%d/ok" % (host, port))
        elif self.path == "/redir-other":
            self.answer(307, location="https://other.test:%d/ok" % port)
        elif self.path == "/moved":
            self.answer(301, location="/ok")
        elif self.path == "/flaky":
            with LOCK:
                FLAKY[0] += 1
                first = FLAKY[0] == 1
            self.answer(500 if first else 200, b"flaky\n")
        else:
            self.answer(404)

    def do_GET(self):
        self.record(b"")
        host = self.headers.get("Host", "").split(":")[0]
        if self.path != "/.well-known/mta-sts.txt":
            self.answer(404)
        elif host == "mta-sts.good.test":
            self.answer(200, POLICY)
        elif host == "mta-sts.json.test":
            self.answer(200, b"{}", "application/json")
        elif host == "mta-sts.big.test":
            self.answer(200, b"x" * 100 * 1024)
        elif host == "mta-sts.redir.test":
            self.answer(301, location="https://mta-sts.good.test/.well-known/mta-sts.txt")
        elif POLICYDIR and host.startswith("mta-sts.") and "/" not in host and \
                os.path.isfile(os.path.join(POLICYDIR, host[8:] + ".txt")):
            with open(os.path.join(POLICYDIR, host[8:] + ".txt"), "rb") as f:
                self.answer(200, f.read())
        else:
            self.answer(404)


def main():
    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(CERT, KEY)
    server.socket = ctx.wrap_socket(server.socket, server_side=True)
    signal.signal(signal.SIGTERM, lambda *a: threading.Thread(target=server.shutdown).start())
    with open(PORTFILE + ".tmp", "w") as f:
        f.write(str(server.server_address[1]))
    os.rename(PORTFILE + ".tmp", PORTFILE)
    server.serve_forever()


if __name__ == "__main__":
    main()
