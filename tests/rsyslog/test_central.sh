#!/bin/sh
# rsyslog-conf/central-server.conf for real: an MTA-side rsyslogd forwards
# the corpus over RELP (omrelp, as the config's header shows) to a central
# rsyslogd running the shipped configuration (only ports and paths
# changed), where mmsequence numbers the lines and omtlsrpt works on four
# threads with orderBySequence. The reports must be identical to
# `tlsrpt ingest` of the same files.
. "$(dirname "$0")/../e2e/lib.sh"
. "$(dirname "$0")/lib.sh"
rs_available || exit 0
if [ ! -f "$RS_STOCK/imrelp.so" ] || [ ! -f "$RS_STOCK/omrelp.so" ]; then
    echo "SKIP central-server: imrelp/omrelp missing (package rsyslog-relp)"
    exit 0
fi
NOW=2026-12-01T00:00:00Z
P310="$C310/maillog.txt"
P37="$C37/raw/postfix-sender.maillog"
EXIM="$C37/raw/exim-mainlog"
EXIM_HOST=mta-out-exim.sender.test
# what the central's filter takes: Postfix and Exim lines
total=$(cat "$P310" "$P37" | grep -c ' postfix[^ ]*\[[0-9]*\]: ')
total=$((total + $(wc -l <"$EXIM")))

ref="$WORK/ref"; mkdir -p "$ref"
conf_for "$ref" "$C310_HINTS"
"$TLSRPT" -c "$ref/tlsrpt.conf" ingest --year 2026 "$P310" "$P37" 2>"$ref/err" &&
    "$TLSRPT" -c "$ref/tlsrpt.conf" ingest --host "$EXIM_HOST" "$EXIM" 2>>"$ref/err" &&
    aggregate "$ref" "$NOW" || { fail reference-ingest "$(cat "$ref/err")"; exit 0; }

free_port() {
    $PY -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# The central server: the shipped file with test ports and paths.
c="$WORK/central"; mkdir -p "$c/work"
conf_for "$c" "$C310_HINTS"
relp=$(free_port); tcp=$(free_port)
sed -e "s|/etc/opentlsrpt/tlsrpt.conf|$c/tlsrpt.conf|" \
    -e "s|port=\"2514\"|port=\"$relp\" address=\"127.0.0.1\"|" \
    -e "s|port=\"514\"|port=\"$tcp\" address=\"127.0.0.1\"|" \
    -e "s|/var/log/hosts/|$c/hosts/|" \
    -e "s|/run/opentlsrpt-omtlsrpt.stats|$c/stats|" \
    "$TRPT_SRC/rsyslog-conf/central-server.conf" >"$c/central.conf"
cat >"$c/rs.conf" <<EOF
global(workDirectory="$c/work" processInternalMessages="on")
include(file="$c/central.conf")
syslog.* action(type="omfile" file="$c/internal.log")
EOF
rs_start_central() {
    env $RS_ENV RSYSLOG_DFLT_LOG_INTERNAL=1 "$RSYSLOGD" -C "-M$RS_STOCK:$RS_MODDIR" \
        -n -f "$c/rs.conf" -i "$c/pid" >>"$c/rsyslogd.out" 2>&1 &
    RS_PIDS="$RS_PIDS $!"
    echo $! >"$c/bgpid"
}
rs_start_central
# both listeners up before the MTA side connects (a refused first RELP
# session would make rsyslog retry, message by message)
listening() {
    $PY -c 'import socket, sys
for p in sys.argv[1:]:
    socket.create_connection(("127.0.0.1", int(p)), timeout=1).close()' "$@" 2>/dev/null
}
i=0
until listening "$relp" "$tcp" || [ $i -gt $((100 * RS_SLOW)) ]; do sleep 0.1; i=$((i + 1)); done

# The MTA side: corpus lines in over TCP, out over RELP as the central
# config's header suggests.
m="$WORK/mta"; mkdir -p "$m/work"
cat >"$m/rs.conf" <<EOF
global(workDirectory="$m/work" processInternalMessages="on")
main_queue(queue.workerThreads="1")
module(load="imtcp")
input(type="imtcp" address="127.0.0.1" port="0" listenPortFileName="$m/port")
module(load="imuxsock" SysSock.Use="off")
input(type="imuxsock" Socket="$m/log.sock")
module(load="omrelp")
if (\$programname startswith "postfix") or (\$programname startswith "exim")
then action(type="omrelp" target="127.0.0.1" port="$relp"
            queue.type="LinkedList" queue.size="500000"
            action.resumeRetryCount="-1" action.resumeInterval="1")
syslog.* action(type="omfile" file="$m/internal.log")
EOF
rs_start "$m" || { fail central-mta-rsyslogd-start; exit 0; }
send_tcp "$m" 2026 "$P310" "$P37" >/dev/null &&
    send_tcp "$m" 2026 "$EXIM" --exim-host "$EXIM_HOST" >/dev/null
# all lines reached the central's per-host files ...
i=0
until [ "$(cat "$c"/hosts/*/mail.log 2>/dev/null | wc -l)" -ge "$total" ] ||
    [ $i -gt $((300 * RS_SLOW)) ]; do sleep 0.1; i=$((i + 1)); done
# ... and omtlsrpt's own queue has passed them all to the module
i=0
until [ "$(stat_of "$c/stats" messages)" = "$total" ] || [ $i -gt $((60 * RS_SLOW)) ]; do
    kill -HUP "$(cat "$c/bgpid")"; sleep 0.5; i=$((i + 1))
done
rs_stop "$m"
rs_stop "$c"
if [ "$(stat_of "$c/stats" messages)" = "$total" ]; then
    pass central-server-module-took-every-relayed-line
else
    fail central-server-module-took-every-relayed-line \
        "$(stat_of "$c/stats" messages) of $total; $(tail -5 "$c/internal.log")"
fi
aggregate "$c" "$NOW" || fail central-aggregate "$(cat "$c/agg.out")"
if same_reports "$c/outbox" "$ref/outbox" >"$c/cmp" 2>&1; then
    pass central-server-conf-over-relp-reports-identical-to-tlsrpt-ingest
else
    fail central-server-conf-over-relp-reports-identical-to-tlsrpt-ingest \
        "$(cat "$c/cmp" "$c/stats")"
fi
if [ "$(ls "$c/hosts" | LC_ALL=C sort | tr '\n' ' ')" = "mta-out $EXIM_HOST sender " ]; then
    pass central-server-keeps-a-mail-log-per-host
else
    fail central-server-keeps-a-mail-log-per-host "$(ls "$c/hosts")"
fi
if grep -q 'ERROR: AddressSanitizer\|runtime error:' "$c/rsyslogd.out" "$m/rsyslogd.out"; then
    fail central-no-sanitizer-report "$(cat "$c/rsyslogd.out")"
fi
