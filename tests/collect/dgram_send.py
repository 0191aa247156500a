#!/usr/bin/python3
"""dgram_send.py - send datagrams to the collector's socket (blocking, so
none is lost in the test; libtlsrpt itself sends non-blocking).

  dgram_send.py SOCKET lines FILE [REPEAT]   each line of FILE (without its
                                             newline) as one datagram
  dgram_send.py SOCKET dpv FILE              the same, with libtlsrpt
                                             0.5.1's "dpv": "1" in front
  dgram_send.py SOCKET hostile               malformed datagrams; prints
                                             {reason: count} expected
"""
import json
import socket
import sys

GOOD = (b'{"d": "good.test","pr": "v=TLSRPTv1; rua=mailto:r@good.test",'
        b'"policies":[{"policy-type":9,"policy-domain": "good.test",'
        b'"t":0,"f":0}]}')


def pol(body):
    return (b'{"d": "bad.test","policies":[{"policy-type":9,' + body +
            b'}]}')


# (reason the collector must count, datagram)
HOSTILE = [
    ("not_json", b""),
    ("not_json", b"hello"),
    ("not_json", GOOD[:60]),  # truncated
    ("not_json", GOOD + b"}"),
    ("not_json", GOOD + b"\x00"),  # trailing NUL
    ("not_json", b'{"d": "a\x00b.test","policies":[]}'),
    ("bad_text", b'{"d": "\xff\xfe.test","policies":[{"policy-type":9,"f":0}]}'),
    ("bad_text", b'{"d": "a\\u0000.test","policies":[{"policy-type":9,"f":0}]}'),
    ("wrong_type", b'[1,2,3]'),
    ("wrong_type", pol(b'"f":"0"')),
    ("wrong_type", pol(b'"f":0,"mx-host":"mx.bad.test"')),
    ("missing_key", b'{"d": "bad.test"}'),
    ("missing_key", pol(b'"t":0')),
    ("duplicate_key", pol(b'"f":0,"f":1')),
    ("bad_version", b'{"dpv": "7",' + GOOD[1:]),
    ("bad_policy_type", b'{"d": "bad.test","policies":[{"policy-type":4,"f":0}]}'),
    ("bad_code", pol(b'"failure-details":[{"c":999}],"t":1,"f":1')),
    ("bad_code", pol(b'"failure-details":[{"c":901}],"t":1,"f":1')),
    ("bad_final", pol(b'"f":7')),
    ("bad_domain", b'{"d": "bad..test","policies":[{"policy-type":9,"f":0}]}'),
    ("privacy", pol(b'"failure-details":[{"c":201,"n":"u@bad.test"}],"f":1')),
    ("too_deep", b'{"x":' + b"[" * 100 + b"]" * 100 + b"," + GOOD[1:]),
    ("too_long", pol(b'"failure-details":[{"c":201,"n":"' + b"a" * 2000 +
                     b'"}],"f":1')),
    ("too_many", pol(b'"mx-host":[' + b",".join([b'"m.bad.test"'] * 65) +
                     b'],"f":0')),
    ("oversize", b'{"x":"' + b"a" * 70000 + b'",' + GOOD[1:]),
]


def send_all(path, datagrams):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 1 << 20)
    for d in datagrams:
        s.sendto(d, path)
    s.close()


def lines(path):
    with open(path, "rb") as f:
        return [l.rstrip(b"\n") for l in f if l.strip()]


def main():
    if len(sys.argv) < 3:
        sys.exit(__doc__)
    sock, mode = sys.argv[1], sys.argv[2]
    if mode == "lines":
        repeat = int(sys.argv[4]) if len(sys.argv) > 4 else 1
        dgs = lines(sys.argv[3]) * repeat
        send_all(sock, dgs)
        print(len(dgs))
    elif mode == "dpv":
        dgs = [b'{"dpv": "1",' + l[1:] for l in lines(sys.argv[3])]
        send_all(sock, dgs)
        print(len(dgs))
    elif mode == "hostile":
        # good ones between the bad ones: they must all be kept
        dgs = []
        for _, d in HOSTILE:
            dgs += [d, GOOD]
        send_all(sock, dgs)
        want = {}
        for reason, _ in HOSTILE:
            want[reason] = want.get(reason, 0) + 1
        want["good"] = len(HOSTILE)
        print(json.dumps(want))
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main()
