#!/usr/bin/python3
"""send.py - feed MTA log lines into a running rsyslogd, as an MTA would.

  send.py logger SOCKET FILE...      one `logger -u SOCKET -t PROG --id=PID`
                                     per line: rsyslog stamps its own time
                                     and host (imuxsock)
  send.py tcp PORT YEAR FILE...      one TCP connection to 127.0.0.1:PORT,
                                     each line as RFC 5424 with the line's
                                     own time (in YEAR, UTC) and host
  --exim-host NAME                   host for Exim mainlog lines (they have
                                     none), as `tlsrpt ingest --host`
  --from N --to M                    only lines N..M-1 of the concatenation

Syslog lines ("Nov 28 11:45:39 host prog[pid]: msg") and Exim mainlog lines
("2026-11-28 11:48:30 [pid] msg") are split into time, host, program, pid
and message; a line of neither kind is an error (exit 2), so a test never
silently sends less than it compares. Prints the number of lines sent.
"""
import argparse
import re
import socket
import subprocess
import sys

SYSLOG = re.compile(r"^([A-Z][a-z]{2}) +(\d{1,2}) (\d\d:\d\d:\d\d) (\S+) "
                    r"([^\[\]: ]+)(?:\[(\d+)\])?: ?(.*)$")
EXIM = re.compile(r"^(\d{4}-\d\d-\d\d) (\d\d:\d\d:\d\d)(?: [+-]\d{4})? "
                  r"(?:\[(\d+)\] )?(.*)$")
MONTHS = {m: i + 1 for i, m in enumerate(
    "Jan Feb Mar Apr May Jun Jul Aug Sep Oct Nov Dec".split())}


def split_line(line, year, exim_host):
    """(rfc3339 time, host, prog, pid or None, msg)"""
    m = SYSLOG.match(line)
    if m:
        mon, day, hms, host, prog, pid, msg = m.groups()
        ts = "%04d-%02d-%02dT%s+00:00" % (year, MONTHS[mon], int(day), hms)
        return ts, host, prog, pid, msg
    m = EXIM.match(line)
    if m:
        date, hms, pid, msg = m.groups()
        return "%sT%s+00:00" % (date, hms), exim_host, "exim", pid, msg
    return None


def read_lines(files, first, last):
    lines = []
    for path in files:
        with open(path, encoding="utf-8", errors="surrogateescape") as f:
            lines.extend(l.rstrip("\n") for l in f)
    return lines[first:last]


def send_logger(sock, parts):
    for ts, host, prog, pid, msg in parts:
        cmd = ["logger", "-u", sock, "-S", "65536", "-t", prog]
        if pid:
            cmd.append("--id=" + pid)
        subprocess.run(cmd + ["--", msg], check=True)


def send_tcp(port, parts):
    out = []
    for ts, host, prog, pid, msg in parts:
        out.append("<22>1 %s %s %s %s - - %s\n" % (ts, host, prog, pid or "-",
                                                    msg))
    data = "".join(out).encode("utf-8", "surrogateescape")
    with socket.create_connection(("127.0.0.1", port)) as s:
        s.sendall(data)
        s.shutdown(socket.SHUT_WR)
        s.settimeout(10)
        try:
            s.recv(1)  # wait for rsyslog to close its side
        except OSError:
            pass


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("mode", choices=["logger", "tcp"])
    ap.add_argument("target")
    ap.add_argument("rest", nargs="+")
    ap.add_argument("--exim-host", default="localhost")
    ap.add_argument("--from", dest="first", type=int, default=0)
    ap.add_argument("--to", dest="last", type=int, default=None)
    a = ap.parse_args()
    if a.mode == "tcp":
        year, files = int(a.rest[0]), a.rest[1:]
    else:
        year, files = 2026, a.rest
    parts = []
    for n, line in enumerate(read_lines(files, a.first, a.last)):
        p = split_line(line, year, a.exim_host)
        if p is None:
            sys.exit("send.py: line %d has no known framing: %.80s" % (n, line))
        parts.append(p)
    if a.mode == "logger":
        send_logger(a.target, parts)
    else:
        send_tcp(int(a.target), parts)
    print(len(parts))


if __name__ == "__main__":
    main()
