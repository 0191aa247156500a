#!/bin/sh
# `tlsrpt journal` on journal files built from the real corpus lines with
# systemd-journal-remote (no journald needed; mkjournal.py writes Journal
# Export Format with the fields journald gives a syslog message):
#  - a one-shot read gives the same reports as `tlsrpt ingest` of the same
#    lines (Postfix 3.10 in both postfix_tlsrpt modes that differ, Exim);
#  - hostile entries (binary, missing fields, huge values) are counted and
#    skipped, exit status 1, the good entries still give the same reports;
#  - a second run over the same journal writes nothing again;
#  - --follow picks up entries appended later and a new journal file, and
#    stops cleanly (exit 0) on SIGTERM;
#  - a saved position that has been vacuumed resumes from the oldest entry
#    left, with a warning and a counted gap, never from the tail.
# The SIGKILL test is test_journal_kill.sh.
. "$TRPT_SRC/tests/e2e/lib.sh"
HERE="$TRPT_SRC/tests/journal"
REMOTE=/lib/systemd/systemd-journal-remote
NOW=2026-12-01T00:00:00Z
EXIM="$C37/raw/exim-mainlog"
if [ ! -x "$REMOTE" ]; then
    fail journal-remote-available "install systemd-journal-remote"
    exit 0
fi

# mkj FILE.journal mkjournal-args... : build (or append to) a journal file
mkj() {
    out=$1; shift
    $PY "$HERE/mkjournal.py" "$@" 2>/dev/null |
        "$REMOTE" -o "$out" --split-mode=none - >"$WORK/remote.log" 2>&1
    grep -q "Finishing after writing [1-9]" "$WORK/remote.log"
}

# setup NAME MODE: a config for one run in $WORK/NAME
setup() {
    mkdir -p "$WORK/$1"
    write_conf "$WORK/$1/conf" "$WORK/$1" "postfix_tlsrpt = $2"
}

reports() { # NAME: aggregate its spool into its outbox
    "$TLSRPT" -c "$WORK/$1/conf" aggregate --now "$NOW" >/dev/null 2>&1
}

same() { # TESTNAME A B: the two runs wrote the same reports
    if reports "$2" && reports "$3" &&
        $PY "$HERE/same_reports.py" "$WORK/$2/outbox" "$WORK/$3/outbox" \
            >"$WORK/$1.diff" 2>&1; then
        pass "$1"
    else
        fail "$1"; head -20 "$WORK/$1.diff" >&2
    fi
}

state_field() { # STATEFILE KEY
    sed -n "s/^$2 //p" "$1" 2>/dev/null
}

mkdir -p "$WORK/j"
mkj "$WORK/j/pf310.journal" "$C310/maillog.txt" || fail build-journal-from-corpus
mkj "$WORK/j/exim.journal" --host sender "$EXIM" || fail build-exim-journal

# --- one shot equals ingest ----------------------------------------------
for mode in yes auto; do
    setup "ing-$mode" $mode
    "$TLSRPT" -c "$WORK/ing-$mode/conf" ingest --year 2026 "$C310/maillog.txt" 2>/dev/null
    setup "jr-$mode" $mode
    "$TLSRPT" -c "$WORK/jr-$mode/conf" journal --file "$WORK/j/pf310.journal" \
        2>"$WORK/jr-$mode.err"
    rc=$?
    if [ $rc -ne 0 ]; then fail "oneshot-$mode-exit-0" "rc=$rc"; cat "$WORK/jr-$mode.err" >&2; fi
    same "oneshot-file-gives-the-reports-of-ingest-postfix310-$mode" "ing-$mode" "jr-$mode"
done

setup ing-exim auto
"$TLSRPT" -c "$WORK/ing-exim/conf" ingest --host sender "$EXIM" 2>/dev/null
setup jr-exim auto
"$TLSRPT" -c "$WORK/jr-exim/conf" journal --file "$WORK/j/exim.journal" 2>/dev/null
same oneshot-file-gives-the-reports-of-ingest-exim ing-exim jr-exim

# --- hostile entries ------------------------------------------------------
mkj "$WORK/hostile.journal" --hostile "$C310/maillog.txt" || fail build-hostile-journal
setup jr-hostile yes
"$TLSRPT" -c "$WORK/jr-hostile/conf" journal --file "$WORK/hostile.journal" 2>"$WORK/hostile.err"
rc=$?
# the entry without SYSLOG_IDENTIFIER matches no default match: not read
if [ $rc -eq 1 ] &&
    grep -q "skipped entries: missing-field 1, binary 2, too-large 2, bad-pid 1" "$WORK/hostile.err"; then
    pass binary-missing-and-huge-entries-are-counted-and-skipped-exit-1
else
    fail binary-missing-and-huge-entries-are-counted-and-skipped-exit-1 "rc=$rc"
    cat "$WORK/hostile.err" >&2
fi
same hostile-entries-do-not-change-the-reports ing-yes jr-hostile

# --- a second run writes nothing twice -------------------------------------
setup again yes
"$TLSRPT" -c "$WORK/again/conf" journal --file "$WORK/j/pf310.journal" 2>/dev/null
"$TLSRPT" -c "$WORK/again/conf" journal --file "$WORK/j/pf310.journal" 2>"$WORK/again.err"
if grep -q " 0 records written" "$WORK/again.err"; then
    pass second-run-over-the-same-journal-writes-no-record-again
else
    fail second-run-over-the-same-journal-writes-no-record-again
    cat "$WORK/again.err" >&2
fi
same second-run-keeps-the-reports ing-yes again

# --- follow: appended entries and a new journal file -----------------------
n=$(wc -l <"$C310/maillog.txt")
half=$((n / 2))
head -n $half "$C310/maillog.txt" >"$WORK/part1.log"
tail -n +$((half + 1)) "$C310/maillog.txt" >"$WORK/part2.log"
mkdir -p "$WORK/fj"
mkj "$WORK/fj/system.journal" "$WORK/part1.log" || fail build-follow-journal
setup follow yes
st="$WORK/follow/state/journal.state"
"$TLSRPT" -c "$WORK/follow/conf" journal --follow --directory "$WORK/fj" \
    --commit-interval 20 2>"$WORK/follow.err" &
fpid=$!
trap 'kill $fpid 2>/dev/null; rm -rf "$WORK"' EXIT

# wait_fed SEQNUM_ID SEQNUM: until the reader has saved that entry
wait_fed() {
    i=0
    while [ $i -lt 200 ]; do
        c=$(state_field "$st" cursor)
        f=$(state_field "$st" fed)
        case "$c" in "s=$1;"*) [ "${f:-0}" -ge "$2" ] && return 0 ;; esac
        sleep 0.05
        i=$((i + 1))
    done
    return 1
}
last_entry() { # FILE: "seqnum_id seqnum" of its last entry the reader reads
    journalctl --file "$1" -o export -n 1 SYSLOG_IDENTIFIER=postfix/smtp \
        SYSLOG_IDENTIFIER=postfix/tlsproxy SYSLOG_IDENTIFIER=postfix/qmgr \
        SYSLOG_IDENTIFIER=exim SYSLOG_IDENTIFIER=exim4 2>/dev/null |
        sed -n 's/^__CURSOR=s=\([0-9a-f]*\);i=\([0-9a-f]*\);.*/\1 \2/p' |
        { read id hex && echo "$id $((0x$hex))"; }
}
# shellcheck disable=SC2046 # "id seqnum": two words
set -- $(last_entry "$WORK/fj/system.journal") none 0
wait_fed "$1" "$2" && pass follow-reads-the-entries-present-at-start ||
    fail follow-reads-the-entries-present-at-start
mkj "$WORK/fj/system.journal" "$WORK/part2.log" || fail append-to-journal
# shellcheck disable=SC2046 # "id seqnum": two words
set -- $(last_entry "$WORK/fj/system.journal") none 0
wait_fed "$1" "$2" && pass follow-picks-up-entries-appended-later ||
    fail follow-picks-up-entries-appended-later
# a later file, as after a reboot: other boot id, later times (same day)
mkj "$WORK/fj/exim.journal" --host sender --boot 0123456789abcdef0123456789abcdef \
    --shift-us 3600000000 "$EXIM" || fail build-second-file
# shellcheck disable=SC2046 # "id seqnum": two words
set -- $(last_entry "$WORK/fj/exim.journal") none 0
wait_fed "$1" "$2" && pass follow-picks-up-a-new-journal-file ||
    fail follow-picks-up-a-new-journal-file
kill -TERM $fpid
wait $fpid
rc=$?
trap 'rm -rf "$WORK"' EXIT
[ $rc -eq 0 ] && pass follow-stops-on-sigterm-with-exit-0 ||
    { fail follow-stops-on-sigterm-with-exit-0 "rc=$rc"; cat "$WORK/follow.err" >&2; }
setup ing-both yes
"$TLSRPT" -c "$WORK/ing-both/conf" ingest --year 2026 "$C310/maillog.txt" 2>/dev/null
"$TLSRPT" -c "$WORK/ing-both/conf" ingest --host sender "$EXIM" 2>/dev/null
same follow-gives-the-reports-of-ingest ing-both follow

# --- vacuumed position -----------------------------------------------------
# (a) the saved entry is older than the oldest one left in the journal
setup vac-a yes
sid=$(last_entry "$WORK/j/pf310.journal" | cut -d' ' -f1)
mkdir -p "$WORK/vac-a/state"
printf 'tlsrpt-journal-state 1\ncursor s=%s;i=0\nfed 0\ngaps 0\n' "$sid" \
    >"$WORK/vac-a/state/journal.state"
"$TLSRPT" -c "$WORK/vac-a/conf" journal --file "$WORK/j/pf310.journal" 2>"$WORK/vac-a.err"
rc=$?
if [ $rc -eq 1 ] && grep -q "no longer in the journal" "$WORK/vac-a.err" &&
    [ "$(state_field "$WORK/vac-a/state/journal.state" gaps)" = 1 ]; then
    pass vacuumed-position-warns-and-counts-a-gap
else
    fail vacuumed-position-warns-and-counts-a-gap "rc=$rc"; cat "$WORK/vac-a.err" >&2
fi
same vacuumed-position-resumes-from-the-oldest-entry ing-yes vac-a

# (c) the saved entry is gone but older ones remain (damage): resume after
# it, with a warning, and no gap (nothing older was lost)
setup vac-c yes
pick=$(journalctl --file "$WORK/j/pf310.journal" -o export -n 1 \
    SYSLOG_IDENTIFIER=postfix/pickup 2>/dev/null |
    sed -n 's/^__CURSOR=s=[0-9a-f]*;i=\([0-9a-f]*\);.*/\1/p')
mkdir -p "$WORK/vac-c/state"
printf 'tlsrpt-journal-state 1\ncursor s=%s;i=%s\nfed %d\ngaps 0\n' "$sid" \
    "$pick" "$((0x${pick:-0}))" >"$WORK/vac-c/state/journal.state"
"$TLSRPT" -c "$WORK/vac-c/conf" journal --file "$WORK/j/pf310.journal" 2>"$WORK/vac-c.err"
rc=$?
if [ $rc -eq 0 ] && grep -q "is missing; resuming after it" "$WORK/vac-c.err" &&
    [ "$(state_field "$WORK/vac-c/state/journal.state" gaps)" = 0 ]; then
    pass missing-entry-with-older-ones-left-resumes-after-it-without-a-gap
else
    fail missing-entry-with-older-ones-left-resumes-after-it-without-a-gap "rc=$rc"
    cat "$WORK/vac-c.err" >&2
fi

# (b) the file holding the saved entry was deleted; a newer file is left
mkdir -p "$WORK/vj"
mkj "$WORK/vj/old.journal" "$WORK/part1.log" || fail build-vacuum-journal
setup vac-b yes
"$TLSRPT" -c "$WORK/vac-b/conf" journal --directory "$WORK/vj" 2>/dev/null
rm -f "$WORK/vj/old.journal"
mkj "$WORK/vj/new.journal" --host sender "$EXIM" || fail build-vacuum-journal-2
"$TLSRPT" -c "$WORK/vac-b/conf" journal --directory "$WORK/vj" 2>"$WORK/vac-b.err"
rc=$?
if [ $rc -eq 1 ] && grep -q "no longer in the journal" "$WORK/vac-b.err"; then
    pass rotated-away-file-resumes-from-the-oldest-file-with-a-gap
else
    fail rotated-away-file-resumes-from-the-oldest-file-with-a-gap "rc=$rc"
    cat "$WORK/vac-b.err" >&2
fi
setup ing-vac yes
"$TLSRPT" -c "$WORK/ing-vac/conf" ingest --year 2026 "$WORK/part1.log" 2>/dev/null
"$TLSRPT" -c "$WORK/ing-vac/conf" ingest --host sender "$EXIM" 2>/dev/null
same rotated-away-file-loses-nothing-of-the-newer-file ing-vac vac-b

# --- bad state and options ------------------------------------------------
setup bad yes
mkdir -p "$WORK/bad/state"
printf 'tlsrpt-journal-state 1\ncursor garbage\n' >"$WORK/bad/state/journal.state"
"$TLSRPT" -c "$WORK/bad/conf" journal --file "$WORK/j/pf310.journal" 2>"$WORK/bad.err"
rc=$?
[ $rc -eq 3 ] && grep -q "damaged state file" "$WORK/bad.err" &&
    pass damaged-state-file-is-refused-not-guessed ||
    fail damaged-state-file-is-refused-not-guessed "rc=$rc"
for args in "--match nofield" "--match lower=x" "--commit-interval -1" \
    "--commit-interval 99999999999" "--since yesterday" "--file a --directory b" \
    "--cursor x --since 2026-01-01T00:00:00Z" "extra"; do
    "$TLSRPT" -c "$WORK/bad/conf" journal $args >/dev/null 2>&1
    rc=$?
    [ $rc -eq 2 ] || { echo "  $args: rc=$rc" >&2; badopt=1; }
done
[ -z "${badopt:-}" ] && pass bad-options-are-usage-errors ||
    fail bad-options-are-usage-errors
"$TLSRPT" -c "$WORK/bad/conf" journal --help | grep -q -- "--follow" &&
    pass journal-help-lists-the-options || fail journal-help-lists-the-options

# --- matches and the state lock -------------------------------------------
setup match yes
"$TLSRPT" -c "$WORK/match/conf" journal --file "$WORK/j/pf310.journal" \
    --match SYSLOG_IDENTIFIER=no-such-program --state "$WORK/match/m.state" \
    2>"$WORK/match.err"
rc=$?
[ $rc -eq 0 ] && grep -q " 0 entries, 0 fed, 0 records" "$WORK/match.err" &&
    pass match-replaces-the-default-matches ||
    { fail match-replaces-the-default-matches "rc=$rc"; cat "$WORK/match.err" >&2; }
# the unit match adds the lines of every postfix service (pickup, cleanup)
"$TLSRPT" -c "$WORK/match/conf" journal --file "$WORK/j/pf310.journal" \
    --match SYSLOG_IDENTIFIER=no-such-program --unit postfix@-.service \
    --state "$WORK/match/u.state" 2>"$WORK/unit.err"
n=$(grep -c ' postfix/' "$C310/maillog.txt")
grep -q " $n entries, $n fed" "$WORK/unit.err" &&
    pass unit-adds-the-entries-of-that-systemd-unit ||
    { fail unit-adds-the-entries-of-that-systemd-unit "want $n"; cat "$WORK/unit.err" >&2; }
"$TLSRPT" -c "$WORK/match/conf" journal --follow --file "$WORK/j/pf310.journal" \
    --state "$WORK/match/l.state" 2>/dev/null &
lpid=$!
trap 'kill $lpid 2>/dev/null; rm -rf "$WORK"' EXIT
i=0
while [ ! -f "$WORK/match/l.state" ] && [ $i -lt 100 ]; do sleep 0.05; i=$((i + 1)); done
"$TLSRPT" -c "$WORK/match/conf" journal --file "$WORK/j/pf310.journal" \
    --state "$WORK/match/l.state" 2>"$WORK/lock.err"
rc=$?
kill -TERM $lpid; wait $lpid
trap 'rm -rf "$WORK"' EXIT
[ $rc -eq 3 ] && grep -q "in use by another reader" "$WORK/lock.err" &&
    pass second-reader-of-the-same-state-is-refused ||
    fail second-reader-of-the-same-state-is-refused "rc=$rc"

# --- --since and --cursor start points -------------------------------------
setup start yes
"$TLSRPT" -c "$WORK/start/conf" journal --file "$WORK/j/pf310.journal" \
    --since 2026-11-28T11:57:30Z --state "$WORK/start/s.state" 2>"$WORK/since.err"
late=$(awk '$3 >= "11:57:30"' "$C310/maillog.txt" |
    grep -c -E ' postfix/(smtp|tlsproxy|qmgr)\[')
grep -q " $late entries" "$WORK/since.err" &&
    pass since-starts-at-the-first-entry-at-or-after-that-time ||
    { fail since-starts-at-the-first-entry-at-or-after-that-time "want $late"; cat "$WORK/since.err" >&2; }
cur=$(journalctl --file "$WORK/j/pf310.journal" -o export -n 2 \
    SYSLOG_IDENTIFIER=postfix/smtp SYSLOG_IDENTIFIER=postfix/tlsproxy \
    SYSLOG_IDENTIFIER=postfix/qmgr 2>/dev/null | sed -n 's/^__CURSOR=//p' | head -1)
"$TLSRPT" -c "$WORK/start/conf" journal --file "$WORK/j/pf310.journal" \
    --cursor "$cur" --state "$WORK/start/c.state" 2>"$WORK/cursor.err"
grep -q " 1 entries, 1 fed" "$WORK/cursor.err" &&
    pass cursor-starts-after-that-entry ||
    { fail cursor-starts-after-that-entry; cat "$WORK/cursor.err" >&2; }
