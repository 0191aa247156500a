#!/usr/bin/python3
"""compare_counts.py EXPECTED.json ACTUAL.json [DELTA.json]

Exit 0 when ACTUAL == EXPECTED + DELTA, key by key (see report_counts.py for
the key format). DELTA documents, per key, a known and explained difference
(a JSON object of key -> signed count, "_why" keys are comments).
Prints every differing key otherwise.
"""
import json
import sys


def main():
    if len(sys.argv) not in (3, 4):
        sys.exit(__doc__)
    exp = json.load(open(sys.argv[1]))
    act = json.load(open(sys.argv[2]))
    delta = json.load(open(sys.argv[3])) if len(sys.argv) == 4 else {}
    for k, v in delta.items():
        if not k.startswith("_"):
            exp[k] = exp.get(k, 0) + v
    exp = {k: v for k, v in exp.items() if v}
    bad = 0
    for k in sorted(set(exp) | set(act)):
        if exp.get(k, 0) != act.get(k, 0):
            print("%-75s expected %4d, got %4d" % (k, exp.get(k, 0),
                                                   act.get(k, 0)))
            bad += 1
    if bad:
        sys.exit("%d keys differ" % bad)
    print("%d keys, all equal" % len(exp))


if __name__ == "__main__":
    main()
