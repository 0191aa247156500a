#!/bin/sh
# bench_journal.sh BUILD - `tlsrpt journal` throughput (`make bench`).
#
#  1. gen_postfix_log writes BENCH_JOURNAL_LINES (1000000) synthetic
#     Postfix lines; tests/journal/mkjournal.py turns them into Journal
#     Export Format with the fields journald gives a syslog message, and
#     systemd-journal-remote writes the journal files (it rotates them at
#     its header limits, so there are several files of one seqnum_id, as in
#     a real /var/log/journal).
#  2. Baseline: `journalctl -o cat -D DIR >/dev/null` over the same files
#     (best of 3): every entry's MESSAGE.
#  3. `tlsrpt journal --directory DIR` into a fresh spool (best of 3), with
#     the default matches (Postfix smtp/tlsproxy/qmgr, Exim), and again with
#     a match that selects every entry (--match _TRANSPORT=syslog).
#     Entries/s = journal entries / wall time; the ratio is against
#     journalctl (target: >= 1.0, i.e. at least as fast).
#  4. The spool of the last run must hold exactly the generator's TLS
#     sessions, per result (spool_stats).
# Preparing the journal takes about a minute for 1 M lines (Python and
# journal-remote); it is not part of the figures. Exit 1 if a sanity check
# fails; the throughput target is reported, not enforced.
set -eu

BUILD=${1:?usage: bench_journal.sh BUILD_DIR}
LINES=${BENCH_JOURNAL_LINES:-1000000}
DOMAINS=${BENCH_DOMAINS:-10000}
SEED=${BENCH_SEED:-1}
SRC=$(cd "$(dirname "$0")/.." && pwd)
B=$BUILD/bench
REMOTE=/lib/systemd/systemd-journal-remote
PY=/usr/bin/python3
for f in "$BUILD/tlsrpt" "$B/gen_postfix_log" "$B/runstat" "$B/spool_stats"; do
    [ -x "$f" ] || { echo "bench_journal.sh: $f missing: run make first" >&2; exit 2; }
done
if [ ! -x "$REMOTE" ] || ! command -v journalctl >/dev/null; then
    echo "bench_journal.sh: needs systemd-journal-remote and journalctl; skipped"
    exit 0
fi

tmp=$(mktemp -d "${TMPDIR:-/tmp}/tlsrpt-bench-journal.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
trap 'exit 130' INT TERM
failed=0
syslog_date=$(date -u -d yesterday '+%b %e')
year=$(date -u -d yesterday +%Y)

getstat() {
    awk -v k="$2" '{ for (i = 1; i <= NF; i++) { n = index($i, "=");
        if (substr($i, 1, n - 1) == k) print substr($i, n + 1) } }' "$1"
}
kv() { sed -n "s/^$2=//p" "$1" | head -1; }
rate() { awk -v n="$1" -v s="$2" 'BEGIN { printf "%.0f", (s > 0 ? n / s : 0) }'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", (b > 0 ? a / b : 0) }'; }

# best_wall N OUT PREP CMD...: run PREP (a shell snippet) then CMD, N
# times; keep the runstat line of the fastest run in OUT
best_wall() {
    n=$1; out=$2; prep=$3; shift 3
    : >"$out"
    i=0
    while [ "$i" -lt "$n" ]; do
        sh -c "$prep"
        "$B/runstat" -o "$tmp/try.stat" "$@" >/dev/null 2>"$tmp/try.err" || true
        if [ ! -s "$out" ] || awk -v a="$(getstat "$tmp/try.stat" wall_s)" \
            -v b="$(getstat "$out" wall_s)" 'BEGIN { exit !(a < b) }'; then
            cp "$tmp/try.stat" "$out"
            cp "$tmp/try.err" "$out.err"
        fi
        i=$((i + 1))
    done
}

echo "== journal: generating $LINES lines and the journal files"
"$B/gen_postfix_log" --lines "$LINES" --domains "$DOMAINS" --seed "$SEED" \
    --date "$syslog_date" --expect "$tmp/expect" >"$tmp/mail.log"
mkdir "$tmp/j"
$PY "$SRC/tests/journal/mkjournal.py" --year "$year" --host mail \
    "$tmp/mail.log" 2>/dev/null |
    "$REMOTE" -o "$tmp/j/bench.journal" --split-mode=none - >"$tmp/remote.log" 2>&1
rm -f "$tmp/mail.log"
entries=$(sed -n 's/^Finishing after writing \([0-9]*\) entries.*/\1/p' "$tmp/remote.log")
echo "   $entries entries in $(ls "$tmp/j" | wc -l) file(s)," \
    "$(du -sm "$tmp/j" | cut -f1) MiB; $(kv "$tmp/expect" sessions) TLS sessions"
if [ "${entries:-0}" -ne "$(kv "$tmp/expect" lines)" ]; then
    echo "   FAILED: journal-remote wrote ${entries:-0} entries"
    exit 1
fi

echo "== journalctl -o cat (best of 3)"
best_wall 3 "$tmp/jctl.stat" ":" journalctl -o cat -D "$tmp/j"
jwall=$(getstat "$tmp/jctl.stat" wall_s)
echo "   $jwall s, $(rate "$entries" "$jwall") entries/s" \
    "(cpu $(getstat "$tmp/jctl.stat" user_s) s user)"

conf=$tmp/bench.conf
printf 'submitter_domain = bench.example\npostfix_tlsrpt = auto\n' >"$conf"
fresh="rm -rf '$tmp/spool' '$tmp/state'"
run_journal() { # NAME LABEL ARGS...
    name=$1; label=$2; shift 2
    echo "== tlsrpt journal, $label (best of 3)"
    best_wall 3 "$tmp/$name.stat" "$fresh" "$BUILD/tlsrpt" -c "$conf" \
        --spool "$tmp/spool" --state "$tmp/state" --outbox "$tmp/outbox" \
        journal --directory "$tmp/j" "$@"
    w=$(getstat "$tmp/$name.stat" wall_s)
    sed 's/^/   /' "$tmp/$name.stat.err" | head -3
    echo "   $w s, $(rate "$entries" "$w") journal entries/s," \
        "ratio to journalctl $(ratio "$jwall" "$w")" \
        "(cpu $(getstat "$tmp/$name.stat" user_s) s user," \
        "peak RSS $(getstat "$tmp/$name.stat" maxrss_kib) KiB)"
    if [ "$(getstat "$tmp/$name.stat" status)" != 0 ]; then
        echo "   FAILED: exit status $(getstat "$tmp/$name.stat" status)"
        failed=1
    fi
}
run_journal all "every entry (--match _TRANSPORT=syslog)" --match _TRANSPORT=syslog
run_journal default "default matches"

echo "== checking the spool against the generator"
"$B/spool_stats" "$tmp/spool" >"$tmp/spool.stats" || failed=1
check() {
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
exit $failed
