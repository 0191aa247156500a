#!/bin/sh
# bench_collect.sh BUILD - `tlsrpt collect` under load (called by run.sh).
#
# dgram_blast sends Postfix-like datagrams from BENCH_COLLECT_PROCS
# processes, non-blocking as libtlsrpt does (MSG_DONTWAIT: a full socket
# queue is a lost datagram), at each target rate for BENCH_COLLECT_SECONDS
# (one datagram per slot and process, as each Postfix process reports one
# handshake at a time; slots a sender was too late for are skipped, so the
# offered rate is what was really sent, attempts/s), then unpaced from
# BENCH_COLLECT_SAT_PROCS processes (saturation). The kernel's queue depth is whatever
# net.unix.max_dgram_qlen says (default 10; printed). The collector writes
# to a spool with the default spool_fsync = always and commits every 200 ms.
# Passes: normal priority, then --realtime (receive thread SCHED_FIFO, if
# permitted). Reported: per rate the datagrams lost at the sender, the
# highest offered rate without loss, the saturated accepted rate, and the
# collector's own counters. Sanity check (exit 1): every datagram the kernel
# accepted was received, and every received one was committed or counted
# as dropped.
# Environment: BENCH_COLLECT_RATES ("25000 50000 100000 200000 400000"),
# BENCH_COLLECT_PROCS (16), BENCH_COLLECT_SAT_PROCS (4),
# BENCH_COLLECT_SECONDS (2).
set -eu
BUILD=${1:?usage: bench_collect.sh BUILD_DIR}
RATES=${BENCH_COLLECT_RATES:-25000 50000 100000 200000 400000}
PROCS=${BENCH_COLLECT_PROCS:-16}
SAT_PROCS=${BENCH_COLLECT_SAT_PROCS:-4}
SECS=${BENCH_COLLECT_SECONDS:-2}
TLSRPT=$BUILD/tlsrpt
BLAST=$BUILD/bench/dgram_blast
for f in "$TLSRPT" "$BLAST"; do
    [ -x "$f" ] || { echo "bench_collect: $f missing: run make first" >&2; exit 2; }
done
tmp=$(mktemp -d "${TMPDIR:-/tmp}/tlsrpt-bench-collect.XXXXXX")
cpid=""
trap '[ -n "$cpid" ] && kill -9 "$cpid" 2>/dev/null; rm -rf "$tmp"' EXIT
failed=0
qlen=$(cat /proc/sys/net/unix/max_dgram_qlen 2>/dev/null || echo "?")

kv() { # LINE KEY
    printf '%s\n' "$1" | tr ' ' '\n' | sed -n "s/^$2=//p"
}
metric() { awk -v k="$2" '$1 == k { print $2 }' "$1"; }

run_pass() { # LABEL [collector options]
    label=$1; shift
    d="$tmp/$label"; mkdir -p "$d"
    printf 'submitter_domain = bench.example\nspool_directory = %s/spool\nstate_directory = %s/state\noutbox_directory = %s/outbox\npostfix_tlsrpt = datagrams\n' \
        "$d" "$d" "$d" >"$d/conf"
    "$TLSRPT" -c "$d/conf" collect --socket "$d/sock" --stats-file "$d/stats" \
        "$@" 2>"$d/err" &
    cpid=$!
    i=0
    while [ ! -f "$d/stats" ] && [ $i -lt 100 ]; do sleep 0.05; i=$((i + 1)); done
    echo "== tlsrpt collect $* ($PROCS paced senders, $SAT_PROCS unpaced, ${SECS}s per rate, max_dgram_qlen $qlen)"
    grep -q realtime "$d/err" && sed 's/^/   /' "$d/err"
    printf '   %-10s %11s %10s %10s %10s %8s %12s\n' target/s "offered/s" attempts sent lost "loss %" "accepted/s"
    best=0; sent_total=0; sat=0
    for r in $RATES 0; do
        p=$PROCS; [ "$r" = 0 ] && p=$SAT_PROCS
        line=$("$BLAST" --socket "$d/sock" --procs "$p" --rate "$r" --seconds "$SECS")
        a=$(kv "$line" attempts); s=$(kv "$line" sent); e=$(kv "$line" eagain)
        ps=$(kv "$line" sent_per_s)
        offered=$(awk -v a="$a" -v t="$(kv "$line" seconds)" 'BEGIN { printf "%.0f", a / t }')
        sent_total=$((sent_total + s))
        pct=$(awk -v e="$e" -v a="$a" 'BEGIN { printf "%.3f", a ? 100 * e / a : 0 }')
        name=$r; [ "$r" = 0 ] && name=unpaced && sat=$ps
        printf '   %-10s %11s %10s %10s %10s %8s %12s\n' "$name" "$offered" "$a" "$s" "$e" "$pct" "$ps"
        if [ "$r" != 0 ] && [ "$e" = 0 ] && [ "$offered" -gt "$best" ]; then
            best=$offered
        fi
    done
    kill -TERM "$cpid"; wait "$cpid" || true; cpid=""
    rec=$(metric "$d/stats" tlsrpt_collect_datagrams_received_total)
    com=$(metric "$d/stats" tlsrpt_collect_records_committed_total)
    qf=$(metric "$d/stats" tlsrpt_collect_queue_full_drops_total)
    kd=$(metric "$d/stats" tlsrpt_collect_kernel_drops_total)
    hw=$(metric "$d/stats" tlsrpt_collect_queue_high_water_bytes)
    echo "   collector: received $rec, committed $com, queue-full drops $qf," \
        "kernel-reported drops $kd, queue high water $hw bytes"
    if [ "$rec" != "$sent_total" ] || [ $((com + qf)) != "$rec" ]; then
        echo "   SANITY FAILED: senders' kernel accepted $sent_total, collector received $rec, committed+dropped $((com + qf))"
        failed=1
    fi
    v1=$(awk -v b="$best" 'BEGIN { print (b >= 100000 ? "met" : "MISSED") }')
    v2=$(awk -v s="$sat" 'BEGIN { print (s >= 400000 ? "met" : "MISSED") }')
    echo "   highest offered rate with 0 loss: $best/s (target >= 100 k/s: $v1)"
    echo "   saturated accepted rate: $sat/s (target >= 400 k/s: $v2)"
}

echo "== collector benchmark on $(nproc) CPUs, load average $(cut -d' ' -f1-3 /proc/loadavg)"
run_pass normal
run_pass realtime --realtime
exit $failed
