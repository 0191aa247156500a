#!/usr/bin/python3
"""canon_compare.py - core/dkim.c's relaxed canonicalization against
python3-dkim's (dkim.canonicalization.Relaxed) on random header fields and
CRLF-terminated bodies built from the characters that matter (SP, HTAB,
CRLF, folds, colons).

usage: canon_compare.py CANON_DUMP COUNT SEED  (COUNT headers and bodies)
Exit status 0 when every case agrees; the first difference goes to stderr.
"""
import random
import subprocess
import sys

from dkim.canonicalization import Relaxed

PIECES = [b" ", b"\t", b"  ", b"a", b"Z", b"x y", b":", b"=", b"-", b"\r\n ", b"\r\n\t"]
BODY_PIECES = [b" ", b"\t", b"a", b"Bc", b"\r\n", b"\r\n", b" \t ", b"."]


def run_dump(dump, cases):
    """Canonical forms by canon_dump, one per (mode, data) case."""
    framed = b"".join(b"%s %d\n%s" % (m, len(d), d) for m, d in cases)
    out = subprocess.run([dump], input=framed, capture_output=True, check=True).stdout
    results, i = [], 0
    for _ in cases:
        nl = out.index(b"\n", i)
        if out[i:nl] == b"-":
            results.append(None)
            i = nl + 1
            continue
        n = int(out[i:nl])
        results.append(out[nl + 1 : nl + 1 + n])
        i = nl + 1 + n
    return results


def random_header(rng):
    name = rng.choice([b"Subject", b"TLS-Report-Domain", b"X-a", b"FROM"])
    name += rng.choice([b"", b" ", b"\t "])
    value = b"".join(rng.choice(PIECES) for _ in range(rng.randrange(0, 12)))
    return name, value


def random_body(rng):
    body = b"".join(rng.choice(BODY_PIECES) for _ in range(rng.randrange(0, 16)))
    return body if body == b"" else body + b"\r\n"


def main():
    dump, count, seed = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    rng = random.Random(seed)
    cases, wants = [], []
    for _ in range(count):
        name, value = random_header(rng)
        cases.append((b"H", name + b":" + value))
        wants.append(b"%s:%s" % Relaxed.canonicalize_headers([(name, value)])[0])
        body = random_body(rng)
        cases.append((b"B", body))
        wants.append(Relaxed.canonicalize_body(body))
    for (mode, data), want, got in zip(cases, wants, run_dump(dump, cases)):
        if got != want:
            sys.exit("%s %r: ours %r, python3-dkim %r" % (mode.decode(), data, got, want))
    return 0


if __name__ == "__main__":
    sys.exit(main())
