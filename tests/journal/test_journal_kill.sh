#!/bin/sh
# SIGKILL of `tlsrpt journal` at random points, then a restart, again and
# again until a run finishes: the reports equal those of one clean run
# (nothing lost, nothing twice). The state is saved after every entry
# (--commit-interval 0), so kills land before, between and inside spool
# commits and state saves. Two corpora: Postfix 3.10 (TLSRPT: lines and
# tlsproxy, postfix_tlsrpt auto) and Postfix 3.7 with DANE lines kept per
# process plus Exim. The kill times are printed on failure.
. "$TRPT_SRC/tests/e2e/lib.sh"
HERE="$TRPT_SRC/tests/journal"
REMOTE=/lib/systemd/systemd-journal-remote
NOW=2026-12-01T00:00:00Z
KILLS=${TRPT_JOURNAL_KILLS:-8}
if [ ! -x "$REMOTE" ]; then
    fail journal-remote-available "install systemd-journal-remote"
    exit 0
fi

mkj() { # OUT.journal mkjournal-args...
    out=$1; shift
    $PY "$HERE/mkjournal.py" "$@" 2>/dev/null |
        "$REMOTE" -o "$out" --split-mode=none - >"$WORK/remote.log" 2>&1
    grep -q "Finishing after writing [1-9]" "$WORK/remote.log"
}

# a random delay within the first half of a clean run (RUN_MS), at least
# 5 ms, from the kernel's generator: fast disks make short runs
rand_delay() {
    n=$(od -An -N2 -tu2 /dev/urandom | tr -d ' ')
    span=$((RUN_MS / 2 > 10 ? RUN_MS / 2 : 10))
    ms=$((n % span + 5))
    printf '%d.%03d\n' $((ms / 1000)) $((ms % 1000))
}
now_ms() { echo $(($(date +%s%N) / 1000000)); }

# chain NAME MODE JOURNAL: kill -9 a reader KILLS times, then let it
# finish; prints the kill delays to $WORK/NAME.kills
chain() {
    name=$1; mode=$2; j=$3
    d="$WORK/$name"; mkdir -p "$d"
    write_conf "$d/conf" "$d" "postfix_tlsrpt = $mode"
    : >"$d.kills"
    k=0; mid=0
    while [ $k -lt $KILLS ]; do
        "$TLSRPT" -c "$d/conf" journal --file "$j" --commit-interval 0 \
            >/dev/null 2>&1 &
        pid=$!
        t=$(rand_delay)
        sleep "$t"
        if kill -KILL $pid 2>/dev/null; then
            mid=$((mid + 1))
            echo "kill after $t s" >>"$d.kills"
        fi
        wait $pid 2>/dev/null
        k=$((k + 1))
    done
    "$TLSRPT" -c "$d/conf" journal --file "$j" --commit-interval 0 \
        >"$d.last" 2>&1
    rc=$?
    [ $rc -eq 0 ] || { echo "last run: rc=$rc" >>"$d.kills"; cat "$d.last" >>"$d.kills"; mid=0; }
    echo "$mid" >"$d.mid"
}

clean() { # NAME MODE JOURNAL: one uninterrupted run; its time in RUN_MS
    d="$WORK/$1"; mkdir -p "$d"
    write_conf "$d/conf" "$d" "postfix_tlsrpt = $2"
    t0=$(now_ms)
    "$TLSRPT" -c "$d/conf" journal --file "$3" --commit-interval 0 >/dev/null 2>&1
    RUN_MS=$(($(now_ms) - t0))
}

compare() { # TESTNAME CLEAN KILLED
    ok=1
    for x in "$2" "$3"; do
        "$TLSRPT" -c "$WORK/$x/conf" aggregate --now "$NOW" >/dev/null 2>&1 || ok=0
    done
    if [ $ok = 1 ] && [ "$(cat "$WORK/$3.mid")" -ge 3 ] &&
        $PY "$HERE/same_reports.py" "$WORK/$2/outbox" "$WORK/$3/outbox" \
            >"$WORK/$1.diff" 2>&1; then
        pass "$1"
    else
        fail "$1" "kills while running: $(cat "$WORK/$3.mid"), clean run $RUN_MS ms"
        cat "$WORK/$3.kills" "$WORK/$1.diff" >&2
    fi
}

mkj "$WORK/pf310.journal" "$C310/maillog.txt" || fail build-journal
mkj "$WORK/pf37.journal" --host mta-out "$C37/raw/postfix-sender.maillog" \
    "$C37/raw/exim-mainlog" || fail build-journal-37

clean clean310 auto "$WORK/pf310.journal"
chain kill310 auto "$WORK/pf310.journal"
compare sigkill-at-random-points-gives-the-clean-run-reports-postfix310 \
    clean310 kill310

clean clean37 no "$WORK/pf37.journal"
chain kill37 no "$WORK/pf37.journal"
compare sigkill-at-random-points-gives-the-clean-run-reports-postfix37-exim \
    clean37 kill37
