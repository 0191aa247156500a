#!/usr/bin/python3
"""same_reports.py A_OUTBOX B_OUTBOX - exit 0 when both directories hold
the same RFC 8460 report files (names and parsed JSON content), else print
the first differences and exit 1."""
import glob
import gzip
import json
import os
import sys


def load(d):
    out = {}
    for p in sorted(glob.glob(os.path.join(d, "*.json.gz"))):
        with gzip.open(p, "rt", encoding="utf-8") as f:
            out[os.path.basename(p)] = json.load(f)
    return out


def main():
    a, b = load(sys.argv[1]), load(sys.argv[2])
    if not a:
        sys.exit("no reports in " + sys.argv[1])
    bad = 0
    for name in sorted(set(a) | set(b)):
        if name not in a or name not in b:
            print("only in", sys.argv[1] if name in a else sys.argv[2], name)
            bad = 1
        elif a[name] != b[name]:
            print("differs:", name)
            print(" ", json.dumps(a[name], sort_keys=True)[:600])
            print(" ", json.dumps(b[name], sort_keys=True)[:600])
            bad = 1
    sys.exit(bad)


if __name__ == "__main__":
    main()
