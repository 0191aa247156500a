#!/usr/bin/python3
"""mkjournal.py - mail log lines -> Journal Export Format, for building
journal files without journald (pipe into systemd-journal-remote).

  mkjournal.py [--year Y] [--host H] [--boot ID] [--start-mono N]
               [--shift-us N] [--hostile] [--repeat N] LOG...

Each syslog line "Mon DD HH:MM:SS host prog[pid]: message" becomes one
entry with the fields a real journald writes for a syslog message
(__REALTIME_TIMESTAMP from the line's time, __MONOTONIC_TIMESTAMP,
_BOOT_ID, _MACHINE_ID, _HOSTNAME, SYSLOG_IDENTIFIER, SYSLOG_PID, _PID,
_COMM, _TRANSPORT=syslog, SYSLOG_FACILITY, PRIORITY, _SYSTEMD_UNIT,
MESSAGE). Exim mainlog lines "YYYY-MM-DD HH:MM:SS [pid] ..." become entries
of SYSLOG_IDENTIFIER=exim on --host. Lines of the same second get
increasing microseconds so that realtime order is line order.

--hostile appends entries a reader must count and skip: a binary MESSAGE
(NUL byte), a MESSAGE that is not UTF-8, a 100 KB MESSAGE, a 1000-byte
hostname, an entry without SYSLOG_IDENTIFIER, one without MESSAGE, one
with a non-numeric _PID. --repeat N writes the lines N times, each pass
one second per line later (a bigger journal from a small corpus).
--shift-us moves every entry's time (a file written later).
"""
import argparse
import datetime
import re
import struct
import sys

SYSLOG = re.compile(
    r"^(\w{3}) +(\d{1,2}) (\d\d):(\d\d):(\d\d) (\S+) ([^\[:\s]+)(?:\[(\d+)\])?: (.*)$")
EXIM = re.compile(r"^(\d{4})-(\d\d)-(\d\d) (\d\d):(\d\d):(\d\d) \[(\d+)\] (.*)$")
MONTHS = {m: i + 1 for i, m in enumerate(
    "Jan Feb Mar Apr May Jun Jul Aug Sep Oct Nov Dec".split())}


def field(out, name, value):
    """One field; binary or multi-line values in the length-prefixed form."""
    if isinstance(value, str):
        value = value.encode("utf-8", "surrogateescape")
    if b"\n" in value or not is_text(value):
        out.write(name.encode() + b"\n" + struct.pack("<Q", len(value)) +
                  value + b"\n")
    else:
        out.write(name.encode() + b"=" + value + b"\n")


def is_text(b):
    if b"\0" in b:
        return False
    try:
        b.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


class Writer:
    def __init__(self, out, boot, start_mono):
        self.out = out
        self.boot = boot
        self.mono = start_mono
        self.last_us = 0

    def entry(self, us, fields):
        us = max(us, self.last_us + 1)  # strictly increasing, like journald
        self.last_us = us
        self.mono += 1000
        field(self.out, "__REALTIME_TIMESTAMP", str(us))
        field(self.out, "__MONOTONIC_TIMESTAMP", str(self.mono))
        field(self.out, "_BOOT_ID", self.boot)
        field(self.out, "_MACHINE_ID", "0123456789abcdef0123456789abcdef")
        for k, v in fields:
            field(self.out, k, v)
        self.out.write(b"\n")


def syslog_fields(host, prog, pid, msg):
    comm = prog.rsplit("/", 1)[-1]
    unit = "postfix@-.service" if prog.startswith("postfix") else \
        "exim4.service" if prog.startswith("exim") else "syslog.service"
    f = [("_HOSTNAME", host), ("SYSLOG_FACILITY", "2"), ("PRIORITY", "6"),
         ("_TRANSPORT", "syslog"), ("SYSLOG_IDENTIFIER", prog)]
    if pid is not None:
        f += [("SYSLOG_PID", pid), ("_PID", pid)]
    f += [("_COMM", comm), ("_SYSTEMD_UNIT", unit), ("MESSAGE", msg)]
    return f


def line_entry(line, year, host):
    m = SYSLOG.match(line)
    if m:
        mon, day, hh, mm, ss, h, prog, pid, msg = m.groups()
        t = datetime.datetime(year, MONTHS[mon], int(day), int(hh), int(mm),
                              int(ss), tzinfo=datetime.timezone.utc)
        return int(t.timestamp()) * 1000000, syslog_fields(h, prog, pid, msg)
    m = EXIM.match(line)
    if m:
        y, mo, d, hh, mm, ss, pid, msg = m.groups()
        t = datetime.datetime(int(y), int(mo), int(d), int(hh), int(mm),
                              int(ss), tzinfo=datetime.timezone.utc)
        return int(t.timestamp()) * 1000000, syslog_fields(host, "exim", pid,
                                                           msg)
    return None


def hostile(w, us, host):
    smtp = "postfix/smtp"
    ok = "3CDEBA7C427: to=<a@b.test>, relay=mx.b.test[192.0.2.1]:25, status=sent"
    w.entry(us + 1, syslog_fields(host, smtp, "7", ok.encode() + b"\0tail"))
    w.entry(us + 2, syslog_fields(host, smtp, "7", b"Verified \xff\xfe TLS"))
    w.entry(us + 3, syslog_fields(host, smtp, "7", "x" * 100000))
    w.entry(us + 4, syslog_fields("h" * 1000, smtp, "7", ok))
    w.entry(us + 5, [(k, v) for k, v in syslog_fields(host, smtp, "7", ok)
                     if k != "SYSLOG_IDENTIFIER"])
    w.entry(us + 6, [(k, v) for k, v in syslog_fields(host, smtp, "7", ok)
                     if k != "MESSAGE"])
    w.entry(us + 7, [(k, "12ab" if k in ("_PID", "SYSLOG_PID") else v)
                     for k, v in syslog_fields(host, smtp, "7", ok)])
    return 7


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--year", type=int, default=2026)
    ap.add_argument("--host", default="sender")
    ap.add_argument("--boot", default="fedcba9876543210fedcba9876543210")
    ap.add_argument("--start-mono", type=int, default=1000000)
    ap.add_argument("--hostile", action="store_true")
    ap.add_argument("--repeat", type=int, default=1)
    ap.add_argument("--shift-us", type=int, default=0)
    ap.add_argument("logs", nargs="+")
    a = ap.parse_args()
    out = sys.stdout.buffer
    w = Writer(out, a.boot, a.start_mono)
    n = 0
    shift = a.shift_us
    if a.repeat == 1:  # streamed: a million-line benchmark log
        for path in a.logs:
            with open(path, encoding="utf-8", errors="surrogateescape") as f:
                for line in f:
                    e = line_entry(line.rstrip("\n"), a.year, a.host)
                    if e:
                        w.entry(e[0] + shift, e[1])
                        n += 1
        a.repeat = 0
    lines = []
    for path in a.logs if a.repeat else []:
        with open(path, encoding="utf-8", errors="surrogateescape") as f:
            lines += [l.rstrip("\n") for l in f]
    for _ in range(a.repeat):
        for line in lines:
            e = line_entry(line, a.year, a.host)
            if e:
                w.entry(e[0] + shift, e[1])
                n += 1
        shift = w.last_us - (line_entry(lines[0], a.year, a.host) or
                             (0, 0))[0] + 1000000
    if a.hostile:
        n += hostile(w, w.last_us, a.host)
    print(n, file=sys.stderr)


if __name__ == "__main__":
    main()
