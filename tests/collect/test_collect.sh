#!/bin/sh
# `tlsrpt collect` end to end: every datagram of the Postfix 3.10 corpus is
# replayed to the collector's socket (as sent by libtlsrpt 0.5.0, and again
# in the 0.5.1 form with "dpv"); the reports must hold exactly the counts
# dgram_counts.py computes from the same file, with policy strings, mx-host
# patterns and failure fields. Then: hostile datagrams counted per reason
# with the good ones kept, the queue drained on SIGTERM, the one-path rule
# enforced, socket mode and group applied, stale sockets replaced.
. "$(dirname "$0")/../e2e/lib.sh"
HERE="$TRPT_SRC/tests/collect"
DG="$C310/datagrams.ndjson"
# Records carry their receive time: report the days up to the day after.
NOW=$(date -u -d '+2 days' +%Y-%m-%dT12:00:00Z)
PIDS=""
# shellcheck disable=SC2154 # p is the loop variable inside the trap
trap 'for p in $PIDS; do kill -9 "$p" 2>/dev/null; done; rm -rf "$WORK"' EXIT

# start_collector DIR [OPTIONS...]: runs it in the background and waits
# until it is ready (its first stats file is written after the socket is
# bound); $CPID is its pid
start_collector() {
    d=$1; shift
    rm -f "$d/stats.prom"
    "$TLSRPT" -c "$d/tlsrpt.conf" collect --socket "$d/sock" \
        --stats-file "$d/stats.prom" "$@" 2>"$d/collect.err" &
    CPID=$!
    PIDS="$PIDS $CPID"
    i=0
    while [ ! -f "$d/stats.prom" ] && [ $i -lt 200 ]; do
        kill -0 "$CPID" 2>/dev/null || return 1
        sleep 0.05; i=$((i + 1))
    done
    [ -S "$d/sock" ] && [ -f "$d/stats.prom" ]
}
# stop_collector: SIGTERM, wait; returns its exit status
stop_collector() {
    kill -TERM "$CPID" 2>/dev/null
    wait "$CPID"
}
metric() { # FILE NAME[{labels}]
    awk -v k="$2" '$1 == k { print $2 }' "$1"
}
new_dir() { # NAME: a directory with a datagram-mode config
    d="$WORK/$1"; mkdir -p "$d"
    write_conf "$d/tlsrpt.conf" "$d" "postfix_tlsrpt = datagrams"
    echo "$d"
}
compare_reports() { # NAME DIR EXPECTED.json
    if "$TLSRPT" -c "$2/tlsrpt.conf" aggregate --now "$NOW" 2>"$2/agg.log" &&
        $PY "$HERE/dgram_counts.py" reports "$2/outbox" >"$2/actual.json" 2>"$2/err" &&
        cmp -s "$3" "$2/actual.json"; then
        pass "$1"
    else
        fail "$1"; cat "$2/agg.log" "$2/err" >&2
        diff "$3" "$2/actual.json" | head -20 >&2
    fi
}

$PY "$HERE/dgram_counts.py" datagrams "$DG" >"$WORK/expected.json"

# ---- the one-path rule --------------------------------------------------
d="$WORK/auto"; mkdir -p "$d"
write_conf "$d/tlsrpt.conf" "$d" "postfix_tlsrpt = yes"
"$TLSRPT" -c "$d/tlsrpt.conf" collect --socket "$d/sock" 2>"$d/err"
rc=$?
if [ $rc -eq 3 ] && grep -q 'postfix_tlsrpt = datagrams' "$d/err" && [ ! -e "$d/sock" ]; then
    pass "refuses-to-start-unless-postfix-tlsrpt-is-datagrams"
else
    fail "refuses-to-start-unless-postfix-tlsrpt-is-datagrams" "exit $rc"; cat "$d/err" >&2
fi

# ---- the corpus, libtlsrpt 0.5.0 form ---------------------------------
d=$(new_dir corpus)
if start_collector "$d" --host sender; then
    n=$($PY "$HERE/dgram_send.py" "$d/sock" lines "$DG")
    stop_collector; rc=$?
    if [ $rc -eq 0 ] && [ "$n" = 125 ] &&
        [ "$(metric "$d/stats.prom" tlsrpt_collect_datagrams_received_total)" = 125 ] &&
        [ "$(metric "$d/stats.prom" tlsrpt_collect_records_committed_total)" = 125 ]; then
        pass "corpus-replay-all-125-datagrams-received-and-committed"
    else
        fail "corpus-replay-all-125-datagrams-received-and-committed" "exit $rc, sent $n"
        cat "$d/collect.err" "$d/stats.prom" >&2
    fi
    compare_reports "corpus-reports-match-datagram-counts-with-policy-strings-and-mx-hosts" \
        "$d" "$WORK/expected.json"
    check "corpus-reports-valid-against-rfc8460-schema" $PY \
        "$TRPT_SRC/tests/check_report_schema.py" \
        "$TRPT_SRC/tests/data/tlsrpt-report.schema.json" "$d/outbox"
    # the e2e counter (domain|type|result|reason) agrees too
    if $PY "$TRPT_SRC/tests/e2e/report_counts.py" datagrams "$DG" >"$d/e1.json" &&
        $PY "$TRPT_SRC/tests/e2e/report_counts.py" reports "$d/outbox" >"$d/e2.json" &&
        cmp -s "$d/e1.json" "$d/e2.json"; then
        pass "corpus-reports-match-e2e-report-counts"
    else
        fail "corpus-reports-match-e2e-report-counts"; diff "$d/e1.json" "$d/e2.json" | head >&2
    fi
    if grep -q 'records written' "$d/collect.err"; then
        pass "summary-line-on-stderr-at-exit"
    else
        fail "summary-line-on-stderr-at-exit"; cat "$d/collect.err" >&2
    fi
else
    fail "corpus-collector-starts"; cat "$d/collect.err" >&2
fi

# ---- the same datagrams in the libtlsrpt 0.5.1 form ("dpv": "1") ------
# (with --realtime: SCHED_FIFO where permitted, a warning otherwise)
d=$(new_dir dpv)
if start_collector "$d" --realtime; then
    $PY "$HERE/dgram_send.py" "$d/sock" dpv "$DG" >/dev/null
    stop_collector
    compare_reports "dpv-form-reports-match-datagram-counts" "$d" "$WORK/expected.json"
else
    fail "dpv-collector-starts"; cat "$d/collect.err" >&2
fi

# ---- hostile datagrams: counted per reason, good ones kept -------------
d=$(new_dir hostile)
if start_collector "$d"; then
    $PY "$HERE/dgram_send.py" "$d/sock" hostile >"$d/want.json"
    alive=0; kill -0 "$CPID" 2>/dev/null && alive=1
    stop_collector; rc=$?
    if [ $alive = 1 ] && [ $rc -eq 0 ] && $PY - "$d/want.json" "$d/stats.prom" <<'EOF'
import json, sys
want = json.load(open(sys.argv[1]))
got = {}
for line in open(sys.argv[2]):
    if line.startswith("#"):
        continue
    k, v = line.split()
    got[k] = int(v)
bad = 0
for reason, n in want.items():
    if reason == "good":
        k = "tlsrpt_collect_records_committed_total"
    elif reason == "oversize":
        k = "tlsrpt_collect_datagrams_oversize_total"
    else:
        k = 'tlsrpt_collect_datagrams_malformed_total{reason="%s"}' % reason
    if got.get(k) != n:
        print("%s: want %d, got %s" % (k, n, got.get(k)), file=sys.stderr)
        bad = 1
total = sum(want.values()) - want["good"] + want["good"]
if got["tlsrpt_collect_datagrams_received_total"] != total:
    print("received", got["tlsrpt_collect_datagrams_received_total"], total,
          file=sys.stderr)
    bad = 1
sys.exit(bad)
EOF
    then
        pass "hostile-datagrams-counted-per-reason-and-good-ones-kept"
    else
        fail "hostile-datagrams-counted-per-reason-and-good-ones-kept" "alive=$alive exit=$rc"
        cat "$d/collect.err" >&2
    fi
else
    fail "hostile-collector-starts"; cat "$d/collect.err" >&2
fi

# ---- SIGTERM right after a burst: the queue is drained, all committed ---
d=$(new_dir drain)
# one commit only, at the end: the interval is far longer than the test
if start_collector "$d" --commit-interval 60000; then
    n=$($PY "$HERE/dgram_send.py" "$d/sock" lines "$DG" 160)
    stop_collector; rc=$?
    got=$(metric "$d/stats.prom" tlsrpt_collect_records_committed_total)
    total=$("$TLSRPT" -c "$d/tlsrpt.conf" show 2>/dev/null | awk '$1 == "total" { print $2 }')
    if [ $rc -eq 0 ] && [ "$n" = 20000 ] && [ "$got" = 20000 ] && [ "$total" = 20000 ]; then
        pass "sigterm-drains-socket-and-queue-and-commits-everything"
    else
        fail "sigterm-drains-socket-and-queue-and-commits-everything" \
            "exit $rc, sent $n, committed $got, spool $total"
        cat "$d/collect.err" >&2
    fi
    if [ ! -e "$d/sock" ]; then pass "socket-file-removed-at-exit"; else
        fail "socket-file-removed-at-exit"; fi
else
    fail "drain-collector-starts"; cat "$d/collect.err" >&2
fi

# ---- socket permissions -------------------------------------------------
d=$(new_dir perms)
grp=""
if [ "$(id -u)" = 0 ]; then
    grp=$(getent group daemon >/dev/null && echo daemon || echo nogroup)
else
    for g in $(id -Gn); do [ "$g" != "$(id -gn)" ] && grp=$g && break; done
fi
if start_collector "$d" --mode 0620 ${grp:+--group "$grp"}; then
    mode=$(stat -c %a "$d/sock"); group=$(stat -c %G "$d/sock")
    stop_collector
    if [ "$mode" = 620 ] && { [ -z "$grp" ] || [ "$group" = "$grp" ]; }; then
        pass "socket-mode-and-group-applied"
    else
        fail "socket-mode-and-group-applied" "mode $mode group $group (want 620 $grp)"
    fi
else
    fail "socket-mode-and-group-applied"; cat "$d/collect.err" >&2
fi

# ---- stale and live sockets, non-sockets ------------------------------
d=$(new_dir stale)
$PY -c 'import socket,sys; s=socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM); s.bind(sys.argv[1])' "$d/sock"
if start_collector "$d"; then
    # a second collector must not steal the live socket
    "$TLSRPT" -c "$d/tlsrpt.conf" collect --socket "$d/sock" 2>"$d/second.err" &
    p2=$!; PIDS="$PIDS $p2"
    sleep 0.5; kill -TERM $p2 2>/dev/null
    wait $p2; rc2=$?
    n=$($PY "$HERE/dgram_send.py" "$d/sock" lines "$DG")
    stop_collector
    if [ $rc2 -eq 3 ] && grep -q 'another collector' "$d/second.err" &&
        [ "$(metric "$d/stats.prom" tlsrpt_collect_records_committed_total)" = 125 ]; then
        pass "stale-socket-replaced-live-socket-kept"
    else
        fail "stale-socket-replaced-live-socket-kept" "second exit $rc2"
        cat "$d/second.err" "$d/collect.err" >&2
    fi
else
    fail "stale-socket-replaced-live-socket-kept"; cat "$d/collect.err" >&2
fi
echo "not a socket" >"$d/file"
"$TLSRPT" -c "$d/tlsrpt.conf" collect --socket "$d/file" 2>"$d/err"
rc=$?
if [ $rc -eq 3 ] && grep -q 'not a socket' "$d/err" && [ "$(cat "$d/file")" = "not a socket" ]; then
    pass "existing-regular-file-is-not-replaced"
else
    fail "existing-regular-file-is-not-replaced" "exit $rc"
fi

# ---- SIGHUP: a new spool segment, nothing lost ----------------------------
d=$(new_dir hup)
if start_collector "$d" --commit-interval 20; then
    $PY "$HERE/dgram_send.py" "$d/sock" lines "$DG" >/dev/null
    sleep 0.3
    kill -HUP "$CPID"
    sleep 1.3 # the writer looks at SIGHUP at least once a second
    $PY "$HERE/dgram_send.py" "$d/sock" lines "$DG" >/dev/null
    stop_collector; rc=$?
    segs=$(ls "$d/spool" | wc -l)
    total=$("$TLSRPT" -c "$d/tlsrpt.conf" show 2>/dev/null | awk '$1 == "total" { print $2 }')
    if [ $rc -eq 0 ] && [ "$segs" = 2 ] && [ "$total" = 250 ]; then
        pass "sighup-starts-a-new-spool-segment-and-loses-nothing"
    else
        fail "sighup-starts-a-new-spool-segment-and-loses-nothing" "exit $rc, $segs segments, $total records"
    fi
else
    fail "sighup-starts-a-new-spool-segment-and-loses-nothing"; cat "$d/collect.err" >&2
fi

# ---- an unusable spool stops the start, before the socket exists ---------
d="$WORK/nospool"; mkdir -p "$d"; : >"$d/file"
write_conf "$d/tlsrpt.conf" "$d" "postfix_tlsrpt = datagrams" "spool_directory = $d/file/spool"
"$TLSRPT" -c "$d/tlsrpt.conf" collect --socket "$d/sock" 2>"$d/err"
rc=$?
if [ $rc -eq 3 ] && [ ! -e "$d/sock" ] && grep -q spool "$d/err"; then
    pass "unusable-spool-exits-3-without-a-socket"
else
    fail "unusable-spool-exits-3-without-a-socket" "exit $rc"; cat "$d/err" >&2
fi

# ---- command line ---------------------------------------------------------
d=$(new_dir cli)
"$TLSRPT" -c "$d/tlsrpt.conf" collect --help >"$d/help" 2>&1
rc1=$?
"$TLSRPT" -c "$d/tlsrpt.conf" collect 2>/dev/null
rc2=$?
"$TLSRPT" -c "$d/tlsrpt.conf" collect --socket "$d/s" --mode 0999 2>/dev/null
rc3=$?
"$TLSRPT" -c "$d/tlsrpt.conf" collect --socket "$d/s" --max-datagram 99999999999 2>/dev/null
rc4=$?
"$TLSRPT" -c "$d/tlsrpt.conf" collect --socket "$d/$(printf 'x%.0s' $(seq 1 120))" 2>/dev/null
rc5=$?
if [ $rc1 -eq 0 ] && grep -q -- '--socket' "$d/help" && [ $rc2 -eq 2 ] &&
    [ $rc3 -eq 2 ] && [ $rc4 -eq 2 ] && [ $rc5 -eq 3 ]; then
    pass "options-checked-help-and-too-long-socket-path"
else
    fail "options-checked-help-and-too-long-socket-path" "$rc1 $rc2 $rc3 $rc4 $rc5"
fi
