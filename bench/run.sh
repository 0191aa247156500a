#!/bin/sh
# run.sh BUILD - throughput benchmarks (`make bench`), ratios against wc -l.
#
#  1. gen_postfix_log writes a synthetic Postfix maillog (BENCH_LINES lines,
#     BENCH_DOMAINS recipient domains, dated yesterday UTC) and the number of
#     TLS sessions per result it contains.
#  2. `wc -l` over it (baseline, best of 3), then `tlsrpt ingest` of it into
#     a fresh spool (default fsync policy): lines/s, ratio, peak RSS; the
#     spool is then checked against the generator's counts (spool_stats).
#  3. `tlsrpt aggregate` over that spool, before the day is due (folding
#     only), then again after it is due (folding + writing the reports).
#  4. bench_agg: BENCH_AGG_RECORDS records over BENCH_AGG_DOMAINS domains
#     through trpt_agg_add_json alone: records/s and the aggregator's RSS.
# Environment: BENCH_LINES (5000000), BENCH_DOMAINS (10000), BENCH_SEED (1),
# BENCH_TLSRPT (0; 1 adds Postfix 3.10 "TLSRPT:" lines), BENCH_REPORTS (1;
# 0 skips the report-writing pass), BENCH_AGG_RECORDS (10000000),
# BENCH_AGG_DOMAINS (10000).
# Wall time, CPU time and peak RSS of each command come from BUILD/bench/
# runstat (wait4), so no /usr/bin/time is needed. Everything happens in a
# temporary directory that is removed at the end. Exit status 1 if a sanity
# check fails (the spool does not hold what the log contains); the
# throughput targets are reported, not enforced.
set -eu

BUILD=${1:?usage: run.sh BUILD_DIR}
LINES=${BENCH_LINES:-5000000}
DOMAINS=${BENCH_DOMAINS:-10000}
AGG_RECORDS=${BENCH_AGG_RECORDS:-10000000}
AGG_DOMAINS=${BENCH_AGG_DOMAINS:-10000}
SEED=${BENCH_SEED:-1}
TLSRPT_LINES=${BENCH_TLSRPT:-0} # 1: Postfix 3.10 "TLSRPT:" lines too
REPORTS=${BENCH_REPORTS:-1}     # 0: skip the report-writing pass

B=$BUILD/bench
for f in "$BUILD/tlsrpt" "$B/gen_postfix_log" "$B/runstat" "$B/spool_stats" \
    "$B/bench_agg"; do
    [ -x "$f" ] || { echo "run.sh: $f missing: run make first" >&2; exit 2; }
done

tmp=$(mktemp -d "${TMPDIR:-/tmp}/tlsrpt-bench.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
trap 'exit 130' INT TERM
failed=0

# The log is dated yesterday (UTC); aggregation runs at fixed pretend times
# relative to it, so the outcome does not depend on the time of day.
day=$(date -u -d yesterday +%Y-%m-%d)
today=$(date -u +%Y-%m-%d)
syslog_date=$(date -u -d yesterday '+%b %e')
year=$(date -u -d yesterday +%Y)

# getstat FILE KEY: a value from a runstat line (key=value words)
getstat() {
    awk -v k="$2" '{ for (i = 1; i <= NF; i++) { n = index($i, "=");
        if (substr($i, 1, n - 1) == k) print substr($i, n + 1) } }' "$1"
}
# kv FILE KEY: the value of a "KEY=value" line
kv() { sed -n "s/^$2=//p" "$1" | head -1; }
# rate COUNT SECONDS
# (parenthesised: a bare '>' in an awk printf is an output redirection)
rate() { awk -v n="$1" -v s="$2" 'BEGIN { printf "%.0f", (s > 0 ? n / s : 0) }'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.1f", (b > 0 ? a / b : 0) }'; }
mib() { awk -v k="$1" 'BEGIN { printf "%.1f", k / 1024 }'; }
human() { awk -v n="$1" 'BEGIN { if (n >= 1e6) printf "%.2f M", n / 1e6;
    else if (n >= 1e3) printf "%.1f k", n / 1e3; else printf "%d ", n }'; }

# best_wall N OUT CMD...: run CMD N times, keep the runstat line of the
# fastest run in OUT
best_wall() {
    n=$1; out=$2; shift 2
    : >"$out"
    i=0
    while [ "$i" -lt "$n" ]; do
        "$B/runstat" -o "$tmp/try.stat" "$@" >/dev/null || true
        if [ ! -s "$out" ] || awk -v a="$(getstat "$tmp/try.stat" wall_s)" \
            -v b="$(getstat "$out" wall_s)" 'BEGIN { exit !(a < b) }'; then
            cp "$tmp/try.stat" "$out"
        fi
        i=$((i + 1))
    done
}

conf=$tmp/bench.conf # defaults, whatever /etc holds
printf 'submitter_domain = bench.example\norganization_name = bench\nresolve_policies = no\n' >"$conf"
run_tlsrpt() { # NAME ARGS...: run tlsrpt, figures in $tmp/NAME.stat
    name=$1
    shift
    "$B/runstat" -o "$tmp/$name.stat" "$BUILD/tlsrpt" -c "$conf" \
        --spool "$tmp/spool" --state "$tmp/state" --outbox "$tmp/outbox" \
        "$@"
}
mkdir "$tmp/spool" "$tmp/state" "$tmp/outbox"

echo "== generating $LINES lines, $DOMAINS domains, seed $SEED ($day)"
"$B/runstat" -o "$tmp/gen.stat" "$B/gen_postfix_log" --lines "$LINES" \
    --domains "$DOMAINS" --seed "$SEED" --tlsrpt "$TLSRPT_LINES" \
    --date "$syslog_date" --expect "$tmp/expect" >"$tmp/mail.log"
nlines=$(kv "$tmp/expect" lines)
echo "   $nlines lines, $(wc -c <"$tmp/mail.log") bytes," \
    "$(kv "$tmp/expect" sessions) TLS sessions in $(getstat "$tmp/gen.stat" wall_s) s"

echo "== wc -l (best of 3)"
best_wall 3 "$tmp/wc.stat" wc -l "$tmp/mail.log"
echo "   $(getstat "$tmp/wc.stat" wall_s) s"

echo "== tlsrpt ingest"
set +e
run_tlsrpt ingest ingest --year "$year" "$tmp/mail.log" 2>"$tmp/ingest.err"
rc=$?
set -e
sed 's/^/   /' "$tmp/ingest.err" | tail -5
if [ "$rc" -ne 0 ]; then
    echo "   FAILED: tlsrpt ingest exit status $rc"
    failed=1
fi

echo "== checking the spool against the generator"
"$B/spool_stats" "$tmp/spool" >"$tmp/spool.stats" || failed=1
check() { # KEY in expect, KEY in spool
    want=$(kv "$tmp/expect" "$1"); got=$(kv "$tmp/spool.stats" "$2")
    got=${got:-0}
    if [ "$want" = "$got" ]; then
        printf '   ok   %-40s %s\n' "$2" "$got"
    else
        printf '   DIFF %-40s spool %s, log has %s\n' "$2" "$got" "$want"
        failed=1
    fi
}
check sessions records
for r in success certificate-expired certificate-host-mismatch \
    validation-failure starttls-not-supported; do
    check "result.$r" "result.$r"
done
spool_records=$(kv "$tmp/spool.stats" records)
spool_bytes=$(cat "$tmp"/spool/* 2>/dev/null | wc -c)

echo "== wc -l over the spool segments (best of 3, baseline for aggregate)"
# shellcheck disable=SC2016 # $1 is for the inner sh
best_wall 3 "$tmp/wcspool.stat" sh -c 'wc -l -- "$1"/*' sh "$tmp/spool"
echo "   $(getstat "$tmp/wcspool.stat" wall_s) s for $spool_bytes bytes"
echo "== tlsrpt aggregate (day not yet due: folding only)"
set +e
run_tlsrpt aggregate aggregate --now "${today}T00:30:00Z" 2>"$tmp/agg.err"
rc=$?
sed 's/^/   /' "$tmp/agg.err" | tail -3
[ "$rc" -eq 0 ] || { echo "   FAILED: exit status $rc"; failed=1; }
reports=0
if [ "$REPORTS" = 1 ]; then
    echo "== tlsrpt aggregate (day due: reports for $day)"
    run_tlsrpt report_pass aggregate --now "${today}T12:00:00Z" \
        2>"$tmp/rep.err"
    rc=$?
    sed 's/^/   /' "$tmp/rep.err" | tail -3
    [ "$rc" -eq 0 ] || { echo "   FAILED: exit status $rc"; failed=1; }
    reports=$(find "$tmp/outbox" -type f | wc -l)
    echo "   $reports files in the outbox"
fi
set -e

rm -f "$tmp/mail.log" # free the disk before the next step

echo "== bench_agg: $AGG_RECORDS records over $AGG_DOMAINS domains"
set +e
"$B/runstat" -o "$tmp/bagg.stat" "$B/bench_agg" --records "$AGG_RECORDS" \
    --domains "$AGG_DOMAINS" --seed "$SEED" --batch 1 >"$tmp/bagg.out"
rc=$?
set -e
sed 's/^/   /' "$tmp/bagg.out"
[ "$rc" -eq 0 ] || { echo "   FAILED: bench_agg exit status $rc"; failed=1; }

# ---- summary table --------------------------------------------------------
cpu() { # STATFILE: user + sys seconds
    awk -v u="$(getstat "$1" user_s)" -v s="$(getstat "$1" sys_s)" \
        'BEGIN { printf "%.2f", u + s }'
}
verdict() { # VALUE OP TARGET
    awk -v v="${1:-0}" -v op="$2" -v t="$3" 'BEGIN {
        ok = (op == ">=") ? (v >= t) : (v <= t)
        printf "%s", (ok ? "met" : "MISSED") }'
}
fmt='%-28s %11s %8s %8s %11s %8s %8s  %s\n'
row() { # NAME ITEMS STATFILE BASELINE_STATFILE|- TARGET
    s=$(getstat "$3" wall_s)
    r=-
    [ "$4" = - ] || r=$(ratio "$s" "$(getstat "$4" wall_s)")
    # shellcheck disable=SC2059
    printf "$fmt" "$1" "$2" "$s" "$(cpu "$3")" "$(human "$(rate "$2" "$s")")/s" \
        "$r" "$(mib "$(getstat "$3" maxrss_kib)")" "$5"
}
ing_s=$(getstat "$tmp/ingest.stat" wall_s)
ing_rate=$(rate "$nlines" "$ing_s")
ing_ratio=$(ratio "$ing_s" "$(getstat "$tmp/wc.stat" wall_s)")
agg_rate=$(rate "${spool_records:-0}" "$(getstat "$tmp/aggregate.stat" wall_s)")
grep '^RESULT ' "$tmp/bagg.out" >"$tmp/bagg.result" || echo RESULT >"$tmp/bagg.result"
ba_rate=$(getstat "$tmp/bagg.result" records_per_s)
ba_cpu_rate=$(getstat "$tmp/bagg.result" cpu_records_per_s)
ba_delta=$(getstat "$tmp/bagg.result" delta_kib)

echo
echo "== summary ($(nproc 2>/dev/null || echo ?) CPUs; cpu_s = user + sys;" \
    "x base = wall time / baseline wall time)"
# shellcheck disable=SC2059
printf "$fmt" step items wall_s cpu_s rate "x base" "RSS MiB" target
cpu_rate() { human "$(rate "$1" "$(cpu "$2")")"; } # ITEMS STATFILE
gen_rate=$(rate "$nlines" "$(getstat "$tmp/gen.stat" wall_s)")
row "generate log" "$nlines" "$tmp/gen.stat" - \
    ">= 2 M lines/s: $(verdict "$gen_rate" ">=" 2000000) (CPU-time rate $(cpu_rate "$nlines" "$tmp/gen.stat")/s)"
row "wc -l log (best of 3)" "$nlines" "$tmp/wc.stat" - "baseline"
row "tlsrpt ingest (lines)" "$nlines" "$tmp/ingest.stat" "$tmp/wc.stat" \
    ">= 1 M lines/s: $(verdict "$ing_rate" ">=" 1000000), <= 10x wc -l: $(verdict "$ing_ratio" "<=" 10) (CPU-time rate $(cpu_rate "$nlines" "$tmp/ingest.stat")/s)"
row "wc -l spool (best of 3)" "${spool_records:-0}" "$tmp/wcspool.stat" - \
    "baseline ($spool_bytes bytes)"
row "tlsrpt aggregate (records)" "${spool_records:-0}" "$tmp/aggregate.stat" \
    "$tmp/wcspool.stat" ">= 3 M records/s: $(verdict "$agg_rate" ">=" 3000000) (CPU-time rate $(cpu_rate "${spool_records:-0}" "$tmp/aggregate.stat")/s)"
[ "$REPORTS" = 1 ] && row "aggregate + $reports reports" \
    "${spool_records:-0}" "$tmp/report_pass.stat" - "(temp files, one fsync pass, renames)"
# bench_agg times its own loops: rate and ratio come from its RESULT line
# shellcheck disable=SC2059
printf "$fmt" "bench_agg add_json" "$AGG_RECORDS" \
    "$(getstat "$tmp/bagg.stat" wall_s)" "$(cpu "$tmp/bagg.stat")" \
    "$(human "${ba_rate:-0}")/s" "$(getstat "$tmp/bagg.result" ratio)" \
    "$(mib "$(getstat "$tmp/bagg.result" maxrss_kib)")" \
    ">= 3 M records/s: $(verdict "${ba_rate:-0}" ">=" 3000000) (CPU-time rate $(human "${ba_cpu_rate:-0}")/s)"
# shellcheck disable=SC2059
printf "$fmt" "  aggregator memory" "$AGG_DOMAINS dom" - - - - \
    "$(mib "${ba_delta:-0}")" \
    "delta < 64 MiB: $(verdict "${ba_delta:-999999}" "<=" 65535)"
# The edges' benchmarks (rsyslog module, collector, journal reader): each
# bench/bench_*.sh BUILD prints its own table and fails on a sanity check.
for edge in bench/bench_*.sh; do
    [ -f "$edge" ] || continue
    echo
    sh "$edge" "$BUILD" || failed=1
done
if [ "$failed" -ne 0 ]; then
    echo "bench: a sanity check FAILED (see above)"
    exit 1
fi
echo "bench: sanity checks passed"
