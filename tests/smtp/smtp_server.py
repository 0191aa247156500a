#!/usr/bin/python3
"""smtp_server.py - an SMTP receiver on loopback for the delivery tests.

Usage: smtp_server.py CERT KEY PORTFILE OUTDIR [--auth USER:PASS] [--no-tls]
Listens on 127.0.0.1 on a free port (written to PORTFILE once listening),
requires STARTTLS (unless --no-tls: then it offers none), optionally AUTH
PLAIN/LOGIN, and stores each accepted message as OUTDIR/N.eml (the bytes
as received, CRLF kept) with OUTDIR/N.json (mail from, rcpt tos, whether
the session was TLS, the authenticated user).
Recipients decide the answer: tempfail@... 451, reject@... 550.
Stops on SIGTERM.
"""
import asyncio
import json
import os
import signal
import socket
import ssl
import sys
import threading

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

CERT, KEY, PORTFILE, OUTDIR = sys.argv[1:5]
AUTH = None
TLS = True
for i, a in enumerate(sys.argv):
    if a == "--auth":
        AUTH = sys.argv[i + 1]
    if a == "--no-tls":
        TLS = False
COUNT = [0]
LOCK = threading.Lock()


class Handler:
    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        local = address.split("@")[0].lower()
        if local == "tempfail":
            return "451 4.3.0 try again later"
        if local == "reject":
            return "550 5.1.1 no such user"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        with LOCK:
            COUNT[0] += 1
            n = COUNT[0]
        base = os.path.join(OUTDIR, str(n))
        with open(base + ".eml.tmp", "wb") as f:
            f.write(envelope.original_content)
        meta = {
            "mail_from": envelope.mail_from,
            "rcpt_tos": envelope.rcpt_tos,
            "tls": session.ssl is not None,
            "user": session.auth_data.login.decode()
            if isinstance(getattr(session, "auth_data", None), LoginPassword) else None,
        }
        with open(base + ".json", "w") as f:
            json.dump(meta, f)
        os.rename(base + ".eml.tmp", base + ".eml")
        return "250 Message accepted"


def authenticator(server, session, envelope, mechanism, auth_data):
    if not isinstance(auth_data, LoginPassword):
        return AuthResult(success=False, handled=False)
    user, password = AUTH.split(":", 1)
    ok = auth_data.login.decode() == user and auth_data.password.decode() == password
    return AuthResult(success=ok, handled=False, auth_data=auth_data)


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def main():
    kwargs = {"decode_data": False}
    if TLS:
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(CERT, KEY)
        kwargs["tls_context"] = ctx
        kwargs["require_starttls"] = True
    if AUTH:
        kwargs["authenticator"] = authenticator
        kwargs["auth_required"] = True
        kwargs["auth_require_tls"] = TLS
    port = free_port()
    controller = Controller(Handler(), hostname="127.0.0.1", port=port, **kwargs)
    controller.start()
    with open(PORTFILE + ".tmp", "w") as f:
        f.write(str(port))
    os.rename(PORTFILE + ".tmp", PORTFILE)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *a: stop.set())
    stop.wait()
    controller.stop()


if __name__ == "__main__":
    main()
