#!/bin/sh
# Datagrams from the real client library: Debian 13's libtlsrpt0 and
# libtlsrpt0-dev are fetched as .debs (fetch_libtlsrpt.sh, private apt
# configuration, cached) and unpacked here, never installed; our
# tlsrpt_client.c, linked against them, sends deliveries through the
# library's public API. Its datagrams are captured once as sent (a plain
# socket reader), then sent again to `tlsrpt collect`; the reports must
# hold exactly what dgram_counts.py counts in the capture.
. "$(dirname "$0")/../e2e/lib.sh"
HERE="$TRPT_SRC/tests/collect"
NOW=$(date -u -d '+2 days' +%Y-%m-%dT12:00:00Z)
ROUNDS=20
PIDS=""
# shellcheck disable=SC2154 # p is the loop variable inside the trap
trap 'for p in $PIDS; do kill -9 "$p" 2>/dev/null; done; rm -rf "$WORK"' EXIT

L="$WORK/libtlsrpt"
if ! why=$(sh "$HERE/fetch_libtlsrpt.sh" "$L"); then
    echo "SKIP libtlsrpt-client: ${why:-could not fetch the trixie packages}"
    exit 0
fi
libdir=$(dirname "$(find "$L" -name 'libtlsrpt.so*' | head -1)")
if ! gcc -std=gnu11 -Wall -Werror -I"$L/usr/include" -o "$WORK/client" \
    "$HERE/tlsrpt_client.c" -L"$libdir" -ltlsrpt -Wl,-rpath,"$libdir" \
    2>"$WORK/cc.err"; then
    fail "client-builds-against-debian-libtlsrpt"; cat "$WORK/cc.err" >&2
    exit 0
fi
pass "client-builds-against-debian-libtlsrpt"

# 1. what the library sends, byte for byte
$PY - "$WORK/cap.sock" "$WORK/capture.ndjson" <<'EOF' &
import socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(sys.argv[1])
s.settimeout(10)
with open(sys.argv[2], "wb") as out:
    try:
        while True:
            d = s.recv(1 << 17)
            out.write(d + b"\n")
            out.flush()
            s.settimeout(1.5)
    except socket.timeout:
        pass
EOF
cap=$!
PIDS="$PIDS $cap"
i=0; while [ ! -S "$WORK/cap.sock" ] && [ $i -lt 100 ]; do sleep 0.05; i=$((i + 1)); done
"$WORK/client" "$WORK/cap.sock" "$ROUNDS" 2>"$WORK/client1.err"
rc=$?
wait $cap
n=$(wc -l <"$WORK/capture.ndjson")
if [ $rc -eq 0 ] && [ "$n" -eq $((ROUNDS * 5)) ] && ! grep -q '"dpv"' "$WORK/capture.ndjson"; then
    pass "debian-libtlsrpt-sends-one-datagram-per-delivery-without-dpv"
else
    fail "debian-libtlsrpt-sends-one-datagram-per-delivery-without-dpv" "exit $rc, $n datagrams"
    cat "$WORK/client1.err" >&2
fi

# 2. the same deliveries into the collector
d="$WORK/collect"; mkdir -p "$d"
write_conf "$d/tlsrpt.conf" "$d" "postfix_tlsrpt = datagrams"
"$TLSRPT" -c "$d/tlsrpt.conf" collect --socket "$d/sock" --stats-file "$d/stats" \
    2>"$d/collect.err" &
cpid=$!
PIDS="$PIDS $cpid"
i=0; while [ ! -f "$d/stats" ] && [ $i -lt 100 ]; do sleep 0.05; i=$((i + 1)); done
"$WORK/client" "$d/sock" "$ROUNDS" 2>"$WORK/client2.err"
rc=$?
kill -TERM $cpid; wait $cpid; crc=$?
got=$(awk '$1 == "tlsrpt_collect_records_committed_total" { print $2 }' "$d/stats")
if [ $rc -eq 0 ] && [ $crc -eq 0 ] && [ "$got" = $((ROUNDS * 6)) ]; then
    pass "collector-writes-a-record-per-policy-of-libtlsrpt-deliveries"
else
    fail "collector-writes-a-record-per-policy-of-libtlsrpt-deliveries" \
        "client $rc, collector $crc, records $got"
    cat "$WORK/client2.err" "$d/collect.err" >&2
fi
$PY "$HERE/dgram_counts.py" datagrams "$WORK/capture.ndjson" >"$WORK/expected.json"
if "$TLSRPT" -c "$d/tlsrpt.conf" aggregate --now "$NOW" 2>"$d/agg.log" &&
    $PY "$HERE/dgram_counts.py" reports "$d/outbox" >"$d/actual.json" 2>"$d/err" &&
    cmp -s "$WORK/expected.json" "$d/actual.json"; then
    pass "libtlsrpt-client-reports-match-captured-datagram-counts"
else
    fail "libtlsrpt-client-reports-match-captured-datagram-counts"
    cat "$d/agg.log" "$d/err" >&2; diff "$WORK/expected.json" "$d/actual.json" | head -20 >&2
fi
check "libtlsrpt-client-reports-valid-against-rfc8460-schema" $PY \
    "$TRPT_SRC/tests/check_report_schema.py" \
    "$TRPT_SRC/tests/data/tlsrpt-report.schema.json" "$d/outbox"
