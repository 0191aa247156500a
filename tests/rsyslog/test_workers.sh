#!/bin/sh
# Four worker threads on the omtlsrpt action (queue.workerThreads="4",
# small batches so they really run side by side): rsyslog hands batches
# to its workers in queue order but they reach the module in any order,
# and the parser needs log order (a Postfix TLS line and the delivery line
# of the same process). With mmsequence numbering the lines and
# orderBySequence="on", the reports must still be identical to
# `tlsrpt ingest` of the same lines.
. "$(dirname "$0")/../e2e/lib.sh"
. "$(dirname "$0")/lib.sh"
rs_available || exit 0
NOW=2026-12-01T00:00:00Z
P310="$C310/maillog.txt"
P37="$C37/raw/postfix-sender.maillog"
total=$(cat "$P310" "$P37" | wc -l)

ref="$WORK/ref"; mkdir -p "$ref"
conf_for "$ref" "$C310_HINTS"
"$TLSRPT" -c "$ref/tlsrpt.conf" ingest --year 2026 "$P310" "$P37" 2>"$ref/err" &&
    aggregate "$ref" "$NOW" || { fail reference-ingest "$(cat "$ref/err")"; exit 0; }

d="$WORK/w4"; mkdir -p "$d"
conf_for "$d" "$C310_HINTS"
RS_PRELUDE=$RS_SEQ_PRELUDE rs_conf "$d" "$RS_SEQ_ACTION" \
    "action(type=\"omtlsrpt\" configFile=\"$d/tlsrpt.conf\" statsFile=\"$d/stats\"
         template=\"omtlsrpt_seq\" orderBySequence=\"on\"
         queue.type=\"LinkedList\" queue.workerThreads=\"4\"
         queue.workerThreadMinimumMessages=\"8\" queue.dequeueBatchSize=\"16\")"
rs_start "$d" || { fail workers-rsyslogd-start; exit 0; }
send_tcp "$d" 2026 "$P310" "$P37" >/dev/null
wait_for_lines "$d/copy.log" "$total" || fail four-workers-all-lines-arrived
rs_stop "$d"
aggregate "$d" "$NOW" || fail four-workers-aggregate "$(cat "$d/agg.out")"
if same_reports "$d/outbox" "$ref/outbox" >"$d/cmp" 2>&1; then
    pass four-workers-reports-identical-to-tlsrpt-ingest
else
    fail four-workers-reports-identical-to-tlsrpt-ingest "$(cat "$d/cmp" "$d/stats")"
fi
# the batches were many and every line was parsed once, none given up on
if [ "$(stat_of "$d/stats" messages)" = "$total" ] &&
    [ "$(stat_of "$d/stats" batches)" -gt 8 ] &&
    [ "$(stat_of "$d/stats" unnumbered)" = 0 ] &&
    [ "$(stat_of "$d/stats" order_gaps)" = 0 ]; then
    pass four-workers-every-line-once-in-many-batches-no-gap
else
    fail four-workers-every-line-once-in-many-batches-no-gap "$(cat "$d/stats")"
fi
echo "  (batches $(stat_of "$d/stats" batches), waited for an earlier batch" \
    "$(stat_of "$d/stats" order_waits))" >&2
if grep -q 'ERROR: AddressSanitizer\|runtime error:' "$d/rsyslogd.out"; then
    fail four-workers-no-sanitizer-report "$(cat "$d/rsyslogd.out")"
fi
