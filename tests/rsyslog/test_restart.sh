#!/bin/sh
# rsyslogd restarted twice in the middle of a stream loses nothing it
# accepted: the action has a disk-assisted queue saved on shutdown, as in
# rsyslog-conf/single-host.conf, and rsyslogd is stopped right after each
# part was sent, while lines may still sit in its queues. The stream is cut
# where the corpus starts a new test phase (its "phase=" lines), so no
# session spans a restart: the module finishes open sessions at shutdown,
# as tlsrpt ingest does at the end of a file. The reports of the three
# runs together must be identical to `tlsrpt ingest` of the whole corpus:
# each run has its own event id source, and each record is in the spool
# exactly once.
. "$(dirname "$0")/../e2e/lib.sh"
. "$(dirname "$0")/lib.sh"
rs_available || exit 0
NOW=2026-12-01T00:00:00Z
P310="$C310/maillog.txt"
total=$(wc -l <"$P310")
# 0-based indexes of the second and third "phase=" lines of the corpus
cut1=$(grep -n 'pf310-corpus\[[0-9]*\]: phase=' "$P310" | sed -n 3p | cut -d: -f1)
cut2=$(grep -n 'pf310-corpus\[[0-9]*\]: phase=' "$P310" | sed -n 5p | cut -d: -f1)
cut1=$((cut1 - 1)); cut2=$((cut2 - 1))

ref="$WORK/ref"; mkdir -p "$ref"
conf_for "$ref" "$C310_HINTS"
"$TLSRPT" -c "$ref/tlsrpt.conf" ingest --year 2026 "$P310" 2>"$ref/err" &&
    aggregate "$ref" "$NOW" || { fail reference-ingest "$(cat "$ref/err")"; exit 0; }

d="$WORK/restart"; mkdir -p "$d"
conf_for "$d" "$C310_HINTS"
# numbered lines, as in single-host.conf: a disk-assisted queue that
# spills (and the backlog it replays after a restart) is not in log order.
# The backlog's numbers are those of the run before, so the first batch
# after a start waits orderTimeout for numbers that will not come; kept
# short here, as rsyslogd is stopped right after each part (a worker
# cancelled by rsyslog's shutdown while it waits finishes its commit
# first, but rsyslog may then replay that batch at the next start)
RS_PRELUDE=$RS_SEQ_PRELUDE rs_conf "$d" "$RS_SEQ_ACTION" \
    "action(type=\"omtlsrpt\" configFile=\"$d/tlsrpt.conf\" statsFile=\"$d/stats\"
         template=\"omtlsrpt_seq\" orderBySequence=\"on\" orderTimeout=\"300\"
         queue.type=\"LinkedList\" queue.filename=\"omtlsrpt\"
         queue.saveOnShutdown=\"on\" queue.timeoutShutdown=\"0\"
         action.resumeRetryCount=\"-1\")"
sources=""
part() { # FROM TO
    rs_start "$d" || return 1
    send_tcp "$d" 2026 "$P310" --from "$1" --to "$2" >/dev/null || return 1
    rs_stop "$d" || return 1
    sources="$sources $(stat_of "$d/stats" source)"
}
if part 0 "$cut1" && part "$cut1" "$cut2" && part "$cut2" "$total"; then
    pass three-runs-of-rsyslogd-took-the-stream
else
    fail three-runs-of-rsyslogd-took-the-stream "$(cat "$d/rsyslogd.out")"
fi
# a fourth run only drains what the third left in the queue file
rs_start "$d" && sleep 1 && rs_stop "$d"
aggregate "$d" "$NOW" || fail restart-aggregate "$(cat "$d/agg.out")"
if same_reports "$d/outbox" "$ref/outbox" >"$d/cmp" 2>&1; then
    pass restarts-mid-stream-reports-identical-nothing-lost
else
    fail restarts-mid-stream-reports-identical-nothing-lost "$(cat "$d/cmp")"
fi
# every run drew its own event id source
if [ "$(echo $sources | tr ' ' '\n' | grep -c '^rs-[0-9a-f]\{16\}$')" -eq 3 ] &&
    [ "$(echo $sources | tr ' ' '\n' | sort -u | wc -l)" -eq 3 ]; then
    pass each-run-has-its-own-event-id-source
else
    fail each-run-has-its-own-event-id-source "$sources"
fi
if grep -q 'ERROR: AddressSanitizer\|runtime error:' "$d/rsyslogd.out"; then
    fail restart-no-sanitizer-report "$(cat "$d/rsyslogd.out")"
fi
