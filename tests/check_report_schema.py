#!/usr/bin/python3
"""check_report_schema.py SCHEMA FILE_OR_DIR...

Validates RFC 8460 reports (.json, and .json.gz after gunzip) against a JSON
Schema with python3-jsonschema, and checks a report file name of the RFC 8460
section 5.3 form

    submitter "!" policy-domain "!" begin "!" end [ "!" unique-id ]
        "." ("json" / "json.gz")

against the content: every policy-domain equals the name's domain, and the
date-range equals begin..end (epoch seconds). Names without '!' are not
report file names (fixtures, RFC examples): only their content is checked.

Prints one line per file ("OK path" or "FAIL path: reason") and exits 1 if
any file failed, 2 on usage errors.
"""

import datetime
import gzip
import json
import os
import re
import sys

import jsonschema

NAME_RE = re.compile(
    r"^(?P<submitter>[^!/]+)!(?P<domain>[^!/]+)!(?P<begin>[0-9]+)"
    r"!(?P<end>[0-9]+)(?:!(?P<unique>[^!/]+))?\.json(?:\.gz)?$")


def report_files(args):
    """Yields the .json and .json.gz files named or found below args."""
    for arg in args:
        if os.path.isdir(arg):
            for root, _dirs, files in sorted(os.walk(arg)):
                for f in sorted(files):
                    if f.endswith(".json") or f.endswith(".json.gz"):
                        yield os.path.join(root, f)
        else:
            yield arg


def load_report(path):
    with open(path, "rb") as f:
        data = f.read()
    if path.endswith(".gz"):
        data = gzip.decompress(data)
    return json.loads(data.decode("utf-8"))


def epoch_seconds(text):
    """RFC 3339 date-time -> epoch seconds (int)."""
    t = text.replace("z", "Z").replace("t", "T")
    if t.endswith("Z"):
        t = t[:-1] + "+00:00"
    return int(datetime.datetime.fromisoformat(t).timestamp())


def check_name(path, report):
    """Returns a list of problems of the file name against the content."""
    base = os.path.basename(path)
    if "!" not in base:
        return []
    m = NAME_RE.match(base)
    if not m:
        return ["file name does not follow RFC 8460 section 5.3 grammar"]
    problems = []
    for i, p in enumerate(report.get("policies", [])):
        domain = p.get("policy", {}).get("policy-domain")
        if domain != m.group("domain"):
            problems.append("policies[%d] policy-domain %r != file name "
                            "domain %r" % (i, domain, m.group("domain")))
    rng = report.get("date-range", {})
    try:
        start = epoch_seconds(rng["start-datetime"])
        end = epoch_seconds(rng["end-datetime"])
    except (KeyError, TypeError, ValueError) as e:
        return problems + ["date-range unreadable: %s" % e]
    if start != int(m.group("begin")):
        problems.append("start-datetime %s != begin %s" %
                        (start, m.group("begin")))
    if end != int(m.group("end")):
        problems.append("end-datetime %s != end %s" % (end, m.group("end")))
    return problems


def check_file(validator, path):
    try:
        report = load_report(path)
    except (OSError, ValueError, EOFError) as e:
        return ["unreadable: %s" % e]
    problems = ["%s: %s" % ("/".join(str(x) for x in err.absolute_path) or
                            "(top)", err.message)
                for err in sorted(validator.iter_errors(report),
                                  key=lambda e: list(e.absolute_path))]
    if isinstance(report, dict):
        problems += check_name(path, report)
    return problems


def main(argv):
    if len(argv) < 3:
        sys.stderr.write(__doc__)
        return 2
    with open(argv[1], encoding="utf-8") as f:
        schema = json.load(f)
    cls = jsonschema.validators.validator_for(schema)
    cls.check_schema(schema)
    validator = cls(schema, format_checker=cls.FORMAT_CHECKER)
    failed = 0
    seen = 0
    for path in report_files(argv[2:]):
        seen += 1
        problems = check_file(validator, path)
        if problems:
            failed += 1
            print("FAIL %s: %s" % (path, "; ".join(problems)))
        else:
            print("OK %s" % path)
    if seen == 0:
        print("FAIL no report files found")
        return 1
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
