#!/bin/sh
# rsyslog-conf/single-host.conf for real (only its paths changed): the
# corpus lines go through the main queue, mmsequence and the module's
# disk-assisted queue, and the reports must be identical to `tlsrpt ingest`
# of the same files.
# (Forcing the queue to spill, queue.size="300", showed rsyslog 8.2302
# working off the disk and memory parts side by side, out of order, which
# orderBySequence puts right; but in about one run of ten a few messages
# also stayed in the queue file until the next start, so that variant is
# not a repeatable test. The ordering itself is tested in unit_omtlsrpt.c:
# runs of consecutive numbers, gaps filled by another worker.)
. "$(dirname "$0")/../e2e/lib.sh"
. "$(dirname "$0")/lib.sh"
rs_available || exit 0
NOW=2026-12-01T00:00:00Z
P310="$C310/maillog.txt"
P37="$C37/raw/postfix-sender.maillog"
EXIM="$C37/raw/exim-mainlog"
EXIM_HOST=mta-out-exim.sender.test
total=$(cat "$P310" "$P37" | grep -c ' postfix[^ ]*\[[0-9]*\]: ')
total=$((total + $(wc -l <"$EXIM")))

ref="$WORK/ref"; mkdir -p "$ref"
conf_for "$ref" "$C310_HINTS"
"$TLSRPT" -c "$ref/tlsrpt.conf" ingest --year 2026 "$P310" "$P37" 2>"$ref/err" &&
    "$TLSRPT" -c "$ref/tlsrpt.conf" ingest --host "$EXIM_HOST" "$EXIM" 2>>"$ref/err" &&
    aggregate "$ref" "$NOW" || { fail reference-ingest "$(cat "$ref/err")"; exit 0; }

d="$WORK/single"; mkdir -p "$d/work"
conf_for "$d" "$C310_HINTS"
sed -e "s|/etc/opentlsrpt/tlsrpt.conf|$d/tlsrpt.conf|" \
    -e "s|/run/opentlsrpt-omtlsrpt.stats|$d/stats|" \
    "$TRPT_SRC/rsyslog-conf/single-host.conf" >"$d/single-host.conf"
# what Debian's rsyslog.conf provides around the drop-in
cat >"$d/rs.conf" <<EOF2
global(workDirectory="$d/work" processInternalMessages="on")
module(load="imuxsock" SysSock.Use="off")
input(type="imuxsock" Socket="$d/log.sock")
module(load="imtcp")
input(type="imtcp" address="127.0.0.1" port="0" listenPortFileName="$d/port")
include(file="$d/single-host.conf")
syslog.* action(type="omfile" file="$d/internal.log")
EOF2
rs_start "$d" || { fail single-host-rsyslogd-start; exit 0; }
send_tcp "$d" 2026 "$P310" "$P37" >/dev/null &&
    send_tcp "$d" 2026 "$EXIM" --exim-host "$EXIM_HOST" >/dev/null
i=0
until [ "$(stat_of "$d/stats" messages)" = "$total" ] || [ $i -gt $((60 * RS_SLOW)) ]; do
    rs_hup "$d"; sleep 0.5; i=$((i + 1))
done
rs_stop "$d"
if [ "$(stat_of "$d/stats" messages)" = "$total" ] &&
    [ "$(stat_of "$d/stats" unnumbered)" = 0 ]; then
    pass single-host-conf-module-took-every-line-numbered
else
    fail single-host-conf-module-took-every-line-numbered "$(cat "$d/stats")"
fi
aggregate "$d" "$NOW" || fail single-host-aggregate "$(cat "$d/agg.out")"
if same_reports "$d/outbox" "$ref/outbox" >"$d/cmp" 2>&1; then
    pass single-host-conf-reports-identical-to-tlsrpt-ingest
else
    fail single-host-conf-reports-identical-to-tlsrpt-ingest \
        "$(cat "$d/cmp" "$d/stats")"
fi
echo "  (batches $(stat_of "$d/stats" batches), waited for an earlier batch" \
    "$(stat_of "$d/stats" order_waits), gaps $(stat_of "$d/stats" order_gaps))" >&2
if grep -q 'ERROR: AddressSanitizer\|runtime error:' "$d/rsyslogd.out"; then
    fail single-host-no-sanitizer-report "$(cat "$d/rsyslogd.out")"
fi
