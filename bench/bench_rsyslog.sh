#!/bin/sh
# bench_rsyslog.sh BUILD - rsyslogd throughput with omtlsrpt against the
# same configuration with omfile (called by bench/run.sh; `make bench`).
#
# The same synthetic Postfix log (gen_postfix_log, BENCH_RSYSLOG_LINES
# lines, default 1000000) is sent to a hermetic rsyslogd over one TCP
# connection (imtcp); once rsyslogd has read it all (it closes the
# connection) it is stopped, and the wall time from the first byte sent to
# rsyslogd's exit (its queue drained) gives lines/s. Configurations, identical but for the action:
#   omfile          the lines written to a file (RSYSLOG_FileFormat)
#   omtlsrpt        the default: spoolFsync from tlsrpt.conf = always
#                   (fdatasync per batch, the durable choice)
#   omtlsrpt-nosync spoolFsync="never"
# Target: omtlsrpt >= 0.8 x omfile. The spool of each omtlsrpt run is
# checked against the generator's counts (records per result); a mismatch
# fails the benchmark (exit 1). Best of BENCH_RSYSLOG_RUNS runs (default 2).
set -eu

BUILD=${1:?usage: bench_rsyslog.sh BUILD_DIR}
case "$BUILD" in /*) ;; *) BUILD=$(pwd)/$BUILD ;; esac
LINES=${BENCH_RSYSLOG_LINES:-1000000}
RUNS=${BENCH_RSYSLOG_RUNS:-2}
DOMAINS=${BENCH_DOMAINS:-10000}
SEED=${BENCH_SEED:-1}
RSYSLOGD=/usr/sbin/rsyslogd
STOCK=/usr/lib/x86_64-linux-gnu/rsyslog
B=$BUILD/bench

echo "== rsyslogd: omtlsrpt against omfile, $LINES Postfix lines over TCP"
for f in "$RSYSLOGD" "$BUILD/omtlsrpt.so" "$B/gen_postfix_log" "$B/spool_stats"; do
    if [ ! -e "$f" ]; then
        echo "   SKIPPED: $f missing"
        exit 0
    fi
done

tmp=$(mktemp -d "${TMPDIR:-/tmp}/tlsrpt-bench-rsyslog.XXXXXX")
cleanup() {
    rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT TERM
failed=0

# Yesterday, in the syslog form rsyslog reads (it supplies the year).
"$B/gen_postfix_log" --lines "$LINES" --domains "$DOMAINS" --seed "$SEED" \
    --date "$(date -u -d yesterday '+%b %e')" --expect "$tmp/expect" |
    sed 's/^/<22>/' >"$tmp/send.log"
nlines=$(wc -l <"$tmp/send.log")
echo "   $nlines lines, $(wc -c <"$tmp/send.log") bytes to send"

# conf NAME ACTION: a config for one run in $tmp/NAME
conf() {
    d=$tmp/$1
    rm -rf "$d"
    mkdir -p "$d/work"
    cat >"$d/rs.conf" <<EOF
global(workDirectory="$d/work" maxMessageSize="64k")
main_queue(queue.workerThreads="1" queue.dequeueBatchSize="8192"
           queue.timeoutShutdown="600000" queue.size="200000"
           queue.timeoutEnqueue="600000")
module(load="imtcp")
input(type="imtcp" address="127.0.0.1" port="0" listenPortFileName="$d/port")
module(load="omtlsrpt")
if \$programname startswith "postfix" then {
  $2
}
syslog.* action(type="omfile" file="$d/internal.log")
EOF
}

# run NAME: start rsyslogd, send the log, stop rsyslogd; prints the wall
# seconds from the first byte sent to rsyslogd's exit, and rsyslogd's CPU
# seconds (user + system, from wait4)
run() {
    d=$tmp/$1
    rm -f "$d/port"
    RSYSLOG_DFLT_LOG_INTERNAL=1 python3 - "$d" "$tmp/send.log" "$RSYSLOGD" \
        "-M$STOCK:$BUILD" <<'EOF'
import os, signal, socket, subprocess, sys, time
d, path, rsyslogd, moddir = sys.argv[1:5]
data = open(path, "rb").read()
out = open(d + "/out", "wb")
p = subprocess.Popen([rsyslogd, "-C", moddir, "-n", "-f", d + "/rs.conf",
                      "-i", d + "/pid"], stdout=out, stderr=out)
for _ in range(200):
    if os.path.exists(d + "/port") and os.path.getsize(d + "/port"):
        break
    time.sleep(0.05)
port = int(open(d + "/port").read())
t0 = time.monotonic()
with socket.create_connection(("127.0.0.1", port)) as s:
    s.sendall(data)
    # rsyslog closes its side once it has read (and queued) everything
    s.shutdown(socket.SHUT_WR)
    while s.recv(65536):
        pass
p.send_signal(signal.SIGTERM)
_, _, ru = os.wait4(p.pid, 0)
print("%.3f %.3f" % (time.monotonic() - t0, ru.ru_utime + ru.ru_stime))
EOF
}

best() { # NAME: "wall cpu" of the fastest of $RUNS runs (fresh output each)
    name=$1
    bestt=""
    r=0
    while [ $r -lt "$RUNS" ]; do
        conf "$name" "$(action_for "$name" "$tmp/$name")"
        t=$(run "$name")
        if [ -z "$bestt" ] || awk -v a="${t%% *}" -v b="${bestt%% *}" \
            'BEGIN { exit !(a < b) }'; then
            bestt=$t
            rm -rf "$tmp/$name.best"
            cp -r "$tmp/$name" "$tmp/$name.best"
        fi
        r=$((r + 1))
    done
    echo "$bestt"
}

action_for() { # NAME DIR
    case $1 in
    omfile) echo "action(type=\"omfile\" file=\"$2/lines.log\" template=\"RSYSLOG_FileFormat\" $AQ)" ;;
    omtlsrpt) echo "action(type=\"omtlsrpt\" spoolDirectory=\"$2/spool\" statsFile=\"$2/stats\" $AQ)" ;;
    omtlsrpt-nosync) echo "action(type=\"omtlsrpt\" spoolDirectory=\"$2/spool\" statsFile=\"$2/stats\" spoolFsync=\"never\" $AQ)" ;;
    esac
}

# The actions run in the main queue's worker (no queue of their own): a
# non-disk action queue would drop what it holds when rsyslogd stops.
AQ=""

kv() { sed -n "s/^$2=//p" "$1" | head -1; }

check_spool() { # NAME
    d=$tmp/$1.best
    "$B/spool_stats" "$d/spool" >"$d/spool.stats" 2>/dev/null || true
    ok=1
    for k in records result.success result.certificate-expired \
        result.certificate-host-mismatch result.validation-failure \
        result.starttls-not-supported; do
        want=$(kv "$tmp/expect" "$( [ "$k" = records ] && echo sessions || echo "$k")")
        got=$(kv "$d/spool.stats" "$k")
        if [ "${want:-0}" != "${got:-0}" ]; then
            printf '   DIFF %-16s %-36s spool %s, log has %s\n' "$1" "$k" "${got:-0}" "${want:-0}"
            ok=0
        fi
    done
    if [ $ok = 0 ]; then
        echo "   rsyslogd said:"
        cat "$d/out" "$d/internal.log" 2>/dev/null | grep -v '^$' | tail -5 |
            sed 's/^/     /'
        grep -v '=0$' "$d/stats" | tr '\n' ' ' | fold -w 100 | sed 's/^/     /'
        echo
    fi
    if [ $ok = 1 ]; then
        printf '   ok   %-16s spool holds %s records, as the log has\n' "$1" \
            "$(kv "$d/spool.stats" records)"
    else
        failed=1
    fi
}

t_file=$(best omfile)
lines_out=$(wc -l <"$tmp/omfile.best/lines.log" 2>/dev/null || echo 0)
[ "$lines_out" -eq "$nlines" ] ||
    { echo "   omfile wrote $lines_out of $nlines lines"; failed=1; }
t_sync=$(best omtlsrpt)
check_spool omtlsrpt
t_nosync=$(best omtlsrpt-nosync)
check_spool omtlsrpt-nosync

rate() { awk -v n="$nlines" -v s="$1" 'BEGIN { printf "%.0f", (s > 0 ? n / s : 0) }'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", (a > 0 ? b / a : 0) }'; }
verdict() { awk -v r="$1" 'BEGIN { print (r >= 0.8 ? "met" : "MISSED") }'; }
fmt='%-30s %7s %10s %6s %7s %11s %6s  %s\n'
row() { # LABEL "WALL CPU" BASELINE-"WALL CPU" yes|no(target)
    w=${2%% *}; c=${2##* }; bw=${3%% *}; bc=${3##* }
    rw=$(ratio "$w" "$bw"); rc=$(ratio "$c" "$bc")
    tgt=baseline
    [ "$4" = yes ] && tgt=">= 0.8 (wall): $(verdict "$rw")"
    # shellcheck disable=SC2059
    printf "$fmt" "$1" "$w" "$(rate "$w")" "$rw" "$c" "$(rate "$c")" "$rc" "$tgt"
}
echo
echo "== rsyslogd, $nlines lines ($(nproc) CPUs, load $(cut -d' ' -f1 /proc/loadavg);" \
    "ratio = baseline time / time)"
# shellcheck disable=SC2059
printf "$fmt" config wall_s lines/s ratio cpu_s lines/cpu_s ratio target
row "omfile (baseline)" "$t_file" "$t_file" no
row "omtlsrpt (spoolFsync=always)" "$t_sync" "$t_file" yes
row "omtlsrpt (spoolFsync=never)" "$t_nosync" "$t_file" yes
echo "   (omtlsrpt: $(kv "$tmp/omtlsrpt.best/stats" batches) batches," \
    "$(kv "$tmp/omtlsrpt.best/stats" records) records; best of $RUNS runs)"
exit $failed
