#!/usr/bin/python3
"""dgram_counts.py - independent counts for the collector tests.

  dgram_counts.py datagrams FILE...   counts from libtlsrpt datagrams
                                      (one per line, as captured)
  dgram_counts.py reports DIR         counts from written RFC 8460 reports

Prints one JSON object {key: sessions}. A key holds everything a report
says about a session: policy domain, type, policy strings, mx-host
patterns, result, and for failures the failure-reason-code, sending IP,
MX name, receiving IP and EHLO name. Written without opentlsrpt code.

The collector's documented rules (docs/tlsrpt-collect.1): one session per
policies[] entry; f=0 success; f=1 decided by the first failure detail;
the policy domain is the policy's own, else "d", lower-cased; the EHLO
field is the host name the first reply line announces.
"""
import collections
import glob
import gzip
import json
import os
import sys

CODES = {201: "starttls-not-supported", 202: "certificate-host-mismatch",
         203: "certificate-not-trusted", 204: "certificate-expired",
         205: "validation-failure", 301: "sts-policy-fetch-error",
         302: "sts-policy-invalid", 303: "sts-webpki-invalid",
         304: "tlsa-invalid", 305: "dnssec-invalid", 306: "dane-required"}
TYPES = {1: "tlsa", 2: "sts", 9: "no-policy-found"}


def helo_name(reply):
    if reply is None:
        return None
    first = reply.split("\r\n")[0].split("\n")[0].strip()
    if len(first) >= 3 and first[:3].isdigit() and first[3:4] in ("-", " ", ""):
        first = first[4:].strip()
    name = first.split(" ")[0] if first else ""
    return name or None


def key(dom, ptype, strings, mx, result, detail):
    d = detail or {}
    return json.dumps([dom, ptype, strings or [], mx or [], result,
                       d.get("f"), d.get("s"), d.get("n"), d.get("r"),
                       helo_name(d.get("h"))])


def from_datagrams(paths):
    counts = collections.Counter()
    for path in paths:
        with open(path, encoding="utf-8") as f:
            for line in f:
                dg = json.loads(line)
                for p in dg["policies"]:
                    dom = p.get("policy-domain", dg.get("d")).lower()
                    pt = TYPES[p["policy-type"]]
                    ps, mx = p.get("policy-string"), p.get("mx-host")
                    fds = p.get("failure-details", [])
                    if p["f"] == 0:
                        counts[key(dom, pt, ps, mx, "success", None)] += 1
                    elif fds:
                        counts[key(dom, pt, ps, mx, CODES[fds[0]["c"]],
                                   fds[0])] += 1
                    else:
                        counts[key(dom, pt, ps, mx, "validation-failure",
                                   None)] += 1
    return counts


def from_reports(directory):
    counts = collections.Counter()
    files = sorted(glob.glob(os.path.join(directory, "*.json.gz")))
    if not files:
        sys.exit("no reports in " + directory)
    for path in files:
        with gzip.open(path, "rt", encoding="utf-8") as f:
            rep = json.load(f)
        for pol in rep["policies"]:
            p, s = pol["policy"], pol["summary"]
            dom, pt = p["policy-domain"], p["policy-type"]
            ps, mx = p.get("policy-string"), p.get("mx-host")
            ok = s["total-successful-session-count"]
            if ok:
                counts[key(dom, pt, ps, mx, "success", None)] += ok
            nfail = 0
            for fd in pol.get("failure-details", []):
                n = fd["failed-session-count"]
                nfail += n
                d = {"f": fd.get("failure-reason-code"),
                     "s": fd.get("sending-mta-ip"),
                     "n": fd.get("receiving-mx-hostname"),
                     "r": fd.get("receiving-ip"),
                     "h": fd.get("receiving-mx-helo")}
                counts[key(dom, pt, ps, mx, fd["result-type"], d)] += n
            if nfail != s["total-failure-session-count"]:
                sys.exit("%s: summary says %d failures, details %d"
                         % (path, s["total-failure-session-count"], nfail))
    return counts


def main():
    if len(sys.argv) < 3 or sys.argv[1] not in ("datagrams", "reports"):
        sys.exit(__doc__)
    if sys.argv[1] == "datagrams":
        c = from_datagrams(sys.argv[2:])
    else:
        c = from_reports(sys.argv[2])
    print(json.dumps(dict(sorted(c.items())), indent=1))


if __name__ == "__main__":
    main()
