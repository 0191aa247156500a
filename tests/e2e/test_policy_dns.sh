#!/bin/sh
# Policy resolution from DNS and HTTPS, end to end: the Postfix 3.10
# corpus's classic lines (no TLSRPT: lines, no policy hints) are aggregated
# with resolve_policies = yes against a signing knotd that serves the test
# domains' MX, _mta-sts and TLSA records and an HTTPS server with their
# MTA-STS policies (taken from Postfix's own datagrams). The reports must
# give what the datagrams say, within the documented classic-path delta
# (the same as with policy hints), with DANE results under the MX host and
# the TLSA policy strings Postfix reported.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/servers.sh"
trap 'stop_servers; rm -rf "$WORK"' EXIT
HERE="$TRPT_SRC/tests/e2e"
mkdir -p "$WORK/policies"
{
    echo '$ORIGIN test.'; echo '$TTL 300'
    echo '@ SOA ns.test. hostmaster.test. 1 3600 600 86400 120'
    echo '@ NS ns.test.'; echo 'ns A 127.0.0.1'
    for s in sts stsbad stsexpired stsfail stsfetch stsinval; do
        echo "$s MX 10 mx.$s.test."
        echo "_mta-sts.$s TXT \"v=STSv1; id=20261128;\""
        printf 'version: STSv1\r\nmode: enforce\r\nmx: mx.%s.test\r\nmax_age: 86400\r\n' "$s" \
            >"$WORK/policies/$s.test.txt"
    done
    echo 'dane MX 10 mx.dane.test.'
    echo '_25._tcp.mx.dane TLSA 3 1 1 6700642B670E40DA43D7640022F6DD5F16F3793CFDB5B9556B1FABFA256A8990'
    echo 'danebad MX 10 mx.danebad.test.'
    echo '_25._tcp.mx.danebad TLSA 3 1 1 0000000000000000000000000000000000000000000000000000000000000000'
    echo 'daneinval MX 10 mx.daneinval.test.'
    echo '_25._tcp.mx.daneinval TLSA 3 1 1 00FF'
} >"$WORK/zone"
sans=$(for s in sts stsbad stsexpired stsfail stsfetch stsinval; do printf 'DNS:mta-sts.%s.test,' "$s"; done)
if ! start_knot test "$WORK/zone" || ! start_https "${sans%,}" "$WORK/policies"; then
    fail policy-dns-servers-start; exit 0
fi
export TLSRPT_TEST_UNBLOCK_ZONE=test TLSRPT_TEST_CONNECT_TO="::127.0.0.1:$HTTPS_PORT"
$PY "$HERE/report_counts.py" datagrams "$C310/datagrams.ndjson" >"$WORK/expected.json"
grep -v ': TLSRPT: ' "$C310/maillog.txt" >"$WORK/classic.log"
d="$WORK/run"; mkdir -p "$d"
write_conf "$d/c.conf" "$d" "postfix_tlsrpt = no" "resolve_policies = yes" \
    "dns_server = $KNOT_SERVER" "dns_trust_anchor_file = $KNOT_ANCHOR_FILE" \
    "https_ca_file = $HTTPS_CERT" "allow_address = 127.0.0.1"
"$TLSRPT" -c "$d/c.conf" ingest --year 2026 "$WORK/classic.log" 2>/dev/null
if "$TLSRPT" -c "$d/c.conf" aggregate --now 2026-12-01T00:00:00Z 2>"$d/agg.log"; then
    pass policy-dns-aggregate-runs
else fail policy-dns-aggregate-runs "$(cat "$d/agg.log")"; fi
if $PY "$HERE/report_counts.py" reports "$d/outbox" >"$d/actual.json" 2>"$d/err" &&
    $PY "$HERE/compare_counts.py" "$WORK/expected.json" "$d/actual.json" \
        "$HERE/classic-path-delta.json" >"$d/cmp" 2>&1; then
    pass policy-dns-classic-lines-match-postfix-datagrams
else fail policy-dns-classic-lines-match-postfix-datagrams "$(cat "$d/err" "$d/cmp")"; fi
if zcat "$d/outbox/"*'!mx.dane.test!'*.json.gz | grep -q '"3 1 1 6700642B670E40DA43D7640022F6DD5F16F3793CFDB5B9556B1FABFA256A8990"' &&
    zcat "$d/outbox/"*'!sts.test!'*.json.gz | grep -q '"mx: mx.sts.test"'; then
    pass policy-dns-policy-strings-from-tlsa-and-mta-sts
else fail policy-dns-policy-strings-from-tlsa-and-mta-sts "$(ls "$d/outbox")"; fi
