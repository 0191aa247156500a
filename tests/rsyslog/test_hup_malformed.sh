#!/bin/sh
# SIGHUP and bad input, in one rsyslogd run:
#  - HUP in the middle of the stream: the module starts a new spool segment
#    (log rotation tools, trpt_sink_reopen) and rewrites its stats file;
#    the reports are still identical to `tlsrpt ingest` of the lines;
#  - malformed messages (binary bytes, NUL bytes, invalid UTF-8, a line
#    longer than the parser takes, a Postfix tag with garbage, an empty
#    message) are counted and skipped: rsyslogd keeps running and every
#    good line around them still counts.
. "$(dirname "$0")/../e2e/lib.sh"
. "$(dirname "$0")/lib.sh"
rs_available || exit 0
NOW=2026-12-01T00:00:00Z
P310="$C310/maillog.txt"
total=$(wc -l <"$P310")
half=$((total / 2))

ref="$WORK/ref"; mkdir -p "$ref"
conf_for "$ref" "$C310_HINTS"
"$TLSRPT" -c "$ref/tlsrpt.conf" ingest --year 2026 "$P310" 2>"$ref/err" &&
    aggregate "$ref" "$NOW" || { fail reference-ingest "$(cat "$ref/err")"; exit 0; }

d="$WORK/hup"; mkdir -p "$d"
conf_for "$d" "$C310_HINTS"
rs_conf "$d" "action(type=\"omtlsrpt\" configFile=\"$d/tlsrpt.conf\" statsFile=\"$d/stats\")"
rs_start "$d" || { fail hup-rsyslogd-start; exit 0; }

# bad_input PORT: raw bytes over TCP, each message LF-terminated
bad_input() {
    $PY - "$1" <<'EOF'
import socket, sys
t = b"<22>Nov 28 11:00:00 sender postfix/smtp[4242]: "
msgs = [
    bytes(range(1, 256)).replace(b"\n", b""),           # binary
    t + b"A1B2C3: to=<x@y.test>, relay=\x00\x00nul",    # NUL bytes
    t + b"A1B2C3: to=<x@\xff\xfe.test>, status=sent",   # invalid UTF-8
    t + b"A1B2C3: to=<x@" + b"a" * 20000 + b".test>",  # longer than 16 KiB
    b"<22>Nov 28 11:00:00 sender postfix/smtp[: \x80\x81 garbage",
    t,                                                  # empty message
    b"<22>Nov 28 11:00:00 sender exim[1]: " + b"\xc3" * 50,
]
with socket.create_connection(("127.0.0.1", int(sys.argv[1]))) as s:
    s.sendall(b"".join(m + b"\n" for m in msgs))
print(len(msgs))
EOF
}
nbad=$(bad_input "$(cat "$d/port")")
send_tcp "$d" 2026 "$P310" --to "$half" >/dev/null
wait_for_lines "$d/copy.log" $((half + nbad))
sleep 0.5
rs_hup "$d"
i=0
until [ -s "$d/stats" ] || [ $i -gt $((50 * RS_SLOW)) ]; do sleep 0.1; i=$((i + 1)); done
if [ -s "$d/stats" ] && [ "$(stat_of "$d/stats" messages)" -ge "$half" ]; then
    pass hup-writes-the-stats-file
else
    fail hup-writes-the-stats-file "$(cat "$d/stats" 2>&1)"
fi
bad_input "$(cat "$d/port")" >/dev/null
send_tcp "$d" 2026 "$P310" --from "$half" >/dev/null
wait_for_lines "$d/copy.log" $((total + 2 * nbad))
if kill -0 "$(cat "$d/bgpid")" 2>/dev/null; then
    pass rsyslogd-survives-malformed-messages
else
    fail rsyslogd-survives-malformed-messages "$(cat "$d/rsyslogd.out")"
fi
rs_stop "$d"
nseg=0
for f in "$d"/spool/seg-*.tsp; do [ -f "$f" ] && nseg=$((nseg + 1)); done
if [ "$nseg" -ge 2 ]; then
    pass hup-starts-a-new-spool-segment
else
    fail hup-starts-a-new-spool-segment "$(ls -l "$d/spool")"
fi
aggregate "$d" "$NOW" || fail hup-aggregate "$(cat "$d/agg.out")"
if same_reports "$d/outbox" "$ref/outbox" >"$d/cmp" 2>&1; then
    pass reports-identical-across-hup-and-bad-input
else
    fail reports-identical-across-hup-and-bad-input "$(cat "$d/cmp")"
fi
# each bad message was counted under its reason (rsyslog escapes control
# characters, so NUL bytes arrive as "#000" and are just not Postfix
# syntax; invalid UTF-8 and overlong lines reach the parser as they are)
if [ "$(stat_of "$d/stats" messages)" = $((total + 2 * nbad)) ] &&
    [ "$(stat_of "$d/stats" error.bad-utf8)" -ge 4 ] &&
    [ "$(stat_of "$d/stats" error.too-long)" -ge 2 ]; then
    pass malformed-messages-counted-per-reason
else
    fail malformed-messages-counted-per-reason "$(cat "$d/stats")"
fi
if grep -q 'ERROR: AddressSanitizer\|runtime error:' "$d/rsyslogd.out"; then
    fail hup-malformed-no-sanitizer-report "$(cat "$d/rsyslogd.out")"
fi
