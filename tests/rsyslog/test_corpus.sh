#!/bin/sh
# omtlsrpt in the real rsyslogd against `tlsrpt ingest` of the same lines:
# the reports written from the module's spool must be identical (same
# files, same JSON) to those from ingesting the corpus files.
#  - over TCP (imtcp): the 3.10 corpus maillog, the 3.7 sender maillog and
#    the Exim 4.96 mainlog, each line sent as RFC 5424 with its own time
#    and host, so rsyslog's default template (RSYSLOG_FileFormat) carries
#    exactly what the files carry;
#  - through the local socket (imuxsock) with logger: rsyslog stamps its
#    own time and host, so the reference is `tlsrpt ingest` of the lines
#    rsyslog wrote with omfile in the same run; and the report counts per
#    domain and result must equal those of the corpus files themselves.
# The module reads the same tlsrpt.conf as the aggregator (configFile).
. "$(dirname "$0")/../e2e/lib.sh"
. "$(dirname "$0")/lib.sh"
rs_available || exit 0
NOW=2026-12-01T00:00:00Z
P310="$C310/maillog.txt"
P37="$C37/raw/postfix-sender.maillog"
EXIM="$C37/raw/exim-mainlog"
EXIM_HOST=mta-out-exim.sender.test
COUNTS="$TRPT_SRC/tests/e2e/report_counts.py"
total=$(cat "$P310" "$P37" "$EXIM" | wc -l)

# The reference: tlsrpt ingest of the three files.
ref="$WORK/ref"; mkdir -p "$ref"
conf_for "$ref" "$C310_HINTS"
if "$TLSRPT" -c "$ref/tlsrpt.conf" ingest --year 2026 "$P310" "$P37" 2>"$ref/err" &&
    "$TLSRPT" -c "$ref/tlsrpt.conf" ingest --host "$EXIM_HOST" "$EXIM" 2>>"$ref/err" &&
    aggregate "$ref" "$NOW"; then :; else
    fail reference-ingest "$(cat "$ref/err" "$ref/agg.out")"
    exit 0
fi

# --- TCP, the lines' own time and host --------------------------------------
d="$WORK/tcp"; mkdir -p "$d"
conf_for "$d" "$C310_HINTS"
rs_conf "$d" "action(type=\"omtlsrpt\" configFile=\"$d/tlsrpt.conf\" statsFile=\"$d/stats\")"
if rs_check "$d" "$d/rs.conf"; then
    pass rsyslogd-N1-accepts-the-test-config
else
    fail rsyslogd-N1-accepts-the-test-config "$(cat "$d/n1.out")"
fi
rs_start "$d" || { fail tcp-rsyslogd-start; exit 0; }
send_tcp "$d" 2026 "$P310" "$P37" >/dev/null &&
    send_tcp "$d" 2026 "$EXIM" --exim-host "$EXIM_HOST" >/dev/null
wait_for_lines "$d/copy.log" "$total" || fail tcp-all-lines-arrived "$(wc -l <"$d/copy.log")"
rs_stop "$d"
aggregate "$d" "$NOW" || fail tcp-aggregate "$(cat "$d/agg.out")"
if same_reports "$d/outbox" "$ref/outbox" >"$d/cmp" 2>&1; then
    pass tcp-corpus-reports-identical-to-tlsrpt-ingest
else
    fail tcp-corpus-reports-identical-to-tlsrpt-ingest "$(cat "$d/cmp")"
fi
if [ "$(stat_of "$d/stats" messages)" = "$total" ] &&
    [ "$(stat_of "$d/stats" failed_batches)" = 0 ]; then
    pass tcp-stats-file-counts-every-message-no-failed-batch
else
    fail tcp-stats-file-counts-every-message-no-failed-batch "$(cat "$d/stats")"
fi
# the default template gives the parser time, host, program and pid
if grep -q '^error\.no-framing=0$' "$d/stats" &&
    [ "$(stat_of "$d/stats" lines_used)" -gt 0 ]; then
    pass default-template-frames-time-host-program-pid
else
    fail default-template-frames-time-host-program-pid "$(head -3 "$d/copy.log")"
fi

# --- logger through the local socket ---------------------------------------
d="$WORK/uxsock"; mkdir -p "$d"
conf_for "$d" "$C310_HINTS"
rs_conf "$d" "action(type=\"omtlsrpt\" configFile=\"$d/tlsrpt.conf\")"
rs_start "$d" || { fail uxsock-rsyslogd-start; exit 0; }
n=$(cat "$P310" "$EXIM" | wc -l)
send_logger "$d" "$P310" "$EXIM" >/dev/null
wait_for_lines "$d/copy.log" "$n" || fail logger-all-lines-arrived "$(wc -l <"$d/copy.log")"
rs_stop "$d"
# reports of the day after tomorrow cover every line sent today
LNOW=$(date -u -d '+2 days' +%Y-%m-%dT12:00:00Z)
aggregate "$d" "$LNOW" || fail logger-aggregate "$(cat "$d/agg.out")"
c="$WORK/uxsock-copy"; mkdir -p "$c"
conf_for "$c" "$C310_HINTS"
"$TLSRPT" -c "$c/tlsrpt.conf" ingest "$d/copy.log" 2>"$c/err" && aggregate "$c" "$LNOW" ||
    fail logger-copy-ingest "$(cat "$c/err" "$c/agg.out")"
if same_reports "$d/outbox" "$c/outbox" >"$d/cmp" 2>&1; then
    pass logger-reports-identical-to-tlsrpt-ingest-of-the-same-lines
else
    fail logger-reports-identical-to-tlsrpt-ingest-of-the-same-lines "$(cat "$d/cmp")"
fi
r2="$WORK/ref2"; mkdir -p "$r2"
conf_for "$r2" "$C310_HINTS"
"$TLSRPT" -c "$r2/tlsrpt.conf" ingest --year 2026 "$P310" 2>/dev/null &&
    "$TLSRPT" -c "$r2/tlsrpt.conf" ingest --host "$EXIM_HOST" "$EXIM" 2>/dev/null &&
    aggregate "$r2" "$NOW"
if $PY "$COUNTS" reports "$d/outbox" >"$d/counts.json" 2>&1 &&
    $PY "$COUNTS" reports "$r2/outbox" >"$r2/counts.json" 2>&1 &&
    cmp -s "$d/counts.json" "$r2/counts.json"; then
    pass logger-report-counts-equal-those-of-the-corpus-files
else
    fail logger-report-counts-equal-those-of-the-corpus-files \
        "$(diff "$r2/counts.json" "$d/counts.json" | head -20)"
fi
