#!/bin/sh
# demo.sh BUILD_DIR - run the whole opentlsrpt pipeline on the bundled sample
# logs (real Postfix 3.10, Postfix 3.7 and Exim 4.96 output, tests/data/demo)
# and show what comes out. Everything is written under demo-out/ in the
# source tree, recreated on every run. Called by `make demo`.
set -eu
cd "$(dirname "$0")/.."
SRC=$(pwd)
BUILD=${1:-build}
case $BUILD in /*) ;; *) BUILD="$SRC/$BUILD" ;; esac
TLSRPT="$BUILD/tlsrpt"
DATA="$SRC/tests/data/demo"
OUT="$SRC/demo-out"
# The sample day is 2026-11-28 (UTC); a day is reported report_delay
# (3600 s) after it ends, so any time after 2026-11-29T01:00Z will do.
NOW=2026-11-30T00:00:00Z

if [ ! -x "$TLSRPT" ]; then
    echo "demo: $TLSRPT not found; run 'make' first" >&2
    exit 1
fi
rm -rf "$OUT"
mkdir -p "$OUT"
conf="$OUT/tlsrpt.conf"
{
    cat "$DATA/tlsrpt.conf"
    echo "spool_directory  = $OUT/spool"
    echo "state_directory  = $OUT/state"
    echo "outbox_directory = $OUT/outbox"
    echo "spool_fsync      = never"
    # The demo runs offline: policies come from the hints above, not DNS.
    echo "resolve_policies = no"
} >"$conf"
chmod 0600 "$conf"

step() { printf '\n\033[1m== %s\033[0m\n' "$*"; }
run() { printf '$ %s\n' "$*" | sed "s|$SRC/||g"; "$@"; }

step "1. ingest: mail logs -> spool (normalized records, no addresses)"
# The logs' syslog lines carry no year: --year says it (a checkout's file
# times are not the log's).
run "$TLSRPT" -c "$conf" ingest --year 2026 \
    "$DATA/postfix-3.10.maillog" "$DATA/postfix-3.7.maillog.1.gz"
run "$TLSRPT" -c "$conf" ingest --host exim-sender.demo.example \
    "$DATA/exim-4.96.mainlog"
step "   ingesting a log again counts nothing twice (event ids)"
run "$TLSRPT" -c "$conf" ingest --year 2026 "$DATA/postfix-3.10.maillog"

step "2. show: pending counts per policy domain (before reporting)"
run "$TLSRPT" -c "$conf" show

step "3. aggregate: the day is over, write the RFC 8460 reports"
run "$TLSRPT" -c "$conf" aggregate --now "$NOW"

step "4. the reports in the outbox (RFC 8460 section 5.3 file names)"
ls -1 "$OUT/outbox"

step "5. summary read back from the gzip'd JSON reports"
python3 - "$OUT/outbox" <<'PY'
import gzip, json, os, sys
d = sys.argv[1]
rows, tot = [], [0, 0]
for name in sorted(os.listdir(d)):
    with gzip.open(os.path.join(d, name)) as f:
        rep = json.load(f)
    for p in rep["policies"]:
        s = p["summary"]
        ok, bad = s["total-successful-session-count"], s["total-failure-session-count"]
        by = {}
        for fd in p.get("failure-details", []):
            by[fd["result-type"]] = by.get(fd["result-type"], 0) + fd["failed-session-count"]
        rows.append((p["policy"]["policy-domain"], p["policy"]["policy-type"],
                     ok + bad, ok, bad,
                     ", ".join("%s %d" % kv for kv in sorted(by.items())) or "-"))
        tot[0] += ok; tot[1] += bad
fmt = "%-32s %-16s %8s %8s %8s  %s"
print(fmt % ("POLICY DOMAIN", "POLICY TYPE", "SESSIONS", "SUCCESS", "FAILURE", "FAILURES BY TYPE"))
for r in rows:
    print(fmt % r)
print(fmt % ("total", "", tot[0] + tot[1], tot[0], tot[1], ""))
print("\n%d report files, %d policies" % (len(os.listdir(d)), len(rows)))
PY

first=$(ls "$OUT/outbox" | head -1)
step "6. one report, as a receiver gets it"
printf '$ gzip -dc "demo-out/outbox/%s"\n' "$first"
gzip -dc "$OUT/outbox/$first" | python3 -m json.tool
echo
echo "demo: done; everything is in demo-out/ (config, spool, state, outbox)"
