# servers.sh - real servers on loopback for script tests (sourced after
# lib.sh; the C tests use tests/servers.h). Each start_* sets variables and
# registers the server for stop_servers, which lib.sh's EXIT trap does not
# know: call it in your own trap.
#   start_knot ORIGIN ZONEFILE   knotd signing the zone: KNOT_SERVER
#                                (127.0.0.1@PORT), KNOT_ANCHOR_FILE
#   start_https SANS [POLICYDIR] tests/http/https_server.py: HTTPS_PORT,
#                                HTTPS_CERT, HTTPS_LOG
SERVER_PIDS=""
free_port() { # free for UDP and TCP (knotd listens on both)
    /usr/bin/python3 -c '
import socket
for _ in range(20):
    u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); u.bind(("127.0.0.1", 0))
    p = u.getsockname()[1]
    t = socket.socket()
    try:
        t.bind(("127.0.0.1", p)); print(p); break
    except OSError:
        pass
    finally:
        t.close(); u.close()
'
}
stop_servers() {
    for p in $SERVER_PIDS; do kill "$p" 2>/dev/null; done
    for p in $SERVER_PIDS; do wait "$p" 2>/dev/null; done
    SERVER_PIDS=""
}
start_knot() { # ORIGIN ZONEFILE; a port taken meanwhile: try another
    for _ in 1 2 3; do start_knot_once "$@" && return 0; done
    return 1
}
start_knot_once() {
    kd="$WORK/knot"; rm -rf "$kd"; mkdir -p "$kd/db"; cp "$2" "$kd/zone.txt"
    port=$(free_port)
    {
        echo "server:"; echo "    listen: 127.0.0.1@$port"; echo "    rundir: $kd"
        [ "$(id -u)" = 0 ] && echo "    user: root"
        echo "database:"; echo "    storage: $kd/db"
        echo "template:"; echo "  - id: default"; echo "    storage: $kd"
        echo "    journal-content: none"; echo "    zonefile-sync: -1"
        echo "    dnssec-signing: on"
        echo "zone:"; echo "  - domain: $1"; echo "    file: zone.txt"
    } >"$kd/knot.conf"
    /usr/sbin/knotd -c "$kd/knot.conf" >"$kd/knot.log" 2>&1 &
    kpid=$!
    SERVER_PIDS="$SERVER_PIDS $kpid"
    KNOT_SERVER="127.0.0.1@$port"
    KNOT_ANCHOR_FILE="$kd/anchor"
    for _ in $(seq 100); do
        if dig +short +norec -p "$port" @127.0.0.1 "$1" SOA | grep -q . &&
            keymgr -c "$kd/knot.conf" "$1" dnskey 2>/dev/null |
            grep ' DNSKEY 257 ' >"$KNOT_ANCHOR_FILE"; then
            return 0
        fi
        kill -0 "$kpid" 2>/dev/null || break
        sleep 0.1
    done
    echo "knotd did not come up" >&2; cat "$kd/knot.log" >&2
    return 1
}
start_https() { # SANS [POLICYDIR]
    hd="$WORK/https"; mkdir -p "$hd"
    HTTPS_CERT="$hd/cert.pem"; HTTPS_LOG="$hd/requests.log"
    openssl req -x509 -newkey rsa:2048 -nodes -keyout "$hd/key.pem" \
        -out "$HTTPS_CERT" -days 2 -subj /CN=opentlsrpt-test \
        -addext "subjectAltName=$1" >/dev/null 2>&1 || return 1
    /usr/bin/python3 "$TRPT_SRC/tests/http/https_server.py" "$HTTPS_CERT" \
        "$hd/key.pem" "$hd/port" "$HTTPS_LOG" ${2:+"$2"} 2>"$hd/server.err" &
    SERVER_PIDS="$SERVER_PIDS $!"
    for _ in $(seq 100); do
        [ -s "$hd/port" ] && HTTPS_PORT=$(cat "$hd/port") && return 0
        sleep 0.1
    done
    echo "https server did not come up" >&2
    return 1
}
#   start_smtp                   tests/smtp/smtp_server.py with STARTTLS:
#                                SMTP_PORT, SMTP_CERT, SMTP_OUT (messages)
start_smtp() {
    sd="$WORK/smtp"; mkdir -p "$sd/out"
    SMTP_CERT="$sd/cert.pem"; SMTP_OUT="$sd/out"
    openssl req -x509 -newkey rsa:2048 -nodes -keyout "$sd/key.pem" \
        -out "$SMTP_CERT" -days 2 -subj /CN=smtp.test \
        -addext "subjectAltName=DNS:smtp.test,IP:127.0.0.1" >/dev/null 2>&1 || return 1
    /usr/bin/python3 "$TRPT_SRC/tests/smtp/smtp_server.py" "$SMTP_CERT" \
        "$sd/key.pem" "$sd/port" "$SMTP_OUT" 2>"$sd/server.err" &
    SERVER_PIDS="$SERVER_PIDS $!"
    for _ in $(seq 100); do
        [ -s "$sd/port" ] && SMTP_PORT=$(cat "$sd/port") && return 0
        sleep 0.1
    done
    echo "smtp server did not come up" >&2
    return 1
}
