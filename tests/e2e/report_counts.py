#!/usr/bin/python3
"""report_counts.py - independent counting for end-to-end tests.

  report_counts.py datagrams FILE      counts from libtlsrpt datagrams
  report_counts.py reports DIR         counts from written RFC 8460 reports

Prints one JSON object: {"<policy-domain>|<policy-type>|<result>|<reason>":
count}. Written without any opentlsrpt code, so it checks the C pipeline
independently. Reports are also checked for internal consistency (summary
failure count equals the sum of failure details).
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


def key(domain, ptype, result, reason):
    return "|".join([domain, ptype, result, reason or ""])


def from_datagrams(path):
    counts = collections.Counter()
    with open(path, encoding="utf-8") as f:
        for line in f:
            d = json.loads(line)
            for p in d["policies"]:
                dom, pt = p["policy-domain"], TYPES[p["policy-type"]]
                if p["f"] == 0:
                    counts[key(dom, pt, "success", None)] += 1
                for fd in p.get("failure-details", []):
                    counts[key(dom, pt, CODES[fd["c"]], fd.get("f"))] += 1
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
            ok = s["total-successful-session-count"]
            if ok:
                counts[key(dom, pt, "success", None)] += ok
            nfail = 0
            for fd in pol.get("failure-details", []):
                n = fd["failed-session-count"]
                nfail += n
                counts[key(dom, pt, fd["result-type"],
                           fd.get("failure-reason-code"))] += n
            if nfail != s["total-failure-session-count"]:
                sys.exit("%s: summary says %d failures, details %d"
                         % (path, s["total-failure-session-count"], nfail))
    return counts


def main():
    if len(sys.argv) != 3 or sys.argv[1] not in ("datagrams", "reports"):
        sys.exit(__doc__)
    fn = from_datagrams if sys.argv[1] == "datagrams" else from_reports
    print(json.dumps(dict(sorted(fn(sys.argv[2]).items())), indent=1))


if __name__ == "__main__":
    main()
