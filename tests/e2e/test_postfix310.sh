#!/bin/sh
# End to end on the real Postfix 3.10 corpus: ingest its maillog, aggregate,
# write reports, and compare the report counts with counts computed
# independently from the libtlsrpt datagrams Postfix sent for the same
# sessions (report_counts.py; no opentlsrpt code involved). Then the same
# with every TLSRPT: line removed (the classic path), where the differences
# the classic lines cannot avoid are listed and explained in
# classic-path-delta.json. Every report is checked against the RFC 8460
# JSON schema.
. "$(dirname "$0")/lib.sh"
HERE="$TRPT_SRC/tests/e2e"
NOW=2026-12-01T00:00:00Z
$PY "$HERE/report_counts.py" datagrams "$C310/datagrams.ndjson" >"$WORK/expected.json"

run_path() { # NAME LOGFILE MODE DELTA
    name=$1; log=$2; mode=$3; delta=$4
    d="$WORK/$name"; mkdir -p "$d"
    write_conf "$d/tlsrpt.conf" "$d" "$C310_HINTS" "postfix_tlsrpt = $mode"
    if ! "$TLSRPT" -c "$d/tlsrpt.conf" ingest --year 2026 "$log" 2>"$d/ingest.log"; then
        fail "$name-ingest"; cat "$d/ingest.log" >&2; return
    fi
    if ! "$TLSRPT" -c "$d/tlsrpt.conf" aggregate --now "$NOW" 2>"$d/agg.log"; then
        fail "$name-aggregate"; cat "$d/agg.log" >&2; return
    fi
    check "$name-reports-valid-against-rfc8460-schema" $PY "$TRPT_SRC/tests/check_report_schema.py" \
        "$TRPT_SRC/tests/data/tlsrpt-report.schema.json" "$d/outbox"
    if $PY "$HERE/report_counts.py" reports "$d/outbox" >"$d/actual.json" 2>"$d/err" &&
        $PY "$HERE/compare_counts.py" "$WORK/expected.json" "$d/actual.json" $delta \
            >"$d/cmp" 2>&1; then
        pass "$name-report-counts-match-postfix-datagrams"
    else
        fail "$name-report-counts-match-postfix-datagrams"
        cat "$d/err" "$d/cmp" >&2
    fi
}

# Postfix's TLSRPT: lines are authoritative: reports equal the datagrams.
run_path tlsrpt-lines "$C310/maillog.txt" yes ""
# auto: classic sessions before the first TLSRPT: line count too (phase A0).
run_path tlsrpt-auto "$C310/maillog.txt" auto "$HERE/auto-mode-delta.json"
# Classic lines only.
grep -v ': TLSRPT: ' "$C310/maillog.txt" >"$WORK/classic.log"
run_path classic-lines "$WORK/classic.log" no "$HERE/classic-path-delta.json"

# Ingesting the same log twice counts it once (event ids).
d="$WORK/twice"; mkdir -p "$d"
write_conf "$d/tlsrpt.conf" "$d" "$C310_HINTS" "postfix_tlsrpt = yes"
gzip -c "$C310/maillog.txt" >"$d/maillog.1.gz"
"$TLSRPT" -c "$d/tlsrpt.conf" ingest --year 2026 "$C310/maillog.txt" 2>/dev/null
"$TLSRPT" -c "$d/tlsrpt.conf" ingest --year 2026 "$d/maillog.1.gz" 2>/dev/null
"$TLSRPT" -c "$d/tlsrpt.conf" aggregate --now "$NOW" 2>/dev/null
if $PY "$HERE/report_counts.py" reports "$d/outbox" >"$d/actual.json" 2>/dev/null &&
    $PY "$HERE/compare_counts.py" "$WORK/expected.json" "$d/actual.json" >"$d/cmp" 2>&1; then
    pass "same-log-ingested-twice-plain-and-gzip-counted-once"
else
    fail "same-log-ingested-twice-plain-and-gzip-counted-once"; cat "$d/cmp" >&2
fi
