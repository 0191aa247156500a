#!/bin/sh
# `tlsrpt journal --follow` under a service manager (Type=notify): with
# NOTIFY_SOCKET and WATCHDOG_USEC set, as systemd sets them, it sends
# READY=1 once positioned, WATCHDOG=1 while it waits for entries, and
# STOPPING=1 on SIGTERM, after which it exits 0. A Python datagram socket
# stands in for systemd.
. "$TRPT_SRC/tests/e2e/lib.sh"
HERE="$TRPT_SRC/tests/journal"
REMOTE=/lib/systemd/systemd-journal-remote
[ -x "$REMOTE" ] || { fail journal-remote-available; exit 0; }

$PY "$HERE/mkjournal.py" "$C310/maillog.txt" 2>/dev/null |
    "$REMOTE" -o "$WORK/t.journal" --split-mode=none - >/dev/null 2>&1
write_conf "$WORK/conf" "$WORK" "postfix_tlsrpt = yes"
sock="$WORK/notify.sock"
$PY - "$sock" "$WORK/notify.out" <<'EOF' &
import socket, sys, time
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(sys.argv[1])
s.settimeout(1)
end = time.time() + 20
with open(sys.argv[2], "w") as f:
    while time.time() < end:
        try:
            d = s.recv(4096)
        except socket.timeout:
            continue
        f.write(d.decode(errors="replace") + "\n")
        f.flush()
        if b"STOPPING=1" in d:
            break
EOF
lpid=$!
i=0
while [ ! -S "$sock" ] && [ $i -lt 100 ]; do sleep 0.05; i=$((i + 1)); done
NOTIFY_SOCKET="$sock" WATCHDOG_USEC=200000 "$TLSRPT" -c "$WORK/conf" journal \
    --follow --file "$WORK/t.journal" 2>"$WORK/err" &
jpid=$!
trap 'kill $jpid $lpid 2>/dev/null; rm -rf "$WORK"' EXIT
i=0
while [ $i -lt 100 ]; do
    grep -q "WATCHDOG=1" "$WORK/notify.out" 2>/dev/null && break
    sleep 0.05; i=$((i + 1))
done
grep -q "^READY=1" "$WORK/notify.out" && pass follow-sends-ready-to-the-service-manager ||
    fail follow-sends-ready-to-the-service-manager
grep -q "^WATCHDOG=1" "$WORK/notify.out" &&
    grep -q "^STATUS=.* records committed" "$WORK/notify.out" &&
    pass follow-pings-the-watchdog-with-a-status-line ||
    fail follow-pings-the-watchdog-with-a-status-line
kill -TERM $jpid
wait $jpid
rc=$?
wait $lpid 2>/dev/null
trap 'rm -rf "$WORK"' EXIT
[ $rc -eq 0 ] && grep -q "^STOPPING=1" "$WORK/notify.out" &&
    pass sigterm-sends-stopping-and-exits-0 ||
    { fail sigterm-sends-stopping-and-exits-0 "rc=$rc"; cat "$WORK/err" "$WORK/notify.out" >&2; }
